//! nova.conf text: parsing never panics, always terminates (libFuzzer's
//! timeout catches runaway interpolation) and is deterministic.
#![no_main]
use glance_client::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let first = Config::from_ini_str(text);
    let second = Config::from_ini_str(text);
    match (&first, &second) {
        (Ok(a), Ok(b)) => assert_eq!(a, b),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        _ => panic!("two parses of the same text disagree: {first:?} vs {second:?}"),
    }
});
