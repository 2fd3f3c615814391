//! How v1 writes values as text: booleans, integers, timestamps.

use crate::error::{Error, Result};

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

/// Checks `YYYY-MM-DD[T ]HH:MM:SS[.fraction][Z|+HH:MM|-HH:MM]`.
pub(crate) fn check_timestamp(what: &str, text: &str) -> Result<()> {
    if timestamp_parts(text).is_some() {
        Ok(())
    } else {
        Err(Error::invalid_response(format!(
            "{what} {text:?} is not an ISO 8601 timestamp"
        )))
    }
}

/// `(date, time without fraction, zone)` of a valid timestamp.
pub(crate) fn timestamp_parts(text: &str) -> Option<(&str, &str, &str)> {
    let b = text.as_bytes();
    let digits = |r: std::ops::Range<usize>| {
        b.get(r.clone())
            .filter(|s| s.iter().all(u8::is_ascii_digit))
            .and_then(|_| text[r].parse::<u32>().ok())
    };
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    let seps = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if seps.iter().any(|&(i, c)| b[i] != c) || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let ok = year > 0
        && (1..=12).contains(&month)
        && (1..=31).contains(&day)
        && hour < 24
        && minute < 60
        && second <= 60;
    if !ok {
        return None;
    }
    let mut rest = &text[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        rest = &frac[n..];
    }
    let zone_ok = match rest.as_bytes() {
        [] | [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => [h1, h2, m1, m2].iter().all(|c| c.is_ascii_digit()),
        _ => false,
    };
    zone_ok.then(|| (&text[..10], &text[11..19], rest))
}

/// `2016-01-06T03:22:20.000000` (or with a space, or `+00:00`) as
/// `2016-01-06T03:22:20Z`; a timestamp with another offset is kept as is.
pub(crate) fn normalize_timestamp(text: String) -> String {
    match timestamp_parts(&text) {
        Some((date, time, "" | "Z" | "z" | "+00:00" | "-00:00")) => format!("{date}T{time}Z"),
        _ => text,
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
    fn timestamps() {
        for ok in [
            "2016-01-06T03:22:20.000000",
            "2016-01-06T03:22:20",
            "2016-01-06 03:22:20",
            "2016-01-06T03:22:20Z",
            "2016-01-06T03:22:20.5+02:00",
        ] {
            assert!(check_timestamp("t", ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "yesterday",
            "2016-13-06T03:22:20",
            "2016-01-06T25:22:20",
            "2016-01-06T03:22:20.",
            "2016-01-06T03:22:20+0200",
            "2016-01-06X03:22:20",
            "2016-01-06T03:22:2",
            "٢٠١٦-01-06T03:22:20",
            "2016-01-06T03:22:20é",
        ] {
            assert!(check_timestamp("t", bad).is_err(), "{bad}");
        }
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
