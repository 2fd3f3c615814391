//! The format inspector on real images: made by `qemu-img` (every format it
//! writes, safe and unsafe) or crafted (ISO 9660 with and without an MBR or
//! GPT, a GPT disk). Each is fed whole, a byte at a time, in 4095-byte and
//! 128 KiB pieces and in pseudo-random pieces, with the same result; its
//! format, virtual size (against `qemu-img info`) and verdict are checked,
//! and so is every early refusal seen on the way.

#[path = "inspect/craft.rs"]
mod craft;
#[path = "inspect/images.rs"]
mod images;
#[path = "inspect/splits.rs"]
mod splits;

use std::path::Path;

use glance_client::inspect::{Format, Inspection, Inspector, PartitionTable, Policy, Reason};
use images::{have_qemu_img, qemu_img_create, qemu_img_info};
use splits::inspect;

fn inspect_file(path: &Path) -> Inspection {
    inspect(&std::fs::read(path).expect("the image"))
}

/// Checks the format, the virtual size against `qemu-img info` (with
/// `qemu_format` forced when qemu's probe would say raw) and the verdicts:
/// accepted as `right`, refused as a mismatch as `wrong`.
fn check(
    path: &Path,
    format: Format,
    qemu_format: Option<&str>,
    right: &str,
    wrong: &str,
) -> Inspection {
    let policy = Policy::default();
    let inspection = inspect_file(path);
    assert_eq!(inspection.format, format, "{inspection:?}");
    let (_, virtual_size) = qemu_img_info(path, qemu_format);
    assert_eq!(
        inspection.virtual_size,
        Some(virtual_size),
        "virtual size of {}",
        path.display()
    );
    assert_eq!(
        inspection.verdict(Some(right), &policy),
        Ok(()),
        "{inspection:?}"
    );
    assert_eq!(inspection.verdict(None, &policy), Ok(()));
    let mismatch = Reason::Mismatch {
        detected: format,
        claimed: wrong.into(),
    };
    assert_eq!(inspection.verdict(Some(wrong), &policy), Err(mismatch));
    inspection
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

#[test]
fn qcow2_plain_is_accepted_as_qcow2_only() {
    if !have_qemu_img() {
        return;
    }
    let dir = tempdir();
    let path = qemu_img_create(dir.path(), "plain.qcow2", "qcow2", &[], Some("1M"));
    let inspection = check(&path, Format::Qcow2, None, "qcow2", "raw");
    assert_eq!(inspection.backing_file, None);
    assert_eq!(inspection.data_file, None);
}

#[test]
fn qcow2_uploaded_as_raw_is_refused_early() {
    if !have_qemu_img() {
        return;
    }
    let dir = tempdir();
    let path = qemu_img_create(dir.path(), "disk.qcow2", "qcow2", &[], Some("1G"));
    let data = std::fs::read(&path).expect("the image");
    let mut inspector = Inspector::new();
    inspector.feed(&data[..64 * 1024]);
    assert_eq!(
        inspector.early_refusal(Some("raw"), &Policy::default()),
        None,
        "not yet: head window"
    );
    inspector.feed(&data[64 * 1024..128 * 1024]);
    let reason = inspector
        .early_refusal(Some("raw"), &Policy::default())
        .expect("refused");
    assert_eq!(reason.to_string(), "detected qcow2 but the image says raw");
}

#[test]
fn qcow2_with_a_backing_file_is_refused_naming_it() {
    if !have_qemu_img() {
        return;
    }
    let dir = tempdir();
    qemu_img_create(dir.path(), "base.raw", "raw", &[], Some("1M"));
    let path = qemu_img_create(
        dir.path(),
        "child.qcow2",
        "qcow2",
        &["-b", "base.raw", "-F", "raw"],
        None,
    );
    let inspection = inspect_file(&path);
    assert_eq!(inspection.format, Format::Qcow2);
    assert_eq!(inspection.virtual_size, Some(qemu_img_info(&path, None).1));
    let reason = Reason::BackingFile {
        format: Format::Qcow2,
        name: Some("base.raw".into()),
    };
    for claim in [Some("qcow2"), Some("raw"), None] {
        assert_eq!(
            inspection.verdict(claim, &Policy::default()),
            Err(reason.clone())
        );
    }
    assert_eq!(reason.to_string(), r#"qcow2 backing file "base.raw""#);
    let mut inspector = Inspector::new();
    inspector.feed(&std::fs::read(&path).expect("the image"));
    assert_eq!(
        inspector.early_refusal(Some("qcow2"), &Policy::default()),
        Some(reason)
    );
}

#[test]
fn qcow2_with_an_external_data_file_is_refused() {
    if !have_qemu_img() {
        return;
    }
    let dir = tempdir();
    let path = qemu_img_create(
        dir.path(),
        "disk.qcow2",
        "qcow2",
        &["-o", "data_file=data.raw"],
        Some("1M"),
    );
    let inspection = inspect_file(&path);
    assert_eq!(inspection.format, Format::Qcow2);
    let reason = Reason::DataFile {
        name: Some("data.raw".into()),
    };
    assert_eq!(
        inspection.verdict(Some("qcow2"), &Policy::default()),
        Err(reason)
    );
}

#[test]
fn qcow2_documented_features_are_accepted() {
    if !have_qemu_img() {
        return;
    }
    let dir = tempdir();
    let options = [
        "extended_l2=on,cluster_size=64k",
        "compression_type=zstd",
        "lazy_refcounts=on",
    ];
    for (i, options) in options.iter().enumerate() {
        let path = qemu_img_create(
            dir.path(),
            &format!("{i}.qcow2"),
            "qcow2",
            &["-o", options],
            Some("1M"),
        );
        let inspection = check(&path, Format::Qcow2, None, "qcow2", "vmdk");
        assert_eq!(inspection.unknown_features, 0, "{options}");
    }
}

#[test]
fn vmdk_sparse_subformats_are_accepted() {
    if !have_qemu_img() {
        return;
    }
    let dir = tempdir();
    for subformat in ["streamOptimized", "monolithicSparse"] {
        let file = format!("{subformat}.vmdk");
        let path = qemu_img_create(
            dir.path(),
            &file,
            "vmdk",
            &["-o", &format!("subformat={subformat}")],
            Some("1M"),
        );
        let inspection = check(&path, Format::Vmdk, None, "vmdk", "raw");
        assert_eq!(inspection.vmdk_create_type.as_deref(), Some(subformat));
        assert_eq!(inspection.vmdk_extent, None);
        let only_other = Policy::new(["twoGbMaxExtentSparse"]);
        let refused = Reason::VmdkCreateType {
            create_type: Some(subformat.into()),
        };
        assert_eq!(inspection.verdict(Some("vmdk"), &only_other), Err(refused));
    }
}

#[test]
fn vmdk_descriptor_file_is_detected_and_refused_for_its_extent() {
    if !have_qemu_img() {
        return;
    }
    let dir = tempdir();
    let path = qemu_img_create(
        dir.path(),
        "flat.vmdk",
        "vmdk",
        &["-o", "subformat=monolithicFlat"],
        Some("1M"),
    );
    let inspection = inspect_file(&path);
    assert_eq!(inspection.format, Format::Vmdk);
    assert_eq!(
        inspection.vmdk_create_type.as_deref(),
        Some("monolithicFlat")
    );
    assert_eq!(inspection.virtual_size, Some(qemu_img_info(&path, None).1));
    let reason = Reason::VmdkExtent {
        extent: r#"RW 2048 FLAT "flat-flat.vmdk" 0"#.into(),
    };
    let everyone = Policy::new(["monolithicFlat", "streamOptimized", "monolithicSparse"]);
    for claim in [Some("vmdk"), Some("raw"), None] {
        assert_eq!(
            inspection.verdict(claim, &everyone),
            Err(reason.clone()),
            "{claim:?}"
        );
    }
}

#[test]
fn vmdk_with_a_parent_is_refused_naming_it() {
    if !have_qemu_img() {
        return;
    }
    let dir = tempdir();
    qemu_img_create(dir.path(), "base.vmdk", "vmdk", &[], Some("1M"));
    let path = qemu_img_create(
        dir.path(),
        "child.vmdk",
        "vmdk",
        &["-b", "base.vmdk", "-F", "vmdk"],
        None,
    );
    let inspection = inspect_file(&path);
    assert_eq!(inspection.format, Format::Vmdk);
    let reason = Reason::BackingFile {
        format: Format::Vmdk,
        name: Some("base.vmdk".into()),
    };
    assert_eq!(
        inspection.verdict(Some("vmdk"), &Policy::default()),
        Err(reason)
    );
}

#[test]
fn vhd_dynamic_is_accepted_as_vhd() {
    if !have_qemu_img() {
        return;
    }
    let dir = tempdir();
    let path = qemu_img_create(dir.path(), "dynamic.vhd", "vpc", &[], Some("1M"));
    let inspection = check(&path, Format::Vhd, None, "vhd", "raw");
    assert!(!inspection.vhd_fixed);
}

#[test]
fn vhd_fixed_is_found_by_its_footer_and_accepted_as_vhd_or_raw() {
    if !have_qemu_img() {
        return;
    }
    let dir = tempdir();
    let path = qemu_img_create(
        dir.path(),
        "fixed.vhd",
        "vpc",
        &["-o", "subformat=fixed"],
        Some("1M"),
    );
    assert_eq!(
        qemu_img_info(&path, None).0,
        "raw",
        "qemu's probe reads a fixed VHD as raw"
    );
    let inspection = check(&path, Format::Vhd, Some("vpc"), "vhd", "qcow2");
    assert!(inspection.vhd_fixed);
    assert_eq!(inspection.verdict(Some("raw"), &Policy::default()), Ok(()));
    assert_eq!(
        inspection
            .verdict(Some("vhdx"), &Policy::default())
            .map_err(|r| r.to_string()),
        Err("detected vhd but the image says vhdx".into())
    );
}

#[test]
fn vhdx_is_accepted_as_vhdx() {
    if !have_qemu_img() {
        return;
    }
    let dir = tempdir();
    let path = qemu_img_create(dir.path(), "disk.vhdx", "vhdx", &[], Some("1M"));
    check(&path, Format::Vhdx, None, "vhdx", "vhd");
}

#[test]
fn vdi_is_accepted_as_vdi() {
    if !have_qemu_img() {
        return;
    }
    let dir = tempdir();
    for (file, options) in [
        ("dynamic.vdi", vec![]),
        ("static.vdi", vec!["-o", "static=on"]),
    ] {
        let path = qemu_img_create(dir.path(), file, "vdi", &options, Some("1M"));
        check(&path, Format::Vdi, None, "vdi", "raw");
    }
}

#[test]
fn raw_is_accepted_as_raw_and_its_aliases() {
    if !have_qemu_img() {
        return;
    }
    let dir = tempdir();
    let path = qemu_img_create(dir.path(), "disk.raw", "raw", &[], Some("1M"));
    let inspection = check(&path, Format::Raw, None, "raw", "qcow2");
    for claim in ["ami", "ari", "aki"] {
        assert_eq!(inspection.verdict(Some(claim), &Policy::default()), Ok(()));
    }
    let refused = Reason::UnsupportedDiskFormat {
        claimed: "ploop".into(),
    };
    assert_eq!(
        inspection.verdict(Some("ploop"), &Policy::default()),
        Err(refused)
    );
}

#[test]
fn iso_with_or_without_a_partition_table_is_an_iso() {
    let policy = Policy::default();
    for (table, expected) in [
        (craft::Table::None, None),
        (craft::Table::Mbr, Some(PartitionTable::Mbr)),
        (craft::Table::Gpt, Some(PartitionTable::Gpt)),
    ] {
        let data = craft::iso(40, table);
        let inspection = inspect(&data);
        assert_eq!(inspection.format, Format::Iso, "{table:?}");
        assert_eq!(inspection.also_detected, vec![], "{table:?}");
        assert_eq!(inspection.partition_table, expected);
        assert_eq!(inspection.virtual_size, Some(data.len() as u64));
        assert_eq!(inspection.verdict(Some("iso"), &policy), Ok(()));
        // Nova refuses an ISO registered as raw: its content does not match.
        let mismatch = Reason::Mismatch {
            detected: Format::Iso,
            claimed: "raw".into(),
        };
        assert_eq!(inspection.verdict(Some("raw"), &policy), Err(mismatch));
        if have_qemu_img() {
            let dir = tempdir();
            let path = dir.path().join("disk.iso");
            std::fs::write(&path, &data).expect("written");
            assert_eq!(
                qemu_img_info(&path, None),
                ("raw".into(), data.len() as u64)
            );
        }
    }
}

#[test]
fn gpt_disk_is_accepted_as_raw_or_gpt() {
    let policy = Policy::default();
    let data = craft::gpt_disk(1 << 20);
    let inspection = inspect(&data);
    assert_eq!(inspection.format, Format::Gpt);
    assert_eq!(inspection.partition_table, Some(PartitionTable::Gpt));
    assert_eq!(inspection.virtual_size, Some(1 << 20));
    for claim in ["raw", "gpt", "ami"] {
        assert_eq!(inspection.verdict(Some(claim), &policy), Ok(()), "{claim}");
    }
    let mismatch = Reason::Mismatch {
        detected: Format::Gpt,
        claimed: "iso".into(),
    };
    assert_eq!(inspection.verdict(Some("iso"), &policy), Err(mismatch));
    if have_qemu_img() {
        let dir = tempdir();
        let path = dir.path().join("disk.img");
        std::fs::write(&path, &data).expect("written");
        assert_eq!(qemu_img_info(&path, None), ("raw".into(), 1 << 20));
    }
}

#[test]
fn inspect_file_reads_a_file_and_gives_its_verdict() {
    if !have_qemu_img() {
        return;
    }
    let dir = tempdir();
    let path = qemu_img_create(dir.path(), "x.qcow2", "qcow2", &[], Some("1M"));
    let policy = Policy::default();
    let found = glance_client::inspect_file(&path, Some("qcow2"), &policy).unwrap();
    assert!(found.is_safe());
    assert_eq!(found.inspection.format, Format::Qcow2);
    assert_eq!(found.inspection.virtual_size, Some(1 << 20));
    let found = glance_client::inspect_file(&path, Some("raw"), &policy).unwrap();
    assert_eq!(
        found.verdict,
        Err(Reason::Mismatch {
            detected: Format::Qcow2,
            claimed: "raw".into()
        })
    );
    let missing = glance_client::inspect_file(dir.path().join("none"), None, &policy).unwrap_err();
    assert!(missing.to_string().contains("none"), "{missing}");
}
