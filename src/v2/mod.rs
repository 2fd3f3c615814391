//! Glance image API v2, sans-IO.
//!
//! Every operation is a pair of pure functions: a builder that returns an
//! [`http::Request`] whose URI is a path relative to the API root (the
//! [`Client`](crate::Client) prefixes a server), and a parser that turns the
//! [`http::Response`] (status, headers, body bytes) into typed values or an
//! [`Error`](crate::Error). No function here performs I/O, so they can be
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

pub mod cache;
pub mod images;
pub mod import;
pub mod locations;
pub mod members;
pub mod stores;
pub mod tags;
pub mod tasks;
pub mod usage;
pub mod versions;

pub(crate) use crate::wire::{JSON, json_request, parse_json, to_json};

use crate::error::Result;

/// `Content-Type` Glance requires for `PATCH /v2/images/{id}`.
pub const PATCH_CONTENT_TYPE: &str = "application/openstack-images-v2.1-json-patch";

/// The path of one image.
pub(crate) fn image_path(id: &str) -> Result<String> {
    Ok(format!(
        "/v2/images/{}",
        crate::wire::segment("image id", id)?
    ))
}
