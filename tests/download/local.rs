//! The local file-store short-circuit: used when the location's store id
//! and mountpoint map to a local mount, refused (and HTTP used instead) for
//! everything unsafe or wrong.

use std::path::{Path, PathBuf};

use glance_client::{Client, DownloadOptions, DownloadSource, FileSystem};
use serde_json::json;

use crate::harness::*;

const GLANCE_MOUNT: &str = "/var/lib/glance/images";

/// A Glance whose image has `locations` and whose data endpoint serves `data`.
fn glance(data: &[u8], locations: &[(String, serde_json::Value)]) -> Scripted {
    serving(image_json(data, locations), data.to_vec())
}

fn store_location() -> (String, serde_json::Value) {
    (
        format!("file://{GLANCE_MOUNT}/{ID}"),
        json!({"id": "fs1", "mountpoint": GLANCE_MOUNT}),
    )
}

/// A client allowing `file` direct URLs, with `mount` as filesystem `fs1`.
fn local_client(server: &Scripted, mount: Option<&Path>) -> Client {
    client(&[&server.url], |c| {
        c.allowed_direct_url_schemes = vec!["file".into()];
        c.filesystems = mount
            .map(|m| {
                vec![FileSystem {
                    name: "store".into(),
                    id: "fs1".into(),
                    mountpoint: m.to_path_buf(),
                }]
            })
            .unwrap_or_default();
    })
}

struct Setup {
    _root: tempfile::TempDir,
    mount: PathBuf,
    out: PathBuf,
}

/// A mount directory (`ROOT/mount`) and an output directory (`ROOT/out`).
fn setup() -> Setup {
    let root = tempfile::tempdir().unwrap();
    let mount = root.path().join("mount");
    let out = root.path().join("out");
    std::fs::create_dir(&mount).unwrap();
    std::fs::create_dir(&out).unwrap();
    Setup {
        _root: root,
        mount,
        out,
    }
}

#[test]
fn matching_id_and_mountpoint_copy_locally_and_verify() {
    let s = setup();
    let data = sample(3_000_000, 21);
    std::fs::write(s.mount.join(ID), &data).unwrap();
    let server = glance(&data, &[store_location()]);
    let dest = s.out.join("image.raw");
    let report = local_client(&server, Some(&s.mount))
        .download(ID, &dest, DownloadOptions::default())
        .unwrap();
    assert_eq!(
        report.source,
        DownloadSource::Local {
            path: std::fs::canonicalize(s.mount.join(ID)).unwrap()
        }
    );
    assert_eq!(report.verified, ["sha512"]);
    assert_eq!(std::fs::read(&dest).unwrap(), data);
    assert!(server.data_requests().is_empty(), "no HTTP data request");
    assert!(
        report.local_refusals.is_empty(),
        "{:?}",
        report.local_refusals
    );
    assert_eq!(entries(&s.out), ["image.raw"]);
}

#[test]
fn without_filesystems_the_location_path_is_used_as_is() {
    let s = setup();
    let data = sample(100_000, 22);
    std::fs::write(s.mount.join(ID), &data).unwrap();
    let url = format!("file://{}/{ID}", s.mount.display());
    let server = glance(&data, &[(url, json!({}))]);
    let report = local_client(&server, None)
        .download(ID, s.out.join("x"), DownloadOptions::default())
        .unwrap();
    assert!(
        matches!(report.source, DownloadSource::Local { .. }),
        "{report:?}"
    );
    assert!(server.data_requests().is_empty());
}

#[test]
fn local_copies_need_the_file_scheme_and_the_option() {
    let s = setup();
    let data = sample(100_000, 23);
    std::fs::write(s.mount.join(ID), &data).unwrap();
    let server = glance(&data, &[store_location()]);
    let not_allowed = client(&[&server.url], |c| {
        c.filesystems = vec![FileSystem {
            name: "s".into(),
            id: "fs1".into(),
            mountpoint: s.mount.clone(),
        }];
    });
    let report = not_allowed
        .download(ID, s.out.join("a"), DownloadOptions::default())
        .unwrap();
    assert!(
        matches!(report.source, DownloadSource::Http { .. }),
        "{report:?}"
    );
    assert!(report.local_refusals.is_empty());
    let off = DownloadOptions {
        allow_local: false,
        ..DownloadOptions::default()
    };
    let report = local_client(&server, Some(&s.mount))
        .download(ID, s.out.join("b"), off)
        .unwrap();
    assert!(
        matches!(report.source, DownloadSource::Http { .. }),
        "{report:?}"
    );
    assert_eq!(server.data_requests().len(), 2);
}

