//! Any error answer (status from the first two bytes, the rest as body) maps
//! to an error of that status whose message is one normalized line.
#![no_main]
use glance_client::{http, wire};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((head, body)) = data.split_first_chunk::<2>() else {
        return;
    };
    let status = 400 + u16::from_be_bytes(*head) % 200;
    let response = http::Response::builder().status(status).body(body).unwrap();
    let err = wire::parse_error(&response);
    let api = err.api_error().expect("an HTTP error keeps its status");
    assert_eq!(api.status, status);
    let normalized = api.message.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(
        api.message, normalized,
        "message is not one line of single spaces"
    );
    assert!(!err.to_string().contains('\n'));
});
