//! What the `v1` and `v2` wire code shares,
//! sans-IO: the parser of error answers and of empty ones, the head of a
//! download answer ([`DownloadStart`]), and the content types.
//!
//! Inside the crate it also holds the helpers both versions build on (path
//! encoding, header access, JSON bodies, timestamps). Pure functions, no I/O.

mod download;
pub(crate) mod timestamp;

pub use download::{DownloadStart, parse_content_range, parse_download_start};
pub use timestamp::format_utc;

use http::{HeaderMap, Response};
use serde::de::DeserializeOwned;

use crate::error::{ApiError, Error, Result};

/// `Content-Type` of image data.
pub const OCTET_STREAM: &str = "application/octet-stream";

/// `Content-Type` of a JSON body.
pub(crate) const JSON: &str = "application/json";

/// Largest JSON body of a successful answer this client reads into memory.
/// A page of 1000 images is about 1.5 MB; anything near this cap is not
/// Glance. Error answers are read only up to 64 KiB.
pub(crate) const MAX_JSON_BODY: u64 = 32 * 1024 * 1024;

/// The header carrying Glance's request id.
pub(crate) const REQUEST_ID: &str = "x-openstack-request-id";

/// Percent-encodes one path segment (RFC 3986 unreserved characters pass).
/// An empty segment is refused: it would change which resource is addressed.
pub(crate) fn segment(what: &str, value: &str) -> Result<String> {
    if value.is_empty() {
        return Err(Error::InvalidInput(format!("{what} must not be empty")));
    }
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out == "." || out == ".." {
        return Err(Error::InvalidInput(format!("{what} must not be {value:?}")));
    }
    Ok(out)
}

/// A header as text, when present and valid visible ASCII.
pub(crate) fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// The request id of a response, if any.
pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    header(headers, REQUEST_ID).map(String::from)
}

/// A `Content-Length` header as a number: absent is `None`, malformed an error.
pub(crate) fn content_length(headers: &HeaderMap) -> Result<Option<u64>> {
    match headers.get(http::header::CONTENT_LENGTH) {
        None => Ok(None),
        Some(v) => v
            .to_str()
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .map(Some)
            .ok_or_else(|| Error::invalid_response(format!("bad Content-Length {v:?}"))),
    }
}

/// Builds a request with a path (and query) relative to the API root.
pub(crate) fn request(method: http::Method, path_and_query: &str) -> http::request::Builder {
    http::Request::builder().method(method).uri(path_and_query)
}

/// A request with `Accept: application/json` (so errors come back as JSON
/// too) and, when given, a body of the given content type.
pub(crate) fn json_request(
    method: http::Method,
    path: &str,
    body: Option<(&str, Vec<u8>)>,
) -> Result<http::Request<Vec<u8>>> {
    let mut builder = request(method, path).header(http::header::ACCEPT, JSON);
    let body = match body {
        Some((content_type, bytes)) => {
            builder = builder.header(http::header::CONTENT_TYPE, content_type);
            bytes
        }
        None => Vec::new(),
    };
    finish(builder, body)
}

/// `GET` of image data at `path`, from byte `offset` on when it is not zero
/// (`Range: bytes=<offset>-`).
pub(crate) fn download_request(path: &str, offset: u64) -> Result<http::Request<Vec<u8>>> {
    let mut builder = request(http::Method::GET, path).header(
        http::header::ACCEPT,
        "application/octet-stream, application/json",
    );
    if offset > 0 {
        builder = builder.header(http::header::RANGE, format!("bytes={offset}-"));
    }
    finish(builder, Vec::new())
}

/// Finishes a request builder; its inputs were all validated, so a failure
/// here means a caller value slipped through (reported, never a panic).
pub(crate) fn finish(
    builder: http::request::Builder,
    body: Vec<u8>,
) -> Result<http::Request<Vec<u8>>> {
    builder
        .body(body)
        .map_err(|e| Error::InvalidInput(format!("cannot build request: {e}")))
}

/// Serializes a request body; our own types always serialize.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| Error::Internal(format!("cannot encode JSON: {e}")))
}

/// Checks the status, then decodes a JSON body into `T`; `what` names the
/// body in an error.
pub(crate) fn parse_json<T: DeserializeOwned, B: AsRef<[u8]>>(
    what: &str,
    response: &Response<B>,
) -> Result<T> {
    check(response)?;
    serde_json::from_slice(response.body().as_ref())
        .map_err(|e| Error::invalid_response(format!("{what}: {e}")))
}

/// Checks that a response is a success with nothing to parse (a delete, a
/// member or tag call, an import: 204, 202, ...), in either API version.
pub fn parse_empty<B: AsRef<[u8]>>(response: &Response<B>) -> Result<()> {
    check(response)
}

/// Passes a 2xx response through; maps anything else to its [`Error`].
pub(crate) fn check<B: AsRef<[u8]>>(response: &Response<B>) -> Result<()> {
    if response.status().is_success() {
        Ok(())
    } else {
        Err(parse_error(response))
    }
}

