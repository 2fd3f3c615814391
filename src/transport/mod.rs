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
//! - A retry after a lost answer (the request may have reached the server,
//!   the answer did not come back) can meet the first attempt's own work:
//!   the client then reads a retried delete's 404 as done, and a retried
//!   member add's or id-given create's 409 as done (returning the member or
//!   image); see [`Client`](crate::Client)'s delete and add methods.
//! - Timeouts: `connect_timeout` bounds connecting (TCP, proxy, TLS);
//!   `read_timeout` bounds each single read and write, so a stalled server is
//!   detected while a long download that keeps moving is never cut off.
//! - TLS: see [`tls`]; proxies: see [`proxy`]. Through an HTTP proxy ureq
//!   always tunnels with `CONNECT`, `http://` servers too (curl would send
//!   those in absolute form instead).
//! - Credentials: a given token is sent as is; a Keystone login
//!   ([`Session`]) gives the token, renewed before it expires, and after a
//!   401 from the image API renewed once and the request repeated once (on
//!   the same server, not counted as a retry; a plain stream body cannot be
//!   repeated, so there the 401 is returned, the next call using the new
//!   token). Without configured servers the first request finds the image
//!   API in the token's catalog; the result is kept for the client's life.
//!
//! Logging: `debug` shows each request's method, URL, status and request id,
//! and each server's proxy, each Keystone login and the endpoint taken from
//! the catalog; `warn` shows each failed attempt (server and reason), a
//! token the image API refused, and an `insecure` configuration. Headers and
//! bodies are never logged, so a token or password cannot leak. (ureq-proto
//! is not so careful: at `trace` it dumps every raw answer head and body,
//! Keystone's `X-Subject-Token` included; the crate docs warn about it.)

mod failure;
mod proxy;
mod servers;
mod tls;

use std::fmt;
use std::io::{Read, Seek, SeekFrom};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use http::{Request, Response};
use ureq::{Agent, SendBody};

use crate::auth::Auth;
use crate::auth::{self, Held, Login, Session};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::wire;

pub(crate) use failure::{body_error, is_retryable, read_capped, transport_error};
use failure::{never_sent, read_error_body};
pub(crate) use servers::normalize_server;
use servers::{Rotation, shuffle};

/// Whether a request may be sent again after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Repeating it cannot do harm (reads, deletes, tag and member calls,
    /// a create with a caller-chosen id). A repeat of a delete or a named
    /// create may meet the lost first attempt's work (404, 409):
    /// [`Transport::json_noting_loss`] tells the caller.
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

/// One failed attempt, whether the request surely never left this host, and
/// whether the image API refused a renewable token (401).
struct Failed {
    error: Error,
    unsent: bool,
    rejected: bool,
}

impl From<Error> for Failed {
    fn from(error: Error) -> Failed {
        Failed {
            error,
            unsent: false,
            rejected: false,
        }
    }
}

/// Where one attempt goes, and with which token.
struct Attempt<'a> {
    server: &'a str,
    agent: &'a Agent,
    token: Option<&'a str>,
    /// An earlier attempt of the same call failed after its request may
    /// have reached a server (the answer was lost): its work may be done.
    after_loss: bool,
}

/// How requests are authenticated.
enum Credentials {
    None,
    Static(String),
    Keystone(Box<Session>),
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::None => f.write_str("None"),
            Credentials::Static(_) => f.write_str("Static(<redacted>)"),
            Credentials::Keystone(session) => session.fmt(f),
        }
    }
}

/// The token of one request.
enum Presented<'a> {
    None,
    Static(&'a str),
    Keystone(&'a Session, Arc<Held>),
}

impl Presented<'_> {
    fn value(&self) -> Option<&str> {
        match self {
            Presented::None => None,
            Presented::Static(t) => Some(t),
            Presented::Keystone(_, held) => Some(&held.token),
        }
    }
}

/// The servers, their agents and the shared rotation.
#[derive(Debug)]
struct Routes {
    /// Base URLs, in the order they are tried.
    servers: Vec<String>,
    /// One agent per server: the shared TLS settings and that server's proxy.
    agents: Vec<Agent>,
    rotation: Rotation,
}

/// What every agent is built from: TLS, the proxy environment, timeouts.
struct Connector {
    tls: ureq::tls::TlsConfig,
    env: proxy::ProxyEnv,
    connect_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
}

