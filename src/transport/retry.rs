//! The one attempt loop, for image API calls and Keystone logins alike:
//! `num_retries` extra attempts after a failure another attempt may cure
//! (see [`is_retryable`]), `retry_delay` apart, each failure logged at
//! `warn`, and every attempt's failure listed when all of them failed.
//!
//! Where an attempt goes (the next server of the rotation, the Keystone
//! URL) and what it sends is the caller's: the loop only counts, waits,
//! judges and reports.

use std::time::Duration;

use super::failure::is_retryable;
use crate::call::Ctx;
use crate::error::{Error, Result};

/// Whether a request may be sent again after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Retry {
    /// Repeating it cannot do harm (reads, deletes, tag and member calls,
    /// a create with a caller-chosen id, a login). A repeat of a delete or a
    /// named create may meet the lost first attempt's work (404, 409):
    /// [`Transport::json_noting_loss`](super::Transport::json_noting_loss)
    /// tells the caller.
    Safe,
    /// Repeating it might do the work twice (a create without an id, an
    /// upload from a stream that cannot be rewound): sent again only after
    /// an attempt that provably sent nothing (connection refused, host not
    /// found, connect timeout).
    IfUnsent,
}

/// One failed attempt, whether the request surely never left this host, and
/// whether the image API refused a renewable token (401).
pub(super) struct Failed {
    pub(super) error: Error,
    pub(super) unsent: bool,
    pub(super) rejected: bool,
    /// End the call with this error whatever it is (a failed renewal of a
    /// refused token).
    pub(super) last: bool,
}

impl From<Error> for Failed {
    fn from(error: Error) -> Failed {
        Failed {
            error,
            unsent: false,
            rejected: false,
            last: false,
        }
    }
}

/// How many attempts a call gets and the pause between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Policy {
    /// At least 1.
    pub(super) attempts: u32,
    pub(super) delay: Duration,
}

/// One call, as its log lines name it.
pub(super) struct Call<'a> {
    /// What failed on `server`, e.g. `GET http://g:9292/v2/images`.
    pub(super) describe: &'a dyn Fn(&str) -> String,
    pub(super) retry: Retry,
    /// What the log says when another attempt follows (`trying the next server`).
    pub(super) next: &'static str,
}

