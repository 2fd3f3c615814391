//! Format inspection through the `glance` tool: `image-inspect` on images
//! made by the real `qemu-img`, and `image-download` against the real
//! Glance lab (a safe qcow2 reports its format; a qcow2 uploaded as raw is
//! refused over HTTP and through the local short-circuit, leaving nothing).

mod cli;
#[path = "inspect/craft.rs"]
mod craft;
#[path = "inspect/images.rs"]
mod images;
mod support;

use std::path::Path;

use cli::glance;
use glance_client::{ImageData, NewImage};
use images::{have_qemu_img, qemu_img_create, qemu_img_info};
use serde_json::{Value, json};

fn arg(path: &Path) -> String {
    path.display().to_string()
}

/// `image-inspect FILE [--disk-format FMT] --json`, its exit status and report.
fn inspect(path: &Path, claimed: Option<&str>) -> (i32, Value, String) {
    let file = arg(path);
    let mut args = vec!["--json", "image-inspect", file.as_str()];
    if let Some(claimed) = claimed {
        args.extend(["--disk-format", claimed]);
    }
    let run = glance(&args);
    let report = run.json();
    (run.code, report, run.stderr)
}

#[test]
fn image_inspect_reports_format_virtual_size_and_verdict() {
    if !have_qemu_img() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let images = [
        ("a.qcow2", "qcow2", vec![], "qcow2"),
        (
            "b.vmdk",
            "vmdk",
            vec!["-o", "subformat=streamOptimized"],
            "vmdk",
        ),
        ("c.vhd", "vpc", vec![], "vhd"),
        ("d.vhdx", "vhdx", vec![], "vhdx"),
        ("e.vdi", "vdi", vec![], "vdi"),
        ("f.raw", "raw", vec![], "raw"),
    ];
    for (file, qemu_format, options, glance_format) in images {
        let path = qemu_img_create(d, file, qemu_format, &options, Some("2M"));
        let (code, report, _) = inspect(&path, Some(glance_format));
        assert_eq!(code, 0, "{file}: {report}");
        assert_eq!(report["format"], glance_format, "{file}");
        // As qemu computes it (a VHD's CHS geometry rounds 2 MiB up).
        let (_, virtual_size) = qemu_img_info(&path, None);
        assert_eq!(report["virtual_size"], virtual_size, "{file}");
        assert_eq!(report["safe"], true);
        assert_eq!(report["reason"], Value::Null);
        assert_eq!(report["path"], arg(&path));
        // The same file claimed as something else: not safe, exit 1.
        let (code, report, stderr) = inspect(&path, Some("iso"));
        assert_eq!(code, 1, "{file}: {report}");
        assert_eq!(report["safe"], false);
        let reason = report["reason"].as_str().unwrap();
        assert!(reason.contains("the image says iso"), "{reason}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains(reason), "{stderr}");
    }
}

#[test]
fn image_inspect_refuses_backing_files_data_files_and_flat_vmdks() {
    if !have_qemu_img() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    qemu_img_create(d, "base.raw", "raw", &[], Some("1M"));
    let backed = qemu_img_create(
        d,
        "backed.qcow2",
        "qcow2",
        &["-b", "base.raw", "-F", "raw"],
        None,
    );
    let data_file = qemu_img_create(
        d,
        "external.qcow2",
        "qcow2",
        &["-o", "data_file=external.data"],
        Some("1M"),
    );
    let flat = qemu_img_create(
        d,
        "flat.vmdk",
        "vmdk",
        &["-o", "subformat=monolithicFlat"],
        Some("1M"),
    );
    for (path, claimed, words) in [
        (&backed, "qcow2", "backing file \"base.raw\""),
        (&data_file, "qcow2", "external data file"),
        (&flat, "vmdk", "extent outside the image"),
    ] {
        // Unsafe whatever it claims, and without a claim too.
        for claim in [Some(claimed), None] {
            let (code, report, _) = inspect(path, claim);
            assert_eq!(code, 1, "{}: {report}", path.display());
            assert_eq!(report["safe"], false);
            assert!(
                report["reason"].as_str().unwrap().contains(words),
                "{report}"
            );
        }
    }
    let (code, report, _) = inspect(&backed, None);
    assert_eq!((code, &report["format"]), (1, &json!("qcow2")));
}

#[test]
fn image_inspect_knows_isos_with_and_without_a_partition_table_and_gpt_disks() {
    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str, data: Vec<u8>| {
        let path = tmp.path().join(name);
        std::fs::write(&path, data).unwrap();
        path
    };
    let plain = write("plain.iso", craft::iso(64, craft::Table::None));
    let hybrid = write("hybrid.iso", craft::iso(64, craft::Table::Gpt));
    let disk = write("disk.gpt", craft::gpt_disk(1 << 20));
    for (path, claimed) in [(&plain, "iso"), (&hybrid, "iso")] {
        let (code, report, _) = inspect(path, Some(claimed));
        assert_eq!(code, 0, "{report}");
        assert_eq!(report["format"], "iso");
        assert_eq!(report["virtual_size"], 64 * 2048);
    }
    // A GPT disk is raw data to qemu: accepted as raw, reported as gpt.
    let (code, report, _) = inspect(&disk, Some("raw"));
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["format"], "gpt");
    assert_eq!(report["virtual_size"], 1 << 20);
    // An ISO is not raw to Nova.
    let (code, report, _) = inspect(&plain, Some("raw"));
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["reason"], "detected iso but the image says raw");
}

