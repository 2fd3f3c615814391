//! nova.conf text: parsing never panics, is deterministic, and interpolation
//! is bounded: it terminates (libFuzzer's -timeout catches a runaway) and no
//! value grows past the 64 KiB interpolation cap (three of them for the
//! deprecated `protocol://host:port`, plus its punctuation).
#![no_main]
use glance_client::Config;
use libfuzzer_sys::fuzz_target;

const MAX_VALUE: usize = 3 * 64 * 1024 + 16;

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
    let Ok(config) = first else { return };
    let fs = config.filesystems.iter();
    let values = (config.api_servers.iter().map(String::len))
        .chain(config.endpoint_override.iter().map(String::len))
        .chain(
            [&config.cafile, &config.certfile, &config.keyfile]
                .into_iter()
                .flatten()
                .map(|p| p.as_os_str().len()),
        )
        .chain(fs.map(|f| f.id.len().max(f.mountpoint.as_os_str().len())));
    for len in values {
        assert!(len <= MAX_VALUE, "a {len}-byte value passed the cap");
    }
});