/// Downloads with `location` and expects HTTP to serve it, with one
/// refusal containing `why`.
fn refused(s: &Setup, data: &[u8], location: (String, serde_json::Value), why: &str) {
    let server = glance(data, &[location]);
    let dest = s.out.join("image.raw");
    let report = local_client(&server, Some(&s.mount))
        .download(ID, &dest, DownloadOptions::default())
        .unwrap();
    assert_eq!(
        report.source,
        DownloadSource::Http {
            server: server.url.clone()
        },
        "{why}"
    );
    assert_eq!(std::fs::read(&dest).unwrap(), data, "{why}");
    assert_eq!(
        report.local_refusals.len(),
        1,
        "{:?}",
        report.local_refusals
    );
    assert!(
        report.local_refusals[0].contains(why),
        "expected {why:?} in {:?}",
        report.local_refusals
    );
    assert_eq!(server.data_requests().len(), 1);
    assert_eq!(entries(&s.out), ["image.raw"], "no temporary file left");
}

#[test]
fn unknown_store_id_is_refused() {
    let s = setup();
    let data = sample(50_000, 24);
    std::fs::write(s.mount.join(ID), &data).unwrap();
    let (url, _) = store_location();
    refused(
        &s,
        &data,
        (url, json!({"id": "fs2", "mountpoint": GLANCE_MOUNT})),
        "no [image_file_url] filesystem has id",
    );
}

#[test]
fn a_path_outside_the_stores_mountpoint_is_refused() {
    let s = setup();
    let data = sample(50_000, 25);
    std::fs::write(s.mount.join(ID), &data).unwrap();
    let url = format!("file:///var/lib/glance/other/{ID}");
    refused(
        &s,
        &data,
        (url, json!({"id": "fs1", "mountpoint": GLANCE_MOUNT})),
        "not under",
    );
}

#[test]
fn dot_dot_segments_are_refused() {
    let s = setup();
    let data = sample(50_000, 26);
    std::fs::write(s.mount.join(ID), &data).unwrap();
    let url = format!("file://{GLANCE_MOUNT}/../images/{ID}");
    refused(
        &s,
        &data,
        (url, json!({"id": "fs1", "mountpoint": GLANCE_MOUNT})),
        "..",
    );
}

#[test]
fn a_symlink_out_of_the_mountpoint_is_refused() {
    let s = setup();
    let data = sample(50_000, 27);
    // The right bytes, but outside the mount.
    let outside = s.out.parent().unwrap().join("secret");
    std::fs::write(&outside, &data).unwrap();
    std::os::unix::fs::symlink(&outside, s.mount.join(ID)).unwrap();
    refused(&s, &data, store_location(), "outside the mountpoint");
}

#[test]
fn a_symlink_within_the_mountpoint_is_followed() {
    let s = setup();
    let data = sample(50_000, 28);
    std::fs::create_dir(s.mount.join("real")).unwrap();
    std::fs::write(s.mount.join("real/data"), &data).unwrap();
    std::os::unix::fs::symlink("real/data", s.mount.join(ID)).unwrap();
    let server = glance(&data, &[store_location()]);
    let report = local_client(&server, Some(&s.mount))
        .download(ID, s.out.join("x"), DownloadOptions::default())
        .unwrap();
    assert!(
        matches!(report.source, DownloadSource::Local { .. }),
        "{report:?}"
    );
}

#[test]
fn a_directory_is_refused() {
    let s = setup();
    let data = sample(50_000, 29);
    std::fs::create_dir(s.mount.join(ID)).unwrap();
    refused(&s, &data, store_location(), "not a regular file");
}

#[test]
fn a_fifo_is_refused_without_blocking() {
    let s = setup();
    let data = sample(50_000, 30);
    let fifo = s.mount.join(ID);
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(
        made.is_ok_and(|st| st.success()),
        "mkfifo {}",
        fifo.display()
    );
    let s = within(std::time::Duration::from_secs(30), move || {
        refused(&s, &data, store_location(), "not a regular file");
        s
    });
    drop(s);
}

#[test]
fn a_missing_local_file_is_refused() {
    let s = setup();
    let data = sample(50_000, 31);
    refused(&s, &data, store_location(), "No such file");
}

#[test]
fn a_local_file_of_the_wrong_size_is_refused() {
    let s = setup();
    let data = sample(50_000, 32);
    std::fs::write(s.mount.join(ID), &data[..49_999]).unwrap();
    refused(
        &s,
        &data,
        store_location(),
        "has 49999 bytes, the image 50000",
    );
}

#[test]
fn a_corrupted_local_file_is_detected_and_http_used() {
    let s = setup();
    let data = sample(2_000_000, 33);
    let mut bad = data.clone();
    bad[1_999_999] ^= 0x55;
    std::fs::write(s.mount.join(ID), &bad).unwrap();
    refused(&s, &data, store_location(), "sha512 mismatch");
}

