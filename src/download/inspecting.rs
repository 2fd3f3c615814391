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
