//! The versions document: answered with 200 (`/versions`) or 300 (`/`), the
//! same body parses to the same versions; with an error status it never parses.
#![no_main]
use glance_client::{http, v2};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parse = |status: u16| {
        let response = http::Response::builder().status(status).body(data).unwrap();
        v2::versions::parse_versions(&response)
    };
    let (ok, multiple) = (parse(200), parse(300));
    assert_eq!(
        ok.as_ref().ok(),
        multiple.as_ref().ok(),
        "200 and 300 disagree"
    );
    assert_eq!(ok.is_err(), multiple.is_err());
    assert!(parse(404).is_err(), "a 404 parsed as a versions document");
    for v in ok.iter().flatten() {
        if let Some((major, minor)) = v.number() {
            assert!(v.id.starts_with('v'), "{:?} gave {major}.{minor}", v.id);
        }
    }
});
