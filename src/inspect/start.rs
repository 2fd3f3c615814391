//! The head window: the first [`HEAD_LEN`] bytes, where every format is
//! detected and every header lies (all but VHDX's deeper regions). It is
//! analysed once, when complete or when the data ends before, so that what
//! it finds does not depend on how the bytes were split.

use super::bytes::has;
use super::inspection::{Format, Inspection};
use super::{disk, qcow2, vdi, vhd, vhdx, vmdk};

/// 64.5 KiB: a VMDK descriptor of [`vmdk::DESC_CAP`] bytes at sector 1,
/// which also covers the ISO primary volume descriptor (32-34 KiB), a qcow2
/// first cluster of the default 64 KiB, and every other header.
pub(super) const HEAD_LEN: usize = 512 + vmdk::DESC_CAP;
const _: () = assert!(HEAD_LEN >= disk::ISO_END);

/// What can only be checked once the data has ended.
#[derive(Debug, Clone, Default)]
pub(super) struct Pending {
    /// Ends of structures the format reads, which must lie inside the data
    /// (a few per format).
    needs: Vec<(u64, &'static str)>,
    /// The header of a VMDK stream whose footer must be checked.
    pub(super) vmdk_footer: Option<vmdk::Header>,
}

impl Pending {
    /// The data must be at least `end` bytes long to hold `what`.
    pub(super) fn need(&mut self, end: u64, what: &'static str) {
        self.needs.push((end, what));
    }

    /// Notes the first structure past the end of `size` bytes of data.
    pub(super) fn check(&self, size: u64, insp: &mut Inspection) {
        if let Some((end, what)) = self.needs.iter().find(|(end, _)| *end > size) {
            insp.problem(format!(
                "{what} ends at byte {end}, past the end of the data ({size} bytes)"
            ));
        }
    }

    pub(super) fn held(&self) -> usize {
        self.needs.capacity() * std::mem::size_of::<(u64, &str)>()
    }
}

/// What the head window says: the format from the start of the data, its
/// facts, and what remains to check at the end.
#[derive(Debug, Clone)]
pub(super) struct Start {
    pub(super) insp: Inspection,
    pub(super) pending: Pending,
}

fn is_qed(head: &[u8]) -> bool {
    has(head, 0, b"QED\0")
}

fn is_luks(head: &[u8]) -> bool {
    has(head, 0, b"LUKS\xba\xbe")
}

/// Whether the head window shows a format's signature.
type Detector = fn(&[u8]) -> bool;

const DETECTORS: [(Format, Detector); 9] = [
    (Format::Qcow2, qcow2::detect),
    (Format::Vmdk, vmdk::detect),
    (Format::Vhd, vhd::detect),
    (Format::Vhdx, vhdx::detect),
    (Format::Vdi, vdi::detect),
    (Format::Qed, is_qed),
    (Format::Luks, is_luks),
    (Format::Iso, disk::is_iso),
    (Format::Gpt, disk::is_gpt),
];

/// Detects the format in `head` (the head window, or all the data when
/// shorter) and reads its header.
pub(super) fn analyse(head: &[u8]) -> Start {
    let mut matched: Vec<Format> = DETECTORS
        .iter()
        .filter(|(_, detect)| detect(head))
        .map(|(f, _)| *f)
        .collect();
    if matched.contains(&Format::Iso) {
        // An ISO that also boots as a disk: its GPT is its partition table.
        matched.retain(|f| *f != Format::Gpt);
    }
    let format = matched.first().copied().unwrap_or(Format::Raw);
    let mut insp = Inspection::new(format, 0);
    insp.also_detected = matched.get(1..).unwrap_or_default().to_vec();
    let mut pending = Pending::default();
    match format {
        Format::Qcow2 => qcow2::parse(head, &mut insp, &mut pending),
        Format::Vmdk => vmdk::parse(head, &mut insp, &mut pending),
        Format::Vhd => vhd::parse(head, &mut insp, &mut pending),
        Format::Vdi => vdi::parse(head, &mut insp, &mut pending),
        Format::Iso => insp.virtual_size = disk::iso_size(head),
        _ => {}
    }
    if matches!(format, Format::Raw | Format::Gpt | Format::Iso) {
        insp.partition_table = disk::partition_table(head);
    }
    Start { insp, pending }
}
