//! [`Client`]: the blocking entry point. It dispatches each operation to the
//! `v1` or `v2` wire code, as [`Config::api_version`] says, and carries it
//! over the [`Transport`].
//!
//! Operations v1 has no equivalent for fail with [`Error::Unsupported`] in
//! v1 mode before any request is made; v1's own extras, behind
//! [`Client::v1`], fail the same way in v2 mode.

mod api_version;
mod cache;
mod images;
mod import;
mod list;
mod locations;
mod members;
mod stores;
mod stream;
mod tasks;
mod upload;
mod v1_calls;

pub use list::Images;
pub use stream::ImageStream;
pub use upload::ImageData;
pub use v1_calls::V1Client;

use std::sync::Arc;

use http::{Request, Response, StatusCode};

use crate::config::{ApiVersion, Config};
use crate::error::{Error, Result};
use crate::transport::{Retry, Transport};
use crate::v2;

/// A blocking Glance client. Cheap to clone (the state is shared), and
/// `Send + Sync`, so one client can serve many threads.
///
/// It speaks image API v2 unless the config asks for
/// [`ApiVersion::V1`](crate::ApiVersion::V1); the same calls then use v1.
///
/// ```no_run
/// use glance_client::{Client, Config};
///
/// let client = Client::new(Config::for_server("http://127.0.0.1:9292"))?;
/// for image in client.images(&Default::default()) {
///     let image = image?;
///     println!("{} {}", image.id, image.name.as_deref().unwrap_or(""));
/// }
/// # Ok::<(), glance_client::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    transport: Transport,
    /// The server's versions document, read once, by the first call that
    /// needs a minor version (see `api_version.rs`).
    versions: std::sync::OnceLock<Vec<v2::versions::Version>>,
}

impl Client {
    /// Builds a client. Fails when a server URL is not an http(s) URL, a
    /// TLS file is unusable, a Keystone login is incomplete, or no server is
    /// configured and there is no Keystone login whose catalog could name
    /// one. No request is made: a Keystone login happens at the first
    /// request (or [`Client::auth_token`]), and its failures, such as
    /// [`Error::Unauthorized`] for a wrong password or [`Error::Catalog`]
    /// when the catalog has no image API, are that call's error.
    pub fn new(config: Config) -> Result<Client> {
        let transport = Transport::new(&config)?;
        Ok(Client {
            inner: Arc::new(Inner {
                config,
                transport,
                versions: std::sync::OnceLock::new(),
            }),
        })
    }

    /// The configuration the client was built from.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The servers in the order they are tried (after the one-time shuffle).
    /// Empty while the image API is still to be found in the Keystone
    /// catalog, which the first request does.
    pub fn servers(&self) -> &[String] {
        self.inner.transport.servers()
    }

    /// The token the client sends as `X-Auth-Token`: the given
    /// [`Auth::Token`](crate::Auth::Token), or the current Keystone token,
    /// logging in first when there is none or it is about to expire; `None`
    /// without authentication. It is a secret: for handing to another
    /// program, never for a log.
    pub fn auth_token(&self) -> Result<Option<String>> {
        self.inner.transport.token()
    }

    fn version(&self) -> ApiVersion {
        self.inner.config.api_version
    }

    fn transport(&self) -> &Transport {
        &self.inner.transport
    }

    /// Fails with [`Error::Unsupported`] unless the client speaks v2.
    fn require_v2(&self, operation: &'static str) -> Result<()> {
        self.require(ApiVersion::V2, operation)
    }

    /// Fails with [`Error::Unsupported`] unless the client speaks v1.
    fn require_v1(&self, operation: &'static str) -> Result<()> {
        self.require(ApiVersion::V1, operation)
    }

    fn require(&self, wanted: ApiVersion, operation: &'static str) -> Result<()> {
        match self.version() {
            v if v == wanted => Ok(()),
            v => Err(Error::Unsupported {
                operation,
                api_version: v.number(),
            }),
        }
    }

    /// Sends a request built by the wire code and parses the whole answer.
    pub(crate) fn call<T>(
        &self,
        request: Result<Request<Vec<u8>>>,
        retry: Retry,
        parse: impl FnOnce(&Response<Vec<u8>>) -> Result<T>,
    ) -> Result<T> {
        let response = self.inner.transport.json(&request?, retry)?;
        parse(&response)
    }

    /// Sends a request that removes something (a `DELETE`), retried like
    /// a read. When an earlier attempt's answer was lost (the request may
    /// have reached the server) and the retry answers 404, that earlier
    /// attempt most likely did the removal: counted as done, with a warning.
    pub(crate) fn remove(&self, request: Result<Request<Vec<u8>>>, what: &str) -> Result<()> {
        let request = request?;
        let (response, done) = self.send_noting_loss(
            &request,
            Retry::Safe,
            StatusCode::NOT_FOUND,
            what,
            "removed",
        )?;
        if done {
            return Ok(());
        }
        crate::wire::check(&response)
    }

    /// Sends a request that creates something under a name the caller
    /// chose (an image with an id, a member). When an earlier attempt's
    /// answer was lost and the retry answers 409, that earlier attempt most
    /// likely created it: `existing` fetches and returns it, with a warning
    /// (the 409 is returned if that fetch fails).
    pub(crate) fn create_named<T>(
        &self,
        request: Result<Request<Vec<u8>>>,
        retry: Retry,
        parse: impl FnOnce(&Response<Vec<u8>>) -> Result<T>,
        what: &str,
        existing: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        let request = request?;
        let (response, done) =
            self.send_noting_loss(&request, retry, StatusCode::CONFLICT, what, "created")?;
        if done {
            return existing().map_err(|_| crate::wire::parse_error(&response));
        }
        parse(&response)
    }

    /// Sends `request`; the flag says the answer is `status` and came after
    /// an attempt whose answer was lost, so that attempt most likely did
    /// the work (logged as a warning: `what` taken as `done`).
    fn send_noting_loss(
        &self,
        request: &Request<Vec<u8>>,
        retry: Retry,
        status: StatusCode,
        what: &str,
        done: &str,
    ) -> Result<(Response<Vec<u8>>, bool)> {
        let (response, after_loss) = self.inner.transport.json_noting_loss(request, retry)?;
        let met = after_loss && response.status() == status;
        if met {
            log::warn!(
                "{} {}: {} after an attempt whose answer was lost; {what} taken as \
                 {done} by that attempt",
                request.method(),
                request.uri().path(),
                status.as_u16()
            );
        }
        Ok((response, met))
    }

    /// The API versions the server offers (`GET /versions`, or the `300`
    /// answer of `GET /` where `/versions` is not found).
    pub fn versions(&self) -> Result<Vec<v2::versions::Version>> {
        match self.call(
            v2::versions::versions(),
            Retry::Safe,
            v2::versions::parse_versions,
        ) {
            Err(Error::NotFound(_)) => self.call(
                v2::versions::root(),
                Retry::Safe,
                v2::versions::parse_versions,
            ),
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_is_cheap_to_share() {
        fn assert_traits<T: Clone + Send + Sync + 'static>() {}
        assert_traits::<Client>();
    }

    #[test]
    fn needs_a_server() {
        assert!(matches!(
            Client::new(Config::default()),
            Err(Error::Config { .. })
        ));
    }
}
