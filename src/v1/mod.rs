//! Glance image API v1, sans-IO.
//!
//! Glance removed v1 upstream (a current Glance answers `300` to `/v1/...`);
//! this module speaks the documented v1 wire format for the clouds that still
//! run it. As in `v2`, every operation is a pure request builder
//! and a pure response parser, so any HTTP client (or a fuzzer) can drive
//! them without a server:
//!
//! ```
//! use glance_client::{http, v1};
//!
//! let request = v1::images::show("03bc0a8b-659c-4de9-b6bd-13c6e86e6455")?;
//! assert_eq!(request.method(), http::Method::HEAD);
//!
//! let response = http::Response::builder()
//!     .status(200)
//!     .header("x-image-meta-id", "03bc0a8b-659c-4de9-b6bd-13c6e86e6455")
//!     .header("x-image-meta-status", "active")
//!     .header("x-image-meta-is_public", "True")
//!     .header("x-image-meta-property-os_distro", "cirros")
//!     .body(&b""[..])?;
//! let image = v1::images::parse_show(&response)?;
//! assert_eq!(image.visibility, "public");
//! assert_eq!(image.properties["os_distro"], "cirros");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # How v1 differs
//!
//! - Image metadata travels in `x-image-meta-<field>` headers (custom
//!   properties in `x-image-meta-property-<key>`) on `HEAD`, `GET`, `POST`
//!   and `PUT`; see [`headers`] for the exact codec. `POST` and `PUT` answer
//!   `{"image": {...}}`; listings answer `{"images": [...]}` without links
//!   and are paged with `marker`/`limit`.
//! - Visibility is a boolean, `is_public`: `public` or `private` only.
//! - There are no tags, no hidden images, no secure hash (`md5` only), no
//!   import, no stores and no image actions; membership has `can_share`
//!   instead of a status.
//! - `PUT /v1/images/{id}` replaces the whole property set unless
//!   `x-glance-registry-purge-props: false` is sent; [`images::update`]
//!   always says which.
//!
//! The [`ImageMeta`] each parser produces converts into the crate's
//! version-neutral [`Image`](crate::Image) ([`ImageMeta::into_image`]).
//!
//! Requests with a streamed body (create or update with data) and responses
//! with one (download) carry an empty body here; the caller attaches or
//! reads the stream.

mod changes;
pub mod headers;
pub mod images;
pub mod members;
mod meta;
mod values;

pub use changes::CreateOptions;
pub use meta::ImageMeta;

use crate::error::Result;

/// The path of one image.
pub(crate) fn image_path(id: &str) -> Result<String> {
    Ok(format!(
        "/v1/images/{}",
        crate::wire::segment("image id", id)?
    ))
}
