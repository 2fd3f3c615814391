//! Typed option values, following oslo.config's types, and the reader that
//! hands them out and collects warnings.

use super::ini::{Ini, Location};
use crate::error::{Error, Result};
use crate::urls::{check_http, redact_url};

/// One option's interpolated value and where it was written.
#[derive(Debug, Clone)]
pub(crate) struct Value {
    pub(crate) text: String,
    pub(crate) at: Location,
    pub(crate) section: String,
    pub(crate) key: String,
}

impl Value {
    /// `[section] key`, for messages.
    pub(crate) fn label(&self) -> String {
        format!("[{}] {}", self.section, self.key)
    }

    /// The error for a value that is not what the option takes.
    pub(crate) fn invalid(&self, expected: &str) -> Error {
        self.at.error(format!(
            "{} = {:?}: expected {expected}",
            self.label(),
            self.text
        ))
    }

    /// Checks `url`, which this option gave, as an image API or Keystone URL
    /// (the crate's one set of URL rules); the error names the option and
    /// the line, and quotes the URL without its user information.
    pub(crate) fn check_url(&self, url: &str) -> Result<()> {
        check_http(url).map(|_| ()).map_err(|why| {
            self.at
                .error(format!("{}: {:?} {why}", self.label(), redact_url(url)))
        })
    }

    /// oslo's Boolean: `true/false`, `yes/no`, `on/off`, `1/0`, any case.
    pub(crate) fn boolean(&self) -> Result<bool> {
        match self.text.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Ok(true),
            "false" | "no" | "off" | "0" => Ok(false),
            _ => Err(self.invalid("a boolean (true/false, yes/no, on/off, 1/0)")),
        }
    }

    /// oslo's Integer: optional sign and decimal digits; empty means unset.
    pub(crate) fn integer(&self) -> Result<Option<i64>> {
        let text = self.text.trim();
        if text.is_empty() {
            return Ok(None);
        }
        let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(self.invalid("an integer"));
        }
        text.parse::<i64>()
            .map(Some)
            .map_err(|_| self.invalid("an integer"))
    }

    /// An integer in `min..=max`; empty means unset.
    pub(crate) fn integer_in(&self, min: i64, max: i64, what: &str) -> Result<Option<i64>> {
        match self.integer() {
            Ok(Some(n)) if (min..=max).contains(&n) => Ok(Some(n)),
            Ok(None) => Ok(None),
            _ => Err(self.invalid(&format!("{what} from {min} to {max}"))),
        }
    }

    /// oslo's List: split on commas, items trimmed. Empty items are dropped
    /// (oslo keeps them), so a trailing comma is harmless.
    pub(crate) fn list(&self) -> Vec<String> {
        self.text
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect()
    }

    /// The trimmed text, `None` when empty.
    pub(crate) fn string(&self) -> Option<String> {
        let text = self.text.trim();
        (!text.is_empty()).then(|| text.to_string())
    }
}

