//! The server list, with Nova's semantics for `api_servers`: each URL checked
//! and normalised, the list shuffled once per client, then used in rotation,
//! every attempt (first or retry) moving on to the next server.

use std::sync::atomic::{AtomicUsize, Ordering};

use crate::error::{Error, Result};
use crate::urls::{check_http, redact_url};

/// Checks a server URL (the crate's one set of URL rules, see `urls`) and
/// reduces it to `scheme://host[:port][/prefix]` without a trailing slash or
/// a version suffix (`/v2`, `/v1`, `/v2.1`).
///
/// An entry without a scheme gets `http://` and a warning, as in Nova.
/// Credentials in the URL are refused before anything is logged, and no
/// message shows the URL's user information.
pub(crate) fn normalize_server(raw: &str) -> Result<String> {
    normalize_url(raw, "api server")
}

/// [`normalize_server`] for the base URL of another service, `what` in
/// messages (e.g. `barbican_endpoint`).
pub(crate) fn normalize_url(raw: &str, what: &str) -> Result<String> {
    let trimmed = raw.trim();
    let schemeless = !trimmed.is_empty() && !trimmed.contains("://");
    let with_scheme;
    let text = if schemeless {
        with_scheme = format!("http://{trimmed}");
        with_scheme.as_str()
    } else {
        trimmed
    };
    let url = check_http(text).map_err(|why| Error::Config {
        file: None,
        line: None,
        message: format!("{what} {:?} {why}", redact_url(trimmed)),
    })?;
    if schemeless {
        // Only now: the entry is known to hold no credentials.
        log::warn!(
            "{what} {trimmed:?} has no scheme; using {text:?} \
             (write the full URL, with http:// or https://)"
        );
    }
    let mut s = url.as_str().trim_end_matches('/').to_string();
    if let Some(i) = s.rfind('/') {
        let last = &s[i + 1..];
        let is_version = last.len() >= 2
            && last.starts_with('v')
            && last[1..]
                .split('.')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
        if is_version && i > s.find("//").map_or(0, |j| j + 1) {
            s.truncate(i);
        }
    }
    Ok(s)
}

