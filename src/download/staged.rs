//! The temporary file a download is written to, beside its destination, and
//! its publication by rename.
//!
//! The file is created with `create_new` in the destination's directory (so
//! the rename is atomic and never crosses a filesystem), named
//! `.NAME.PID-N.part` (NAME shortened and marked `~` when the whole would
//! pass 255 bytes). Until [`Staged::publish`] succeeds, dropping it (an
//! error, an early return, a panic unwinding) removes it; an existing
//! destination file is never touched before the verified rename. A process
//! that is killed outright (`SIGKILL`, a power loss) runs no cleanup: its
//! `.part` file stays behind, and may be deleted.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Seek, SeekFrom};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};

/// A download in progress on disk.
#[derive(Debug)]
pub(crate) struct Staged {
    file: File,
    path: PathBuf,
    dest: PathBuf,
    dir: PathBuf,
    published: bool,
}

/// Distinguishes temporary files of one process.
static COUNTER: AtomicU64 = AtomicU64::new(0);

impl Staged {
    /// Checks the destination and creates the temporary file beside it.
    pub(crate) fn create(dest: &Path) -> Result<Staged> {
        let name = dest.file_name().ok_or_else(|| {
            Error::InvalidInput(format!(
                "download destination {} does not name a file",
                dest.display()
            ))
        })?;
        let dir = match dest.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        match fs::metadata(&dir) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => {
                return Err(Error::InvalidInput(format!(
                    "download destination {}: {} is not a directory",
                    dest.display(),
                    dir.display()
                )));
            }
            Err(e) => {
                return Err(Error::io(
                    format!("destination directory {}", dir.display()),
                    e,
                ));
            }
        }
        if fs::metadata(dest).is_ok_and(|m| m.is_dir()) {
            return Err(Error::InvalidInput(format!(
                "download destination {} is a directory",
                dest.display()
            )));
        }
        let mut last = None;
        for _ in 0..16 {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let path = dir.join(temp_name(name, std::process::id(), n));
            match OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&path)
            {
                Ok(file) => {
                    return Ok(Staged {
                        file,
                        path,
                        dest: dest.to_path_buf(),
                        dir,
                        published: false,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => {
                    return Err(Error::io(
                        format!("creating a temporary file in {}", dir.display()),
                        e,
                    ));
                }
            }
        }
        Err(Error::io(
            format!("creating a temporary file in {}", dir.display()),
            last.unwrap_or_else(|| io::Error::from(io::ErrorKind::AlreadyExists)),
        ))
    }

    /// The open temporary file (readable and writable).
    pub(crate) fn file(&mut self) -> &mut File {
        &mut self.file
    }

    /// The temporary file's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Empties the file, for a download that starts over.
    pub(crate) fn restart(&mut self) -> Result<()> {
        self.file
            .set_len(0)
            .and_then(|_| self.file.seek(SeekFrom::Start(0)))
            .map(|_| ())
            .map_err(|e| Error::io(format!("truncating {}", self.path.display()), e))
    }

    /// Makes the verified file the destination: fsync (when asked), rename
    /// over the destination, fsync the directory (when asked). Once the
    /// rename is done this succeeds: a failed directory fsync is logged at
    /// `warn`, not returned.
    pub(crate) fn publish(self, fsync: bool) -> Result<PathBuf> {
        self.publish_with(fsync, sync_dir)
    }

    /// [`Staged::publish`] with the directory fsync given (tests make it fail).
    fn publish_with(
        mut self,
        fsync: bool,
        sync_dir: impl FnOnce(&Path) -> io::Result<()>,
    ) -> Result<PathBuf> {
        if fsync {
            self.file
                .sync_all()
                .map_err(|e| Error::io(format!("syncing {}", self.path.display()), e))?;
        }
        fs::rename(&self.path, &self.dest).map_err(|e| {
            Error::io(
                format!(
                    "renaming {} to {}",
                    self.path.display(),
                    self.dest.display()
                ),
                e,
            )
        })?;
        self.published = true;
        // From here the destination is the new, verified file: an error
        // would tell the caller the download failed when it did not. A
        // directory fsync failure only leaves the rename's durability across
        // a crash in doubt, so it is a warning.
        if fsync && let Err(e) = sync_dir(&self.dir) {
            log::warn!(
                "{}: published, but syncing directory {} failed: {e}; \
                 a crash now might undo the rename",
                self.dest.display(),
                self.dir.display()
            );
        }
        Ok(self.dest.clone())
    }
}

/// fsyncs a directory, making a rename in it durable.
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir).and_then(|d| d.sync_all())
}

/// The longest file name most filesystems take (`NAME_MAX`), in bytes.
const NAME_MAX: usize = 255;

