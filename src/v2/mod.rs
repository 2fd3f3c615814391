//! Glance image API v2, sans-IO.
//!
//! Every operation is a pair of pure functions: a builder that returns an
//! [`http::Request`] whose URI is a path relative to the API root (the
//! [`Client`](crate::Client) prefixes a server), and a parser that turns the
//! [`http::Response`] (status, headers, body bytes) into typed values or an
//! [`Error`]. No function here performs I/O, so they can be
//! tested and fuzzed without a server, or driven by any HTTP client:
//!
//! ```
//! use glance_client::{http, v2};
//!
//! let request = v2::images::show("e54e8577-3aa8-44c2-afc1-6205679c7fba")?;
//! assert_eq!(request.uri(), "/v2/images/e54e8577-3aa8-44c2-afc1-6205679c7fba");
//!
//! let body = br#"{"id": "e54e8577-3aa8-44c2-afc1-6205679c7fba", "status": "active"}"#;
//! let response = http::Response::builder().status(200).body(&body[..])?;
//! let image = v2::images::parse_image(&response)?;
//! assert!(image.is_active());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Requests with a streamed body (upload, stage) and responses with one
//! (download) carry an empty body here; the caller attaches or reads the
//! stream.

pub mod images;
pub mod import;
pub mod members;
pub mod tags;
pub mod versions;

pub use crate::wire::parse_error;

use http::Response;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// `Content-Type` of a JSON body.
pub(crate) const JSON: &str = "application/json";
/// `Content-Type` Glance requires for `PATCH /v2/images/{id}`.
pub const PATCH_CONTENT_TYPE: &str = "application/openstack-images-v2.1-json-patch";
/// `Content-Type` of image data.
pub const OCTET_STREAM: &str = "application/octet-stream";

/// A JSON request with `Accept: application/json`, so errors come back as JSON too.
pub(crate) fn json_request(
    method: http::Method,
    path: &str,
    body: Option<(&str, Vec<u8>)>,
) -> Result<http::Request<Vec<u8>>> {
    let mut builder = crate::wire::request(method, path).header(http::header::ACCEPT, JSON);
    let body = match body {
        Some((content_type, bytes)) => {
            builder = builder.header(http::header::CONTENT_TYPE, content_type);
            bytes
        }
        None => Vec::new(),
    };
    crate::wire::finish(builder, body)
}

/// Serializes a request body; our own types always serialize.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec(value).map_err(|e| Error::InvalidInput(format!("cannot encode JSON: {e}")))
}

/// Checks the status, then decodes a JSON body into `T`.
pub(crate) fn parse_json<T: DeserializeOwned, B: AsRef<[u8]>>(
    what: &str,
    response: &Response<B>,
) -> Result<T> {
    crate::wire::check(response)?;
    serde_json::from_slice(response.body().as_ref())
        .map_err(|e| Error::invalid_response(format!("{what}: {e}")))
}

/// Checks that a response is a success with nothing to parse (204, 202, ...).
pub fn parse_empty<B: AsRef<[u8]>>(response: &Response<B>) -> Result<()> {
    crate::wire::check(response)
}

/// The path of one image.
pub(crate) fn image_path(id: &str) -> Result<String> {
    Ok(format!(
        "/v2/images/{}",
        crate::wire::segment("image id", id)?
    ))
}
