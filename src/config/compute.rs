//! The compute host's own options that shape what a download may publish and
//! where images are kept: Nova's deep image inspection switches and its
//! image cache directory.

use std::path::PathBuf;
use std::time::Duration;

use super::Config;
use super::ini::Ini;
use super::nova::{deprecated, renamed};
use super::values::Reader;
use crate::error::Result;

/// Nova's `state_path` default, which `instances_path` builds on.
const STATE_PATH: &str = "/var/lib/nova";

/// Nova's defaults the options below refer to (`$state_path`), set before
/// reading, without a warning when used.
pub(super) fn set_defaults(ini: &mut Ini) {
    ini.set_quiet_default("DEFAULT", "state_path", STATE_PATH);
}

/// `[workarounds] disable_deep_image_inspection` and `[compute]
/// vmdk_allowed_types`.
pub(super) fn image_safety(r: &mut Reader<'_>, config: &mut Config) -> Result<()> {
    if let Some(v) = r.get("workarounds", "disable_deep_image_inspection")? {
        config.disable_deep_image_inspection = v.boolean()?;
        if config.disable_deep_image_inspection {
            let message = "[workarounds] disable_deep_image_inspection = True: downloads \
                 are not inspected, so a qcow2 with a backing file or an image whose \
                 format differs from its disk_format is published as is";
            r.warn(&v.at, message);
        }
    }
    if let Some(v) = r.get("compute", "vmdk_allowed_types")? {
        config.vmdk_allowed_types = v.list();
    }
    Ok(())
}

/// The host image cache: `[DEFAULT] instances_path` + `[image_cache]
/// subdirectory_name` (old name `[DEFAULT] image_cache_subdirectory_name`),
/// and `[image_cache] remove_unused_original_minimum_age_seconds` (old
/// name in `[DEFAULT]`) unless `remove_unused_base_images` is off.
pub(super) fn image_cache(r: &mut Reader<'_>, config: &mut Config) -> Result<()> {
    let instances = match r.get("DEFAULT", "instances_path")? {
        Some(v) => v.string().map(PathBuf::from),
        None => None,
    };
    let instances = match instances {
        Some(path) => path,
        None => {
            let state = r.get("DEFAULT", "state_path")?.and_then(|v| v.string());
            PathBuf::from(state.unwrap_or_else(|| STATE_PATH.into())).join("instances")
        }
    };
    let subdirectory = match renamed(
        r,
        ("image_cache", "subdirectory_name"),
        ("DEFAULT", "image_cache_subdirectory_name"),
    )? {
        Some((v, old)) => {
            let name = v.string().unwrap_or_else(|| "_base".into());
            if old {
                deprecated(r, &v, "image_cache", &format!("subdirectory_name = {name}"));
            }
            name
        }
        None => "_base".into(),
    };
    config.image_cache_dir = Some(instances.join(subdirectory));
    config.image_cache_max_age = max_age(r)?;
    Ok(())
}

fn max_age(r: &mut Reader<'_>) -> Result<Option<Duration>> {
    let remove = match renamed(
        r,
        ("image_cache", "remove_unused_base_images"),
        ("DEFAULT", "remove_unused_base_images"),
    )? {
        Some((v, old)) => {
            let on = v.boolean()?;
            if old {
                let line = format!("remove_unused_base_images = {on}");
                deprecated(r, &v, "image_cache", &line);
            }
            on
        }
        None => true,
    };
    let key = "remove_unused_original_minimum_age_seconds";
    let seconds = match renamed(r, ("image_cache", key), ("DEFAULT", key))? {
        Some((v, old)) => {
            let n = v
                .integer_in(0, i64::MAX, "a number of seconds, 0 or more")?
                .unwrap_or(86_400);
            if old {
                deprecated(r, &v, "image_cache", &format!("{key} = {n}"));
            }
            n
        }
        None => 86_400,
    };
    Ok(remove.then(|| Duration::from_secs(seconds.unsigned_abs())))
}
