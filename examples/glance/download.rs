//! `image-download`: the verified, atomic download, with its report.

use std::ops::ControlFlow;
use std::path::PathBuf;

use glance_client::cache::CachedImage;
use glance_client::{Client, DownloadOptions, DownloadSource, ImageCache, Inspect};
use serde_json::json;

use crate::Failure;
use crate::args::Values;
use crate::commands::{out, print_json};
use crate::progress::{Bar, human};

pub fn image_download(
    client: &Client,
    id: &str,
    o: &Values,
    cache_dir: Option<PathBuf>,
    json: bool,
) -> Result<(), Failure> {
    let path = o.one("--file").unwrap_or_default();
    let mut bar = Bar::new(o.flag("--progress"), "download", None);
    let options = DownloadOptions {
        progress: Some(Box::new(|done, total| {
            bar.update(done, total);
            ControlFlow::Continue(())
        })),
        allow_local: !o.flag("--no-local"),
        inspect: if o.flag("--no-inspect") {
            Inspect::Off
        } else {
            Inspect::AsConfigured
        },
        ..DownloadOptions::default()
    };
    let report = match cache_dir {
        Some(dir) => {
            let cache = ImageCache::new(dir)?;
            let fetched = cache.fetch(client, id, options)?;
            cache.checkout(id, path)?;
            match fetched.download {
                Some(report) => report,
                None => {
                    bar.finish();
                    return cached_report(path, &fetched, json);
                }
            }
        }
        None => client.download(id, path, options)?,
    };
    bar.finish();
    // The destination as given (report.path is the cache's file for a fetch).
    let shown_path = path.to_string();
    let (source, from) = match &report.source {
        DownloadSource::Http { server } => (
            "http",
            format!("over HTTP from {}", crate::redact::text(server)),
        ),
        DownloadSource::Local { path } => (
            "local",
            format!("from the local file store copy {}", path.display()),
        ),
        _ => ("other", "from another source".to_string()),
    };
    if source == "http" {
        for refusal in &report.local_refusals {
            eprintln!(
                "glance: note: local copy not used: {}",
                crate::redact::text(&refusal.to_string())
            );
        }
    }
    if json {
        return print_json(&json!({
            "path": shown_path,
            "bytes": report.bytes,
            "source": source,
            "verified": report.verified.first(),
            "format": report.format.map(|f| f.name()),
            "virtual_size": report.virtual_size,
        }));
    }
    let verified = match report.verified.as_slice() {
        [] => "not verified: the image has no checksum".to_string(),
        algorithms => format!("verified with {}", algorithms.join(" and ")),
    };
    let resumed = match report.resumes {
        0 => String::new(),
        1 => ", resumed once".to_string(),
        n => format!(", resumed {n} times"),
    };
    let format = match report.format {
        Some(format) => format!(", {format}"),
        None => ", format not inspected".to_string(),
    };
    out(&format!(
        "downloaded {} to {shown_path} {from}, {verified}{format}{resumed}\n",
        bytes(report.bytes)
    ))
}

/// The report of an image the host cache already held: checked out, no
/// data moved.
fn cached_report(path: &str, cached: &CachedImage, json: bool) -> Result<(), Failure> {
    if json {
        return print_json(&json!({
            "path": path,
            "bytes": cached.bytes,
            "source": "cache",
            "verified": null,
            "format": cached.format,
            "virtual_size": cached.virtual_size,
        }));
    }
    out(&format!(
        "checked out {} to {path} from the host image cache ({})\n",
        bytes(cached.bytes),
        cached.path.display()
    ))
}

/// A size in text output: `512 bytes`, `1048589 bytes (1.0 MiB)`.
fn bytes(n: u64) -> String {
    if n < 1024 {
        format!("{n} bytes")
    } else {
        format!("{n} bytes ({})", human(n))
    }
}
