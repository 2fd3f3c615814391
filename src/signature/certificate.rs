//! X.509 certificates: parsing (PEM or DER), the public key, validity dates.

use std::fmt;
use std::time::SystemTime;

use der::asn1::ObjectIdentifier;
use der::{Decode, Reader, SliceReader};
use spki::SubjectPublicKeyInfoRef;
use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::name::{Name, RelativeDistinguishedName};

use super::SignatureError;
use super::properties::KeyType;

const RSA_ENCRYPTION: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const ID_DSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10040.4.1");
const ID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const SECP256R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const SECP384R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.34");
const SECP521R1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.132.0.35");

/// A certificate's public key, as far as this crate can use it.
#[derive(Clone)]
pub(super) enum PublicKey {
    Rsa(rsa::PublicKey),
    Dsa(dsa::VerifyingKey),
    P256(p256::ecdsa::VerifyingKey),
    P384(p384::ecdsa::VerifyingKey),
    P521(p521::ecdsa::VerifyingKey),
    /// A key of another kind (or another curve): described, never used.
    Other(String),
}

impl PublicKey {
    /// What the key is, for messages: `RSA`, `DSA`, `EC P-384`, ...
    pub(super) fn describe(&self) -> String {
        match self {
            PublicKey::Rsa(_) => "RSA".into(),
            PublicKey::Dsa(_) => "DSA".into(),
            PublicKey::P256(_) => "EC P-256".into(),
            PublicKey::P384(_) => "EC P-384".into(),
            PublicKey::P521(_) => "EC P-521".into(),
            PublicKey::Other(what) => what.clone(),
        }
    }

    fn from_spki(spki: SubjectPublicKeyInfoRef<'_>) -> Result<Self, String> {
        let algorithm = spki.algorithm.oid;
        let bad = |e: &dyn fmt::Display| format!("bad public key: {e}");
        if algorithm == RSA_ENCRYPTION {
            return rsa::PublicKey::try_from(spki)
                .map(Self::Rsa)
                .map_err(|e| bad(&e));
        }
        if algorithm == ID_DSA {
            return dsa::VerifyingKey::try_from(spki)
                .map(Self::Dsa)
                .map_err(|e| bad(&e));
        }
        if algorithm != ID_EC_PUBLIC_KEY {
            return Ok(Self::Other(format!("a key of algorithm {algorithm}")));
        }
        let curve = spki
            .algorithm
            .parameters_oid()
            .map_err(|_| "EC key without a named curve".to_string())?;
        let point = spki.subject_public_key.as_bytes().ok_or("bad EC point")?;
        let key = match curve {
            SECP256R1 => p256::ecdsa::VerifyingKey::from_sec1_bytes(point).map(Self::P256),
            SECP384R1 => p384::ecdsa::VerifyingKey::from_sec1_bytes(point).map(Self::P384),
            SECP521R1 => p521::ecdsa::VerifyingKey::from_sec1_bytes(point).map(Self::P521),
            other => return Ok(Self::Other(format!("EC on curve {other}"))),
        };
        key.map_err(|e| bad(&e))
    }

    /// Whether this key can make signatures of `key_type`.
    fn fits(&self, key_type: KeyType) -> bool {
        matches!(
            (key_type, self),
            (KeyType::RsaPss, PublicKey::Rsa(_))
                | (KeyType::Dsa, PublicKey::Dsa(_))
                | (KeyType::EccSecp384r1, PublicKey::P384(_))
                | (KeyType::EccSecp521r1, PublicKey::P521(_))
        )
    }
}

/// A parsed X.509 certificate and its public key.
///
/// Two certificates are equal when their DER encodings are.
#[derive(Clone)]
pub struct Certificate {
    der: Vec<u8>,
    pub(super) x509: x509_cert::Certificate,
    pub(super) key: PublicKey,
}

impl PartialEq for Certificate {
    fn eq(&self, other: &Self) -> bool {
        self.der == other.der
    }
}

impl Eq for Certificate {}

impl fmt::Debug for Certificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificate")
            .field("subject", &self.subject())
            .field("key", &self.key.describe())
            .finish()
    }
}

