//! The crate's one error type.
//!
//! Variants are named by what went wrong, not by where: a 404 from v1 and a
//! 404 from v2 are both [`Error::NotFound`]. Detail that only matters for a
//! message (the server's text, the request id) rides along in [`ApiError`].

use std::fmt;
use std::io;
use std::path::PathBuf;

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong talking to Glance, verifying an image or
/// reading a configuration.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// 400: the server refused the request as malformed.
    BadRequest(Box<ApiError>),
    /// 401: no token, or the token was not accepted.
    Unauthorized(Box<ApiError>),
    /// 403: the token is valid but may not do this.
    Forbidden(Box<ApiError>),
    /// 404: no such image, member or resource.
    NotFound(Box<ApiError>),
    /// 409: the image is not in a state that allows this (e.g. upload to an active image).
    Conflict(Box<ApiError>),
    /// 413 or 429: a quota or rate limit was exceeded.
    OverLimit(Box<ApiError>),
    /// 415: the server does not accept the request's content type.
    UnsupportedMediaType(Box<ApiError>),
    /// 5xx: the server failed.
    Server(Box<ApiError>),
    /// Any other unexpected HTTP status.
    Api(Box<ApiError>),
    /// The image exists but has no data (the server answered 204 to a download).
    NoData {
        /// The image asked for.
        image_id: String,
    },
    /// The downloaded bytes do not hash to the value the server advertised.
    ChecksumMismatch {
        /// Hash algorithm that was checked (`md5`, `sha512`, ...).
        algorithm: &'static str,
        /// Hex digest the server advertised.
        expected: String,
        /// Hex digest of the bytes received.
        actual: String,
    },
    /// The image's `os_hash_algo` is one this crate cannot compute (allow
    /// the MD5 fallback in the download options to verify its `checksum`
    /// instead).
    UnsupportedChecksum {
        /// The algorithm the image names.
        algorithm: String,
    },
    /// The caller required a checksum and the image has none (no
    /// `os_hash_value`, `checksum` or `Content-MD5`).
    NoChecksum {
        /// The image asked for.
        image_id: String,
    },
    /// The number of bytes received differs from the advertised size.
    SizeMismatch {
        /// Size advertised by the image record or `Content-Length`.
        expected: u64,
        /// Bytes actually received.
        actual: u64,
    },
    /// The server answered with something this client cannot interpret
    /// (malformed or oversized JSON, a bad header, an inconsistent range).
    InvalidResponse(String),
    /// The caller passed something unusable (an empty image id, a bad filter).
    InvalidInput(String),
    /// A fault inside this crate, not caused by the caller or a server (a
    /// hashing thread that stopped); worth reporting as a bug.
    Internal(String),
    /// The operation does not exist in the configured API version.
    Unsupported {
        /// What was attempted.
        operation: &'static str,
        /// The API version in use.
        api_version: u8,
    },
    /// The Keystone token's service catalog has no usable image API
    /// endpoint (no image service, or none for the configured interfaces
    /// and region); the message says what the catalog has.
    Catalog(String),
    /// A configuration file or value is wrong.
    Config {
        /// The file, when the value came from one.
        file: Option<PathBuf>,
        /// 1-based line number, when known.
        line: Option<usize>,
        /// What is wrong, naming the option.
        message: String,
    },
    /// The connection failed: refused, reset, timed out, TLS, DNS.
    Transport {
        /// The server the request went to (base URL, no credentials).
        server: String,
        /// What happened.
        message: String,
        /// Whether it was a timeout.
        timeout: bool,
    },
    /// Every attempt failed; one entry per attempt, in order.
    AllServersFailed(Vec<(String, Error)>),
    /// The image is not `active`, so it has no data to put in a cache.
    ImageNotActive {
        /// The image asked for.
        image_id: String,
        /// Its status (`queued`, `saving`, `deactivated`, ...).
        status: String,
    },
    /// The host image cache holds no such image (fetch it first).
    NotCached {
        /// The image asked for.
        image_id: String,
        /// The cache directory.
        cache: PathBuf,
    },
    /// The caller stopped the call: its [`Cancel`](crate::Cancel) handle
    /// was triggered, or a progress callback returned `Break`. Never
    /// retried; nothing was published.
    Cancelled,
    /// The call's deadline passed before it was over (never retried).
    DeadlineExceeded {
        /// Which deadline: [`Config::call_timeout`](crate::Config::call_timeout),
        /// [`CallOptions::deadline`](crate::CallOptions::deadline) or
        /// [`DownloadOptions::deadline`](crate::DownloadOptions::deadline),
        /// e.g. `the call's timeout (Config::call_timeout, 30 s)`.
        deadline: String,
        /// What the call was doing, e.g. `reading the image from http://g:9292`.
        during: String,
    },
    /// The image's data is not safe to hand to a hypervisor, or is not the
    /// format its `disk_format` claims (deep format inspection, see
    /// [`crate::inspect`]): nothing was published, and no other server is
    /// asked.
    UnsafeImage {
        /// The image.
        image_id: String,
        /// What the data was found to be, when known.
        format: Option<crate::inspect::Format>,
        /// Why it was refused.
        reason: crate::inspect::Reason,
    },
    /// The image's signature was required and refused (cargo feature
    /// `signatures`): unsigned, a bad signature, an unknown key type or
    /// hash, a certificate that could not be fetched, is expired, is not of
    /// the key type or does not chain to a trusted certificate. Nothing was
    /// published, and no other server is asked.
    #[cfg(feature = "signatures")]
    Signature {
        /// The image.
        image_id: String,
        /// What failed.
        reason: Box<crate::signature::SignatureError>,
    },
    /// A local file operation failed.
    Io {
        /// What was being done, naming the path.
        context: String,
        /// The underlying error.
        source: io::Error,
    },
}

