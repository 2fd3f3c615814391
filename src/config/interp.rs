//! oslo.config value interpolation: `$name`, `${name}`, `${section.name}`.
//!
//! - `$name` looks in the value's own section, then in `[DEFAULT]`;
//!   `$section.name` and `${section.name}` look in that section only.
//!   A name is a letter or `_` followed by letters, digits, `_` and `.`
//!   (a trailing `.` is left as text).
//! - `$$` and `\$` are a literal `$`; a `$` not followed by a name or `{`
//!   stays as it is (oslo's `safe_substitute`).
//! - Referenced values are interpolated in turn, in their own section.
//!   Errors: an unterminated `${`, a malformed `${...}`, a name that is not
//!   set, a cycle, nesting deeper than [`MAX_DEPTH`], or a result longer than
//!   [`MAX_LEN`] bytes.
//!
//! Each referenced option is expanded once per lookup and remembered, so
//! the work stays linear in the size of the input even for hostile files.

use std::collections::BTreeMap;

use super::ini::{Entry, Ini, Location, normalize_section};
use crate::error::Error;

/// Deepest chain of references followed (`a` -> `b` -> ... ).
pub(crate) const MAX_DEPTH: usize = 32;
/// Longest interpolated value, in bytes.
pub(crate) const MAX_LEN: usize = 64 * 1024;

/// An interpolated value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Expanded {
    pub(crate) text: String,
    /// Whether a built-in default (not a file) supplied part of it.
    pub(crate) used_builtin: bool,
}

impl Ini {
    /// The interpolated value of `[section] key`, if set.
    pub(crate) fn expanded(&self, section: &str, key: &str) -> Result<Option<Expanded>, Error> {
        let Some(entry) = self.raw(section, key) else {
            return Ok(None);
        };
        let origin = label(section, key);
        let mut x = Expander::new(self, origin.clone());
        x.stack.push((section.to_string(), key.to_string()));
        let text = x.expand(section, &origin, entry, 0)?;
        Ok(Some(Expanded {
            text,
            used_builtin: x.used_builtin || entry.at.warns_when_used(),
        }))
    }

    /// Interpolates text that no file holds (an option's default), as if it
    /// were written in `section` at `at`; `what` names it in errors.
    pub(crate) fn expand_text(
        &self,
        section: &str,
        what: &str,
        raw: &str,
        at: &Location,
    ) -> Result<Expanded, Error> {
        let entry = Entry {
            raw: raw.to_string(),
            at: at.clone(),
        };
        let mut x = Expander::new(self, what.to_string());
        let text = x.expand(section, what, &entry, 0)?;
        Ok(Expanded {
            text,
            used_builtin: x.used_builtin,
        })
    }
}

fn label(section: &str, key: &str) -> String {
    format!("[{section}] {key}")
}

/// Whether the option `label` (`[section] key`) holds a secret, whose value
/// (and the names a `$` in it seems to refer to) must not reach a message:
/// a password with a `$` in it is the likeliest interpolation error of all.
fn is_secret(label: &str) -> bool {
    let key = label
        .rsplit(' ')
        .next()
        .unwrap_or(label)
        .to_ascii_lowercase();
    ["password", "secret", "token", "passwd"]
        .iter()
        .any(|word| key.contains(word))
}

/// How a message quotes the raw value of `what`.
fn quoted(what: &str, raw: &str) -> String {
    if is_secret(what) {
        "the value (not shown: it is a secret; write $$ for a literal $)".to_string()
    } else {
        format!("{raw:?}")
    }
}

struct Expander<'a> {
    ini: &'a Ini,
    /// The option being read, for messages.
    origin: String,
    /// References being expanded, outermost first.
    stack: Vec<(String, String)>,
    done: BTreeMap<(String, String), String>,
    used_builtin: bool,
}

