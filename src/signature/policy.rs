//! What a download that requires a signature checks ([`Policy`]), and what
//! it established ([`Verified`]).

use std::fmt;
use std::sync::Arc;

use super::certificate::Certificate;
use super::hash::HashMethod;
use super::properties::KeyType;
use super::source::CertificateSource;

/// How a required signature is checked, as Nova checks it: the
/// certificate named by `img_signature_certificate_uuid` is fetched from
/// `source`, its key type and dates checked, and, when there are trusted
/// certificates, its chain to one of them; all of that before any image
/// data is read. Then the signature is verified over the image's bytes.
///
/// `Default`: certificates from Barbican through the downloading client
/// ([`Client::barbican`](crate::Client::barbican)), no certificate
/// validation (Nova with `verify_glance_signatures` alone).
/// [`Config::signature_policy`](crate::Config::signature_policy) gives the
/// policy nova.conf asks for.
///
/// ```
/// use std::sync::Arc;
/// use glance_client::signature::{DirectorySource, Policy};
///
/// let policy = Policy {
///     source: Some(Arc::new(DirectorySource::new("/etc/glance-client/certs"))),
///     validate_certificate: true,
///     trusted_certificate_ids: vec!["0c6a0b7e-1d1e-4f0e-9d8b-0e2b1c3d4e5f".into()],
///     ..Policy::default()
/// };
/// # let _ = policy;
/// ```
#[derive(Clone, Default)]
pub struct Policy {
    /// Where the signing certificate, and the trusted certificates named by
    /// id, come from; `None`: Barbican, through the downloading client's
    /// Keystone session (its cancel handle and deadline included). A source
    /// given here is used as it is.
    pub source: Option<Arc<dyn CertificateSource + Send + Sync>>,
    /// Certificate validation (Nova's `enable_certificate_validation`): with
    /// no trusted certificate at all (neither field below), every signed
    /// image is refused with [`SignatureError::NoTrustedCertificates`](super::SignatureError::NoTrustedCertificates),
    /// as Nova refuses it.
    pub validate_certificate: bool,
    /// Trusted certificates by id, fetched from `source` (Nova's
    /// `default_trusted_certificate_ids`). When there is any trusted
    /// certificate (here or below), the signing certificate must chain to
    /// one, whatever `validate_certificate` says (as Nova does: "for the
    /// safety of the user"). One that cannot be fetched or read is skipped
    /// with a warning, as cursive skips it.
    pub trusted_certificate_ids: Vec<String>,
    /// Trusted certificates given as they are.
    pub trusted_certificates: Vec<Certificate>,
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field(
                "source",
                &self.source.as_ref().map_or("Barbican", |_| "given"),
            )
            .field("validate_certificate", &self.validate_certificate)
            .field("trusted_certificate_ids", &self.trusted_certificate_ids)
            .field("trusted_certificates", &self.trusted_certificates)
            .finish()
    }
}

impl Policy {
    /// Whether the signing certificate must chain to trusted certificates.
    pub fn validates(&self) -> bool {
        self.validate_certificate
            || !self.trusted_certificate_ids.is_empty()
            || !self.trusted_certificates.is_empty()
    }
}

/// How a downloaded image's signature was verified
/// ([`DownloadReport::signature`](crate::DownloadReport::signature)).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Verified {
    /// `img_signature_key_type`.
    pub key_type: KeyType,
    /// `img_signature_hash_method`: the hash computed over the data.
    pub hash_method: HashMethod,
    /// `img_signature_certificate_uuid`: the signing certificate's id.
    pub certificate_uuid: String,
    /// The signing certificate's subject (e.g. `CN=signer,O=Example`).
    pub certificate_subject: String,
    /// Whether the certificate was found to chain to a trusted certificate
    /// (certificate validation); otherwise only its key type and dates
    /// were checked.
    pub certificate_validated: bool,
}
