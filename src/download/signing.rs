//! Image signature verification in a download (cargo feature
//! `signatures`): whether it is required ([`SignatureCheck`]), and the plan
//! one download follows ([`Signing`]): the certificate fetched and checked
//! before any data is read, the digest of the signature's hash method taken
//! in the same pass as the checksum (a checksum's own stream when it is the
//! same algorithm), the signature verified once the data is complete and
//! before anything is published.
//!
//! Without the feature, [`Signing`] has no value: nothing is ever verified,
//! and nothing can ask for it (`Client::new` refuses a configuration that
//! does).

use super::verify::Algorithm;
use crate::client::Client;
use crate::error::Result;
use crate::image::Image;

/// Whether a download verifies the image's signature
/// ([`DownloadOptions::signature`](crate::DownloadOptions::signature)).
///
/// A required verification refuses an unsigned image. When verification is
/// not required, a signed image is downloaded without its signature being
/// looked at, as Nova does (it verifies only when
/// `verify_glance_signatures` or trusted certificates say so); the report's
/// `signature` is then `None`.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub enum SignatureCheck {
    /// As the client's [`Config`](crate::Config) says (the default):
    /// required with `Config::signature_policy` (feature `signatures`)
    /// when nova.conf's options ask for it (`verify_glance_signatures`, or
    /// certificate validation with default trusted certificates), else not
    /// verified.
    #[default]
    AsConfigured,
    /// Not verified, whatever the configuration says.
    Off,
    /// Required, with this policy, whatever the configuration says (cargo
    /// feature `signatures`).
    #[cfg(feature = "signatures")]
    Required(crate::signature::Policy),
}

#[cfg(feature = "signatures")]
pub(crate) use on::{Signing, Verdict, plan, required};

#[cfg(not(feature = "signatures"))]
pub(crate) use off::{Signing, Verdict, plan, required};

/// Without the feature: nothing to plan, nothing to verify.
#[cfg(not(feature = "signatures"))]
mod off {
    use super::*;

    /// A signature to verify: none without the feature.
    #[derive(Debug)]
    pub(crate) enum Signing {}

    /// A verified signature: none without the feature.
    #[derive(Debug)]
    pub(crate) enum Verdict {}

    impl Signing {
        pub(crate) fn algorithm(&self) -> Algorithm {
            match *self {}
        }

        pub(crate) fn verify(&self, _digest: &[u8]) -> Result<Verdict> {
            match *self {}
        }
    }

    /// Never required without the feature.
    pub(crate) fn required(_: &Client, _: &SignatureCheck) -> Option<bool> {
        None
    }

    /// Never a plan. A configuration asking for verification cannot make a
    /// client without the feature.
    pub(crate) fn plan(_: &Client, _: &Image, check: &SignatureCheck) -> Result<Option<Signing>> {
        match check {
            SignatureCheck::AsConfigured | SignatureCheck::Off => Ok(None),
        }
    }
}

#[cfg(feature = "signatures")]
mod on {
    use std::time::SystemTime;

    use super::*;
    use crate::error::Error;
    use crate::signature::{
        self, Certificate, CertificateSource, HashMethod, Policy, SignatureError,
        SignatureProperties,
    };

    pub(crate) use crate::signature::Verified as Verdict;

    /// One download's signature: its properties, and the certificate that
    /// passed its checks.
    #[derive(Debug)]
    pub(crate) struct Signing {
        image_id: String,
        properties: SignatureProperties,
        certificate: Certificate,
        validated: bool,
    }

    impl Signing {
        /// The hash the signature covers, as the downloader's algorithm.
        pub(crate) fn algorithm(&self) -> Algorithm {
            match self.properties.hash_method {
                HashMethod::Sha224 => Algorithm::Sha224,
                HashMethod::Sha256 => Algorithm::Sha256,
                HashMethod::Sha384 => Algorithm::Sha384,
                HashMethod::Sha512 => Algorithm::Sha512,
            }
        }

