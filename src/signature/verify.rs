//! Signature verification over a prehash: the image's, and a certificate's
//! by its issuer.

use der::asn1::ObjectIdentifier;
use signature::hazmat::PrehashVerifier;

use super::SignatureError;
use super::certificate::{Certificate, PublicKey};
use super::hash::HashMethod;
use super::properties::{KeyType, SignatureProperties};

/// Verifies an image's signature given the image's digest, computed with
/// `properties.hash_method` over the image's bytes (see
/// [`HashMethod::hasher`]), as cursive's verifiers do:
///
/// - `RSA-PSS`: RSASSA-PSS with MGF1 over the same hash, any salt length.
///   cursive asks `cryptography` for `PSS.MAX_LENGTH`, which, when verifying,
///   makes OpenSSL recover the salt length from the signature and accept any
///   (measured: salt lengths 0, 20, 32, 48, 64, 100, digest, max and OpenSSL's
///   default all verify), so an image signed by `openssl dgst -sigopt
///   rsa_padding_mode:pss` verifies whatever salt length that OpenSSL uses.
/// - `ECC_SECP384R1`, `ECC_SECP521R1`: ECDSA, DER signature; a digest longer
///   than the curve order is truncated to its leftmost bits, as OpenSSL does.
/// - `DSA`: DSA, DER signature, the digest truncated to the length of `q`.
///
/// Checks the certificate's key type first; not its dates or its chain
/// (see [`check_certificate`](super::check_certificate)).
///
/// # Errors
/// [`SignatureError::DigestLength`] when `digest` has the wrong length,
/// [`SignatureError::KeyTypeMismatch`], [`SignatureError::BadSignature`].
pub fn verify_digest(
    properties: &SignatureProperties,
    certificate: &Certificate,
    digest: &[u8],
) -> Result<(), SignatureError> {
    let expected = properties.hash_method.output_len();
    if digest.len() != expected {
        return Err(SignatureError::DigestLength {
            expected,
            actual: digest.len(),
        });
    }
    certificate.check_key_type(properties.key_type)?;
    let signature = properties.signature.as_slice();
    let verified = match (&certificate.key, properties.key_type) {
        (PublicKey::Rsa(key), KeyType::RsaPss) => {
            verify_pss(key, properties.hash_method, digest, signature)
        }
        (key, _) => verify_der(key, digest, signature),
    };
    verified.ok_or(SignatureError::BadSignature)
}

/// RSASSA-PSS, MGF1 with `method`, salt length recovered from the signature.
fn verify_pss(
    key: &rsa::PublicKey,
    method: HashMethod,
    digest: &[u8],
    signature: &[u8],
) -> Option<()> {
    use rsa::pss::VerifyingKey;
    let signature = rsa::pss::Signature::try_from(signature).ok()?;
    let key = key.clone();
    let verified = match method {
        HashMethod::Sha224 => VerifyingKey::<sha2::Sha224>::new_with_auto_salt_len(key)
            .verify_prehash(digest, &signature),
        HashMethod::Sha256 => VerifyingKey::<sha2::Sha256>::new_with_auto_salt_len(key)
            .verify_prehash(digest, &signature),
        HashMethod::Sha384 => VerifyingKey::<sha2::Sha384>::new_with_auto_salt_len(key)
            .verify_prehash(digest, &signature),
        HashMethod::Sha512 => VerifyingKey::<sha2::Sha512>::new_with_auto_salt_len(key)
            .verify_prehash(digest, &signature),
    };
    verified.ok()
}

