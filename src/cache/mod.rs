//! The host image cache: [`ImageCache`], one directory that many threads and
//! processes on a host share, so that each image is downloaded once and
//! handed out by hard link (Nova's `_base` directory and Ironic's master
//! image cache, as a library).
//!
//! # Layout
//!
//! Everything lives flat in the cache directory, named by the image id (a
//! Glance id: letters, digits, `-` and `_`, so a name never leaves the
//! directory):
//!
//! | file | what it is |
//! |---|---|
//! | `ID` | the image data, verified (and inspected) by the downloader, read-only (mode 0444) |
//! | `ID.json` | its record: `id`, `size`, `os_hash_algo`, `os_hash_value`, `checksum`, `format`, `virtual_size`, `fetched_at`, `last_used` (times in seconds since the Unix epoch) |
//! | `ID.lock` | the entry's lock file: an OS file lock on it (`flock`) is held by a fetch for its whole length and briefly by checkout, clean and verify |
//! | `.ID.PID-N.part` | the data of a fetch in progress (the downloader's temporary file) |
//! | `.ID.json.PID-N.part` | a record being written |
//!
//! An entry exists when `ID` and `ID.json` both do and the data has the
//! record's size. The data is published first (by rename), then its record,
//! so a crash in between leaves data without a record: not an entry, and
//! [`ImageCache::clean`] removes it. Other files in the directory (Nova's own
//! `_base` files, say) are never touched.
//!
//! # Concurrency
//!
//! The lock is an OS lock on an open file, so it dies with its holder: a
//! fetch killed with `SIGKILL` never wedges the cache, it only leaves its
//! `.part` file behind, which the next clean removes. A lock file is only
//! removed by a process that holds its lock, and a process that takes a
//! lock checks afterwards that the path still names the file it locked, so
//! two holders can never both believe they hold one entry.
//!
//! A checkout is a hard link to the cache's file (a copy when the
//! destination is on another filesystem): the checkout and the entry are one
//! inode. Treat checkouts as read-only (the file's mode says so) — writing
//! to one writes to the cache, and [`ImageCache::verify`] would then remove
//! the entry. An entry whose data has more than one link is in use and is
//! never evicted.
//!
//! ```no_run
//! use glance_client::{Client, Config, DownloadOptions, ImageCache};
//!
//! let client = Client::new(Config::from_file("/etc/nova/nova.conf")?)?;
//! let cache = ImageCache::new("/var/lib/nova/instances/_base")?;
//! let id = "0c6a0b7e-1d1e-4f0e-9d8b-0e2b1c3d4e5f";
//! let fetched = cache.fetch(&client, id, DownloadOptions::default())?;
//! println!("{} ({} bytes, {:?})", fetched.path.display(), fetched.bytes, fetched.status);
//! cache.checkout(id, "/var/lib/nova/instances/vm-1/disk.base")?;
//! # Ok::<(), glance_client::Error>(())
//! ```

mod checkout;
mod fetch;
mod lock;
mod maintain;
mod names;
mod record;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::download::DownloadReport;
use crate::error::{Error, Result};

/// A host image cache directory; see the [module docs](self) for its layout
/// and guarantees. Cheap to clone; every method may be called from many
/// threads and processes at once.
#[derive(Debug, Clone)]
pub struct ImageCache {
    dir: PathBuf,
}

impl ImageCache {
    /// Opens the cache in `dir`, creating the directory (and its parents)
    /// when missing. Nothing else is read or written.
    pub fn new(dir: impl Into<PathBuf>) -> Result<ImageCache> {
        let dir = dir.into();
        fs::create_dir_all(&dir)
            .map_err(|e| Error::io(format!("creating the cache directory {}", dir.display()), e))?;
        match fs::metadata(&dir) {
            Ok(m) if m.is_dir() => Ok(ImageCache { dir }),
            Ok(_) => Err(Error::InvalidInput(format!(
                "cache directory {} is not a directory",
                dir.display()
            ))),
            Err(e) => Err(Error::io(format!("cache directory {}", dir.display()), e)),
        }
    }

