//! v1 `x-image-meta-*` headers: parsing arbitrary header names and values
//! never panics, and whatever parses encodes and parses back unchanged.
#![no_main]
use glance_client::http::{HeaderMap, HeaderName, HeaderValue};
use glance_client::v1::headers;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut map = HeaderMap::new();
    for line in data.split(|&b| b == b'\n') {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name), HeaderValue::from_bytes(value)) {
            map.append(n, v);
        }
    }
    if let Ok(meta) = headers::parse_image_meta(&map) {
        let again = meta.to_headers().expect("parsed metadata must encode");
        assert_eq!(headers::parse_image_meta(&again).unwrap(), meta);
        let _ = meta.into_image();
    }
});
