//! `image-download`: the verified, atomic download, with its report.

use std::ops::ControlFlow;
use std::path::PathBuf;

use glance_client::cache::CachedImage;
use glance_client::{
    Client, DownloadOptions, DownloadReport, DownloadSource, ImageCache, Inspect, SignatureCheck,
};
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
    let path = match o.one("--file") {
        None | Some("-") => return to_stdout(client, id, o, cache_dir, json),
        Some(path) => path,
    };
    let mut bar = Bar::new(o.flag("--progress"), "download", None);
    let options = DownloadOptions {
        progress: Some(Box::new(|done, total| {
            bar.update(done, total);
            ControlFlow::Continue(())
        })),
        ..options(client, o)?
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
            "signature": signature(&report).map(|_| "verified"),
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
    let signed = match signature(&report) {
        Some(how) => format!(", signature verified ({how})"),
        None => String::new(),
    };
    out(&format!(
        "downloaded {} to {shown_path} {from}, {verified}{signed}{format}{resumed}\n",
        bytes(report.bytes)
    ))
}

/// The download options of the flags (all but the progress bar).
fn options(client: &Client, o: &Values) -> Result<DownloadOptions<'static>, Failure> {
    Ok(DownloadOptions {
        allow_local: !o.flag("--no-local"),
        inspect: if o.flag("--no-inspect") {
            Inspect::Off
        } else {
            Inspect::AsConfigured
        },
        allow_md5_fallback: o.flag("--allow-md5-fallback")
            || std::env::var_os("OS_IMAGE_ALLOW_MD5_FALLBACK").is_some_and(|v| !v.is_empty()),
        prefer: o
            .one("--prefer")
            .map(|p| {
                p.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            })
            .unwrap_or_default(),
        signature: signature_check(client, o)?,
        ..DownloadOptions::default()
    })
}

/// `image-download ID` without `--file` (or with `--file -`): the data on
/// stdout, as glanceclient writes it, when stdout is not a terminal. It is
/// verified and inspected while it streams, but bytes written cannot be
/// taken back: a failed check is an error that says to discard them.
fn to_stdout(
    client: &Client,
    id: &str,
    o: &Values,
    cache_dir: Option<PathBuf>,
    json: bool,
) -> Result<(), Failure> {
    use std::io::{IsTerminal, Write};
    if std::io::stdout().is_terminal() {
        return Err(Failure::Usage(
            "No redirection or local file specified for downloaded image data. Please \
             specify a local file with --file to save downloaded image or redirect output \
             to another source."
                .into(),
        ));
    }
    if json {
        return Err(Failure::Usage(
            "--json needs --file: without it the image data goes to stdout".into(),
        ));
    }
    let mut bar = Bar::new(o.flag("--progress"), "download", None);
    let options = DownloadOptions {
        progress: Some(Box::new(|done, total| {
            bar.update(done, total);
            ControlFlow::Continue(())
        })),
        ..options(client, o)?
    };
    let mut stdout = std::io::stdout().lock();
    if let Some(dir) = cache_dir {
        // Verified into the cache first: nothing unverified reaches stdout.
        let cache = ImageCache::new(dir)?;
        let fetched = cache.fetch(client, id, options)?;
        let mut file = std::fs::File::open(&fetched.path)
            .map_err(|e| Failure::Api(format!("reading {}: {e}", fetched.path.display())))?;
        std::io::copy(&mut file, &mut stdout)
            .and_then(|_| stdout.flush())
            .map_err(|e| Failure::Api(format!("writing to stdout: {e}")))?;
        bar.finish();
        return Ok(());
    }
    let mut counted = Written {
        inner: &mut stdout,
        bytes: 0,
    };
    let result = client.download_to(id, &mut counted, options);
    let written = counted.bytes;
    let _ = stdout.flush();
    bar.finish();
    match result {
        Ok(_) => Ok(()),
        Err(e) if written > 0 => Err(Failure::Api(format!(
            "{}; the {written} bytes already written to stdout are NOT the verified image: \
             discard them",
            crate::error_message(&e)
        ))),
        Err(e) => Err(e.into()),
    }
}