/// Reads typed values from an [`Ini`], collecting warnings in order.
pub(crate) struct Reader<'a> {
    pub(crate) ini: &'a Ini,
    warnings: Vec<String>,
    /// Said once when a built-in default (not a file) fed a value.
    builtin_warning: String,
    builtin_warned: bool,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(ini: &'a Ini, builtin_warning: String) -> Reader<'a> {
        Reader {
            ini,
            warnings: Vec::new(),
            builtin_warning,
            builtin_warned: false,
        }
    }

    /// The interpolated value of `[section] key`, if a file sets it.
    pub(crate) fn get(&mut self, section: &str, key: &str) -> Result<Option<Value>> {
        let Some(entry) = self.ini.raw(section, key) else {
            return Ok(None);
        };
        let at = entry.at.clone();
        let Some(expanded) = self.ini.expanded(section, key)? else {
            return Ok(None);
        };
        if expanded.used_builtin {
            self.builtin_used(&at);
        }
        Ok(Some(Value {
            text: expanded.text,
            at,
            section: section.to_string(),
            key: key.to_string(),
        }))
    }

    /// Interpolates an option's default text as if written at `at`.
    pub(crate) fn default_value(
        &mut self,
        section: &str,
        key: &str,
        raw: &str,
        at: &Location,
    ) -> Result<Value> {
        let what = format!("[{section}] {key} (default {raw:?})");
        let expanded = self.ini.expand_text(section, &what, raw, at)?;
        if expanded.used_builtin {
            self.builtin_used(at);
        }
        Ok(Value {
            text: expanded.text,
            at: at.clone(),
            section: section.to_string(),
            key: key.to_string(),
        })
    }

    fn builtin_used(&mut self, at: &Location) {
        if !self.builtin_warned {
            self.builtin_warned = true;
            let message = self.builtin_warning.clone();
            self.warn(at, &message);
        }
    }

    /// Whether a file sets `[section] key`.
    pub(crate) fn is_set(&self, section: &str, key: &str) -> bool {
        self.ini.is_set(section, key)
    }

    /// Records a warning about the value at `at`.
    pub(crate) fn warn(&mut self, at: &Location, message: &str) {
        let warning = format!("{at}: {message}");
        if !self.warnings.contains(&warning) {
            self.warnings.push(warning);
        }
    }

    /// The warnings, each logged once.
    pub(crate) fn finish(self) -> Vec<String> {
        for warning in &self.warnings {
            log::warn!("{warning}");
        }
        self.warnings
    }
}

/// Text as it must be written in a file to read back as `text`: `$` doubled.
pub(crate) fn escape(text: &str) -> String {
    text.replace('$', "$$")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(text: &str) -> Value {
        Value {
            text: text.into(),
            at: Location {
                file: None,
                line: 7,
            },
            section: "glance".into(),
            key: "k".into(),
        }
    }

    #[test]
    fn a_url_error_names_the_option_and_never_quotes_a_password() {
        for url in [
            "http://admin:s3cret@g:9292",
            "https://u:s3cret@k.example/v3",
            "http://admin:s3cret@",
            "ftp://admin:s3cret@h",
        ] {
            let e = value(url).check_url(url).unwrap_err().to_string();
            assert!(e.starts_with("line 7: [glance] k: \""), "{e}");
            assert!(e.contains("***@"), "{e}");
            assert!(!e.contains("s3cret"), "password echoed: {e}");
        }
        assert!(value("x").check_url("http://h:9292/v2").is_ok());
    }

    #[test]
    fn booleans_take_oslo_spellings_in_any_case() {
        for t in ["true", "TRUE", "Yes", "on", "1", " true "] {
            assert!(value(t).boolean().unwrap(), "{t}");
        }
        for f in ["false", "No", "OFF", "0"] {
            assert!(!value(f).boolean().unwrap(), "{f}");
        }
        let err = value("maybe").boolean().unwrap_err().to_string();
        assert_eq!(
            err,
            "line 7: [glance] k = \"maybe\": expected a boolean (true/false, yes/no, on/off, 1/0)"
        );
        assert!(value("").boolean().is_err());
    }

    #[test]
    fn integers_take_a_sign_and_digits_only() {
        assert_eq!(value(" 42 ").integer().unwrap(), Some(42));
        assert_eq!(value("-3").integer().unwrap(), Some(-3));
        assert_eq!(value("+3").integer().unwrap(), Some(3));
        assert_eq!(value("").integer().unwrap(), None);
        for bad in ["3.0", "three", "-", "1e3", "99999999999999999999", "٣"] {
            assert!(value(bad).integer().is_err(), "{bad}");
        }
        assert!(value("0").integer_in(1, 65535, "a port").is_err());
        assert_eq!(
            value("65535").integer_in(1, 65535, "a port").unwrap(),
            Some(65535)
        );
    }

    #[test]
    fn lists_split_on_commas_and_trim() {
        assert_eq!(value(" a , b,\nc,, ").list(), vec!["a", "b", "c"]);
        assert!(value("").list().is_empty());
    }
}
