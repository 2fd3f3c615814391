//! Carries the sans-IO requests of `v1`/`v2` over ureq: picks a server,
//! adds the auth header, retries what is safe to retry on the next server.
//!
//! - Servers: see [`servers`] (Nova's shuffle-once-then-rotate).
//! - Retries: `num_retries` extra attempts, each on the next server, with
//!   `retry_delay` between them, for connection failures, timeouts, a body
//!   that breaks off, and 502/503/504. Other answers (a 404, a 409, a 500)
//!   come back at once. A request marked [`Retry::Never`] is repeated only
//!   when the failed attempt provably sent nothing (connection refused, host
//!   not found, connect timeout), which is safe even for a create.
//! - Timeouts: `connect_timeout` bounds connecting (TCP, proxy, TLS);
//!   `read_timeout` bounds each single read and write, so a stalled server is
//!   detected while a long download that keeps moving is never cut off.
//! - TLS: see [`tls`]; proxies: see [`proxy`].
//!
//! Logging: `debug` shows each request's method, URL, status and request id,
//! and each server's proxy; `warn` shows each failed attempt (server and
//! reason) and an `insecure` configuration. Headers are never logged, so the
//! token cannot leak.

mod failure;
mod proxy;
mod servers;
mod tls;

use std::io::{Read, Seek, SeekFrom};
use std::time::Duration;

use ureq::http::{self, Request, Response};
use ureq::{Agent, SendBody};

use crate::config::{Auth, Config};
use crate::error::{Error, Result};
use crate::wire;

pub(crate) use failure::{body_error, is_retryable, transport_error};
use failure::{never_sent, read_capped};
pub(crate) use servers::normalize_server;
use servers::{Rotation, shuffle};

/// Whether a request may be sent again after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Repeating it cannot do harm (reads, deletes, tag and member calls,
    /// a create with a caller-chosen id).
    Safe,
    /// Repeating it might do the work twice (a create without an id, an upload
    /// from a stream that cannot be rewound). Repeated only after an attempt
    /// that sent nothing.
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

/// One failed attempt, and whether the request surely never left this host.
struct Failed {
    error: Error,
    unsent: bool,
}

impl From<Error> for Failed {
    fn from(error: Error) -> Failed {
        Failed {
            error,
            unsent: false,
        }
    }
}

/// The servers, their agents, the credentials and the retry policy.
#[derive(Debug)]
pub(crate) struct Transport {
    /// Base URLs, in the order they are tried.
    servers: Vec<String>,
    /// One agent per server: the shared TLS settings and that server's proxy.
    agents: Vec<Agent>,
    rotation: Rotation,
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
        let tls = tls::tls_config(config)?;
        let env = proxy::ProxyEnv::from_process();
        let mut routes = Vec::new();
        for server in servers {
            let url = url::Url::parse(&server)
                .map_err(|e| Error::InvalidInput(format!("{server}: {e}")))?;
            let chosen = env.proxy_for(&url)?;
            match &chosen {
                Some(c) => log::debug!("{server}: through proxy {} ({})", c.shown, c.var),
                None => log::debug!("{server}: direct connection"),
            }
            let agent = Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .user_agent(concat!("glance-client-rust/", env!("CARGO_PKG_VERSION")))
                .timeout_connect(config.connect_timeout)
                .timeout_per_read(config.read_timeout)
                .timeout_per_write(config.read_timeout)
                .tls_config(tls.clone())
                .proxy(chosen.map(|c| c.proxy))
                .build()
                .new_agent();
            routes.push((server, agent));
        }
        if config.shuffle_servers {
            shuffle(&mut routes);
        }
        let (servers, agents): (Vec<String>, Vec<Agent>) = routes.into_iter().unzip();
        Ok(Transport {
            rotation: Rotation::new(servers.len()),
            servers,
            agents,
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
        self.run(request, retry, |i| {
            // No body at all (rather than `Content-Length: 0`) on bodiless methods.
            let bodiless = request.body().is_empty()
                && matches!(
                    *request.method(),
                    http::Method::GET | http::Method::HEAD | http::Method::DELETE
                );
            let response = if bodiless {
                self.send(i, request, ())?
            } else {
                self.send(i, request, request.body().as_slice())?
            };
            Ok(read_capped(&self.servers[i], response)?)
        })
    }

    /// Sends a request with a streamed body (upload, stage) and reads the answer.
    /// A plain stream is sent once (again only if nothing was sent); a
    /// rewindable one is retried like `retry` says.
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
        self.run(request, retry, |i| {
            let body = match &mut payload {
                Payload::Stream(reader) => SendBody::from_reader(&mut **reader),
                Payload::Rewindable { reader, start } => {
                    reader
                        .seek(SeekFrom::Start(*start))
                        .map_err(|e| Error::io("rewinding the upload source", e))?;
                    SendBody::from_reader(&mut **reader as &mut dyn Read)
                }
            };
            let response = self.send(i, request, body)?;
            Ok(read_capped(&self.servers[i], response)?)
        })
    }

    /// Sends a request and returns the answer with its body unread, for
    /// downloads. A non-2xx answer is read (capped) and returned as its error.
    pub(crate) fn open(&self, request: &Request<Vec<u8>>, retry: Retry) -> Result<Opened> {
        self.run(request, retry, |i| {
            let response = self.send(i, request, ())?;
            if response.status().is_success() {
                return Ok(Opened {
                    response,
                    server: self.servers[i].clone(),
                });
            }
            let (parts, mut body) = response.into_parts();
            let bytes = body
                .with_config()
                .limit(64 * 1024)
                .read_to_vec()
                .unwrap_or_default();
            Err(wire::parse_error(&Response::from_parts(parts, bytes)).into())
        })
    }

    /// One attempt on server `i`.
    fn send(
        &self,
        i: usize,
        request: &Request<Vec<u8>>,
        body: impl ureq::AsSendBody,
    ) -> std::result::Result<Response<ureq::Body>, Failed> {
        let server = &self.servers[i];
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
        let response = self.agents[i].run(outgoing).map_err(|e| Failed {
            unsent: never_sent(&e),
            error: transport_error(server, e),
        })?;
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
        mut once: impl FnMut(usize) -> std::result::Result<T, Failed>,
    ) -> Result<T> {
        let attempts = self.attempts;
        let start = self.rotation.start();
        let mut failures: Vec<(String, Error)> = Vec::new();
        for attempt in 0..attempts {
            if attempt > 0 && !self.retry_delay.is_zero() {
                std::thread::sleep(self.retry_delay);
            }
            let i = self.rotation.server(start, attempt as usize);
            let failed = match once(i) {
                Ok(value) => return Ok(value),
                Err(failed) => failed,
            };
            if !is_retryable(&failed.error) {
                return Err(failed.error);
            }
            let again = retry == Retry::Safe || failed.unsent;
            let next = match (again, attempt + 1 < attempts) {
                (true, true) => "trying the next server",
                (true, false) => "no attempts left",
                (false, _) => "not repeated: the server may have acted on it",
            };
            log::warn!(
                "{} {}{}: attempt {} of {attempts} failed: {}; {next}",
                request.method(),
                self.servers[i],
                request.uri().path(),
                attempt + 1,
                failed.error.attempt_reason(),
            );
            failures.push((self.servers[i].clone(), failed.error));
            if !again {
                break;
            }
        }
        if failures.len() == 1
            && let Some((_, err)) = failures.pop()
        {
            return Err(err);
        }
        Err(Error::AllServersFailed(failures))
    }
}
