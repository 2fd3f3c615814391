//! [`SignatureError`]: why an image's signature was not accepted.

use std::fmt;

/// Why an image's signature, or the certificate behind it, was refused.
///
/// Each variant names one check; [`Display`](fmt::Display) is a short
/// lowercase phrase naming it (and the offending value where there is one).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureError {
    /// Some but not all of the four `img_signature*` properties are set; names
    /// the first one missing, in the order cursive checks them.
    MissingProperty(&'static str),
    /// `img_signature` is not base64.
    BadSignatureEncoding,
    /// `img_signature_hash_method` is none of SHA-224, SHA-256, SHA-384, SHA-512.
    UnknownHashMethod(String),
    /// `img_signature_key_type` names a key type cursive lists but this crate
    /// does not verify (the binary `ECC_SECT*` curves).
    UnsupportedKeyType(String),
    /// `img_signature_key_type` is none of the key types cursive lists.
    UnknownKeyType(String),
    /// `img_signature_certificate_uuid` is not a UUID, so no certificate can
    /// be looked up by it.
    InvalidCertificateUuid(String),
    /// The certificate source has no certificate with this UUID.
    CertificateNotFound(String),
    /// The certificate source failed to answer for this UUID.
    CertificateUnavailable {
        /// The certificate's UUID.
        uuid: String,
        /// What went wrong, e.g. an I/O error.
        reason: String,
    },
    /// The bytes are not an X.509 certificate (PEM or DER), or its public
    /// key cannot be read.
    CertificateUnreadable(String),
    /// The certificate's `notAfter` is in the past.
    CertificateExpired,
    /// The certificate's `notBefore` is in the future.
    CertificateNotYetValid,
    /// The certificate's public key is not of the image's key type.
    KeyTypeMismatch {
        /// `img_signature_key_type`.
        expected: &'static str,
        /// What the certificate holds, e.g. `RSA` or `EC P-256`.
        found: String,
    },
    /// Certificate validation is on and the certificate does not chain to
    /// the trusted certificates; says where the chain broke.
    NotTrusted(String),
    /// The digest handed to the verifier is not as long as the hash
    /// method's output (a caller's mistake: it hashed with another method).
    DigestLength {
        /// The hash method's output length in bytes.
        expected: usize,
        /// The digest's length in bytes.
        actual: usize,
    },
    /// The signature does not verify: the image, the signature or the key differ.
    BadSignature,
    /// Verification is required and the image has none of the four
    /// `img_signature*` properties.
    Unsigned,
    /// Certificate validation is on and no trusted certificate was given
    /// (Nova: "Image signature certificate validation enabled, but no
    /// trusted certificate IDs were provided").
    NoTrustedCertificates,
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingProperty(name) => write!(f, "missing image property {name}"),
            Self::BadSignatureEncoding => f.write_str("img_signature is not base64"),
            Self::UnknownHashMethod(name) => write!(f, "unknown hash method {name:?}"),
            Self::UnsupportedKeyType(name) => write!(f, "unsupported key type {name:?}"),
            Self::UnknownKeyType(name) => write!(f, "unknown key type {name:?}"),
            Self::InvalidCertificateUuid(uuid) => write!(f, "invalid certificate uuid {uuid:?}"),
            Self::CertificateNotFound(uuid) => write!(f, "certificate {uuid} not found"),
            Self::CertificateUnavailable { uuid, reason } => {
                write!(f, "certificate {uuid} unavailable: {reason}")
            }
            Self::CertificateUnreadable(reason) => write!(f, "unreadable certificate: {reason}"),
            Self::CertificateExpired => f.write_str("certificate expired"),
            Self::CertificateNotYetValid => f.write_str("certificate not yet valid"),
            Self::KeyTypeMismatch { expected, found } => {
                write!(f, "certificate key is {found}, not {expected}")
            }
            Self::NotTrusted(reason) => write!(f, "certificate not trusted: {reason}"),
            Self::DigestLength { expected, actual } => {
                write!(f, "digest is {actual} bytes, hash method gives {expected}")
            }
            Self::BadSignature => f.write_str("bad signature"),
            Self::Unsigned => f.write_str("the image is not signed"),
            Self::NoTrustedCertificates => {
                f.write_str("certificate validation is on, but no trusted certificate was given")
            }
        }
    }
}

impl std::error::Error for SignatureError {}
