//! Any error answer (status from the first two bytes, the rest as body) maps
//! to an error of that status with a one-line message.
#![no_main]
use glance_client::{http, v2};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let status = 400 + u16::from_be_bytes([data[0], data[1]]) % 200;
    let response = http::Response::builder().status(status).body(&data[2..]).unwrap();
    let err = v2::parse_error(&response);
    let api = err.api_error().expect("an HTTP error keeps its status");
    assert_eq!(api.status, status);
    assert!(!api.message.contains('\n'), "{:?}", api.message);
    let _ = err.to_string();
});
