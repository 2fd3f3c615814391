//! `Content-Range` values: a parsed range is always ordered and inside the total.
#![no_main]
use glance_client::v2;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok((start, end, total)) = v2::images::parse_content_range(text) {
            assert!(start <= end);
            if let Some(total) = total {
                assert!(end < total);
            }
        }
    }
});
