//! Image signatures (feature `signatures`): parsing the `img_signature*`
//! properties and X.509 certificates never panics, nor does checking a
//! parsed certificate (dates, key type, chain to itself) or verifying a
//! signature with its key; a certificate parsed again from its own DER is
//! equal to itself, with the same subject, dates and key.
//!
//! The first byte picks what the rest is: even, a certificate (PEM or DER)
//! followed by nothing; odd, the four properties separated by NUL bytes
//! (certificate uuid, hash method, signature, key type; fewer parts leave the
//! last ones unset).
#![no_main]
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use glance_client::signature::{
    self, Certificate, HashMethod, KeyType, SignatureError, SignatureProperties,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        certificate(rest);
    } else {
        properties(rest);
    }
});

fn certificate(bytes: &[u8]) {
    let Ok(cert) = Certificate::from_pem_or_der(bytes) else {
        return;
    };
    let again = Certificate::from_der(cert.der().to_vec()).expect("a certificate's DER parses");
    assert_eq!(again, cert);
    assert_eq!(again.subject(), cert.subject());
    assert_eq!(
        (again.not_before(), again.not_after()),
        (cert.not_before(), cert.not_after())
    );
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let _ = cert.check_dates(now);
    let _ = signature::verify_chain(&cert, std::slice::from_ref(&cert), now);
    for key_type in KeyType::ALL {
        assert_eq!(
            again.check_key_type(key_type),
            cert.check_key_type(key_type)
        );
        let props = SignatureProperties {
            signature: bytes.iter().rev().take(600).copied().collect(),
            hash_method: HashMethod::Sha384,
            key_type,
            certificate_uuid: String::new(),
        };
        let digest = [0x5a; 48];
        let verdict = signature::verify_digest(&props, &cert, &digest);
        assert!(!matches!(verdict, Ok(())) || !props.signature.is_empty());
        if cert.check_key_type(key_type).is_err() {
            assert!(matches!(
                verdict,
                Err(SignatureError::KeyTypeMismatch { .. })
            ));
        }
    }
}

fn properties(bytes: &[u8]) {
    let names = [
        signature::CERTIFICATE_UUID,
        signature::HASH_METHOD,
        signature::SIGNATURE,
        signature::KEY_TYPE,
    ];
    let text = String::from_utf8_lossy(bytes);
    let map: BTreeMap<String, String> = names
        .iter()
        .zip(text.split('\0'))
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    match SignatureProperties::from_properties(&map) {
        Ok(Some(props)) => {
            assert_eq!(map.len(), 4);
            assert!(!props.signature.is_empty());
            assert_eq!(
                HashMethod::from_name(props.hash_method.name()),
                Ok(props.hash_method)
            );
            assert_eq!(
                KeyType::from_name(props.key_type.name()),
                Ok(props.key_type)
            );
            assert_eq!(&props.certificate_uuid, &map[signature::CERTIFICATE_UUID]);
        }
        Ok(None) => assert!(map.is_empty()),
        Err(SignatureError::MissingProperty(name)) => assert!(!map.contains_key(name)),
        Err(_) => assert_eq!(map.len(), 4),
    }
}
