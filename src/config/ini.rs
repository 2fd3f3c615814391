//! The oslo.config INI dialect: sections, options, continuation lines.
//!
//! This is a pure function from text to a table of raw values, each with the
//! file and line it came from; interpolation (`$name`) happens later, on the
//! values that are actually read (see `interp.rs`), as oslo.config does. The
//! rules follow `oslo_config.iniparser`:
//!
//! - `[name]` starts a section. Section names are lower-cased, except
//!   `DEFAULT`, so `[Glance]` is `[glance]` but `[default]` is not `[DEFAULT]`.
//! - `key = value` or `key: value`, split at the first `=` or `:`; key and value
//!   are trimmed, and one pair of matching quotes around the value is removed.
//! - A line that starts with a space or tab continues the value above it; the
//!   parts are joined with `\n`. A blank line ends the value.
//! - `#` and `;` start a full-line comment (indented too: unlike oslo, an
//!   indented `#` line is a comment, never part of a value). There are no
//!   inline comments: `a = b # c` sets `a` to `b # c`.
//! - A key repeated in a file, or in a later file, replaces the earlier value.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::rc::Rc;

use crate::error::Error;

/// Where a value was written: file (none for text given directly) and
/// 1-based line. Line 0 marks a built-in default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Location {
    pub(crate) file: Option<Rc<Path>>,
    pub(crate) line: usize,
}

impl Location {
    /// The location of a value no file set (a built-in default).
    pub(crate) fn builtin() -> Location {
        Location {
            file: None,
            line: 0,
        }
    }

    /// The location of a default Nova itself has (`state_path`), which
    /// may be used without a word.
    pub(crate) fn quiet_default() -> Location {
        Location {
            file: None,
            line: usize::MAX,
        }
    }

    /// Whether no file set the value (a built-in or quiet default).
    pub(crate) fn is_builtin(&self) -> bool {
        self.line == 0 || self.line == usize::MAX
    }

    /// Whether using the value deserves the reader's built-in warning.
    pub(crate) fn warns_when_used(&self) -> bool {
        self.line == 0
    }

    /// A configuration error at this location.
    pub(crate) fn error(&self, message: impl Into<String>) -> Error {
        Error::Config {
            file: self.file.as_deref().map(Path::to_path_buf),
            line: (!self.is_builtin()).then_some(self.line),
            message: message.into(),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (_, 0 | usize::MAX) => f.write_str("default"),
            (Some(file), line) => write!(f, "{}:{line}", file.display()),
            (None, line) => write!(f, "line {line}"),
        }
    }
}

/// One option's raw (not yet interpolated) value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) raw: String,
    pub(crate) at: Location,
}

/// One section: where it was first opened, and its options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Section {
    pub(crate) at: Location,
    pub(crate) entries: BTreeMap<String, Entry>,
}

/// Every section and option of one or more files, later values winning.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Ini {
    sections: BTreeMap<String, Section>,
}

/// oslo.config's group-name rule: `DEFAULT` as is, anything else lower-cased.
pub(crate) fn normalize_section(name: &str) -> String {
    if name == "DEFAULT" {
        name.to_string()
    } else {
        name.to_lowercase()
    }
}

/// An option being read: its key, the lines of its value so far, and where it started.
struct Pending {
    section: String,
    key: String,
    parts: Vec<String>,
    at: Location,
}

