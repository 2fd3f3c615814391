//! The HTTP path: stream the image data into a sink while the hashing
//! threads verify it, and resume with `Range` when the body breaks off.
//!
//! A body that fails in a way another attempt may cure (connection reset or
//! closed early, a read that timed out) is asked for again from the first
//! byte not yet received, on the next server of the rotation, at most
//! `max_resumes` times. Only a `206` whose `Content-Range` starts exactly
//! there is accepted; an answer that cannot be used (a `206` whose
//! `Content-Range` is unparsable or starts elsewhere) counts as one of those
//! attempts, and the next goes to the next server. A `200` means the server
//! ignored the range and the download starts over (a file is emptied and
//! the hashes reset; a plain writer, which cannot be rewound, gets the new
//! body from where it stopped, the bytes before it read and dropped). The
//! image's size and MD5 must not change between answers: that is fatal.

use std::io::{self, Read, Write};
use std::ops::ControlFlow;

use super::Progress;
use super::staged::Staged;
use super::verify::{self, Check, Pipe};
use crate::client::Client;
use crate::client::ImageStream;
use crate::error::{Error, Result};
use crate::image::Image;
use crate::transport::is_retryable;

/// Where the bytes go.
pub(super) trait Sink {
    /// Appends bytes.
    fn write(&mut self, data: &[u8]) -> Result<()>;
    /// Starts over at byte 0; `false` when this sink cannot.
    fn restart(&mut self) -> Result<bool>;
}

impl Sink for Staged {
    fn write(&mut self, data: &[u8]) -> Result<()> {
        self.file()
            .write_all(data)
            .map_err(|e| Error::io(format!("writing {}", self.path().display()), e))
    }

    fn restart(&mut self) -> Result<bool> {
        Staged::restart(self).map(|()| true)
    }
}

/// A caller's writer: written in order, never rewound.
pub(super) struct Writer<'a>(pub(super) &'a mut dyn Write);

impl Sink for Writer<'_> {
    fn write(&mut self, data: &[u8]) -> Result<()> {
        self.0
            .write_all(data)
            .map_err(|e| Error::from_io(e, || "writing the image data".into()))
    }

    fn restart(&mut self) -> Result<bool> {
        Ok(false)
    }
}

/// What the HTTP path did.
pub(super) struct Fetched {
    pub(super) bytes: u64,
    pub(super) verified: Vec<&'static str>,
    pub(super) server: String,
    pub(super) resumes: u32,
}

/// Limits and switches of one fetch.
pub(super) struct Fetch<'o, 'p> {
    pub(super) require_checksum: bool,
    pub(super) max_resumes: u32,
    pub(super) progress: &'o mut Progress<'p>,
}

