//! The Glance server's own image cache (image API v2.14): v2 only.

use super::Client;
use crate::error::Result;
use crate::transport::Retry;
use crate::v2;
use crate::v2::cache::{CacheState, ClearTarget};
use crate::wire;

/// What the cache calls need: v2.14 listed by the server, which Glance does
/// only with its cache enabled.
const CACHE_API: &str = "the image cache API (image API v2.14, which the server does not offer: \
                         is its cache enabled?)";

impl Client {
    /// What the server's cache holds and has queued (`GET /v2/cache`).
    ///
    /// Each Glance node has a cache of its own: configure the node's own
    /// endpoint, not a load balancer's. Fails with
    /// [`Error::Unsupported`](crate::Error::Unsupported) before asking when
    /// the server does not list image API v2.14 (its cache is off).
    pub fn server_cache(&self) -> Result<CacheState> {
        self.require_minor(14, true, CACHE_API)?;
        self.call(v2::cache::list(), Retry::Safe, v2::cache::parse_state)
    }

    /// Queues an image for the server's cache (`PUT /v2/cache/{id}`; see
    /// [`Client::server_cache`]).
    pub fn queue_in_server_cache(&self, id: &str) -> Result<()> {
        self.require_minor(14, true, CACHE_API)?;
        self.call(v2::cache::queue(id), Retry::Safe, wire::parse_empty)
    }

    /// Removes an image from the server's cache or its queue
    /// (`DELETE /v2/cache/{id}`; see [`Client::server_cache`]).
    pub fn delete_from_server_cache(&self, id: &str) -> Result<()> {
        self.require_minor(14, true, CACHE_API)?;
        self.remove(v2::cache::delete(id), &format!("cached image {id}"))
    }

    /// Empties the server's cache, its queue, or both (`DELETE /v2/cache`;
    /// see [`Client::server_cache`]).
    pub fn clear_server_cache(&self, target: ClearTarget) -> Result<()> {
        self.require_minor(14, true, CACHE_API)?;
        self.call(v2::cache::clear(target), Retry::Safe, wire::parse_empty)
    }
}
