//! The four `img_signature*` image properties, parsed as cursive reads them.

use std::collections::BTreeMap;

use super::SignatureError;
use super::hash::HashMethod;

/// `img_signature`: the base64 signature.
pub const SIGNATURE: &str = "img_signature";
/// `img_signature_hash_method`: `SHA-224`, `SHA-256`, `SHA-384` or `SHA-512`.
pub const HASH_METHOD: &str = "img_signature_hash_method";
/// `img_signature_key_type`: `RSA-PSS`, `DSA`, `ECC_SECP384R1` or `ECC_SECP521R1`.
pub const KEY_TYPE: &str = "img_signature_key_type";
/// `img_signature_certificate_uuid`: the signing certificate's id in the key manager.
pub const CERTIFICATE_UUID: &str = "img_signature_certificate_uuid";

/// The key type an image was signed with (`img_signature_key_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyType {
    /// `RSA-PSS`: RSASSA-PSS, MGF1 with the image's hash, any salt length.
    RsaPss,
    /// `DSA`: DSA over the image's hash, DER `(r, s)` signature.
    Dsa,
    /// `ECC_SECP384R1`: ECDSA on NIST P-384, DER signature.
    EccSecp384r1,
    /// `ECC_SECP521R1`: ECDSA on NIST P-521, DER signature.
    EccSecp521r1,
}

/// The binary curves cursive registers when its `cryptography` supports
/// them (removed from `cryptography` 47): refused as unsupported.
const BINARY_CURVES: [&str; 4] = [
    "ECC_SECT571K1",
    "ECC_SECT409K1",
    "ECC_SECT571R1",
    "ECC_SECT409R1",
];

impl KeyType {
    /// Every key type this crate verifies.
    pub const ALL: [KeyType; 4] = [
        KeyType::RsaPss,
        KeyType::Dsa,
        KeyType::EccSecp384r1,
        KeyType::EccSecp521r1,
    ];

    /// The property value naming this key type, e.g. `RSA-PSS`.
    pub fn name(self) -> &'static str {
        match self {
            KeyType::RsaPss => "RSA-PSS",
            KeyType::Dsa => "DSA",
            KeyType::EccSecp384r1 => "ECC_SECP384R1",
            KeyType::EccSecp521r1 => "ECC_SECP521R1",
        }
    }

    /// Parses a property value, exactly (cursive compares names as they are).
    ///
    /// # Errors
    /// [`SignatureError::UnsupportedKeyType`] for the four binary `ECC_SECT*`
    /// curves, [`SignatureError::UnknownKeyType`] for anything else unknown.
    pub fn from_name(name: &str) -> Result<Self, SignatureError> {
        if let Some(key_type) = Self::ALL.into_iter().find(|k| k.name() == name) {
            Ok(key_type)
        } else if BINARY_CURVES.contains(&name) {
            Err(SignatureError::UnsupportedKeyType(name.to_string()))
        } else {
            Err(SignatureError::UnknownKeyType(name.to_string()))
        }
    }
}

/// An image's signature properties, parsed and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureProperties {
    /// The signature, decoded from base64 (never empty).
    pub signature: Vec<u8>,
    /// The hash the image was signed over.
    pub hash_method: HashMethod,
    /// The key type the signature was made with.
    pub key_type: KeyType,
    /// The signing certificate's id in the key manager, as given.
    pub certificate_uuid: String,
}

impl SignatureProperties {
    /// Reads the `img_signature*` properties of an image (e.g.
    /// [`Image::properties`](crate::Image::properties)).
    ///
    /// `Ok(None)`: none of the four is set, so the image is unsigned (a
    /// caller that requires signatures refuses it). Checks in cursive's
    /// order: all four present, the signature's base64, the hash method,
    /// the key type.
    ///
    /// # Errors
    /// [`SignatureError::MissingProperty`] naming the first one missing
    /// when only some are set; [`SignatureError::BadSignatureEncoding`] (also
    /// for an empty signature); [`SignatureError::UnknownHashMethod`];
    /// [`SignatureError::UnsupportedKeyType`] or [`SignatureError::UnknownKeyType`].
    pub fn from_properties(
        properties: &BTreeMap<String, String>,
    ) -> Result<Option<Self>, SignatureError> {
        // cursive's order (get_verifier): certificate, hash, signature, key type.
        let names = [CERTIFICATE_UUID, HASH_METHOD, SIGNATURE, KEY_TYPE];
        let values = names.map(|name| properties.get(name));
        if values.iter().all(Option::is_none) {
            return Ok(None);
        }
        let [Some(uuid), Some(hash), Some(signature), Some(key_type)] = values else {
            let missing = names.iter().zip(&values).find(|(_, v)| v.is_none());
            return Err(SignatureError::MissingProperty(
                missing.map_or("", |(n, _)| n),
            ));
        };
        let signature = decode_base64(signature).ok_or(SignatureError::BadSignatureEncoding)?;
        if signature.is_empty() {
            return Err(SignatureError::BadSignatureEncoding);
        }
        Ok(Some(SignatureProperties {
            signature,
            hash_method: HashMethod::from_name(hash)?,
            key_type: KeyType::from_name(key_type)?,
            certificate_uuid: uuid.clone(),
        }))
    }
}

