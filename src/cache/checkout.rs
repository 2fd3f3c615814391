//! Handing a cached image out: a hard link when the destination is on the
//! cache's filesystem, else a copy; never a partial file at the destination.

use std::fs::{self, File};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use super::lock;
use super::names;
use super::record::{self, Record};
use super::{Checkout, ImageCache};
use crate::download::Staged;
use crate::error::{Error, Result};

impl ImageCache {
    /// Puts the cached image at `dest` and marks the entry used.
    ///
    /// `dest` becomes a hard link to the entry when it is on the cache's
    /// filesystem (made under a temporary name beside `dest`, then renamed
    /// over it), else a copy is made the way downloads are written (a
    /// temporary file, fsync, rename). Either way `dest` never shows a
    /// partial file, and an existing `dest` is replaced only at the end.
    /// The link shares the entry's inode: treat it as read-only. While the
    /// link exists the entry is in use and no clean removes it.
    ///
    /// Waits while a fetch of the same image is running. Fails with
    /// [`Error::NotCached`] when the image is not in the cache.
    pub fn checkout(&self, id: &str, dest: impl AsRef<Path>) -> Result<Checkout> {
        names::check_id(id)?;
        let dest = dest.as_ref();
        let held = lock::hold(&self.dir.join(names::lock(id)), || {
            std::ops::ControlFlow::Continue(())
        })?;
        let record_path = self.dir.join(names::record(id));
        let data = self.dir.join(id);
        let mut record = match Record::read(&record_path, id)? {
            Some(r) if fs::metadata(&data).is_ok_and(|m| m.is_file() && m.len() == r.size) => r,
            _ => {
                return Err(Error::NotCached {
                    image_id: id.to_string(),
                    cache: self.dir.clone(),
                });
            }
        };
        let linked = match link(&data, dest)? {
            true => true,
            false => {
                copy(&data, dest)?;
                false
            }
        };
        record.last_used = record::now();
        record.write(&record_path)?;
        drop(held);
        Ok(Checkout {
            path: dest.to_path_buf(),
            linked,
        })
    }
}

/// Links `data` at `dest` through a temporary name and a rename; `false`
/// when the filesystem cannot link it there (another filesystem, links
/// refused or exhausted), so a copy must do.
fn link(data: &Path, dest: &Path) -> Result<bool> {
    if same_file(data, dest) {
        // Already this entry's link: a rename onto it would do nothing (a
        // rename between links of one file is a no-op) and leave the
        // temporary link behind.
        return Ok(true);
    }
    // Staged finds a free temporary name beside dest and removes whatever is
    // left at it on every error path; the link takes the name's place.
    let staged = Staged::create(dest)?;
    let tmp: PathBuf = staged.path().to_path_buf();
    fs::remove_file(&tmp).map_err(|e| Error::io(format!("removing {}", tmp.display()), e))?;
    match fs::hard_link(data, &tmp) {
        Ok(()) => {}
        Err(e) if cannot_link(&e) => {
            log::debug!(
                "{} cannot be linked at {} ({e}); copying it",
                data.display(),
                dest.display()
            );
            return Ok(false);
        }
        Err(e) => {
            return Err(Error::io(
                format!("linking {} to {}", data.display(), tmp.display()),
                e,
            ));
        }
    }
    staged.publish(true)?;
    Ok(true)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (fs::metadata(a), fs::symlink_metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

fn cannot_link(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::CrossesDevices
            | io::ErrorKind::PermissionDenied
            | io::ErrorKind::TooManyLinks
            | io::ErrorKind::Unsupported
    )
}

/// Copies `data` to `dest` through a temporary file, fsync and rename.
fn copy(data: &Path, dest: &Path) -> Result<()> {
    let mut staged = Staged::create(dest)?;
    let mut source =
        File::open(data).map_err(|e| Error::io(format!("reading {}", data.display()), e))?;
    io::copy(&mut source, staged.file()).map_err(|e| {
        Error::io(
            format!("copying {} to {}", data.display(), dest.display()),
            e,
        )
    })?;
    staged.publish(true).map(|_| ())
}