/// Turns an error response (JSON or HTML body) into the [`Error`] of its status.
///
/// Glance answers JSON `{"message", "code", "title"}` when asked for JSON
/// (the message may still hold HTML such as `<br />`), HTML otherwise; both
/// reduce to a one-line message.
pub fn parse_error<B: AsRef<[u8]>>(response: &Response<B>) -> Error {
    let status = response.status().as_u16();
    let body = response.body().as_ref();
    if status == 300 {
        // Glance's answer to a path of an API version it does not serve
        // (every `/v1/...` on Glance 33): the body is the versions document.
        return Error::from_status(ApiError {
            status,
            message: "the server does not serve this API version (see GET /versions)".into(),
            request_id: request_id(response.headers()),
        });
    }
    let message = error_message(body).unwrap_or_else(|| {
        response
            .status()
            .canonical_reason()
            .unwrap_or("")
            .to_string()
    });
    Error::from_status(ApiError {
        status,
        message,
        request_id: request_id(response.headers()),
    })
}

/// The message of an error body, or `None` when there is nothing readable.
fn error_message(body: &[u8]) -> Option<String> {
    let body = &body[..body.len().min(64 * 1024)];
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        // {"message": ...} (Glance) or {"error": {"message": ...}} (Keystone style).
        let msg = value
            .get("message")
            .or_else(|| value.get("error").and_then(|e| e.get("message")))
            .and_then(|m| m.as_str())
            .or_else(|| value.get("title").and_then(|t| t.as_str()));
        if let Some(msg) = msg {
            let text = strip_html(msg);
            return (!text.is_empty()).then_some(text);
        }
    }
    let text = String::from_utf8_lossy(body);
    // Glance's HTML pages repeat the title in <title> and <h1>; the message follows </h1>.
    let after_h1 = match text.find("</h1>") {
        Some(i) => &text[i + 5..],
        None => &text[..],
    };
    let text = strip_html(after_h1);
    (!text.is_empty()).then_some(text)
}

/// Removes tags, decodes the few entities Glance emits, collapses whitespace.
pub(crate) fn strip_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A `200` answer with `body`, for the parsers' unit tests.
#[cfg(test)]
pub(crate) fn test_ok(body: &str) -> Response<&[u8]> {
    Response::builder()
        .status(200)
        .body(body.as_bytes())
        .expect("a 200 with a body is a valid response")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, body: &str) -> Response<&[u8]> {
        Response::builder()
            .status(status)
            .header(REQUEST_ID, "req-1")
            .body(body.as_bytes())
            .unwrap()
    }

    #[test]
    fn segments_are_encoded() {
        assert_eq!(segment("id", "abc-1_2.3~").unwrap(), "abc-1_2.3~");
        assert_eq!(segment("tag", "a b/c?").unwrap(), "a%20b%2Fc%3F");
        assert_eq!(segment("tag", "é").unwrap(), "%C3%A9");
        assert!(segment("id", "").is_err());
        assert!(segment("id", "..").is_err());
    }

    #[test]
    fn json_error_message_loses_its_html() {
        let body = include_str!("../../tests/fixtures/v2/error-409.json");
        let err = parse_error(&response(409, body));
        let Error::Conflict(api) = err else {
            panic!("expected Conflict, got {err:?}")
        };
        assert_eq!(
            api.message,
            "Image status transition from active to saving is not allowed"
        );
        assert_eq!(api.request_id.as_deref(), Some("req-1"));
    }

    #[test]
    fn html_error_page_gives_its_message() {
        let body = include_str!("../../tests/fixtures/v2/error-404.html");
        let err = parse_error(&response(404, body));
        assert_eq!(
            err.to_string(),
            "not found: HTTP 404: No image found with ID 00000000-0000-0000-0000-000000000000 (request id req-1)"
        );
    }

    #[test]
    fn empty_or_garbage_bodies_still_give_the_status() {
        let err = parse_error(&response(503, ""));
        assert!(
            matches!(err, Error::Server(ref a) if a.message == "Service Unavailable"),
            "{err:?}"
        );
        let err = parse_error(&response(400, "\u{0}\u{1}<"));
        assert!(matches!(err, Error::BadRequest(_)), "{err:?}");
    }

    #[test]
    fn a_300_means_the_api_version_is_not_served() {
        let err = parse_error(&response(300, r#"{"versions": []}"#));
        assert!(matches!(err, Error::Api(_)), "{err:?}");
        assert!(
            err.to_string().contains("does not serve this API version"),
            "{err}"
        );
    }

    #[test]
    fn content_length_must_be_a_number() {
        let mut h = HeaderMap::new();
        assert_eq!(content_length(&h).unwrap(), None);
        h.insert("content-length", "12".parse().unwrap());
        assert_eq!(content_length(&h).unwrap(), Some(12));
        h.insert("content-length", "twelve".parse().unwrap());
        assert!(content_length(&h).is_err());
    }
}
