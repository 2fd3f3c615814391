//! A recording httptest server shared by the wire suites (v1 and v2): every
//! request is kept (method, target, headers, body) and answered from a
//! scripted list, so each test asserts the exact wire of every request, in
//! order, with a readable diff.
//!
//! Every header the client sends is compared, `user-agent` included. The one
//! exception is `host`: its value holds the server's random port, so the
//! recorder checks it against the server's address itself and leaves it
//! out of [`Seen::headers`] when it matches (a wrong or missing `host`
//! shows up in the diff as `host` / `<no host>`).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use glance_client::{ApiVersion, Auth, Client, Config};
use httptest::bytes::Bytes;
use httptest::http;
use httptest::matchers::{ExecutionContext, Matcher};
use httptest::responders::{Responder, ResponseBuilder, status_code};
use httptest::{Expectation, Server};

/// The token every wire client sends.
pub const TOKEN: &str = "tok-123";

/// The `User-Agent` of every request.
pub const USER_AGENT: &str = concat!("glance-client-rust/", env!("CARGO_PKG_VERSION"));

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub method: String,
    /// Path and query, exactly as sent.
    pub target: String,
    /// Lowercase name -> value (raw bytes as lossy text); `host` is checked
    /// by the recorder (see the module docs).
    pub headers: BTreeMap<String, String>,
    /// The body as text (lossy), so a failing assertion reads well.
    pub body: String,
}

/// What a test expects: `expect("HEAD", "/v1/images/x", &[...])`. Nothing
/// is implied: every header is listed (see [`call`] for the usual set).
pub fn expect(method: &str, target: &str, headers: &[(&str, &str)]) -> Seen {
    Seen {
        method: method.into(),
        target: target.into(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        body: String::new(),
    }
}

impl Seen {
    /// The exact body bytes.
    pub fn with_body(mut self, body: &[u8]) -> Seen {
        self.body = String::from_utf8_lossy(body).into_owned();
        self
    }

    /// A JSON body, compact, keys in the order `serde_json` writes them
    /// (the client's own serializer): compared as exact text.
    pub fn with_json(self, body: serde_json::Value) -> Seen {
        let text = body.to_string();
        self.with_body(text.as_bytes())
    }
}

#[derive(Clone)]
struct Log {
    seen: Arc<Mutex<Vec<Seen>>>,
    /// `127.0.0.1:port`: the only `host` value that is left out.
    host: String,
}

impl Matcher<http::Request<Bytes>> for Log {
    fn matches(&mut self, req: &http::Request<Bytes>, _: &mut ExecutionContext) -> bool {
        let mut headers: BTreeMap<String, String> = BTreeMap::new();
        for (k, v) in req.headers() {
            let value = String::from_utf8_lossy(v.as_bytes()).into_owned();
            headers
                .entry(k.as_str().to_string())
                .and_modify(|old| {
                    old.push_str(" | ");
                    old.push_str(&value);
                })
                .or_insert(value);
        }
        match headers.remove("host") {
            Some(host) if host == self.host => {}
            Some(other) => {
                headers.insert("host".into(), other);
            }
            None => {
                headers.insert("host".into(), "<no host>".into());
            }
        }
        let seen = Seen {
            method: req.method().to_string(),
            target: req
                .uri()
                .path_and_query()
                .map_or_else(String::new, |p| p.to_string()),
            headers,
            body: String::from_utf8_lossy(req.body()).into_owned(),
        };
        self.seen.lock().unwrap().push(seen);
        true
    }

    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("record every request")
    }
}

/// A server that answers `responses` in order, one per request, and fails
/// the test (on drop) if it gets a different number of requests.
pub struct Wire {
    pub server: Server,
    log: Log,
}

impl Wire {
    pub fn new(responses: Vec<Box<dyn Responder>>) -> Wire {
        let server = Server::run();
        let log = Log {
            seen: Arc::default(),
            host: server.addr().to_string(),
        };
        let n = responses.len();
        let expectation = Expectation::matching(log.clone()).times(n);
        server.expect(if n == 0 {
            expectation.respond_with(status_code(599))
        } else {
            expectation.respond_with(httptest::responders::cycle(responses))
        });
        Wire { server, log }
    }

    /// The configuration of a client of this server: a token, one server,
    /// no retries.
    pub fn config(&self, version: ApiVersion) -> Config {
        Config {
            api_version: version,
            auth: Auth::Token(TOKEN.into()),
            num_retries: 0,
            retry_delay: std::time::Duration::ZERO,
            ..Config::for_server(self.server.url_str("/"))
        }
    }

    /// A client of this server speaking `version`.
    pub fn client_for(&self, version: ApiVersion) -> Client {
        Client::new(self.config(version)).unwrap()
    }

    /// The requests so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.log.seen.lock().unwrap().clone()
    }
}

/// The headers every bodiless JSON call (GET, HEAD, DELETE) carries, plus `extra`.
pub fn call(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut h = vec![
        ("accept", "application/json"),
        ("user-agent", USER_AGENT),
        ("x-auth-token", TOKEN),
    ];
    h.extend_from_slice(extra);
    h
}

/// The headers of a POST or PUT with an empty body (`Content-Length: 0`), plus `extra`.
pub fn empty_body(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut h = call(&[("content-length", "0")]);
    h.extend_from_slice(extra);
    h
}

/// A JSON answer.
pub fn json(status: u16, body: serde_json::Value) -> ResponseBuilder<String> {
    status_code(status)
        .insert_header("content-type", "application/json")
        .body(body.to_string())
}
