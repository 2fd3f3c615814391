//! An entry's record, `ID.json`: what the data is, so that a later fetch can
//! tell whether it still is the image Glance describes.

use std::fs;
use std::io::{self, Read, Write};
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::download::{DownloadReport, Staged};
use crate::error::{Error, Result};
use crate::image::Image;

/// A record larger than this is not one of ours.
const MAX_RECORD: u64 = 64 * 1024;

/// The record of one entry (the README documents the fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Record {
    pub(super) id: String,
    pub(super) size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) os_hash_algo: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) os_hash_value: Option<String>,
    /// The image's MD5.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) checksum: Option<String>,
    /// The detected disk format, when the download inspected it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) virtual_size: Option<u64>,
    /// The signature the data was verified with when it was fetched
    /// (cargo feature `signatures`), when its download required one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) signature: Option<Signed>,
    /// Seconds since the Unix epoch.
    pub(super) fetched_at: u64,
    /// Seconds since the Unix epoch.
    pub(super) last_used: u64,
}

/// A verified signature, as a record keeps it: the image's four
/// `img_signature*` properties then, and what the verification found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Signed {
    pub(super) img_signature: String,
    pub(super) hash_method: String,
    pub(super) key_type: String,
    pub(super) certificate_uuid: String,
    pub(super) certificate_subject: String,
    /// Whether the certificate was found to chain to a trusted one.
    pub(super) certificate_validated: bool,
}

/// The `img_signature*` properties, in [`Signed`]'s order.
const SIGNATURE_PROPERTIES: [&str; 4] = [
    "img_signature",
    "img_signature_hash_method",
    "img_signature_key_type",
    "img_signature_certificate_uuid",
];

impl Signed {
    /// The verification of `report`, of `image`, when it verified one.
    #[cfg(feature = "signatures")]
    fn of(image: &Image, report: &DownloadReport) -> Option<Signed> {
        let verified = report.signature.as_ref()?;
        Some(Signed {
            img_signature: image.properties.get(SIGNATURE_PROPERTIES[0])?.clone(),
            hash_method: verified.hash_method.name().to_string(),
            key_type: verified.key_type.name().to_string(),
            certificate_uuid: verified.certificate_uuid.clone(),
            certificate_subject: verified.certificate_subject.clone(),
            certificate_validated: verified.certificate_validated,
        })
    }

    #[cfg(not(feature = "signatures"))]
    fn of(_: &Image, _: &DownloadReport) -> Option<Signed> {
        None
    }

    /// Whether `image`'s signature properties are still the ones verified.
    fn covers(&self, image: &Image) -> bool {
        let recorded = [
            &self.img_signature,
            &self.hash_method,
            &self.key_type,
            &self.certificate_uuid,
        ];
        SIGNATURE_PROPERTIES
            .iter()
            .zip(recorded)
            .all(|(name, value)| image.properties.get(*name) == Some(value))
    }

    /// The verification as a download reports it.
    #[cfg(feature = "signatures")]
    pub(super) fn verified(&self) -> Option<crate::signature::Verified> {
        use crate::signature::{HashMethod, KeyType, Verified};
        Some(Verified {
            key_type: KeyType::from_name(&self.key_type).ok()?,
            hash_method: HashMethod::from_name(&self.hash_method).ok()?,
            certificate_uuid: self.certificate_uuid.clone(),
            certificate_subject: self.certificate_subject.clone(),
            certificate_validated: self.certificate_validated,
        })
    }
}

impl Record {
    /// The record of freshly downloaded data of `image`.
    pub(super) fn new(image: &Image, report: &DownloadReport) -> Record {
        let now = now();
        Record {
            id: image.id.clone(),
            size: report.bytes,
            os_hash_algo: image.os_hash_algo.clone(),
            os_hash_value: image.os_hash_value.clone(),
            checksum: image.checksum.clone(),
            format: report.format.map(|f| f.name().to_string()),
            virtual_size: report.virtual_size,
            signature: Signed::of(image, report),
            fetched_at: now,
            last_used: now,
        }
    }

    /// Whether the entry still is `image`: the same size and every
    /// checksum the image carries equal to the recorded one. An image
    /// without any checksum matches nothing (nothing could tell).
    pub(super) fn matches(&self, image: &Image) -> bool {
        let same = |a: &Option<String>, b: &Option<String>| match (a, b) {
            (Some(a), Some(b)) => a.trim().eq_ignore_ascii_case(b.trim()),
            _ => false,
        };
        let secure = image
            .os_hash_value
            .as_deref()
            .is_some_and(|v| !v.is_empty());
        let md5 = image.checksum.as_deref().is_some_and(|v| !v.is_empty());
        image.id == self.id
            && image.size == Some(self.size)
            && (secure || md5)
            && (!secure
                || (same(&image.os_hash_algo, &self.os_hash_algo)
                    && same(&image.os_hash_value, &self.os_hash_value)))
            && (!md5 || same(&image.checksum, &self.checksum))
    }

