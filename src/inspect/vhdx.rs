//! VHDX (MS-VHDX, qemu `block/vhdx.c`): the `vhdxfile` identifier at 0, a
//! region table at 192 KiB that locates the metadata region (at 1 MiB or
//! later), whose table of items locates the virtual disk size, the file
//! parameters (with the has-parent flag) and a parent locator. They lie past
//! the head window, so a [`Walker`] reads them as the data streams, one
//! region at a time: at most one 64 KiB table is held.

use super::bytes::{has, le16, le32, le64, slice};
use super::inspection::{ExternalFile, Inspection};

pub(super) fn detect(head: &[u8]) -> bool {
    has(head, 0, b"vhdxfile")
}

const REGION_TABLE_AT: u64 = 192 * 1024;
/// Both tables are 64 KiB: a 16- or 32-byte header and up to 2047 entries.
const TABLE_LEN: usize = 64 * 1024;
const MAX_ENTRIES: usize = 2047;

/// A GUID as stored: the first three fields little-endian.
type Guid = [u8; 16];
const fn guid(a: u32, b: u16, c: u16, d: [u8; 8]) -> Guid {
    let (a, b, c) = (a.to_le_bytes(), b.to_le_bytes(), c.to_le_bytes());
    [
        a[0], a[1], a[2], a[3], b[0], b[1], c[0], c[1], d[0], d[1], d[2], d[3], d[4], d[5], d[6],
        d[7],
    ]
}
const BAT: Guid = guid(
    0x2dc2_7766,
    0xf623,
    0x4200,
    [0x9d, 0x64, 0x11, 0x5e, 0x9b, 0xfd, 0x4a, 0x08],
);
const METADATA: Guid = guid(
    0x8b7c_a206,
    0x4790,
    0x4b9a,
    [0xb8, 0xfe, 0x57, 0x5f, 0x05, 0x0f, 0x88, 0x6e],
);
const FILE_PARAMETERS: Guid = guid(
    0xcaa1_6737,
    0xfa36,
    0x4d43,
    [0xb3, 0xb6, 0x33, 0xf0, 0xaa, 0x44, 0xe7, 0x6b],
);
const VIRTUAL_DISK_SIZE: Guid = guid(
    0x2fa5_4224,
    0xcd1b,
    0x4876,
    [0xb2, 0x11, 0x5d, 0xbe, 0xd8, 0x3b, 0xf4, 0xb8],
);
const PARENT_LOCATOR: Guid = guid(
    0xa8d3_5f2d,
    0xb30b,
    0x454d,
    [0xab, 0xf7, 0xd3, 0xd8, 0x48, 0x34, 0xab, 0x0c],
);
/// Page 83 data, logical and physical sector size: known, not needed.
const OTHER_ITEMS: [Guid; 3] = [
    guid(
        0xbeca_12ab,
        0xb2e6,
        0x4523,
        [0x93, 0xef, 0xc3, 0x09, 0xe0, 0x00, 0xc7, 0x46],
    ),
    guid(
        0x8141_bf1d,
        0xa96f,
        0x4709,
        [0xba, 0x47, 0xf2, 0x33, 0xa8, 0xfa, 0xab, 0x5f],
    ),
    guid(
        0xcda3_48c7,
        0x445d,
        0x4471,
        [0x9c, 0xc9, 0xe9, 0x88, 0x52, 0x51, 0xc5, 0x56],
    ),
];

/// A byte range of the stream being captured.
#[derive(Debug, Clone)]
struct Region {
    start: u64,
    len: usize,
    data: Vec<u8>,
}

impl Region {
    fn new(start: u64, len: usize) -> Self {
        Region {
            start,
            len,
            data: Vec::new(),
        }
    }

    /// Copies the part of `chunk` (which starts at stream offset `at`) that
    /// continues what the region holds. Allocates the region at its first
    /// byte, so a region far ahead costs nothing while it waits.
    fn absorb(&mut self, at: u64, chunk: &[u8]) {
        let held_end = self.start.saturating_add(self.data.len() as u64);
        let want_end = self.start.saturating_add(self.len as u64);
        let chunk_end = at.saturating_add(chunk.len() as u64);
        if at > held_end || chunk_end <= held_end || held_end >= want_end {
            return;
        }
        let from = usize::try_from(held_end - at).ok();
        let to = usize::try_from(want_end.min(chunk_end) - at).ok();
        if let Some(part) = from.zip(to).and_then(|(from, to)| chunk.get(from..to)) {
            if self.data.capacity() == 0 {
                self.data.reserve_exact(self.len);
            }
            self.data.extend_from_slice(part);
        }
    }

    fn complete(&self) -> bool {
        self.data.len() >= self.len
    }
}

/// qemu refuses differencing VHDX images (a parent locator, or the
/// has-parent flag); refused here too.
fn parent_found(insp: &mut Inspection) {
    insp.backing_file = Some(ExternalFile { name: None });
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    VirtualDiskSize,
    FileParameters,
}

/// Reads the VHDX structures past the head window as the data streams.
#[derive(Debug, Clone)]
pub(super) struct Walker {
    /// The table being read: the region table, then the metadata table.
    table: Option<Region>,
    reading_metadata: bool,
    /// The items located by the metadata table (at most two, 8 bytes each).
    items: Vec<(Item, Region)>,
    parent: bool,
    problem: Option<String>,
}

impl Walker {
    pub(super) fn new() -> Self {
        Walker {
            table: Some(Region::new(REGION_TABLE_AT, TABLE_LEN)),
            reading_metadata: false,
            items: Vec::new(),
            parent: false,
            problem: None,
        }
    }

