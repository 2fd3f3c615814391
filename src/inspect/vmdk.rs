//! VMDK (qemu `block/vmdk.c`): a sparse extent (`KDMV` header, its
//! descriptor at sector 1), a VMware 3 `COWD` sparse file, or a plain-text
//! descriptor file whose extents are other files. The descriptor and the
//! bytes qemu scans for a parent lie in the head window; a stream footer
//! (`gd_offset` = all ones) is checked in the tail when the data ends.

use super::bytes::{has, le16, le32, le64, slice, until_nul};
use super::inspection::{ExternalFile, Inspection};
use super::start::Pending;
use super::vmdk_desc::{self, Descriptor};

/// The most descriptor text read: a longer descriptor is refused, never
/// buffered (qemu reads up to 1 MiB; qemu-img writes 10 KiB, mostly NULs).
pub(super) const DESC_CAP: usize = 64 * 1024;
/// Where the embedded descriptor starts (sector 1), as oslo.utils requires.
const DESC_AT: usize = 512;
/// qemu reads the parent name from this many bytes at 0x200 of a sparse
/// file, and at 0 of a descriptor file (`DESC_SIZE`).
const PARENT_SCAN: usize = 20 * 512;
/// `gd_offset` of a stream whose footer holds the real header.
const GD_AT_END: u64 = u64::MAX;

/// Whether the data is a VMDK as qemu probes it: a sparse magic, or text
/// that qemu's probe takes for a descriptor (in its first 2048 bytes).
pub(super) fn detect(head: &[u8]) -> bool {
    has(head, 0, b"KDMV")
        || has(head, 0, b"COWD")
        || vmdk_desc::probe_text(head.get(..2048).unwrap_or(head))
}

/// Facts from a VMDK that [`detect`] matched.
pub(super) fn parse(head: &[u8], insp: &mut Inspection, pending: &mut Pending) {
    if has(head, 0, b"KDMV") {
        sparse(head, insp, pending);
    } else if has(head, 0, b"COWD") {
        parent(head.get(DESC_AT..).unwrap_or_default(), insp);
        insp.problem("VMware 3 (COWD) sparse files are not supported");
    } else {
        descriptor_file(head, insp);
    }
}

/// The header fields the stream footer must repeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Header {
    version: u32,
    capacity: u64,
    desc_offset: u64,
    desc_size: u64,
    gd_offset: u64,
    grain_offset: u64,
    compress: u16,
}

fn header(b: &[u8]) -> Option<Header> {
    Some(Header {
        version: le32(b, 4)?,
        capacity: le64(b, 12)?,
        desc_offset: le64(b, 28)?,
        desc_size: le64(b, 36)?,
        gd_offset: le64(b, 56)?,
        grain_offset: le64(b, 64)?,
        compress: le16(b, 77)?,
    })
}

fn sparse(head: &[u8], insp: &mut Inspection, pending: &mut Pending) {
    parent(head.get(DESC_AT..).unwrap_or_default(), insp);
    let Some(h) = header(head) else {
        return insp.problem("header truncated");
    };
    insp.virtual_size = h.capacity.checked_mul(512);
    if !(1..=3).contains(&h.version) {
        insp.problem(format!("unsupported version {}", h.version));
    }
    if h.desc_offset != 1 {
        return insp.problem(format!("descriptor at sector {}, not 1", h.desc_offset));
    }
    let desc = embedded_descriptor(head, h.desc_size, insp);
    if let Some(problem) = &desc.problem {
        insp.problem(problem.clone());
    }
    insp.vmdk_create_type = desc.create_type.clone();
    if h.capacity == 0 {
        // qemu reads such a header's descriptor as a descriptor file and
        // opens every extent it names.
        let what = desc.first_extent.clone();
        insp.vmdk_extent = Some(what.unwrap_or_else(|| "capacity 0 (a descriptor file)".into()));
    } else {
        insp.vmdk_extent = desc.outside.clone();
        if desc.first_extent.is_none() {
            insp.problem("descriptor has no extents");
        }
    }
    agrees_with_header(insp, h.compress);
    match h.grain_offset.checked_mul(512) {
        Some(end) => pending.need(end, "the grains"),
        None => insp.problem("grain offset out of range"),
    }
    if h.gd_offset == GD_AT_END {
        pending.vmdk_footer = Some(h);
    }
}

