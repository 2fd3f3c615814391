//! An entry's lock: an exclusive OS lock (`flock`) on `ID.lock`, so it is
//! released when its holder exits, however it exits.
//!
//! A lock file is removed only by a holder of its lock (when its entry goes).
//! Someone who opened the file just before that removal would then lock a
//! file no longer in the directory, while a third party creates and locks a
//! new one: so after locking, the holder checks that the path still names
//! the file it locked, and starts again when it does not.

use std::fs::{self, File, OpenOptions, TryLockError};
use std::io;
use std::ops::ControlFlow;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::{Error, Result};

/// How often in a row the lock file may vanish under us before giving up
/// (each time needs a clean removing the entry at that very moment).
const ATTEMPTS: usize = 64;

/// The first pause between tries while someone else holds the lock; it
/// doubles up to [`MAX_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(10);

/// The longest pause between tries: how long a lock released by its holder
/// may go unnoticed.
const MAX_PAUSE: Duration = Duration::from_millis(200);

/// A held entry lock; dropping it releases the lock.
#[derive(Debug)]
pub(super) struct Held {
    // Closing the file releases the lock.
    _file: File,
    path: PathBuf,
}

impl Held {
    /// Removes the lock file (its entry is gone), then releases the lock.
    pub(super) fn remove(self) -> Result<()> {
        match fs::remove_file(&self.path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io(format!("removing {}", self.path.display()), e)),
        }
    }
}

/// Takes the lock when it is free; `None` when someone holds it.
pub(super) fn try_hold(path: &Path) -> Result<Option<Held>> {
    for _ in 0..ATTEMPTS {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| Error::io(format!("opening the lock file {}", path.display()), e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Ok(None),
            Err(TryLockError::Error(e)) => {
                return Err(Error::io(format!("locking {}", path.display()), e));
            }
        }
        if still_named(&file, path)? {
            return Ok(Some(Held {
                _file: file,
                path: path.to_path_buf(),
            }));
        }
    }
    Err(Error::io(
        format!("locking {}", path.display()),
        io::Error::other("the lock file kept being removed"),
    ))
}

/// Takes the lock, waiting while someone else holds it. `waiting` is
/// called before each pause; `Break` gives up with [`Error::Cancelled`].
pub(super) fn hold(path: &Path, mut waiting: impl FnMut() -> ControlFlow<()>) -> Result<Held> {
    let mut pause = FIRST_PAUSE;
    loop {
        if let Some(held) = try_hold(path)? {
            return Ok(held);
        }
        if waiting().is_break() {
            return Err(Error::Cancelled);
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(MAX_PAUSE);
    }
}

/// Whether `path` still names the open `file`.
fn still_named(file: &File, path: &Path) -> Result<bool> {
    let open = file
        .metadata()
        .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    match fs::metadata(path) {
        Ok(named) => Ok(named.dev() == open.dev() && named.ino() == open.ino()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(Error::io(format!("reading {}", path.display()), e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_lock_is_busy_for_others_until_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let held = try_hold(&path).unwrap().expect("free at first");
        assert!(try_hold(&path).unwrap().is_none(), "busy while held");
        drop(held);
        assert!(try_hold(&path).unwrap().is_some(), "free once dropped");
    }

    #[test]
    fn waiting_can_be_cancelled() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let _held = try_hold(&path).unwrap().unwrap();
        let mut calls = 0;
        let e = hold(&path, || {
            calls += 1;
            if calls == 3 {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        })
        .unwrap_err();
        assert!(matches!(e, Error::Cancelled), "{e:?}");
        assert_eq!(calls, 3);
    }

    #[test]
    fn a_removed_lock_file_is_not_held_by_its_old_opener() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let held = try_hold(&path).unwrap().unwrap();
        held.remove().unwrap();
        assert!(!path.exists());
        // The next holder makes a new file and holds it alone.
        let again = try_hold(&path).unwrap().unwrap();
        assert!(path.exists());
        assert!(try_hold(&path).unwrap().is_none());
        drop(again);
    }
}