    /// Takes the chunk at stream offset `at`. A table completed inside the
    /// chunk locates the next region (which starts at or after the table's
    /// end, so no byte is missed), and that region takes the rest of the
    /// chunk: one turn of the loop per table, two at most.
    pub(super) fn feed(&mut self, at: u64, chunk: &[u8]) {
        while let Some(table) = &mut self.table {
            table.absorb(at, chunk);
            if !table.complete() {
                return;
            }
            let done = std::mem::take(&mut table.data);
            let start = table.start;
            self.table = None;
            if self.reading_metadata {
                self.metadata_table(start, &done);
            } else {
                self.region_table(&done);
            }
        }
        for (_, region) in &mut self.items {
            region.absorb(at, chunk);
        }
    }

    fn fail(&mut self, problem: String) {
        self.problem.get_or_insert(problem);
        self.table = None;
        self.items.clear();
    }

    /// Finds the metadata region; refuses unknown required regions, as qemu
    /// does.
    fn region_table(&mut self, t: &[u8]) {
        let count = le32(t, 8).map_or(usize::MAX, |c| c as usize);
        if !has(t, 0, b"regi") || count > MAX_ENTRIES {
            return self.fail("invalid region table".into());
        }
        let mut metadata = None;
        for entry in (0..count).filter_map(|i| slice(t, 16 + 32 * i, 32)) {
            let id = slice(entry, 0, 16).unwrap_or_default();
            let required = le32(entry, 28).unwrap_or(0) & 1 != 0;
            if id == METADATA && metadata.is_none() {
                metadata = le64(entry, 16).zip(le32(entry, 24));
            } else if id != BAT && id != METADATA && required {
                return self.fail("unknown required region".into());
            }
        }
        let Some((at, len)) = metadata else {
            return self.fail("no metadata region".into());
        };
        let tables_end = REGION_TABLE_AT + 2 * TABLE_LEN as u64;
        if at < tables_end || len < 32 {
            return self.fail(format!("metadata region at byte {at} of {len} bytes"));
        }
        self.table = Some(Region::new(at, (len as usize).min(TABLE_LEN)));
        self.reading_metadata = true;
    }

    /// Locates the items; notes a parent locator; refuses unknown required
    /// items, as qemu does.
    fn metadata_table(&mut self, base: u64, t: &[u8]) {
        let count = le16(t, 10).map_or(usize::MAX, usize::from);
        if !has(t, 0, b"metadata") || count > MAX_ENTRIES {
            return self.fail("invalid metadata table".into());
        }
        let table_end = base.saturating_add(t.len() as u64);
        for entry in (0..count).filter_map(|i| slice(t, 32 + 32 * i, 32)) {
            let id = slice(entry, 0, 16).unwrap_or_default();
            let (offset, len) = (le32(entry, 16).unwrap_or(0), le32(entry, 20).unwrap_or(0));
            let required = le32(entry, 24).unwrap_or(0) & 4 != 0;
            let item = match id {
                _ if id == VIRTUAL_DISK_SIZE => Item::VirtualDiskSize,
                _ if id == FILE_PARAMETERS => Item::FileParameters,
                _ if id == PARENT_LOCATOR => {
                    self.parent = true;
                    continue;
                }
                _ if OTHER_ITEMS.iter().any(|g| g == id) || !required => continue,
                _ => return self.fail("unknown required metadata item".into()),
            };
            let start = base.saturating_add(u64::from(offset));
            if start < table_end || len < 8 {
                return self.fail(format!("metadata item at byte {start} of {len} bytes"));
            }
            if !self.items.iter().any(|(i, _)| *i == item) {
                self.items.push((item, Region::new(start, 8)));
            }
        }
        if !self.items.iter().any(|(i, _)| *i == Item::VirtualDiskSize) {
            self.fail("no virtual disk size".into());
        }
    }

    /// The facts found so far. They are only ever added to, so an early
    /// refusal on them stands.
    pub(super) fn facts(&self, insp: &mut Inspection) {
        if let Some(problem) = &self.problem {
            insp.problem(problem.clone());
        }
        let has_parent_flag = |r: &Region| r.complete() && le32(&r.data, 4).unwrap_or(0) & 2 != 0;
        for (item, region) in &self.items {
            match item {
                Item::VirtualDiskSize => insp.virtual_size = le64(&region.data, 0),
                Item::FileParameters if has_parent_flag(region) => parent_found(insp),
                Item::FileParameters => {}
            }
        }
        if self.parent {
            parent_found(insp);
        }
    }

    /// The facts, once the data has ended: a region not read by then lies
    /// past its end.
    pub(super) fn finish(self, size: u64, insp: &mut Inspection) {
        self.facts(insp);
        let unread = self
            .table
            .iter()
            .chain(self.items.iter().map(|(_, r)| r))
            .find(|r| !r.complete());
        if let Some(r) = unread {
            insp.problem(format!(
                "{} bytes at byte {} lie past the end of the data ({size} bytes)",
                r.len, r.start
            ));
        }
    }

    /// The bytes held, for the memory bound.
    pub(super) fn held(&self) -> usize {
        let table = self.table.as_ref().map_or(0, |t| t.data.capacity());
        let items = self
            .items
            .iter()
            .map(|(_, r)| r.data.capacity())
            .sum::<usize>();
        table
            + items
            + self.items.capacity() * std::mem::size_of::<(Item, Region)>()
            + self.problem.as_ref().map_or(0, String::capacity)
    }
}
