//! Timestamps, one parser for every place that reads one: Keystone's
//! `expires_at` / `issued_at`, v1's `x-image-meta-*_at` headers and image
//! bodies, and v1's `changes-since` filter. Pure, no clock.
//!
//! The rules, the same everywhere (ISO 8601 as Glance's and Keystone's
//! `parse_isotime` read it):
//!
//! - `YYYY-MM-DD`, then `T`, `t` or a space, then `HH:MM:SS`;
//! - a date that exists: year 1 to 9999, month 1 to 12, the day within
//!   its month (February 29 only in a leap year);
//! - hour 0 to 23, minute 0 to 59, second 0 to 60 (60 is a leap second,
//!   counted as the next one);
//! - optionally `.` and at least one digit (the first three are kept);
//! - optionally a zone: `Z` or `z`, or `+`/`-` and `HH:MM` or `HHMM`, hour
//!   0 to 23 and minute 0 to 59; no zone means UTC, as Glance and Keystone
//!   write them;
//! - nothing else: no surrounding whitespace, ASCII only.

/// A parsed timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timestamp<'a> {
    text: &'a str,
    /// Milliseconds since the Unix epoch.
    millis: i64,
    /// The zone's offset from UTC in minutes (0 for none and `Z`).
    offset_minutes: i64,
}

