//! What the head of a download answer says about the body that follows,
//! the same in both API versions (v1's parser adds its own headers on top).

use http::{HeaderMap, StatusCode};

use crate::error::{Error, Result};
use crate::wire;

/// What the head of a download answer says about the body that follows.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DownloadStart {
    /// Offset in the image of the body's first byte (0 unless a range was served).
    pub offset: u64,
    /// Length of the body, from `Content-Length` (or the range).
    pub length: Option<u64>,
    /// Size of the whole image, when the answer says (`Content-Range`, or the
    /// length of a full answer).
    pub total: Option<u64>,
    /// Hex MD5 of the **whole** image, from `Content-MD5`.
    pub content_md5: Option<String>,
}

/// Parses the status and headers of a download answer.
///
/// `requested_offset` is what the request asked for: a 206 must start
/// exactly there, and a 200 to a ranged request means the server ignored the
/// range (the caller starts over from byte 0). 204 is [`Error::NoData`].
pub fn parse_download_start(
    image_id: &str,
    status: StatusCode,
    headers: &HeaderMap,
    requested_offset: u64,
) -> Result<DownloadStart> {
    let content_md5 = wire::header(headers, "content-md5")
        .filter(|s| !s.is_empty())
        .map(str::to_ascii_lowercase);
    if status.as_u16() == 204 {
        return Err(Error::NoData {
            image_id: image_id.to_string(),
        });
    }
    let length = wire::content_length(headers)?;
    match status.as_u16() {
        200 => Ok(DownloadStart {
            offset: 0,
            length,
            total: length,
            content_md5,
        }),
        206 => {
            let value = wire::header(headers, "content-range")
                .ok_or_else(|| Error::invalid_response("206 without Content-Range"))?;
            let (start, end, total) = parse_content_range(value)?;
            if start != requested_offset {
                return Err(Error::invalid_response(format!(
                    "asked for bytes from {requested_offset}, got Content-Range {value:?}"
                )));
            }
            // `end` may be u64::MAX: the length of such a range does not fit.
            let range_len = (end - start).checked_add(1).ok_or_else(|| {
                Error::invalid_response(format!("Content-Range {value:?} is too long"))
            })?;
            if length.is_some_and(|l| l != range_len) {
                return Err(Error::invalid_response(format!(
                    "Content-Length {length:?} disagrees with Content-Range {value:?}"
                )));
            }
            Ok(DownloadStart {
                offset: start,
                length: Some(range_len),
                total,
                content_md5,
            })
        }
        _ => Err(Error::invalid_response(format!(
            "unexpected download status {status}"
        ))),
    }
}

/// Parses `Content-Range: bytes START-END/TOTAL` (TOTAL may be `*`).
///
/// Returns `(start, end, total)` with `start <= end < total`.
pub fn parse_content_range(value: &str) -> Result<(u64, u64, Option<u64>)> {
    let bad = || Error::invalid_response(format!("bad Content-Range {value:?}"));
    let rest = value.trim().strip_prefix("bytes ").ok_or_else(bad)?;
    let (range, total) = rest.split_once('/').ok_or_else(bad)?;
    let (start, end) = range.split_once('-').ok_or_else(bad)?;
    let num = |s: &str| -> Result<u64> {
        if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        s.parse().map_err(|_| bad())
    };
    let (start, end) = (num(start)?, num(end)?);
    let total = match total {
        "*" => None,
        t => Some(num(t)?),
    };
    if start > end || total.is_some_and(|t| end >= t) {
        return Err(bad());
    }
    Ok((start, end, total))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    #[test]
    fn download_start_full_partial_and_empty() {
        let h = headers(&[
            ("content-length", "1048577"),
            ("content-md5", "B137587CF064CD81B9F19BEEE957A763"),
        ]);
        let s = parse_download_start("i", StatusCode::OK, &h, 0).unwrap();
        assert_eq!(s.offset, 0);
        assert_eq!(s.length, Some(1048577));
        assert_eq!(
            s.content_md5.as_deref(),
            Some("b137587cf064cd81b9f19beee957a763")
        );

        let h = headers(&[
            ("content-length", "99000"),
            ("content-range", "bytes 1000-99999/100000"),
        ]);
        let s = parse_download_start("i", StatusCode::PARTIAL_CONTENT, &h, 1000).unwrap();
        assert_eq!(
            (s.offset, s.length, s.total),
            (1000, Some(99000), Some(100000))
        );
        assert!(parse_download_start("i", StatusCode::PARTIAL_CONTENT, &h, 999).is_err());
        let h = headers(&[
            ("content-length", "5"),
            ("content-range", "bytes 1000-99999/100000"),
        ]);
        assert!(parse_download_start("i", StatusCode::PARTIAL_CONTENT, &h, 1000).is_err());
        assert!(
            parse_download_start("i", StatusCode::PARTIAL_CONTENT, &HeaderMap::new(), 0).is_err()
        );

        let e = parse_download_start("i", StatusCode::NO_CONTENT, &HeaderMap::new(), 0);
        assert!(matches!(e, Err(Error::NoData { ref image_id }) if image_id == "i"));
        // 204 means no data whatever else the head says.
        let h = headers(&[("content-length", "lots")]);
        let e = parse_download_start("i", StatusCode::NO_CONTENT, &h, 0);
        assert!(matches!(e, Err(Error::NoData { .. })), "{e:?}");
    }

    #[test]
    fn a_range_as_long_as_u64_is_an_error_not_an_overflow() {
        let h = headers(&[("content-range", "bytes 0-18446744073709551615/*")]);
        let e = parse_download_start("i", StatusCode::PARTIAL_CONTENT, &h, 0);
        assert!(matches!(e, Err(Error::InvalidResponse(_))), "{e:?}");
    }

    #[test]
    fn content_range_forms() {
        assert_eq!(parse_content_range("bytes 0-0/1").unwrap(), (0, 0, Some(1)));
        assert_eq!(parse_content_range("bytes 5-9/*").unwrap(), (5, 9, None));
        for bad in [
            "bytes 9-5/10",
            "bytes 0-10/10",
            "bytes -1-5/10",
            "bytes 1-2",
            "items 1-2/3",
            "bytes +1-2/3",
            "bytes 1-99999999999999999999999/3",
            "",
        ] {
            assert!(parse_content_range(bad).is_err(), "{bad}");
        }
    }
}
