//! `/v2/cache`: the Glance server's own image cache (image API v2.14,
//! offered only where the operator enabled the cache). Not to be confused
//! with this crate's host cache (the `cache` module), which keeps images on
//! the client's machine.
//!
//! Each Glance node has its own cache, so these calls belong to one node:
//! send them to a node's own endpoint, not through a load balancer.

use http::{Method, Request, Response};
use serde::{Deserialize, Serialize};

use super::json_request;
use crate::error::{Error, Result};
use crate::wire::{finish, segment};

/// The header that narrows [`clear`] to the cache or the queue.
pub const CLEAR_TARGET_HEADER: &str = "x-image-cache-clear-target";

/// One image in the server's cache.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CachedImage {
    /// The image.
    pub image_id: String,
    /// Last read, in seconds since the epoch (0: never).
    #[serde(default)]
    pub last_accessed: f64,
    /// When it was cached, in seconds since the epoch.
    #[serde(default)]
    pub last_modified: f64,
    /// Its size in bytes.
    #[serde(default)]
    pub size: u64,
    /// How many times it was served from the cache.
    #[serde(default)]
    pub hits: u64,
}

/// What the server's cache holds and what it is about to fetch.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CacheState {
    /// The cached images.
    #[serde(rename = "cached_images", default)]
    pub cached: Vec<CachedImage>,
    /// The ids of the images queued for caching.
    #[serde(rename = "queued_images", default)]
    pub queued: Vec<String>,
}

/// Which part of the cache [`clear`] empties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClearTarget {
    /// The cached images and the queue.
    Both,
    /// The cached images only.
    Cache,
    /// The queue only.
    Queue,
}

/// `GET /v2/cache`. Parse with [`parse_state`].
pub fn list() -> Result<Request<Vec<u8>>> {
    json_request(Method::GET, "/v2/cache", None)
}

/// Parses `{"cached_images": [...], "queued_images": [...]}`.
pub fn parse_state<B: AsRef<[u8]>>(response: &Response<B>) -> Result<CacheState> {
    let state: CacheState = super::parse_json("cache state", response)?;
    if state.cached.iter().any(|c| c.image_id.is_empty()) {
        return Err(Error::invalid_response("cached image with an empty id"));
    }
    Ok(state)
}

/// `PUT /v2/cache/{id}`: queue an image for caching. Answers 202; parse
/// with [`parse_empty`](crate::wire::parse_empty).
pub fn queue(id: &str) -> Result<Request<Vec<u8>>> {
    json_request(Method::PUT, &image_in_cache(id)?, None)
}

/// `DELETE /v2/cache/{id}`: drop an image from the cache or the queue.
/// Answers 204.
pub fn delete(id: &str) -> Result<Request<Vec<u8>>> {
    json_request(Method::DELETE, &image_in_cache(id)?, None)
}

/// `DELETE /v2/cache`, with `X-Image-Cache-Clear-Target` unless `Both`.
/// Answers 204.
pub fn clear(target: ClearTarget) -> Result<Request<Vec<u8>>> {
    let mut builder =
        crate::wire::request(Method::DELETE, "/v2/cache").header(http::header::ACCEPT, super::JSON);
    match target {
        ClearTarget::Both => {}
        ClearTarget::Cache => builder = builder.header(CLEAR_TARGET_HEADER, "cache"),
        ClearTarget::Queue => builder = builder.header(CLEAR_TARGET_HEADER, "queue"),
    }
    finish(builder, Vec::new())
}

fn image_in_cache(id: &str) -> Result<String> {
    Ok(format!("/v2/cache/{}", segment("image id", id)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::test_ok as ok;

    #[test]
    fn requests() {
        assert_eq!(list().unwrap().uri(), "/v2/cache");
        let r = queue("i").unwrap();
        assert_eq!(
            (r.method(), r.uri().to_string()),
            (&Method::PUT, "/v2/cache/i".into())
        );
        let r = delete("i").unwrap();
        assert_eq!(r.method(), Method::DELETE);
        assert!(delete("").is_err());
        let r = clear(ClearTarget::Both).unwrap();
        assert_eq!(r.uri(), "/v2/cache");
        assert!(r.headers().get(CLEAR_TARGET_HEADER).is_none());
        assert_eq!(
            clear(ClearTarget::Queue).unwrap().headers()[CLEAR_TARGET_HEADER],
            "queue"
        );
        assert_eq!(
            clear(ClearTarget::Cache).unwrap().headers()[CLEAR_TARGET_HEADER],
            "cache"
        );
    }

    #[test]
    fn parses_the_real_answer() {
        let body = r#"{"cached_images": [{"id": 1, "image_id": "9c03", "last_accessed": 1796628249.547044, "last_modified": 1796628249.547055, "size": 1000, "hits": 0, "checksum": null}], "queued_images": ["a1"]}"#;
        let state = parse_state(&ok(body)).unwrap();
        assert_eq!(state.cached[0].image_id, "9c03");
        assert_eq!(state.cached[0].size, 1000);
        assert_eq!(state.cached[0].last_modified, 1796628249.547055);
        assert_eq!(state.queued, ["a1"]);
        assert_eq!(parse_state(&ok("{}")).unwrap(), CacheState::default());
    }
}
