//! VHDX region and metadata tables, read as they stream past.

use super::{inspect, malformed, put, verdict};
use crate::inspect::{ExternalFile, Format, Inspector, Reason};

fn guid(a: u32, b: u16, c: u16, d: [u8; 8]) -> Vec<u8> {
    [&a.to_le_bytes()[..], &b.to_le_bytes(), &c.to_le_bytes(), &d].concat()
}

fn metadata_guid() -> Vec<u8> {
    guid(
        0x8b7c_a206,
        0x4790,
        0x4b9a,
        [0xb8, 0xfe, 0x57, 0x5f, 0x05, 0x0f, 0x88, 0x6e],
    )
}
fn bat_guid() -> Vec<u8> {
    guid(
        0x2dc2_7766,
        0xf623,
        0x4200,
        [0x9d, 0x64, 0x11, 0x5e, 0x9b, 0xfd, 0x4a, 0x08],
    )
}
fn size_guid() -> Vec<u8> {
    guid(
        0x2fa5_4224,
        0xcd1b,
        0x4876,
        [0xb2, 0x11, 0x5d, 0xbe, 0xd8, 0x3b, 0xf4, 0xb8],
    )
}
fn parameters_guid() -> Vec<u8> {
    guid(
        0xcaa1_6737,
        0xfa36,
        0x4d43,
        [0xb3, 0xb6, 0x33, 0xf0, 0xaa, 0x44, 0xe7, 0x6b],
    )
}
fn parent_guid() -> Vec<u8> {
    guid(
        0xa8d3_5f2d,
        0xb30b,
        0x454d,
        [0xab, 0xf7, 0xd3, 0xd8, 0x48, 0x34, 0xab, 0x0c],
    )
}

const RT: usize = 192 * 1024;
const META: usize = 1 << 20;

fn region_entry(image: &mut Vec<u8>, i: usize, id: &[u8], at: u64, len: u32, required: u32) {
    let e = RT + 16 + 32 * i;
    put(image, e, id);
    put(image, e + 16, &at.to_le_bytes());
    put(image, e + 24, &len.to_le_bytes());
    put(image, e + 28, &required.to_le_bytes());
}

fn item_entry(image: &mut Vec<u8>, i: usize, id: &[u8], offset: u32, len: u32, flags: u32) {
    let e = META + 32 + 32 * i;
    put(image, e, id);
    put(image, e + 16, &offset.to_le_bytes());
    put(image, e + 20, &len.to_le_bytes());
    put(image, e + 24, &flags.to_le_bytes());
}

/// A VHDX of 1 GiB: region table at 192 KiB, metadata at 1 MiB with the
/// virtual disk size and file parameters items at 1 MiB + 64 KiB.
fn vhdx(has_parent: bool) -> Vec<u8> {
    let mut image = Vec::new();
    put(&mut image, 0, b"vhdxfile");
    put(&mut image, RT, b"regi");
    put(&mut image, RT + 8, &2u32.to_le_bytes());
    region_entry(&mut image, 0, &bat_guid(), 2 << 20, 1 << 20, 1);
    region_entry(&mut image, 1, &metadata_guid(), META as u64, 1 << 20, 1);
    put(&mut image, META, b"metadata");
    put(&mut image, META + 10, &2u16.to_le_bytes());
    item_entry(&mut image, 0, &size_guid(), 65536, 8, 6);
    item_entry(&mut image, 1, &parameters_guid(), 65544, 8, 4);
    put(&mut image, META + 65536, &(1u64 << 30).to_le_bytes());
    put(&mut image, META + 65544, &(32u32 << 20).to_le_bytes());
    put(
        &mut image,
        META + 65548,
        &(u32::from(has_parent) << 1).to_le_bytes(),
    );
    image
}

#[test]
fn a_vhdx_is_read_as_it_streams() {
    let inspection = inspect(&vhdx(false));
    assert_eq!(inspection.format, Format::Vhdx);
    assert_eq!(inspection.virtual_size, Some(1 << 30));
    assert_eq!(inspection.malformed, None);
    assert_eq!(
        inspection.verdict(Some("vhdx"), &Default::default()),
        Ok(())
    );
}