/// The server's side of an HTTP error: status, its message, and the request
/// id to quote to an operator.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiError {
    /// HTTP status code.
    pub status: u16,
    /// Human-readable message, with any HTML removed.
    pub message: String,
    /// `x-openstack-request-id`, when the server sent one.
    pub request_id: Option<String>,
}

impl ApiError {
    /// The detail of an answer with `status`, e.g. for a fake server's errors.
    pub fn new(status: u16, message: impl Into<String>, request_id: Option<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            request_id,
        }
    }
}

impl Error {
    /// Maps an HTTP error status and its parsed body to the variant of that meaning.
    pub(crate) fn from_status(api: ApiError) -> Error {
        let b = Box::new(api);
        match b.status {
            400 => Error::BadRequest(b),
            401 => Error::Unauthorized(b),
            403 => Error::Forbidden(b),
            404 => Error::NotFound(b),
            409 => Error::Conflict(b),
            413 | 429 => Error::OverLimit(b),
            415 => Error::UnsupportedMediaType(b),
            500..=599 => Error::Server(b),
            _ => Error::Api(b),
        }
    }

    /// The server's error detail, for the variants that came from an HTTP status.
    pub fn api_error(&self) -> Option<&ApiError> {
        match self {
            Error::BadRequest(e)
            | Error::Unauthorized(e)
            | Error::Forbidden(e)
            | Error::NotFound(e)
            | Error::Conflict(e)
            | Error::OverLimit(e)
            | Error::UnsupportedMediaType(e)
            | Error::Server(e)
            | Error::Api(e) => Some(e),
            _ => None,
        }
    }

    /// The HTTP status, for errors that came from one.
    pub fn status(&self) -> Option<u16> {
        self.api_error().map(|e| e.status)
    }

