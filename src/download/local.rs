//! The local short-circuit: an image whose `file://` location is on a
//! filesystem mounted here is copied from it instead of over HTTP (Nova's
//! file download handler, with the path checks it lacked).
//!
//! A location is used only when `file` is an allowed direct-URL scheme, the
//! image has a checksum to verify the copy with (`os_hash_value` or
//! `checksum`: without one, a crafted or unconfined path could publish any
//! file of the right size), it maps through [`Location::local_path`], and
//! the mapped path, after resolving symlinks, is a regular file inside the
//! local mountpoint whose size is the image's. The file is then opened
//! without following a symlink or blocking (`O_NOFOLLOW | O_NONBLOCK`), and
//! what was opened must be that very file (same device and inode), so a
//! path swapped between the check and the open is refused, not read.
//!
//! The copy goes through the kernel (`copy_file_range`, as `std::io::copy`
//! does between files, so an NFS mount can copy on the server) in chunks;
//! each chunk is read back from the temporary file and hashed on the
//! hashing threads, so what is verified is what was written; the bytes
//! copied must also be the image's size. Any refusal or failure is returned
//! as a reason; the caller logs it and falls back to HTTP.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::ops::ControlFlow;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use super::Progress;
use super::inspecting::InspectPlan;
use super::signing::Signing;
use super::staged::Staged;
use super::verify::{BUFFER, Check, Pipe, Verified};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::image::{Image, Location};

/// Bytes copied by one `copy_file_range` round before they are hashed.
const CHUNK: u64 = 8 * 1024 * 1024;

/// A local file that passed every check.
pub(super) struct Candidate {
    pub(super) path: PathBuf,
    file: File,
}

/// The image's `file://` locations (and its `direct_url` when it is one
/// not among them), in order; empty when `file` is not an allowed
/// direct-URL scheme. Nothing is opened.
pub(super) fn locations(image: &Image, config: &Config) -> Vec<Location> {
    if !config
        .allowed_direct_url_schemes
        .iter()
        .any(|s| s.trim().eq_ignore_ascii_case("file"))
    {
        return Vec::new();
    }
    let mut locations: Vec<Location> = image
        .locations
        .iter()
        .filter(|l| is_file_url(&l.url))
        .cloned()
        .collect();
    if let Some(direct) = image.direct_url.as_deref()
        && is_file_url(direct)
        && !locations.iter().any(|l| l.url == direct)
    {
        locations.push(Location {
            url: direct.to_string(),
            metadata: Default::default(),
        });
    }
    locations
}

/// Maps a location and opens the file it names when it passes every
/// check; a refusal comes as its reason.
pub(super) fn candidate(
    location: &Location,
    image: &Image,
    config: &Config,
) -> Result<Candidate, String> {
    check(location, image, config).map_err(|why| format!("{}: {why}", location.url))
}

fn is_file_url(url: &str) -> bool {
    url.get(..5)
        .is_some_and(|s| s.eq_ignore_ascii_case("file:"))
}

/// Maps a location and checks the file it names.
fn check(location: &Location, image: &Image, config: &Config) -> Result<Candidate, String> {
    let mapped = location.local_path(&config.filesystems)?;
    let resolved = fs::canonicalize(&mapped).map_err(|e| format!("{}: {e}", mapped.display()))?;
    if !config.filesystems.is_empty() {
        // local_path found the filesystem by id; find it again for its mountpoint.
        let id = location.metadata_str("id").unwrap_or_default();
        let mount = config
            .filesystems
            .iter()
            .find(|fs| fs.id == id)
            .map(|fs| fs.mountpoint.as_path())
            .ok_or("no filesystem for the location's id")?;
        let mount =
            fs::canonicalize(mount).map_err(|e| format!("mountpoint {}: {e}", mount.display()))?;
        if !resolved.starts_with(&mount) {
            return Err(format!(
                "{} resolves to {}, outside the mountpoint {}",
                mapped.display(),
                resolved.display(),
                mount.display()
            ));
        }
    }
    // `resolved` has no symlink left: its last component must be a regular
    // file now, and the very same file once open (see `open_checked`).
    let checked =
        fs::symlink_metadata(&resolved).map_err(|e| format!("{}: {e}", resolved.display()))?;
    if !checked.is_file() {
        return Err(format!("{} is not a regular file", resolved.display()));
    }
    let (file, meta) = open_checked(&resolved, &checked)?;
    if let Some(size) = image.size
        && meta.len() != size
    {
        return Err(format!(
            "{} has {} bytes, the image {size}",
            resolved.display(),
            meta.len()
        ));
    }
    Ok(Candidate {
        path: resolved,
        file,
    })
}

