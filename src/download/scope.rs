//! A download's cancel handle and deadline: the view of the client its
//! requests go through, and the progress callback that checks them between
//! pieces of data (a local copy has no other reads to check them in).

use std::cell::RefCell;
use std::ops::ControlFlow;
use std::rc::Rc;

use super::DownloadOptions;
use crate::call::Ctx;
use crate::client::Client;
use crate::error::{Error, Result};

/// Why a download's progress callback stopped it, when not the caller's
/// own callback: told apart from [`Error::Cancelled`] afterwards.
pub(crate) struct Scope {
    stopped: Rc<RefCell<Option<Error>>>,
}

impl Client {
    /// The view a download's requests go through (this one's, also stopped
    /// by `options.cancel` and over by `options.deadline`), the options with
    /// a progress callback that checks them before the caller's, and what
    /// tells afterwards why a stop happened. Fails when the call cannot
    /// start (cancelled, past its deadline, a malformed request id).
    pub(crate) fn scoped<'a>(
        &self,
        mut options: DownloadOptions<'a>,
    ) -> Result<(Client, DownloadOptions<'a>, Scope)> {
        let client = self.narrowed(
            options.cancel.as_ref(),
            options.deadline,
            "the download's deadline (DownloadOptions::deadline)",
        );
        let ctx: Ctx = client.ctx(true)?;
        let stopped = Rc::new(RefCell::new(None));
        let mut caller = options.progress.take();
        let why = stopped.clone();
        options.progress = Some(Box::new(move |done, total| {
            if let Err(e) = ctx.check(|| format!("downloading the image ({done} bytes in)")) {
                *why.borrow_mut() = Some(e);
                return ControlFlow::Break(());
            }
            match &mut caller {
                Some(callback) => callback(done, total),
                None => ControlFlow::Continue(()),
            }
        }));
        Ok((client, options, Scope { stopped }))
    }

    /// Fails when the download may no longer publish its file: cancelled
    /// or past its deadline since the last piece of data.
    pub(super) fn still_wanted(&self) -> Result<()> {
        self.ctx(true)?;
        Ok(())
    }
}

impl Scope {
    /// The download's result, a stop by the cancel handle or deadline
    /// saying which it was.
    pub(crate) fn outcome<T>(self, result: Result<T>) -> Result<T> {
        match result {
            Err(Error::Cancelled) => Err(self.stopped.take().unwrap_or(Error::Cancelled)),
            other => other,
        }
    }
}