impl<'a> Timestamp<'a> {
    /// Parses `text` by the rules of the module docs; `None` for anything else.
    pub(crate) fn parse(text: &'a str) -> Option<Timestamp<'a>> {
        let b = text.as_bytes();
        if b.len() < 19 || !text.is_ascii() {
            return None;
        }
        let seps = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
        if seps.iter().any(|&(i, c)| b[i] != c) || !matches!(b[10], b'T' | b't' | b' ') {
            return None;
        }
        let (year, month, day) = (
            digits(text, 0..4)?,
            digits(text, 5..7)?,
            digits(text, 8..10)?,
        );
        let (hour, minute, second) = (
            digits(text, 11..13)?,
            digits(text, 14..16)?,
            digits(text, 17..19)?,
        );
        let date_ok =
            year >= 1 && (1..=12).contains(&month) && (1..=days_in(year, month)).contains(&day);
        if !date_ok || hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let (fraction_millis, zone) = fraction(&text[19..])?;
        let offset_minutes = offset(zone)?;
        let days = days_from_civil(year, month, day);
        let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
        Some(Timestamp {
            text,
            millis: seconds * 1000 + fraction_millis,
            offset_minutes,
        })
    }

    /// Milliseconds since the Unix epoch.
    pub(crate) fn epoch_millis(&self) -> i64 {
        self.millis
    }

    /// `YYYY-MM-DDTHH:MM:SSZ` (Glance v2's form, the fraction dropped) when
    /// the timestamp is in UTC (no zone, `Z` or a zero offset); `None` for
    /// another offset.
    pub(crate) fn utc_seconds(&self) -> Option<String> {
        (self.offset_minutes == 0).then(|| format!("{}T{}Z", &self.text[..10], &self.text[11..19]))
    }
}

/// Milliseconds since the Unix epoch of a timestamp (see the module docs).
pub(crate) fn parse_millis(text: &str) -> Option<i64> {
    Timestamp::parse(text).map(|t| t.epoch_millis())
}

/// The number written in `text[range]`, all ASCII digits.
fn digits(text: &str, range: std::ops::Range<usize>) -> Option<i64> {
    let s = text.get(range)?;
    if s.is_empty() || !s.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The milliseconds of an optional `.fraction` at the start of `rest`, and what follows it.
fn fraction(rest: &str) -> Option<(i64, &str)> {
    let Some(fraction) = rest.strip_prefix('.') else {
        return Some((0, rest));
    };
    let n = fraction.bytes().take_while(u8::is_ascii_digit).count();
    if n == 0 {
        return None;
    }
    let millis = fraction[..n]
        .bytes()
        .chain(*b"000")
        .take(3)
        .fold(0, |acc, d| acc * 10 + i64::from(d - b'0'));
    Some((millis, &fraction[n..]))
}

/// The offset in minutes of a zone: none, `Z`, `±HH:MM` or `±HHMM`.
fn offset(zone: &str) -> Option<i64> {
    let (sign, rest) = match zone.as_bytes() {
        [] | [b'Z' | b'z'] => return Some(0),
        [b'+', rest @ ..] => (1, rest),
        [b'-', rest @ ..] => (-1, rest),
        _ => return None,
    };
    let (hours, minutes) = match rest {
        [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => (two_digits(*h1, *h2)?, two_digits(*m1, *m2)?),
        _ => return None,
    };
    (hours <= 23 && minutes <= 59).then_some(sign * (hours * 60 + minutes))
}

fn two_digits(tens: u8, ones: u8) -> Option<i64> {
    (tens.is_ascii_digit() && ones.is_ascii_digit())
        .then(|| i64::from(tens - b'0') * 10 + i64::from(ones - b'0'))
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Days since 1970-01-01 to (year, month, day): the inverse of
/// [`days_from_civil`] (Howard Hinnant's algorithms).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// A time as RFC 3339 in UTC to the second, `2026-12-07T06:05:31Z` (Glance
/// v2's own form); a time before the Unix epoch is written as the epoch.
pub fn format_utc(time: std::time::SystemTime) -> String {
    let secs = time
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let secs = i64::try_from(secs).unwrap_or(i64::MAX / 2);
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_format_as_utc_and_read_back() {
        use std::time::{Duration, UNIX_EPOCH};
        assert_eq!(format_utc(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let leap_day = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(format_utc(leap_day), "2000-02-29T00:00:00Z");
        for secs in [0u64, 59, 86_399, 951_782_400, 1_796_623_531, 4_102_444_800] {
            let text = format_utc(UNIX_EPOCH + Duration::from_secs(secs));
            assert_eq!(parse_millis(&text), Some(secs as i64 * 1000), "{text}");
        }
    }

    #[test]
    fn keystone_timestamps_parse() {
        assert_eq!(parse_millis("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_millis("1970-01-01T00:00:01.5Z"), Some(1500));
        // `date -u -d 2026-12-02T11:00:14Z +%s` = 1796209214
        assert_eq!(
            parse_millis("2026-12-02T11:00:14.000000Z"),
            Some(1_796_209_214_000)
        );
        assert_eq!(
            parse_millis("2026-12-02T12:00:14.123+01:00"),
            Some(1_796_209_214_123)
        );
        assert_eq!(
            parse_millis("2026-12-02T10:30:14-0030"),
            Some(1_796_209_214_000)
        );
        assert_eq!(parse_millis("2000-02-29T00:00:00"), Some(951_782_400_000));
    }

    #[test]
    fn v1_timestamps_parse() {
        for ok in [
            "2016-01-06T03:22:20.000000",
            "2016-01-06T03:22:20",
            "2016-01-06 03:22:20",
            "2016-01-06t03:22:20z",
            "2016-01-06T03:22:20.5+02:00",
            "2016-12-31T23:59:60",
        ] {
            assert!(Timestamp::parse(ok).is_some(), "{ok}");
        }
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "tomorrow",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-12-02T24:00:00Z",
            "2016-01-06T03:60:20",
            "2026-12-02T11:00:14.Z",
            "2026-12-02T11:00:14+1",
            "2026-12-02T11:00:14 UTC",
            "2026-12-02T11:00:1\u{e9}Z",
            "2016-01-06T03:22:20\u{e9}",
            "+026-12-02T11:00:14Z",
            "\u{662}\u{660}\u{661}\u{666}-01-06T03:22:20",
            "2016-01-06X03:22:20",
            "2016-01-06T03:22:2",
            "2016-01-06",
        ] {
            assert_eq!(Timestamp::parse(bad), None, "{bad:?} should be refused");
        }
    }

    // The rules below were applied differently before there was one parser:
    // v1 headers and Keystone answers each had their own.

    #[test]
    fn the_day_must_exist_in_its_month() {
        // v1 took any day from 1 to 31 (February 31 included).
        for bad in [
            "2016-02-31T00:00:00",
            "2016-02-30T00:00:00",
            "2015-02-29T00:00:00",
            "2016-04-31T00:00:00",
            "1900-02-29T00:00:00",
        ] {
            assert_eq!(Timestamp::parse(bad), None, "{bad}");
        }
        for ok in [
            "2016-02-29T00:00:00",
            "2000-02-29T00:00:00",
            "2016-01-31T00:00:00",
        ] {
            assert!(Timestamp::parse(ok).is_some(), "{ok}");
        }
    }

    #[test]
    fn year_zero_is_refused() {
        // Keystone's parser took year 0000; v1's refused it.
        assert_eq!(Timestamp::parse("0000-01-01T00:00:00Z"), None);
        assert!(Timestamp::parse("0001-01-01T00:00:00Z").is_some());
    }

    #[test]
    fn a_zone_offset_must_be_a_time_of_day() {
        // v1 took any two digits for the offset's hours and minutes.
        for bad in ["+24:00", "-99:00", "+23:60", "+2400", "+02:0", "+02:000"] {
            let text = format!("2016-01-06T03:22:20{bad}");
            assert_eq!(Timestamp::parse(&text), None, "{text}");
        }
        assert!(Timestamp::parse("2016-01-06T03:22:20+23:59").is_some());
    }

    #[test]
    fn a_zone_offset_may_omit_its_colon() {
        // Keystone's parser took `+0200`; v1's refused it.
        let basic = Timestamp::parse("2016-01-06T05:22:20+0200").unwrap();
        let extended = Timestamp::parse("2016-01-06T05:22:20+02:00").unwrap();
        assert_eq!(basic.epoch_millis(), extended.epoch_millis());
        let utc = Timestamp::parse("2016-01-06T03:22:20-0000").unwrap();
        assert_eq!(utc.utc_seconds().as_deref(), Some("2016-01-06T03:22:20Z"));
    }

    #[test]
    fn surrounding_whitespace_is_refused() {
        // Keystone's parser trimmed it; v1's refused it.
        for bad in [
            " 2016-01-06T03:22:20Z",
            "2016-01-06T03:22:20Z ",
            "\t2016-01-06T03:22:20",
        ] {
            assert_eq!(Timestamp::parse(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn utc_timestamps_take_v2_form() {
        for (text, v2) in [
            ("2016-01-06T03:22:20.000000", Some("2016-01-06T03:22:20Z")),
            ("2016-01-06 03:22:20", Some("2016-01-06T03:22:20Z")),
            ("2016-01-06T03:22:20+00:00", Some("2016-01-06T03:22:20Z")),
            ("2016-01-06T03:22:20z", Some("2016-01-06T03:22:20Z")),
            ("2016-01-06T03:22:20+02:00", None),
        ] {
            assert_eq!(
                Timestamp::parse(text).unwrap().utc_seconds().as_deref(),
                v2,
                "{text}"
            );
        }
    }
}