/// Downloads `image` over HTTP into `sink`, verifying `checks` (completed
/// with the answer's `Content-MD5` when the image has no checksum).
pub(super) fn fetch(
    client: &Client,
    image: &Image,
    mut checks: Vec<Check>,
    sink: &mut dyn Sink,
    how: Fetch<'_, '_>,
) -> Result<Fetched> {
    let id = image.id.as_str();
    let mut stream = client.open_range(id, 0)?;
    verify::with_content_md5(&mut checks, stream.content_md5())?;
    if checks.is_empty() {
        if how.require_checksum {
            return Err(Error::NoChecksum {
                image_id: id.to_string(),
            });
        }
        log::warn!("image {id} has no checksum: downloading it unverified");
    }
    let mut total = image.size;
    agree_on_size(&mut total, &stream)?;
    let md5 = stream.content_md5().map(str::to_owned);
    std::thread::scope(|scope| {
        let mut pipe = Pipe::start(scope, &checks);
        let mut received = 0u64;
        // Bytes at the head of the current body that were already received
        // (a 200 to a ranged request, into a sink that cannot start over).
        let mut skip = 0u64;
        let mut resumes = 0u32;
        loop {
            let mut buffer = pipe.buffer()?;
            let (mut len, failure) = fill(&mut stream, &mut buffer);
            let mut start = 0;
            if skip > 0 {
                let dropped = skip.min(len as u64) as usize;
                skip -= dropped as u64;
                start = dropped;
            }
            if start > 0 && len > start {
                buffer.copy_within(start..len, 0);
            }
            len = len.saturating_sub(start);
            if len > 0 {
                sink.write(&buffer[..len])?;
                received += len as u64;
                pipe.hash(buffer, len)?;
                if let Some(expected) = total
                    && received > expected
                {
                    return Err(Error::SizeMismatch {
                        expected,
                        actual: received,
                    });
                }
                if let ControlFlow::Break(()) = how.progress.report(received, total) {
                    return Err(Error::Cancelled);
                }
            } else {
                pipe.hash(buffer, 0)?;
            }
            let error = match failure {
                Some(e) => e,
                None if len > 0 || start > 0 => continue,
                // End of this body.
                None => match total {
                    Some(expected) if received + skip < expected => Error::Transport {
                        server: stream.server().to_string(),
                        message: format!("the body ended after {received} of {expected} bytes"),
                        timeout: false,
                    },
                    _ => break,
                },
            };
            if !is_retryable(&error) {
                if resumes > 0 {
                    log::warn!("image {id}: giving up after {resumes} resumes: {error}");
                }
                return Err(error);
            }
            let why = format!(
                "download from {} broke off after {received} bytes ({})",
                stream.server(),
                error.attempt_reason(),
            );
            let next = resume(
                client,
                id,
                received,
                (why, error),
                &mut resumes,
                how.max_resumes,
            )?;
            agree_on_size(&mut total, &next)?;
            if let (Some(a), Some(b)) = (md5.as_deref(), next.content_md5())
                && a != b
            {
                return Err(Error::invalid_response(format!(
                    "image {id} changed during the download (Content-MD5 {a}, then {b})"
                )));
            }
            if next.offset() == received {
                // The answer starts where the data stopped: nothing of it was
                // received before, even if an earlier body that ignored the
                // range was cut before catching up.
                skip = 0;
            } else {
                // A full answer: the server did not honour the range.
                log::warn!(
                    "image {id}: {} ignored the range request; starting over",
                    next.server()
                );
                if sink.restart()? {
                    pipe.reset()?;
                    received = 0;
                    skip = 0;
                } else {
                    skip = received;
                }
            }
            stream = next;
        }
        if let Some(expected) = total
            && received != expected
        {
            return Err(Error::SizeMismatch {
                expected,
                actual: received,
            });
        }
        let verified = pipe.finish()?;
        Ok(Fetched {
            bytes: received,
            verified,
            server: stream.server().to_string(),
            resumes,
        })
    })
}

/// Asks for the data again from byte `received`, on the next server of the
/// rotation, counting each attempt in `resumes` (at most `max_resumes` in
/// all). An answer that cannot be used (a `206` whose `Content-Range` is
/// unparsable or starts elsewhere, an unexpected status) counts as a failed
/// attempt and the next one is made; any other error ends the download.
/// `failure` is why the data stopped, as a log line and as the error
/// returned when no attempt is left.
fn resume(
    client: &Client,
    id: &str,
    received: u64,
    failure: (String, Error),
    resumes: &mut u32,
    max_resumes: u32,
) -> Result<ImageStream> {
    let (mut why, mut error) = failure;
    loop {
        if *resumes >= max_resumes {
            if *resumes > 0 {
                log::warn!("image {id}: giving up after {resumes} resumes: {error}");
            }
            return Err(error);
        }
        *resumes += 1;
        log::warn!("image {id}: {why}; resuming ({resumes} of {max_resumes})");
        match client.open_range(id, received) {
            Ok(next) => return Ok(next),
            Err(e @ Error::InvalidResponse(_)) => {
                why = format!("unusable answer to the resume from byte {received} ({e})");
                error = e;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Reads until `buffer` is full, the body ends, or a read fails; returns
/// the bytes read and the failure, if any. Bytes read before a failure
/// count: they are good.
fn fill(stream: &mut ImageStream, buffer: &mut [u8]) -> (usize, Option<Error>) {
    let mut len = 0;
    while len < buffer.len() {
        match stream.read(&mut buffer[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted && e.get_ref().is_none() => {}
            Err(e) => {
                let server = stream.server().to_string();
                return (
                    len,
                    Some(Error::from_io(e, || {
                        format!("reading the image from {server}")
                    })),
                );
            }
        }
    }
    (len, None)
}

/// The image record, `Content-Length` and `Content-Range` must agree on
/// the size; the first that says sets it.
fn agree_on_size(total: &mut Option<u64>, stream: &ImageStream) -> Result<()> {
    match (*total, stream.total_size()) {
        (Some(a), Some(b)) if a != b => Err(Error::invalid_response(format!(
            "{} sends {b} bytes for an image of {a}",
            stream.server()
        ))),
        (None, Some(b)) => {
            *total = Some(b);
            Ok(())
        }
        _ => Ok(()),
    }
}
