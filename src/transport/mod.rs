//! Carries the sans-IO requests of `v1`/`v2` over ureq: picks a server,
//! adds the auth header, retries what is safe to retry on the next server.
//!
//! - Servers: see [`servers`] (Nova's shuffle-once-then-rotate).
//! - Retries: one attempt loop ([`retry`]) for every call, Keystone logins
//!   included: `num_retries` extra attempts, each on the next server, with
//!   `retry_delay` between them, for connection failures, timeouts, a body
//!   that breaks off, and 502/503/504. Other answers (a 404, a 409, a 500)
//!   come back at once. A request marked [`Retry::IfUnsent`] is repeated
//!   only when the failed attempt provably sent nothing (connection refused,
//!   host not found, connect timeout), which is safe even for a create.
//! - A retry after a lost answer (the request may have reached the server,
//!   the answer did not come back) can meet the first attempt's own work:
//!   the client then reads a retried delete's 404 as done, and a retried
//!   member add's or id-given create's 409 as done (returning the member or
//!   image); see [`Client`](crate::Client)'s delete and add methods.
//! - Timeouts: `connect_timeout` bounds connecting (TCP, proxy, TLS);
//!   `io_timeout` bounds each single read and write, so a stalled server is
//!   detected while a long download that keeps moving is never cut off.
//! - Each call carries a context (`crate::call::Ctx`): its cancel handle,
//!   checked before each attempt and between reads and writes, and waking
//!   the pause between attempts; its deadline, which becomes ureq's global
//!   timeout of each request (what is left of it), so every read and write
//!   ends by then, and ends the call with `Error::DeadlineExceeded`; and its
//!   global request id, sent as `X-OpenStack-Request-ID` (logins too).
//! - An upload's source is read through a wrapper that keeps its own
//!   failure, so that a source that fails (or a cancel, or the progress
//!   callback) is told from a connection that fails: the former ends the
//!   call as it is, never retried nor blamed on the server.
//! - TLS: see [`tls`]; proxies: see [`proxy`]. Through an HTTP proxy ureq
//!   always tunnels with `CONNECT`, `http://` servers too (curl would send
//!   those in absolute form instead).
//! - Another service: the key manager (Barbican), where signing
//!   certificates are fetched, is reached the same way, with the same
//!   agents' settings, attempt loop and token: its URL is `[barbican]
//!   barbican_endpoint`, else the token's catalog's `key-manager` endpoint
//!   (`barbican_endpoint_type`, `barbican_region_name`), found at its first
//!   request and kept for the client's life.
//! - Credentials: a given token is sent as is; a Keystone login
//!   ([`keystone`], its token kept in an [`auth`](crate::auth) session) gives the token, renewed before it expires, and after a
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

mod connect;
mod failure;
mod keystone;
mod proxy;
mod retry;
mod servers;
mod tls;

use std::fmt;
use std::io::{self, Read, Seek, SeekFrom};
use std::sync::{Arc, OnceLock};

use http::{Request, Response};
use ureq::{Agent, AsSendBody, SendBody};

use crate::auth::{self, Auth, Held, Login};
use crate::call::{Ctx, ProgressFn};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::wire;

use connect::{Connector, Routes};
pub(crate) use failure::{body_error, is_retryable, read_capped};
use failure::{call_error, never_sent, read_error_body};
use keystone::Keystone;
pub(crate) use retry::Retry;
use retry::{Call, Failed, Policy};
pub(crate) use servers::normalize_server;
use servers::normalize_url;

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

/// The upload source as errors and the progress callback see it.
pub(crate) struct Source<'a> {
    /// What it is, for an error: `/path/to/file`, `the upload source`.
    pub(crate) what: String,
    /// Its size, when known (the progress callback's total).
    pub(crate) size: Option<u64>,
    /// Called with the bytes read from it so far in this attempt; a break
    /// stops the upload with [`Error::Cancelled`].
    pub(crate) progress: Option<ProgressFn<'a>>,
}

/// `Read + Seek` as one object-safe trait.
pub(crate) trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

/// A response whose body is still on the wire.
pub(crate) struct Opened {
    pub(crate) response: Response<ureq::Body>,
    /// The server that answered (base URL).
    pub(crate) server: String,
    /// The call it answers: reading the body checks it.
    pub(crate) ctx: Ctx,
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
    Keystone(Box<Keystone>),
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credentials::None => f.write_str("None"),
            Credentials::Static(_) => f.write_str("Static(<redacted>)"),
            Credentials::Keystone(keystone) => keystone.fmt(f),
        }
    }
}

