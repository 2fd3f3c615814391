//! Keystone logins over the wire: the sans-IO request and parser of
//! [`auth`](crate::auth), sent through the one attempt loop (a login is
//! safe to repeat), the token kept in the login's [`Session`].

use std::fmt;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use http::{Request, Response};
use ureq::Agent;

use super::connect::Connector;
use super::failure::read_capped;
use super::retry::{Call, Failed, Policy, Retry};
use super::{outgoing, send_on};
use crate::auth::{self, Held, Login, Session};
use crate::call::Ctx;
use crate::error::Result;
use crate::wire;

/// A Keystone login, where it is sent, and the token it last gave.
pub(super) struct Keystone {
    session: Session,
    /// `…/v3/auth/tokens`.
    url: String,
    /// The `auth_url` as given, without a trailing slash: the server a
    /// failed attempt names.
    server: String,
    agent: Agent,
}

impl fmt::Debug for Keystone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Keystone")
            .field("session", &self.session)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl Keystone {
    /// Checks the login and its URL and builds its agent. No request yet.
    pub(super) fn new(login: Login, connector: &Connector) -> Result<Keystone> {
        let url = auth::tokens_url(login.auth_url())?;
        let agent = connector.agent(&url)?;
        let server = login.auth_url().trim().trim_end_matches('/').to_string();
        Ok(Keystone {
            session: Session::new(login)?,
            url,
            server,
            agent,
        })
    }

    /// The current token, logging in first when there is none or it is
    /// about to expire (see [`Session::token`] for who waits for whom).
    pub(super) fn token(&self, ctx: &Ctx, policy: &Policy) -> Result<Arc<Held>> {
        self.session
            .token(ctx, |login| self.log_in(ctx, login, policy))
    }

    /// A token to use instead of `rejected`, which the image API refused.
    pub(super) fn renew(
        &self,
        ctx: &Ctx,
        rejected: &Arc<Held>,
        policy: &Policy,
    ) -> Result<Arc<Held>> {
        self.session
            .renew(ctx, rejected, |login| self.log_in(ctx, login, policy))
    }

    /// One login, repeated like a safe request after a connection failure
    /// or a 502/503/504, within the call `ctx` of the caller that sends it
    /// (its cancel handle and deadline; its global request id is sent too,
    /// so that Keystone's log ties the login to the call that needed it).
    fn log_in(&self, ctx: &Ctx, login: &Login, policy: &Policy) -> Result<Held> {
        let describe = login.describe();
        let request = auth::login_request(&self.url, login)?;
        let call = Call {
            describe: &|_| format!("POST {}: Keystone {describe}", self.url),
            retry: Retry::Safe,
            next: "trying again",
        };
        policy.run(ctx, &call, |_, _| {
            let started = Instant::now();
            let held = self.attempt(ctx, &request).and_then(|response| {
                self.issued(&response, &describe, started)
                    .map_err(|error| Failed {
                        // Keystone answered: its refusal is the answer.
                        last: true,
                        ..Failed::from(error)
                    })
            });
            (self.server.as_str(), held)
        })
    }

    fn attempt(
        &self,
        ctx: &Ctx,
        request: &Request<Vec<u8>>,
    ) -> std::result::Result<Response<Vec<u8>>, Failed> {
        let url = request.uri().to_string();
        let body = request.body().as_slice();
        let outgoing = outgoing(request, &url, None, ctx.request_id(), body)?;
        let during = || format!("logging in to Keystone at {url}");
        let response = send_on(&self.agent, &self.server, ctx, outgoing, during)?;
        Ok(read_capped(&self.server, ctx, response)?)
    }

    /// The token of a login's answer, obtained at `started`.
    fn issued(
        &self,
        response: &Response<Vec<u8>>,
        describe: &str,
        started: Instant,
    ) -> Result<Held> {
        log::debug!(
            "POST {} -> {} ({}, {describe})",
            self.url,
            response.status().as_u16(),
            wire::header(response.headers(), wire::REQUEST_ID).unwrap_or("no request id"),
        );
        let issued = auth::parse_login(response, describe, now_ms())?;
        match issued.lifetime {
            Some(l) => log::debug!("Keystone {describe}: token valid for {} s", l.as_secs()),
            None => log::debug!("Keystone {describe}: token without expiry"),
        }
        Ok(Held::new(issued, started))
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