    /// Whether the data was verified, when it was fetched, with `image`'s
    /// present signature (and its certificate found to chain to a trusted
    /// one, when `validated`).
    pub(super) fn signed_as(&self, image: &Image, validated: bool) -> bool {
        self.signature
            .as_ref()
            .is_some_and(|s| s.covers(image) && (s.certificate_validated || !validated))
    }

    /// The image as far as the record knows it: enough to plan the checks
    /// that verify the data.
    pub(super) fn as_image(&self) -> Image {
        Image {
            id: self.id.clone(),
            size: Some(self.size),
            os_hash_algo: self.os_hash_algo.clone(),
            os_hash_value: self.os_hash_value.clone(),
            checksum: self.checksum.clone(),
            ..Image::default()
        }
    }

    /// When the entry was last used.
    pub(super) fn last_used_time(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.last_used)
    }

    /// When the entry was fetched.
    pub(super) fn fetched_time(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.fetched_at)
    }

    /// Reads a record; `Ok(None)` when there is none, and when the file is
    /// not a record of this entry (broken, foreign or oversized), which a
    /// clean removes.
    pub(super) fn read(path: &Path, id: &str) -> Result<Option<Record>> {
        let file = match fs::File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io(format!("reading {}", path.display()), e)),
        };
        let mut text = Vec::new();
        file.take(MAX_RECORD + 1)
            .read_to_end(&mut text)
            .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
        if text.len() as u64 > MAX_RECORD {
            log::warn!("{}: larger than a cache record; ignored", path.display());
            return Ok(None);
        }
        match serde_json::from_slice::<Record>(&text) {
            Ok(record) if record.id == id => Ok(Some(record)),
            Ok(record) => {
                log::warn!(
                    "{}: the record of {:?}, not of {id:?}; ignored",
                    path.display(),
                    record.id
                );
                Ok(None)
            }
            Err(e) => {
                log::warn!("{}: not a cache record ({e}); ignored", path.display());
                Ok(None)
            }
        }
    }

    /// Writes the record atomically (temporary file, fsync, rename, fsync
    /// of the directory).
    pub(super) fn write(&self, path: &Path) -> Result<()> {
        let mut staged = Staged::create(path)?;
        let text = serde_json::to_vec_pretty(self)
            .map_err(|e| Error::io("encoding a cache record", io::Error::other(e)))?;
        staged
            .file()
            .write_all(&text)
            .map_err(|e| Error::io(format!("writing {}", staged.path().display()), e))?;
        staged.publish(true).map(|_| ())
    }
}

/// Seconds since the Unix epoch (0 for a clock before it).
pub(super) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MD5: &str = "900150983cd24fb0d6963f7d28e17f72";
    const SHA: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    fn image() -> Image {
        Image {
            id: "i".into(),
            size: Some(3),
            checksum: Some(MD5.into()),
            os_hash_algo: Some("sha256".into()),
            os_hash_value: Some(SHA.into()),
            ..Image::default()
        }
    }

    fn report(bytes: u64) -> DownloadReport {
        DownloadReport {
            path: None,
            bytes,
            source: crate::download::DownloadSource::Http {
                server: "http://glance".into(),
            },
            verified: vec!["sha256"],
            resumes: 0,
            local_refusals: Vec::new(),
            format: Some(crate::inspect::Format::Raw),
            virtual_size: Some(bytes),
            #[cfg(feature = "signatures")]
            signature: None,
        }
    }

    #[test]
    fn a_record_matches_its_image_and_not_a_changed_one() {
        let record = Record::new(&image(), &report(3));
        assert!(record.matches(&image()));
        let mut upper = image();
        upper.os_hash_value = Some(SHA.to_uppercase());
        assert!(record.matches(&upper), "hex case does not matter");
        let mut resized = image();
        resized.size = Some(4);
        assert!(!record.matches(&resized));
        let mut rehashed = image();
        rehashed.os_hash_value = Some("0".repeat(64));
        assert!(!record.matches(&rehashed));
        let mut remd5 = image();
        remd5.checksum = Some("0".repeat(32));
        assert!(!record.matches(&remd5));
        let mut bare = image();
        bare.checksum = None;
        bare.os_hash_value = None;
        assert!(!record.matches(&bare), "no checksum: nothing could tell");
    }

    #[test]
    fn records_round_trip_and_foreign_files_are_not_records() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("i.json");
        assert_eq!(Record::read(&path, "i").unwrap(), None);
        let record = Record::new(&image(), &report(3));
        record.write(&path).unwrap();
        assert_eq!(Record::read(&path, "i").unwrap(), Some(record.clone()));
        assert_eq!(Record::read(&path, "j").unwrap(), None, "another id");
        fs::write(&path, b"{not json").unwrap();
        assert_eq!(Record::read(&path, "i").unwrap(), None);
        fs::write(&path, vec![b' '; MAX_RECORD as usize + 1]).unwrap();
        assert_eq!(Record::read(&path, "i").unwrap(), None);
    }
}