impl Certificate {
    /// Parses a certificate in PEM (the first `CERTIFICATE` block, text
    /// around it ignored, as `cryptography` reads PEM) or DER, and its
    /// public key.
    ///
    /// # Errors
    /// [`SignatureError::CertificateUnreadable`] saying what is wrong.
    pub fn from_pem_or_der(bytes: &[u8]) -> Result<Self, SignatureError> {
        let unreadable = |reason: String| SignatureError::CertificateUnreadable(reason);
        let der = match pem_block(bytes) {
            Some(block) => pem_to_der(block).map_err(unreadable)?,
            None => bytes.to_vec(),
        };
        Self::from_der(der)
    }

    /// Parses a DER certificate.
    ///
    /// # Errors
    /// [`SignatureError::CertificateUnreadable`] saying what is wrong.
    pub fn from_der(der: Vec<u8>) -> Result<Self, SignatureError> {
        let unreadable = |reason: String| SignatureError::CertificateUnreadable(reason);
        let x509 = x509_cert::Certificate::from_der(&der)
            .map_err(|e| unreadable(format!("not an X.509 certificate: {e}")))?;
        let spki_der = der::Encode::to_der(x509.tbs_certificate().subject_public_key_info())
            .map_err(|e| unreadable(e.to_string()))?;
        let spki =
            SubjectPublicKeyInfoRef::from_der(&spki_der).map_err(|e| unreadable(e.to_string()))?;
        let key = PublicKey::from_spki(spki).map_err(unreadable)?;
        Ok(Certificate { der, x509, key })
    }

    /// The certificate's DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The subject's distinguished name as RFC 4514 writes it (e.g.
    /// `CN=signer,O=Example`): the attribute types RFC 4514 names (CN, L, ST,
    /// O, OU, C, STREET, DC, UID) by name, any other by its OID with its
    /// value in hex (`2.5.4.5=#130131`).
    pub fn subject(&self) -> String {
        rfc4514(self.x509.tbs_certificate().subject())
    }

    /// The start of the validity period (`notBefore`).
    pub fn not_before(&self) -> SystemTime {
        self.x509
            .tbs_certificate()
            .validity()
            .not_before
            .to_system_time()
    }

    /// The end of the validity period (`notAfter`).
    pub fn not_after(&self) -> SystemTime {
        self.x509
            .tbs_certificate()
            .validity()
            .not_after
            .to_system_time()
    }

    /// Checks that `now` is within the validity period, both ends included
    /// (cursive's `is_within_valid_dates`).
    ///
    /// # Errors
    /// [`SignatureError::CertificateNotYetValid`] or [`SignatureError::CertificateExpired`].
    pub fn check_dates(&self, now: SystemTime) -> Result<(), SignatureError> {
        if now < self.not_before() {
            Err(SignatureError::CertificateNotYetValid)
        } else if now > self.not_after() {
            Err(SignatureError::CertificateExpired)
        } else {
            Ok(())
        }
    }

    /// Checks that the public key can make signatures of `key_type`: an RSA
    /// key for `RSA-PSS`, a DSA key for `DSA`, an EC key on the named curve
    /// for `ECC_*`.
    ///
    /// cursive only checks that the key is an EC key for either `ECC_*`
    /// type, whatever its curve; this crate also checks the curve, so an
    /// image whose key type property names the wrong curve is refused here
    /// where cursive would verify it.
    ///
    /// # Errors
    /// [`SignatureError::KeyTypeMismatch`].
    pub fn check_key_type(&self, key_type: KeyType) -> Result<(), SignatureError> {
        if self.key.fits(key_type) {
            Ok(())
        } else {
            Err(SignatureError::KeyTypeMismatch {
                expected: key_type.name(),
                found: self.key.describe(),
            })
        }
    }

    /// The DER bytes the issuer signed (the `tbsCertificate` as it was
    /// received, not re-encoded).
    pub(super) fn tbs_der(&self) -> Option<&[u8]> {
        let mut outer = SliceReader::new(&self.der).ok()?;
        let header = der::Header::decode(&mut outer).ok()?;
        let mut inner = SliceReader::new(outer.read_slice(header.length()).ok()?).ok()?;
        inner.tlv_bytes().ok()
    }
}

