//! The versions document, as answered with 200 or 300.
#![no_main]
use glance_client::{http, v2};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for status in [200, 300] {
        let response = http::Response::builder().status(status).body(data).unwrap();
        if let Ok(versions) = v2::versions::parse_versions(&response) {
            for v in versions {
                let _ = v.number();
            }
        }
    }
});