        /// Verifies the signature over `digest`, the data's digest.
        pub(crate) fn verify(&self, digest: &[u8]) -> Result<Verdict> {
            signature::verify_digest(&self.properties, &self.certificate, digest)
                .map_err(|e| refused(&self.image_id, e))?;
            log::debug!(
                "image {}: signature verified ({}, {}, certificate {})",
                self.image_id,
                self.properties.key_type.name(),
                self.properties.hash_method.name(),
                self.properties.certificate_uuid
            );
            Ok(Verdict {
                key_type: self.properties.key_type,
                hash_method: self.properties.hash_method,
                certificate_uuid: self.properties.certificate_uuid.clone(),
                certificate_subject: self.certificate.subject(),
                certificate_validated: self.validated,
            })
        }
    }

    /// Whether a download with `check` on `client` must verify the image's
    /// signature (`Some`), and whether its certificate must then chain to
    /// trusted ones (`Some(true)`).
    pub(crate) fn required(client: &Client, check: &SignatureCheck) -> Option<bool> {
        match check {
            SignatureCheck::Off => None,
            SignatureCheck::Required(policy) => Some(policy.validates()),
            SignatureCheck::AsConfigured => {
                client.config().signature_policy().map(|p| p.validates())
            }
        }
    }

    /// The signature plan of a download of `image`, when `check` (or the
    /// configuration) requires one: the properties read, the certificate
    /// fetched and checked (key type, dates, chain to the trusted
    /// certificates), before any data. `client` is the download's view:
    /// Barbican is asked within its cancel handle and deadline.
    pub(crate) fn plan(
        client: &Client,
        image: &Image,
        check: &SignatureCheck,
    ) -> Result<Option<Signing>> {
        let configured;
        let policy = match check {
            SignatureCheck::Off => None,
            SignatureCheck::Required(policy) => Some(policy),
            SignatureCheck::AsConfigured => {
                configured = client.config().signature_policy();
                configured.as_ref()
            }
        };
        let Some(policy) = policy else {
            if image.properties.contains_key(signature::SIGNATURE) {
                log::debug!(
                    "image {}: signed, but signature verification is not required",
                    image.id
                );
            }
            return Ok(None);
        };
        let id = image.id.as_str();
        let properties = match SignatureProperties::from_properties(&image.properties) {
            Ok(Some(properties)) => properties,
            Ok(None) => return Err(refused(id, SignatureError::Unsigned)),
            Err(e) => return Err(refused(id, e)),
        };
        let barbican;
        let source: &dyn CertificateSource = match &policy.source {
            Some(source) => source.as_ref(),
            None => {
                barbican = client.barbican();
                &barbican
            }
        };
        let certificate = match source.certificate(&properties.certificate_uuid) {
            Ok(certificate) => certificate,
            // Barbican stopped by the download's cancel or deadline: that, not a refusal.
            Err(e) => {
                return Err(client
                    .still_wanted()
                    .err()
                    .unwrap_or_else(|| refused(id, e)));
            }
        };
        let trusted = trusted(id, policy, source)?;
        client.still_wanted()?;
        signature::check_certificate(
            &properties,
            &certificate,
            SystemTime::now(),
            trusted.as_deref(),
        )
        .map_err(|e| refused(id, e))?;
        Ok(Some(Signing {
            image_id: id.to_string(),
            properties,
            certificate,
            validated: trusted.is_some(),
        }))
    }

    /// The trusted certificates, `None` when the policy does not validate.
    /// One that cannot be fetched or read is skipped with a warning, as
    /// cursive does; none at all with validation on is a refusal.
    fn trusted(
        id: &str,
        policy: &Policy,
        source: &dyn CertificateSource,
    ) -> Result<Option<Vec<Certificate>>> {
        if !policy.validates() {
            return Ok(None);
        }
        let mut trusted = policy.trusted_certificates.clone();
        for uuid in &policy.trusted_certificate_ids {
            match source.certificate(uuid) {
                Ok(certificate) => trusted.push(certificate),
                Err(e) => log::warn!("image {id}: skipping trusted certificate {uuid}: {e}"),
            }
        }
        if policy.trusted_certificate_ids.is_empty() && policy.trusted_certificates.is_empty() {
            return Err(refused(id, SignatureError::NoTrustedCertificates));
        }
        Ok(Some(trusted))
    }

    fn refused(id: &str, reason: SignatureError) -> Error {
        log::warn!("image {id}: refused: signature verification: {reason}");
        Error::Signature {
            image_id: id.to_string(),
            reason: Box::new(reason),
        }
    }
}