/// The descriptor at sector 1, `desc_size` sectors, at most [`DESC_CAP`]
/// bytes of it read; its text ends at the first NUL.
fn embedded_descriptor(head: &[u8], desc_size: u64, insp: &mut Inspection) -> Descriptor {
    let declared = desc_size.saturating_mul(512);
    let read = usize::try_from(declared).map_or(DESC_CAP, |d| d.min(DESC_CAP));
    let region = slice(head, DESC_AT, read)
        .or_else(|| head.get(DESC_AT..))
        .unwrap_or_default();
    let (text, ended) = until_nul(region);
    if !ended && declared > DESC_CAP as u64 {
        insp.problem(format!("descriptor larger than {} KiB", DESC_CAP / 1024));
    } else if !ended && region.len() < read {
        insp.problem("descriptor runs past the end of the data");
    }
    vmdk_desc::parse(text)
}

/// qemu names a sparse file `streamOptimized` when its grains are
/// compressed and `monolithicSparse` otherwise, whatever the descriptor
/// says; Nova checks qemu's name against `vmdk_allowed_types` and oslo.utils
/// the descriptor's. Both agree here, or the image is malformed.
fn agrees_with_header(insp: &mut Inspection, compress: u16) {
    let qemu = if compress == 1 {
        "streamOptimized"
    } else {
        "monolithicSparse"
    };
    if let Some(t) = &insp.vmdk_create_type
        && !t.eq_ignore_ascii_case(qemu)
    {
        let detail = format!("createType {t:?} disagrees with the header (qemu reads {qemu})");
        insp.problem(detail);
    }
}

/// A text descriptor file: all of its extents are other files.
fn descriptor_file(head: &[u8], insp: &mut Inspection) {
    let (text, ended) = until_nul(head.get(..DESC_CAP).unwrap_or(head));
    if !ended && head.len() > DESC_CAP {
        insp.problem(format!("descriptor larger than {} KiB", DESC_CAP / 1024));
    }
    parent(head, insp);
    let desc = vmdk_desc::parse(text);
    insp.virtual_size = desc.sectors.and_then(|s| s.checked_mul(512));
    insp.vmdk_create_type = desc.create_type;
    let what = desc
        .first_extent
        .unwrap_or_else(|| "a descriptor file without extents".into());
    insp.vmdk_extent = Some(what);
    if let Some(problem) = desc.problem {
        insp.problem(problem);
    }
}

/// The parent qemu would open: `parentFileNameHint` in the first
/// [`PARENT_SCAN`] bytes of `from`, up to their first NUL.
fn parent(from: &[u8], insp: &mut Inspection) {
    let (scan, _) = until_nul(from.get(..PARENT_SCAN).unwrap_or(from));
    if let Some(name) = vmdk_desc::parent_hint(scan) {
        insp.backing_file = Some(ExternalFile { name });
    }
}

/// The stream footer (the last 1536 bytes: footer marker, footer, end of
/// stream marker), which qemu reads instead of the header when `gd_offset`
/// is all ones. It must be valid and describe the same descriptor.
pub(super) fn check_footer(h: Header, tail: Option<&[u8]>, insp: &mut Inspection) {
    let Some(tail) = tail else {
        return insp.problem("stream footer missing");
    };
    let footer = tail
        .get(512..1024)
        .filter(|f| has(f, 0, b"KDMV"))
        .and_then(header);
    let marker_ok = le32(tail, 8) == Some(0) && le32(tail, 12) == Some(3);
    let eos_ok =
        le64(tail, 1024) == Some(0) && le32(tail, 1032) == Some(0) && le32(tail, 1036) == Some(0);
    let Some(f) = footer.filter(|_| marker_ok && eos_ok) else {
        return insp.problem("invalid stream footer");
    };
    insp.virtual_size = f.capacity.checked_mul(512);
    let same = (f.version, f.desc_offset, f.desc_size, f.compress)
        == (h.version, h.desc_offset, h.desc_size, h.compress);
    if !same || f.gd_offset == GD_AT_END {
        insp.problem("stream footer disagrees with the header");
    }
}
