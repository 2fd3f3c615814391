//! qcow2 headers: versions, backing files, data files, feature bits,
//! truncation and absurd offsets.

use super::{inspect, malformed, padded, put, verdict};
use crate::inspect::{ExternalFile, Format, Reason};

/// A version 3 qcow2 of 1 GiB with 64 KiB clusters, its L1 and refcount
/// tables inside its 3 clusters.
fn qcow2() -> Vec<u8> {
    let mut h = vec![0u8; 3 * 65536];
    put(&mut h, 0, b"QFI\xfb");
    put(&mut h, 4, &3u32.to_be_bytes());
    put(&mut h, 20, &16u32.to_be_bytes()); // cluster_bits
    put(&mut h, 24, &(1u64 << 30).to_be_bytes());
    put(&mut h, 36, &1u32.to_be_bytes()); // l1_size
    put(&mut h, 40, &(2 * 65536u64).to_be_bytes());
    put(&mut h, 48, &65536u64.to_be_bytes());
    put(&mut h, 56, &1u32.to_be_bytes());
    put(&mut h, 100, &112u32.to_be_bytes()); // header_length
    h
}

fn with_backing(mut h: Vec<u8>, at: u64, name: &[u8]) -> Vec<u8> {
    put(&mut h, 8, &at.to_be_bytes());
    put(&mut h, 16, &(name.len() as u32).to_be_bytes());
    if let Ok(at) = usize::try_from(at)
        && at < h.len()
    {
        put(&mut h, at, name);
    }
    h
}

fn with_features(mut h: Vec<u8>, bits: u64) -> Vec<u8> {
    put(&mut h, 72, &bits.to_be_bytes());
    h
}

#[test]
fn a_plain_qcow2_is_accepted() {
    let inspection = inspect(&qcow2());
    assert_eq!(inspection.format, Format::Qcow2);
    assert_eq!(inspection.virtual_size, Some(1 << 30));
    assert_eq!(verdict(&qcow2(), Some("qcow2")), Ok(()));
}

#[test]
fn a_backing_file_is_refused_and_named() {
    let image = with_backing(qcow2(), 512, b"/etc/shadow");
    let reason = Reason::BackingFile {
        format: Format::Qcow2,
        name: Some("/etc/shadow".into()),
    };
    assert_eq!(verdict(&image, Some("qcow2")), Err(reason.clone()));
    assert_eq!(verdict(&image, None), Err(reason));
}

#[test]
fn a_backing_file_at_an_absurd_offset_is_refused_without_its_name() {
    for at in [u64::MAX, 1 << 40, 70_000] {
        let image = with_backing(qcow2(), at, b"x");
        let inspection = inspect(&image);
        assert_eq!(
            inspection.backing_file,
            Some(ExternalFile { name: None }),
            "{at}"
        );
    }
}

#[test]
fn a_backing_file_name_longer_than_qemu_accepts_is_refused() {
    let image = with_backing(qcow2(), 512, &[b'a'; 1024]);
    let inspection = inspect(&image);
    assert_eq!(inspection.backing_file, Some(ExternalFile { name: None }));
    assert!(
        inspection
            .malformed
            .is_some_and(|m| m.contains("1024 bytes"))
    );
}

#[test]
fn version_1_qcow_is_refused_with_its_backing_file() {
    let mut image = with_backing(qcow2(), 512, b"base");
    put(&mut image, 4, &1u32.to_be_bytes());
    let inspection = inspect(&image);
    assert_eq!(inspection.format, Format::Qcow2);
    assert!(inspection.backing_file.is_some());
    assert_eq!(
        inspection.malformed.as_deref(),
        Some("unsupported version 1 (qcow)")
    );
}

#[test]
fn unknown_versions_are_malformed() {
    let mut image = qcow2();
    put(&mut image, 4, &4u32.to_be_bytes());
    assert_eq!(
        malformed(verdict(&image, Some("qcow2"))),
        "unsupported version 4"
    );
}

#[test]
fn a_truncated_header_is_malformed_in_any_split() {
    for len in [4, 7, 50, 103] {
        let image = &qcow2()[..len];
        assert_eq!(
            malformed(verdict(image, Some("qcow2"))),
            "header truncated",
            "{len} bytes"
        );
    }
}

#[test]
fn an_external_data_file_is_refused_and_named() {
    let mut image = with_features(qcow2(), 1 << 2);
    put(&mut image, 112, &0x4441_5441u32.to_be_bytes());
    put(&mut image, 116, &9u32.to_be_bytes());
    put(&mut image, 120, b"/dev/sda1");
    let reason = Reason::DataFile {
        name: Some("/dev/sda1".into()),
    };
    assert_eq!(verdict(&image, Some("qcow2")), Err(reason));
    // Without the name extension it is refused all the same.
    let image = with_features(qcow2(), 1 << 2);
    assert_eq!(
        verdict(&image, Some("qcow2")),
        Err(Reason::DataFile { name: None })
    );
}

#[test]
fn documented_incompatible_features_are_accepted() {
    for bit in [0, 1, 3, 4] {
        assert_eq!(
            verdict(&with_features(qcow2(), 1 << bit), Some("qcow2")),
            Ok(()),
            "bit {bit}"
        );
    }
}

#[test]
fn unknown_incompatible_features_are_refused() {
    for bits in [1u64 << 5, 1 << 63, 0xffff_ffff_ffff_ffe0] {
        let image = with_features(qcow2(), bits | 1);
        assert_eq!(
            verdict(&image, Some("qcow2")),
            Err(Reason::UnknownFeatures { bits })
        );
    }
}

#[test]
fn a_cluster_size_qemu_cannot_open_is_malformed() {
    for bits in [0u32, 8, 22, u32::MAX] {
        let mut image = qcow2();
        put(&mut image, 20, &bits.to_be_bytes());
        assert!(
            malformed(verdict(&image, Some("qcow2"))).starts_with("cluster size"),
            "{bits}"
        );
    }
}

#[test]
fn tables_past_the_end_of_the_data_are_malformed() {
    let mut image = qcow2();
    put(&mut image, 40, &(1u64 << 40).to_be_bytes());
    let detail = malformed(verdict(&image, Some("qcow2")));
    assert!(
        detail.starts_with("the L1 table ends at byte 1099511627784, past the end"),
        "{detail}"
    );
    let mut image = qcow2();
    put(&mut image, 40, &u64::MAX.to_be_bytes());
    assert_eq!(
        malformed(verdict(&image, Some("qcow2"))),
        "table offset or size out of range"
    );
    let mut image = qcow2();
    put(&mut image, 56, &u32::MAX.to_be_bytes());
    assert!(malformed(verdict(&image, Some("qcow2"))).starts_with("the refcount table ends"));
}

#[test]
fn a_qcow2_claimed_as_raw_is_refused_after_the_head_window() {
    let image = padded(&qcow2(), 1 << 20);
    let mismatch = Reason::Mismatch {
        detected: Format::Qcow2,
        claimed: "raw".into(),
    };
    assert_eq!(verdict(&image, Some("raw")), Err(mismatch));
}
