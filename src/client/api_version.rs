//! Calls newer than image API v2.0 check that the server offers their
//! minor version first, from the versions document (`GET /versions`), read
//! once per client and kept: one request for the client's lifetime, none
//! when no such call is made.

use super::Client;
use crate::error::{Error, Result};
use crate::v2;

impl Client {
    /// Fails with [`Error::Unsupported`] unless the client speaks v2 and
    /// the server offers image API v2.`minor` (listed itself when `exact`,
    /// see [`v2::versions::offers`]); `operation` names the call and the
    /// version it needs. A failure to read the versions document is that
    /// call's error, and is not kept: the next call asks again.
    pub(crate) fn require_minor(
        &self,
        minor: u32,
        exact: bool,
        operation: &'static str,
    ) -> Result<()> {
        self.require_v2(operation)?;
        let versions = match self.inner.versions.get() {
            Some(versions) => versions,
            None => {
                let read = self.versions()?;
                self.inner.versions.get_or_init(|| read)
            }
        };
        if v2::versions::offers(versions, minor, exact) {
            Ok(())
        } else {
            Err(Error::Unsupported {
                operation,
                api_version: 2,
            })
        }
    }
}