/// RFC 4514's string form of `name`: its RDNs last first, separated by `,`,
/// the attributes of one RDN by `+`.
///
/// Written here rather than through x509-cert's `Display`, which names
/// attribute types from const-oid's database of some 1,500 OIDs: that
/// table alone made the static tool about 120 KiB larger.
fn rfc4514(name: &Name) -> String {
    let rdns: &Vec<RelativeDistinguishedName> = name.as_ref().as_ref();
    let rdn = |rdn: &RelativeDistinguishedName| {
        let attributes: Vec<String> = rdn.as_ref().iter().map(attribute).collect();
        attributes.join("+")
    };
    let rdns: Vec<String> = rdns.iter().rev().map(rdn).collect();
    rdns.join(",")
}

/// One `TYPE=value` of RFC 4514: a type it names (section 3) with a string
/// value, escaped (section 2.4); else the dotted OID and `#` with the
/// value's DER in hex.
fn attribute(atv: &AttributeTypeAndValue) -> String {
    const NAMES: [(&str, &str); 9] = [
        ("2.5.4.3", "CN"),
        ("2.5.4.7", "L"),
        ("2.5.4.8", "ST"),
        ("2.5.4.10", "O"),
        ("2.5.4.11", "OU"),
        ("2.5.4.6", "C"),
        ("2.5.4.9", "STREET"),
        ("0.9.2342.19200300.100.1.25", "DC"),
        ("0.9.2342.19200300.100.1.1", "UID"),
    ];
    let oid = atv.oid.to_string();
    let text = match der::Tagged::tag(&atv.value) {
        der::Tag::PrintableString
        | der::Tag::Utf8String
        | der::Tag::Ia5String
        | der::Tag::TeletexString => std::str::from_utf8(atv.value.value()).ok(),
        _ => None,
    };
    let named = NAMES.iter().find(|(o, _)| *o == oid).map(|(_, n)| *n);
    let (Some(name), Some(text)) = (named, text) else {
        let der = der::Encode::to_der(&atv.value).unwrap_or_default();
        let hex: String = der.iter().map(|b| format!("{b:02x}")).collect();
        return format!("{oid}=#{hex}");
    };
    let mut out = format!("{name}=");
    let last = text.chars().count().saturating_sub(1);
    for (i, c) in text.chars().enumerate() {
        match c {
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            '"' | '+' | ',' | ';' | '<' | '>' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\0'..='\x1f' | '\x7f' => out.push_str(&format!("\\{:02x}", c as u8)),
            _ => out.push(c),
        }
    }
    out
}

/// The first `-----BEGIN CERTIFICATE-----` ... `-----END CERTIFICATE-----`
/// block of `bytes`, markers included; `None` when there is no BEGIN marker.
fn pem_block(bytes: &[u8]) -> Option<&[u8]> {
    const BEGIN: &[u8] = b"-----BEGIN CERTIFICATE-----";
    const END: &[u8] = b"-----END CERTIFICATE-----";
    let start = find(bytes, BEGIN)?;
    let rest = &bytes[start..];
    let end = find(rest, END).map_or(rest.len(), |at| at + END.len());
    Some(&rest[..end])
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn pem_to_der(block: &[u8]) -> Result<Vec<u8>, String> {
    let (label, der) = der::pem::decode_vec(block).map_err(|e| format!("bad PEM: {e}"))?;
    if label == "CERTIFICATE" {
        Ok(der)
    } else {
        Err(format!("PEM block {label}, not CERTIFICATE"))
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    #[test]
    fn names_are_written_as_rfc_4514_and_x509_cert_write_them() {
        for text in [
            "CN=signer,O=Example,C=FR",
            "CN=a\\,b+UID=u1,OU=x\\+y,DC=example,DC=org",
            "CN=\\#1 \\<x\\> \\;\\ ",
            "L=Paris,ST=IDF,STREET=1 rue",
        ] {
            let name = Name::from_str(text).expect("a name");
            assert_eq!(rfc4514(&name), name.to_string(), "{text}");
            assert_eq!(rfc4514(&name), text);
        }
    }

    #[test]
    fn types_rfc_4514_does_not_name_are_oids_with_their_der() {
        // x509-cert names serialNumber (2.5.4.5) from its OID database;
        // RFC 4514 does not, so its value is the DER in hex.
        let name = Name::from_str("SERIALNUMBER=1,CN=x").expect("a name");
        assert_eq!(rfc4514(&name), "2.5.4.5=#130131,CN=x");
    }
}
