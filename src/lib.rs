//! A synchronous, dependency-light client for the OpenStack Image service
//! (Glance), API v2 and v1.
//!
//! # The modules, and which way they import
//!
//! Each module imports only from the floors below it; data flows up, from
//! a [`Config`] to a [`Client`] call, through the wire code and transport,
//! to an [`Image`] or verified bytes.
//!
//! ```text
//! floor 7  cache                  the host image cache, shared by processes, built on download
//! floor 6  download               verified, inspected, atomic, resumable downloads; the local
//!                                 short-circuit
//! floor 5  client                 Client: every call, sent to v1 or v2; ImageData, ImageStream
//! floor 4  transport              servers, TLS, proxies, the one retry loop (Keystone logins too)
//! floor 3  config, auth           Config and nova.conf; Auth and the Keystone token as state
//!                                 (config uses auth, never back)
//! floor 2  v1, v2                 sans-IO request builders and response parsers
//!                                 (floor 1 only, never each other)
//! floor 1  error, image, query,   the error, the image model, listing queries, what v1 and v2
//!          wire, urls, call       share (download answers, timestamps), URL checks and redaction,
//!                                 what a call carries (cancel handle, deadline, request id)
//! floor 0  inspect, signature     sans-IO and importing nothing at all: the disk-image format
//!                                 inspector, and image signature verification (feature
//!                                 `signatures`; its Barbican requests too). `error` names their
//!                                 refusal reasons, so they sit below it.
//! ```
//!
//! The crate root is the whole everyday API: a [`Client`] built from a plain
//! [`Config`], the version-neutral [`Image`] it returns, and one [`Error`].
//! The wire code of each API version lives in [`v2`] and [`v1`], sans-IO:
//! pure request builders and response parsers any HTTP client (or a fuzzer)
//! can drive, with what both share in [`wire`]. The client speaks v2 unless
//! [`Config::api_version`] says [`ApiVersion::V1`]; the same calls then go
//! to v1, and those v1 has no equivalent for fail with
//! [`Error::Unsupported`] before any request; v1's own calls are behind
//! [`Client::v1`].
//!
//! ```no_run
//! use glance_client::{Client, Config, ListQuery};
//!
//! let client = Client::new(Config::for_server("http://127.0.0.1:9292"))?;
//! let query = ListQuery { status: Some("active".into()), ..ListQuery::default() };
//! for image in client.images(&query) {
//!     let image = image?;
//!     println!("{}  {}", image.id, image.name.unwrap_or_default());
//! }
//! # Ok::<(), glance_client::Error>(())
//! ```
//!
//! # Verified downloads
//!
//! [`Client::download`] writes an image to a file atomically: a temporary
//! file beside the destination, hashed while the data streams (the image's
//! `os_hash_value`, else its MD5), published by rename only once verified,
//! resumed with `Range` when the connection drops, and copied from a locally
//! mounted file store instead when [`Config::filesystems`] maps the image's
//! location (Nova's `[image_file_url]`). Built with the cargo feature
//! `signatures`, it also verifies signed images in the same pass, as Nova
//! does with cursive, when the configuration or
//! [`DownloadOptions::signature`] requires it (see the `signature` module):
//!
//! ```no_run
//! use glance_client::{Client, Config, DownloadOptions};
//!
//! let config = Config::from_file("/etc/nova/nova.conf")?;
//! let client = Client::new(config)?;
//! let report = client.download("0c6a0b7e-1d1e-4f0e-9d8b-0e2b1c3d4e5f", "/var/lib/images/base.raw",
//!                              DownloadOptions::default())?;
//! println!("{} bytes from {:?}, verified with {:?}", report.bytes, report.source, report.verified);
//! # Ok::<(), glance_client::Error>(())
//! ```
//!
//! # Authentication
//!
//! [`Auth::Token`] sends a given token; [`Auth::Password`] and
//! [`Auth::ApplicationCredential`] log in to Keystone v3 at the first
//! request, renew the token as needed and, without configured servers, find
//! the image API in the token's catalog (see [`auth`]).
//! [`Config::apply_os_vars`] reads the usual `OS_*` variables.
//!
//! # Proxies
//!
//! The proxy variables are read once, when the client is built, as curl
//! reads them: `http_proxy` / `https_proxy` by the server's scheme, then
//! `all_proxy`, with `no_proxy` exemptions (loopback is not exempt by
//! itself). Unlike curl, which sends a plain-HTTP request to an HTTP proxy
//! in absolute form (`GET http://glance:9292/v2/images`), this client (ureq)
//! reaches **every** server through an HTTP proxy with a `CONNECT
//! glance:9292` tunnel, `http://` servers included. The proxy must therefore
//! allow `CONNECT` to the Glance port (Squid's default configuration allows
//! it only to 443), or the server must be listed in `no_proxy`. The token
//! only travels inside the tunnel.
//!
//! # Logging
//!
//! Through the [`log`](https://docs.rs/log) facade: `debug` shows each
//! request's method, URL, status and request id, and each Keystone login;
//! `warn` shows failed attempts, a token the image API refused, and
//! deprecated configuration. Headers and request bodies are never logged, so
//! a token or password never reaches a log. `info` says why a local copy was
//! not used; `warn` also shows a download resumed or falling back to HTTP.
//!
//! That holds for this crate's records (target `glance_client`). The HTTP
//! library underneath logs through the same facade under its own targets:
//! `ureq` at `debug` shows requests and answers with headers outside an
//! allow-list redacted, but `ureq_proto` at `trace` dumps the **raw bytes of
//! every answer's head and body**, so it shows the `X-Subject-Token` header
//! of a Keystone login (a valid token) and everything the servers send. Do
//! not enable `trace` for `ureq` or `ureq_proto`: filter by target instead
//! of raising the global level (with `env_logger`, for example,
//! `RUST_LOG=glance_client=debug`, not `RUST_LOG=trace`).

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![deny(rustdoc::broken_intra_doc_links)]

mod call;
mod client;
mod config;
mod download;
mod error;
mod image;
mod query;
mod transport;
mod urls;

pub mod auth;
pub mod cache;
pub mod inspect;
#[cfg(feature = "signatures")]
pub mod signature;
pub mod v1;
pub mod v2;
pub mod wire;

pub use auth::Auth;
pub use cache::ImageCache;
pub use call::{CallOptions, Cancel};
#[cfg(feature = "signatures")]
pub use client::BarbicanSource;
pub use client::{Client, ImageData, ImageStream, Images, V1Client};
pub use config::{ApiVersion, Config, FileSystem};
pub use download::{
    DownloadOptions, DownloadReport, DownloadSource, FileInspection, Inspect, ProgressFn,
    SignatureCheck, inspect_file,
};
pub use error::{ApiError, Error, Result};
/// The `http` crate (1.x), whose request and response types the [`v1`] and
/// [`v2`] wire code builds and parses.
pub use http;
pub use image::{Image, ImageUpdate, Location, NewImage};
pub use query::ListQuery;
pub use urls::redact_credentials;

/// Entry points for the fuzz targets (`fuzz/`) into code that is not
/// public. Compiled only under cargo-fuzz (`--cfg fuzzing`): not part of
/// the API.
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing {
    use std::path::PathBuf;

    use crate::{FileSystem, Location};

    /// Where a `file://` location's data is on this host, or why not (the
    /// local short-circuit's lexical mapping).
    pub fn local_path(location: &Location, filesystems: &[FileSystem]) -> Result<PathBuf, String> {
        location.local_path(filesystems)
    }
}

/// The README's examples, compiled as doc tests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
