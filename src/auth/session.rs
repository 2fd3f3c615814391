//! The token a client holds: obtained on first use, renewed shortly before it
//! expires or after the image API refused it, shared by every clone and
//! thread of the client.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use ureq::Agent;

use super::catalog::Service;
use super::login::{Login, login_request, parse_login};
use crate::error::{Error, Result};
use crate::transport::{is_retryable, read_capped, transport_error};
use crate::wire;

/// A token is renewed this long before it expires (keystoneauth's margin),
/// or halfway through its lifetime when that is shorter.
const RENEW_BEFORE: Duration = Duration::from_secs(120);

/// A token in use.
pub(crate) struct Held {
    /// The token (secret).
    pub(crate) token: String,
    obtained: Instant,
    lifetime: Option<Duration>,
    /// The token's service catalog.
    pub(crate) catalog: Vec<Service>,
    /// The project it is scoped to, for messages.
    pub(crate) project: Option<String>,
}

impl fmt::Debug for Held {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Held")
            .field("token", &"<redacted>")
            .field("lifetime", &self.lifetime)
            .field("project", &self.project)
            .finish_non_exhaustive()
    }
}

impl Held {
    fn fresh(&self, now: Instant) -> bool {
        fresh(self.obtained, self.lifetime, now)
    }
}

/// Whether a token obtained at `obtained`, valid for `lifetime`, may still
/// be used at `now` without renewing it first.
fn fresh(obtained: Instant, lifetime: Option<Duration>, now: Instant) -> bool {
    let Some(lifetime) = lifetime else {
        return true;
    };
    let margin = RENEW_BEFORE.min(lifetime / 2);
    now.saturating_duration_since(obtained) + margin < lifetime
}

/// A Keystone login and the token it last gave.
pub(crate) struct Session {
    login: Login,
    /// `…/v3/auth/tokens`.
    url: String,
    agent: Agent,
    attempts: u32,
    retry_delay: Duration,
    held: Mutex<Option<Arc<Held>>>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("login", &self.login)
            .field("url", &self.url)
            .field("held", &self.lock().as_ref().map(|h| h.lifetime))
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A session that logs in with `login` at `url` (from
    /// [`tokens_url`](super::login::tokens_url)) through `agent`. No request yet.
    pub(crate) fn new(
        login: Login,
        url: String,
        agent: Agent,
        attempts: u32,
        retry_delay: Duration,
    ) -> Result<Session> {
        login.check()?;
        Ok(Session {
            login,
            url,
            agent,
            attempts: attempts.max(1),
            retry_delay,
            held: Mutex::new(None),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Option<Arc<Held>>> {
        // A thread that panicked while holding the lock left a whole value.
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current token, logging in first when there is none or it is
    /// about to expire. Concurrent callers wait for one login.
    pub(crate) fn token(&self) -> Result<Arc<Held>> {
        let mut held = self.lock();
        if let Some(h) = held.as_ref()
            && h.fresh(Instant::now())
        {
            return Ok(h.clone());
        }
        if held.is_some() {
            log::debug!("Keystone token about to expire: renewing it");
        }
        let new = Arc::new(self.login()?);
        *held = Some(new.clone());
        Ok(new)
    }

    /// A token to use instead of `rejected`, which the image API refused:
    /// the one another thread already got, or a new login.
    pub(crate) fn renew(&self, rejected: &Arc<Held>) -> Result<Arc<Held>> {
        let mut held = self.lock();
        if let Some(h) = held.as_ref()
            && !Arc::ptr_eq(h, rejected)
            && h.fresh(Instant::now())
        {
            return Ok(h.clone());
        }
        *held = None;
        let new = Arc::new(self.login()?);
        *held = Some(new.clone());
        Ok(new)
    }

    /// One login, repeated like a safe request after a connection failure
    /// or a 502/503/504.
    fn login(&self) -> Result<Held> {
        let describe = self.login.describe();
        let request = login_request(&self.url, &self.login)?;
        let server = self
            .login
            .auth_url()
            .trim()
            .trim_end_matches('/')
            .to_string();
        let mut failures: Vec<(String, Error)> = Vec::new();
        for attempt in 0..self.attempts {
            if attempt > 0 && !self.retry_delay.is_zero() {
                std::thread::sleep(self.retry_delay);
            }
            let started = Instant::now();
            let error = match self.attempt(&request, &server) {
                Ok(response) => {
                    log::debug!(
                        "POST {} -> {} ({}, {describe})",
                        self.url,
                        response.status().as_u16(),
                        wire::header(response.headers(), wire::REQUEST_ID)
                            .unwrap_or("no request id"),
                    );
                    let issued = parse_login(&response, &describe, now_ms())?;
                    match issued.lifetime {
                        Some(l) => {
                            log::debug!("Keystone {describe}: token valid for {} s", l.as_secs())
                        }
                        None => log::debug!("Keystone {describe}: token without expiry"),
                    }
                    return Ok(Held {
                        token: issued.token,
                        obtained: started,
                        lifetime: issued.lifetime,
                        catalog: issued.catalog,
                        project: issued.project,
                    });
                }
                Err(error) => error,
            };
            if !is_retryable(&error) {
                return Err(error);
            }
            let next = if attempt + 1 < self.attempts {
                "trying again"
            } else {
                "no attempts left"
            };
            log::warn!(
                "POST {}: Keystone {describe}: attempt {} of {} failed: {}; {next}",
                self.url,
                attempt + 1,
                self.attempts,
                error.attempt_reason()
            );
            failures.push((server.clone(), error));
        }
        match failures.len() {
            1 => Err(failures.remove(0).1),
            _ => Err(Error::AllServersFailed(failures)),
        }
    }

    fn attempt(
        &self,
        request: &http::Request<Vec<u8>>,
        server: &str,
    ) -> Result<http::Response<Vec<u8>>> {
        let mut builder = http::Request::builder()
            .method(request.method().clone())
            .uri(request.uri().clone());
        for (name, value) in request.headers() {
            builder = builder.header(name, value);
        }
        let outgoing = builder
            .body(request.body().as_slice())
            .map_err(|e| Error::InvalidInput(format!("cannot build the Keystone login: {e}")))?;
        let response = self
            .agent
            .run(outgoing)
            .map_err(|e| transport_error(server, e))?;
        read_capped(server, response)
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_renewed_shortly_before_it_expires() {
        let t0 = Instant::now();
        let hour = Some(Duration::from_secs(3600));
        assert!(fresh(t0, hour, t0));
        assert!(fresh(t0, hour, t0 + Duration::from_secs(3600 - 121)));
        assert!(!fresh(t0, hour, t0 + Duration::from_secs(3600 - 120)));
        assert!(!fresh(t0, hour, t0 + Duration::from_secs(7200)));
    }

    #[test]
    fn a_short_lived_token_is_renewed_halfway() {
        let t0 = Instant::now();
        let minute = Some(Duration::from_secs(60));
        assert!(fresh(t0, minute, t0 + Duration::from_secs(29)));
        assert!(!fresh(t0, minute, t0 + Duration::from_secs(30)));
    }

    #[test]
    fn an_expired_token_is_never_fresh_and_one_without_expiry_always() {
        let t0 = Instant::now();
        assert!(!fresh(t0, Some(Duration::ZERO), t0));
        assert!(fresh(t0, None, t0 + Duration::from_secs(1 << 30)));
    }
}