/// The token of one request.
enum Presented<'a> {
    None,
    Static(&'a str),
    Keystone(&'a Keystone, Arc<Held>),
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

/// Which service a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Api {
    /// The image API: the configured servers, or the catalog's.
    Image,
    /// The key manager (Barbican): `[barbican]`'s endpoint, or the catalog's.
    #[cfg_attr(not(feature = "signatures"), allow(dead_code))]
    KeyManager,
}

impl Api {
    fn name(self) -> &'static str {
        match self {
            Api::Image => "the image API",
            Api::KeyManager => "the key manager",
        }
    }
}

/// Where the key manager is: `[barbican]`'s options.
#[derive(Debug)]
struct KeyManager {
    /// `barbican_endpoint`, normalized (without `/v1`).
    endpoint: Option<String>,
    /// `barbican_endpoint_type`.
    interface: String,
    /// `barbican_region_name`.
    region: Option<String>,
    /// Set at its first request.
    routes: OnceLock<Routes>,
}

/// The servers, their agents, the credentials and the retry policy.
#[derive(Debug)]
pub(crate) struct Transport {
    /// Set at `new` from the configuration, or at the first request from
    /// the token's catalog.
    routes: OnceLock<Routes>,
    key_manager: KeyManager,
    connector: Connector,
    policy: Policy,
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
        let keystone = |login: Login| -> Result<Credentials> {
            Ok(Credentials::Keystone(Box::new(Keystone::new(
                login, &connector,
            )?)))
        };
        let credentials = match &config.auth {
            Auth::None => Credentials::None,
            Auth::Token(token) => Credentials::Static(token.clone()),
            Auth::Password(p) => keystone(Login::Password(p.clone()))?,
            Auth::ApplicationCredential(a) => keystone(Login::ApplicationCredential(a.clone()))?,
        };
        let key_manager = KeyManager {
            endpoint: match &config.barbican_endpoint {
                Some(raw) => Some(normalize_url(raw, "barbican_endpoint")?),
                None => None,
            },
            interface: config.barbican_endpoint_type.clone(),
            region: config.barbican_region_name.clone(),
            routes: OnceLock::new(),
        };
        let routes = OnceLock::new();
        if !servers.is_empty() {
            let _ = routes.set(connector.routes(servers, config.shuffle_servers)?);
        } else if !matches!(credentials, Credentials::Keystone(_)) {
            return Err(no_server());
        }
        Ok(Transport {
            routes,
            key_manager,
            connector,
            policy: Policy {
                attempts: config.num_retries.saturating_add(1),
                delay: config.retry_delay,
            },
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
    pub(crate) fn token(&self, ctx: &Ctx) -> Result<Option<String>> {
        Ok(self.present(ctx)?.value().map(String::from))
    }

    fn present(&self, ctx: &Ctx) -> Result<Presented<'_>> {
        Ok(match &self.credentials {
            Credentials::None => Presented::None,
            Credentials::Static(token) => Presented::Static(token),
            Credentials::Keystone(keystone) => {
                Presented::Keystone(keystone, keystone.token(ctx, &self.policy)?)
            }
        })
    }

    /// The routes of `api`.
    fn routes_of(&self, api: Api, token: &Presented<'_>) -> Result<&Routes> {
        match api {
            Api::Image => self.routes(token),
            Api::KeyManager => self.key_manager_routes(token),
        }
    }

    /// The key manager's route: `barbican_endpoint`, else the catalog's
    /// `key-manager` endpoint, found on first use.
    fn key_manager_routes(&self, token: &Presented<'_>) -> Result<&Routes> {
        let km = &self.key_manager;
        if let Some(routes) = km.routes.get() {
            return Ok(routes);
        }
        let server = match (&km.endpoint, token) {
            (Some(endpoint), _) => endpoint.clone(),
            (None, Presented::Keystone(_, held)) => {
                let wanted = auth::Wanted {
                    kind: "key-manager",
                    api: "key manager",
                    choosers: "[barbican] barbican_endpoint_type or barbican_region_name",
                    hint: "set [barbican] barbican_endpoint to use a key manager anyway",
                };
                let url = auth::select_service_endpoint(
                    &held.catalog,
                    wanted,
                    std::slice::from_ref(&km.interface),
                    km.region.as_deref(),
                    held.project.as_deref(),
                )?;
                let server = normalize_url(&url, "the key-manager endpoint").map_err(|e| {
                    Error::Catalog(format!(
                        "the key-manager endpoint in the catalog is unusable: {e}"
                    ))
                })?;
                log::debug!("key manager endpoint from the service catalog: {server}");
                server
            }
            (None, _) => {
                return Err(Error::Config {
                    file: None,
                    line: None,
                    message: "no key manager: set [barbican] barbican_endpoint \
                              (Config::barbican_endpoint), or log in to Keystone \
                              to use the catalog's key-manager endpoint"
                        .into(),
                });
            }
        };
        let _ = km.routes.set(self.connector.routes(vec![server], false)?);
        km.routes.get().ok_or_else(no_server)
    }

    /// The routes, found in the catalog of `token` on first use when none
    /// are configured.
    fn routes(&self, token: &Presented<'_>) -> Result<&Routes> {
        if let Some(routes) = self.routes.get() {
            return Ok(routes);
        }
        let Presented::Keystone(_, held) = token else {
            return Err(no_server());
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
        self.routes.get().ok_or_else(no_server)
    }

    /// Sends a request whose body is in the request, and reads the whole
    /// (capped) answer. Any status comes back; the caller's parser maps it.
    pub(crate) fn json(
        &self,
        ctx: &Ctx,
        request: &Request<Vec<u8>>,
        retry: Retry,
    ) -> Result<Response<Vec<u8>>> {
        Ok(self.json_noting_loss(ctx, request, retry)?.0)
    }

    /// [`Transport::json`], also telling whether the answer came after an
    /// earlier attempt of the same call was lost after its request may have
    /// reached a server: a retried delete that answers 404 then most likely
    /// met the work of that earlier attempt.
    pub(crate) fn json_noting_loss(
        &self,
        ctx: &Ctx,
        request: &Request<Vec<u8>>,
        retry: Retry,
    ) -> Result<(Response<Vec<u8>>, bool)> {
        self.run(Api::Image, ctx, request, retry, true, |at| {
            // No body at all (rather than `Content-Length: 0`) on bodiless methods.
            let bodiless = request.body().is_empty()
                && matches!(
                    *request.method(),
                    http::Method::GET | http::Method::HEAD | http::Method::DELETE
                );
            let response = if bodiless {
                self.send(ctx, &at, request, ())?
            } else {
                self.send(ctx, &at, request, request.body().as_slice())?
            };
            Ok((read_capped(at.server, ctx, response)?, at.after_loss))
        })
    }

    /// Sends a request with a streamed body (upload, stage) and reads the answer.
    /// When sending breaks off after the request left, `broken_off` is
    /// asked whether that was a refusal (its error is returned at once) or
    /// a network failure (`None`: retried as usual).
    /// A plain stream is sent once (again only if nothing was sent); a
    /// rewindable one is retried like `retry` says.
    ///
    /// A failure to read the source (its own I/O error, the call cancelled
    /// or past its deadline between two reads, the progress callback
    /// stopping it) ends the call with that error: it is the source's, not
    /// the server's, so it is neither retried nor followed by `broken_off`.
    pub(crate) fn send_payload(
        &self,
        ctx: &Ctx,
        request: &Request<Vec<u8>>,
        mut payload: Payload<'_>,
        mut source: Source<'_>,
        retry: Retry,
        broken_off: &dyn Fn() -> Option<Error>,
    ) -> Result<Response<Vec<u8>>> {
        let (retry, replayable) = match payload {
            Payload::Stream(_) => (Retry::IfUnsent, false),
            Payload::Rewindable { .. } => (retry, true),
        };
        self.run(Api::Image, ctx, request, retry, replayable, |at| {
            let reader: &mut dyn Read = match &mut payload {
                Payload::Stream(reader) => &mut **reader,
                Payload::Rewindable { reader, start } => {
                    reader
                        .seek(SeekFrom::Start(*start))
                        .map_err(|e| Error::io(format!("rewinding {}", source.what), e))?;
                    &mut **reader
                }
            };
            let mut sending = Sending {
                reader,
                ctx,
                source: &mut source,
                server: at.server,
                sent: 0,
                failure: None,
            };
            let sent = self.send(ctx, &at, request, SendBody::from_reader(&mut sending));
            // The source's failure, or a cancel or deadline that cut a
            // blocked write: the call's own, so neither retried nor
            // followed by `broken_off`'s request.
            let own = sending.failure.or_else(|| {
                let during = || format!("sending the image data to {}", at.server);
                sent.as_ref().err().and_then(|_| ctx.check(during).err())
            });
            if let Some(error) = own {
                return Err(Failed {
                    last: true,
                    ..Failed::from(error)
                });
            }
            let response = match sent {
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
            Ok(read_capped(at.server, ctx, response)?)
        })
    }

    /// Sends a request and returns the answer with its body unread, for
    /// downloads. A non-2xx answer is read (capped) and returned as its error.
    pub(crate) fn open(
        &self,
        ctx: &Ctx,
        request: &Request<Vec<u8>>,
        retry: Retry,
    ) -> Result<Opened> {
        self.run(Api::Image, ctx, request, retry, true, |at| {
            let response = self.send(ctx, &at, request, ())?;
            if response.status().is_success() {
                return Ok(Opened {
                    response,
                    server: at.server.to_string(),
                    ctx: ctx.clone(),
                });
            }
            let (parts, body) = response.into_parts();
            let bytes = read_error_body(ctx, body);
            Err(wire::parse_error(&Response::from_parts(parts, bytes)).into())
        })
    }

    /// One attempt. A 401 while a Keystone login could give another token
    /// comes back as a `rejected` failure.
    fn send(
        &self,
        ctx: &Ctx,
        at: &Attempt<'_>,
        request: &Request<Vec<u8>>,
        body: impl AsSendBody,
    ) -> std::result::Result<Response<ureq::Body>, Failed> {
        let path = request
            .uri()
            .path_and_query()
            .map(|p| p.as_str())
            .unwrap_or("/");
        let url = format!("{}{path}", at.server);
        let outgoing = outgoing(request, &url, at.token, ctx.request_id(), body)?;
        let during = || {
            format!(
                "sending {} {url} or waiting for its answer",
                request.method()
            )
        };
        let response = send_on(at.agent, at.server, ctx, outgoing, during)?;
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
            let bytes = read_error_body(ctx, body);
            return Err(Failed {
                rejected: true,
                ..Failed::from(wire::parse_error(&Response::from_parts(parts, bytes)))
            });
        }
        Ok(response)
    }

    /// Sends a bodiless request to the key manager (Barbican), and reads
    /// the whole (capped) answer, whatever its status, like
    /// [`Transport::json`] does for the image API.
    #[cfg(feature = "signatures")]
    pub(crate) fn key_manager_json(
        &self,
        ctx: &Ctx,
        request: &Request<Vec<u8>>,
    ) -> Result<Response<Vec<u8>>> {
        self.run(Api::KeyManager, ctx, request, Retry::Safe, true, |at| {
            let response = self.send(ctx, &at, request, ())?;
            Ok(read_capped(at.server, ctx, response)?)
        })
    }

    /// A call to `api`: the attempt loop over the servers of the rotation.
    /// After a refused Keystone token, log in again and repeat the attempt
    /// once (on the same server, not counted) when the body can be sent
    /// again (`replayable`).
    fn run<T>(
        &self,
        api: Api,
        ctx: &Ctx,
        request: &Request<Vec<u8>>,
        retry: Retry,
        replayable: bool,
        mut once: impl FnMut(Attempt<'_>) -> std::result::Result<T, Failed>,
    ) -> Result<T> {
        ctx.check(|| format!("starting {} {}", request.method(), request.uri().path()))?;
        let mut token = self.present(ctx)?;
        let routes = self.routes_of(api, &token)?;
        let start = routes.rotation.start();
        let mut renewed = false;
        let describe =
            |server: &str| format!("{} {server}{}", request.method(), request.uri().path());
        let call = Call {
            describe: &describe,
            retry,
            next: "trying the next server",
        };
        self.policy.run(ctx, &call, |attempt, after_loss| {
            let i = routes.rotation.server(start, attempt as usize);
            let (server, agent) = (routes.servers[i].as_str(), &routes.agents[i]);
            let at = Attempt {
                server,
                agent,
                token: token.value(),
                after_loss,
            };
            let mut result = once(at);
            if let Err(failed) = &result
                && failed.rejected
                && !renewed
                && let Presented::Keystone(keystone, held) = &token
            {
                renewed = true;
                token = match keystone.renew(ctx, held, &self.policy) {
                    Ok(fresh) => Presented::Keystone(keystone, fresh),
                    Err(error) => {
                        return (
                            server,
                            Err(Failed {
                                last: true,
                                ..error.into()
                            }),
                        );
                    }
                };
                let what = format!(
                    "{}: {} refused the Keystone token (401)",
                    describe(server),
                    api.name()
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
            (server, result)
        })
    }
}

/// `request`'s method and headers, to `url`, with the token and the
/// global request id when there are, and `body`.
fn outgoing<B>(
    request: &Request<Vec<u8>>,
    url: &str,
    token: Option<&str>,
    request_id: Option<&str>,
    body: B,
) -> Result<Request<B>> {
    let mut builder = http::Request::builder()
        .method(request.method().clone())
        .uri(url);
    for (name, value) in request.headers() {
        builder = builder.header(name, value);
    }
    if let Some(token) = token {
        builder = builder.header("x-auth-token", token);
    }
    if let Some(id) = request_id {
        // The same header name as the answer's request id.
        builder = builder.header(wire::REQUEST_ID, id);
    }
    builder
        .body(body)
        .map_err(|e| Error::InvalidInput(format!("cannot build request for {url}: {e}")))
}

/// Sends `outgoing` (its URI the whole URL) on `agent`; a failure names
/// `server`. With a deadline, ureq's global timeout is what is left of it,
/// so that every read and write of the exchange (the answer's body
/// included) ends by the deadline; one that cuts it is the call's
/// [`Error::DeadlineExceeded`], `during` what.
fn send_on<B: AsSendBody>(
    agent: &Agent,
    server: &str,
    ctx: &Ctx,
    outgoing: Request<B>,
    during: impl FnOnce() -> String,
) -> std::result::Result<Response<ureq::Body>, Failed> {
    let outgoing = match ctx.remaining() {
        Some(left) => agent
            .configure_request(outgoing)
            .timeout_global(Some(left))
            .build(),
        None => outgoing,
    };
    agent.run(outgoing).map_err(|e| Failed {
        unsent: never_sent(&e),
        ..Failed::from(call_error(server, ctx, e, during))
    })
}

/// The caller's upload source during one attempt: checks the call between
/// reads, reports progress, and keeps its own failure, so that it is told
/// from the connection's (ureq hands both back as I/O errors).
struct Sending<'a, 's> {
    reader: &'a mut dyn Read,
    ctx: &'a Ctx,
    source: &'a mut Source<'s>,
    server: &'a str,
    /// Bytes read from the source in this attempt.
    sent: u64,
    /// Why reading the source stopped, when it was the source (or the caller).
    failure: Option<Error>,
}

impl Sending<'_, '_> {
    /// Keeps `error` as the failure and hands ureq an I/O error to stop on.
    fn stop(&mut self, error: Error) -> io::Error {
        let io = io::Error::other(format!("the upload stopped: {error}"));
        self.failure = Some(error);
        io
    }
}

impl Read for Sending<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let server = self.server;
        if let Err(e) = self
            .ctx
            .check(|| format!("sending the image data to {server}"))
        {
            return Err(self.stop(e));
        }
        let n = loop {
            match self.reader.read(buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let context = format!(
                        "reading {} (after {} bytes of it were sent)",
                        self.source.what, self.sent
                    );
                    return Err(self.stop(Error::io(context, e)));
                }
            }
        };
        self.sent += n as u64;
        let (sent, size) = (self.sent, self.source.size);
        if n > 0
            && let Some(progress) = &mut self.source.progress
            && progress(sent, size).is_break()
        {
            return Err(self.stop(Error::Cancelled));
        }
        Ok(n)
    }
}

/// The configuration names no image API server and nothing can find one.
fn no_server() -> Error {
    Error::Config {
        file: None,
        line: None,
        message: "no image API server configured (api_servers is empty); set \
                  api_servers or endpoint_override, or log in to Keystone \
                  (password or application credential) to use the catalog"
            .into(),
    }
}
