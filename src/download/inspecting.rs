//! Deep format inspection of a download, on the very buffers the hashes
//! see (no second read of the data): the [`crate::inspect`] inspector fed
//! in order, an early refusal as soon as no later byte can save the image,
//! and the verdict once the data is complete, before anything is published.

use crate::config::Config;
use crate::error::{Error, Result};
use crate::image::Image;
use crate::inspect::{Inspection, Inspector, Policy, Reason};

/// Whether and how a download is inspected
/// ([`DownloadOptions::inspect`](crate::DownloadOptions::inspect)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Inspect {
    /// As the client's [`Config`] says: on, with
    /// [`Config::vmdk_allowed_types`], unless
    /// [`Config::disable_deep_image_inspection`] (the default).
    #[default]
    AsConfigured,
    /// Not inspected: the report has no format (Nova's
    /// `disable_deep_image_inspection`). The data is still verified.
    Off,
    /// Inspected with this policy, whatever the configuration says.
    With(Policy),
}

/// What one download's data is inspected against.
#[derive(Debug, Clone)]
pub(crate) struct InspectPlan {
    image_id: String,
    /// The image's `disk_format`.
    claimed: Option<String>,
    policy: Policy,
}

impl InspectPlan {
    /// The plan for `image`, or `None` when inspection is off.
    pub(crate) fn new(image: &Image, inspect: &Inspect, config: &Config) -> Option<InspectPlan> {
        let policy = match inspect {
            Inspect::Off => return None,
            Inspect::AsConfigured if config.disable_deep_image_inspection => return None,
            Inspect::AsConfigured => Policy::new(config.vmdk_allowed_types.iter().cloned()),
            Inspect::With(policy) => policy.clone(),
        };
        Some(InspectPlan {
            image_id: image.id.clone(),
            claimed: image.disk_format.clone().filter(|f| !f.is_empty()),
            policy,
        })
    }

    fn refuse(&self, reason: Reason, inspection: Option<&Inspection>) -> Error {
        log::warn!("image {}: refused: {reason}", self.image_id);
        Error::UnsafeImage {
            image_id: self.image_id.clone(),
            format: reason.detected().or(inspection.map(|i| i.format)),
            reason,
        }
    }
}

/// The inspection of one pass over the data.
pub(crate) struct Inspecting {
    plan: InspectPlan,
    inspector: Inspector,
}

impl Inspecting {
    pub(crate) fn new(plan: &InspectPlan) -> Inspecting {
        Inspecting {
            plan: plan.clone(),
            inspector: Inspector::new(),
        }
    }

    /// Feeds the next bytes; an error as soon as the image is certain to be
    /// refused whatever follows.
    pub(crate) fn feed(&mut self, data: &[u8]) -> Result<()> {
        self.inspector.feed(data);
        let plan = &self.plan;
        match self
            .inspector
            .early_refusal(plan.claimed.as_deref(), &plan.policy)
        {
            Some(reason) => Err(plan.refuse(reason, None)),
            None => Ok(()),
        }
    }

    /// The data starts again from byte 0.
    pub(crate) fn reset(&mut self) {
        self.inspector = Inspector::new();
    }

    /// The inspection of the whole data, or the refusal.
    pub(crate) fn finish(self) -> Result<Inspection> {
        let inspection = self.inspector.finish();
        let plan = &self.plan;
        match inspection.verdict(plan.claimed.as_deref(), &plan.policy) {
            Ok(()) => Ok(inspection),
            Err(reason) => Err(plan.refuse(reason, Some(&inspection))),
        }
    }
}

/// What [`inspect_file`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FileInspection {
    /// The format, virtual size and the facts behind the verdict.
    pub inspection: Inspection,
    /// Whether the file is safe to hand to qemu as the claimed format:
    /// `Ok`, or why not.
    pub verdict: std::result::Result<(), Reason>,
}

impl FileInspection {
    /// Whether the verdict is `Ok`.
    pub fn is_safe(&self) -> bool {
        self.verdict.is_ok()
    }
}

/// Inspects a local file the way downloads are inspected: what format it
/// is, its virtual size, and whether it is safe to use as `claimed` (a
/// Glance `disk_format`, or `None` for the format-independent rules only)
/// under `policy`. The whole file is read once, sequentially.
///
/// ```no_run
/// use glance_client::inspect::Policy;
///
/// let found = glance_client::inspect_file("/var/tmp/disk.img", Some("qcow2"), &Policy::default())?;
/// println!("{} ({:?} bytes virtual): {:?}", found.inspection.format,
///          found.inspection.virtual_size, found.verdict);
/// # Ok::<(), glance_client::Error>(())
/// ```
pub fn inspect_file(
    path: impl AsRef<std::path::Path>,
    claimed: Option<&str>,
    policy: &Policy,
) -> Result<FileInspection> {
    use std::io::Read;
    let path = path.as_ref();
    let io = |e| Error::io(format!("reading {}", path.display()), e);
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut inspector = Inspector::new();
    let mut buffer = vec![0; super::verify::BUFFER];
    loop {
        match file.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => inspector.feed(&buffer[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(io(e)),
        }
    }
    let inspection = inspector.finish();
    let verdict = inspection.verdict(claimed, policy);
    Ok(FileInspection {
        inspection,
        verdict,
    })
}