impl Ini {
    /// Parses one file's text. `file` names it in locations (none for a string).
    pub(crate) fn parse(text: &str, file: Option<Rc<Path>>) -> Result<Ini, Error> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut ini = Ini::default();
        let mut section: Option<String> = None;
        let mut pending: Option<Pending> = None;
        for (index, line) in text.lines().enumerate() {
            let at = Location {
                file: file.clone(),
                line: index + 1,
            };
            let line = line.trim_end();
            let content = line.trim_start();
            if content.is_empty() {
                ini.flush(pending.take());
                continue;
            }
            if content.starts_with(['#', ';']) {
                continue;
            }
            if line.starts_with([' ', '\t']) {
                match pending.as_mut() {
                    Some(p) => p.parts.push(content.to_string()),
                    None => {
                        return Err(at.error(
                            "continuation line (it starts with a space) without an option above it",
                        ));
                    }
                }
                continue;
            }
            ini.flush(pending.take());
            if let Some(rest) = line.strip_prefix('[') {
                let Some(name) = rest.strip_suffix(']') else {
                    return Err(at.error(format!("section header {line:?} must end with \"]\"")));
                };
                let name = name.trim();
                if name.is_empty() {
                    return Err(at.error("empty section name \"[]\""));
                }
                let name = normalize_section(name);
                ini.sections.entry(name.clone()).or_insert_with(|| Section {
                    at: at.clone(),
                    entries: BTreeMap::new(),
                });
                section = Some(name);
                continue;
            }
            let (key, value) = split_key_value(line).ok_or_else(|| {
                at.error(format!(
                    "{line:?}: expected \"key = value\", a [section] header or a comment"
                ))
            })?;
            if key.is_empty() {
                return Err(at.error(format!("{line:?}: empty option name")));
            }
            let Some(section) = &section else {
                return Err(at.error(format!("option {key:?} comes before any [section] header")));
            };
            pending = Some(Pending {
                section: section.clone(),
                key: key.to_string(),
                parts: vec![value.to_string()],
                at,
            });
        }
        ini.flush(pending);
        Ok(ini)
    }

    fn flush(&mut self, pending: Option<Pending>) {
        let Some(p) = pending else { return };
        let entry = Entry {
            raw: p.parts.join("\n"),
            at: p.at,
        };
        if let Some(section) = self.sections.get_mut(&p.section) {
            section.entries.insert(p.key, entry);
        }
    }

    /// Lays `later` over `self`, option by option, as a later `--config-file`
    /// does. A section keeps the location where it was first opened.
    pub(crate) fn merge(&mut self, later: Ini) {
        for (name, section) in later.sections {
            match self.sections.get_mut(&name) {
                Some(mine) => mine.entries.extend(section.entries),
                None => {
                    self.sections.insert(name, section);
                }
            }
        }
    }

    /// A section by its (normalized) name.
    pub(crate) fn section(&self, name: &str) -> Option<&Section> {
        self.sections.get(name)
    }

    /// The raw value of `[section] key`, if set.
    pub(crate) fn raw(&self, section: &str, key: &str) -> Option<&Entry> {
        self.sections.get(section)?.entries.get(key)
    }

    /// Whether `[section] key` is set by a file (built-in defaults do not count).
    pub(crate) fn is_set(&self, section: &str, key: &str) -> bool {
        self.raw(section, key).is_some_and(|e| !e.at.is_builtin())
    }

    /// Sets a built-in default for `[section] key` unless a file set it;
    /// using it makes the reader warn once.
    pub(crate) fn set_builtin(&mut self, section: &str, key: &str, value: &str) {
        self.set_default(section, key, value, Location::builtin());
    }

    /// Sets a default Nova has for `[section] key` unless a file set it,
    /// used without a warning (`$state_path`).
    pub(crate) fn set_quiet_default(&mut self, section: &str, key: &str, value: &str) {
        self.set_default(section, key, value, Location::quiet_default());
    }

    fn set_default(&mut self, section: &str, key: &str, value: &str, at: Location) {
        let section = self
            .sections
            .entry(section.to_string())
            .or_insert_with(|| Section {
                at: Location::builtin(),
                entries: BTreeMap::new(),
            });
        section
            .entries
            .entry(key.to_string())
            .or_insert_with(|| Entry {
                raw: value.to_string(),
                at,
            });
    }
}

/// Splits at the first `=` or `:`, trims both sides and removes one pair of
/// matching quotes around the value.
fn split_key_value(line: &str) -> Option<(&str, &str)> {
    let split = line.find(['=', ':'])?;
    let key = line[..split].trim();
    let mut value = line[split + 1..].trim();
    for quote in ['"', '\''] {
        if value.len() >= 2 && value.starts_with(quote) && value.ends_with(quote) {
            value = &value[1..value.len() - 1];
            break;
        }
    }
    Some((key, value))
}

