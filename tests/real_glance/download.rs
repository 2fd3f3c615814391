//! The verified downloader against the real Glance: over HTTP, and through
//! the local short-circuit with an `[image_file_url]` mapping of the lab's
//! file store (the report says which source served).

use std::io::Cursor;
use std::path::{Path, PathBuf};

use glance_client::{Client, DownloadOptions, DownloadSource, Error, FileSystem, ImageData};

use super::{Scratch, sample, sha512_hex, support, unique};

/// An active image holding `data`.
fn uploaded(client: &Client, tag: &str, data: &[u8]) -> Scratch {
    let scratch = Scratch::new(client, &unique(tag), &[]);
    client
        .upload(
            scratch.id(),
            ImageData::reader(&mut Cursor::new(data), Some(data.len() as u64)),
        )
        .expect("upload");
    scratch
}

fn http_only() -> DownloadOptions<'static> {
    DownloadOptions {
        allow_local: false,
        ..DownloadOptions::default()
    }
}

/// The lab's store directory and id, or `None` (said on stderr) for a
/// Glance whose store is not on this machine.
fn store(lab: &support::Lab) -> Option<(PathBuf, String)> {
    match (&lab.store_dir, &lab.fs_id) {
        (Some(dir), Some(id)) => Some((dir.clone(), id.clone())),
        _ => {
            support::say(&format!(
                "SKIPPED {} (GLANCE_STORE_DIR and GLANCE_FS_ID unknown: the store is not local)",
                std::thread::current().name().unwrap_or("a test")
            ));
            None
        }
    }
}

/// A client for the lab that may copy `file://` locations of `filesystems`.
fn local_client(lab: &support::Lab, filesystems: Vec<FileSystem>) -> Client {
    Client::new(glance_client::Config {
        allowed_direct_url_schemes: vec!["file".into()],
        filesystems,
        ..lab.config()
    })
    .expect("a client")
}

fn mapping(id: &str, mountpoint: &Path) -> FileSystem {
    FileSystem {
        name: "lab".into(),
        id: id.to_string(),
        mountpoint: mountpoint.to_path_buf(),
    }
}

