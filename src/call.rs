//! What a call carries besides its request: a [`Cancel`] handle another
//! thread can trigger, a deadline and a global request id
//! ([`CallOptions`], given to [`Client::with`](crate::Client::with)), and
//! the progress callback of a transfer ([`ProgressFn`]).
//!
//! Inside the crate each call turns these into a `Ctx`, which the layers
//! above check between reads and writes, before each attempt, and while
//! they wait (a retry's pause, a Keystone login in progress); the latency
//! this gives is in [`CallOptions`]' documentation. No I/O here.

use std::fmt;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// A progress callback: called with the bytes done and the total, when
/// known; returning `ControlFlow::Break(())` stops the transfer with
/// [`Error::Cancelled`].
pub type ProgressFn<'a> = Box<dyn FnMut(u64, Option<u64>) -> ControlFlow<()> + 'a>;

/// A handle that stops calls from another thread: cheap to clone (every
/// clone is the same handle), `Send + Sync`.
///
/// Give it to the calls to stop with [`CallOptions::cancel`] (any call of
/// a [`Client::with`](crate::Client::with) view) or
/// [`DownloadOptions::cancel`](crate::DownloadOptions::cancel). After
/// [`Cancel::cancel`] those calls end with [`Error::Cancelled`]: nothing
/// is retried, no further request is sent, a download publishes nothing.
/// See the [latency](crate::CallOptions#latency). A cancelled handle
/// stays cancelled; make a new one for the next calls.
///
/// ```no_run
/// use glance_client::{CallOptions, Cancel, Client, Config, DownloadOptions};
///
/// let client = Client::new(Config::for_server("http://127.0.0.1:9292"))?;
/// let cancel = Cancel::new();
/// let stopper = cancel.clone();
/// std::thread::spawn(move || {
///     std::thread::sleep(std::time::Duration::from_secs(60));
///     stopper.cancel();
/// });
/// let view = client.with(CallOptions { cancel: Some(cancel), ..CallOptions::default() });
/// view.download("0c6a0b7e-1d1e-4f0e-9d8b-0e2b1c3d4e5f", "/var/tmp/image.raw",
///               DownloadOptions::default())?;
/// # Ok::<(), glance_client::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct Cancel {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    cancelled: AtomicBool,
    hooks: Mutex<Hooks>,
}

/// What to call when the handle is triggered: one waker per waiting call.
#[derive(Default)]
struct Hooks {
    next: u64,
    wakers: Vec<(u64, Waker)>,
}

/// Wakes a call that waits; it must notify under the waiter's own mutex
/// (so that a wake between the waiter's check and its wait is not lost).
pub(crate) type Waker = Arc<dyn Fn() + Send + Sync>;

impl Cancel {
    /// A handle that is not triggered.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Stops every call that carries this handle, now and later; wakes
    /// those that wait. Idempotent.
    pub fn cancel(&self) {
        if self.shared.cancelled.swap(true, Ordering::SeqCst) {
            return;
        }
        let wakers: Vec<Waker> = lock(&self.shared.hooks)
            .wakers
            .iter()
            .map(|(_, w)| w.clone())
            .collect();
        for wake in wakers {
            wake();
        }
    }

    /// Whether [`Cancel::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.shared.cancelled.load(Ordering::SeqCst)
    }

    /// Calls `wake` when the handle is triggered, until the hook is
    /// dropped. Not called for a handle already triggered: the caller
    /// checks [`Cancel::is_cancelled`] after registering.
    pub(crate) fn on_cancel(&self, wake: Waker) -> Hook {
        let mut hooks = lock(&self.shared.hooks);
        let id = hooks.next;
        hooks.next += 1;
        hooks.wakers.push((id, wake));
        Hook {
            cancel: self.clone(),
            id,
        }
    }

    /// A handle triggered by either of `a` and `b` (or by itself), and the
    /// hooks that link it: they must live as long as it is used.
    pub(crate) fn either(a: &Cancel, b: &Cancel) -> (Cancel, [Hook; 2]) {
        let child = Cancel::new();
        let link = |parent: &Cancel| {
            let child = child.clone();
            parent.on_cancel(Arc::new(move || child.cancel()))
        };
        let hooks = [link(a), link(b)];
        if a.is_cancelled() || b.is_cancelled() {
            child.cancel();
        }
        (child, hooks)
    }
}