impl fmt::Debug for Connector {
    // The proxy variables may hold passwords: not shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connector")
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .finish_non_exhaustive()
    }
}

impl Connector {
    fn new(config: &Config) -> Result<Connector> {
        Ok(Connector {
            tls: tls::tls_config(config)?,
            env: proxy::ProxyEnv::from_process(),
            connect_timeout: config.connect_timeout,
            read_timeout: config.read_timeout,
        })
    }

    /// The agent for requests to `base` (a checked http(s) URL).
    fn agent(&self, base: &str) -> Result<Agent> {
        let url = url::Url::parse(base).map_err(|e| Error::InvalidInput(format!("{base}: {e}")))?;
        let chosen = self.env.proxy_for(&url)?;
        match &chosen {
            Some(c) => log::debug!("{base}: through proxy {} ({})", c.shown, c.var),
            None => log::debug!("{base}: direct connection"),
        }
        Ok(Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .user_agent(concat!("glance-client-rust/", env!("CARGO_PKG_VERSION")))
            .timeout_connect(self.connect_timeout)
            .timeout_per_read(self.read_timeout)
            .timeout_per_write(self.read_timeout)
            .tls_config(self.tls.clone())
            .proxy(chosen.map(|c| c.proxy))
            .build()
            .new_agent())
    }

    fn routes(&self, servers: Vec<String>, shuffled: bool) -> Result<Routes> {
        let mut routes = Vec::new();
        for server in servers {
            let agent = self.agent(&server)?;
            routes.push((server, agent));
        }
        if shuffled {
            shuffle(&mut routes);
        }
        let (servers, agents): (Vec<String>, Vec<Agent>) = routes.into_iter().unzip();
        Ok(Routes {
            rotation: Rotation::new(servers.len()),
            servers,
            agents,
        })
    }
}

/// The servers, their agents, the credentials and the retry policy.
#[derive(Debug)]
pub(crate) struct Transport {
    /// Set at `new` from the configuration, or at the first request from
    /// the token's catalog.
    routes: OnceLock<Routes>,
    connector: Connector,
    attempts: u32,
    retry_delay: Duration,
    credentials: Credentials,
    valid_interfaces: Vec<String>,
    region_name: Option<String>,
}

impl Transport {
    pub(crate) fn new(config: &Config) -> Result<Transport> {
        let mut servers = Vec::new();
        for raw in config.servers() {
            servers.push(normalize_server(&raw)?);
        }
        let connector = Connector::new(config)?;
        let attempts = config.num_retries.saturating_add(1);
        let keystone = |login: Login| -> Result<Credentials> {
            let url = auth::tokens_url(login.auth_url())?;
            let agent = connector.agent(&url)?;
            let session = Session::new(login, url, agent, attempts, config.retry_delay)?;
            Ok(Credentials::Keystone(Box::new(session)))
        };
        let credentials = match &config.auth {
            Auth::None => Credentials::None,
            Auth::Token(token) => Credentials::Static(token.clone()),
            Auth::Password(p) => keystone(Login::Password(p.clone()))?,
            Auth::ApplicationCredential(a) => keystone(Login::ApplicationCredential(a.clone()))?,
        };
        let routes = OnceLock::new();
        if !servers.is_empty() {
            let _ = routes.set(connector.routes(servers, config.shuffle_servers)?);
        } else if !matches!(credentials, Credentials::Keystone(_)) {
            return Err(Error::Config {
                file: None,
                line: None,
                message: "no image API server configured (api_servers is empty); set \
                          api_servers or endpoint_override, or log in to Keystone \
                          (password or application credential) to use the catalog"
                    .into(),
            });
        }
        Ok(Transport {
            routes,
            connector,
            attempts,
            retry_delay: config.retry_delay,
            credentials,
            valid_interfaces: config.valid_interfaces.clone(),
            region_name: config.region_name.clone(),
        })
    }

    /// The servers in the order they are tried; empty while the image API
    /// is still to be found in the catalog.
    pub(crate) fn servers(&self) -> &[String] {
        self.routes.get().map_or(&[], |r| &r.servers)
    }

    /// The token requests carry now, logging in first when needed.
    pub(crate) fn token(&self) -> Result<Option<String>> {
        Ok(self.present()?.value().map(String::from))
    }

