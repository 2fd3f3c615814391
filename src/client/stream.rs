//! [`ImageStream`]: image data as it arrives, with what the server announced.

use std::fmt;
use std::io::{self, Read};

use crate::transport::Opened;
use crate::wire::DownloadStart;

/// Image data straight off the wire, as an [`io::Read`].
///
/// It carries the length and `Content-MD5` the server announced so a caller
/// can check them; reading does not verify anything by itself (use
/// [`Client::download`](crate::Client::download) for a verified copy).
pub struct ImageStream {
    reader: ureq::BodyReader<'static>,
    start: DownloadStart,
    server: String,
}

impl ImageStream {
    pub(crate) fn new(opened: Opened, start: DownloadStart) -> ImageStream {
        let (_, body) = opened.response.into_parts();
        ImageStream {
            reader: body.into_reader(),
            start,
            server: opened.server,
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
        self.reader
            .read(buf)
            .map_err(|e| crate::transport::body_error(&self.server, e))
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
