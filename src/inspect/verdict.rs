//! The rules, apart from the facts: a pure function from an [`Inspection`],
//! the image's claimed `disk_format` and a [`Policy`] to a verdict, and the
//! early answer the downloader asks while the data still streams.

use std::fmt;

use super::inspection::{ExternalFile, Format, Inspection};

/// What the operator allows, as nova.conf says it.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The VMDK `createType` values allowed (nova.conf `[compute]
    /// vmdk_allowed_types`); default `streamOptimized` and
    /// `monolithicSparse`. Empty refuses every VMDK. Compared ignoring ASCII
    /// case, as oslo.utils reads the descriptor.
    pub vmdk_allowed_types: Vec<String>,
}

impl Policy {
    /// A policy allowing these VMDK create types.
    pub fn new<S: Into<String>>(vmdk_allowed_types: impl IntoIterator<Item = S>) -> Self {
        Policy {
            vmdk_allowed_types: vmdk_allowed_types.into_iter().map(Into::into).collect(),
        }
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy::new(["streamOptimized", "monolithicSparse"])
    }
}

/// Why an image is refused, named by meaning.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reason {
    /// The claimed `disk_format` is not one this inspector can check (for
    /// example `ploop`), so the data cannot be shown to be what it claims.
    UnsupportedDiskFormat {
        /// The claimed `disk_format`.
        claimed: String,
    },
    /// The data is not the format the image claims.
    Mismatch {
        /// What the data is.
        detected: Format,
        /// The claimed `disk_format`.
        claimed: String,
    },
    /// Several formats' signatures match at once.
    Ambiguous {
        /// The formats, the reported one first.
        formats: Vec<Format>,
    },
    /// A format detected only to be refused (qed, luks).
    UnsupportedFormat {
        /// The format.
        format: Format,
    },
    /// The image reads through another file (a backing file or a parent).
    BackingFile {
        /// The image's format.
        format: Format,
        /// The other file's name, when the image names it.
        name: Option<String>,
    },
    /// A qcow2 with an external data file.
    DataFile {
        /// The data file's name, when read.
        name: Option<String>,
    },
    /// A qcow2 with incompatible features this crate does not know.
    UnknownFeatures {
        /// The unknown incompatible feature bits.
        bits: u64,
    },
    /// A VMDK whose `createType` is not allowed by the [`Policy`], or which
    /// has none.
    VmdkCreateType {
        /// The `createType`, when the descriptor has one.
        create_type: Option<String>,
    },
    /// A VMDK with an extent outside the image file.
    VmdkExtent {
        /// The extent's descriptor line, or why.
        extent: String,
    },
    /// A malformed or truncated image.
    Malformed {
        /// The image's format.
        format: Format,
        /// What is wrong.
        detail: String,
    },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::UnsupportedDiskFormat { claimed } => {
                write!(f, "disk_format {claimed:?} cannot be inspected")
            }
            Reason::Mismatch { detected, claimed } => {
                write!(f, "detected {detected} but the image says {claimed}")
            }
            Reason::Ambiguous { formats } => {
                let names: Vec<&str> = formats.iter().map(|f| f.name()).collect();
                write!(f, "ambiguous image: it is {} at once", names.join(" and "))
            }
            Reason::UnsupportedFormat { format } => write!(f, "{format} images are not supported"),
            Reason::BackingFile {
                format,
                name: Some(name),
            } => {
                write!(f, "{format} backing file {name:?}")
            }
            Reason::BackingFile { format, name: None } => match format {
                Format::Vhd | Format::Vhdx | Format::Vdi => {
                    write!(f, "{format} differencing image (it has a parent)")
                }
                _ => write!(f, "{format} backing file"),
            },
            Reason::DataFile { name: Some(name) } => write!(f, "qcow2 external data file {name:?}"),
            Reason::DataFile { name: None } => f.write_str("qcow2 external data file"),
            Reason::UnknownFeatures { bits } => {
                write!(f, "qcow2 unknown incompatible features {bits:#x}")
            }
            Reason::VmdkCreateType {
                create_type: Some(t),
            } => {
                write!(f, "vmdk createType {t:?} not allowed")
            }
            Reason::VmdkCreateType { create_type: None } => {
                f.write_str("vmdk without a createType")
            }
            Reason::VmdkExtent { extent } => write!(f, "vmdk extent outside the image: {extent}"),
            Reason::Malformed { format, detail } => write!(f, "malformed {format}: {detail}"),
        }
    }
}

impl std::error::Error for Reason {}

impl Reason {
    /// The format the data was found to be, when the reason tells.
    pub fn detected(&self) -> Option<Format> {
        match self {
            Reason::Mismatch { detected, .. } => Some(*detected),
            Reason::Ambiguous { formats } => formats.first().copied(),
            Reason::UnsupportedFormat { format }
            | Reason::BackingFile { format, .. }
            | Reason::Malformed { format, .. } => Some(*format),
            Reason::DataFile { .. } | Reason::UnknownFeatures { .. } => Some(Format::Qcow2),
            Reason::VmdkCreateType { .. } | Reason::VmdkExtent { .. } => Some(Format::Vmdk),
            Reason::UnsupportedDiskFormat { .. } => None,
        }
    }
}

