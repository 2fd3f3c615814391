//! Whole-disk layouts qemu reads as raw: an ISO 9660 file system (its
//! primary volume descriptor at 32 KiB) and the MBR and GPT partition
//! tables, which an "isohybrid" ISO also carries.

use super::bytes::{has, le16, le32, slice};
use super::inspection::PartitionTable;

/// The primary volume descriptor: sector 16 of 2048 bytes.
const PVD_AT: usize = 16 * 2048;
const PVD_LEN: usize = 2048;
/// The end of the bytes the ISO check reads.
pub(super) const ISO_END: usize = PVD_AT + PVD_LEN;

/// Whether sector 16 holds a primary volume descriptor (type 1,
/// `CD001`, version 1).
pub(super) fn is_iso(head: &[u8]) -> bool {
    head.len() >= ISO_END
        && head.get(PVD_AT) == Some(&1)
        && has(head, PVD_AT + 1, b"CD001")
        && head.get(PVD_AT + 6) == Some(&1)
}

/// The ISO's size: its volume space size (blocks) times its logical block
/// size, each read from the little-endian half of its both-endian field.
pub(super) fn iso_size(head: &[u8]) -> Option<u64> {
    let blocks = u64::from(le32(head, PVD_AT + 80)?);
    let block_size = u64::from(le16(head, PVD_AT + 128)?);
    blocks.checked_mul(block_size)
}

/// The four MBR partition entries, or `None` without the boot signature
/// or with an invalid boot flag.
fn mbr_entries(head: &[u8]) -> Option<[&[u8]; 4]> {
    if !has(head, 510, &[0x55, 0xaa]) {
        return None;
    }
    let entry = |i: usize| slice(head, 446 + 16 * i, 16);
    let entries = [entry(0)?, entry(1)?, entry(2)?, entry(3)?];
    entries
        .iter()
        .all(|e| matches!(e.first(), Some(0x00 | 0x80)))
        .then_some(entries)
}

/// Whether the disk has a protective MBR (a partition of type 0xEE) and a
/// GPT header (`EFI PART`) at LBA 1, for 512- or 4096-byte sectors.
pub(super) fn is_gpt(head: &[u8]) -> bool {
    let protective = mbr_entries(head).is_some_and(|e| e.iter().any(|e| e.get(4) == Some(&0xee)));
    protective && (has(head, 512, b"EFI PART") || has(head, 4096, b"EFI PART"))
}

/// The partition table at the start of the disk, if any.
pub(super) fn partition_table(head: &[u8]) -> Option<PartitionTable> {
    if is_gpt(head) {
        return Some(PartitionTable::Gpt);
    }
    let used = mbr_entries(head)?
        .iter()
        .any(|e| e.get(4).is_some_and(|&t| t != 0));
    used.then_some(PartitionTable::Mbr)
}