/// `open(2)` flags for a local file: `O_NOFOLLOW` (a last component turned
/// into a symlink since it was checked is not followed: `ELOOP`) and
/// `O_NONBLOCK` (one turned into a FIFO does not block the open; a regular
/// file ignores the flag, so reads are unchanged). std adds `O_CLOEXEC` to
/// every open. std does not name these flags and `libc` would be a
/// dependency for two numbers, so they are written here, per target, from
/// the kernel's and the BSDs' `fcntl.h` (as the `libc` crate has them).
const OPEN_FLAGS: i32 = if cfg!(all(
    any(target_os = "linux", target_os = "android"),
    any(
        target_arch = "x86_64",
        target_arch = "x86",
        target_arch = "riscv64",
        target_arch = "s390x",
        target_arch = "loongarch64"
    )
)) {
    0o400_000 | 0o4_000
} else if cfg!(all(
    any(target_os = "linux", target_os = "android"),
    any(
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "powerpc",
        target_arch = "powerpc64"
    )
)) {
    0o100_000 | 0o4_000
} else if cfg!(any(
    target_os = "macos",
    target_os = "ios",
    target_os = "freebsd",
    target_os = "netbsd",
    target_os = "openbsd",
    target_os = "dragonfly"
)) {
    0x100 | 0x4
} else {
    // Elsewhere (values not checked here): no flags. The checks before and
    // after the open still refuse anything but the file that was checked,
    // but a FIFO swapped in between would block the open.
    0
};

/// Opens `path` for reading without following a symlink or blocking, and
/// accepts it only if what was opened is a regular file and the very file
/// `checked` described (same device and inode): a path swapped between the
/// check and the open (another file, a symlink out of the mountpoint, a
/// FIFO) is refused. Returns the file and its metadata.
fn open_checked(path: &Path, checked: &fs::Metadata) -> Result<(File, fs::Metadata), String> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(OPEN_FLAGS)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if !meta.is_file() {
        return Err(format!("{} is not a regular file", path.display()));
    }
    if (meta.dev(), meta.ino()) != (checked.dev(), checked.ino()) {
        return Err(format!(
            "{} was replaced while it was checked",
            path.display()
        ));
    }
    Ok((file, meta))
}

/// Copies a candidate into the temporary file, verifies it (checksums and,
/// when required, the signature) and inspects it. Returns the bytes copied
/// and what was verified; on a failure other than a cancel or a refusal of
/// the image itself (its format, its signature), the caller empties the
/// temporary file and goes on.
pub(super) fn copy(
    candidate: &mut Candidate,
    staged: &mut Staged,
    (checks, inspect, signing): (&[Check], Option<&InspectPlan>, Option<&Signing>),
    progress: &mut Progress<'_>,
    total: Option<u64>,
) -> Result<(u64, Verified)> {
    std::thread::scope(|scope| {
        let mut pipe = Pipe::start(scope, checks, inspect, signing);
        let mut done = 0u64;
        loop {
            let copied = io::copy(&mut (&candidate.file).take(CHUNK), &mut &*staged.file())
                .map_err(|e| {
                    Error::io(
                        format!(
                            "copying {} to {}",
                            candidate.path.display(),
                            staged.path().display()
                        ),
                        e,
                    )
                })?;
            if copied == 0 {
                break;
            }
            hash_back(staged, &mut pipe, done, copied)?;
            done += copied;
            if let ControlFlow::Break(()) = progress.report(done, total) {
                return Err(Error::Cancelled);
            }
        }
        // The file was checked for the image's size before the copy; it may
        // have changed since.
        if let Some(expected) = total
            && done != expected
        {
            return Err(Error::SizeMismatch {
                expected,
                actual: done,
            });
        }
        let verified = pipe.finish()?;
        Ok((done, verified))
    })
}

