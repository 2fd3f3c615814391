//! Deep format inspection in the downloader, on images made by the real
//! `qemu-img` and served by a scripted Glance: unsafe and mislabelled
//! images are refused (HTTP, local copy and writer alike) before anything
//! is published, early when that is certain, and never asked of another
//! server; safe ones report their format and virtual size.

use std::path::Path;

use glance_client::inspect::{Format, Policy, Reason};
use glance_client::{Client, DownloadOptions, DownloadSource, Error, FileSystem, Inspect};
use serde_json::json;

use crate::harness::*;
use crate::images::{have_qemu_img, qemu_img_create};

/// The JSON of an active image holding `data` under `disk_format`.
fn claiming(data: &[u8], disk_format: &str) -> serde_json::Value {
    let mut image = image_json(data, &[]);
    image["disk_format"] = disk_format.into();
    image
}

/// A qcow2 of 1 MiB made by qemu-img in `dir`, with extra `args`.
fn qcow2(dir: &Path, name: &str, args: &[&str]) -> Vec<u8> {
    std::fs::read(qemu_img_create(dir, name, "qcow2", args, Some("1M"))).unwrap()
}

/// A qcow2 whose header names `base.raw` as its backing file.
fn qcow2_with_backing_file(dir: &Path) -> Vec<u8> {
    qemu_img_create(dir, "base.raw", "raw", &[], Some("1M"));
    qcow2(dir, "child.qcow2", &["-b", "base.raw", "-F", "raw"])
}

/// Downloads into a directory holding an older `image` file, and checks
/// that the download failed as unsafe and left that directory as it was.
fn refused(client: &Client, options: DownloadOptions<'_>) -> (Option<Format>, Reason) {
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("image");
    std::fs::write(&dest, b"the previous image").unwrap();
    let err = client.download(ID, &dest, options).unwrap_err();
    assert_eq!(entries(dir.path()), ["image"], "no temporary file left");
    assert_eq!(std::fs::read(&dest).unwrap(), b"the previous image");
    match err {
        Error::UnsafeImage {
            image_id,
            format,
            reason,
        } => {
            assert_eq!(image_id, ID);
            (format, reason)
        }
        other => panic!("expected UnsafeImage, got {other:?}"),
    }
}

#[test]
fn a_safe_qcow2_downloads_with_its_format_and_virtual_size() {
    if !have_qemu_img() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = qcow2(tmp.path(), "plain.qcow2", &[]);
    let server = serving(claiming(&data, "qcow2"), data.clone());
    let dest = tmp.path().join("out");
    let report = client(&[&server.url], |_| {})
        .download(ID, &dest, DownloadOptions::default())
        .unwrap();
    assert_eq!(report.format, Some(Format::Qcow2));
    assert_eq!(report.virtual_size, Some(1 << 20));
    assert_eq!(report.verified, ["sha512"]);
    assert_eq!(std::fs::read(&dest).unwrap(), data);
}

#[test]
fn a_qcow2_with_a_backing_file_is_refused_once_and_nothing_is_published() {
    if !have_qemu_img() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = qcow2_with_backing_file(tmp.path());
    let server = serving(claiming(&data, "qcow2"), data);
    let client = client(&[&server.url, &server.url], |_| {});
    let (format, reason) = refused(&client, DownloadOptions::default());
    assert_eq!(format, Some(Format::Qcow2));
    assert_eq!(
        reason,
        Reason::BackingFile {
            format: Format::Qcow2,
            name: Some("base.raw".into())
        }
    );
    assert_eq!(server.data_requests().len(), 1, "not asked again elsewhere");
}

#[test]
fn an_unsafe_image_is_refused_as_soon_as_its_header_shows_it() {
    if !have_qemu_img() {
        return;
    }
    // 1 MiB of a qcow2 naming a backing file, announced as 64 MiB and then
    // silence: only a refusal on the first bytes ends this download with
    // UnsafeImage (waiting for the rest would end in a read timeout).
    let tmp = tempfile::tempdir().unwrap();
    let head = qcow2_with_backing_file(tmp.path());
    let mut json = claiming(&head, "qcow2");
    json["size"] = (64u64 << 20).into();
    let server = Scripted::start(move |seen, _| {
        if seen.path.ends_with("/file") {
            Act::Stall {
                headers: vec![("Content-Type".into(), "application/octet-stream".into())],
                announced: 64 << 20,
                body: head.clone(),
            }
        } else {
            Act::json(&json)
        }
    });
    let client = client(&[&server.url], |c| c.num_retries = 0);
    let options = DownloadOptions {
        max_resumes: 0,
        ..DownloadOptions::default()
    };
    let (_, reason) = refused(&client, options);
    assert!(matches!(reason, Reason::BackingFile { .. }), "{reason:?}");
}

