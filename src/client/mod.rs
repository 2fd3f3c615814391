//! [`Client`]: the blocking entry point. It dispatches each operation to the
//! `v1` or `v2` wire code, as [`Config::api_version`] says, and carries it
//! over the [`Transport`].
//!
//! Operations v1 has no equivalent for fail with [`Error::Unsupported`] in
//! v1 mode before any request is made; v1's own extras, behind
//! [`Client::v1`], fail the same way in v2 mode.

mod api_version;
#[cfg(feature = "signatures")]
mod barbican;
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

#[cfg(feature = "signatures")]
pub use barbican::BarbicanSource;
pub use list::Images;
pub use stream::ImageStream;
pub use upload::ImageData;
pub use v1_calls::V1Client;

use std::sync::Arc;
use std::time::Instant;

use http::{Request, Response, StatusCode};

use crate::call::{CallOptions, Cancel, Ctx, Deadline, Hook, check_request_id};
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
///
/// [`Client::with`] gives a view of the same client whose calls carry a
/// cancel handle, a deadline or a global request id ([`CallOptions`]).
#[derive(Clone, Debug)]
pub struct Client {
    inner: Arc<Inner>,
    /// What the calls of this view carry.
    scope: Scope,
}

/// What every call of a [`Client`] view carries: [`CallOptions`], checked.
#[derive(Clone, Debug, Default)]
struct Scope {
    cancel: Option<Cancel>,
    deadline: Option<Deadline>,
    request_id: Option<String>,
    /// The hooks of a cancel handle linked to two others (see
    /// [`Client::narrowed`]), alive as long as a view uses it.
    links: Option<Arc<[Hook; 2]>>,
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
    ///
    /// It also fails, with [`Error::Config`], when the configuration asks
    /// for what this build does not do ([`Config::verify_glance_signatures`]
    /// and the other signature options without cargo feature `signatures`),
    /// gives a `barbican_endpoint` that is not an http(s) URL, or gives a [`Config::user_agent_prefix`] or
    /// [`Config::global_request_id`] that would make a malformed header.
    pub fn new(config: Config) -> Result<Client> {
        crate::config::refuse_unsupported(&config)?;
        crate::config::check_identity(&config)?;
        let transport = Transport::new(&config)?;
        Ok(Client {
            inner: Arc::new(Inner {
                config,
                transport,
                versions: std::sync::OnceLock::new(),
            }),
            scope: Scope::default(),
        })
    }

    /// A view of this client (the same servers, token and connections)
    /// whose calls carry `options`: a cancel handle another thread can
    /// trigger, a deadline, a global request id. They replace the options
    /// of the view this is called on. Cheap: nothing is checked or sent
    /// until a call; an invalid [`CallOptions::request_id`] fails each call
    /// with [`Error::InvalidInput`] before any request.
    ///
    /// Every call of the view takes them: listings (the [`Images`] iterator
    /// keeps the view), show, create, update, delete, upload, stage,
    /// downloads, [`Client::auth_token`] and the Keystone logins calls make.
    /// See [`CallOptions`] for what a cancel and a deadline do, and how soon.
    pub fn with(&self, options: CallOptions) -> Client {
        let deadline = options.deadline.map(|at| Deadline {
            at,
            what: "the call's deadline (CallOptions::deadline)".into(),
        });
        Client {
            inner: self.inner.clone(),
            scope: Scope {
                cancel: options.cancel,
                deadline,
                request_id: options.request_id,
                links: None,
            },
        }
    }

    /// This view, its calls also stopped by `cancel` and over by
    /// `deadline` (named `what` in errors), whichever comes first.
    pub(crate) fn narrowed(
        &self,
        cancel: Option<&Cancel>,
        deadline: Option<Instant>,
        what: &str,
    ) -> Client {
        let mut scope = self.scope.clone();
        match (&scope.cancel, cancel) {
            (Some(mine), Some(also)) => {
                let (either, hooks) = Cancel::either(mine, also);
                scope.cancel = Some(either);
                scope.links = Some(Arc::new(hooks));
            }
            (None, Some(also)) => scope.cancel = Some(also.clone()),
            _ => {}
        }
        if let Some(at) = deadline
            && scope.deadline.as_ref().is_none_or(|d| at < d.at)
        {
            scope.deadline = Some(Deadline {
                at,
                what: what.into(),
            });
        }
        Client {
            inner: self.inner.clone(),
            scope,
        }
    }

    /// The context of one call of this view, from its start: the view's
    /// cancel handle, deadline and request id (checked, else the
    /// configuration's), and for a call without image data (`data` false)
    /// [`Config::call_timeout`] from now. Fails when the request id is
    /// malformed or the call is already cancelled or past its deadline.
    pub(crate) fn ctx(&self, data: bool) -> Result<Ctx> {
        let request_id = match &self.scope.request_id {
            Some(id) => {
                check_request_id(id)
                    .map_err(|why| Error::InvalidInput(format!("CallOptions::request_id {why}")))?;
                Some(id.clone())
            }
            None => self.inner.config.global_request_id.clone(),
        };
        let mut ctx = Ctx::new(self.scope.cancel.clone(), request_id);
        if let Some(deadline) = &self.scope.deadline {
            ctx.limit(deadline.clone());
        }
        if let Some(timeout) = self.inner.config.call_timeout.filter(|_| !data)
            && let Some(at) = Instant::now().checked_add(timeout)
        {
            ctx.limit(Deadline {
                at,
                what: format!("the call's timeout (Config::call_timeout, {timeout:?})").into(),
            });
        }
        ctx.check(|| "starting the call".into())?;
        Ok(ctx)
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
        self.inner.transport.token(&self.ctx(false)?)
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
        let request = request?;
        let response = self
            .inner
            .transport
            .json(&self.ctx(false)?, &request, retry)?;
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
        let ctx = self.ctx(false)?;
        let (response, after_loss) = self
            .inner
            .transport
            .json_noting_loss(&ctx, request, retry)?;
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