    pub(crate) fn io(context: impl Into<String>, source: io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    pub(crate) fn invalid_response(what: impl Into<String>) -> Error {
        Error::InvalidResponse(what.into())
    }

    /// What went wrong on one attempt, without the server name that
    /// [`Error::Transport`] carries (the listing and the log name it already).
    pub(crate) fn attempt_reason(&self) -> String {
        match self {
            Error::Transport { message, .. } => message.clone(),
            other => other.to_string(),
        }
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        if !self.message.is_empty() {
            write!(f, ": {}", self.message)?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::BadRequest(e) => write!(f, "bad request: {e}"),
            Error::Unauthorized(e) => write!(f, "unauthorized: {e}"),
            Error::Forbidden(e) => write!(f, "forbidden: {e}"),
            Error::NotFound(e) => write!(f, "not found: {e}"),
            Error::Conflict(e) => write!(f, "conflict: {e}"),
            Error::OverLimit(e) => write!(f, "over limit: {e}"),
            Error::UnsupportedMediaType(e) => write!(f, "unsupported media type: {e}"),
            Error::Server(e) => write!(f, "server error: {e}"),
            Error::Api(e) => write!(f, "unexpected answer: {e}"),
            Error::NoData { image_id } => write!(f, "image {image_id} has no data"),
            Error::ChecksumMismatch {
                algorithm,
                expected,
                actual,
            } => write!(
                f,
                "{algorithm} mismatch: expected {expected}, received data hashes to {actual}"
            ),
            Error::UnsupportedChecksum { algorithm } => write!(
                f,
                "cannot verify the image: hash algorithm {algorithm:?} is not supported"
            ),
            Error::NoChecksum { image_id } => {
                write!(f, "image {image_id} has no checksum to verify it with")
            }
            Error::SizeMismatch { expected, actual } => {
                write!(
                    f,
                    "size mismatch: expected {expected} bytes, received {actual}"
                )
            }
            Error::InvalidResponse(m) => write!(f, "invalid response: {m}"),
            Error::InvalidInput(m) => write!(f, "invalid input: {m}"),
            Error::Internal(m) => write!(f, "internal error: {m}"),
            Error::UnsafeImage {
                image_id, reason, ..
            } => write!(f, "image {image_id} refused by format inspection: {reason}"),
            Error::Unsupported {
                operation,
                api_version,
            } => write!(
                f,
                "{operation} is not supported by image API v{api_version}"
            ),
            Error::Catalog(m) => write!(f, "service catalog: {m}"),
            Error::Config {
                file,
                line,
                message,
            } => write_config(f, file.as_deref(), *line, message),
            Error::Transport {
                server, message, ..
            } => write!(f, "{server}: {message}"),
            Error::AllServersFailed(attempts) => write_attempts(f, attempts),
            Error::ImageNotActive { image_id, status } => {
                write!(f, "image {image_id} is {status}, not active")
            }
            Error::NotCached { image_id, cache } => {
                write!(
                    f,
                    "image {image_id} is not in the cache {}",
                    cache.display()
                )
            }
            Error::Cancelled => f.write_str("cancelled by the caller"),
            Error::DeadlineExceeded { deadline, during } => {
                write!(f, "{deadline} passed while {during}")
            }
            #[cfg(feature = "signatures")]
            Error::Signature { image_id, reason } => {
                write!(
                    f,
                    "image {image_id} refused: signature verification: {reason}"
                )
            }
            Error::Io { context, source } => write!(f, "{context}: {source}"),
        }
    }
}

/// `FILE:LINE: message`, with what is known of where.
fn write_config(
    f: &mut fmt::Formatter<'_>,
    file: Option<&std::path::Path>,
    line: Option<usize>,
    message: &str,
) -> fmt::Result {
    match (file, line) {
        (Some(file), Some(line)) => write!(f, "{}:{line}: ", file.display())?,
        (Some(file), None) => write!(f, "{}: ", file.display())?,
        (None, Some(line)) => write!(f, "line {line}: ")?,
        (None, None) => write!(f, "configuration: ")?,
    }
    f.write_str(message)
}

/// `all N attempts on M servers failed: ` and each distinct (server,
/// reason) once, in order of first appearance, with how often it happened.
fn write_attempts(f: &mut fmt::Formatter<'_>, attempts: &[(String, Error)]) -> fmt::Result {
    let mut servers: Vec<&str> = attempts.iter().map(|(s, _)| s.as_str()).collect();
    servers.sort_unstable();
    servers.dedup();
    let on = match servers.len() {
        1 => "one server".to_string(),
        n => format!("{n} servers"),
    };
    write!(f, "all {} attempts on {on} failed", attempts.len())?;
    let mut seen: Vec<(&str, String, usize)> = Vec::new();
    for (server, err) in attempts {
        let reason = err.attempt_reason();
        match seen
            .iter_mut()
            .find(|(s, r, _)| s == server && *r == reason)
        {
            Some((_, _, n)) => *n += 1,
            None => seen.push((server, reason, 1)),
        }
    }
    for (i, (server, reason, n)) in seen.iter().enumerate() {
        let sep = if i == 0 { ": " } else { "; " };
        write!(f, "{sep}{server}: {reason}")?;
        if *n > 1 {
            write!(f, " ({n} times)")?;
        }
    }
    Ok(())
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::UnsafeImage { reason, .. } => Some(reason),
            #[cfg(feature = "signatures")]
            Error::Signature { reason, .. } => Some(reason.as_ref()),
            Error::AllServersFailed(attempts) => attempts
                .last()
                .map(|(_, e)| e as &(dyn std::error::Error + 'static)),
            _ => None,
        }
    }
}

/// Carries an [`Error`] through `io::Read`/`io::Write`, so that it can be
/// recovered intact on the other side (see [`Error::from_io`]).
#[derive(Debug)]
pub(crate) struct Carried(pub(crate) Error);

impl fmt::Display for Carried {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Carried {}

impl Error {
    /// Wraps this error in an `io::Error` that [`Error::from_io`] unwraps again.
    pub(crate) fn into_io(self) -> io::Error {
        let kind = match &self {
            Error::Transport { timeout: true, .. } | Error::DeadlineExceeded { .. } => {
                io::ErrorKind::TimedOut
            }
            Error::Cancelled => io::ErrorKind::Interrupted,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, Carried(self))
    }

