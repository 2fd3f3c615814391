//! A v2 image object: parsing never panics, and a parsed image serialized
//! and parsed again is equal.
#![no_main]
use glance_client::{Image, http, v2};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let response = http::Response::builder().status(200).body(data).unwrap();
    if let Ok(image) = v2::images::parse_image(&response) {
        let json = serde_json::to_vec(&image).unwrap();
        let again: Image = serde_json::from_slice(&json).unwrap();
        assert_eq!(again, image);
    }
});
