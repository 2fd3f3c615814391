//! Hand-made whole-disk images no Debian tool of the base system makes:
//! an ISO 9660 volume (optionally "isohybrid", with an MBR or a GPT in
//! front) and a GPT disk. qemu reads all of them as raw.
#![allow(dead_code)]

/// The partition table written in front of an image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    None,
    /// One bootable partition of type 0x17 (as isohybrid writes).
    Mbr,
    /// A protective MBR and a GPT header with an empty entry array.
    Gpt,
}

const SECTOR: usize = 2048;

/// An ISO 9660 volume of `blocks` 2048-byte blocks (at least 18): system
/// area, a primary volume descriptor at sector 16, a set terminator at 17.
pub fn iso(blocks: u32, table: Table) -> Vec<u8> {
    let mut image = vec![0u8; blocks as usize * SECTOR];
    let pvd = &mut image[16 * SECTOR..17 * SECTOR];
    pvd[0] = 1;
    pvd[1..6].copy_from_slice(b"CD001");
    pvd[6] = 1;
    pvd[8..40].copy_from_slice(&[b' '; 32]); // system identifier
    pvd[40..72].copy_from_slice(b"GLANCE_TEST                     ");
    both_endian_32(&mut pvd[80..88], blocks);
    both_endian_16(&mut pvd[120..124], 1); // volume set size
    both_endian_16(&mut pvd[124..128], 1); // volume sequence number
    both_endian_16(&mut pvd[128..132], SECTOR as u16);
    pvd[881] = 1; // file structure version
    let terminator = &mut image[17 * SECTOR..18 * SECTOR];
    terminator[0] = 255;
    terminator[1..6].copy_from_slice(b"CD001");
    terminator[6] = 1;
    partition_table(&mut image, table);
    image
}

/// A disk of `size` bytes (a multiple of 512) with a GPT: protective MBR,
/// primary header at LBA 1, entries at LBA 2-33, backup header at the end.
pub fn gpt_disk(size: usize) -> Vec<u8> {
    let mut image = vec![0u8; size];
    for (i, byte) in image.iter_mut().enumerate().skip(64 * 512) {
        *byte = (i % 253) as u8; // some content
    }
    partition_table(&mut image, Table::Gpt);
    let last = (size / 512 - 1) as u64;
    let backup = gpt_header(last, 1, last - 32);
    image[size - 512..size - 512 + backup.len()].copy_from_slice(&backup);
    image
}

fn partition_table(image: &mut [u8], table: Table) {
    let sectors = (image.len() / 512) as u32;
    let (kind, boot, start) = match table {
        Table::None => return,
        Table::Mbr => (0x17, 0x80, 0u32),
        Table::Gpt => (0xee, 0x00, 1),
    };
    let entry = &mut image[446..462];
    entry[0] = boot;
    entry[4] = kind;
    entry[8..12].copy_from_slice(&start.to_le_bytes());
    entry[12..16].copy_from_slice(&(sectors - start).to_le_bytes());
    image[510..512].copy_from_slice(&[0x55, 0xaa]);
    if table == Table::Gpt {
        let last = (image.len() / 512 - 1) as u64;
        let header = gpt_header(1, last, 2);
        image[512..512 + header.len()].copy_from_slice(&header);
    }
}

/// A GPT header (92 bytes) at LBA `at`, its copy at `other`, its entries
/// at `entries`. The CRCs are left zero: no inspector checks them.
fn gpt_header(at: u64, other: u64, entries: u64) -> Vec<u8> {
    let mut h = vec![0u8; 92];
    h[0..8].copy_from_slice(b"EFI PART");
    h[8..12].copy_from_slice(&0x0001_0000u32.to_le_bytes());
    h[12..16].copy_from_slice(&92u32.to_le_bytes());
    h[24..32].copy_from_slice(&at.to_le_bytes());
    h[32..40].copy_from_slice(&other.to_le_bytes());
    h[40..48].copy_from_slice(&34u64.to_le_bytes());
    h[72..80].copy_from_slice(&entries.to_le_bytes());
    h[80..84].copy_from_slice(&128u32.to_le_bytes());
    h[84..88].copy_from_slice(&128u32.to_le_bytes());
    h
}

fn both_endian_32(field: &mut [u8], value: u32) {
    field[..4].copy_from_slice(&value.to_le_bytes());
    field[4..].copy_from_slice(&value.to_be_bytes());
}

fn both_endian_16(field: &mut [u8], value: u16) {
    field[..2].copy_from_slice(&value.to_le_bytes());
    field[2..].copy_from_slice(&value.to_be_bytes());
}