/// ECDSA or DSA over a prehash, with a DER `(r, s)` signature; `None` for
/// an RSA key (whose scheme depends on the use) or a key of another kind.
fn verify_der(key: &PublicKey, digest: &[u8], signature: &[u8]) -> Option<()> {
    let verified = match key {
        PublicKey::P256(key) => key.verify_prehash(
            digest,
            &p256::ecdsa::DerSignature::from_bytes(signature).ok()?,
        ),
        PublicKey::P384(key) => key.verify_prehash(
            digest,
            &p384::ecdsa::DerSignature::from_bytes(signature).ok()?,
        ),
        PublicKey::P521(key) => key.verify_prehash(
            digest,
            &p521::ecdsa::DerSignature::from_bytes(signature).ok()?,
        ),
        PublicKey::Dsa(key) => key.verify_prehash(
            digest,
            &<dsa::Signature as der::Decode>::from_der(signature).ok()?,
        ),
        PublicKey::Rsa(_) | PublicKey::Other(_) => return None,
    };
    verified.ok()
}

/// Whether `issuer`'s key made `certificate`'s signature, as cursive's
/// `verify_certificate_signature` checks it: the scheme follows the
/// issuer's key (PKCS#1 v1.5 for RSA, ECDSA, DSA), the hash the
/// certificate's signature algorithm.
///
/// Unlike cursive, certificates signed with SHA-1 (or MD5) are refused:
/// such signatures can be forged by collision, and supporting them would
/// bring in another hash crate. RSASSA-PSS-signed certificates fail in
/// both (cursive verifies them as PKCS#1 v1.5).
pub(super) fn issued_by(certificate: &Certificate, issuer: &Certificate) -> bool {
    let (Some(tbs), Some(signature)) = (
        certificate.tbs_der(),
        certificate.x509.signature().as_bytes(),
    ) else {
        return false;
    };
    let Some(method) = signature_hash(certificate.x509.signature_algorithm().oid) else {
        return false;
    };
    let mut hasher = method.hasher();
    hasher.update(tbs);
    let digest = hasher.finalize();
    match &issuer.key {
        PublicKey::Rsa(key) => verify_pkcs1v15(key, method, &digest, signature),
        other => verify_der(other, &digest, signature).is_some(),
    }
}

fn verify_pkcs1v15(key: &rsa::PublicKey, method: HashMethod, digest: &[u8], sig: &[u8]) -> bool {
    use rsa::Pkcs1v15Sign;
    let scheme = match method {
        HashMethod::Sha224 => Pkcs1v15Sign::new::<sha2::Sha224>(),
        HashMethod::Sha256 => Pkcs1v15Sign::new::<sha2::Sha256>(),
        HashMethod::Sha384 => Pkcs1v15Sign::new::<sha2::Sha384>(),
        HashMethod::Sha512 => Pkcs1v15Sign::new::<sha2::Sha512>(),
    };
    key.verify(scheme, digest, sig).is_ok()
}

/// The hash of a certificate signature algorithm: `sha*WithRSAEncryption`,
/// `ecdsa-with-SHA*` or `id-dsa-with-sha*`, SHA-2 only.
fn signature_hash(algorithm: ObjectIdentifier) -> Option<HashMethod> {
    const TABLE: [(&str, HashMethod); 12] = [
        ("1.2.840.113549.1.1.14", HashMethod::Sha224),
        ("1.2.840.113549.1.1.11", HashMethod::Sha256),
        ("1.2.840.113549.1.1.12", HashMethod::Sha384),
        ("1.2.840.113549.1.1.13", HashMethod::Sha512),
        ("1.2.840.10045.4.3.1", HashMethod::Sha224),
        ("1.2.840.10045.4.3.2", HashMethod::Sha256),
        ("1.2.840.10045.4.3.3", HashMethod::Sha384),
        ("1.2.840.10045.4.3.4", HashMethod::Sha512),
        ("2.16.840.1.101.3.4.3.1", HashMethod::Sha224),
        ("2.16.840.1.101.3.4.3.2", HashMethod::Sha256),
        ("2.16.840.1.101.3.4.3.3", HashMethod::Sha384),
        ("2.16.840.1.101.3.4.3.4", HashMethod::Sha512),
    ];
    let text = algorithm.to_string();
    TABLE
        .iter()
        .find(|(oid, _)| *oid == text)
        .map(|(_, method)| *method)
}
