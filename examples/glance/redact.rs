//! Credentials written into a URL (`http://user:password@host`) never reach
//! the tool's output: every URL it prints, and every message and log line on
//! stderr, goes through [`text`] first.
//!
//! The library refuses such a server URL, but only when the client is built:
//! `config-check` prints the configuration before that, and the refusal, the
//! missing-scheme warning and a Keystone URL in an error may all quote it.

/// `text` with the user information of every URL-like word replaced by
/// `***`: `http://demo:pw@h:9292/v2` becomes `http://***@h:9292/v2`, and a
/// URL without a scheme, `demo:pw@h:9292`, becomes `***@h:9292`. The rules
/// are the library's ([`glance_client::redact_credentials`]), the same as
/// in its own messages.
pub fn text(text: &str) -> String {
    glance_client::redact_credentials(text)
}

/// Each of `urls` through [`text`].
pub fn all(urls: &[String]) -> Vec<String> {
    urls.iter().map(|u| text(u)).collect()
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
