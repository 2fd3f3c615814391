//! VHD (qemu `block/vpc.c`): a 512-byte big-endian footer. A dynamic or
//! differencing disk has a copy of it at offset 0 (qemu's probe looks only
//! there); a fixed disk has it only in its last 512 bytes, which the
//! inspector keeps in its tail.

use super::bytes::{be16, be32, be64, has, slice};
use super::inspection::{ExternalFile, Inspection};
use super::start::Pending;

pub(super) const COOKIE: &[u8] = b"conectix";
pub(super) const FOOTER_LEN: usize = 512;

const FIXED: u32 = 2;
const DYNAMIC: u32 = 3;
const DIFFERENCING: u32 = 4;
/// qemu's limit: 2040 GiB.
const MAX_SECTORS: u64 = 0xff00_0000;
/// The largest CHS geometry (65535 cylinders, 16 heads, 255 sectors).
const MAX_GEOMETRY: u64 = 65535 * 16 * 255;

/// Whether the data starts with a footer copy (a dynamic or differencing
/// disk).
pub(super) fn detect(head: &[u8]) -> bool {
    has(head, 0, COOKIE)
}

/// Facts from the footer copy at the start of a dynamic disk.
pub(super) fn parse(head: &[u8], insp: &mut Inspection, pending: &mut Pending) {
    let Some(footer) = slice(head, 0, FOOTER_LEN) else {
        return insp.problem("footer truncated");
    };
    common(footer, insp);
    match be32(footer, 60) {
        Some(DYNAMIC | DIFFERENCING) => {}
        Some(FIXED) => insp.problem("a fixed disk's footer at the start"),
        kind => insp.problem(format!("unknown disk type {}", kind.unwrap_or(0))),
    }
    // The dynamic disk header (1024 bytes) must lie inside the data.
    match be64(footer, 16).and_then(|at| at.checked_add(1024)) {
        Some(end) => pending.need(end, "the dynamic disk header"),
        None => insp.problem("dynamic disk header offset out of range"),
    }
}

/// Facts from a footer found only in the last 512 bytes: a fixed disk.
pub(super) fn parse_fixed(footer: &[u8], insp: &mut Inspection) {
    common(footer, insp);
    match be32(footer, 60) {
        Some(FIXED | DIFFERENCING) => {}
        Some(DYNAMIC) => insp.problem("a dynamic disk without its footer copy at the start"),
        kind => insp.problem(format!("unknown disk type {}", kind.unwrap_or(0))),
    }
}

/// Checksum, virtual size and parent, the same for both kinds.
fn common(footer: &[u8], insp: &mut Inspection) {
    if be32(footer, 60) == Some(DIFFERENCING) {
        // qemu does not follow the parent (it reads a differencing disk as
        // a dynamic one), but another tool would: refused all the same.
        insp.backing_file = Some(ExternalFile { name: None });
    }
    if be32(footer, 64) != Some(checksum(footer)) {
        insp.problem("footer checksum mismatch");
    }
    match virtual_sectors(footer) {
        Some(sectors) if sectors <= MAX_SECTORS => insp.virtual_size = Some(sectors * 512),
        _ => insp.problem("disk larger than 2040 GiB"),
    }
}

/// The one's complement of the sum of the footer's bytes, the checksum
/// field (bytes 64-67) left out.
fn checksum(footer: &[u8]) -> u32 {
    let sum = footer
        .iter()
        .enumerate()
        .filter(|(i, _)| !(64..68).contains(i))
        .fold(0u32, |sum, (_, &b)| sum.wrapping_add(u32::from(b)));
    !sum
}

/// The disk's size in sectors as qemu computes it: the CHS geometry, except
/// for creators known to use the footer's current size (and for the
/// largest geometry, which would truncate).
fn virtual_sectors(footer: &[u8]) -> Option<u64> {
    let cylinders = u64::from(be16(footer, 56)?);
    let heads = u64::from(*footer.get(58)?);
    let sectors_per_track = u64::from(*footer.get(59)?);
    let chs = cylinders * heads * sectors_per_track;
    let creator = slice(footer, 28, 4)?;
    let uses_size = [&b"win "[..], b"qem2", b"d2v ", b"CTXS", b"tap\0"].contains(&creator);
    if uses_size || chs == MAX_GEOMETRY {
        Some(be64(footer, 48)? / 512)
    } else {
        Some(chs)
    }
}
