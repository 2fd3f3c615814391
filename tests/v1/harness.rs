//! A recording httptest server: every request is kept (method, target,
//! headers, body) and answered from a scripted list, so each test can assert
//! the exact wire of every request, in order, with a readable diff.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use glance_client::{ApiVersion, Auth, Client, Config};
use httptest::bytes::Bytes;
use httptest::http;
use httptest::matchers::{ExecutionContext, Matcher};
use httptest::responders::{Responder, ResponseBuilder, status_code};
use httptest::{Expectation, Server};

pub const ID: &str = "03bc0a8b-659c-4de9-b6bd-13c6e86e6455";
pub const TOKEN: &str = "tok-123";

/// Headers the HTTP layer adds on its own; everything else is asserted.
const TRANSPORT_HEADERS: [&str; 3] = ["host", "user-agent", "accept-encoding"];

/// One request as the server saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    pub method: String,
    /// Path and query, exactly as sent.
    pub target: String,
    /// Lowercase name -> value (raw bytes as lossy text), transport headers left out.
    pub headers: BTreeMap<String, String>,
    /// The body as text (lossy), so a failing assertion reads well.
    pub body: String,
}

/// What a test expects: `expect("HEAD", "/v1/images/x", &[...])`. The token
/// and `accept` are never implied: every header is listed.
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
    pub fn with_body(mut self, body: &[u8]) -> Seen {
        self.body = String::from_utf8_lossy(body).into_owned();
        self
    }
}

#[derive(Clone, Default)]
struct Log(Arc<Mutex<Vec<Seen>>>);

impl Matcher<http::Request<Bytes>> for Log {
    fn matches(&mut self, req: &http::Request<Bytes>, _: &mut ExecutionContext) -> bool {
        let headers = req
            .headers()
            .iter()
            .filter(|(k, _)| !TRANSPORT_HEADERS.contains(&k.as_str()))
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let seen = Seen {
            method: req.method().to_string(),
            target: req
                .uri()
                .path_and_query()
                .map_or_else(String::new, |p| p.to_string()),
            headers,
            body: String::from_utf8_lossy(req.body()).into_owned(),
        };
        self.0.lock().unwrap().push(seen);
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
        let log = Log::default();
        let n = responses.len();
        let expectation = Expectation::matching(log.clone()).times(n);
        server.expect(if n == 0 {
            expectation.respond_with(status_code(599))
        } else {
            expectation.respond_with(httptest::responders::cycle(responses))
        });
        Wire { server, log }
    }

    /// A v1 client with a token, one server, no retries.
    pub fn client(&self) -> Client {
        self.client_for(ApiVersion::V1)
    }

    pub fn client_for(&self, version: ApiVersion) -> Client {
        Client::new(Config {
            api_version: version,
            auth: Auth::Token(TOKEN.into()),
            num_retries: 0,
            retry_delay: std::time::Duration::ZERO,
            ..Config::for_server(self.server.url_str("/"))
        })
        .unwrap()
    }

    /// The requests so far, in order.
    pub fn seen(&self) -> Vec<Seen> {
        self.log.0.lock().unwrap().clone()
    }
}

/// The headers every bodiless JSON call (GET, HEAD, DELETE) carries, plus `extra`.
pub fn call(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut h = vec![("accept", "application/json"), ("x-auth-token", TOKEN)];
    h.extend_from_slice(extra);
    h
}

/// The headers of a POST or PUT with an empty body (`Content-Length: 0`), plus `extra`.
pub fn empty_body(extra: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut h = call(&[("content-length", "0")]);
    h.extend_from_slice(extra);
    h
}

/// A `{"image": {...}}` or other JSON answer.
pub fn json(status: u16, body: serde_json::Value) -> ResponseBuilder<String> {
    status_code(status)
        .insert_header("content-type", "application/json")
        .body(body.to_string())
}

/// A HEAD answer as a v1 server sends it: metadata headers, ETag, request id.
pub fn head_answer(meta: &[(&str, &str)]) -> ResponseBuilder<&'static str> {
    let mut r = status_code(200)
        .insert_header("content-type", "text/html; charset=UTF-8")
        .insert_header("x-openstack-request-id", "req-d5208320");
    for (k, v) in meta {
        r = r.append_header(*k, *v);
    }
    if let Some((_, sum)) = meta
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("x-image-meta-checksum"))
    {
        r = r.insert_header("etag", *sum);
    }
    r
}

/// The metadata of one image as a v1 server shows it in headers.
pub const HEAD_META: [(&str, &str); 17] = [
    ("X-Image-Meta-Checksum", "8a40c862b5735975d82605c1dd395796"),
    ("X-Image-Meta-Container_format", "bare"),
    ("X-Image-Meta-Created_at", "2016-01-06T03:22:20.000000"),
    ("X-Image-Meta-Deleted", "False"),
    ("X-Image-Meta-Disk_format", "qcow2"),
    ("X-Image-Meta-Id", ID),
    ("X-Image-Meta-Is_public", "True"),
    ("X-Image-Meta-Min_disk", "1"),
    ("X-Image-Meta-Min_ram", "64"),
    ("X-Image-Meta-Name", "cirros-0.3.4"),
    ("X-Image-Meta-Owner", "13cc6052265b41529e2fd0fc461fa8ef"),
    ("X-Image-Meta-Protected", "False"),
    ("X-Image-Meta-Size", "4979632"),
    ("X-Image-Meta-Status", "active"),
    ("X-Image-Meta-Updated_at", "2016-02-25T03:02:05.000000"),
    ("X-Image-Meta-Virtual_size", "None"),
    ("X-Image-Meta-Property-Os_distro", "cirros"),
];