/// `.NAME.PID-N.part`; when that would pass [`NAME_MAX`], NAME is cut (at a
/// character boundary when it is UTF-8) and marked with `~`:
/// `.NAM~.PID-N.part`. The start of the name stays, so the file is still
/// recognisable; `create_new` and the counter keep it unique.
fn temp_name(name: &OsStr, pid: u32, n: u64) -> OsString {
    let suffix = format!(".{pid}-{n}.part");
    let bytes = name.as_bytes();
    let mut tmp = OsString::from(".");
    // The leading dot and the suffix are at most 1 + 1 + 10 + 1 + 20 + 5 bytes.
    let room = NAME_MAX - 1 - suffix.len();
    if bytes.len() <= room {
        tmp.push(name);
    } else {
        let mut cut = room - 1;
        if let Ok(text) = std::str::from_utf8(bytes) {
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
        }
        tmp.push(OsStr::from_bytes(&bytes[..cut]));
        tmp.push("~");
    }
    tmp.push(suffix);
    tmp
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.published
            && let Err(e) = fs::remove_file(&self.path)
            && e.kind() != io::ErrorKind::NotFound
        {
            log::warn!("could not remove {}: {e}", self.path.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn entries(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn dropped_before_publish_leaves_nothing_and_keeps_the_destination() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("image.raw");
        fs::write(&dest, b"old").unwrap();
        {
            let mut staged = Staged::create(&dest).unwrap();
            staged.file().write_all(b"partial").unwrap();
            assert_eq!(
                entries(dir.path()).len(),
                2,
                "temporary file beside the destination"
            );
        }
        assert_eq!(entries(dir.path()), ["image.raw"]);
        assert_eq!(fs::read(&dest).unwrap(), b"old");
    }

    #[test]
    fn publish_replaces_the_destination() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("image.raw");
        fs::write(&dest, b"old").unwrap();
        let mut staged = Staged::create(&dest).unwrap();
        staged.file().write_all(b"xx").unwrap();
        staged.restart().unwrap();
        staged.file().write_all(b"new").unwrap();
        assert_eq!(staged.publish(true).unwrap(), dest);
        assert_eq!(entries(dir.path()), ["image.raw"]);
        assert_eq!(fs::read(&dest).unwrap(), b"new");
    }

    #[test]
    fn a_panic_removes_the_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("image.raw");
        let result = std::panic::catch_unwind(|| {
            let _staged = Staged::create(&dest).unwrap();
            panic!("interrupted");
        });
        assert!(result.is_err());
        assert!(entries(dir.path()).is_empty());
    }

    #[test]
    fn missing_directory_and_directory_destination_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("no/such/dir/image.raw");
        let e = Staged::create(&missing).unwrap_err();
        assert!(e.to_string().contains("no/such/dir"), "{e}");
        let e = Staged::create(dir.path()).unwrap_err();
        assert!(e.to_string().contains("is a directory"), "{e}");
    }

    #[test]
    fn a_directory_fsync_failure_after_the_rename_is_not_an_error() {
        // The destination already is the new, verified file.
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("image.raw");
        fs::write(&dest, b"old").unwrap();
        let mut staged = Staged::create(&dest).unwrap();
        staged.file().write_all(b"new").unwrap();
        let published = staged.publish_with(true, |_| Err(io::Error::other("EIO from the disk")));
        assert_eq!(published.unwrap(), dest);
        assert_eq!(entries(dir.path()), ["image.raw"]);
        assert_eq!(fs::read(&dest).unwrap(), b"new");
    }

    #[test]
    fn a_destination_name_of_255_bytes_gets_a_shortened_temporary_name() {
        let dir = tempfile::tempdir().unwrap();
        // 255 bytes, ending with two-byte characters where the cut falls.
        let name = format!("{}{}", "a".repeat(200), "\u{e9}".repeat(27) + "b");
        assert_eq!(name.len(), 255);
        let dest = dir.path().join(&name);
        let mut staged = Staged::create(&dest).unwrap();
        let tmp = staged
            .path()
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(tmp.len() <= 255, "{} bytes: {tmp}", tmp.len());
        assert!(tmp.starts_with(&format!(".{}", "a".repeat(200))), "{tmp}");
        assert!(tmp.ends_with(".part"), "{tmp}");
        staged.file().write_all(b"data").unwrap();
        assert_eq!(staged.publish(false).unwrap(), dest);
        assert_eq!(fs::read(&dest).unwrap(), b"data");
        assert_eq!(entries(dir.path()), [name]);
    }

    #[test]
    fn temporary_names_keep_short_names_and_cut_long_ones_cleanly() {
        assert_eq!(
            temp_name(OsStr::new("image.raw"), 7, 3),
            OsStr::new(".image.raw.7-3.part")
        );
        // The cut falls inside a two-byte character: it backs off.
        let name = format!("{}{}", "a".repeat(200), "\u{e9}".repeat(27) + "b");
        let tmp = temp_name(OsStr::new(&name), 12, 0);
        let tmp = tmp.to_str().expect("still UTF-8");
        assert!(tmp.len() <= NAME_MAX, "{}", tmp.len());
        assert!(tmp.ends_with("\u{e9}~.12-0.part"), "{tmp}");
        // Not UTF-8: cut at the byte, never longer than NAME_MAX.
        let raw = OsStr::from_bytes(&[0xff; 300]);
        let tmp = temp_name(raw, u32::MAX, u64::MAX);
        assert_eq!(tmp.len(), NAME_MAX);
        assert!(
            tmp.as_bytes()
                .ends_with(b"~.4294967295-18446744073709551615.part")
        );
    }
}
