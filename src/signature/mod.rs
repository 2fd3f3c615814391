//! Image signature verification, compatible with Nova and cursive (cargo
//! feature `signatures`).
//!
//! A signed image carries four properties ([`SignatureProperties`]): the
//! base64 signature, the hash method, the key type and the UUID of an X.509
//! certificate kept in a key manager (Barbican). The signature covers the
//! image's bytes hashed with the hash method (not `os_hash_value` nor
//! `checksum`). This module is sans-IO: the caller hashes the image while it
//! streams ([`HashMethod::hasher`]), fetches the certificate
//! ([`CertificateSource`]), then asks:
//!
//! ```
//! # use std::collections::BTreeMap;
//! use glance_client::signature::{self, SignatureProperties};
//! # fn demo(properties: &BTreeMap<String, String>, source: &dyn signature::CertificateSource,
//! #         trusted: &[signature::Certificate], image: &[u8]) -> Result<(), signature::SignatureError> {
//! let Some(props) = SignatureProperties::from_properties(properties)? else {
//!     return Ok(()); // unsigned: refuse it if signatures are required
//! };
//! let certificate = source.certificate(&props.certificate_uuid)?;
//! // key type, dates, and (validation on) the chain to trusted certificates
//! signature::check_certificate(&props, &certificate, std::time::SystemTime::now(), Some(trusted))?;
//! let mut hasher = props.hash_method.hasher();
//! hasher.update(image); // as the bytes stream
//! signature::verify_digest(&props, &certificate, &hasher.finalize())?;
//! # Ok(()) }
//! ```
//!
//! The downloader does all of this in the same pass as the checksum when
//! a download requires it ([`DownloadOptions::signature`](crate::DownloadOptions::signature),
//! [`Config::verify_glance_signatures`](crate::Config::verify_glance_signatures)),
//! with a [`Policy`] saying where certificates come from and which are
//! trusted, and reports what it verified ([`Verified`]).
//!
//! The cryptography is RustCrypto's (`rsa`, `p384`, `p521`, `dsa`,
//! `x509-cert`); nothing here implements a primitive. cursive's checks and
//! where this module differs are documented on [`verify_digest`],
//! [`verify_chain`] and [`Certificate::check_key_type`].

pub(crate) mod barbican;
mod certificate;
mod chain;
mod error;
mod hash;
mod policy;
mod properties;
mod source;
mod verify;

use std::time::SystemTime;

pub use certificate::Certificate;
pub use chain::verify_chain;
pub use error::SignatureError;
pub use hash::{HashMethod, Hasher};
pub use policy::{Policy, Verified};
pub use properties::{
    CERTIFICATE_UUID, HASH_METHOD, KEY_TYPE, KeyType, SIGNATURE, SignatureProperties,
};
pub use source::{CertificateSource, DirectorySource, is_uuid};
pub use verify::verify_digest;

/// The checks Nova makes on the signing certificate before it verifies an
/// image: the key type matches `properties.key_type`, `now` is within the
/// certificate's dates, and, when `trusted` is given (certificate validation
/// on), the certificate chains to those ([`verify_chain`]).
///
/// cursive itself checks the dates only as part of certificate validation;
/// this crate checks them always.
///
/// # Errors
/// [`SignatureError::KeyTypeMismatch`], [`SignatureError::CertificateExpired`],
/// [`SignatureError::CertificateNotYetValid`], [`SignatureError::NotTrusted`].
pub fn check_certificate(
    properties: &SignatureProperties,
    certificate: &Certificate,
    now: SystemTime,
    trusted: Option<&[Certificate]>,
) -> Result<(), SignatureError> {
    certificate.check_key_type(properties.key_type)?;
    certificate.check_dates(now)?;
    match trusted {
        Some(trusted) => verify_chain(certificate, trusted, now),
        None => Ok(()),
    }
}
