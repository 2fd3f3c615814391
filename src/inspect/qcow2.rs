//! qcow2 (QEMU `docs/interop/qcow2.txt`): a big-endian header at offset 0,
//! header extensions after it, the backing file name somewhere in the first
//! cluster. Everything read here lies in the head window.

use super::bytes::{be32, be64, has, slice, text};
use super::inspection::{ExternalFile, Inspection};
use super::start::Pending;

pub(super) const MAGIC: &[u8] = b"QFI\xfb";

/// The longest backing file name qemu accepts (qcow2.txt: "Must not be
/// longer than 1023 bytes"); also the cap on the data file name kept.
const NAME_MAX: usize = 1023;

/// Incompatible feature bits (qcow2.txt, header bytes 72-79).
const DATA_FILE: u64 = 1 << 2;
/// The incompatible features known and allowed here. None of them makes
/// qemu read anything outside the image file:
/// - bit 0, dirty: refcounts may be stale; qemu repairs them on a read-write
///   open. Allowed by oslo.utils too.
/// - bit 1, corrupt: qemu refuses to write the image, reading is allowed.
///   Allowed by oslo.utils.
/// - bit 2, external data file: known, but refused by its own rule
///   ([`Inspection::data_file`]).
/// - bit 3, compression type: compressed clusters use zstd instead of zlib
///   (the `compression_type` header field). Allowed by oslo.utils.
/// - bit 4, extended L2 entries: subcluster allocation bitmaps in the L2
///   tables; a layout change inside the file. oslo.utils (hence Nova) stops
///   at bit 3 and refuses it as unknown; it is allowed here because
///   qcow2.txt documents it and it refers to nothing outside the file.
///
/// Bits 5-63 are reserved: "an implementation must fail to open an image if
/// an unknown bit is set", and here such an image is refused.
const KNOWN_FEATURES: u64 = 0b1_1111;

/// Header extension type of the external data file name.
const EXT_DATA_FILE: u32 = 0x4441_5441;

/// Facts from the qcow2 header in `head` (which starts with [`MAGIC`]).
pub(super) fn parse(head: &[u8], insp: &mut Inspection, pending: &mut Pending) {
    let Some(version) = be32(head, 4) else {
        return insp.problem("header truncated");
    };
    let header_len = match version {
        2 | 1 => 72,
        3 => 104,
        _ => return insp.problem(format!("unsupported version {version}")),
    };
    // qcow (version 1) shares the backing file fields: report them too.
    backing_file(head, insp);
    if head.len() < header_len {
        return insp.problem("header truncated");
    }
    if version == 1 {
        return insp.problem("unsupported version 1 (qcow)");
    }
    insp.virtual_size = be64(head, 24);
    let Some(cluster_bits) = be32(head, 20).filter(|b| (9..=21).contains(b)) else {
        return insp.problem("cluster size out of range (cluster_bits 9 to 21)");
    };
    tables(head, cluster_bits, pending, insp);
    if version == 3 {
        version_3(head, 1usize << cluster_bits, insp);
    }
}

/// The version 3 fields: incompatible features and header length.
fn version_3(head: &[u8], cluster: usize, insp: &mut Inspection) {
    let features = be64(head, 72).unwrap_or(0);
    insp.unknown_features = features & !KNOWN_FEATURES;
    let header_len = be32(head, 100).unwrap_or(0);
    if header_len < 104 || !header_len.is_multiple_of(8) {
        insp.problem(format!("header length {header_len}"));
    }
    if features & DATA_FILE != 0 {
        let name = (header_len >= 104)
            .then(|| data_file_name(head, header_len as usize, cluster))
            .flatten();
        insp.data_file = Some(ExternalFile { name });
    }
}

/// The backing file, when the header has one: its name is read when it lies
/// in the head window and is not longer than qemu accepts.
fn backing_file(head: &[u8], insp: &mut Inspection) {
    let offset = be64(head, 8).unwrap_or(0);
    if offset == 0 {
        return;
    }
    let size = be32(head, 16).unwrap_or(0) as usize;
    if size > NAME_MAX {
        insp.problem(format!(
            "backing file name of {size} bytes (at most {NAME_MAX})"
        ));
    }
    let name = usize::try_from(offset)
        .ok()
        .filter(|_| (1..=NAME_MAX).contains(&size))
        .and_then(|at| slice(head, at, size))
        .map(|name| text(name, NAME_MAX));
    insp.backing_file = Some(ExternalFile { name });
}

/// The L1 and refcount tables must lie inside the data.
fn tables(head: &[u8], cluster_bits: u32, pending: &mut Pending, insp: &mut Inspection) {
    let l1_entries = u64::from(be32(head, 36).unwrap_or(0));
    let l1_end = be64(head, 40).and_then(|at| at.checked_add(l1_entries.checked_mul(8)?));
    let refcount_clusters = u64::from(be32(head, 56).unwrap_or(0));
    let refcount_end = be64(head, 48)
        .and_then(|at| at.checked_add(refcount_clusters.checked_mul(1u64 << cluster_bits)?));
    match (l1_end, refcount_end) {
        (Some(l1), Some(refcount)) => {
            if l1_entries > 0 {
                pending.need(l1, "the L1 table");
            }
            pending.need(refcount, "the refcount table");
        }
        _ => insp.problem("table offset or size out of range"),
    }
}

/// The external data file's name from the header extensions, which start
/// at `at` and end at the end-of-extensions marker or the first cluster's
/// end. Each extension is 8 bytes of type and length and its data padded to
/// 8 bytes, so the walk advances at least 8 bytes a step and stops at the
/// end of the head.
fn data_file_name(head: &[u8], mut at: usize, cluster: usize) -> Option<String> {
    while at < cluster {
        let kind = be32(head, at)?;
        let len = be32(head, at.checked_add(4)?)? as usize;
        let data_at = at.checked_add(8)?;
        match kind {
            0 => return None,
            EXT_DATA_FILE => {
                return slice(head, data_at, len.min(NAME_MAX)).map(|n| text(n, NAME_MAX));
            }
            _ => at = data_at.checked_add(len.checked_next_multiple_of(8)?)?,
        }
    }
    None
}

/// Whether the data starts with the qcow2 (or qcow) magic.
pub(super) fn detect(head: &[u8]) -> bool {
    has(head, 0, MAGIC)
}
