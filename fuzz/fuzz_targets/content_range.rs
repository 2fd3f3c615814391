//! `Content-Range` values: a parsed range is always ordered and inside the
//! total, and its canonical form parses back to the same range.
#![no_main]
use glance_client::v2::images::parse_content_range;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok((start, end, total)) = parse_content_range(text) {
        assert!(start <= end, "{text:?} gave start {start} > end {end}");
        assert!(
            total.is_none_or(|t| end < t),
            "{text:?} gave end {end} >= total {total:?}"
        );
        let total_text = total.map_or("*".to_string(), |t| t.to_string());
        let canonical = format!("bytes {start}-{end}/{total_text}");
        assert_eq!(
            parse_content_range(&canonical).ok(),
            Some((start, end, total)),
            "{canonical:?}"
        );
    }
});