/// Reads `len` bytes at `offset` back from the temporary file into the
/// hashing pipe.
fn hash_back(staged: &mut Staged, pipe: &mut Pipe<'_>, offset: u64, len: u64) -> Result<()> {
    let file = staged.file();
    let mut at = offset;
    let end = offset + len;
    while at < end {
        let mut buffer = pipe.buffer()?;
        let want = (end - at).min(BUFFER as u64) as usize;
        file.read_exact_at(&mut buffer[..want], at)
            .map_err(|e| Error::io("reading back the copied image", e))?;
        at += want as u64;
        pipe.hash(buffer, want)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    /// A candidate that passed its checks, as `check` returns it.
    fn candidate_for(path: &std::path::Path) -> Candidate {
        Candidate {
            path: path.to_path_buf(),
            file: File::open(path).unwrap(),
        }
    }

    #[test]
    fn a_copy_of_another_size_than_the_image_is_refused() {
        // The file changed size after it was checked: even with nothing
        // else to compare, the bytes copied must be the image's size.
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("source");
        std::fs::File::create(&source)
            .unwrap()
            .write_all(&[7; 1000])
            .unwrap();
        let mut staged = Staged::create(&dir.path().join("dest")).unwrap();
        let mut progress = Progress(None);
        for (size, ok) in [(1001, false), (999, false), (1000, true)] {
            staged.restart().unwrap();
            let result = copy(
                &mut candidate_for(&source),
                &mut staged,
                (&[], None, None),
                &mut progress,
                Some(size),
            );
            match result {
                Ok((bytes, _)) if ok => assert_eq!(bytes, 1000),
                Err(Error::SizeMismatch { expected, actual }) if !ok => {
                    assert_eq!((expected, actual), (size, 1000));
                }
                other => panic!("image size {size}: {other:?}"),
            }
        }
    }

    #[test]
    fn a_file_replaced_after_its_check_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("image");
        std::fs::write(&path, b"checked").unwrap();
        let checked = std::fs::symlink_metadata(&path).unwrap();
        let other = dir.path().join("other");
        std::fs::write(&other, b"swapped").unwrap();
        std::fs::rename(&other, &path).unwrap();
        let e = open_checked(&path, &checked).unwrap_err();
        assert!(e.contains("was replaced"), "{e}");
        // Untouched, it opens.
        let checked = std::fs::symlink_metadata(&path).unwrap();
        let (_, meta) = open_checked(&path, &checked).unwrap();
        assert_eq!(meta.len(), 7);
    }

    #[test]
    fn a_symlink_swapped_in_is_not_followed() {
        // The same file, now reached through a symlink: only O_NOFOLLOW
        // tells (the inode matches).
        if OPEN_FLAGS == 0 {
            eprintln!("no O_NOFOLLOW on this target: skipped");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("image");
        std::fs::write(&path, b"data").unwrap();
        let checked = std::fs::symlink_metadata(&path).unwrap();
        let moved = dir.path().join("elsewhere");
        std::fs::rename(&path, &moved).unwrap();
        std::os::unix::fs::symlink(&moved, &path).unwrap();
        assert!(open_checked(&path, &checked).is_err());
    }

    #[test]
    fn a_fifo_swapped_in_does_not_block_the_open() {
        if OPEN_FLAGS == 0 {
            eprintln!("no O_NONBLOCK on this target: skipped");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("image");
        std::fs::write(&path, b"data").unwrap();
        let checked = std::fs::symlink_metadata(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        let made = std::process::Command::new("mkfifo").arg(&path).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo {}", path.display());
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(open_checked(&path, &checked).map(|_| ()));
        });
        let result = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("opening a FIFO blocked");
        let e = result.unwrap_err();
        assert!(e.contains("not a regular file"), "{e}");
    }
}
