//! `host-cache-*`: the host image cache (this host's, not the Glance
//! server's own cache, which glanceclient's `cache-*` commands manage).

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use glance_client::cache::CleanPolicy;
use glance_client::{Client, DownloadOptions, ImageCache};
use serde_json::{Value, json};

use crate::Failure;
use crate::args::Values;
use crate::commands::{out, print_json};
use crate::progress::Bar;

/// The cache directory: `--cache-dir`, else the configuration's (nova.conf
/// `[DEFAULT] instances_path` and `[image_cache] subdirectory_name`).
pub fn dir(o: &Values, configured: Option<&PathBuf>) -> Result<PathBuf, Failure> {
    match (o.one("--cache-dir"), configured) {
        (Some(""), _) => Err(Failure::Usage("--cache-dir is empty".into())),
        (Some(dir), _) => Ok(PathBuf::from(dir)),
        (None, Some(dir)) => Ok(dir.clone()),
        (None, None) => Err(Failure::Usage(
            "no cache directory: pass --cache-dir, or a nova.conf --config-file".into(),
        )),
    }
}

fn open(dir: PathBuf) -> Result<ImageCache, Failure> {
    Ok(ImageCache::new(dir)?)
}

/// `host-cache-fetch ID...`: exit 1 when any image failed.
pub fn fetch(
    client: &Client,
    dir: PathBuf,
    ids: &[String],
    o: &Values,
    json: bool,
) -> Result<(), Failure> {
    let cache = open(dir)?;
    let mut results = Vec::new();
    let mut failed = 0;
    for id in ids {
        let mut bar = Bar::new(o.flag("--progress"), "fetch", None);
        let options = DownloadOptions {
            progress: Some(Box::new(|done, total| {
                bar.update(done, total);
                ControlFlow::Continue(())
            })),
            ..DownloadOptions::default()
        };
        let outcome = cache.fetch(client, id, options);
        bar.finish();
        match outcome {
            Ok(cached) => {
                if !json {
                    out(&format!(
                        "{id} {} {} ({} bytes)\n",
                        cached.status.name(),
                        cached.path.display(),
                        cached.bytes
                    ))?;
                }
                results.push(json!({
                    "id": id,
                    "path": cached.path.display().to_string(),
                    "bytes": cached.bytes,
                    "status": cached.status.name(),
                    "error": null,
                }));
            }
            Err(e) => {
                failed += 1;
                let message = crate::error_message(&e);
                eprintln!("glance: error: {id}: {}", crate::redact::text(&message));
                results.push(json!({
                    "id": id,
                    "path": null,
                    "bytes": null,
                    "status": "error",
                    "error": message,
                }));
            }
        }
    }
    if json {
        print_json(&Value::Array(results))?;
    }
    match failed {
        0 => Ok(()),
        n => Err(Failure::Api(format!("{n} of {} images failed", ids.len()))),
    }
}

/// `host-cache-list`.
pub fn list(dir: PathBuf, json: bool) -> Result<(), Failure> {
    let cache = open(dir)?;
    let entries = cache.entries()?;
    if json {
        return print_json(&Value::Array(
            entries
                .iter()
                .map(|e| {
                    json!({
                        "id": e.id,
                        "path": e.path.display().to_string(),
                        "bytes": e.bytes,
                        "last_used": rfc3339(e.last_used),
                        "in_use": e.in_use,
                    })
                })
                .collect(),
        ));
    }
    let mut text = String::new();
    for e in &entries {
        text.push_str(&format!(
            "{}  {:>12}  {}  {}\n",
            e.id,
            e.bytes,
            rfc3339(e.last_used),
            if e.in_use { "in use" } else { "unused" }
        ));
    }
    out(&text)
}

/// `host-cache-clean [--max-age SECONDS] [--max-size BYTES]`.
pub fn clean(
    dir: PathBuf,
    o: &Values,
    configured_age: Option<Duration>,
    json: bool,
) -> Result<(), Failure> {
    let cache = open(dir)?;
    let mut policy = CleanPolicy::new();
    match o.number::<u64>("--max-age")? {
        Some(secs) => policy = policy.max_age(Duration::from_secs(secs)),
        None => {
            if let Some(age) = configured_age {
                policy = policy.max_age(age);
            }
        }
    }
    if let Some(bytes) = o.number::<u64>("--max-size")? {
        policy = policy.max_size(bytes);
    }
    let report = cache.clean(&policy)?;
    if json {
        return print_json(&json!({
            "removed": report.removed,
            "freed": report.freed,
            "leftovers": report.leftovers.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        }));
    }
    let mut text = String::new();
    for id in &report.removed {
        text.push_str(&format!("removed {id}\n"));
    }
    for path in &report.leftovers {
        text.push_str(&format!("removed leftover {}\n", path.display()));
    }
    text.push_str(&format!("freed {} bytes\n", report.freed));
    out(&text)
}

/// `host-cache-verify`: exit 1 when an entry was removed.
pub fn verify(dir: PathBuf, json: bool) -> Result<(), Failure> {
    let cache = open(dir)?;
    let report = cache.verify()?;
    if json {
        print_json(&json!({ "checked": report.checked, "removed": report.removed }))?;
    } else {
        let mut text = format!("checked {} entries\n", report.checked);
        for id in &report.removed {
            text.push_str(&format!(
                "removed {id}: its data no longer matches its record\n"
            ));
        }
        out(&text)?;
    }
    match report.removed.len() {
        0 => Ok(()),
        n => Err(Failure::Api(format!(
            "{n} cached image{} did not match its record and {} removed",
            if n == 1 { "" } else { "s" },
            if n == 1 { "was" } else { "were" }
        ))),
    }
}

/// `2026-12-07T06:05:31Z`: the library's one timestamp module.
fn rfc3339(t: SystemTime) -> String {
    glance_client::wire::format_utc(t)
}
