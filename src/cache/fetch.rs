//! Fetching into the cache: one download per image however many threads
//! and processes ask at once.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::lock::{self, Held};
use super::names::{self, Kind};
use super::record::{self, Record};
use super::{CacheStatus, CachedImage, ImageCache, Precached};
use crate::client::Client;
use crate::download::{DownloadOptions, Progress, signature_required};
use crate::error::{Error, Result};
use crate::image::Image;

impl ImageCache {
    /// Makes sure the image is in the cache and returns it.
    ///
    /// Reads the image record (one request); when the cache holds the
    /// image and its record still matches (size and checksums), that is
    /// all: no data moves. Otherwise the image is downloaded with
    /// [`Client::download`]'s guarantees (verified, atomic, resumed; the
    /// `options` apply) and replaces any stale entry; files already checked
    /// out keep their data.
    ///
    /// When several threads or processes fetch one image at once, exactly
    /// one downloads; the others wait for its lock and then use what it
    /// published (or download it themselves if it failed). While waiting,
    /// the progress callback sees the other fetch's bytes and may cancel,
    /// and `options.cancel` and `options.deadline` apply as to a download.
    ///
    /// Fails for an id that is not a Glance id, an image that is not
    /// `active` ([`Error::ImageNotActive`]), and an image without any
    /// checksum ([`Error::NoChecksum`]: a cached copy could never be told
    /// from it).
    pub fn fetch(
        &self,
        client: &Client,
        id: &str,
        options: DownloadOptions<'_>,
    ) -> Result<CachedImage> {
        names::check_id(id)?;
        // The options' cancel handle and deadline cover the whole fetch: the
        // record, the wait for another fetch (checked before each pause,
        // at most 200 ms apart) and the download.
        let (client, options, scope) = client.scoped(options)?;
        scope.outcome(self.fetch_scoped(&client, id, options))
    }

    fn fetch_scoped(
        &self,
        client: &Client,
        id: &str,
        mut options: DownloadOptions<'_>,
    ) -> Result<CachedImage> {
        let image = client.image(id)?;
        if !image.is_active() {
            return Err(Error::ImageNotActive {
                image_id: id.to_string(),
                status: image.status.clone(),
            });
        }
        if !has_checksum(&image) {
            return Err(Error::NoChecksum {
                image_id: id.to_string(),
            });
        }
        let held = self.wait_for(id, image.size, &mut options)?;
        let signed = signature_required(client, &options.signature);
        if let Some(existing) = self.existing(&image, signed)? {
            return Ok(existing);
        }
        self.download(client, &image, options, held)
    }

    /// Takes the entry's lock, reporting another fetch's progress meanwhile.
    fn wait_for(
        &self,
        id: &str,
        total: Option<u64>,
        options: &mut DownloadOptions<'_>,
    ) -> Result<Held> {
        let mut progress = Progress(options.progress.take());
        let mut announced = false;
        let held = lock::hold(&self.dir.join(names::lock(id)), || {
            if !announced {
                log::info!("image {id}: another fetch holds the cache entry; waiting for it");
                announced = true;
            }
            progress.report(self.bytes_in_flight(id), total)
        });
        options.progress = progress.0;
        held
    }

    /// The largest temporary file of a fetch of `id`: how far it has come.
    fn bytes_in_flight(&self, id: &str) -> u64 {
        let Ok(read) = fs::read_dir(&self.dir) else {
            return 0;
        };
        read.filter_map(|e| e.ok())
            .filter(|e| {
                e.file_name()
                    .to_str()
                    .is_some_and(|n| names::kind(n) == Kind::Temporary(id) && !n.contains(".json."))
            })
            .filter_map(|e| e.metadata().ok())
            .map(|m| m.len())
            .max()
            .unwrap_or(0)
    }