    fn present(&self) -> Result<Presented<'_>> {
        Ok(match &self.credentials {
            Credentials::None => Presented::None,
            Credentials::Static(token) => Presented::Static(token),
            Credentials::Keystone(session) => Presented::Keystone(session, session.token()?),
        })
    }

    /// The routes, found in the catalog of `token` on first use when none
    /// are configured.
    fn routes(&self, token: &Presented<'_>) -> Result<&Routes> {
        if let Some(routes) = self.routes.get() {
            return Ok(routes);
        }
        let Presented::Keystone(_, held) = token else {
            return Err(Error::InvalidInput("no image API server".into()));
        };
        let url = auth::select_endpoint(
            &held.catalog,
            &self.valid_interfaces,
            self.region_name.as_deref(),
            held.project.as_deref(),
        )?;
        let server = normalize_server(&url).map_err(|e| {
            Error::Catalog(format!(
                "the image API endpoint in the catalog is unusable: {e}"
            ))
        })?;
        log::debug!("image API endpoint from the service catalog: {server}");
        let _ = self.routes.set(self.connector.routes(vec![server], false)?);
        self.routes
            .get()
            .ok_or_else(|| Error::InvalidInput("no image API server".into()))
    }

    /// Sends a request whose body is in the request, and reads the whole
    /// (capped) answer. Any status comes back; the caller's parser maps it.
    pub(crate) fn json(
        &self,
        request: &Request<Vec<u8>>,
        retry: Retry,
    ) -> Result<Response<Vec<u8>>> {
        Ok(self.json_noting_loss(request, retry)?.0)
    }

    /// [`Transport::json`], also telling whether the answer came after an
    /// earlier attempt of the same call was lost after its request may have
    /// reached a server: a retried delete that answers 404 then most likely
    /// met the work of that earlier attempt.
    pub(crate) fn json_noting_loss(
        &self,
        request: &Request<Vec<u8>>,
        retry: Retry,
    ) -> Result<(Response<Vec<u8>>, bool)> {
        self.run(request, retry, true, |at| {
            // No body at all (rather than `Content-Length: 0`) on bodiless methods.
            let bodiless = request.body().is_empty()
                && matches!(
                    *request.method(),
                    http::Method::GET | http::Method::HEAD | http::Method::DELETE
                );
            let response = if bodiless {
                self.send(&at, request, ())?
            } else {
                self.send(&at, request, request.body().as_slice())?
            };
            Ok((read_capped(at.server, response)?, at.after_loss))
        })
    }

    /// Sends a request with a streamed body (upload, stage) and reads the answer.
    /// When sending breaks off after the request left, `broken_off` is
    /// asked whether that was a refusal (its error is returned at once) or
    /// a network failure (`None`: retried as usual).
    /// A plain stream is sent once (again only if nothing was sent); a
    /// rewindable one is retried like `retry` says.
    pub(crate) fn send_payload(
        &self,
        request: &Request<Vec<u8>>,
        mut payload: Payload<'_>,
        retry: Retry,
        broken_off: &dyn Fn() -> Option<Error>,
    ) -> Result<Response<Vec<u8>>> {
        let (retry, replayable) = match payload {
            Payload::Stream(_) => (Retry::Never, false),
            Payload::Rewindable { .. } => (retry, true),
        };
        self.run(request, retry, replayable, |at| {
            let body = match &mut payload {
                Payload::Stream(reader) => SendBody::from_reader(&mut **reader),
                Payload::Rewindable { reader, start } => {
                    reader
                        .seek(SeekFrom::Start(*start))
                        .map_err(|e| Error::io("rewinding the upload source", e))?;
                    SendBody::from_reader(&mut **reader as &mut dyn Read)
                }
            };
            let response = match self.send(&at, request, body) {
                Ok(response) => response,
                // The server may have answered early and closed (Glance
                // does, with 409): the answer is lost, so ask the caller
                // what the state now says before treating it as a network failure.
                Err(failed) if !failed.unsent && is_retryable(&failed.error) => {
                    return Err(match broken_off() {
                        Some(error) => error.into(),
                        None => failed,
                    });
                }
                Err(failed) => return Err(failed),
            };
            Ok(read_capped(at.server, response)?)
        })
    }

    /// Sends a request and returns the answer with its body unread, for
    /// downloads. A non-2xx answer is read (capped) and returned as its error.
    pub(crate) fn open(&self, request: &Request<Vec<u8>>, retry: Retry) -> Result<Opened> {
        self.run(request, retry, true, |at| {
            let response = self.send(&at, request, ())?;
            if response.status().is_success() {
                return Ok(Opened {
                    response,
                    server: at.server.to_string(),
                });
            }
            let (parts, body) = response.into_parts();
            let bytes = read_error_body(body);
            Err(wire::parse_error(&Response::from_parts(parts, bytes)).into())
        })
    }

    /// One attempt. A 401 while a Keystone login could give another token
    /// comes back as a `rejected` failure.
    fn send(
        &self,
        at: &Attempt<'_>,
        request: &Request<Vec<u8>>,
        body: impl ureq::AsSendBody,
    ) -> std::result::Result<Response<ureq::Body>, Failed> {
        let server = at.server;
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
        if let Some(token) = at.token {
            builder = builder.header("x-auth-token", token);
        }
        let outgoing = builder
            .body(body)
            .map_err(|e| Error::InvalidInput(format!("cannot build request for {url}: {e}")))?;
        let response = at.agent.run(outgoing).map_err(|e| Failed {
            unsent: never_sent(&e),
            error: transport_error(server, e),
            rejected: false,
        })?;
        log::debug!(
            "{} {} -> {} ({})",
            request.method(),
            url,
            response.status().as_u16(),
            wire::header(response.headers(), wire::REQUEST_ID).unwrap_or("no request id")
        );
        if response.status() == http::StatusCode::UNAUTHORIZED
            && matches!(self.credentials, Credentials::Keystone(_))
        {
            let (parts, body) = response.into_parts();
            let bytes = read_error_body(body);
            return Err(Failed {
                error: wire::parse_error(&Response::from_parts(parts, bytes)),
                unsent: false,
                rejected: true,
            });
        }
        Ok(response)
    }

    /// The attempt loop: rotate through the servers, repeat retryable
    /// failures; after a refused Keystone token, log in again and repeat
    /// the attempt once when the body can be sent again (`replayable`).
    fn run<T>(
        &self,
        request: &Request<Vec<u8>>,
        retry: Retry,
        replayable: bool,
        mut once: impl FnMut(Attempt<'_>) -> std::result::Result<T, Failed>,
    ) -> Result<T> {
        let mut token = self.present()?;
        let routes = self.routes(&token)?;
        let mut renewed = false;
        let attempts = self.attempts;
        let start = routes.rotation.start();
        let mut failures: Vec<(String, Error)> = Vec::new();
        let mut after_loss = false;
        for attempt in 0..attempts {
            if attempt > 0 && !self.retry_delay.is_zero() {
                std::thread::sleep(self.retry_delay);
            }
            let i = routes.rotation.server(start, attempt as usize);
            let (server, agent) = (routes.servers[i].as_str(), &routes.agents[i]);
            let mut result = once(Attempt {
                server,
                agent,
                token: token.value(),
                after_loss,
            });
            if let Err(failed) = &result
                && failed.rejected
                && !renewed
                && let Presented::Keystone(session, held) = &token
            {
                renewed = true;
                let fresh = session.renew(held)?;
                token = Presented::Keystone(session, fresh);
                let what = format!(
                    "{} {server}{}: the image API refused the Keystone token (401)",
                    request.method(),
                    request.uri().path()
                );
                if replayable {
                    log::warn!("{what}; logged in again, repeating the request once");
                    result = once(Attempt {
                        server,
                        agent,
                        token: token.value(),
                        after_loss,
                    });
                } else {
                    log::warn!("{what}; logged in again, but a streamed body cannot be sent twice");
                }
            }
            let failed = match result {
                Ok(value) => return Ok(value),
                Err(failed) => failed,
            };
            if !is_retryable(&failed.error) {
                return Err(failed.error);
            }
            after_loss |= !failed.unsent;
            let again = retry == Retry::Safe || failed.unsent;
            let next = match (again, attempt + 1 < attempts) {
                (true, true) => "trying the next server",
                (true, false) => "no attempts left",
                (false, _) => "not repeated: the server may have acted on it",
            };
            log::warn!(
                "{} {}{}: attempt {} of {attempts} failed: {}; {next}",
                request.method(),
                server,
                request.uri().path(),
                attempt + 1,
                failed.error.attempt_reason(),
            );
            failures.push((server.to_string(), failed.error));
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
