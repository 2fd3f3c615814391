//! Carries the sans-IO requests of `v1`/`v2` over ureq: picks a server,
//! adds the auth header, retries what is safe to retry on the next server.
//!
//! Logging: `debug` shows each request's method, URL, status and request id;
//! `warn` shows each failed attempt and why. Headers are never logged, so
//! the token cannot leak.

use std::io::{self, Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use ureq::http::{self, Request, Response};
use ureq::{Agent, SendBody};

use crate::config::{Auth, Config};
use crate::error::{Error, Result};
use crate::wire;

/// Whether a request may be sent again after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Repeating it cannot do harm (reads, deletes, tag and member calls,
    /// a create with a caller-chosen id).
    Safe,
    /// Repeating it might do the work twice (a create without an id, an upload
    /// from a stream that cannot be rewound).
    Never,
}

/// A request body that is not in the request itself.
pub(crate) enum Payload<'a> {
    /// A stream read once; a failed attempt cannot be repeated.
    Stream(&'a mut dyn Read),
    /// A stream that is rewound to `start` before every attempt.
    Rewindable {
        reader: &'a mut dyn ReadSeek,
        start: u64,
    },
}

/// `Read + Seek` as one object-safe trait.
pub(crate) trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

/// A response whose body is still on the wire.
pub(crate) struct Opened {
    pub(crate) response: Response<ureq::Body>,
    /// The server that answered (base URL).
    pub(crate) server: String,
}

/// The servers, the agent, the credentials and the retry policy.
#[derive(Debug)]
pub(crate) struct Transport {
    agent: Agent,
    servers: Vec<String>,
    cursor: AtomicUsize,
    attempts: u32,
    retry_delay: Duration,
    auth: Auth,
}

impl Transport {
    pub(crate) fn new(config: &Config) -> Result<Transport> {
        let mut servers = Vec::new();
        for raw in config.servers() {
            servers.push(normalize_server(&raw)?);
        }
        if servers.is_empty() {
            return Err(Error::Config {
                file: None,
                line: None,
                message: "no image API server configured (api_servers is empty)".into(),
            });
        }
        if config.shuffle_servers {
            shuffle(&mut servers);
        }
        let agent_config = Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("glance-client-rust/", env!("CARGO_PKG_VERSION")))
            .timeout_connect(config.connect_timeout)
            .timeout_per_read(config.read_timeout)
            .timeout_per_write(config.read_timeout)
            .build();
        Ok(Transport {
            agent: agent_config.new_agent(),
            servers,
            cursor: AtomicUsize::new(0),
            attempts: config.num_retries.saturating_add(1),
            retry_delay: config.retry_delay,
            auth: config.auth.clone(),
        })
    }

    /// The servers in the order they are tried.
    pub(crate) fn servers(&self) -> &[String] {
        &self.servers
    }

    /// Sends a request whose body is in the request, and reads the whole
    /// (capped) answer. Any status comes back; the caller's parser maps it.
    pub(crate) fn json(
        &self,
        request: &Request<Vec<u8>>,
        retry: Retry,
    ) -> Result<Response<Vec<u8>>> {
        self.run(request, retry, |server| {
            let response = self.send(server, request, request.body().as_slice())?;
            read_capped(server, response)
        })
    }

    /// Sends a request with a streamed body (upload, stage) and reads the answer.
    /// A plain stream is sent once; a rewindable one is retried like `retry` says.
    pub(crate) fn send_payload(
        &self,
        request: &Request<Vec<u8>>,
        mut payload: Payload<'_>,
        retry: Retry,
    ) -> Result<Response<Vec<u8>>> {
        let retry = match payload {
            Payload::Stream(_) => Retry::Never,
            Payload::Rewindable { .. } => retry,
        };
        self.run(request, retry, |server| {
            let body = match &mut payload {
                Payload::Stream(reader) => SendBody::from_reader(&mut **reader),
                Payload::Rewindable { reader, start } => {
                    reader
                        .seek(SeekFrom::Start(*start))
                        .map_err(|e| Error::io("rewinding the upload source", e))?;
                    SendBody::from_reader(&mut **reader as &mut dyn Read)
                }
            };
            let response = self.send(server, request, body)?;
            read_capped(server, response)
        })
    }

    /// Sends a request and returns the answer with its body unread, for
    /// downloads. A non-2xx answer is read (capped) and returned as its error.
    pub(crate) fn open(&self, request: &Request<Vec<u8>>, retry: Retry) -> Result<Opened> {
        self.run(request, retry, |server| {
            let response = self.send(server, request, ())?;
            if response.status().is_success() {
                return Ok(Opened {
                    response,
                    server: server.to_string(),
                });
            }
            let (parts, mut body) = response.into_parts();
            let bytes = body
                .with_config()
                .limit(64 * 1024)
                .read_to_vec()
                .unwrap_or_default();
            Err(wire::parse_error(&Response::from_parts(parts, bytes)))
        })
    }

    /// One attempt on one server.
    fn send(
        &self,
        server: &str,
        request: &Request<Vec<u8>>,
        body: impl ureq::AsSendBody,
    ) -> Result<Response<ureq::Body>> {
        let path = request
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let url = format!("{server}{path}");
        let mut builder = http::Request::builder()
            .method(request.method().clone())
            .uri(&url);
        for (name, value) in request.headers() {
            builder = builder.header(name, value);
        }
        if let Auth::Token(token) = &self.auth {
            builder = builder.header("x-auth-token", token);
        }
        let outgoing = builder
            .body(body)
            .map_err(|e| Error::InvalidInput(format!("cannot build request for {url}: {e}")))?;
        let response = self
            .agent
            .run(outgoing)
            .map_err(|e| transport_error(server, e))?;
        log::debug!(
            "{} {} -> {} ({})",
            request.method(),
            url,
            response.status().as_u16(),
            wire::header(response.headers(), wire::REQUEST_ID).unwrap_or("no request id")
        );
        Ok(response)
    }

    /// The attempt loop: rotate through the servers, repeat retryable failures.
    fn run<T>(
        &self,
        request: &Request<Vec<u8>>,
        retry: Retry,
        mut once: impl FnMut(&str) -> Result<T>,
    ) -> Result<T> {
        let attempts = match retry {
            Retry::Safe => self.attempts,
            Retry::Never => 1,
        };
        let mut failures: Vec<(String, Error)> = Vec::new();
        for attempt in 1..=attempts {
            if attempt > 1 && !self.retry_delay.is_zero() {
                std::thread::sleep(self.retry_delay);
            }
            let server = self.next_server();
            match once(server) {
                Ok(value) => return Ok(value),
                Err(err) if is_retryable(&err) => {
                    log::warn!(
                        "{} {}{}: attempt {attempt} of {attempts} failed: {err}",
                        request.method(),
                        server,
                        request.uri().path()
                    );
                    failures.push((server.to_string(), err));
                }
                Err(err) => return Err(err),
            }
        }
        if failures.len() == 1
            && let Some((_, err)) = failures.pop()
        {
            return Err(err);
        }
        Err(Error::AllServersFailed(failures))
    }

    /// The next server in rotation.
    fn next_server(&self) -> &str {
        let i = self.cursor.fetch_add(1, Ordering::Relaxed) % self.servers.len();
        &self.servers[i]
    }
}