impl Policy {
    /// Makes attempts with `once(attempt, after_loss)` until one succeeds,
    /// one fails in a way another attempt cannot cure, or none is left.
    /// `once` gets the attempt's number (from 0) and whether an earlier
    /// attempt failed after its request may have reached a server (its
    /// work may be done), and returns the server it tried with the result.
    ///
    /// One failure comes back as itself; several as
    /// [`Error::AllServersFailed`], one entry per attempt, in order.
    ///
    /// The call's `ctx` is checked before each attempt, and the pause
    /// between attempts ends at once when the call is cancelled (or fails
    /// at once when the deadline would pass before it ends): a cancelled
    /// call or one past its deadline makes no further attempt.
    pub(super) fn run<'s, T>(
        &self,
        ctx: &Ctx,
        call: &Call<'_>,
        mut once: impl FnMut(u32, bool) -> (&'s str, std::result::Result<T, Failed>),
    ) -> Result<T> {
        let attempts = self.attempts.max(1);
        let mut failures: Vec<(String, Error)> = Vec::new();
        let mut after_loss = false;
        for attempt in 0..attempts {
            if let Some((server, failed)) = failures.last() {
                let during = || {
                    format!(
                        "waiting to retry {} (attempt {attempt} failed: {})",
                        (call.describe)(server),
                        failed.attempt_reason()
                    )
                };
                ctx.sleep(self.delay, during)?;
            }
            ctx.check(|| format!("starting {}", (call.describe)("")))?;
            let (server, result) = once(attempt, after_loss);
            let failed = match result {
                Ok(value) => return Ok(value),
                Err(failed) => failed,
            };
            if failed.last || !is_retryable(&failed.error) {
                return Err(failed.error);
            }
            after_loss |= !failed.unsent;
            let again = call.retry == Retry::Safe || failed.unsent;
            let next = match (again, attempt + 1 < attempts) {
                (true, true) => call.next,
                (true, false) => "no attempts left",
                (false, _) => "not repeated: the server may have acted on it",
            };
            log::warn!(
                "{}: attempt {} of {attempts} failed: {}; {next}",
                (call.describe)(server),
                attempt + 1,
                failed.error.attempt_reason(),
            );
            failures.push((server.to_string(), failed.error));
            if !again {
                break;
            }
        }
        if failures.len() == 1
            && let Some((_, err)) = failures.pop()
        {
            return Err(err);
        }
        Err(Error::AllServersFailed(failures))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(unsent: bool) -> Failed {
        Failed {
            unsent,
            ..Failed::from(Error::Transport {
                server: "s".into(),
                message: "connection refused".into(),
                timeout: false,
            })
        }
    }

    /// Runs a call whose attempts fail as `outcomes` says (then succeed),
    /// returning the result and the attempts made.
    fn run(retry: Retry, attempts: u32, outcomes: Vec<Failed>) -> (Result<u32>, Vec<(u32, bool)>) {
        let policy = Policy {
            attempts,
            delay: Duration::ZERO,
        };
        let call = Call {
            describe: &|server| format!("GET {server}/v2/images"),
            retry,
            next: "trying the next server",
        };
        let mut outcomes = outcomes.into_iter();
        let mut made = Vec::new();
        let result = policy.run(&Ctx::default(), &call, |attempt, after_loss| {
            made.push((attempt, after_loss));
            let server = ["http://a", "http://b"][attempt as usize % 2];
            (server, outcomes.next().map_or(Ok(attempt), Err))
        });
        (result, made)
    }

    #[test]
    fn a_safe_call_is_repeated_until_it_succeeds() {
        let (result, made) = run(Retry::Safe, 4, vec![refused(false), refused(false)]);
        assert_eq!(result.unwrap(), 2);
        assert_eq!(made, [(0, false), (1, true), (2, true)]);
    }

    #[test]
    fn every_failure_is_listed_when_none_is_left() {
        let (result, made) = run(Retry::Safe, 2, vec![refused(true), refused(false)]);
        assert_eq!(made.len(), 2);
        match result {
            Err(Error::AllServersFailed(all)) => {
                let servers: Vec<&str> = all.iter().map(|(s, _)| s.as_str()).collect();
                assert_eq!(servers, ["http://a", "http://b"]);
            }
            other => panic!("expected AllServersFailed, got {other:?}"),
        }
        let (result, _) = run(Retry::Safe, 1, vec![refused(false)]);
        assert!(matches!(result, Err(Error::Transport { .. })), "{result:?}");
    }

    #[test]
    fn an_unsafe_call_is_repeated_only_after_an_attempt_that_sent_nothing() {
        let (result, made) = run(Retry::IfUnsent, 4, vec![refused(true), refused(false)]);
        assert_eq!(made, [(0, false), (1, false)], "stopped after the lost one");
        assert!(matches!(result, Err(Error::AllServersFailed(ref a)) if a.len() == 2));
    }

    #[test]
    fn a_cancelled_call_makes_no_further_attempt() {
        let policy = Policy {
            attempts: 4,
            delay: Duration::from_secs(600),
        };
        let call = Call {
            describe: &|server| format!("GET {server}/v2/images"),
            retry: Retry::Safe,
            next: "trying the next server",
        };
        let cancel = crate::Cancel::new();
        let ctx = Ctx::new(Some(cancel.clone()), None);
        let mut made = 0;
        let result: Result<u32> = policy.run(&ctx, &call, |_, _| {
            made += 1;
            // Cancelled during the first attempt: the 600 s pause ends at once.
            cancel.cancel();
            ("http://a", Err(refused(false)))
        });
        assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
        assert_eq!(made, 1);
        let result: Result<u32> = policy.run(&ctx, &call, |_, _| unreachable!("no attempt"));
        assert!(matches!(result, Err(Error::Cancelled)), "{result:?}");
    }

    #[test]
    fn a_failure_another_attempt_cannot_cure_ends_the_call() {
        let not_found = Failed::from(Error::from_status(crate::error::ApiError {
            status: 404,
            message: String::new(),
            request_id: None,
        }));
        let (result, made) = run(Retry::Safe, 4, vec![not_found]);
        assert_eq!(made.len(), 1);
        assert!(matches!(result, Err(Error::NotFound(_))), "{result:?}");
        let last = Failed {
            last: true,
            ..refused(true)
        };
        let (result, made) = run(Retry::Safe, 4, vec![last]);
        assert_eq!(made.len(), 1);
        assert!(matches!(result, Err(Error::Transport { .. })), "{result:?}");
    }
}
