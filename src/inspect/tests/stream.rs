//! The streaming contract: memory, the early answer, absurd input.

use super::{inspect, padded, put};
use crate::inspect::{Format, Inspector, Policy, Reason};

#[test]
fn memory_stays_bounded_on_a_large_image() {
    let mut inspector = Inspector::new();
    let block: Vec<u8> = (0..128 * 1024u32).map(|i| (i * 7 % 251) as u8).collect();
    let mut most = 0;
    for _ in 0..64 {
        inspector.feed(&block);
        most = most.max(inspector.held_bytes());
    }
    assert!(most <= Inspector::MAX_HELD_BYTES);
    assert!(
        inspector.held_bytes() <= 4096,
        "the head window is released: {}",
        inspector.held_bytes()
    );
    assert_eq!(inspector.position(), 64 * 128 * 1024);
    let inspection = inspector.finish();
    assert_eq!(
        (inspection.format, inspection.virtual_size),
        (Format::Raw, Some(8 << 20))
    );
}

#[test]
fn an_unsupported_claim_is_refused_before_any_byte() {
    let inspector = Inspector::new();
    let refused = Reason::UnsupportedDiskFormat {
        claimed: "ploop".into(),
    };
    assert_eq!(
        inspector.early_refusal(Some("ploop"), &Policy::default()),
        Some(refused)
    );
    assert_eq!(
        inspector.early_refusal(Some("raw"), &Policy::default()),
        None
    );
}

#[test]
fn no_early_answer_before_the_head_window_is_complete() {
    let mut image = padded(b"QFI\xfb\0\0\0\x03\0\0\0\0\0\0\x02\0", 1 << 20);
    put(&mut image, 20, &16u32.to_be_bytes());
    let mut inspector = Inspector::new();
    inspector.feed(&image[..66_047]);
    assert_eq!(
        inspector.early_refusal(None, &Policy::default()),
        None,
        "an ISO may still come"
    );
    inspector.feed(&image[66_047..66_048]);
    let refused = inspector.early_refusal(None, &Policy::default());
    assert_eq!(
        refused,
        Some(Reason::BackingFile {
            format: Format::Qcow2,
            name: None
        })
    );
}

#[test]
fn raw_data_is_not_refused_early_under_a_claim_a_fixed_vhd_could_satisfy() {
    let mut inspector = Inspector::new();
    inspector.feed(&vec![1u8; 1 << 20]);
    let policy = Policy::default();
    for claim in ["raw", "vhd", "ami"] {
        assert_eq!(
            inspector.early_refusal(Some(claim), &policy),
            None,
            "{claim}"
        );
    }
    let mismatch = Reason::Mismatch {
        detected: Format::Raw,
        claimed: "qcow2".into(),
    };
    assert_eq!(
        inspector.early_refusal(Some("qcow2"), &policy),
        Some(mismatch)
    );
    assert!(inspector.early_refusal(Some("iso"), &policy).is_some());
}

#[test]
fn every_byte_value_at_every_header_offset_is_survived() {
    // Absurd values in every field of every header, fed a byte at a time.
    let magics: [&[u8]; 6] = [
        b"QFI\xfb\0\0\0\x03",
        b"KDMV\x01\0\0\0",
        b"conectix",
        b"vhdxfile",
        b"COWD",
        b"QED\0",
    ];
    for magic in magics {
        for fill in [0x00, 0x7f, 0xff] {
            let mut image = vec![fill; 2048];
            put(&mut image, 0, magic);
            let _ = inspect(&image);
        }
    }
}