impl fmt::Debug for Cancel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cancel")
            .field("cancelled", &self.is_cancelled())
            .finish()
    }
}

/// A registration of [`Cancel::on_cancel`]; dropping it unregisters.
pub(crate) struct Hook {
    cancel: Cancel,
    id: u64,
}

impl Drop for Hook {
    fn drop(&mut self) {
        lock(&self.cancel.shared.hooks)
            .wakers
            .retain(|(id, _)| *id != self.id);
    }
}

impl fmt::Debug for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hook").field("id", &self.id).finish()
    }
}

/// What the calls of a [`Client::with`](crate::Client::with) view carry:
/// a cancel handle, a deadline, a global request id. `Default` is none of
/// them: the client's own behaviour.
///
/// ```no_run
/// use std::time::{Duration, Instant};
/// use glance_client::{CallOptions, Cancel, Client, Config};
///
/// let client = Client::new(Config::for_server("http://127.0.0.1:9292"))?;
/// let view = client.with(CallOptions {
///     cancel: Some(Cancel::new()),
///     deadline: Some(Instant::now() + Duration::from_secs(30)),
///     request_id: Some("req-4a1c7f2e-9a43-4d0b-8a55-2f3c9e1b7d60".into()),
/// });
/// let image = view.image("0c6a0b7e-1d1e-4f0e-9d8b-0e2b1c3d4e5f")?;
/// # let _ = image;
/// # Ok::<(), glance_client::Error>(())
/// ```
///
/// # Latency
///
/// A cancel is seen at the next check: before each attempt, between two
/// reads or writes of a body (in an upload, between two reads of its
/// source), or at once by a call that waits (a retry's pause, another
/// thread's Keystone login). A read or write blocked in the kernel is not
/// interrupted: it ends when data moves or at its timeout, so a cancelled
/// call returns within one [`Config::io_timeout`](crate::Config::io_timeout)
/// (or by its deadline, if sooner). A deadline shrinks each read's and
/// write's timeout to what is left, so a server that trickles cannot hold a
/// call past it.
#[derive(Clone, Debug, Default)]
pub struct CallOptions {
    /// Stops the calls when triggered: they end with [`Error::Cancelled`].
    pub cancel: Option<Cancel>,
    /// Every call must be over by then, retries, resumes, Keystone logins
    /// and transfers of image data included; past it a call ends with
    /// [`Error::DeadlineExceeded`]. Also bounds the calls that
    /// [`Config::call_timeout`](crate::Config::call_timeout) does not
    /// (uploads, downloads); the sooner of the two applies.
    pub deadline: Option<Instant>,
    /// The global request id sent as `X-OpenStack-Request-ID`, instead of
    /// [`Config::global_request_id`](crate::Config::global_request_id):
    /// `req-` and a UUID in lowercase (`req-` + 8-4-4-4-12 hex digits), as
    /// Nova sends its context's. Anything else fails each call with
    /// [`Error::InvalidInput`] before any request.
    pub request_id: Option<String>,
}

/// A deadline and the name it goes by in errors.
#[derive(Clone, Debug)]
pub(crate) struct Deadline {
    pub(crate) at: Instant,
    pub(crate) what: Arc<str>,
}

/// One call's cancel handle, deadline and request id, as its layers check them.
#[derive(Clone, Debug, Default)]
pub(crate) struct Ctx {
    cancel: Option<Cancel>,
    deadline: Option<Deadline>,
    request_id: Option<String>,
}

impl Ctx {
    /// A context with `cancel`, sending `request_id`, without a deadline.
    pub(crate) fn new(cancel: Option<Cancel>, request_id: Option<String>) -> Ctx {
        Ctx {
            cancel,
            deadline: None,
            request_id,
        }
    }