    /// The cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where an entry's data is (whether or not it is cached). Fails when
    /// `id` is not a Glance image id.
    pub fn path_of(&self, id: &str) -> Result<PathBuf> {
        names::check_id(id)?;
        Ok(self.dir.join(id))
    }
}

/// Whether [`ImageCache::fetch`] downloaded the image or found it cached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CacheStatus {
    /// Downloaded by this call.
    Fetched,
    /// Already in the cache, its record matching the image.
    Existing,
}

impl CacheStatus {
    /// `fetched` or `existing`.
    pub fn name(self) -> &'static str {
        match self {
            CacheStatus::Fetched => "fetched",
            CacheStatus::Existing => "existing",
        }
    }
}

/// An image in the cache, as [`ImageCache::fetch`] left it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CachedImage {
    /// The image id.
    pub id: String,
    /// The cached data (read-only; see [`ImageCache::checkout`]).
    pub path: PathBuf,
    /// Size of the data in bytes.
    pub bytes: u64,
    /// Fetched now or already there.
    pub status: CacheStatus,
    /// The detected disk format, when the download inspected it.
    pub format: Option<String>,
    /// The virtual disk size the format declares, when inspected.
    pub virtual_size: Option<u64>,
    /// How the data's signature was verified when it was fetched (now, or
    /// by the fetch that put it in the cache); `None` when no fetch of it
    /// required one. A fetch that requires a signature never returns an
    /// entry without one: it fetches the image again, verified. (Cargo
    /// feature `signatures`.)
    #[cfg(feature = "signatures")]
    pub signature: Option<crate::signature::Verified>,
    /// What the download did, when this call downloaded.
    pub download: Option<DownloadReport>,
}

/// How [`ImageCache::checkout`] made the file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Checkout {
    /// The destination.
    pub path: PathBuf,
    /// `true` for a hard link to the entry, `false` for a copy (another
    /// filesystem, or one that refuses the link).
    pub linked: bool,
}

/// One entry of the cache, as [`ImageCache::entries`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheEntry {
    /// The image id.
    pub id: String,
    /// The cached data.
    pub path: PathBuf,
    /// Size of the data in bytes.
    pub bytes: u64,
    /// When it was downloaded.
    pub fetched_at: SystemTime,
    /// When it was last fetched or checked out.
    pub last_used: SystemTime,
    /// Checked out (the data has more than one link) or being fetched (its
    /// lock is held): never evicted while this holds.
    pub in_use: bool,
    /// The detected disk format, when the download inspected it.
    pub format: Option<String>,
}

/// What [`ImageCache::clean`] may remove. Entries in use are never removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CleanPolicy {
    /// Remove entries not used for longer than this (Nova's
    /// `remove_unused_original_minimum_age_seconds`).
    pub max_age: Option<Duration>,
    /// Then remove the least recently used entries until the cache holds at
    /// most this many bytes.
    pub max_size: Option<u64>,
}

impl CleanPolicy {
    /// Removes nothing but leftovers (temporary files of killed fetches,
    /// data without a record).
    pub fn new() -> CleanPolicy {
        CleanPolicy::default()
    }

    /// With an age limit.
    pub fn max_age(mut self, age: Duration) -> CleanPolicy {
        self.max_age = Some(age);
        self
    }

    /// With a size budget in bytes.
    pub fn max_size(mut self, bytes: u64) -> CleanPolicy {
        self.max_size = Some(bytes);
        self
    }
}

/// What [`ImageCache::clean`] removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CleanReport {
    /// The entries removed, by id.
    pub removed: Vec<String>,
    /// Leftover files removed: temporary files of killed fetches, data
    /// without a record, broken records.
    pub leftovers: Vec<PathBuf>,
    /// Bytes freed, leftovers included.
    pub freed: u64,
}

/// What [`ImageCache::verify`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifyReport {
    /// How many entries were re-hashed.
    pub checked: usize,
    /// The entries that no longer matched their record, removed.
    pub removed: Vec<String>,
}

/// One image's outcome in [`ImageCache::precache`].
#[derive(Debug)]
#[non_exhaustive]
pub struct Precached {
    /// The image id asked for.
    pub id: String,
    /// The cached image, or why it could not be.
    pub result: Result<CachedImage>,
}
