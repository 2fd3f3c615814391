//! Feeding an image to the inspector in several splits: whole, a byte at a
//! time, 4095 bytes, 128 KiB and pseudo-random pieces must all give the
//! same inspection; the memory bound is checked after every piece and every
//! early refusal against the final verdict.

use glance_client::inspect::{Inspection, Inspector, Policy, Reason};

const CLAIMS: [Option<&str>; 8] = [
    None,
    Some("raw"),
    Some("qcow2"),
    Some("vmdk"),
    Some("vhd"),
    Some("vhdx"),
    Some("iso"),
    Some("vdi"),
];

/// Feeds `data` in pieces of the sizes `next` gives, checking the memory
/// bound after each and the early refusals every 32 KiB: each one must be
/// confirmed by the final verdict.
fn feed_in(data: &[u8], mut next: impl FnMut() -> usize) -> Inspection {
    let policy = Policy::default();
    let mut inspector = Inspector::new();
    let mut early: Vec<Option<Reason>> = vec![None; CLAIMS.len()];
    let (mut at, mut check_at) = (0, 0);
    while at < data.len() {
        let n = next().clamp(1, data.len() - at);
        inspector.feed(&data[at..at + n]);
        at += n;
        assert!(
            inspector.held_bytes() <= Inspector::MAX_HELD_BYTES,
            "{} bytes held",
            inspector.held_bytes()
        );
        if at >= check_at || at == data.len() {
            for (seen, claim) in early.iter_mut().zip(CLAIMS) {
                if seen.is_none() {
                    *seen = inspector.early_refusal(claim, &policy);
                }
            }
            check_at = at + 32 * 1024;
        }
    }
    assert_eq!(inspector.position(), data.len() as u64);
    let inspection = inspector.finish();
    for (seen, claim) in early.iter().zip(CLAIMS) {
        if let Some(reason) = seen {
            let verdict = inspection.verdict(claim, &policy);
            assert!(
                verdict.is_err(),
                "refused early under {claim:?} ({reason}) but accepted in the end"
            );
        }
    }
    inspection
}

/// The inspection of `data`, the same in every split.
pub fn inspect(data: &[u8]) -> Inspection {
    let whole = feed_in(data, || usize::MAX);
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let random = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) as usize % 70_000 + 1
    };
    let splits = [
        ("1-byte", feed_in(data, || 1)),
        ("4095-byte", feed_in(data, || 4095)),
        ("128 KiB", feed_in(data, || 128 * 1024)),
        ("random", feed_in(data, random)),
    ];
    for (name, inspection) in splits {
        assert_eq!(inspection, whole, "{name} pieces");
    }
    whole
}