    /// Adds a deadline; the sooner one applies.
    pub(crate) fn limit(&mut self, deadline: Deadline) {
        match &self.deadline {
            Some(d) if d.at <= deadline.at => {}
            _ => self.deadline = Some(deadline),
        }
    }

    /// The global request id to send, if any.
    pub(crate) fn request_id(&self) -> Option<&str> {
        self.request_id.as_deref()
    }

    /// Time left before the deadline (zero once passed); `None` without one.
    pub(crate) fn remaining(&self) -> Option<Duration> {
        self.deadline
            .as_ref()
            .map(|d| d.at.saturating_duration_since(Instant::now()))
    }

    /// [`Error::Cancelled`] once cancelled, [`Error::DeadlineExceeded`]
    /// (saying it happened `during` something) once the deadline passed.
    pub(crate) fn check(&self, during: impl FnOnce() -> String) -> Result<()> {
        if self.cancel.as_ref().is_some_and(Cancel::is_cancelled) {
            return Err(Error::Cancelled);
        }
        if self.remaining().is_some_and(|left| left.is_zero()) {
            return Err(self.deadline_passed(during()));
        }
        Ok(())
    }

    /// The error of a deadline that passed `during` something.
    pub(crate) fn deadline_passed(&self, during: String) -> Error {
        let deadline = self
            .deadline
            .as_ref()
            .map_or_else(|| "the call's deadline".into(), |d| d.what.to_string());
        Error::DeadlineExceeded { deadline, during }
    }

    /// Registers `wake` to be called when the call is cancelled (see
    /// [`Cancel::on_cancel`]); `None` without a cancel handle.
    pub(crate) fn on_cancel(&self, wake: Waker) -> Option<Hook> {
        self.cancel.as_ref().map(|c| c.on_cancel(wake))
    }

