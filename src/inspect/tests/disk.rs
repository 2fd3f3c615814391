//! ISO, MBR and GPT layouts, formats refused outright, and ambiguity.

use super::{inspect, put, verdict};
use crate::inspect::{Format, PartitionTable, Reason};

fn iso() -> Vec<u8> {
    let mut image = vec![0u8; 20 * 2048];
    put(&mut image, 32768, b"\x01CD001\x01");
    put(&mut image, 32768 + 80, &20u32.to_le_bytes());
    put(&mut image, 32768 + 84, &20u32.to_be_bytes());
    put(&mut image, 32768 + 128, &2048u16.to_le_bytes());
    image
}

fn with_mbr(mut image: Vec<u8>, kind: u8) -> Vec<u8> {
    put(
        &mut image,
        446,
        &[0x80, 0, 2, 0, kind, 0, 0, 0, 1, 0, 0, 0, 0xff, 0, 0, 0],
    );
    put(&mut image, 510, &[0x55, 0xaa]);
    image
}

fn with_gpt(image: Vec<u8>) -> Vec<u8> {
    let mut image = with_mbr(image, 0xee);
    image[446] = 0;
    put(&mut image, 512, b"EFI PART");
    image
}

#[test]
fn an_iso_is_sized_from_its_volume_descriptor() {
    let inspection = inspect(&iso());
    assert_eq!(inspection.format, Format::Iso);
    assert_eq!(inspection.virtual_size, Some(20 * 2048));
    assert_eq!(inspection.partition_table, None);
}

#[test]
fn an_iso_with_a_partition_table_is_one_iso() {
    for (image, table) in [
        (with_mbr(iso(), 0x17), PartitionTable::Mbr),
        (with_gpt(iso()), PartitionTable::Gpt),
    ] {
        let inspection = inspect(&image);
        assert_eq!(inspection.format, Format::Iso);
        assert_eq!(inspection.also_detected, []);
        assert_eq!(inspection.partition_table, Some(table));
        assert_eq!(inspection.verdict(Some("iso"), &Default::default()), Ok(()));
    }
}

#[test]
fn an_iso_cut_short_of_its_descriptor_is_raw() {
    let image = &iso()[..32768 + 2047];
    assert_eq!(inspect(image).format, Format::Raw);
    let mut image = iso();
    image[32768] = 2; // a supplementary descriptor is not a primary one
    assert_eq!(inspect(&image).format, Format::Raw);
}

#[test]
fn a_gpt_disk_is_gpt_and_an_mbr_disk_is_raw() {
    let gpt = with_gpt(vec![0; 8192]);
    let inspection = inspect(&gpt);
    assert_eq!(
        (inspection.format, inspection.partition_table),
        (Format::Gpt, Some(PartitionTable::Gpt))
    );
    assert_eq!(verdict(&gpt, Some("raw")), Ok(()));
    let mut four_k = with_mbr(vec![0; 8192], 0xee);
    put(&mut four_k, 4096, b"EFI PART");
    assert_eq!(inspect(&four_k).format, Format::Gpt, "4096-byte sectors");
    let mbr = inspect(&with_mbr(vec![0; 8192], 0x83));
    assert_eq!(
        (mbr.format, mbr.partition_table),
        (Format::Raw, Some(PartitionTable::Mbr))
    );
    let mut bad_flag = with_mbr(vec![0; 8192], 0x83);
    bad_flag[446] = 0x12;
    assert_eq!(inspect(&bad_flag).partition_table, None);
    let protective_only = with_mbr(vec![0; 8192], 0xee);
    assert_eq!(inspect(&protective_only).format, Format::Raw);
}

#[test]
fn a_second_signature_makes_the_image_ambiguous() {
    let mut image = iso();
    put(&mut image, 0, b"QFI\xfb\0\0\0\x03");
    let ambiguous = Reason::Ambiguous {
        formats: vec![Format::Qcow2, Format::Iso],
    };
    assert_eq!(verdict(&image, None), Err(ambiguous.clone()));
    assert_eq!(verdict(&image, Some("iso")), Err(ambiguous));
    let mut image = with_gpt(vec![0; 8192]);
    put(&mut image, 0, b"vhdxfile");
    assert_eq!(inspect(&image).also_detected, [Format::Gpt]);
    let mut image = vec![0u8; 1024];
    put(&mut image, 0, b"conectix");
    put(&mut image, 0x40, &0xbeda_107fu32.to_le_bytes());
    assert_eq!(inspect(&image).also_detected, [Format::Vdi]);
}

#[test]
fn qed_and_luks_are_refused_whatever_the_claim() {
    for (magic, format) in [
        (&b"QED\0"[..], Format::Qed),
        (b"LUKS\xba\xbe\0\x01", Format::Luks),
    ] {
        let mut image = vec![0u8; 4096];
        put(&mut image, 0, magic);
        for claim in [None, Some("raw"), Some(format.name())] {
            let result = verdict(&image, claim);
            let expected = match claim {
                Some(name) if name == format.name() => Reason::UnsupportedDiskFormat {
                    claimed: name.into(),
                },
                _ => Reason::UnsupportedFormat { format },
            };
            assert_eq!(result, Err(expected), "{claim:?}");
        }
    }
}
