//! Looking after the cache: listing, eviction and re-verification.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File, Metadata};
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use super::fetch::remove_if_there;
use super::lock::{self, Held};
use super::names::{self, Kind};
use super::record::Record;
use super::{CacheEntry, CleanPolicy, CleanReport, ImageCache, VerifyReport};
use crate::download::verify;
use crate::error::{Error, Result};

/// What the directory holds, by id.
#[derive(Default)]
struct Scan {
    data: BTreeSet<String>,
    records: BTreeSet<String>,
    locks: BTreeSet<String>,
    temporaries: BTreeMap<String, Vec<PathBuf>>,
}

impl Scan {
    /// Ids with a file that is certainly the cache's: a record, a lock or
    /// a temporary file (data alone may be someone else's, e.g. Nova's).
    fn ours(&self) -> BTreeSet<&String> {
        self.records
            .iter()
            .chain(&self.locks)
            .chain(self.temporaries.keys())
            .collect()
    }
}

/// An entry as found on disk.
struct Found {
    record: Record,
    meta: Metadata,
}

impl ImageCache {
    /// Lists the entries, oldest use first.
    pub fn entries(&self) -> Result<Vec<CacheEntry>> {
        let scan = self.scan()?;
        let mut entries = Vec::new();
        for id in &scan.records {
            let Some(found) = self.found(id)? else {
                continue;
            };
            let in_use = self.in_use(id, &found.meta)?;
            entries.push(CacheEntry {
                id: id.clone(),
                path: self.dir.join(id),
                bytes: found.meta.len(),
                fetched_at: found.record.fetched_time(),
                last_used: found.record.last_used_time(),
                in_use,
                format: found.record.format,
            });
        }
        entries.sort_by_key(|e| (e.last_used, e.id.clone()));
        Ok(entries)
    }

    /// Removes leftovers, then entries unused for `max_age` or longer, then
    /// the least recently used entries until the cache holds at most
    /// `max_size` bytes. An entry in use (checked out, or locked by a
    /// fetch) is never removed, nor is a leftover whose fetch still runs.
    pub fn clean(&self, policy: &CleanPolicy) -> Result<CleanReport> {
        let mut report = CleanReport::default();
        self.remove_leftovers(&mut report)?;
        let now = SystemTime::now();
        let mut kept = Vec::new();
        for entry in self.entries()? {
            let unused = now
                .duration_since(entry.last_used)
                .unwrap_or(Duration::ZERO);
            let old = policy.max_age.is_some_and(|max| unused >= max);
            if !(old && self.evict(&entry.id, &mut report)?) {
                kept.push(entry);
            }
        }
        if let Some(budget) = policy.max_size {
            let mut total: u64 = kept.iter().map(|e| e.bytes).sum();
            // `entries` lists the least recently used first.
            for entry in &kept {
                if total <= budget {
                    break;
                }
                if self.evict(&entry.id, &mut report)? {
                    total = total.saturating_sub(entry.bytes);
                }
            }
        }
        Ok(report)
    }

    /// Re-hashes every entry against its record and removes those that no
    /// longer match (a flipped bit on disk, a checkout written to). Waits
    /// for a fetch in progress to finish before checking its entry.
    pub fn verify(&self) -> Result<VerifyReport> {
        let mut report = VerifyReport::default();
        for id in self.scan()?.records {
            let held = lock::hold(&self.dir.join(names::lock(&id)), || {
                std::ops::ControlFlow::Continue(())
            })?;
            let Some(found) = self.found(&id)? else {
                continue;
            };
            report.checked += 1;
            if !self.data_matches(&found.record)? {
                log::warn!("image {id}: the cached data no longer matches its record; removing it");
                self.remove_entry(&id, held)?;
                report.removed.push(id);
            }
        }
        Ok(report)
    }

