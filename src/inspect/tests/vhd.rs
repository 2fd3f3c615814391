//! VHD footers (at the start and only at the end) and VDI headers.

use super::{inspect, malformed, padded, put, verdict};
use crate::inspect::{ExternalFile, Format, PartitionTable, Reason};

/// A VHD footer of disk type `kind`, 1 MiB by its current size (creator
/// `win `, which qemu sizes by current size), with a valid checksum.
fn footer(kind: u32) -> Vec<u8> {
    let mut f = vec![0u8; 512];
    put(&mut f, 0, b"conectix");
    put(&mut f, 8, &2u32.to_be_bytes());
    put(&mut f, 12, &0x0001_0000u32.to_be_bytes());
    let data_offset = if kind == 2 { u64::MAX } else { 512 };
    put(&mut f, 16, &data_offset.to_be_bytes());
    put(&mut f, 28, b"win ");
    put(&mut f, 40, &(1u64 << 20).to_be_bytes());
    put(&mut f, 48, &(1u64 << 20).to_be_bytes());
    put(&mut f, 56, &[0, 31, 4, 17]); // geometry
    put(&mut f, 60, &kind.to_be_bytes());
    seal(&mut f);
    f
}

fn seal(f: &mut [u8]) {
    f[64..68].fill(0);
    let sum = f.iter().fold(0u32, |s, &b| s.wrapping_add(u32::from(b)));
    f[64..68].copy_from_slice(&(!sum).to_be_bytes());
}

fn dynamic(kind: u32) -> Vec<u8> {
    let mut image = footer(kind);
    put(&mut image, 512, b"cxsparse");
    image.resize(3 * 512, 0);
    image.extend_from_slice(&footer(kind));
    image
}

fn fixed(kind: u32, content: &[u8]) -> Vec<u8> {
    let mut image = content.to_vec();
    image.extend_from_slice(&footer(kind));
    image
}

#[test]
fn a_dynamic_vhd_is_accepted() {
    let inspection = inspect(&dynamic(3));
    assert_eq!(inspection.format, Format::Vhd);
    assert!(!inspection.vhd_fixed);
    assert_eq!(inspection.virtual_size, Some(1 << 20));
    assert_eq!(inspection.verdict(Some("vhd"), &Default::default()), Ok(()));
    let mismatch = Reason::Mismatch {
        detected: Format::Vhd,
        claimed: "raw".into(),
    };
    assert_eq!(verdict(&dynamic(3), Some("raw")), Err(mismatch));
}

#[test]
fn qemu_sizes_other_creators_by_geometry() {
    let mut image = dynamic(3);
    put(&mut image, 28, b"vpc ");
    seal(&mut image[..512]);
    assert_eq!(inspect(&image).virtual_size, Some(31 * 4 * 17 * 512));
}

#[test]
fn differencing_vhds_are_refused() {
    let parent = Reason::BackingFile {
        format: Format::Vhd,
        name: None,
    };
    assert_eq!(verdict(&dynamic(4), Some("vhd")), Err(parent.clone()));
    assert_eq!(verdict(&fixed(4, &[0; 4096]), Some("vhd")), Err(parent));
}

#[test]
fn a_bad_checksum_or_disk_type_is_malformed() {
    let mut image = dynamic(3);
    image[100] ^= 1;
    assert_eq!(
        malformed(verdict(&image, Some("vhd"))),
        "footer checksum mismatch"
    );
    assert_eq!(
        malformed(verdict(&dynamic(9), Some("vhd"))),
        "unknown disk type 9"
    );
    let detail = malformed(verdict(&fixed(3, &[0; 4096]), Some("vhd")));
    assert_eq!(
        detail,
        "a dynamic disk without its footer copy at the start"
    );
    assert_eq!(
        malformed(verdict(&dynamic(3)[..100], Some("vhd"))),
        "footer truncated"
    );
}

