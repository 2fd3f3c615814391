//! `Content-Range` values: a parsed range is always ordered and inside the
//! total, and its canonical form parses back to the same range; the whole
//! head of a 206 answer (`parse_download_start`) never panics and, when
//! accepted, starts where it was asked to and is as long as the range.
#![no_main]
use glance_client::http::{HeaderMap, HeaderValue, StatusCode};
use glance_client::wire::{parse_content_range, parse_download_start};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = parse_content_range(text);
    if let Ok((start, end, total)) = parsed {
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
    let Ok(value) = HeaderValue::from_str(text) else {
        return;
    };
    let mut headers = HeaderMap::new();
    headers.insert("content-range", value);
    let asked = parsed.as_ref().map_or(0, |(start, _, _)| *start);
    if let Ok(head) = parse_download_start("i", StatusCode::PARTIAL_CONTENT, &headers, asked) {
        let (start, end, total) = parsed.expect("accepted only with a valid range");
        assert_eq!(head.offset, asked);
        assert_eq!(head.length, Some(end - start + 1), "{text:?}");
        assert_eq!(head.total, total);
    }
});
