//! Unit tests on hand-made headers, each fed in several splits (see
//! [`inspect`]): truncated and absurd headers, every refusal, ambiguity,
//! the memory bound and the early answer.

mod disk;
mod qcow2;
mod stream;
mod vhd;
mod vhdx;
mod vmdk;

use super::{Format, Inspection, Inspector, Policy, Reason};

/// The claims every test checks the early answer under.
const CLAIMS: [Option<&str>; 7] = [
    None,
    Some("raw"),
    Some("qcow2"),
    Some("vmdk"),
    Some("vhd"),
    Some("iso"),
    Some("ploop"),
];

/// Feeds `data` in pieces of `step` bytes, checking the memory bound after
/// each piece and that every early refusal is confirmed by the verdict.
fn feed_in(data: &[u8], step: usize) -> Inspection {
    let policy = Policy::default();
    let mut inspector = Inspector::new();
    let mut early = [const { None }; CLAIMS.len()];
    for piece in data.chunks(step.max(1)) {
        inspector.feed(piece);
        assert!(inspector.held_bytes() <= Inspector::MAX_HELD_BYTES);
        if step >= 4096 || inspector.position() % 4096 < step as u64 {
            for (seen, claim) in early.iter_mut().zip(CLAIMS) {
                if seen.is_none() {
                    *seen = inspector.early_refusal(claim, &policy);
                }
            }
        }
    }
    let inspection = inspector.finish();
    for (seen, claim) in early.iter().zip(CLAIMS) {
        if let Some(reason) = seen {
            assert!(
                inspection.verdict(claim, &policy).is_err(),
                "{reason} early under {claim:?}"
            );
        }
    }
    inspection
}

/// The inspection of `data`, checked to be the same whole and in pieces of
/// 1, 7, 512 and 4093 bytes.
pub(super) fn inspect(data: &[u8]) -> Inspection {
    let whole = feed_in(data, usize::MAX);
    for step in [1, 7, 512, 4093] {
        assert_eq!(feed_in(data, step), whole, "{step}-byte pieces");
    }
    whole
}

/// The verdict on `data` under `claimed` and the default policy.
pub(super) fn verdict(data: &[u8], claimed: Option<&str>) -> Result<(), Reason> {
    inspect(data).verdict(claimed, &Policy::default())
}

/// `data` padded with zeros to `len` bytes (at least).
pub(super) fn padded(data: &[u8], len: usize) -> Vec<u8> {
    let mut out = data.to_vec();
    if out.len() < len {
        out.resize(len, 0);
    }
    out
}

/// Writes `bytes` at `at`, growing `image` as needed.
pub(super) fn put(image: &mut Vec<u8>, at: usize, bytes: &[u8]) {
    if image.len() < at + bytes.len() {
        image.resize(at + bytes.len(), 0);
    }
    image[at..at + bytes.len()].copy_from_slice(bytes);
}

/// The detail of a malformed verdict.
pub(super) fn malformed(result: Result<(), Reason>) -> String {
    match result {
        Err(Reason::Malformed { detail, .. }) => detail,
        other => panic!("expected a malformed image, got {other:?}"),
    }
}

#[test]
fn empty_data_is_an_empty_raw_disk() {
    let inspection = inspect(b"");
    assert_eq!(inspection.format, Format::Raw);
    assert_eq!(inspection.virtual_size, Some(0));
    assert_eq!(inspection.verdict(Some("raw"), &Policy::default()), Ok(()));
}

#[test]
fn reasons_read_as_short_phrases() {
    let cases = [
        (
            Reason::UnsupportedDiskFormat {
                claimed: "ploop".into(),
            },
            r#"disk_format "ploop" cannot be inspected"#,
        ),
        (
            Reason::Mismatch {
                detected: Format::Qcow2,
                claimed: "raw".into(),
            },
            "detected qcow2 but the image says raw",
        ),
        (
            Reason::Ambiguous {
                formats: vec![Format::Qcow2, Format::Iso],
            },
            "ambiguous image: it is qcow2 and iso at once",
        ),
        (
            Reason::BackingFile {
                format: Format::Qcow2,
                name: Some("/etc/shadow".into()),
            },
            r#"qcow2 backing file "/etc/shadow""#,
        ),
        (
            Reason::BackingFile {
                format: Format::Vhdx,
                name: None,
            },
            "vhdx differencing image (it has a parent)",
        ),
        (Reason::DataFile { name: None }, "qcow2 external data file"),
        (
            Reason::UnknownFeatures { bits: 0x20 },
            "qcow2 unknown incompatible features 0x20",
        ),
        (
            Reason::VmdkCreateType {
                create_type: Some("vmfs".into()),
            },
            r#"vmdk createType "vmfs" not allowed"#,
        ),
        (
            Reason::VmdkCreateType { create_type: None },
            "vmdk without a createType",
        ),
        (
            Reason::UnsupportedFormat {
                format: Format::Qed,
            },
            "qed images are not supported",
        ),
        (
            Reason::Malformed {
                format: Format::Vdi,
                detail: "x".into(),
            },
            "malformed vdi: x",
        ),
    ];
    for (reason, text) in cases {
        assert_eq!(reason.to_string(), text);
    }
}

#[test]
fn format_names_are_glance_spellings() {
    let names: Vec<String> = [
        Format::Raw,
        Format::Qcow2,
        Format::Vmdk,
        Format::Vhd,
        Format::Vhdx,
    ]
    .iter()
    .chain(&[
        Format::Vdi,
        Format::Iso,
        Format::Gpt,
        Format::Qed,
        Format::Luks,
    ])
    .map(|f| f.to_string())
    .collect();
    assert_eq!(
        names,
        [
            "raw", "qcow2", "vmdk", "vhd", "vhdx", "vdi", "iso", "gpt", "qed", "luks"
        ]
    );
}

#[test]
fn the_default_policy_is_novas() {
    assert_eq!(
        Policy::default().vmdk_allowed_types,
        ["streamOptimized", "monolithicSparse"]
    );
}
