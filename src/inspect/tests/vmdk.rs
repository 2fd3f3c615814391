//! VMDK sparse headers, descriptors, stream footers, COWD and descriptor
//! files.

use super::{inspect, malformed, padded, put, verdict};
use crate::inspect::{ExternalFile, Format, Policy, Reason};

const GD_AT_END: u64 = u64::MAX;

/// A KDMV header of `capacity` sectors with `desc_sectors` of descriptor at
/// sector 1, grains from sector 128.
fn header(capacity: u64, desc_sectors: u64, compress: u16, gd_offset: u64) -> Vec<u8> {
    let mut h = vec![0u8; 512];
    put(&mut h, 0, b"KDMV");
    put(&mut h, 4, &3u32.to_le_bytes());
    put(&mut h, 12, &capacity.to_le_bytes());
    put(&mut h, 20, &128u64.to_le_bytes()); // granularity
    put(&mut h, 28, &1u64.to_le_bytes());
    put(&mut h, 36, &desc_sectors.to_le_bytes());
    put(&mut h, 44, &512u32.to_le_bytes());
    put(&mut h, 56, &gd_offset.to_le_bytes());
    put(&mut h, 64, &128u64.to_le_bytes()); // grain_offset
    put(&mut h, 77, &compress.to_le_bytes());
    h
}

fn descriptor(create_type: &str, extents: &str) -> String {
    format!(
        "# Disk DescriptorFile\nversion=1\nCID=12345678\nparentCID=ffffffff\n\
         createType=\"{create_type}\"\n\n# Extent description\n{extents}\n\n\
         ddb.virtualHWVersion = \"4\"\nddb.adapterType = \"ide\"\n"
    )
}

/// A sparse VMDK: header, descriptor at sector 1, zeros to 64 KiB + 512.
fn sparse(create_type: &str, extents: &str, compress: u16) -> Vec<u8> {
    let mut image = header(2048, 20, compress, 21);
    put(&mut image, 512, descriptor(create_type, extents).as_bytes());
    padded(&image, 128 * 512)
}

