//! The token a client holds, as state: obtained on first use, renewed
//! shortly before it expires or after the image API refused it, shared by
//! every clone and thread of the client. No I/O here: the login itself is
//! the caller's (the transport sends it through its retry loop), handed in
//! as a function.

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::catalog::Service;
use super::login::{Issued, Login};
use crate::call::Ctx;
use crate::error::Result;

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
    /// The token a login gave; its lifetime counts from `obtained`, when
    /// the login was sent.
    pub(crate) fn new(issued: Issued, obtained: Instant) -> Held {
        Held {
            token: issued.token,
            obtained,
            lifetime: issued.lifetime,
            catalog: issued.catalog,
            project: issued.project,
        }
    }

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
    held: Mutex<Option<Arc<Held>>>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("login", &self.login)
            .field("held", &self.lock().as_ref().map(|h| h.lifetime))
            .finish_non_exhaustive()
    }
}

impl Session {
    /// A session for `login`, without a token yet. Refuses a login with an
    /// empty name, id or secret.
    pub(crate) fn new(login: Login) -> Result<Session> {
        login.check()?;
        Ok(Session {
            login,
            held: Mutex::new(None),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Option<Arc<Held>>> {
        // A thread that panicked while holding the lock left a whole value.
        self.held.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current token, or the one `log_in` gives when there is none or
    /// it is about to expire. Concurrent callers wait for one login.
    /// (`_ctx`, the caller's call, is not waited with yet.)
    pub(crate) fn token(
        &self,
        _ctx: &Ctx,
        log_in: impl FnOnce(&Login) -> Result<Held>,
    ) -> Result<Arc<Held>> {
        let mut held = self.lock();
        if let Some(h) = held.as_ref()
            && h.fresh(Instant::now())
        {
            return Ok(h.clone());
        }
        if held.is_some() {
            log::debug!("Keystone token about to expire: renewing it");
        }
        let new = Arc::new(log_in(&self.login)?);
        *held = Some(new.clone());
        Ok(new)
    }

    /// A token to use instead of `rejected`, which the image API refused:
    /// the one another thread already got, or the one `log_in` gives.
    pub(crate) fn renew(
        &self,
        _ctx: &Ctx,
        rejected: &Arc<Held>,
        log_in: impl FnOnce(&Login) -> Result<Held>,
    ) -> Result<Arc<Held>> {
        let mut held = self.lock();
        if let Some(h) = held.as_ref()
            && !Arc::ptr_eq(h, rejected)
            && h.fresh(Instant::now())
        {
            return Ok(h.clone());
        }
        *held = None;
        let new = Arc::new(log_in(&self.login)?);
        *held = Some(new.clone());
        Ok(new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        let login = Login::Password(super::super::Password::new(
            "http://ks/v3",
            super::super::User::id("u1"),
            "pw",
        ));
        Session::new(login).unwrap()
    }

    /// A login that gives `token`, valid for `lifetime` seconds, and counts itself.
    fn log_in<'a>(
        token: &'a str,
        lifetime: u64,
        count: &'a std::cell::Cell<u32>,
    ) -> impl FnOnce(&Login) -> Result<Held> + 'a {
        move |_| {
            count.set(count.get() + 1);
            let issued = Issued {
                token: token.into(),
                lifetime: Some(Duration::from_secs(lifetime)),
                catalog: Vec::new(),
                project: None,
            };
            Ok(Held::new(issued, Instant::now()))
        }
    }

    #[test]
    fn a_fresh_token_is_reused_and_an_expired_one_replaced() {
        let (s, logins) = (session(), std::cell::Cell::new(0));
        assert_eq!(
            s.token(&Ctx::default(), log_in("t1", 3600, &logins))
                .unwrap()
                .token,
            "t1"
        );
        assert_eq!(
            s.token(&Ctx::default(), log_in("t2", 3600, &logins))
                .unwrap()
                .token,
            "t1"
        );
        assert_eq!(logins.get(), 1);
        let s = session();
        assert_eq!(
            s.token(&Ctx::default(), log_in("t1", 0, &logins))
                .unwrap()
                .token,
            "t1"
        );
        assert_eq!(
            s.token(&Ctx::default(), log_in("t2", 3600, &logins))
                .unwrap()
                .token,
            "t2"
        );
        assert_eq!(logins.get(), 3);
    }

    #[test]
    fn a_refused_token_is_replaced_once_however_many_callers_saw_it() {
        let (s, logins) = (session(), std::cell::Cell::new(0));
        let refused = s
            .token(&Ctx::default(), log_in("t1", 3600, &logins))
            .unwrap();
        let renewed = s
            .renew(&Ctx::default(), &refused, log_in("t2", 3600, &logins))
            .unwrap();
        assert_eq!(renewed.token, "t2");
        // A second caller that also saw t1 refused gets t2, no new login.
        let again = s
            .renew(&Ctx::default(), &refused, log_in("t3", 3600, &logins))
            .unwrap();
        assert_eq!(again.token, "t2");
        assert_eq!(logins.get(), 2);
        // A failed login leaves no token behind.
        let failed = s.renew(&Ctx::default(), &again, |_| Err(crate::Error::Cancelled));
        assert!(failed.is_err());
        assert_eq!(
            s.token(&Ctx::default(), log_in("t4", 3600, &logins))
                .unwrap()
                .token,
            "t4"
        );
    }

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