impl<'a> Expander<'a> {
    fn new(ini: &'a Ini, origin: String) -> Expander<'a> {
        Expander {
            ini,
            origin,
            stack: Vec::new(),
            done: BTreeMap::new(),
            used_builtin: false,
        }
    }

    /// An error in the value `what` (written at `at`) while reading `origin`.
    fn error(&self, at: &Location, what: &str, problem: String) -> Error {
        if what == self.origin {
            at.error(format!("{what}: {problem}"))
        } else {
            at.error(format!("{} (through {what}): {problem}", self.origin))
        }
    }

    /// Expands `entry` (the value of `what`) in `section`.
    fn expand(
        &mut self,
        section: &str,
        what: &str,
        entry: &Entry,
        depth: usize,
    ) -> Result<String, Error> {
        let raw = entry.raw.as_str();
        let bytes = raw.as_bytes();
        let mut out = String::new();
        let mut copied = 0; // raw[copied..i] is plain text not yet copied
        let mut i = 0;
        while i < bytes.len() {
            let next = bytes.get(i + 1).copied();
            let (name, end) = match (bytes[i], next) {
                (b'\\', Some(b'$')) | (b'$', Some(b'$')) => {
                    out.push_str(&raw[copied..i]);
                    out.push('$');
                    i += 2;
                    copied = i;
                    continue;
                }
                (b'$', Some(b'{')) => {
                    let Some(close) = raw[i + 2..].find('}') else {
                        return Err(self.error(
                            &entry.at,
                            what,
                            format!(
                                "unterminated \"${{\" in {}: expected ${{name}} or ${{section.name}}",
                                quoted(what, raw)
                            ),
                        ));
                    };
                    let name = &raw[i + 2..i + 2 + close];
                    if !is_name(name) || name.ends_with('.') {
                        let reference = if is_secret(what) {
                            "a \"${...}\"".to_string()
                        } else {
                            format!("\"${{{name}}}\"")
                        };
                        return Err(self.error(
                            &entry.at,
                            what,
                            format!(
                                "{reference} in {} is not a valid reference: expected ${{name}} or ${{section.name}}",
                                quoted(what, raw)
                            ),
                        ));
                    }
                    (name, i + 3 + close)
                }
                (b'$', Some(c)) if c == b'_' || c.is_ascii_alphabetic() => {
                    let len = raw[i + 1..]
                        .bytes()
                        .take_while(|&c| c == b'_' || c == b'.' || c.is_ascii_alphanumeric())
                        .count();
                    let name = raw[i + 1..i + 1 + len].trim_end_matches('.');
                    (name, i + 1 + name.len())
                }
                _ => {
                    i += 1;
                    continue;
                }
            };
            out.push_str(&raw[copied..i]);
            let value = self.resolve(section, what, entry, name, depth)?;
            out.push_str(&value);
            i = end;
            copied = i;
            if out.len() > MAX_LEN {
                return Err(self.too_long(entry, what));
            }
        }
        out.push_str(&raw[copied..]);
        if out.len() > MAX_LEN {
            return Err(self.too_long(entry, what));
        }
        Ok(out)
    }

    fn too_long(&self, entry: &Entry, what: &str) -> Error {
        self.error(
            &entry.at,
            what,
            format!("interpolated value is longer than {MAX_LEN} bytes"),
        )
    }

    /// The expanded value `name` refers to, from a value of `section`.
    fn resolve(
        &mut self,
        section: &str,
        what: &str,
        from: &Entry,
        name: &str,
        depth: usize,
    ) -> Result<String, Error> {
        let candidates = match name.split_once('.') {
            Some((group, key)) => vec![(normalize_section(group), key.to_string())],
            None if section == "DEFAULT" => vec![(section.to_string(), name.to_string())],
            None => vec![
                (section.to_string(), name.to_string()),
                ("DEFAULT".to_string(), name.to_string()),
            ],
        };
        let found = candidates
            .iter()
            .find_map(|(s, k)| self.ini.raw(s, k).map(|e| (s, k, e)));
        let Some((ref_section, ref_key, entry)) = found else {
            let places: Vec<String> = candidates.iter().map(|(s, _)| format!("[{s}]")).collect();
            let message = if is_secret(what) {
                "a \"$\" in the value (not shown: it is a secret) refers to an option \
                 that is not set; write $$ for a literal $"
                    .to_string()
            } else {
                format!(
                    "${name} refers to an option that is not set (looked in {})",
                    places.join(" and ")
                )
            };
            return Err(self.error(&from.at, what, message));
        };
        let id = (ref_section.clone(), ref_key.clone());
        if let Some(done) = self.done.get(&id) {
            return Ok(done.clone());
        }
        if self.stack.contains(&id) {
            let mut chain: Vec<String> = self.stack.iter().map(|(s, k)| label(s, k)).collect();
            chain.push(label(ref_section, ref_key));
            return Err(self.error(
                &from.at,
                what,
                format!("circular interpolation: {}", chain.join(" -> ")),
            ));
        }
        if depth + 1 >= MAX_DEPTH {
            return Err(self.error(
                &from.at,
                what,
                format!("interpolation nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        if entry.at.warns_when_used() {
            self.used_builtin = true;
        }
        let ref_label = label(ref_section, ref_key);
        self.stack.push(id.clone());
        let value = self.expand(ref_section, &ref_label, entry, depth + 1)?;
        self.stack.pop();
        self.done.insert(id, value.clone());
        Ok(value)
    }
}

fn is_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|c| c == b'_' || c.is_ascii_alphabetic())
        && bytes.all(|c| c == b'_' || c == b'.' || c.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(text: &str, section: &str, key: &str) -> Result<String, Error> {
        let ini = Ini::parse(text, None).unwrap();
        Ok(ini.expanded(section, key)?.unwrap().text)
    }

    fn error_of(text: &str, section: &str, key: &str) -> (Option<usize>, String) {
        match get(text, section, key) {
            Err(Error::Config { line, message, .. }) => (line, message),
            other => panic!("expected an interpolation error, got {other:?}"),
        }
    }

    #[test]
    fn secret_values_never_appear_in_errors() {
        for text in [
            "[glance]\npassword = Sup3rS3cret${x\n",
            "[glance]\npassword = Sup3r$S3cret\n",
            "[glance]\npassword = Sup3r${S3 cret}\n",
            "[glance]\napplication_credential_secret = Sup3r$S3cret\n",
            "[glance]\ntoken = Sup3rS3cret${q\n",
        ] {
            let key = text
                .lines()
                .nth(1)
                .and_then(|l| l.split(' ').next())
                .unwrap();
            let (_, message) = error_of(text, "glance", key);
            assert!(!message.contains("S3"), "secret echoed: {message}");
            assert!(message.contains(key), "names the option: {message}");
            assert!(message.contains("$$"), "says how to write a $: {message}");
        }
        // Other options still quote their value, which helps.
        let (_, message) = error_of("[glance]\nhost = a$b\n", "glance", "host");
        assert!(message.contains("$b"), "{message}");
    }

    #[test]
    fn names_resolve_in_their_section_then_default() {
        let text = "[DEFAULT]\nip = 10.0.0.1\nport = 1\n[glance]\nport = 9292\n\
                    a = $ip:$port\nb = ${ip}x\nc = ${DEFAULT.port}\nd = $glance.port\n";
        assert_eq!(get(text, "glance", "a").unwrap(), "10.0.0.1:9292");
        assert_eq!(get(text, "glance", "b").unwrap(), "10.0.0.1x");
        assert_eq!(get(text, "glance", "c").unwrap(), "1");
        assert_eq!(get(text, "glance", "d").unwrap(), "9292");
    }

    #[test]
    fn references_expand_in_their_own_section() {
        let text = "[DEFAULT]\nbase = /srv\npath = $base/x\n[s]\nbase = /other\nk = $path\n";
        assert_eq!(get(text, "s", "k").unwrap(), "/srv/x");
    }

    #[test]
    fn dollar_escapes_and_lone_dollars_stay_literal() {
        let text = "[s]\na = $$HOME \\$x 5$ $1 $-\nb = $a.\n";
        assert_eq!(get(text, "s", "a").unwrap(), "$HOME $x 5$ $1 $-");
        assert_eq!(get(text, "s", "b").unwrap(), "$HOME $x 5$ $1 $-.");
    }

    #[test]
    fn unicode_around_references_is_kept() {
        let text = "[s]\nn = ü\nk = é$n€${n}\n";
        assert_eq!(get(text, "s", "k").unwrap(), "éü€ü");
    }

    #[test]
    fn unterminated_and_malformed_references_are_errors() {
        let (line, message) = error_of("[s]\n\nk = ${ip\n", "s", "k");
        assert_eq!(line, Some(3));
        assert!(
            message.starts_with("[s] k: unterminated \"${\""),
            "{message}"
        );
        let (_, message) = error_of("[s]\nk = ${}\n", "s", "k");
        assert!(message.contains("not a valid reference"), "{message}");
        let (_, message) = error_of("[s]\nk = ${a b}\n", "s", "k");
        assert!(message.contains("not a valid reference"), "{message}");
    }

    #[test]
    fn an_error_in_a_referenced_value_points_at_that_value() {
        let (line, message) = error_of("[DEFAULT]\nbad = ${x\n[s]\nk = $bad\n", "s", "k");
        assert_eq!(line, Some(2));
        assert!(
            message.starts_with("[s] k (through [DEFAULT] bad): unterminated"),
            "{message}"
        );
    }

    #[test]
    fn unset_names_are_errors() {
        let (line, message) = error_of("[s]\nk = $nope\n", "s", "k");
        assert_eq!(line, Some(2));
        assert_eq!(
            message,
            "[s] k: $nope refers to an option that is not set (looked in [s] and [DEFAULT])"
        );
    }

    #[test]
    fn cycles_are_errors_naming_the_chain() {
        let text = "[DEFAULT]\na = $b\nb = x$a\n[s]\nk = $a\n";
        let (line, message) = error_of(text, "s", "k");
        assert_eq!(line, Some(3));
        assert_eq!(
            message,
            "[s] k (through [DEFAULT] b): circular interpolation: \
             [s] k -> [DEFAULT] a -> [DEFAULT] b -> [DEFAULT] a"
        );
        let (line, message) = error_of("[s]\nk = $k\n", "s", "k");
        assert_eq!(line, Some(2));
        assert_eq!(message, "[s] k: circular interpolation: [s] k -> [s] k");
    }

    #[test]
    fn deep_chains_are_cut_off() {
        let mut text = String::from("[s]\n");
        for n in 0..100 {
            text.push_str(&format!("v{n} = $v{}\n", n + 1));
        }
        text.push_str("v100 = end\n");
        let (_, message) = error_of(&text, "s", "v0");
        assert!(message.contains("deeper than 32"), "{message}");
        assert_eq!(get(&text, "s", "v80").unwrap(), "end");
    }

    #[test]
    fn exponential_expansion_is_cut_off_by_length() {
        let mut text = String::from("[s]\nv0 = xxxxxxxxxxxxxxxx\n");
        for n in 1..30 {
            text.push_str(&format!("v{n} = $v{p}$v{p}\n", p = n - 1));
        }
        let (_, message) = error_of(&text, "s", "v29");
        assert!(message.contains("longer than 65536 bytes"), "{message}");
    }

    #[test]
    fn many_empty_references_cost_linear_work() {
        // 30 levels of 8 references each would be 8^30 visits without memoization.
        let mut text = String::from("[s]\nv0 =\n");
        for n in 1..30 {
            text.push_str(&format!("v{n} = {}\n", format!("$v{}", n - 1).repeat(8)));
        }
        assert_eq!(get(&text, "s", "v29").unwrap(), "");
    }

    #[test]
    fn text_without_a_file_can_be_expanded() {
        let ini = Ini::parse("[DEFAULT]\nmy_ip = ::1\n", None).unwrap();
        let at = Location::builtin();
        let x = ini
            .expand_text("glance", "[glance] host", "$my_ip", &at)
            .unwrap();
        assert_eq!(x.text, "::1");
        assert!(!x.used_builtin);
    }
}
