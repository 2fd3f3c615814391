//! The disk image inspector: never panics; holds at most its documented
//! bound; gives the same inspection (hence the same verdicts) whether the
//! image arrives whole or in pieces whose sizes the input chooses; and
//! every early refusal is confirmed by the final verdict.
//!
//! Input: 4 control bytes, then the image. Control byte 0, bit 0, selects
//! the sparse form, in which the image is records of (u16 LE gap in
//! 512-byte sectors of zeros, u16 LE length, bytes), up to 4 MiB: how small
//! seeds reach the VHDX tables at 192 KiB and 1 MiB or a fixed VHD footer.
//! Control bytes 1-3 choose the piece sizes.
#![no_main]
use glance_client::inspect::{Inspection, Inspector, Policy};
use libfuzzer_sys::fuzz_target;

const CLAIMS: [Option<&str>; 9] = [
    None,
    Some("raw"),
    Some("qcow2"),
    Some("vmdk"),
    Some("vhd"),
    Some("vhdx"),
    Some("vdi"),
    Some("iso"),
    Some("ploop"),
];
const SPARSE_MAX: usize = 4 << 20;

fn sparse(mut records: &[u8]) -> Vec<u8> {
    let mut image = Vec::new();
    while let [g0, g1, l0, l1, rest @ ..] = records {
        let gap = usize::from(u16::from_le_bytes([*g0, *g1])) * 512;
        let len = usize::from(u16::from_le_bytes([*l0, *l1])).min(rest.len());
        if image.len() + gap + len > SPARSE_MAX {
            break;
        }
        image.resize(image.len() + gap, 0);
        image.extend_from_slice(&rest[..len]);
        records = &rest[len..];
    }
    image
}

/// Feeds `image` in pieces of the sizes `size(index, offset)` gives,
/// checking the memory bound after each; returns the inspection and the
/// early refusals seen (checked after every piece when `early` is set).
fn feed(
    image: &[u8],
    size: impl Fn(usize, usize) -> usize,
    early: bool,
) -> (Inspection, Vec<bool>) {
    let policy = Policy::default();
    let mut inspector = Inspector::new();
    let mut refused = vec![false; CLAIMS.len()];
    let (mut at, mut i) = (0, 0);
    while at < image.len() {
        let n = size(i, at).clamp(1, image.len() - at);
        inspector.feed(&image[at..at + n]);
        at += n;
        i += 1;
        let held = inspector.held_bytes();
        assert!(
            held <= Inspector::MAX_HELD_BYTES,
            "{held} bytes held at {at}"
        );
        if early {
            for (seen, claim) in refused.iter_mut().zip(CLAIMS) {
                *seen = *seen || inspector.early_refusal(claim, &policy).is_some();
            }
        }
    }
    assert_eq!(inspector.position(), image.len() as u64);
    (inspector.finish(), refused)
}

fuzz_target!(|data: &[u8]| {
    let [mode, a, b, c, rest @ ..] = data else {
        return;
    };
    let image = if mode & 1 == 1 {
        sparse(rest)
    } else {
        rest.to_vec()
    };
    let (whole, _) = feed(&image, |_, _| usize::MAX, false);
    // At least image / 1024 bytes a piece, so that the early answer can be
    // asked after each piece and still leave time for many runs.
    let least = image.len() / 1024 + 1;
    let cycle = [
        usize::from(*a) + least,
        usize::from(*b) * 61 + least,
        usize::from(*c) * 4099 + least,
    ];
    let (pieces, refused) = feed(&image, |i, _| cycle[i % 3], true);
    assert_eq!(pieces, whole, "pieces of {cycle:?}");
    // A few bytes at a time (1 to 13) through the 64.5 KiB head window,
    // then large pieces.
    let (small, large) = (usize::from(*b % 13) + 1, usize::from(*a) * 1021 + 1);
    let (bytes, _) = feed(
        &image,
        |_, at| if at < 66_048 { small } else { large },
        false,
    );
    assert_eq!(bytes, whole, "pieces of {small}, then {large}");
    let policy = Policy::default();
    for (early, claim) in refused.iter().zip(CLAIMS) {
        let verdict = whole.verdict(claim, &policy);
        assert!(
            !early || verdict.is_err(),
            "refused early under {claim:?}, then {verdict:?}"
        );
    }
});