/// Counts what reached the writer.
struct Written<'a, W> {
    inner: &'a mut W,
    bytes: u64,
}

impl<W: std::io::Write> std::io::Write for Written<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// `--verify-signature` and `--trusted-cert-dir`: the download's signature
/// check. Either one without the signatures feature is a usage error; a
/// directory without verification (asked here or by the configuration)
/// would be ignored, so it is one too.
#[cfg(not(feature = "signatures"))]
fn signature_check(_client: &Client, o: &Values) -> Result<SignatureCheck, Failure> {
    for flag in ["--verify-signature", "--trusted-cert-dir"] {
        if o.flag(flag) {
            return Err(Failure::Usage(format!(
                "{flag} needs glance built with the cargo feature `signatures` \
                 (cargo build --example glance --features signatures)"
            )));
        }
    }
    Ok(SignatureCheck::AsConfigured)
}

/// `--verify-signature` and `--trusted-cert-dir`: the download's signature
/// check: the configuration's policy (or, asked here, the default one:
/// certificates from Barbican, no chain validation), its certificates from
/// the directory when one is given.
#[cfg(feature = "signatures")]
fn signature_check(client: &Client, o: &Values) -> Result<SignatureCheck, Failure> {
    use glance_client::signature::{DirectorySource, Policy};
    let configured = client.config().signature_policy();
    let mut policy = match (o.flag("--verify-signature"), configured) {
        (_, Some(policy)) => policy,
        (true, None) => Policy::default(),
        (false, None) if o.flag("--trusted-cert-dir") => {
            return Err(Failure::Usage(
                "--trusted-cert-dir is only used with --verify-signature \
                 (or [glance] verify_glance_signatures)"
                    .into(),
            ));
        }
        (false, None) => return Ok(SignatureCheck::AsConfigured),
    };
    if let Some(dir) = o.one("--trusted-cert-dir") {
        if !std::path::Path::new(dir).is_dir() {
            return Err(Failure::Usage(format!(
                "--trusted-cert-dir {dir:?} is not a directory"
            )));
        }
        policy.source = Some(std::sync::Arc::new(DirectorySource::new(dir)));
    }
    Ok(SignatureCheck::Required(policy))
}

/// How the report's signature was verified, for the text output; `None`
/// when it was not.
#[cfg(feature = "signatures")]
fn signature(report: &DownloadReport) -> Option<String> {
    report.signature.as_ref().map(|s| {
        let chained = if s.certificate_validated {
            ", chained to a trusted certificate"
        } else {
            ""
        };
        format!(
            "{}, {}, certificate {}{chained}",
            s.key_type.name(),
            s.hash_method.name(),
            s.certificate_uuid
        )
    })
}

#[cfg(not(feature = "signatures"))]
fn signature(_: &DownloadReport) -> Option<String> {
    None
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
            "signature": cached_signature(cached).then_some("verified"),
        }));
    }
    let signed = if cached_signature(cached) {
        ", its signature verified when it was fetched"
    } else {
        ""
    };
    out(&format!(
        "checked out {} to {path} from the host image cache ({}){signed}\n",
        bytes(cached.bytes),
        cached.path.display()
    ))
}

/// Whether the cached image's signature was verified when it was fetched.
fn cached_signature(cached: &CachedImage) -> bool {
    #[cfg(feature = "signatures")]
    return cached.signature.is_some();
    #[cfg(not(feature = "signatures"))]
    {
        let _ = cached;
        false
    }
}

/// A size in text output: `512 bytes`, `1048589 bytes (1.0 MiB)`.
fn bytes(n: u64) -> String {
    if n < 1024 {
        format!("{n} bytes")
    } else {
        format!("{n} bytes ({})", human(n))
    }
}