/// Base64 as Python's `base64.b64decode` reads it (what cursive calls, through
/// oslo.serialization): characters outside the alphabet (line breaks from
/// `base64` without `-w 0`, spaces) are skipped, the data ends at the first
/// complete padding, and a last group of one character or with short padding
/// is an error. `None` on error.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let (mut quad, mut left, mut pads) = (0u8, 0u8, 0u8);
    for byte in text.bytes() {
        if byte == b'=' {
            if quad >= 2 {
                pads += 1;
                if quad + pads >= 4 {
                    return Some(out);
                }
            }
            continue;
        }
        let Some(v) = sextet(byte) else { continue };
        pads = 0;
        match quad {
            0 => left = v,
            1 => {
                out.push(left << 2 | v >> 4);
                left = v & 0x0f;
            }
            2 => {
                out.push(left << 4 | v >> 2);
                left = v & 0x03;
            }
            _ => out.push(left << 6 | v),
        }
        quad = (quad + 1) % 4;
    }
    (quad == 0).then_some(out)
}

/// The value of a base64 alphabet character.
fn sextet(byte: u8) -> Option<u8> {
    match byte {
        b'A'..=b'Z' => Some(byte - b'A'),
        b'a'..=b'z' => Some(byte - b'a' + 26),
        b'0'..=b'9' => Some(byte - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const FULL: [(&str, &str); 4] = [
        (SIGNATURE, "QUJD\nREVG"),
        (HASH_METHOD, "SHA-256"),
        (KEY_TYPE, "RSA-PSS"),
        (CERTIFICATE_UUID, "0c6a0b7e-1d1e-4f0e-9d8b-0e2b1c3d4e5f"),
    ];

    #[test]
    fn an_image_without_signature_properties_is_unsigned() {
        let other = props(&[("os_distro", "debian")]);
        assert_eq!(SignatureProperties::from_properties(&other), Ok(None));
    }

    #[test]
    fn all_four_properties_parse() {
        let parsed = SignatureProperties::from_properties(&props(&FULL));
        let parsed = parsed.ok().flatten();
        assert_eq!(
            parsed.as_ref().map(|p| p.signature.as_slice()),
            Some(&b"ABCDEF"[..])
        );
        assert_eq!(parsed.as_ref().map(|p| p.key_type), Some(KeyType::RsaPss));
        assert_eq!(parsed.map(|p| p.hash_method), Some(HashMethod::Sha256));
    }

    #[test]
    fn a_partly_signed_image_names_the_first_missing_property_in_cursive_order() {
        let partial = props(&FULL[1..]);
        assert_eq!(
            SignatureProperties::from_properties(&partial),
            Err(SignatureError::MissingProperty(SIGNATURE))
        );
        let only_signature = props(&FULL[..1]);
        assert_eq!(
            SignatureProperties::from_properties(&only_signature),
            Err(SignatureError::MissingProperty(CERTIFICATE_UUID))
        );
    }

    #[test]
    fn key_types_are_known_unsupported_or_unknown() {
        assert_eq!(
            KeyType::from_name("ECC_SECP521R1"),
            Ok(KeyType::EccSecp521r1)
        );
        assert!(matches!(
            KeyType::from_name("ECC_SECT571K1"),
            Err(SignatureError::UnsupportedKeyType(_))
        ));
        assert!(matches!(
            KeyType::from_name("rsa-pss"),
            Err(SignatureError::UnknownKeyType(_))
        ));
        assert!(matches!(
            KeyType::from_name("ED25519"),
            Err(SignatureError::UnknownKeyType(_))
        ));
    }

    #[test]
    fn base64_is_read_as_python_reads_it() {
        let cases: [(&str, Option<&[u8]>); 9] = [
            ("QUJD REVG", Some(b"ABCDEF")),
            ("QUJDRA", None),
            ("QUJDRA==", Some(b"ABCD")),
            ("QU!JD", Some(b"ABC")),
            ("QUJDRA==QUJD", Some(b"ABCD")),
            ("QUJDRA=", None),
            ("====", Some(b"")),
            ("QUJDR===", None),
            ("QUJDRB==", Some(b"ABCD")),
        ];
        for (text, expected) in cases {
            assert_eq!(
                decode_base64(text).as_deref(),
                expected,
                "decoding {text:?}"
            );
        }
    }

    #[test]
    fn a_bad_or_empty_signature_is_a_bad_encoding() {
        for signature in ["QUJDRA", "===="] {
            let mut map = props(&FULL);
            map.insert(SIGNATURE.into(), signature.into());
            assert_eq!(
                SignatureProperties::from_properties(&map),
                Err(SignatureError::BadSignatureEncoding)
            );
        }
    }
}
