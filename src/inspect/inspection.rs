//! What the inspector reports: the detected [`Format`] and the facts the
//! safety rules judge ([`Inspection`]).

use std::fmt;

use super::verdict::{self, Policy, Reason};

/// A disk image format the inspector recognises, named as Glance names
/// `disk_format` values.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// No format recognised: the data is the disk itself.
    Raw,
    /// QEMU copy-on-write, version 2 or 3 (a version 1 `qcow` is reported as
    /// qcow2 and refused as unsupported).
    Qcow2,
    /// VMware: a sparse extent with its embedded descriptor (`KDMV`,
    /// monolithicSparse or streamOptimized), a VMware 3 `COWD` sparse file,
    /// or a plain-text descriptor file.
    Vmdk,
    /// Microsoft Virtual PC / Virtual Server (qemu's `vpc`): dynamic with the
    /// footer copy at the start, or fixed with the footer only at the end.
    Vhd,
    /// Microsoft Hyper-V VHDX.
    Vhdx,
    /// VirtualBox.
    Vdi,
    /// An ISO 9660 file system (a primary volume descriptor at 32 KiB).
    Iso,
    /// A whole disk with a GUID partition table (protective MBR and
    /// `EFI PART` header); qemu reads it as raw.
    Gpt,
    /// QEMU enhanced disk, detected only to be refused (as oslo.utils does).
    Qed,
    /// A LUKS encrypted volume, detected only to be refused: its content
    /// cannot be inspected.
    Luks,
}

impl Format {
    /// The name Glance and qemu-img users know: `raw`, `qcow2`, `vmdk`,
    /// `vhd`, `vhdx`, `vdi`, `iso`, `gpt`, `qed`, `luks`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Raw => "raw",
            Format::Qcow2 => "qcow2",
            Format::Vmdk => "vmdk",
            Format::Vhd => "vhd",
            Format::Vhdx => "vhdx",
            Format::Vdi => "vdi",
            Format::Iso => "iso",
            Format::Gpt => "gpt",
            Format::Qed => "qed",
            Format::Luks => "luks",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A partition table found at the start of a raw disk, an ISO (an
/// "isohybrid" ISO also boots as a disk) or a fixed VHD.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PartitionTable {
    /// A DOS master boot record with at least one partition.
    Mbr,
    /// A protective MBR and a GPT header.
    Gpt,
}

/// A file outside the image that the image refers to.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExternalFile {
    /// The name as the image spells it (at most 1023 bytes, invalid UTF-8
    /// replaced), when the image names it and the inspector read it:
    /// differencing VHD, VHDX and VDI images and a qcow2 whose name lies
    /// past the first 64 KiB have none here.
    pub name: Option<String>,
}

/// What [`Inspector::finish`](super::Inspector::finish) found: the format,
/// the virtual size and the facts the safety rules judge. The facts are
/// plain data; [`Inspection::verdict`] applies the rules to them.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Inspection {
    /// The detected format ([`Format::Raw`] when none matched). When several
    /// matched, the first of qcow2, vmdk, vhd, vhdx, vdi, qed, luks, iso, gpt;
    /// the others are in [`also_detected`](Self::also_detected).
    pub format: Format,
    /// The size of the disk the image holds, in bytes, as qemu reports it:
    /// from the header, or the bytes inspected for raw and gpt. `None` when
    /// the header does not say (or is malformed).
    pub virtual_size: Option<u64>,
    /// How many bytes were inspected.
    pub size: u64,
    /// Other formats whose signatures also matched: the image is ambiguous.
    /// An ISO's MBR or GPT is not one of them (see
    /// [`partition_table`](Self::partition_table)).
    pub also_detected: Vec<Format>,
    /// The partition table of a raw disk, a GPT disk, an ISO or a fixed VHD.
    pub partition_table: Option<PartitionTable>,
    /// A VHD found only by the footer in its last 512 bytes (a fixed disk):
    /// qemu probes formats at the start only, so it reads one as raw.
    pub vhd_fixed: bool,
    /// A file the image reads through: a qcow2 backing file, a VMDK
    /// `parentFileNameHint`, the parent of a differencing VHD, VHDX or VDI.
    pub backing_file: Option<ExternalFile>,
    /// A qcow2 external data file (incompatible feature bit 2).
    pub data_file: Option<ExternalFile>,
    /// qcow2 incompatible feature bits this crate does not know (bits 5 to
    /// 63), 0 when none.
    pub unknown_features: u64,
    /// A VMDK's `createType`, as its descriptor spells it (at most 64 bytes).
    pub vmdk_create_type: Option<String>,
    /// The first VMDK extent that is not inside the image file itself: its
    /// descriptor line (at most 200 bytes), or why (a descriptor file's
    /// extents are all other files).
    pub vmdk_extent: Option<String>,
    /// The first structural problem: a truncated header, an unsupported
    /// version, a region past the end of the data, an oversized or
    /// unreadable descriptor.
    pub malformed: Option<String>,
}

impl Inspection {
    pub(super) fn new(format: Format, size: u64) -> Self {
        Inspection {
            format,
            virtual_size: None,
            size,
            also_detected: Vec::new(),
            partition_table: None,
            vhd_fixed: false,
            backing_file: None,
            data_file: None,
            unknown_features: 0,
            vmdk_create_type: None,
            vmdk_extent: None,
            malformed: None,
        }
    }

    /// Whether the image may be used, as Nova's deep inspection decides:
    /// `claimed` is the image's `disk_format` (Glance's spelling), `None`
    /// when it has none, in which case only the rules that do not depend on
    /// it apply. See the [module documentation](super) for the rules.
    pub fn verdict(&self, claimed: Option<&str>, policy: &Policy) -> Result<(), Reason> {
        verdict::judge(self, claimed, policy)
    }

    /// Records a structural problem; the first one found is kept.
    pub(super) fn problem(&mut self, detail: impl Into<String>) {
        if self.malformed.is_none() {
            self.malformed = Some(detail.into());
        }
    }

    /// The bytes this inspection holds (its strings), for the memory bound.
    pub(super) fn held(&self) -> usize {
        let name = |f: &Option<ExternalFile>| {
            f.as_ref()
                .and_then(|f| f.name.as_ref())
                .map_or(0, String::capacity)
        };
        let text = |s: &Option<String>| s.as_ref().map_or(0, String::capacity);
        name(&self.backing_file)
            + name(&self.data_file)
            + text(&self.vmdk_create_type)
            + text(&self.vmdk_extent)
            + text(&self.malformed)
            + self.also_detected.capacity() * std::mem::size_of::<Format>()
    }
}
