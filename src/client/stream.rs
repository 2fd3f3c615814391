//! [`ImageStream`]: image data as it arrives, with what the server announced.

use std::fmt;
use std::io::{self, Read};

use crate::call::Ctx;
use crate::error::Error;
use crate::transport::Opened;
use crate::wire::DownloadStart;

/// Image data straight off the wire, as an [`io::Read`].
///
/// It carries the length and `Content-MD5` the server announced so a caller
/// can check them; reading does not verify anything by itself (use
/// [`Client::download`](crate::Client::download) for a verified copy).
///
/// From a [`Client::with`](crate::Client::with) view, reading keeps to the
/// view's cancel handle and deadline: a read after a cancel fails with
/// [`Error::Cancelled`](crate::Error::Cancelled), one past the deadline
/// with [`Error::DeadlineExceeded`](crate::Error::DeadlineExceeded) (each
/// carried in an `io::Error`, of kind `Interrupted` and `TimedOut`).
pub struct ImageStream {
    reader: ureq::BodyReader<'static>,
    start: DownloadStart,
    server: String,
    ctx: Ctx,
}

impl ImageStream {
    pub(crate) fn new(opened: Opened, start: DownloadStart) -> ImageStream {
        let (_, body) = opened.response.into_parts();
        ImageStream {
            reader: body.into_reader(),
            start,
            server: opened.server,
            ctx: opened.ctx,
        }
    }

    /// Bytes the server announced for this body (`Content-Length`).
    pub fn content_length(&self) -> Option<u64> {
        self.start.length
    }

    /// Hex MD5 of the whole image, from `Content-MD5` (v2) or
    /// `x-image-meta-checksum` (v1).
    pub fn content_md5(&self) -> Option<&str> {
        self.start.content_md5.as_deref()
    }

    /// Offset of the first byte of this body within the image (0 unless resumed).
    pub fn offset(&self) -> u64 {
        self.start.offset
    }

    /// Size of the whole image, when the server said.
    pub fn total_size(&self) -> Option<u64> {
        self.start.total
    }

    /// What the head of the answer said (offset, length, total, MD5).
    pub(crate) fn start(&self) -> &DownloadStart {
        &self.start
    }

    /// The server that is sending the data.
    pub fn server(&self) -> &str {
        &self.server
    }
}

impl Read for ImageStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let server = &self.server;
        self.ctx
            .check(|| format!("reading the image from {server}"))
            .map_err(Error::into_io)?;
        self.reader.read(buf).map_err(|e| {
            // A read that failed (timed out) after a cancel: the cancel's.
            match self.ctx.check(String::new) {
                Err(Error::Cancelled) => Error::Cancelled.into_io(),
                _ => crate::transport::body_error(server, &self.ctx, e),
            }
        })
    }
}

impl fmt::Debug for ImageStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ImageStream")
            .field("server", &self.server)
            .field("start", &self.start)
            .finish_non_exhaustive()
    }
}
