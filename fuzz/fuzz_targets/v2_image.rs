//! A v2 image object: parsing never panics, and a parsed image serialized
//! to JSON and parsed again is equal (and serializes to the same bytes).
#![no_main]
use glance_client::{http, v2};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parse = |body: &[u8]| {
        let response = http::Response::builder().status(200).body(body).unwrap();
        v2::images::parse_image(&response)
    };
    if let Ok(image) = parse(data) {
        let json = serde_json::to_vec(&image).unwrap();
        let again = parse(&json).expect("a serialized image parses");
        assert_eq!(again, image);
        assert_eq!(serde_json::to_vec(&again).unwrap(), json);
    }
});