    /// Recovers an error that travelled through `io` as [`Error::into_io`];
    /// any other I/O error is wrapped with `context`.
    pub(crate) fn from_io(err: io::Error, context: impl FnOnce() -> String) -> Error {
        if err.get_ref().is_some_and(|e| e.is::<Carried>()) {
            if let Some(Ok(carried)) = err.into_inner().map(|e| e.downcast::<Carried>()) {
                return carried.0;
            }
            // Unreachable in practice: the check above saw a Carried.
            return Error::Internal("an error carried through I/O was lost".into());
        }
        Error::io(context(), err)
    }
}

impl Error {
    /// An equal error, for handing one failure to several callers (a
    /// Keystone login that failed for every thread waiting on it): the same
    /// variant and fields; an I/O error keeps its kind and message.
    pub(crate) fn duplicate(&self) -> Error {
        let api = |e: &ApiError| Box::new(e.clone());
        match self {
            Error::BadRequest(e) => Error::BadRequest(api(e)),
            Error::Unauthorized(e) => Error::Unauthorized(api(e)),
            Error::Forbidden(e) => Error::Forbidden(api(e)),
            Error::NotFound(e) => Error::NotFound(api(e)),
            Error::Conflict(e) => Error::Conflict(api(e)),
            Error::OverLimit(e) => Error::OverLimit(api(e)),
            Error::UnsupportedMediaType(e) => Error::UnsupportedMediaType(api(e)),
            Error::Server(e) => Error::Server(api(e)),
            Error::Api(e) => Error::Api(api(e)),
            Error::InvalidResponse(m) => Error::InvalidResponse(m.clone()),
            Error::InvalidInput(m) => Error::InvalidInput(m.clone()),
            Error::Internal(m) => Error::Internal(m.clone()),
            Error::Catalog(m) => Error::Catalog(m.clone()),
            Error::Config {
                file,
                line,
                message,
            } => Error::Config {
                file: file.clone(),
                line: *line,
                message: message.clone(),
            },
            Error::Transport {
                server,
                message,
                timeout,
            } => Error::Transport {
                server: server.clone(),
                message: message.clone(),
                timeout: *timeout,
            },
            Error::AllServersFailed(all) => Error::AllServersFailed(
                all.iter()
                    .map(|(s, e)| (s.clone(), e.duplicate()))
                    .collect(),
            ),
            Error::Cancelled => Error::Cancelled,
            Error::DeadlineExceeded { deadline, during } => Error::DeadlineExceeded {
                deadline: deadline.clone(),
                during: during.clone(),
            },
            Error::Io { context, source } => Error::Io {
                context: context.clone(),
                source: io::Error::new(source.kind(), source.to_string()),
            },
            // Image data errors, which no login gives: the same words.
            other => Error::Internal(format!("(shared) {other}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_stays_small() {
        // Large payloads are boxed so that `Result<T>` stays cheap to move;
        // this pin makes any growth a conscious decision.
        assert!(
            std::mem::size_of::<Error>() <= 72,
            "{}",
            std::mem::size_of::<Error>()
        );
    }

    #[test]
    fn statuses_map_to_meanings() {
        let api = |status| ApiError {
            status,
            message: String::new(),
            request_id: None,
        };
        assert!(matches!(Error::from_status(api(400)), Error::BadRequest(_)));
        assert!(matches!(
            Error::from_status(api(401)),
            Error::Unauthorized(_)
        ));
        assert!(matches!(Error::from_status(api(403)), Error::Forbidden(_)));
        assert!(matches!(Error::from_status(api(404)), Error::NotFound(_)));
        assert!(matches!(Error::from_status(api(409)), Error::Conflict(_)));
        assert!(matches!(Error::from_status(api(413)), Error::OverLimit(_)));
        assert!(matches!(Error::from_status(api(429)), Error::OverLimit(_)));
        assert!(matches!(
            Error::from_status(api(415)),
            Error::UnsupportedMediaType(_)
        ));
        assert!(matches!(Error::from_status(api(500)), Error::Server(_)));
        assert!(matches!(Error::from_status(api(503)), Error::Server(_)));
        assert!(matches!(Error::from_status(api(418)), Error::Api(_)));
    }

    #[test]
    fn all_servers_failed_lists_every_attempt() {
        let refused = |server: &str| {
            (
                server.to_string(),
                Error::Transport {
                    server: server.into(),
                    message: "connection refused".into(),
                    timeout: false,
                },
            )
        };
        let unavailable = (
            "http://b:9292".to_string(),
            Error::from_status(ApiError {
                status: 503,
                message: "try later".into(),
                request_id: Some("req-1".into()),
            }),
        );
        let e = Error::AllServersFailed(vec![
            refused("http://a:9292"),
            unavailable,
            refused("http://a:9292"),
        ]);
        assert_eq!(
            e.to_string(),
            "all 3 attempts on 2 servers failed: \
             http://a:9292: connection refused (2 times); \
             http://b:9292: server error: HTTP 503: try later (request id req-1)"
        );
    }

    #[test]
    fn a_duplicate_is_the_same_error() {
        let all = Error::AllServersFailed(vec![(
            "http://k".into(),
            Error::io("reading", io::Error::new(io::ErrorKind::TimedOut, "slow")),
        )]);
        let unauthorized = Error::from_status(ApiError::new(401, "no", Some("req-1".into())));
        for e in [all, unauthorized] {
            let copy = e.duplicate();
            assert_eq!(copy.to_string(), e.to_string());
            assert_eq!(format!("{copy:?}"), format!("{e:?}"));
        }
    }

    #[test]
    fn error_survives_a_trip_through_io() {
        let e = Error::ChecksumMismatch {
            algorithm: "md5",
            expected: "a".into(),
            actual: "b".into(),
        };
        let back = Error::from_io(e.into_io(), || "unused".into());
        assert!(matches!(back, Error::ChecksumMismatch { .. }), "{back:?}");
        let plain = io::Error::new(io::ErrorKind::NotFound, "gone");
        let back = Error::from_io(plain, || "reading x".into());
        assert_eq!(back.to_string(), "reading x: gone");
    }
}
