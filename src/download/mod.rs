//! The verified downloader: [`Client::download`] to a file and
//! [`Client::download_to`] into any writer.
//!
//! A download to a file goes, in order:
//! 1. the destination is checked and a temporary file is created beside it
//!    (`staged`), before any request;
//! 2. the image record is read (`GET /v2/images/{id}`, v1 `HEAD`) for its
//!    size and checksums, and the checks are chosen (`verify`); when the
//!    image's signature must be verified (`signing`, feature `signatures`),
//!    its certificate is fetched and checked now, before any data;
//! 3. when allowed, and the image has a checksum to verify a copy with,
//!    each `file://` location that maps to a local mount is tried (`local`):
//!    copied by the kernel, read back, verified; any refusal or failure is
//!    logged and the next source is tried;
//! 4. otherwise the data comes over HTTP (`http`), verified while it streams,
//!    resumed with `Range` when the connection breaks off;
//! 5. once the data is complete its checksums are compared, its signature
//!    verified and its format judged; only then is the file fsynced,
//!    renamed over the destination and the directory fsynced. Every failure
//!    before that removes the temporary file and leaves an existing
//!    destination untouched.

mod http;
mod inspecting;
mod local;
mod location;
mod scope;
mod signing;
mod staged;
pub(crate) mod verify;

pub use inspecting::{FileInspection, Inspect, inspect_file};
pub use signing::SignatureCheck;
pub(crate) use signing::required as signature_required;
pub(crate) use staged::Staged;

use std::fmt;
use std::io::Write;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::call::Cancel;
use crate::client::Client;
use crate::config::{ApiVersion, Config};
use crate::error::{Error, Result};
use crate::image::Image;
use inspecting::InspectPlan;

pub use crate::call::ProgressFn;