/// A path for [`Location`]s, shared by every value of one file.
pub(crate) fn file_name(path: &Path) -> Rc<Path> {
    Rc::from(PathBuf::from(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Ini {
        Ini::parse(text, None).unwrap()
    }

    fn value(ini: &Ini, section: &str, key: &str) -> Option<(String, usize)> {
        ini.raw(section, key).map(|e| (e.raw.clone(), e.at.line))
    }

    fn error_of(text: &str) -> (Option<usize>, String) {
        match Ini::parse(text, None) {
            Err(Error::Config { line, message, .. }) => (line, message),
            other => panic!("expected a config error for {text:?}, got {other:?}"),
        }
    }

    #[test]
    fn equals_and_colon_both_assign_and_the_first_one_splits() {
        let ini = parse("[glance]\na = 1\nb: 2\nc = http://x:9292\nd: e=f\n");
        assert_eq!(value(&ini, "glance", "a"), Some(("1".into(), 2)));
        assert_eq!(value(&ini, "glance", "b"), Some(("2".into(), 3)));
        assert_eq!(
            value(&ini, "glance", "c"),
            Some(("http://x:9292".into(), 4))
        );
        assert_eq!(value(&ini, "glance", "d"), Some(("e=f".into(), 5)));
    }

    #[test]
    fn comments_and_blank_lines_are_skipped_but_inline_hashes_are_kept() {
        let ini = parse("# top\n; semi\n[s]\n  # indented\n\nk = v # not a comment\n");
        assert_eq!(value(&ini, "s", "k"), Some(("v # not a comment".into(), 6)));
    }

    #[test]
    fn continuation_lines_join_with_newlines_until_a_blank_line() {
        let ini = parse("[s]\nk = a,\n    b,\n\tc\n\nj = 1\n");
        assert_eq!(value(&ini, "s", "k"), Some(("a,\nb,\nc".into(), 2)));
        assert_eq!(value(&ini, "s", "j"), Some(("1".into(), 6)));
    }

    #[test]
    fn a_comment_inside_a_continued_value_is_not_part_of_it() {
        let ini = parse("[s]\nk = a,\n  # b,\n  c\n");
        assert_eq!(value(&ini, "s", "k"), Some(("a,\nc".into(), 2)));
    }

    #[test]
    fn matching_quotes_are_removed_once() {
        let ini = parse("[s]\na = \"x y\"\nb = 'z'\nc = \"half\nd = \"\"\"\ne = \"\n");
        assert_eq!(value(&ini, "s", "a").unwrap().0, "x y");
        assert_eq!(value(&ini, "s", "b").unwrap().0, "z");
        assert_eq!(value(&ini, "s", "c").unwrap().0, "\"half");
        assert_eq!(value(&ini, "s", "d").unwrap().0, "\"");
        assert_eq!(value(&ini, "s", "e").unwrap().0, "\"");
    }

    #[test]
    fn later_keys_win_and_sections_reopen() {
        let ini = parse("[s]\nk = 1\n[t]\nk = 9\n[s]\nk = 2\n");
        assert_eq!(value(&ini, "s", "k"), Some(("2".into(), 6)));
        assert_eq!(ini.section("s").unwrap().at.line, 1);
    }

    #[test]
    fn section_names_are_lowercased_except_default() {
        let ini = parse("[DEFAULT]\na = 1\n[default]\nb = 2\n[ Glance ]\nc = 3\n");
        assert!(ini.raw("DEFAULT", "a").is_some());
        assert!(ini.raw("DEFAULT", "b").is_none());
        assert!(ini.raw("default", "b").is_some());
        assert!(ini.raw("glance", "c").is_some());
    }

    #[test]
    fn crlf_and_a_byte_order_mark_are_accepted() {
        let ini = parse("\u{feff}[s]\r\nk = v\r\n");
        assert_eq!(value(&ini, "s", "k"), Some(("v".into(), 2)));
    }

    #[test]
    fn empty_values_are_values() {
        let ini = parse("[s]\nk =\n");
        assert_eq!(value(&ini, "s", "k"), Some((String::new(), 2)));
    }

    #[test]
    fn malformed_lines_are_errors_with_their_line() {
        assert_eq!(error_of("[s]\nk = 1\n\n  orphan\n").0, Some(4));
        assert_eq!(error_of("  x = 1\n").0, Some(1));
        let (line, message) = error_of("[s]\n[t\n");
        assert_eq!(line, Some(2));
        assert!(message.contains("must end with"), "{message}");
        assert!(error_of("[]\n").1.contains("empty section name"));
        assert!(error_of("[s]\n= v\n").1.contains("empty option name"));
        let (line, message) = error_of("[s]\na = 1\njunk\n");
        assert_eq!(line, Some(3));
        assert!(message.contains("expected \"key = value\""), "{message}");
        let (line, message) = error_of("# c\nk = v\n");
        assert_eq!(line, Some(2));
        assert!(message.contains("before any [section]"), "{message}");
    }

    #[test]
    fn merge_overrides_option_by_option() {
        let mut first = parse("[s]\na = 1\nb = 1\n");
        first.merge(parse("[s]\nb = 2\n[t]\nc = 3\n"));
        assert_eq!(value(&first, "s", "a").unwrap().0, "1");
        assert_eq!(value(&first, "s", "b").unwrap().0, "2");
        assert_eq!(value(&first, "t", "c").unwrap().0, "3");
    }

    #[test]
    fn builtin_defaults_do_not_replace_file_values() {
        let mut ini = parse("[DEFAULT]\nmy_ip = 10.0.0.1\n");
        ini.set_builtin("DEFAULT", "my_ip", "127.0.0.1");
        ini.set_builtin("DEFAULT", "other", "x");
        assert_eq!(value(&ini, "DEFAULT", "my_ip").unwrap().0, "10.0.0.1");
        assert!(ini.is_set("DEFAULT", "my_ip"));
        assert!(!ini.is_set("DEFAULT", "other"));
    }
}