#[test]
fn a_differencing_vhdx_is_refused() {
    let parent = Reason::BackingFile {
        format: Format::Vhdx,
        name: None,
    };
    assert_eq!(verdict(&vhdx(true), Some("vhdx")), Err(parent.clone()));
    let mut image = vhdx(false);
    put(&mut image, META + 10, &3u16.to_le_bytes());
    item_entry(&mut image, 2, &parent_guid(), 65552, 16, 4);
    assert_eq!(verdict(&image, Some("vhdx")), Err(parent));
}

#[test]
fn regions_past_the_end_are_refused_without_holding_anything() {
    for at in [u64::MAX - 4096, 1 << 50, 3 << 20] {
        let mut image = vhdx(false);
        region_entry(&mut image, 1, &metadata_guid(), at, 1 << 20, 1);
        let mut inspector = Inspector::new();
        inspector.feed(&image);
        assert!(
            inspector.held_bytes() < 4096,
            "{} bytes held",
            inspector.held_bytes()
        );
        let detail = malformed(verdict(&image, Some("vhdx")));
        assert!(
            detail.ends_with("lie past the end of the data (1114128 bytes)"),
            "{detail}"
        );
    }
}

#[test]
fn a_truncated_vhdx_is_malformed() {
    for len in [8, 200 * 1024, META + 100, META + 65540] {
        let image = &vhdx(false)[..len];
        assert!(
            malformed(verdict(image, Some("vhdx"))).contains("past the end of the data"),
            "{len}"
        );
    }
}

#[test]
fn tables_and_items_must_follow_what_locates_them() {
    let mut image = vhdx(false);
    region_entry(&mut image, 1, &metadata_guid(), 100 * 1024, 1 << 20, 1);
    let detail = malformed(verdict(&image, Some("vhdx")));
    assert_eq!(detail, "metadata region at byte 102400 of 1048576 bytes");
    let mut image = vhdx(false);
    item_entry(&mut image, 0, &size_guid(), 16, 8, 6);
    let detail = malformed(verdict(&image, Some("vhdx")));
    assert_eq!(
        detail,
        format!("metadata item at byte {} of 8 bytes", META + 16)
    );
}

#[test]
fn unknown_required_structures_and_bad_signatures_are_malformed() {
    let mut image = vhdx(false);
    region_entry(&mut image, 0, &[9; 16], 2 << 20, 1 << 20, 1);
    assert_eq!(
        malformed(verdict(&image, Some("vhdx"))),
        "unknown required region"
    );
    let mut image = vhdx(false);
    item_entry(&mut image, 1, &[9; 16], 65544, 8, 4);
    assert_eq!(
        malformed(verdict(&image, Some("vhdx"))),
        "unknown required metadata item"
    );
    let mut image = vhdx(false);
    put(&mut image, RT, b"nope");
    assert_eq!(
        malformed(verdict(&image, Some("vhdx"))),
        "invalid region table"
    );
    let mut image = vhdx(false);
    put(&mut image, RT + 8, &u32::MAX.to_le_bytes());
    assert_eq!(
        malformed(verdict(&image, Some("vhdx"))),
        "invalid region table"
    );
    let mut image = vhdx(false);
    put(&mut image, META + 10, &u16::MAX.to_le_bytes());
    assert_eq!(
        malformed(verdict(&image, Some("vhdx"))),
        "invalid metadata table"
    );
    let mut image = vhdx(false);
    region_entry(&mut image, 1, &[0; 16], 0, 0, 0);
    assert_eq!(
        malformed(verdict(&image, Some("vhdx"))),
        "no metadata region"
    );
}

#[test]
fn an_unknown_optional_item_is_ignored() {
    let mut image = vhdx(false);
    put(&mut image, META + 10, &3u16.to_le_bytes());
    item_entry(&mut image, 2, &[7; 16], 0, 0, 0);
    assert_eq!(verdict(&image, Some("vhdx")), Ok(()));
    assert_eq!(inspect(&image).backing_file, None::<ExternalFile>);
}