/// How a download behaves. `Default` is what most callers want: fsync,
/// local copies allowed (when the configuration maps a file store and the
/// image has a checksum), images without a checksum accepted over HTTP as
/// unverified, up to 5 resumes, deep format inspection as the configuration
/// says (on unless Nova's `disable_deep_image_inspection`).
///
/// ```
/// use std::ops::ControlFlow;
/// use glance_client::DownloadOptions;
///
/// let options = DownloadOptions {
///     progress: Some(Box::new(|done, total| {
///         eprintln!("{done} of {total:?} bytes");
///         ControlFlow::Continue(())
///     })),
///     require_checksum: true,
///     ..DownloadOptions::default()
/// };
/// # let _ = options;
/// ```
pub struct DownloadOptions<'a> {
    /// Called after each piece of data with the bytes done and the total,
    /// when known; returning `ControlFlow::Break(())` stops the download
    /// with [`Error::Cancelled`](crate::Error::Cancelled) (nothing is published).
    ///
    /// The count may start again from 0 within one download: when a local
    /// copy fails and HTTP is used, and when a server ignores `Range` on a
    /// resume so that a file download starts over. (Into a writer,
    /// [`Client::download_to`], it only grows: the bytes already written
    /// are skipped, not counted again.)
    pub progress: Option<ProgressFn<'a>>,
    /// fsync the file before the rename and the directory after it (default
    /// `true`). Without it a crash soon after may leave an empty or missing file.
    /// A failure to fsync the directory is logged at `warn` and the download
    /// still succeeds: the destination already is the new, verified file,
    /// only a crash right after might undo the rename.
    pub fsync: bool,
    /// Copy from a locally mounted file store when the image's locations
    /// allow it (default `true`; it also needs `file` in
    /// [`Config::allowed_direct_url_schemes`](crate::Config::allowed_direct_url_schemes)).
    /// An image without a checksum (`os_hash_value` or `checksum`) is never
    /// copied locally, whatever this says: nothing could tell the file from
    /// the image. It comes over HTTP, where the answer's `Content-MD5` may
    /// still verify it.
    pub allow_local: bool,
    /// Fail with [`Error::NoChecksum`](crate::Error::NoChecksum) rather than
    /// accept data nothing can verify (default `false`: such a download is
    /// reported with an empty [`DownloadReport::verified`]).
    pub require_checksum: bool,
    /// When the image's `os_hash_algo` is one this crate cannot compute,
    /// verify its MD5 `checksum` instead of failing with
    /// [`Error::UnsupportedChecksum`](crate::Error::UnsupportedChecksum) (default `false`).
    pub allow_md5_fallback: bool,
    /// Verify every checksum the image carries (the secure hash and MD5),
    /// not only the strongest (default `false`; each extra hash costs a core's worth
    /// of throughput on a fast link).
    pub verify_all: bool,
    /// How many times a body that breaks off is resumed (default 5). Each
    /// request for the rest counts, including one whose answer is refused
    /// (a `206` with an unparsable or misplaced `Content-Range`); the next
    /// attempt goes to the next server.
    pub max_resumes: u32,
    /// Deep format inspection of the data, on the buffers the hashes see
    /// (default [`Inspect::AsConfigured`]: on, unless
    /// [`Config::disable_deep_image_inspection`]). An image that is unsafe
    /// (a qcow2 backing or data file, a VMDK reaching other files, ...) or
    /// not the format its `disk_format` claims fails with
    /// [`Error::UnsafeImage`](crate::Error::UnsafeImage), as soon as that is
    /// certain, and nothing is published; see [`crate::inspect`].
    pub inspect: Inspect,
    /// Stops the download when triggered from another thread: it ends
    /// with [`Error::Cancelled`](crate::Error::Cancelled) and publishes
    /// nothing (default `None`). A [`Client::with`] view's
    /// [`CallOptions::cancel`](crate::CallOptions::cancel) stops it too.
    pub cancel: Option<Cancel>,
    /// The download must be over by then, its record, local copy, resumes
    /// and every read included: past it, it ends with
    /// [`Error::DeadlineExceeded`](crate::Error::DeadlineExceeded) naming
    /// this deadline, and publishes nothing (default `None`). With a view's
    /// [`CallOptions::deadline`](crate::CallOptions::deadline) the sooner
    /// applies. ([`Config::call_timeout`](crate::Config::call_timeout)
    /// bounds only the request for the image record.)
    pub deadline: Option<Instant>,
    /// Stores for Glance to try first, in this order (`?prefer=` on each
    /// request for the data; Glance 2026.1 falls back to the others, and an
    /// older one ignores it). Default empty: the server's choice. v1
    /// ignores it too.
    pub prefer: Vec<String>,
    /// Image signature verification (default [`SignatureCheck::AsConfigured`]:
    /// required when the configuration asks for it, with cargo feature
    /// `signatures`). A required verification fetches and checks the
    /// signing certificate before any data is read, computes the
    /// signature's digest in the same pass as the checksum, and verifies
    /// it before anything is published; any failure is
    /// `Error::Signature`, an unsigned image included, and nothing is
    /// published. [`DownloadReport`]'s `signature` says what was verified.
    pub signature: SignatureCheck,
}

impl Default for DownloadOptions<'_> {
    fn default() -> Self {
        DownloadOptions {
            progress: None,
            fsync: true,
            allow_local: true,
            require_checksum: false,
            allow_md5_fallback: false,
            verify_all: false,
            max_resumes: 5,
            inspect: Inspect::default(),
            cancel: None,
            deadline: None,
            prefer: Vec::new(),
            signature: SignatureCheck::default(),
        }
    }
}

impl fmt::Debug for DownloadOptions<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DownloadOptions")
            .field("progress", &self.progress.as_ref().map(|_| "callback"))
            .field("fsync", &self.fsync)
            .field("allow_local", &self.allow_local)
            .field("require_checksum", &self.require_checksum)
            .field("allow_md5_fallback", &self.allow_md5_fallback)
            .field("verify_all", &self.verify_all)
            .field("max_resumes", &self.max_resumes)
            .field("inspect", &self.inspect)
            .field("cancel", &self.cancel)
            .field("deadline", &self.deadline)
            .field("prefer", &self.prefer)
            .field("signature", &self.signature)
            .finish()
    }
}

