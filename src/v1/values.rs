//! How v1 writes values as text: booleans, integers, timestamps.

use crate::error::{Error, Result};
use crate::wire::timestamp::Timestamp;

/// oslo's `bool_from_string` (not strict, default false).
pub(crate) fn parse_bool(text: &str) -> bool {
    matches!(
        text.trim().to_ascii_lowercase().as_str(),
        "1" | "t" | "true" | "on" | "y" | "yes"
    )
}

/// How booleans are sent.
pub(crate) fn bool_text(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// A non-negative decimal integer; `what` names the field in the error.
pub(crate) fn parse_u64(what: &str, text: &str) -> Result<u64> {
    let t = text.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::invalid_response(format!(
            "{what} {text:?} is not a non-negative integer"
        )));
    }
    t.parse()
        .map_err(|_| Error::invalid_response(format!("{what} {text:?} is out of range")))
}

/// Checks a timestamp by [`wire::timestamp`](crate::wire::timestamp)'s
/// rules; `what` names the field in the error.
pub(crate) fn check_timestamp(what: &str, text: &str) -> Result<()> {
    match Timestamp::parse(text) {
        Some(_) => Ok(()),
        None => Err(Error::invalid_response(format!(
            "{what} {text:?} is not an ISO 8601 timestamp"
        ))),
    }
}

/// `2016-01-06T03:22:20.000000` (or with a space, or `+00:00`) as
/// `2016-01-06T03:22:20Z`; a timestamp with another offset is kept as is.
pub(crate) fn normalize_timestamp(text: String) -> String {
    match Timestamp::parse(&text).and_then(|t| t.utc_seconds()) {
        Some(v2) => v2,
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans_read_as_oslo_does() {
        for t in ["1", "t", "T", "true", "True", "on", "y", "YES", " yes "] {
            assert!(parse_bool(t), "{t:?} should be true");
        }
        for f in ["0", "f", "false", "off", "no", "", "2", "truthy", "None"] {
            assert!(!parse_bool(f), "{f:?} should be false");
        }
    }

    #[test]
    fn timestamps_are_checked_by_the_one_parser() {
        // The rules themselves are wire::timestamp's; these show they apply.
        assert!(check_timestamp("t", "2016-01-06T03:22:20.000000").is_ok());
        assert!(check_timestamp("t", "2016-01-06 03:22:20").is_ok());
        let e = check_timestamp("created_at", "2016-02-31T03:22:20").unwrap_err();
        assert!(matches!(e, Error::InvalidResponse(_)), "{e:?}");
        assert!(e.to_string().contains("created_at"), "{e}");
    }

    #[test]
    fn integers_are_decimal_and_non_negative() {
        assert_eq!(parse_u64("size", " 42 ").unwrap(), 42);
        for bad in [
            "",
            "-1",
            "+1",
            "4.2",
            "0x10",
            "big",
            "None",
            "99999999999999999999999",
        ] {
            assert!(parse_u64("size", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn timestamps_take_v2_form() {
        for (v1, v2) in [
            ("2016-01-06T03:22:20.000000", "2016-01-06T03:22:20Z"),
            ("2016-01-06 03:22:20", "2016-01-06T03:22:20Z"),
            ("2016-01-06T03:22:20+00:00", "2016-01-06T03:22:20Z"),
            ("2016-01-06T03:22:20Z", "2016-01-06T03:22:20Z"),
            ("2016-01-06T03:22:20+02:00", "2016-01-06T03:22:20+02:00"),
        ] {
            assert_eq!(normalize_timestamp(v1.into()), v2, "{v1}");
        }
    }
}