/// The formats a claimed `disk_format` accepts, or `None` when this
/// inspector cannot check it. Nova (`nova/virt/images.py`,
/// `do_image_deep_inspection`) accepts the detected format equal to the
/// claim, a gpt disk under `raw`, an ISO with a partition table under `iso`
/// (`get_image_format`), and does not compare `ami`/`ari`/`aki` (qemu must
/// then read them as raw); here they are raw. A fixed VHD, found only by its
/// last 512 bytes, is accepted under `raw` too, because qemu probes formats
/// at the start only and reads it as raw.
fn accepts(claimed: &str, format: Format, vhd_fixed: bool) -> Option<bool> {
    Some(match claimed {
        "raw" | "ami" | "ari" | "aki" => {
            matches!(format, Format::Raw | Format::Gpt) || (format == Format::Vhd && vhd_fixed)
        }
        "qcow2" => format == Format::Qcow2,
        "vmdk" => format == Format::Vmdk,
        "vhd" => format == Format::Vhd,
        "vhdx" => format == Format::Vhdx,
        "vdi" => format == Format::Vdi,
        "iso" => format == Format::Iso,
        "gpt" => format == Format::Gpt,
        _ => return None,
    })
}

/// The refusal of a claimed `disk_format` this inspector cannot check,
/// whatever the data.
pub(super) fn unsupported_claim(claimed: Option<&str>) -> Option<Reason> {
    let claimed = claimed?;
    accepts(claimed, Format::Raw, false)
        .is_none()
        .then(|| Reason::UnsupportedDiskFormat {
            claimed: claimed.to_string(),
        })
}

/// The verdict on a finished inspection.
pub(super) fn judge(
    insp: &Inspection,
    claimed: Option<&str>,
    policy: &Policy,
) -> Result<(), Reason> {
    if let Some(reason) = unsupported_claim(claimed) {
        return Err(reason);
    }
    facts(insp, policy)?;
    match claimed {
        Some(claimed) if accepts(claimed, insp.format, insp.vhd_fixed) != Some(true) => {
            Err(Reason::Mismatch {
                detected: insp.format,
                claimed: claimed.to_string(),
            })
        }
        _ => Ok(()),
    }
}

/// The rules on the facts, which do not depend on the claimed format. Every
/// one refuses on the presence of a fact; facts are only ever added while
/// the data streams, which is what makes the early answer safe.
fn facts(insp: &Inspection, policy: &Policy) -> Result<(), Reason> {
    let format = insp.format;
    if !insp.also_detected.is_empty() {
        let mut formats = vec![format];
        formats.extend_from_slice(&insp.also_detected);
        return Err(Reason::Ambiguous { formats });
    }
    if matches!(format, Format::Qed | Format::Luks) {
        return Err(Reason::UnsupportedFormat { format });
    }
    let name = |f: &ExternalFile| f.name.clone();
    if let Some(backing) = &insp.backing_file {
        return Err(Reason::BackingFile {
            format,
            name: name(backing),
        });
    }
    if let Some(data) = &insp.data_file {
        return Err(Reason::DataFile { name: name(data) });
    }
    if insp.unknown_features != 0 {
        return Err(Reason::UnknownFeatures {
            bits: insp.unknown_features,
        });
    }
    if let (Format::Vmdk, Some(extent)) = (format, &insp.vmdk_extent) {
        return Err(Reason::VmdkExtent {
            extent: extent.clone(),
        });
    }
    if let Some(detail) = &insp.malformed {
        return Err(Reason::Malformed {
            format,
            detail: detail.clone(),
        });
    }
    if format == Format::Vmdk {
        vmdk_create_type(insp, policy)?;
    }
    Ok(())
}

fn vmdk_create_type(insp: &Inspection, policy: &Policy) -> Result<(), Reason> {
    let allowed = insp.vmdk_create_type.as_ref().is_some_and(|t| {
        policy
            .vmdk_allowed_types
            .iter()
            .any(|a| a.eq_ignore_ascii_case(t))
    });
    if !allowed {
        return Err(Reason::VmdkCreateType {
            create_type: insp.vmdk_create_type.clone(),
        });
    }
    Ok(())
}

/// The early answer on a provisional inspection (the facts found so far,
/// with the format read from the start of the data). `may_become_fixed_vhd`
/// says the footer in the last 512 bytes may still turn the format into a
/// fixed VHD. A refusal here is also the final verdict's: the claim check
/// does not depend on the data; every fact rule refuses on a fact's
/// presence and facts are only added; and the format can only still change
/// from raw or gpt to a fixed VHD, so a mismatch is answered only when
/// neither is accepted.
pub(super) fn early(
    provisional: &Inspection,
    may_become_fixed_vhd: bool,
    claimed: Option<&str>,
    policy: &Policy,
) -> Option<Reason> {
    let Err(reason) = judge(provisional, claimed, policy) else {
        return None;
    };
    if !matches!(reason, Reason::Mismatch { .. }) || !may_become_fixed_vhd {
        return Some(reason);
    }
    let fixed_vhd_accepted = claimed.and_then(|c| accepts(c, Format::Vhd, true)) == Some(true);
    (!fixed_vhd_accepted).then_some(reason)
}
