//! Credentials written into a URL (`http://user:password@host`) never reach
//! the tool's output: every URL it prints, and every message and log line on
//! stderr, goes through [`text`] first.
//!
//! The library refuses such a server URL, but only when the client is built:
//! `config-check` prints the configuration before that, and the refusal, the
//! missing-scheme warning and a Keystone URL in an error may all quote it.

/// What replaces the user information of a URL.
const HIDDEN: &str = "***";

/// `text` with the user information of every URL-like word replaced by
/// `***`: `http://demo:pw@h:9292/v2` becomes `http://***@h:9292/v2`, and a
/// URL without a scheme, `demo:pw@h:9292`, becomes `***@h:9292`.
///
/// A word ends at whitespace, a quote, a bracket that is not part of an IPv6
/// host, a comma or a semicolon; its user information is everything before
/// the last `@` of its authority (which ends at the first `/`, `?` or `#`),
/// as URL parsers read it.
pub fn text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    for c in text.chars() {
        if is_separator(c) {
            out.push_str(&word_without_userinfo(&word));
            word.clear();
            out.push(c);
        } else {
            word.push(c);
        }
    }
    out.push_str(&word_without_userinfo(&word));
    out
}

/// Each of `urls` through [`text`].
pub fn all(urls: &[String]) -> Vec<String> {
    urls.iter().map(|u| text(u)).collect()
}

fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>' | '(' | ')' | ',' | ';')
}

fn word_without_userinfo(word: &str) -> String {
    let start = word.find("://").map_or(0, |i| i + 3);
    let rest = &word[start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}{HIDDEN}{}", &word[..start], &rest[at..]),
        None => word.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::text;

    #[test]
    fn user_information_is_hidden_in_urls_with_and_without_a_scheme() {
        for (given, shown) in [
            ("http://demo:pw@h:9292/v2", "http://***@h:9292/v2"),
            ("https://demo@h", "https://***@h"),
            ("demo:p@ss@h:9292", "***@h:9292"),
            ("http://u:p@[::1]:9292", "http://***@[::1]:9292"),
            (
                "api server \"u:pw@h\" has no scheme; using \"http://u:pw@h\"",
                "api server \"***@h\" has no scheme; using \"http://***@h\"",
            ),
            (
                "api_servers = http://a:1@h1, http://b:2@h2",
                "api_servers = http://***@h1, http://***@h2",
            ),
        ] {
            assert_eq!(text(given), shown, "{given}");
        }
    }

    #[test]
    fn text_without_user_information_is_unchanged() {
        for given in [
            "",
            "http://127.0.0.1:9292/v2/images?marker=a@b",
            "/srv/images/user@host/x",
            "image e54e8577 not found (request id req-1)",
            "GET http://h/v2/images/x -> 200",
        ] {
            assert_eq!(text(given), given);
        }
    }
}