#[test]
fn image_inspect_without_a_file_is_a_clear_error() {
    glance(&["image-inspect"]).fails(2, &["image-inspect needs FILE"]);
    glance(&["image-inspect", "/no/such/file"]).fails(1, &["/no/such/file"]);
}

#[test]
fn config_check_shows_the_inspection_and_cache_settings() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("nova.conf");
    std::fs::write(
        &conf,
        "[DEFAULT]\ninstances_path = /srv/vms\n\
         [workarounds]\ndisable_deep_image_inspection = true\n\
         [compute]\nvmdk_allowed_types = streamOptimized\n",
    )
    .unwrap();
    let run = glance(&[
        "config-check",
        "--config-file",
        &arg(&conf),
        "--os-image-url",
        "http://127.0.0.1:9",
    ])
    .ok();
    let c = run.json();
    assert_eq!(c["disable_deep_image_inspection"], true);
    assert_eq!(c["vmdk_allowed_types"], json!(["streamOptimized"]));
    assert_eq!(c["image_cache_dir"], "/srv/vms/_base");
    assert_eq!(c["image_cache_max_age"], 86_400);
    assert!(
        run.warnings().iter().any(|w| w.contains("not inspected")),
        "{run:#?}"
    );
}

/// An image in the lab holding `data` under `disk_format`; deleted when dropped.
struct Uploaded {
    client: glance_client::Client,
    id: String,
}

impl Uploaded {
    fn new(lab: &support::Lab, disk_format: &str, data: &[u8]) -> Uploaded {
        let client = lab.client();
        let image = client
            .create_image(&NewImage {
                name: Some(format!("inspect-{disk_format}")),
                disk_format: Some(disk_format.into()),
                container_format: Some("bare".into()),
                ..NewImage::default()
            })
            .unwrap();
        client
            .upload(
                &image.id,
                ImageData::reader(&mut &data[..], Some(data.len() as u64)),
            )
            .unwrap();
        Uploaded {
            client,
            id: image.id,
        }
    }
}

impl Drop for Uploaded {
    fn drop(&mut self) {
        let _ = self.client.delete_image(&self.id);
    }
}

#[test]
fn downloads_from_the_real_glance_are_inspected_over_http_and_locally() {
    let Some(lab) = support::lab() else { return };
    if !have_qemu_img() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = std::fs::read(qemu_img_create(
        tmp.path(),
        "x.qcow2",
        "qcow2",
        &[],
        Some("3M"),
    ))
    .unwrap();
    let url = lab.endpoint.as_str();

    // A safe qcow2 stored as qcow2.
    let safe = Uploaded::new(lab, "qcow2", &data);
    let out = tmp.path().join("safe.qcow2");
    let run = glance(&[
        "--os-image-url",
        url,
        "--json",
        "image-download",
        &safe.id,
        "--file",
        &arg(&out),
    ])
    .ok();
    let report = run.json();
    assert_eq!(report["format"], "qcow2");
    assert_eq!(report["virtual_size"], 3 << 20);
    assert_eq!(std::fs::read(&out).unwrap(), data);

    // The same bytes stored as raw (Glance 33 takes them): refused.
    let lying = Uploaded::new(lab, "raw", &data);
    let dest = tmp.path().join("dest");
    std::fs::create_dir(&dest).unwrap();
    let file = arg(&dest.join("image"));
    glance(&[
        "--os-image-url",
        url,
        "image-download",
        &lying.id,
        "--file",
        &file,
    ])
    .fails(1, &[&lying.id, "detected qcow2 but the image says raw"]);
    assert_eq!(
        std::fs::read_dir(&dest).unwrap().count(),
        0,
        "nothing left behind"
    );

    // Through the local short-circuit too.
    if let (Some(store), Some(fs_id)) = (&lab.store_dir, &lab.fs_id) {
        let conf = tmp.path().join("nova.conf");
        std::fs::write(
            &conf,
            format!(
                "[glance]\nallowed_direct_url_schemes = file\n\
                 [image_file_url]\nfilesystems = lab\n\
                 [image_file_url:lab]\nid = {fs_id}\nmountpoint = {}\n",
                store.display()
            ),
        )
        .unwrap();
        let run = glance(&[
            "--os-image-url",
            url,
            "--config-file",
            &arg(&conf),
            "--debug",
            "image-download",
            &lying.id,
            "--file",
            &file,
        ]);
        assert_eq!(run.code, 1, "{run:#?}");
        assert!(
            run.stderr.contains("detected qcow2 but the image says raw"),
            "{run:#?}"
        );
        assert!(
            !run.stderr
                .contains(&format!("GET {url}/v2/images/{}/file", lying.id)),
            "refused on the local copy, no HTTP download: {run:#?}"
        );
        assert_eq!(std::fs::read_dir(&dest).unwrap().count(), 0);
    } else {
        support::say("the lab's store is not on this machine: local short-circuit not checked");
    }

    // --no-inspect takes it as it is, and says nothing about its format.
    let run = glance(&[
        "--os-image-url",
        url,
        "--json",
        "image-download",
        &lying.id,
        "--file",
        &file,
        "--no-inspect",
    ])
    .ok();
    assert_eq!(run.json()["format"], Value::Null);
    assert_eq!(run.json()["virtual_size"], Value::Null);
}
