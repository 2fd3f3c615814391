//! The token a client holds, as state: obtained on first use, renewed
//! shortly before it expires or after the image API refused it, shared by
//! every clone and thread of the client. No I/O here: the login itself is
//! the caller's (the transport sends it through its retry loop), handed in
//! as a function.
//!
//! One thread at a time logs in, without holding the lock: the lock only
//! guards the state (the token, whether a login is under way, how the last
//! one ended), so a caller whose token is still valid takes it and goes,
//! however long a login takes. Callers wait only when no valid token exists,
//! each within its own call's cancel handle and deadline; when the login
//! they waited for fails, each gets the same error at once.

use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::catalog::Service;
use super::login::{Issued, Login};
use crate::call::Ctx;
use crate::error::{Error, Result};

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

    /// Whether it has not expired yet (it may be due for renewal).
    fn valid(&self, now: Instant) -> bool {
        self.lifetime
            .is_none_or(|lifetime| now.saturating_duration_since(self.obtained) < lifetime)
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
    shared: Arc<Shared>,
}

/// The state, and the condition its waiters wait on.
#[derive(Default)]
struct Shared {
    state: Mutex<State>,
    /// Notified when a login ends, and when a waiter's call is cancelled.
    changed: Condvar,
}

#[derive(Default)]
struct State {
    held: Option<Arc<Held>>,
    /// A thread is logging in (without the lock).
    renewing: bool,
    /// Threads waiting for that login.
    waiting: usize,
    /// Logins ended so far; a waiter tells by it that the one it waited for ended.
    ended: u64,
    /// How the last login that ended failed, for those who waited for it;
    /// `None` after a success, or when it was stopped by its own caller's
    /// cancel or deadline (the waiters then log in themselves).
    failed: Option<Error>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The lock is never held across I/O, so this never waits for a login.
        let state = self.lock();
        f.debug_struct("Session")
            .field("login", &self.login)
            .field("held", &state.held.as_ref().map(|h| h.lifetime))
            .field("renewing", &state.renewing)
            .field("waiting", &state.waiting)
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
            shared: Arc::default(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A thread that panicked while holding the lock left a whole value.
        self.shared.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current token, or the one `log_in` gives when there is none or
    /// it is about to expire.
    ///
    /// One caller logs in at a time, without holding the lock. While it
    /// does, the others take the current token if it is still valid (not
    /// expired, only due for renewal) and wait only when there is none,
    /// each within `ctx` (its cancel handle and deadline); when that login
    /// fails they all get its error.
    pub(crate) fn token(
        &self,
        ctx: &Ctx,
        log_in: impl FnOnce(&Login) -> Result<Held>,
    ) -> Result<Arc<Held>> {
        self.obtain(ctx, None, log_in)
    }

    /// A token to use instead of `rejected`, which the image API refused:
    /// the one another thread already got, or the one `log_in` gives (the
    /// refused token is not handed out again meanwhile).
    pub(crate) fn renew(
        &self,
        ctx: &Ctx,
        rejected: &Arc<Held>,
        log_in: impl FnOnce(&Login) -> Result<Held>,
    ) -> Result<Arc<Held>> {
        self.obtain(ctx, Some(rejected), log_in)
    }

    fn obtain(
        &self,
        ctx: &Ctx,
        rejected: Option<&Arc<Held>>,
        log_in: impl FnOnce(&Login) -> Result<Held>,
    ) -> Result<Arc<Held>> {
        let mut state = self.lock();
        if let Some(rejected) = rejected
            && state
                .held
                .as_ref()
                .is_some_and(|h| Arc::ptr_eq(h, rejected))
        {
            state.held = None;
        }
        loop {
            let now = Instant::now();
            match &state.held {
                Some(h) if h.fresh(now) => return Ok(h.clone()),
                Some(h) if state.renewing && h.valid(now) => return Ok(h.clone()),
                _ if state.renewing => state = self.wait(ctx, state)?,
                _ => break,
            }
        }
        if state.held.is_some() {
            log::debug!("Keystone token about to expire: renewing it");
        }
        state.renewing = true;
        drop(state);
        let result = log_in(&self.login).map(Arc::new);
        self.ended(result)
    }

    /// Waits while another caller logs in, until that login (or a later
    /// one) ends, or this call is cancelled or past its deadline. The
    /// login's failure is this caller's error too.
    fn wait<'s>(
        &'s self,
        ctx: &Ctx,
        mut state: MutexGuard<'s, State>,
    ) -> Result<MutexGuard<'s, State>> {
        let shared = self.shared.clone();
        let _hook = ctx.on_cancel(Arc::new(move || {
            let _state = shared.state.lock().unwrap_or_else(|e| e.into_inner());
            shared.changed.notify_all();
        }));
        let waited_for = state.ended;
        state.waiting += 1;
        let outcome = loop {
            if let Err(e) = ctx.check(|| "waiting for another thread's Keystone login".into()) {
                break Err(e);
            }
            if state.ended != waited_for {
                break match &state.failed {
                    Some(failure) => Err(failure.duplicate()),
                    None => Ok(()),
                };
            }
            state = ctx.wait_once(state, &self.shared.changed);
        };
        state.waiting -= 1;
        outcome.map(|()| state)
    }

    /// Records how a login ended and wakes those who waited for it.
    fn ended(&self, result: Result<Arc<Held>>) -> Result<Arc<Held>> {
        let mut state = self.lock();
        state.renewing = false;
        state.ended += 1;
        state.failed = match &result {
            Ok(held) => {
                state.held = Some(held.clone());
                None
            }
            // The login's own caller gave up: not a failure of the login.
            Err(Error::Cancelled | Error::DeadlineExceeded { .. }) => None,
            Err(e) => Some(e.duplicate()),
        };
        self.shared.changed.notify_all();
        result
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

    /// A token due for renewal but still valid: valid for 240 s, obtained
    /// 130 s ago (renewal is due 120 s before expiry).
    fn due(token: &str) -> Held {
        let issued = Issued {
            token: token.into(),
            lifetime: Some(Duration::from_secs(240)),
            catalog: Vec::new(),
            project: None,
        };
        let obtained = Instant::now()
            .checked_sub(Duration::from_secs(130))
            .expect("a host up for more than 130 s");
        Held::new(issued, obtained)
    }

    fn issued(token: &str) -> Result<Held> {
        let issued = Issued {
            token: token.into(),
            lifetime: Some(Duration::from_secs(3600)),
            catalog: Vec::new(),
            project: None,
        };
        Ok(Held::new(issued, Instant::now()))
    }

    /// Waits (bounded) until another thread is logging in.
    fn until_renewing(s: &Session) {
        for _ in 0..10_000 {
            if s.lock().renewing {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        panic!("no login started");
    }

    /// Waits (bounded) until `n` threads wait for the login.
    fn until_waiting(s: &Session, n: usize) {
        for _ in 0..10_000 {
            if s.lock().waiting >= n {
                return;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        panic!("the waiters did not start");
    }

    #[test]
    fn a_valid_token_is_used_while_another_thread_renews_it() {
        let s = &session();
        s.token(&Ctx::default(), |_| Ok(due("old"))).unwrap();
        let (go, release) = std::sync::mpsc::channel::<()>();
        std::thread::scope(|scope| {
            let renewer = scope.spawn(move || {
                s.token(&Ctx::default(), |_| {
                    release.recv().unwrap();
                    issued("new")
                })
            });
            until_renewing(s);
            // Eight callers while the login hangs: none waits, none logs in.
            let others: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| s.token(&Ctx::default(), |_| unreachable!("one login"))))
                .collect();
            for other in others {
                assert_eq!(other.join().unwrap().unwrap().token, "old");
            }
            go.send(()).unwrap();
            assert_eq!(renewer.join().unwrap().unwrap().token, "new");
        });
        let again = s.token(&Ctx::default(), |_| unreachable!("fresh"));
        assert_eq!(again.unwrap().token, "new");
    }

    #[test]
    fn without_a_valid_token_callers_wait_for_one_login_and_share_its_failure() {
        let s = &session();
        let (go, release) = std::sync::mpsc::channel::<()>();
        std::thread::scope(|scope| {
            let renewer = scope.spawn(move || {
                s.token(&Ctx::default(), |_| {
                    release.recv().unwrap();
                    Err(Error::from_status(crate::ApiError::new(
                        401, "refused", None,
                    )))
                })
            });
            until_renewing(s);
            let others: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| s.token(&Ctx::default(), |_| unreachable!("one login"))))
                .collect();
            until_waiting(s, 8);
            go.send(()).unwrap();
            let err = renewer.join().unwrap().unwrap_err();
            assert!(matches!(err, Error::Unauthorized(_)), "{err:?}");
            for other in others {
                let err = other.join().unwrap().unwrap_err();
                assert_eq!(err.to_string(), "unauthorized: HTTP 401: refused");
            }
        });
        // The failure is not kept: the next caller logs in again.
        let next = s.token(&Ctx::default(), |_| issued("t2"));
        assert_eq!(next.unwrap().token, "t2");
    }

    #[test]
    fn a_waiter_is_released_by_its_cancel_and_the_login_goes_on() {
        let s = &session();
        let (go, release) = std::sync::mpsc::channel::<()>();
        let cancel = crate::Cancel::new();
        std::thread::scope(|scope| {
            let renewer = scope.spawn(move || {
                s.token(&Ctx::default(), |_| {
                    release.recv().unwrap();
                    issued("t1")
                })
            });
            until_renewing(s);
            let waiter = scope.spawn(|| {
                let ctx = Ctx::new(Some(cancel.clone()), None);
                s.token(&ctx, |_| unreachable!("one login"))
            });
            until_waiting(s, 1);
            cancel.cancel();
            let err = waiter.join().unwrap().unwrap_err();
            assert!(matches!(err, Error::Cancelled), "{err:?}");
            go.send(()).unwrap();
            assert_eq!(renewer.join().unwrap().unwrap().token, "t1");
        });
    }

    #[test]
    fn a_login_its_own_caller_stopped_is_taken_over_by_a_waiter() {
        let s = &session();
        let (go, release) = std::sync::mpsc::channel::<()>();
        std::thread::scope(|scope| {
            let renewer = scope.spawn(move || {
                s.token(&Ctx::default(), |_| {
                    release.recv().unwrap();
                    Err(Error::Cancelled)
                })
            });
            until_renewing(s);
            let waiter = scope.spawn(|| s.token(&Ctx::default(), |_| issued("mine")));
            until_waiting(s, 1);
            go.send(()).unwrap();
            assert!(matches!(renewer.join().unwrap(), Err(Error::Cancelled)));
            assert_eq!(waiter.join().unwrap().unwrap().token, "mine");
        });
    }

    #[test]
    fn debug_does_not_wait_for_a_login() {
        let s = &session();
        let (go, release) = std::sync::mpsc::channel::<()>();
        std::thread::scope(|scope| {
            let renewer = scope.spawn(move || {
                s.token(&Ctx::default(), |_| {
                    release.recv().unwrap();
                    issued("t1")
                })
            });
            until_renewing(s);
            let shown = format!("{s:?}");
            assert!(shown.contains("renewing: true"), "{shown}");
            assert!(!shown.contains("pw"), "{shown}");
            go.send(()).unwrap();
            renewer.join().unwrap().unwrap();
        });
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