/// Where the data of a download came from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DownloadSource {
    /// Over HTTP; `server` is the api server that sent the last bytes.
    Http {
        /// Base URL of the server.
        server: String,
    },
    /// Copied from a locally mounted file store.
    Local {
        /// The file read, after resolving symlinks.
        path: PathBuf,
    },
}

/// What a finished download did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DownloadReport {
    /// The file written ([`Client::download`]); `None` for [`Client::download_to`].
    pub path: Option<PathBuf>,
    /// Bytes of image data delivered.
    pub bytes: u64,
    /// Where the data came from.
    pub source: DownloadSource,
    /// The algorithms the data was verified with, strongest first
    /// (`sha512`, `md5`, ...); empty when the image had no checksum.
    pub verified: Vec<&'static str>,
    /// How many times the rest of the HTTP body was asked for after it
    /// broke off (answers refused as unusable included).
    pub resumes: u32,
    /// Why each local location that was considered was not used (also
    /// logged at `info`); empty when none was tried or the first one served.
    pub local_refusals: Vec<String>,
    /// The format the data was found to be (Glance's spelling: `raw`,
    /// `qcow2`, ...; a GPT disk is `gpt`); `None` when inspection was off.
    pub format: Option<crate::inspect::Format>,
    /// The virtual disk size the format declares (the data size for raw);
    /// `None` when inspection was off or the format does not say.
    pub virtual_size: Option<u64>,
    /// How the image's signature was verified; `None` when verification
    /// was not required ([`DownloadOptions::signature`]). (Cargo feature
    /// `signatures`.)
    #[cfg(feature = "signatures")]
    pub signature: Option<crate::signature::Verified>,
}

/// The caller's progress callback, if any.
pub(crate) struct Progress<'a>(pub(crate) Option<ProgressFn<'a>>);

impl Progress<'_> {
    pub(crate) fn report(&mut self, done: u64, total: Option<u64>) -> ControlFlow<()> {
        match &mut self.0 {
            Some(callback) => callback(done, total),
            None => ControlFlow::Continue(()),
        }
    }
}

impl Client {
    /// Downloads an image to `dest`, verified and atomically.
    ///
    /// The data is written to a temporary file beside `dest`, verified
    /// while it arrives (the image's `os_hash_value` when its algorithm is
    /// sha256, sha384 or sha512, else its MD5 `checksum`, else the answer's
    /// `Content-MD5`), its size checked, then renamed over `dest`. On any
    /// error the temporary file is removed and an existing `dest` is left
    /// as it was. A body that breaks off is resumed with `Range` (see
    /// [`DownloadOptions::max_resumes`]). When the configuration allows
    /// `file` direct URLs and maps the image's store (`[image_file_url]`),
    /// and the image has a checksum, the data is copied from the local mount
    /// instead, verified the same way; if that fails for any reason, HTTP is
    /// used.
    ///
    /// A process killed outright (`SIGKILL`, a power loss) cannot clean up:
    /// its temporary file, hidden and named `.NAME.PID-N.part` (NAME
    /// shortened and marked `~` when needed), may stay beside `dest` and can
    /// be deleted.
    ///
    /// ```no_run
    /// use glance_client::{Client, Config, DownloadOptions, DownloadSource};
    ///
    /// let client = Client::new(Config::for_server("http://127.0.0.1:9292"))?;
    /// let report = client.download("0c6a0b7e-1d1e-4f0e-9d8b-0e2b1c3d4e5f", "/var/tmp/image.raw",
    ///                              DownloadOptions::default())?;
    /// println!("{} bytes, verified with {:?}", report.bytes, report.verified);
    /// if let DownloadSource::Local { path } = &report.source {
    ///     println!("copied from {}", path.display());
    /// }
    /// # Ok::<(), glance_client::Error>(())
    /// ```
    pub fn download(
        &self,
        id: &str,
        dest: impl AsRef<Path>,
        options: DownloadOptions<'_>,
    ) -> Result<DownloadReport> {
        let (client, options, scope) = self.scoped(options)?;
        scope.outcome(client.download_scoped(id, dest.as_ref(), options))
    }