    /// The cached image when its record matches `image` and its data is
    /// there at the recorded size; marks it used. Call with the lock held.
    /// When the fetch requires a signature (`signed`: `Some(validated)`),
    /// the entry must also have been verified with the image's present
    /// signature when it was fetched (and its certificate chained, when
    /// `validated`): an entry that was not is fetched again, verified.
    fn existing(&self, image: &Image, signed: Option<bool>) -> Result<Option<CachedImage>> {
        let id = image.id.as_str();
        let record_path = self.dir.join(names::record(id));
        let Some(mut record) = Record::read(&record_path, id)? else {
            return Ok(None);
        };
        let data = self.dir.join(id);
        let size = match fs::metadata(&data) {
            Ok(m) if m.is_file() => m.len(),
            Ok(_) => return Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(format!("reading {}", data.display()), e)),
        };
        if size != record.size || !record.matches(image) {
            log::info!("image {id}: the cached entry no longer matches the image; replacing it");
            return Ok(None);
        }
        if let Some(validated) = signed
            && !record.signed_as(image, validated)
        {
            log::info!(
                "image {id}: the cached entry was not verified with the image's signature; \
                 fetching it again, verified"
            );
            return Ok(None);
        }
        record.last_used = record::now();
        record.write(&record_path)?;
        Ok(Some(CachedImage {
            id: id.to_string(),
            path: data,
            bytes: size,
            status: CacheStatus::Existing,
            #[cfg(feature = "signatures")]
            signature: record.signature.as_ref().and_then(|s| s.verified()),
            format: record.format,
            virtual_size: record.virtual_size,
            download: None,
        }))
    }

    /// Downloads `image` into the cache (lock held), then writes its record.
    fn download(
        &self,
        client: &Client,
        image: &Image,
        mut options: DownloadOptions<'_>,
        held: Held,
    ) -> Result<CachedImage> {
        let id = image.id.as_str();
        let record_path = self.dir.join(names::record(id));
        // Not an entry from here until the new record is written.
        remove_if_there(&record_path)?;
        options.require_checksum = true;
        let data = self.dir.join(id);
        let report = client.download_image(image, &data, options)?;
        let finish = || -> Result<Record> {
            read_only(&data)?;
            let record = Record::new(image, &report);
            record.write(&record_path)?;
            Ok(record)
        };
        let record = match finish() {
            Ok(record) => record,
            Err(e) => {
                // Data without a record is not an entry: leave none behind.
                let _ = fs::remove_file(&data);
                return Err(e);
            }
        };
        drop(held);
        Ok(CachedImage {
            id: id.to_string(),
            path: data,
            bytes: report.bytes,
            status: CacheStatus::Fetched,
            #[cfg(feature = "signatures")]
            signature: report.signature.clone(),
            format: record.format,
            virtual_size: record.virtual_size,
            download: Some(report),
        })
    }

    /// Fetches each image, `concurrency` at a time (at least 1), like Nova's
    /// image precache: one outcome per id, in the order given, with the
    /// default download options.
    pub fn precache(&self, client: &Client, ids: &[&str], concurrency: usize) -> Vec<Precached> {
        let next = AtomicUsize::new(0);
        let mut outcomes: Vec<(usize, Result<CachedImage>)> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..concurrency.clamp(1, ids.len().max(1)))
                .map(|_| {
                    scope.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let i = next.fetch_add(1, Ordering::Relaxed);
                            let Some(id) = ids.get(i) else { break done };
                            done.push((i, self.fetch(client, id, DownloadOptions::default())));
                        }
                    })
                })
                .collect();
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        });
        outcomes.sort_by_key(|(i, _)| *i);
        outcomes
            .into_iter()
            .map(|(i, result)| Precached {
                id: ids[i].to_string(),
                result,
            })
            .collect()
    }
}

fn has_checksum(image: &Image) -> bool {
    let set = |v: &Option<String>| v.as_deref().is_some_and(|v| !v.trim().is_empty());
    set(&image.os_hash_value) || set(&image.checksum)
}

/// Makes the cached data read-only: checkouts share its inode.
fn read_only(path: &Path) -> Result<()> {
    fs::set_permissions(path, fs::Permissions::from_mode(0o444))
        .map_err(|e| Error::io(format!("making {} read-only", path.display()), e))
}

pub(super) fn remove_if_there(path: &Path) -> Result<()> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(format!("removing {}", path.display()), e)),
    }
}