    fn scan(&self) -> Result<Scan> {
        let read = fs::read_dir(&self.dir)
            .map_err(|e| Error::io(format!("reading {}", self.dir.display()), e))?;
        let mut scan = Scan::default();
        for dirent in read {
            let dirent =
                dirent.map_err(|e| Error::io(format!("reading {}", self.dir.display()), e))?;
            let name = dirent.file_name();
            let Some(name) = name.to_str() else { continue };
            match names::kind(name) {
                Kind::Data(id) => scan.data.insert(id.to_string()),
                Kind::Record(id) => scan.records.insert(id.to_string()),
                Kind::Lock(id) => scan.locks.insert(id.to_string()),
                Kind::Temporary(id) => {
                    let files = scan.temporaries.entry(id.to_string()).or_default();
                    files.push(dirent.path());
                    true
                }
                Kind::Other => false,
            };
        }
        Ok(scan)
    }

    /// The entry's record and data, when both are there and agree on the size.
    fn found(&self, id: &str) -> Result<Option<Found>> {
        let Some(record) = Record::read(&self.dir.join(names::record(id)), id)? else {
            return Ok(None);
        };
        let path = self.dir.join(id);
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_file() && meta.len() == record.size => {
                Ok(Some(Found { record, meta }))
            }
            Ok(_) => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(format!("reading {}", path.display()), e)),
        }
    }

    /// Checked out (more than one link) or locked by someone.
    fn in_use(&self, id: &str, meta: &Metadata) -> Result<bool> {
        if meta.nlink() > 1 {
            return Ok(true);
        }
        Ok(lock::try_hold(&self.dir.join(names::lock(id)))?.is_none())
    }

    /// Removes an entry unless it is in use; whether it was removed.
    fn evict(&self, id: &str, report: &mut CleanReport) -> Result<bool> {
        let Some(held) = lock::try_hold(&self.dir.join(names::lock(id)))? else {
            return Ok(false);
        };
        let Some(found) = self.found(id)? else {
            return Ok(false);
        };
        if found.meta.nlink() > 1 {
            return Ok(false);
        }
        self.remove_entry(id, held)?;
        log::info!(
            "image {id}: removed from the cache ({} bytes)",
            found.meta.len()
        );
        report.removed.push(id.to_string());
        report.freed += found.meta.len();
        Ok(true)
    }

    /// Removes the record first (the data alone is no entry), then the
    /// data, then the lock file, whose lock is released last.
    fn remove_entry(&self, id: &str, held: Held) -> Result<()> {
        remove_if_there(&self.dir.join(names::record(id)))?;
        remove_if_there(&self.dir.join(id))?;
        held.remove()
    }

    /// Temporary files of fetches that are no longer running, and the
    /// pieces of entries that are incomplete (data without a record, a
    /// broken record, a lone lock file), each only while its lock is free.
    fn remove_leftovers(&self, report: &mut CleanReport) -> Result<()> {
        let scan = self.scan()?;
        for id in scan.ours() {
            let Some(held) = lock::try_hold(&self.dir.join(names::lock(id)))? else {
                continue;
            };
            let mut files: Vec<PathBuf> = scan.temporaries.get(id).cloned().unwrap_or_default();
            let complete = self.found(id)?.is_some();
            if !complete {
                files.push(self.dir.join(names::record(id)));
                files.push(self.dir.join(id));
            }
            for file in files {
                let Ok(meta) = fs::symlink_metadata(&file) else {
                    continue;
                };
                remove_if_there(&file)?;
                log::info!("removed the cache leftover {}", file.display());
                report.freed += meta.len();
                report.leftovers.push(file);
            }
            if !complete {
                held.remove()?;
            }
        }
        Ok(())
    }

    /// Whether the entry's data still has the recorded size and checksum.
    fn data_matches(&self, record: &Record) -> Result<bool> {
        let path = self.dir.join(&record.id);
        let checks = match verify::plan(&record.as_image(), false, true) {
            Ok(checks) => checks,
            Err(_) => return Ok(false),
        };
        let Some(check) = checks.first() else {
            return Ok(false);
        };
        let mut file =
            File::open(&path).map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        let (bytes, actual) = verify::digest(check.algorithm, &mut file)
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        Ok(bytes == record.size && actual == check.expected)
    }
}