    /// [`Client::download`] on the view [`Client::scoped`] made.
    fn download_scoped(
        &self,
        id: &str,
        dest: &Path,
        options: DownloadOptions<'_>,
    ) -> Result<DownloadReport> {
        let staged = staged::Staged::create(dest)?;
        let image = self.image(id)?;
        self.download_staged(&image, staged, options)
    }

    /// [`Client::download`] of an image whose record the caller already
    /// read (the host cache does, to compare it with its own), on a view
    /// [`Client::scoped`] made.
    pub(crate) fn download_image(
        &self,
        image: &Image,
        dest: &Path,
        options: DownloadOptions<'_>,
    ) -> Result<DownloadReport> {
        let staged = staged::Staged::create(dest)?;
        self.download_staged(image, staged, options)
    }

    /// The download proper, into `staged`: the local short-circuit when it
    /// may serve, else HTTP; then the publication.
    fn download_staged(
        &self,
        image: &Image,
        mut staged: staged::Staged,
        options: DownloadOptions<'_>,
    ) -> Result<DownloadReport> {
        let checks = verify::plan(image, options.verify_all, options.allow_md5_fallback)?;
        let inspect = InspectPlan::new(image, &options.inspect, self.config());
        let signing = signing::plan(self, image, &options.signature)?;
        let mut progress = Progress(options.progress);
        let mut refusals = Vec::new();
        if options.allow_local && self.config().api_version == ApiVersion::V2 {
            let mut local = Local {
                image,
                checks: &checks,
                inspect: inspect.as_ref(),
                signing: signing.as_ref(),
                staged: &mut staged,
                progress: &mut progress,
                refusals: &mut refusals,
            };
            if let Some((bytes, verified, source)) = local.copy(self.config())? {
                self.still_wanted()?;
                let path = staged.publish(options.fsync)?;
                let report = DownloadReport {
                    path: Some(path),
                    bytes,
                    source: DownloadSource::Local { path: source },
                    verified: Vec::new(),
                    resumes: 0,
                    local_refusals: refusals,
                    format: None,
                    virtual_size: None,
                    #[cfg(feature = "signatures")]
                    signature: None,
                };
                return Ok(report.with(verified));
            }
        }
        let how = http::Fetch {
            require_checksum: options.require_checksum,
            inspect: inspect.as_ref(),
            signing: signing.as_ref(),
            max_resumes: options.max_resumes,
            progress: &mut progress,
            prefer: &options.prefer,
        };
        let fetched = http::fetch(self, image, checks, &mut staged, how)?;
        self.still_wanted()?;
        let path = staged.publish(options.fsync)?;
        Ok(fetched.report(Some(path), refusals))
    }

    /// Downloads an image into any writer, verified while it streams and
    /// resumed like [`Client::download`].
    ///
    /// A writer cannot be taken back: when this returns an error (a checksum
    /// mismatch, a cut that could not be resumed) `out` has already received
    /// data that must not be used. Prefer [`Client::download`] for files.
    /// Local copies are not used here (there would be nothing to fall back
    /// from after a bad local copy), and `fsync` is the writer's business.
    pub fn download_to(
        &self,
        id: &str,
        out: &mut dyn Write,
        options: DownloadOptions<'_>,
    ) -> Result<DownloadReport> {
        let (client, options, scope) = self.scoped(options)?;
        scope.outcome(client.download_to_scoped(id, out, options))
    }

    /// [`Client::download_to`] on the view [`Client::scoped`] made.
    fn download_to_scoped(
        &self,
        id: &str,
        out: &mut dyn Write,
        options: DownloadOptions<'_>,
    ) -> Result<DownloadReport> {
        let image = self.image(id)?;
        let checks = verify::plan(&image, options.verify_all, options.allow_md5_fallback)?;
        let inspect = InspectPlan::new(&image, &options.inspect, self.config());
        let signing = signing::plan(self, &image, &options.signature)?;
        let mut progress = Progress(options.progress);
        let how = http::Fetch {
            require_checksum: options.require_checksum,
            inspect: inspect.as_ref(),
            signing: signing.as_ref(),
            max_resumes: options.max_resumes,
            progress: &mut progress,
            prefer: &options.prefer,
        };
        let fetched = http::fetch(self, &image, checks, &mut http::Writer(out), how)?;
        Ok(fetched.report(None, Vec::new()))
    }
}