    /// Waits once on `condvar`, at most until the deadline; the caller
    /// loops, checking what it waits for and [`Ctx::check`], with its
    /// [`Ctx::on_cancel`] hook in place.
    pub(crate) fn wait_once<'g, T>(
        &self,
        guard: MutexGuard<'g, T>,
        condvar: &Condvar,
    ) -> MutexGuard<'g, T> {
        match self.remaining() {
            Some(left) => {
                condvar
                    .wait_timeout(guard, left)
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
            None => condvar.wait(guard).unwrap_or_else(|e| e.into_inner()),
        }
    }

    /// Pauses for `pause` (a retry's delay), ending early with
    /// [`Error::Cancelled`] when the call is cancelled. When the deadline
    /// would pass first, there is no point waiting: it fails at once with
    /// [`Error::DeadlineExceeded`] (`during` says what it was waiting for).
    pub(crate) fn sleep(&self, pause: Duration, during: impl Fn() -> String) -> Result<()> {
        self.check(&during)?;
        if pause.is_zero() {
            return Ok(());
        }
        if self.remaining().is_some_and(|left| left < pause) {
            return Err(self.deadline_passed(during()));
        }
        let until = Instant::now() + pause;
        let pair = Arc::new((Mutex::new(()), Condvar::new()));
        let waker: Waker = {
            let pair = pair.clone();
            Arc::new(move || {
                let _held = lock(&pair.0);
                pair.1.notify_all();
            })
        };
        let _hook = self.on_cancel(waker);
        let mut guard = lock(&pair.0);
        loop {
            self.check(&during)?;
            let now = Instant::now();
            if now >= until {
                return Ok(());
            }
            guard = pair
                .1
                .wait_timeout(guard, until - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

/// Checks a global request id: `req-` and a lowercase UUID, the only form
/// oslo.middleware takes as a global request id (it ignores any other).
pub(crate) fn check_request_id(id: &str) -> std::result::Result<(), String> {
    let groups: Vec<&str> = id
        .strip_prefix("req-")
        .map(|uuid| uuid.split('-').collect())
        .unwrap_or_default();
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    let hex = groups
        .iter()
        .all(|g| g.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
    if lengths == [8, 4, 4, 4, 12] && hex {
        return Ok(());
    }
    Err(format!(
        "{id:?} is not a global request id: expected \"req-\" and a lowercase UUID \
         (req-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx), the only form Glance's \
         request_id middleware accepts"
    ))
}

/// Locks `mutex`; a thread that panicked while holding it left a whole value.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cancel_is_shared_by_its_clones_and_wakes_a_sleeper() {
        let cancel = Cancel::new();
        let ctx = Ctx::new(Some(cancel.clone()), None);
        assert!(ctx.check(String::new).is_ok());
        let stopper = cancel.clone();
        let sleeper = std::thread::spawn(move || ctx.sleep(Duration::from_secs(600), String::new));
        // The sleeper registers its hook, or finds the handle triggered.
        cancel.cancel();
        let slept = sleeper.join().unwrap();
        assert!(matches!(slept, Err(Error::Cancelled)), "{slept:?}");
        assert!(stopper.is_cancelled());
        assert!(lock(&cancel.shared.hooks).wakers.is_empty(), "hook dropped");
    }

    #[test]
    fn either_handle_triggers_the_linked_one() {
        let (a, b) = (Cancel::new(), Cancel::new());
        let (child, hooks) = Cancel::either(&a, &b);
        assert!(!child.is_cancelled());
        b.cancel();
        assert!(child.is_cancelled() && !a.is_cancelled());
        drop(hooks);
        assert!(lock(&a.shared.hooks).wakers.is_empty());
        let (child, _hooks) = Cancel::either(&a, &b);
        assert!(child.is_cancelled(), "already triggered parents");
    }

    #[test]
    fn the_sooner_deadline_applies_and_names_itself() {
        let mut ctx = Ctx::default();
        let now = Instant::now();
        let later = Deadline {
            at: now + Duration::from_secs(60),
            what: "later".into(),
        };
        ctx.limit(Deadline {
            at: now,
            what: "sooner".into(),
        });
        ctx.limit(later);
        let err = ctx.check(|| "reading".into()).unwrap_err();
        assert_eq!(err.to_string(), "sooner passed while reading");
        assert!(matches!(
            ctx.sleep(Duration::from_secs(1), || "waiting".into()),
            Err(Error::DeadlineExceeded { .. })
        ));
    }

    #[test]
    fn a_pause_longer_than_the_time_left_fails_at_once() {
        let mut ctx = Ctx::default();
        ctx.limit(Deadline {
            at: Instant::now() + Duration::from_secs(30),
            what: "the deadline".into(),
        });
        let err = ctx
            .sleep(Duration::from_secs(600), || "waiting to retry".into())
            .unwrap_err();
        assert!(err.to_string().contains("while waiting to retry"), "{err}");
    }

    #[test]
    fn request_ids_are_req_and_a_lowercase_uuid() {
        assert!(check_request_id("req-4a1c7f2e-9a43-4d0b-8a55-2f3c9e1b7d60").is_ok());
        for bad in [
            "",
            "req-",
            "4a1c7f2e-9a43-4d0b-8a55-2f3c9e1b7d60",
            "req-4A1C7F2E-9A43-4D0B-8A55-2F3C9E1B7D60",
            "req-4a1c7f2e9a434d0b8a552f3c9e1b7d60",
            "req-4a1c7f2e-9a43-4d0b-8a55-2f3c9e1b7d6",
            "req-4a1c7f2e-9a43-4d0b-8a55-2f3c9e1b7d60-",
            "req-4a1c7f2e-9a43-4d0b-8a55-2f3c9e1b7d6g",
            "req-4a1c7f2e-9a43-4d0b-8a55-2f3c9e1b7d60\r\nX: y",
        ] {
            let err = check_request_id(bad).unwrap_err();
            assert!(err.contains("not a global request id"), "{bad:?}: {err}");
        }
    }
}
