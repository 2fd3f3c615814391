//! VDI (qemu `block/vdi.c`): a 512-byte little-endian header at offset 0,
//! its signature at 0x40.

use super::bytes::{le32, le64, slice};
use super::inspection::{ExternalFile, Inspection};
use super::start::Pending;

const SIGNATURE: u32 = 0xbeda_107f;
const VERSION_1_1: u32 = 0x0001_0001;
const HEADER_LEN: usize = 512;

/// Whether the data is a VDI as qemu probes it: the signature, and at least
/// a whole header.
pub(super) fn detect(head: &[u8]) -> bool {
    head.len() >= HEADER_LEN && le32(head, 0x40) == Some(SIGNATURE)
}

/// Facts from a VDI header.
pub(super) fn parse(head: &[u8], insp: &mut Inspection, pending: &mut Pending) {
    let version = le32(head, 0x44).unwrap_or(0);
    if version != VERSION_1_1 {
        insp.problem(format!("unsupported version {version:#x}"));
    }
    match le32(head, 0x4c).unwrap_or(0) {
        1 | 2 => {}
        // 3 is an undo disk, 4 a differencing disk: both read through
        // another image. qemu refuses to open them; refused here too.
        3 | 4 => insp.backing_file = Some(ExternalFile { name: None }),
        kind => insp.problem(format!("unknown image type {kind}")),
    }
    // A link or parent UUID also means another image (qemu refuses them).
    let zero = [0u8; 32];
    if slice(head, 0x1a8, 32) != Some(&zero[..]) {
        insp.backing_file = Some(ExternalFile { name: None });
    }
    // qemu rounds an odd size up to whole sectors.
    insp.virtual_size = le64(head, 0x170).and_then(|s| s.checked_next_multiple_of(512));
    if insp.virtual_size.is_none() {
        insp.problem("disk size out of range");
    }
    let blocks = u64::from(le32(head, 0x180).unwrap_or(0));
    match u64::from(le32(head, 0x154).unwrap_or(0)).checked_add(blocks * 4) {
        Some(end) => pending.need(end, "the block map"),
        None => insp.problem("block map out of range"),
    }
    pending.need(u64::from(le32(head, 0x158).unwrap_or(0)), "the data area");
}