fn monolithic() -> Vec<u8> {
    sparse("monolithicSparse", r#"RW 2048 SPARSE "disk.vmdk""#, 0)
}

#[test]
fn sparse_files_are_accepted_with_their_create_type() {
    let inspection = inspect(&monolithic());
    assert_eq!(inspection.format, Format::Vmdk);
    assert_eq!(inspection.virtual_size, Some(2048 * 512));
    assert_eq!(
        inspection.vmdk_create_type.as_deref(),
        Some("monolithicSparse")
    );
    assert_eq!(inspection.verdict(Some("vmdk"), &Policy::default()), Ok(()));
    let stream = sparse("streamOptimized", r#"RW 2048 SPARSE "s.vmdk""#, 1);
    assert_eq!(verdict(&stream, Some("vmdk")), Ok(()));
}

#[test]
fn create_types_outside_the_policy_are_refused() {
    let policy = Policy::new(["streamOptimized"]);
    let refused = Reason::VmdkCreateType {
        create_type: Some("monolithicSparse".into()),
    };
    assert_eq!(
        inspect(&monolithic()).verdict(Some("vmdk"), &policy),
        Err(refused)
    );
    let nothing = Policy::new(Vec::<String>::new());
    assert!(inspect(&monolithic()).verdict(None, &nothing).is_err());
    let policy = Policy::new(["MONOLITHICSPARSE"]);
    assert_eq!(
        inspect(&monolithic()).verdict(Some("vmdk"), &policy),
        Ok(()),
        "ASCII case ignored"
    );
}

#[test]
fn a_descriptor_without_create_type_is_refused() {
    let mut image = header(2048, 20, 0, 21);
    put(&mut image, 512, b"version=1\nRW 2048 SPARSE \"d.vmdk\"\n");
    let image = padded(&image, 128 * 512);
    assert_eq!(
        verdict(&image, Some("vmdk")),
        Err(Reason::VmdkCreateType { create_type: None })
    );
}

#[test]
fn a_create_type_the_header_contradicts_is_malformed() {
    let image = sparse("streamOptimized", r#"RW 2048 SPARSE "s.vmdk""#, 0);
    let detail = malformed(verdict(&image, Some("vmdk")));
    assert!(detail.contains("qemu reads monolithicSparse"), "{detail}");
}

#[test]
fn extents_outside_the_file_are_refused() {
    let cases = [
        r#"RW 2048 FLAT "other-flat.vmdk" 0"#,
        r#"RW 2048 SPARSE "/var/lib/nova/other.vmdk""#,
        r#"RDONLY 2048 VMFS "disk.vmdk""#,
        "RW 1024 SPARSE \"a.vmdk\"\nRW 1024 SPARSE \"b.vmdk\"",
    ];
    for extents in cases {
        let image = sparse("monolithicSparse", extents, 0);
        let expected = extents.lines().last().unwrap_or_default();
        let outside = Reason::VmdkExtent {
            extent: expected.into(),
        };
        assert_eq!(verdict(&image, Some("vmdk")), Err(outside), "{extents}");
    }
    let zero = sparse(
        "monolithicSparse",
        "RW 2048 SPARSE \"d.vmdk\"\nRW 2048 ZERO",
        0,
    );
    assert_eq!(verdict(&zero, Some("vmdk")), Ok(()));
}

#[test]
fn a_zero_capacity_header_is_a_descriptor_file_in_disguise() {
    let mut image = header(0, 20, 0, 21);
    put(
        &mut image,
        512,
        descriptor("monolithicSparse", r#"RW 2048 SPARSE "disk.vmdk""#).as_bytes(),
    );
    let image = padded(&image, 128 * 512);
    let outside = Reason::VmdkExtent {
        extent: r#"RW 2048 SPARSE "disk.vmdk""#.into(),
    };
    assert_eq!(verdict(&image, Some("vmdk")), Err(outside));
}

#[test]
fn unexpected_descriptor_lines_and_bytes_are_malformed() {
    let image = sparse("monolithicSparse", "RW 2048 SPARSE \"d.vmdk\"\nrm -rf /", 0);
    assert!(malformed(verdict(&image, Some("vmdk"))).starts_with("unexpected descriptor line"));
    let image = sparse("monolithicSparse", "RW 2048 SPARSE \"d.vmdk\"\n# \u{e9}", 0);
    assert_eq!(
        malformed(verdict(&image, Some("vmdk"))),
        "descriptor is not ASCII text"
    );
    let image = sparse("monolithicSparse", "RW lots SPARSE \"d.vmdk\"", 0);
    assert!(malformed(verdict(&image, Some("vmdk"))).starts_with("bad extent line"));
    let image = sparse("monolithicSparse", "# no extents", 0);
    assert_eq!(
        malformed(verdict(&image, Some("vmdk"))),
        "descriptor has no extents"
    );
}

#[test]
fn an_oversized_descriptor_is_refused_not_buffered() {
    for sectors in [200, u64::MAX] {
        let mut image = header(2048, sectors, 0, 21);
        put(&mut image, 512, &vec![b'#'; 70_000]);
        let image = padded(&image, 200 * 512);
        assert_eq!(
            malformed(verdict(&image, Some("vmdk"))),
            "descriptor larger than 64 KiB"
        );
    }
}

#[test]
fn a_descriptor_elsewhere_than_sector_1_is_malformed() {
    for at in [0u64, 2, u64::MAX] {
        let mut image = monolithic();
        put(&mut image, 28, &at.to_le_bytes());
        assert_eq!(
            malformed(verdict(&image, Some("vmdk"))),
            format!("descriptor at sector {at}, not 1")
        );
    }
}

#[test]
fn a_truncated_sparse_file_is_malformed() {
    let image = &monolithic()[..60];
    assert_eq!(malformed(verdict(image, Some("vmdk"))), "header truncated");
    let image = &monolithic()[..700];
    assert_eq!(
        malformed(verdict(image, Some("vmdk"))),
        "descriptor runs past the end of the data"
    );
    let image = &monolithic()[..4096];
    assert!(malformed(verdict(image, Some("vmdk"))).starts_with("the grains ends at byte 65536"));
}

#[test]
fn a_parent_file_name_hint_is_a_backing_file() {
    let mut image = monolithic();
    put(
        &mut image,
        512,
        descriptor("monolithicSparse", "RW 2048 SPARSE \"d.vmdk\"").as_bytes(),
    );
    let text = "parentFileNameHint=\"/etc/shadow\"\n";
    let at = 512 + descriptor("monolithicSparse", "RW 2048 SPARSE \"d.vmdk\"").len();
    put(&mut image, at, text.as_bytes());
    let reason = Reason::BackingFile {
        format: Format::Vmdk,
        name: Some("/etc/shadow".into()),
    };
    assert_eq!(verdict(&image, Some("vmdk")), Err(reason));
}

/// A streamOptimized image whose header says the footer holds the real one.
fn stream_with_footer(footer_gd: u64, footer_desc: u64) -> Vec<u8> {
    let mut image = sparse("streamOptimized", r#"RW 2048 SPARSE "s.vmdk""#, 1);
    put(&mut image, 56, &GD_AT_END.to_le_bytes());
    let mut marker = vec![0u8; 512];
    put(&mut marker, 12, &3u32.to_le_bytes());
    let mut footer = header(4096, footer_desc, 1, footer_gd);
    footer.truncate(512);
    image.extend_from_slice(&marker);
    image.extend_from_slice(&footer);
    image.extend_from_slice(&[0u8; 512]);
    image
}

#[test]
fn a_stream_footer_is_checked_and_gives_the_size() {
    let inspection = inspect(&stream_with_footer(40, 20));
    assert_eq!(inspection.malformed, None);
    assert_eq!(inspection.virtual_size, Some(4096 * 512));
    let image = stream_with_footer(40, 21);
    assert_eq!(
        malformed(verdict(&image, Some("vmdk"))),
        "stream footer disagrees with the header"
    );
    let image = stream_with_footer(GD_AT_END, 20);
    assert_eq!(
        malformed(verdict(&image, Some("vmdk"))),
        "stream footer disagrees with the header"
    );
    let mut image = stream_with_footer(40, 20);
    image.pop();
    assert_eq!(
        malformed(verdict(&image, Some("vmdk"))),
        "invalid stream footer"
    );
}

#[test]
fn cowd_sparse_files_are_vmdk_and_refused() {
    let image = padded(b"COWD\x01\x00\x00\x00", 4096);
    let inspection = inspect(&image);
    assert_eq!(inspection.format, Format::Vmdk);
    assert!(malformed(inspection.verdict(Some("vmdk"), &Policy::default())).contains("COWD"));
}

#[test]
fn text_descriptors_are_detected_as_qemu_probes_them() {
    let flat = descriptor("monolithicFlat", r#"RW 2048 FLAT "disk-flat.vmdk" 0"#);
    let inspection = inspect(flat.as_bytes());
    assert_eq!(inspection.format, Format::Vmdk);
    assert_eq!(inspection.virtual_size, Some(2048 * 512));
    let outside = Reason::VmdkExtent {
        extent: r#"RW 2048 FLAT "disk-flat.vmdk" 0"#.into(),
    };
    assert_eq!(
        inspection.verdict(Some("raw"), &Policy::default()),
        Err(outside)
    );
    for text in [
        "  \r\n# c\nversion=2\r\n",
        "version=3\n",
        "#\n \nversion=1\n",
    ] {
        assert_eq!(inspect(text.as_bytes()).format, Format::Vmdk, "{text:?}");
    }
    // qemu's probe: a bare newline or anything but comments and blank
    // lines before `version=` is not a descriptor.
    for text in [
        "\nversion=1\n",
        "version=4\n",
        "version=1",
        "x\nversion=1\n",
    ] {
        assert_eq!(inspect(text.as_bytes()).format, Format::Raw, "{text:?}");
    }
}

#[test]
fn a_text_descriptor_without_extents_is_still_outside_the_file() {
    let inspection = inspect(b"version=1\ncreateType=\"monolithicSparse\"\n");
    assert_eq!(
        inspection.vmdk_extent.as_deref(),
        Some("a descriptor file without extents")
    );
    assert_eq!(inspection.backing_file, None);
    let hint = b"version=1\nparentFileNameHint=\"base.vmdk\"\n";
    assert_eq!(
        inspect(hint).backing_file,
        Some(ExternalFile {
            name: Some("base.vmdk".into())
        })
    );
}