#[test]
fn a_qcow2_uploaded_as_raw_is_refused_unless_inspection_is_off() {
    if !have_qemu_img() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = qcow2(tmp.path(), "plain.qcow2", &[]);
    let server = serving(claiming(&data, "raw"), data.clone());
    let client = client(&[&server.url], |_| {});
    let (format, reason) = refused(&client, DownloadOptions::default());
    assert_eq!(format, Some(Format::Qcow2));
    assert_eq!(
        reason,
        Reason::Mismatch {
            detected: Format::Qcow2,
            claimed: "raw".into()
        }
    );
    let dest = tmp.path().join("out");
    let off = DownloadOptions {
        inspect: Inspect::Off,
        ..DownloadOptions::default()
    };
    let report = client.download(ID, &dest, off).unwrap();
    assert_eq!((report.format, report.virtual_size), (None, None));
    assert_eq!(std::fs::read(&dest).unwrap(), data);

    // The configuration's switch: Nova's disable_deep_image_inspection.
    let unchecked = crate::harness::client(&[&server.url], |c| {
        c.disable_deep_image_inspection = true;
    });
    let report = unchecked
        .download(ID, tmp.path().join("out2"), DownloadOptions::default())
        .unwrap();
    assert_eq!(report.format, None);
}

#[test]
fn vmdk_create_types_follow_the_policy_and_flat_extents_are_refused() {
    if !have_qemu_img() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let sparse = std::fs::read(qemu_img_create(
        tmp.path(),
        "sparse.vmdk",
        "vmdk",
        &["-o", "subformat=monolithicSparse"],
        Some("1M"),
    ))
    .unwrap();
    let server = serving(claiming(&sparse, "vmdk"), sparse.clone());
    // Allowed by default (Nova's streamOptimized, monolithicSparse) ...
    let report = client(&[&server.url], |_| {})
        .download(ID, tmp.path().join("a"), DownloadOptions::default())
        .unwrap();
    assert_eq!(report.format, Some(Format::Vmdk));
    // ... refused by a configuration that allows only streamOptimized ...
    let strict = client(&[&server.url], |c| {
        c.vmdk_allowed_types = vec!["streamOptimized".into()];
    });
    let (_, reason) = refused(&strict, DownloadOptions::default());
    assert_eq!(
        reason,
        Reason::VmdkCreateType {
            create_type: Some("monolithicSparse".into())
        }
    );
    // ... and allowed again by the options' own policy.
    let options = DownloadOptions {
        inspect: Inspect::With(Policy::new(["monolithicSparse"])),
        ..DownloadOptions::default()
    };
    strict.download(ID, tmp.path().join("b"), options).unwrap();

    // A monolithicFlat descriptor reads another file: never allowed.
    qemu_img_create(
        tmp.path(),
        "flat.vmdk",
        "vmdk",
        &["-o", "subformat=monolithicFlat"],
        Some("1M"),
    );
    let descriptor = std::fs::read(tmp.path().join("flat.vmdk")).unwrap();
    let server = serving(claiming(&descriptor, "vmdk"), descriptor);
    let anything = DownloadOptions {
        inspect: Inspect::With(Policy::new(["monolithicFlat"])),
        ..DownloadOptions::default()
    };
    let (format, reason) = refused(&client(&[&server.url], |_| {}), anything);
    assert_eq!(format, Some(Format::Vmdk));
    assert!(matches!(reason, Reason::VmdkExtent { .. }), "{reason:?}");
}

#[test]
fn a_disk_format_the_inspector_cannot_check_is_refused() {
    let data = sample(100_000, 31);
    let server = serving(claiming(&data, "ploop"), data);
    let (format, reason) = refused(&client(&[&server.url], |_| {}), DownloadOptions::default());
    assert_eq!(format, None);
    assert_eq!(
        reason,
        Reason::UnsupportedDiskFormat {
            claimed: "ploop".into()
        }
    );
}

#[test]
fn a_local_copy_of_an_unsafe_image_is_refused_without_falling_back_to_http() {
    if !have_qemu_img() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let mount = tmp.path().join("mount");
    std::fs::create_dir(&mount).unwrap();
    let data = qcow2(tmp.path(), "plain.qcow2", &[]);
    std::fs::write(mount.join(ID), &data).unwrap();
    let glance_mount = "/var/lib/glance/images";
    let location = (
        format!("file://{glance_mount}/{ID}"),
        json!({"id": "fs1", "mountpoint": glance_mount}),
    );
    let mut json = image_json(&data, &[location]);
    json["disk_format"] = "raw".into();
    let server = serving(json, data);
    let client = client(&[&server.url], |c| {
        c.allowed_direct_url_schemes = vec!["file".into()];
        c.filesystems = vec![FileSystem {
            name: "store".into(),
            id: "fs1".into(),
            mountpoint: mount.clone(),
        }];
    });
    let (format, _) = refused(&client, DownloadOptions::default());
    assert_eq!(format, Some(Format::Qcow2));
    assert!(
        server.data_requests().is_empty(),
        "the verdict is the image's: HTTP would only repeat it"
    );
}

#[test]
fn a_download_into_a_writer_is_inspected_too() {
    if !have_qemu_img() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = qcow2(tmp.path(), "plain.qcow2", &[]);
    let server = serving(claiming(&data, "qcow2"), data.clone());
    let client = client(&[&server.url], |_| {});
    let mut out = Vec::new();
    let report = client
        .download_to(ID, &mut out, DownloadOptions::default())
        .unwrap();
    assert_eq!(report.format, Some(Format::Qcow2));
    assert_eq!(
        report.source,
        DownloadSource::Http {
            server: server.url.clone()
        }
    );
    assert_eq!(out, data);

    let raw = serving(claiming(&data, "raw"), data);
    let err = crate::harness::client(&[&raw.url], |_| {})
        .download_to(ID, &mut Vec::new(), DownloadOptions::default())
        .unwrap_err();
    assert!(matches!(err, Error::UnsafeImage { .. }), "{err:?}");
}