/// Fisher-Yates with std's per-process random hash keys as the entropy
/// source (no `rand` dependency for one shuffle).
pub(crate) fn shuffle<T>(items: &mut [T]) {
    use std::hash::{BuildHasher, Hasher};
    for i in (1..items.len()).rev() {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_usize(i);
        let j = (h.finish() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

/// The rotation through `len` servers, shared by every call of a client.
///
/// Like Nova's `itertools.cycle`, each attempt takes the next server. A call
/// reserves its first server and then walks on from it, so that its retries
/// visit distinct servers even while other threads use the same client.
#[derive(Debug)]
pub(crate) struct Rotation {
    cursor: AtomicUsize,
    len: usize,
}

impl Rotation {
    pub(crate) fn new(len: usize) -> Rotation {
        Rotation {
            cursor: AtomicUsize::new(0),
            len: len.max(1),
        }
    }

    /// Starts a call; its attempts are `start`, `start + 1`, ... (see [`Rotation::server`]).
    pub(crate) fn start(&self) -> usize {
        self.cursor.fetch_add(1, Ordering::Relaxed)
    }

    /// The server index of attempt `attempt` (0-based) of the call that began
    /// at `start`. A further attempt also moves the shared rotation on, so the
    /// next call starts after the last server this one tried.
    pub(crate) fn server(&self, start: usize, attempt: usize) -> usize {
        if attempt > 0 {
            self.cursor.fetch_add(1, Ordering::Relaxed);
        }
        start.wrapping_add(attempt) % self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_that_would_trip_idna_debug_assertions_are_refused() {
        for text in ["http://%41%e1/", "http://Ab\u{e9}/", "http://u:p@h%41/"] {
            assert!(
                matches!(normalize_server(text), Err(Error::Config { .. })),
                "{text}"
            );
        }
        assert_eq!(
            normalize_server("http://glance.example:9292/image%20x").unwrap(),
            "http://glance.example:9292/image%20x"
        );
    }

    #[test]
    fn servers_are_normalized() {
        assert_eq!(normalize_server("http://h:9292").unwrap(), "http://h:9292");
        assert_eq!(normalize_server("http://h:9292/").unwrap(), "http://h:9292");
        assert_eq!(
            normalize_server(" https://h/image/v2/ ").unwrap(),
            "https://h/image"
        );
        assert_eq!(
            normalize_server("http://h:9292/v2.1").unwrap(),
            "http://h:9292"
        );
        assert_eq!(
            normalize_server("http://[::1]:9292/v1").unwrap(),
            "http://[::1]:9292"
        );
        assert_eq!(normalize_server("http://h/vx").unwrap(), "http://h/vx");
        assert_eq!(normalize_server("https://h:443").unwrap(), "https://h");
    }

    #[test]
    fn a_server_without_scheme_gets_http() {
        assert_eq!(normalize_server("h:9292").unwrap(), "http://h:9292");
        assert_eq!(normalize_server("10.0.0.1").unwrap(), "http://10.0.0.1");
    }

    #[test]
    fn unusable_servers_are_config_errors() {
        for bad in [
            "ftp://h",
            "http://",
            "http://h/?a=1",
            "http://h/#x",
            "",
            "  ",
        ] {
            assert!(
                matches!(normalize_server(bad), Err(Error::Config { .. })),
                "{bad:?} should be refused"
            );
        }
    }

    #[test]
    fn credentials_in_a_server_url_are_refused_without_echoing_them() {
        let err = normalize_server("https://admin:s3cret@h:9292").unwrap_err();
        assert!(matches!(err, Error::Config { .. }), "{err:?}");
        assert!(!err.to_string().contains("s3cret"), "{err}");
    }

    #[test]
    fn no_message_about_a_server_entry_shows_what_precedes_an_at_sign() {
        for raw in [
            "admin:s3cret@h:9292",
            "http://admin:s3cret@h:9292",
            "admin:pa//s3cret@h",
            "ftp://admin:s3cret@h",
            "http://admin:s3cret@@h",
            "http://admin:s3cret@h/?q=1",
            "http://admin:s3cret@%41%e1/",
        ] {
            let err = normalize_server(raw).unwrap_err();
            assert!(matches!(err, Error::Config { .. }), "{raw}: {err:?}");
            assert!(!err.to_string().contains("s3cret"), "{raw}: {err}");
            assert!(!format!("{err:?}").contains("s3cret"), "{raw}: {err:?}");
        }
    }

    #[test]
    fn shuffle_keeps_every_server() {
        let mut v: Vec<u32> = (0..10).collect();
        shuffle(&mut v);
        v.sort();
        assert_eq!(v, (0..10).collect::<Vec<_>>());
    }

    #[test]
    fn every_attempt_moves_to_the_next_server() {
        let r = Rotation::new(3);
        // First call: three attempts walk a, b, c.
        let s = r.start();
        let visited: Vec<usize> = (0..3).map(|a| r.server(s, a)).collect();
        assert_eq!(visited, [0, 1, 2]);
        // The next call starts after the last server tried, as itertools.cycle does.
        let s = r.start();
        assert_eq!(r.server(s, 0), 0);
        let s = r.start();
        assert_eq!(r.server(s, 0), 1);
    }

    #[test]
    fn retries_of_one_call_visit_distinct_servers_under_concurrency() {
        let r = Rotation::new(2);
        let mine = r.start();
        // Another thread's call interleaves.
        let _theirs = r.start();
        assert_ne!(r.server(mine, 0), r.server(mine, 1));
    }

    #[test]
    fn the_rotation_survives_a_wrapping_cursor() {
        let r = Rotation::new(3);
        assert!(r.server(usize::MAX, 1) < 3);
    }
}