#[test]
fn a_fixed_vhd_is_found_by_its_last_512_bytes() {
    for len in [1, 4096, 100_000] {
        let image = fixed(2, &vec![7u8; len]);
        let inspection = inspect(&image);
        assert_eq!(
            (inspection.format, inspection.vhd_fixed),
            (Format::Vhd, true),
            "{len}"
        );
        assert_eq!(inspection.virtual_size, Some(1 << 20));
        for claim in ["vhd", "raw"] {
            assert_eq!(
                inspection.verdict(Some(claim), &Default::default()),
                Ok(()),
                "{claim}"
            );
        }
    }
}

#[test]
fn a_lone_fixed_footer_is_read_at_the_start_as_qemu_does() {
    let detail = malformed(verdict(&footer(2), Some("vhd")));
    assert_eq!(detail, "a fixed disk's footer at the start");
}

#[test]
fn a_footer_at_the_end_of_another_format_is_ignored() {
    let mut qcow2 = padded(b"QFI\xfb\0\0\0\x02", 72);
    qcow2[23] = 16;
    let inspection = inspect(&fixed(2, &padded(&qcow2, 4096)));
    assert_eq!(inspection.format, Format::Qcow2);
}

#[test]
fn a_fixed_vhd_keeps_the_partition_table_of_its_disk() {
    let mut disk = vec![0u8; 8192];
    put(
        &mut disk,
        446,
        &[0, 0, 2, 0, 0xee, 0, 0, 0, 1, 0, 0, 0, 0xff, 0, 0, 0],
    );
    put(&mut disk, 510, &[0x55, 0xaa]);
    put(&mut disk, 512, b"EFI PART");
    let inspection = inspect(&fixed(2, &disk));
    assert_eq!(inspection.format, Format::Vhd);
    assert_eq!(inspection.partition_table, Some(PartitionTable::Gpt));
}

fn vdi(kind: u32) -> Vec<u8> {
    let mut h = vec![0u8; 0x600];
    put(&mut h, 0, b"<<< QEMU VM Virtual Disk Image >>>\n");
    put(&mut h, 0x40, &0xbeda_107fu32.to_le_bytes());
    put(&mut h, 0x44, &0x0001_0001u32.to_le_bytes());
    put(&mut h, 0x4c, &kind.to_le_bytes());
    put(&mut h, 0x154, &0x200u32.to_le_bytes());
    put(&mut h, 0x158, &0x600u32.to_le_bytes());
    put(&mut h, 0x170, &((1u64 << 20) - 1).to_le_bytes());
    put(&mut h, 0x180, &1u32.to_le_bytes());
    h
}

#[test]
fn vdi_images_are_accepted_and_sized_as_qemu_does() {
    for kind in [1, 2] {
        let inspection = inspect(&vdi(kind));
        assert_eq!(inspection.format, Format::Vdi);
        assert_eq!(
            inspection.virtual_size,
            Some(1 << 20),
            "rounded up to a sector"
        );
        assert_eq!(inspection.verdict(Some("vdi"), &Default::default()), Ok(()));
    }
}

#[test]
fn vdi_undo_differencing_and_linked_images_are_refused() {
    for kind in [3, 4] {
        assert_eq!(
            inspect(&vdi(kind)).backing_file,
            Some(ExternalFile { name: None })
        );
    }
    let mut linked = vdi(1);
    put(&mut linked, 0x1b8, &[1]);
    assert_eq!(
        inspect(&linked).backing_file,
        Some(ExternalFile { name: None })
    );
}

#[test]
fn vdi_headers_qemu_would_refuse_are_malformed() {
    let mut image = vdi(1);
    put(&mut image, 0x44, &2u32.to_le_bytes());
    assert_eq!(
        malformed(verdict(&image, Some("vdi"))),
        "unsupported version 0x2"
    );
    assert_eq!(
        malformed(verdict(&vdi(7), Some("vdi"))),
        "unknown image type 7"
    );
    let detail = malformed(verdict(&vdi(1)[..0x300], Some("vdi")));
    assert!(
        detail.starts_with("the data area ends at byte 1536"),
        "{detail}"
    );
    // Shorter than a header: qemu's probe does not see a VDI.
    assert_eq!(inspect(&vdi(1)[..511]).format, Format::Raw);
}