/// The local short-circuit of one download: each `file://` location that
/// maps to a local mount is tried in turn, into the temporary file.
struct Local<'a, 'p> {
    image: &'a Image,
    checks: &'a [verify::Check],
    inspect: Option<&'a InspectPlan>,
    signing: Option<&'a signing::Signing>,
    staged: &'a mut staged::Staged,
    progress: &'a mut Progress<'p>,
    /// Why each location considered was not used (also logged).
    refusals: &'a mut Vec<String>,
}

impl Local<'_, '_> {
    /// The bytes copied, the algorithms verified and the file read, from
    /// the first location that serves; `None` (the reasons in `refusals`,
    /// the temporary file empty) when none does.
    fn copy(&mut self, config: &Config) -> Result<Option<(u64, verify::Verified, PathBuf)>> {
        let id = self.image.id.as_str();
        let locations = local::locations(self.image, config);
        if !locations.is_empty() && self.checks.is_empty() {
            // Nothing could tell a local file from the image: its path may
            // be unconfined (no [image_file_url] filesystems) or crafted.
            // HTTP may still be checked with the answer's Content-MD5.
            let why = "the image has no checksum (os_hash_value or checksum) \
                       to verify a local copy with"
                .to_string();
            log::info!("image {id}: not copied locally: {why}; using HTTP");
            self.refusals.push(why);
            return Ok(None);
        }
        for location in &locations {
            let mut candidate = match local::candidate(location, self.image, config) {
                Ok(c) => c,
                Err(why) => {
                    log::info!("image {id}: not copied locally: {why}");
                    self.refusals.push(why);
                    continue;
                }
            };
            let total = self.image.size;
            match local::copy(
                &mut candidate,
                self.staged,
                (self.checks, self.inspect, self.signing),
                self.progress,
                total,
            ) {
                Ok((bytes, verified)) => {
                    let path = candidate.path;
                    log::debug!("image {id}: copied from {} ({bytes} bytes)", path.display());
                    return Ok(Some((bytes, verified, path)));
                }
                // The caller's wish, and a verdict on the image itself
                // (the file is the image's: its store, path and size
                // matched, and its checksum, which is compared first),
                // which HTTP would only repeat.
                Err(e) if is_the_images_own(&e) => return Err(e),
                Err(e) => {
                    let why = format!("{}: {e}", candidate.path.display());
                    log::warn!("image {id}: local copy failed, using HTTP: {why}");
                    self.refusals.push(why);
                    self.staged.restart()?;
                }
            }
        }
        Ok(None)
    }
}

impl http::Fetched {
    /// The report of a download that came over HTTP.
    fn report(self, path: Option<PathBuf>, local_refusals: Vec<String>) -> DownloadReport {
        let report = DownloadReport {
            path,
            bytes: self.bytes,
            source: DownloadSource::Http {
                server: self.server,
            },
            verified: Vec::new(),
            resumes: self.resumes,
            local_refusals,
            format: None,
            virtual_size: None,
            #[cfg(feature = "signatures")]
            signature: None,
        };
        report.with(self.verified)
    }
}

/// An error of a local copy that HTTP would only repeat: the caller's
/// cancel, and a verdict on the image's own data (its format, its signature).
fn is_the_images_own(error: &Error) -> bool {
    match error {
        Error::Cancelled | Error::UnsafeImage { .. } => true,
        #[cfg(feature = "signatures")]
        Error::Signature { .. } => true,
        _ => false,
    }
}

impl DownloadReport {
    /// The report with what the pass over the data established.
    fn with(mut self, verified: verify::Verified) -> DownloadReport {
        self.verified = verified.algorithms;
        if let Some(inspection) = verified.inspection {
            self.format = Some(inspection.format);
            self.virtual_size = inspection.virtual_size;
        }
        #[cfg(feature = "signatures")]
        {
            self.signature = verified.signature;
        }
        self
    }
}
