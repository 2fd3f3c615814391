//! Disk image format inspection, sans-IO: what an image really is, and
//! whether it is safe to hand to qemu, decided from its bytes as they
//! stream, before anything is published.
//!
//! An image is a header that qemu obeys. A qcow2 can name a backing file
//! (`/etc/shadow`, another tenant's disk) or an external data file, a VMDK
//! descriptor can name extents that are other files, and an image whose
//! `disk_format` says `raw` but which is a qcow2 is opened as a qcow2 by
//! anything that lets qemu probe it (CVE-2022-47951, CVE-2024-32498). Nova,
//! Ironic and Glance refuse such images with oslo.utils' format inspector
//! (`nova/virt/images.py`, `do_image_deep_inspection`); this module applies
//! the same rules.
//!
//! ```
//! use glance_client::inspect::{Format, Inspector, Policy};
//!
//! let mut inspector = Inspector::new();
//! for chunk in [&b"some raw "[..], b"disk bytes"] {
//!     inspector.feed(chunk);
//!     // A download can stop here when no later bytes can save the image.
//!     assert!(inspector.early_refusal(Some("raw"), &Policy::default()).is_none());
//! }
//! let inspection = inspector.finish();
//! assert_eq!(inspection.format, Format::Raw);
//! assert_eq!(inspection.virtual_size, Some(19));
//! assert!(inspection.verdict(Some("raw"), &Policy::default()).is_ok());
//! assert!(inspection.verdict(Some("qcow2"), &Policy::default()).is_err());
//! ```
//!
//! # What is detected
//!
//! The formats of [`Format`], by their signatures where qemu probes them:
//! qcow2 (`QFI\xfb` at 0), vmdk (`KDMV` sparse extents with their embedded
//! descriptor, monolithicSparse or streamOptimized; `COWD`; and text that
//! qemu's probe takes for a descriptor file, such as qemu-img's
//! monolithicFlat `# Disk DescriptorFile`), vhd (the `conectix` footer copy
//! at 0 of a dynamic disk, or only in the last 512 bytes of a fixed one),
//! vhdx (`vhdxfile`), vdi (its signature at 0x40), iso (an ISO 9660 primary
//! volume descriptor at 32 KiB, with or without an MBR or GPT in front),
//! gpt (a protective MBR and an `EFI PART` header), and qed and luks, which
//! are only refused. Anything else is raw. The virtual size comes from the
//! header (raw and gpt: the bytes inspected), as qemu computes it.
//!
//! # What is refused, and why
//!
//! [`Inspection::verdict`] refuses, with a [`Reason`]:
//! - a claimed `disk_format` the inspector cannot check (`ploop`, anything
//!   unknown): the data cannot be shown to be what it claims;
//! - an image whose signatures match several formats at once (an ISO with
//!   an MBR or GPT is one ISO): tools would disagree on what it is;
//! - qed and luks images, which this crate does not inspect;
//! - a backing file or parent: a qcow2 backing file, a VMDK
//!   `parentFileNameHint` (qemu opens it), and differencing VHD, VHDX and
//!   VDI images (qemu does not follow their parents, but other tools do:
//!   refused as defence in depth);
//! - a qcow2 external data file, and qcow2 incompatible features beyond the
//!   five qcow2.txt documents (dirty, corrupt, external data file,
//!   compression type, extended L2 entries);
//! - a VMDK extent outside the image file: any extent of a text descriptor
//!   file, and in a sparse file any extent but its one `SPARSE` file (and
//!   `ZERO` extents);
//! - a VMDK whose `createType` the [`Policy`] does not allow (default
//!   streamOptimized and monolithicSparse, as nova.conf `[compute]
//!   vmdk_allowed_types`), or which has none;
//! - a malformed image: truncated headers, unsupported versions, structures
//!   past the end of the data, descriptors over 64 KiB, inconsistent
//!   headers and footers;
//! - a detected format other than the claimed one. As in Nova, a gpt disk
//!   is accepted under `raw` and an ISO with or without a partition table
//!   under `iso` (an ISO under `raw` is refused); `ami`, `ari` and `aki`
//!   are checked as `raw`; and a fixed VHD is accepted under `raw` too,
//!   because qemu probes formats at the start only and reads it as raw.
//!
//! Without a claimed format, every rule but the first and the last applies.
//!
//! # Memory and cost
//!
//! The inspector keeps the first 64.5 KiB (the head window, where every
//! format is detected and every header read), then releases it; the last
//! 1536 bytes (a VHD footer, a VMDK stream footer); for a VHDX, one 64 KiB
//! table at a time; and the facts' strings, each capped (names at 1023
//! bytes). [`Inspector::held_bytes`] never exceeds
//! [`Inspector::MAX_HELD_BYTES`]. No offset or size read from an image
//! allocates or loops: a region past the end of the data is a refusal.
//!
//! Once the head window has passed, a feed copies at most 1536 bytes into
//! the tail ring (and, for a VHDX, the table bytes it carries): no loop over
//! the buffer, so inspecting a raw image costs one small copy per buffer.

mod bytes;
mod disk;
mod inspection;
mod inspector;
mod qcow2;
mod start;
mod vdi;
mod verdict;
mod vhd;
mod vhdx;
mod vmdk;
mod vmdk_desc;

pub use inspection::{ExternalFile, Format, Inspection, PartitionTable};
pub use inspector::Inspector;
pub use verdict::{Policy, Reason};

#[cfg(test)]
mod tests;