/// Reads a whole answer, capped at [`wire::MAX_JSON_BODY`]; a body that
/// breaks off is a (retryable) transport error.
fn read_capped(server: &str, response: Response<ureq::Body>) -> Result<Response<Vec<u8>>> {
    let (parts, mut body) = response.into_parts();
    let bytes = body
        .with_config()
        .limit(wire::MAX_JSON_BODY)
        .read_to_vec()
        .map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(n) => {
                Error::invalid_response(format!("answer larger than {n} bytes"))
            }
            other => transport_error(server, other),
        })?;
    let response = Response::from_parts(parts, bytes);
    retryable_status(&response)?;
    Ok(response)
}

/// 502, 503 and 504 become errors here so the attempt loop can retry them.
fn retryable_status(response: &Response<Vec<u8>>) -> Result<()> {
    match response.status().as_u16() {
        502..=504 => Err(wire::parse_error(response)),
        _ => Ok(()),
    }
}

/// Whether another attempt (on the next server) may succeed.
pub(crate) fn is_retryable(err: &Error) -> bool {
    match err {
        Error::Transport { .. } => true,
        Error::Server(api) => matches!(api.status, 502..=504),
        _ => false,
    }
}

/// Maps a ureq failure to [`Error::Transport`] naming the server.
pub(crate) fn transport_error(server: &str, err: ureq::Error) -> Error {
    let timeout = match &err {
        ureq::Error::Timeout(_) => true,
        ureq::Error::Io(e) => matches!(
            e.kind(),
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
        ),
        _ => false,
    };
    match err {
        ureq::Error::Http(e) => Error::InvalidInput(format!("{server}: {e}")),
        ureq::Error::BadUri(e) => Error::InvalidInput(format!("{server}: bad URL {e}")),
        other => Error::Transport {
            server: server.to_string(),
            message: other.to_string(),
            timeout,
        },
    }
}

/// Checks a server URL and reduces it to `scheme://host[:port][/prefix]`
/// without a trailing slash or a version suffix (`/v2`, `/v1`, `/v2.1`).
pub(crate) fn normalize_server(raw: &str) -> Result<String> {
    let bad = |why: &str| Error::Config {
        file: None,
        line: None,
        message: format!("api server {raw:?}: {why}"),
    };
    let url = url::Url::parse(raw.trim()).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("scheme must be http or https"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("must not have a query or fragment"));
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
fn shuffle(items: &mut [String]) {
    use std::hash::{BuildHasher, Hasher};
    for i in (1..items.len()).rev() {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_usize(i);
        let j = (h.finish() % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_are_normalized() {
        assert_eq!(normalize_server("http://h:9292").unwrap(), "http://h:9292");
        assert_eq!(normalize_server("http://h:9292/").unwrap(), "http://h:9292");
        assert_eq!(
            normalize_server("https://h/image/v2/").unwrap(),
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
        for bad in ["h:9292", "ftp://h", "http://", "http://h/?a=1", ""] {
            assert!(
                matches!(normalize_server(bad), Err(Error::Config { .. })),
                "{bad}"
            );
        }
    }

    #[test]
    fn shuffle_keeps_every_server() {
        let mut v: Vec<String> = (0..10).map(|i| i.to_string()).collect();
        shuffle(&mut v);
        v.sort_by_key(|s| s.parse::<u32>().unwrap());
        assert_eq!(v, (0..10).map(|i| i.to_string()).collect::<Vec<_>>());
    }

    #[test]
    fn retryable_errors() {
        let t = Error::Transport {
            server: "s".into(),
            message: "refused".into(),
            timeout: false,
        };
        assert!(is_retryable(&t));
        let api = |status| crate::error::ApiError {
            status,
            message: String::new(),
            request_id: None,
        };
        assert!(is_retryable(&Error::from_status(api(503))));
        assert!(!is_retryable(&Error::from_status(api(500))));
        assert!(!is_retryable(&Error::from_status(api(404))));
    }
}