#[test]
fn http_download_is_verified_with_sha512_and_equals_the_upload() {
    let Some(lab) = support::lab() else { return };
    let client = lab.client();
    let data = sample(3 * 1024 * 1024 + 17, 8);
    let scratch = uploaded(&client, "dl-http", &data);
    let dir = tempfile::tempdir().expect("a temp dir");
    let dest = dir.path().join("image.raw");

    let report = client
        .download(scratch.id(), &dest, http_only())
        .expect("download");

    assert_eq!(report.bytes, data.len() as u64);
    assert_eq!(report.path.as_deref(), Some(dest.as_path()));
    assert_eq!(
        report.source,
        DownloadSource::Http {
            server: lab.endpoint.clone()
        }
    );
    assert_eq!(report.verified.first(), Some(&"sha512"), "{report:?}");
    assert_eq!(report.resumes, 0);
    assert!(
        std::fs::read(&dest).expect("the file") == data,
        "bytes differ"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(
        leftovers.len(),
        1,
        "only the destination remains: {leftovers:?}"
    );

    // Every checksum the image carries, into a writer.
    let mut out = Vec::new();
    let options = DownloadOptions {
        verify_all: true,
        ..DownloadOptions::default()
    };
    let report = client
        .download_to(scratch.id(), &mut out, options)
        .expect("download into a writer");
    let mut verified = report.verified.clone();
    verified.sort();
    assert_eq!(verified, ["md5", "sha512"]);
    assert!(out == data, "bytes differ");
}

#[test]
fn local_short_circuit_copies_from_the_mapped_store() {
    let Some(lab) = support::lab() else { return };
    let Some((store_dir, fs_id)) = store(lab) else {
        return;
    };
    let data = sample(1024 * 1024 + 5, 9);
    let scratch = uploaded(&lab.client(), "dl-local", &data);
    let dir = tempfile::tempdir().expect("a temp dir");
    let dest = dir.path().join("image.raw");
    // The store "mounted" at another path on this host: a symlink, so the
    // location's mountpoint prefix must be swapped for this one.
    let mount = dir.path().join("mnt");
    std::os::unix::fs::symlink(&store_dir, &mount).expect("a symlink to the store");
    let client = local_client(lab, vec![mapping(&fs_id, &mount)]);

    let report = client
        .download(scratch.id(), &dest, DownloadOptions::default())
        .expect("download");

    let stored = std::fs::canonicalize(store_dir.join(scratch.id())).expect("the stored file");
    assert_eq!(
        report.source,
        DownloadSource::Local { path: stored },
        "{report:?}"
    );
    assert!(report.local_refusals.is_empty(), "{report:?}");
    assert_eq!(report.verified.first(), Some(&"sha512"));
    assert_eq!(report.bytes, data.len() as u64);
    assert!(
        std::fs::read(&dest).expect("the file") == data,
        "bytes differ"
    );

    // --no-local's option: the same client goes over HTTP.
    let report = client
        .download(scratch.id(), &dest, http_only())
        .expect("download over HTTP");
    assert!(
        matches!(report.source, DownloadSource::Http { .. }),
        "{report:?}"
    );
}

#[test]
fn an_unmapped_store_id_falls_back_to_http_saying_why() {
    let Some(lab) = support::lab() else { return };
    let Some((store_dir, fs_id)) = store(lab) else {
        return;
    };
    let data = sample(100_000, 10);
    let scratch = uploaded(&lab.client(), "dl-unmapped", &data);
    let dir = tempfile::tempdir().expect("a temp dir");
    let dest = dir.path().join("image.raw");
    let client = local_client(lab, vec![mapping("some-other-store", &store_dir)]);

    let report = client
        .download(scratch.id(), &dest, DownloadOptions::default())
        .expect("download");

    assert!(
        matches!(report.source, DownloadSource::Http { .. }),
        "{report:?}"
    );
    assert_eq!(report.local_refusals.len(), 1, "{report:?}");
    assert!(
        report.local_refusals[0].contains(&fs_id),
        "the refusal names the location's store id: {report:?}"
    );
    assert!(
        std::fs::read(&dest).expect("the file") == data,
        "bytes differ"
    );
}

#[test]
fn a_corrupted_store_is_detected_locally_and_over_http_and_nothing_is_published() {
    let Some(lab) = support::lab() else { return };
    let Some((store_dir, fs_id)) = store(lab) else {
        return;
    };
    let data = sample(200_000, 11);
    let scratch = uploaded(&lab.client(), "dl-corrupt", &data);
    // Same size, one byte changed: only a checksum can tell.
    let stored = store_dir.join(scratch.id());
    let mut bad = data.clone();
    bad[123_456] ^= 0x55;
    std::fs::write(&stored, &bad).expect("corrupt the stored file");
    let dir = tempfile::tempdir().expect("a temp dir");
    let dest = dir.path().join("image.raw");
    std::fs::write(&dest, b"previous contents").expect("an existing destination");
    let client = local_client(lab, vec![mapping(&fs_id, &store_dir)]);

    let result = client.download(scratch.id(), &dest, DownloadOptions::default());

    match result {
        Err(Error::ChecksumMismatch {
            algorithm,
            expected,
            actual,
        }) => {
            assert_eq!(algorithm, "sha512");
            assert_eq!(expected, sha512_hex(&data));
            assert_eq!(actual, sha512_hex(&bad));
        }
        other => panic!("expected a sha512 mismatch from HTTP, got {other:?}"),
    }
    assert_eq!(
        std::fs::read(&dest).expect("the destination"),
        b"previous contents",
        "the existing destination is untouched"
    );
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(entries.len(), 1, "no temporary file left: {entries:?}");
}

#[test]
fn an_image_without_data_is_no_data_and_writes_nothing() {
    let Some(lab) = support::lab() else { return };
    let client = lab.client();
    let scratch = Scratch::new(&client, &unique("dl-queued"), &[]);
    let dir = tempfile::tempdir().expect("a temp dir");
    let dest = dir.path().join("image.raw");

    let result = client.download(scratch.id(), &dest, DownloadOptions::default());

    assert!(
        matches!(&result, Err(Error::NoData { image_id }) if image_id == scratch.id()),
        "a queued image: {result:?}"
    );
    assert!(!dest.exists(), "no file for an image without data");
}