#[test]
fn the_first_usable_location_wins() {
    let s = setup();
    let data = sample(50_000, 34);
    std::fs::write(s.mount.join(ID), &data).unwrap();
    let unknown = (
        format!("file://{GLANCE_MOUNT}/{ID}"),
        json!({"id": "nope", "mountpoint": GLANCE_MOUNT}),
    );
    let server = glance(&data, &[unknown, store_location()]);
    let report = local_client(&server, Some(&s.mount))
        .download(ID, s.out.join("x"), DownloadOptions::default())
        .unwrap();
    assert!(
        matches!(report.source, DownloadSource::Local { .. }),
        "{report:?}"
    );
    assert_eq!(
        report.local_refusals.len(),
        1,
        "{:?}",
        report.local_refusals
    );
}

#[test]
fn without_a_checksum_no_local_copy_is_made() {
    // Nothing could verify a local copy: a crafted location naming a file
    // of the right size (here a "secret" with other bytes) must not be
    // published. HTTP is used instead, checked with its Content-MD5.
    let s = setup();
    let data = sample(50_000, 35);
    let secret = sample(50_000, 36);
    let secret_path = s.mount.join(ID);
    std::fs::write(&secret_path, &secret).unwrap();
    let cases = [
        // No [image_file_url] filesystems: the path is used as it is.
        (
            None,
            (format!("file://{}", secret_path.display()), json!({})),
        ),
        (Some(s.mount.as_path()), store_location()),
    ];
    for (mount, location) in cases {
        let mut json = image_json(&data, &[location]);
        for k in ["checksum", "os_hash_algo", "os_hash_value"] {
            json[k] = serde_json::Value::Null;
        }
        let server = serving(json, data.clone());
        let dest = s.out.join("image.raw");
        let report = local_client(&server, mount)
            .download(ID, &dest, DownloadOptions::default())
            .unwrap();
        assert!(
            matches!(report.source, DownloadSource::Http { .. }),
            "mount {mount:?}: {report:?}"
        );
        assert!(std::fs::read(&dest).unwrap() == data, "the HTTP bytes");
        assert_eq!(report.verified, ["md5"], "by the answer's Content-MD5");
        assert_eq!(
            report.local_refusals.len(),
            1,
            "{:?}",
            report.local_refusals
        );
        assert!(
            report.local_refusals[0].contains("no checksum"),
            "{:?}",
            report.local_refusals
        );
        assert_eq!(server.data_requests().len(), 1);
        assert_eq!(entries(&s.out), ["image.raw"]);
    }
}

#[test]
fn a_failed_local_copy_then_a_failed_download_keep_the_old_file() {
    let s = setup();
    let data = sample(300_000, 37);
    let mut bad = data.clone();
    bad[150_000] ^= 0x01;
    std::fs::write(s.mount.join(ID), &bad).unwrap();
    // HTTP sends corrupt bytes too (announcing the good MD5).
    let json = image_json(&data, &[store_location()]);
    let server = Scripted::start({
        let data = data.clone();
        move |seen, _| {
            if seen.path.ends_with("/file") {
                Act::Answer {
                    status: 200,
                    headers: octet_headers(&data),
                    body: bad.clone(),
                }
            } else {
                Act::json(&json)
            }
        }
    });
    let dest = s.out.join("image.raw");
    std::fs::write(&dest, b"previous image").unwrap();
    let err = local_client(&server, Some(&s.mount))
        .download(ID, &dest, DownloadOptions::default())
        .unwrap_err();
    assert!(
        matches!(
            err,
            glance_client::Error::ChecksumMismatch {
                algorithm: "sha512",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(server.data_requests().len(), 1, "HTTP tried after the copy");
    assert_eq!(entries(&s.out), ["image.raw"], "no temporary file left");
    assert_eq!(std::fs::read(&dest).unwrap(), b"previous image");
}

#[test]
fn progress_starts_again_from_zero_when_a_local_copy_fails() {
    let s = setup();
    let data = sample(300_000, 38);
    let mut bad = data.clone();
    bad[299_999] ^= 0x01;
    std::fs::write(s.mount.join(ID), &bad).unwrap();
    let server = glance(&data, &[store_location()]);
    let mut calls = Vec::new();
    let options = DownloadOptions {
        progress: Some(Box::new(|done, _| {
            calls.push(done);
            std::ops::ControlFlow::Continue(())
        })),
        ..DownloadOptions::default()
    };
    let report = local_client(&server, Some(&s.mount))
        .download(ID, s.out.join("x"), options)
        .unwrap();
    assert!(
        matches!(report.source, DownloadSource::Http { .. }),
        "{report:?}"
    );
    // The local copy counts up to the whole image, then HTTP from the start.
    let top = calls.iter().position(|&d| d == 300_000).unwrap();
    assert!(calls[top + 1] < 300_000, "{calls:?}");
    assert_eq!(calls.last(), Some(&300_000));
}
