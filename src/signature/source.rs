//! Where certificates come from: a key manager, or a directory.

use std::io;
use std::path::{Path, PathBuf};

use super::SignatureError;
use super::certificate::Certificate;

/// Fetches a certificate's bytes (PEM or DER) by its UUID, e.g. from
/// Barbican or from a directory ([`DirectorySource`]).
pub trait CertificateSource {
    /// The certificate stored under `uuid`, PEM or DER.
    ///
    /// # Errors
    /// [`SignatureError::CertificateNotFound`] when there is none,
    /// [`SignatureError::InvalidCertificateUuid`] when `uuid` is not a UUID,
    /// [`SignatureError::CertificateUnavailable`] when the source failed.
    fn certificate_bytes(&self, uuid: &str) -> Result<Vec<u8>, SignatureError>;

    /// The certificate stored under `uuid`, parsed.
    ///
    /// # Errors
    /// Those of [`certificate_bytes`](Self::certificate_bytes), and
    /// [`SignatureError::CertificateUnreadable`].
    fn certificate(&self, uuid: &str) -> Result<Certificate, SignatureError> {
        Certificate::from_pem_or_der(&self.certificate_bytes(uuid)?)
    }
}

/// Certificates kept as files in one directory, named by UUID:
/// `<dir>/<uuid>.pem` (tried first) or `<dir>/<uuid>.der`, each PEM or DER
/// whatever its extension. For agents without a key manager.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectorySource {
    dir: PathBuf,
}

impl DirectorySource {
    /// A source reading `dir`. Nothing is read until a certificate is asked for.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        DirectorySource { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl CertificateSource for DirectorySource {
    /// Reads `<uuid>.pem`, else `<uuid>.der`. The UUID must be 8-4-4-4-12
    /// hexadecimal digits, so the name can never leave the directory.
    fn certificate_bytes(&self, uuid: &str) -> Result<Vec<u8>, SignatureError> {
        if !is_uuid(uuid) {
            return Err(SignatureError::InvalidCertificateUuid(uuid.to_string()));
        }
        for extension in ["pem", "der"] {
            let path = self.dir.join(format!("{uuid}.{extension}"));
            match std::fs::read(&path) {
                Ok(bytes) => return Ok(bytes),
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => {
                    return Err(SignatureError::CertificateUnavailable {
                        uuid: uuid.to_string(),
                        reason: format!("{}: {e}", path.display()),
                    });
                }
            }
        }
        Err(SignatureError::CertificateNotFound(uuid.to_string()))
    }
}

/// Whether `text` is a UUID in its usual form: 8-4-4-4-12 hexadecimal
/// digits (either case), hyphens between.
pub fn is_uuid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_uuids_are_looked_up() {
        assert!(is_uuid("0c6a0b7e-1d1e-4f0e-9d8b-0e2b1c3d4e5F"));
        for bad in [
            "",
            "../../etc/passwd",
            "0c6a0b7e-1d1e-4f0e-9d8b-0e2b1c3d4e5",
            "0c6a0b7e-1d1e-4f0e-9d8b-0e2b1c3d4e5ff",
            "0c6a0b7e/1d1e-4f0e-9d8b-0e2b1c3d4e5f",
            "0c6a0b7e-1d1e-4f0e-9d8b-0e2b1c3d4e5é",
            "..6a0b7e-1d1e-4f0e-9d8b-0e2b1c3d4e5f",
        ] {
            assert!(!is_uuid(bad), "{bad:?} passed as a UUID");
        }
    }

    #[test]
    fn a_directory_refuses_a_path_and_reports_a_missing_file() {
        let source = DirectorySource::new(std::env::temp_dir());
        assert_eq!(
            source.certificate_bytes("../x"),
            Err(SignatureError::InvalidCertificateUuid("../x".into()))
        );
        let absent = "00000000-0000-0000-0000-00000000dead";
        assert_eq!(
            source.certificate_bytes(absent),
            Err(SignatureError::CertificateNotFound(absent.into()))
        );
    }
}
