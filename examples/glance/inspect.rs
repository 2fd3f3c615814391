//! `image-inspect FILE`: the downloads' format inspection, on a local file.

use glance_client::inspect::Policy;
use glance_client::{Config, inspect_file};
use serde_json::json;

use crate::Failure;
use crate::args::Values;
use crate::commands::{out, print_json};

/// Prints what the file is; exit 1 (one line on stderr) when it is not safe
/// to use as `--disk-format` (or, without it, not safe at all).
pub fn image_inspect(path: &str, o: &Values, config: &Config, json: bool) -> Result<(), Failure> {
    let claimed = o.one("--disk-format");
    let policy = Policy::new(config.vmdk_allowed_types.iter().cloned());
    let found = inspect_file(path, claimed, &policy)?;
    let i = &found.inspection;
    let reason = found.verdict.as_ref().err().map(|r| r.to_string());
    if json {
        print_json(&json!({
            "path": path,
            "format": i.format.name(),
            "virtual_size": i.virtual_size,
            "safe": found.is_safe(),
            "reason": reason,
        }))?;
    } else {
        let size = i
            .virtual_size
            .map_or_else(|| "unknown".to_string(), |s| format!("{s} bytes"));
        let verdict = match &reason {
            None => "safe".to_string(),
            Some(why) => format!("NOT safe: {why}"),
        };
        out(&format!(
            "{path}: {}, virtual size {size}, {verdict}\n",
            i.format
        ))?;
    }
    match reason {
        None => Ok(()),
        Some(why) => Err(Failure::Api(format!("{path}: {why}"))),
    }
}
