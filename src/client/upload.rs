//! Sending image data: [`ImageData`], what an upload or a stage sends, and
//! the one way every data call sends it.

use std::fmt;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use http::{Request, Response};

use super::Client;
use crate::call::ProgressFn;
use crate::config::ApiVersion;
use crate::error::{ApiError, Error, Result};
use crate::transport::{Payload, ReadSeek, Retry, Source as UploadSource};
use crate::{v1, v2, wire};

/// Image data to send, for [`Client::upload`], [`Client::stage`] and v1's
/// calls with data ([`V1Client`](crate::V1Client)): a file, a seekable
/// reader or a plain reader.
///
/// A file or a seekable reader is rewound and sent again when an attempt
/// fails (as a read is retried); a plain reader cannot be rewound, so it is
/// sent once (again only when nothing of it left). With a known size the
/// request carries `Content-Length`, otherwise the data goes chunked; a
/// file's size is read from the file.
///
/// A failure to read the data (the file's or reader's own I/O error) is an
/// [`Error::Io`] naming the source: it is not the server's, so it is never
/// retried and no further request follows it. A progress callback
/// ([`ImageData::with_progress`]) sees the bytes as they are read.
///
/// ```no_run
/// use std::ops::ControlFlow;
/// use glance_client::{Client, Config, ImageData};
///
/// let client = Client::new(Config::for_server("http://127.0.0.1:9292"))?;
/// client.upload("0c6a0b7e-1d1e-4f0e-9d8b-0e2b1c3d4e5f", ImageData::file("cirros.img"))?;
/// let mut stdin = std::io::stdin().lock();
/// let data = ImageData::reader(&mut stdin, None).with_progress(|sent, _| {
///     eprintln!("{sent} bytes sent");
///     ControlFlow::Continue(())
/// });
/// client.upload("5f2d1b3e-6a1c-4c8e-9b0d-2e4f6a8c0b1d", data)?;
/// # Ok::<(), glance_client::Error>(())
/// ```
pub struct ImageData<'a> {
    source: Source<'a>,
    progress: Option<ProgressFn<'a>>,
}

enum Source<'a> {
    File(PathBuf),
    Seekable {
        reader: &'a mut dyn ReadSeek,
        size: Option<u64>,
    },
    Reader {
        reader: &'a mut dyn Read,
        size: Option<u64>,
    },
}

impl<'a> ImageData<'a> {
    /// The contents of the file at `path`, opened when the call sends it
    /// (after the call's own checks), its size sent as `Content-Length`.
    pub fn file(path: impl Into<PathBuf>) -> ImageData<'a> {
        ImageData {
            source: Source::File(path.into()),
            progress: None,
        }
    }

    /// The data from `reader`'s current position on, `size` bytes when
    /// given; rewound to that position before each attempt.
    pub fn seekable<R: Read + Seek>(reader: &'a mut R, size: Option<u64>) -> ImageData<'a> {
        ImageData {
            source: Source::Seekable { reader, size },
            progress: None,
        }
    }

    /// The data `reader` gives, `size` bytes when given; sent once.
    pub fn reader(reader: &'a mut dyn Read, size: Option<u64>) -> ImageData<'a> {
        ImageData {
            source: Source::Reader { reader, size },
            progress: None,
        }
    }

    /// The same data, with a progress callback (as
    /// [`DownloadOptions::progress`](crate::DownloadOptions::progress)):
    /// called after each read from the source with the bytes read so far
    /// and the size, when known (a file's, or the one given). Returning
    /// `ControlFlow::Break(())` stops the upload with [`Error::Cancelled`]:
    /// the request is cut off, not retried, and no further request follows.
    /// The count starts again from 0 when an attempt is retried (a file or
    /// seekable reader rewound).
    pub fn with_progress(
        mut self,
        progress: impl FnMut(u64, Option<u64>) -> ControlFlow<()> + 'a,
    ) -> ImageData<'a> {
        self.progress = Some(Box::new(progress));
        self
    }
}

impl fmt::Debug for ImageData<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.progress.is_some() {
            f.write_str("(with progress) ")?;
        }
        match &self.source {
            Source::File(path) => f.debug_tuple("File").field(path).finish(),
            Source::Seekable { size, .. } => {
                f.debug_struct("Seekable").field("size", size).finish()
            }
            Source::Reader { size, .. } => f.debug_struct("Reader").field("size", size).finish(),
        }
    }
}

impl Client {
    /// Uploads image data to `id`, an image in status `queued` (v2
    /// `PUT .../file`, v1 `PUT /v1/images/{id}`); see [`ImageData`] for
    /// what is sent again after a failed attempt.
    ///
    /// When the connection breaks off during the upload, the image's
    /// status tells a refusal (Glance answers an upload to an image that is
    /// not `queued` at once with 409 and closes) from a network failure:
    /// not `queued` any more is [`Error::Conflict`].
    pub fn upload(&self, id: &str, data: ImageData<'_>) -> Result<()> {
        let refused = || self.upload_refused(id);
        let response =
            self.send_data(data, Retry::Safe, &refused, |size| match self.version() {
                ApiVersion::V2 => v2::images::upload(id, size),
                ApiVersion::V1 => v1::images::upload(id, size),
            })?;
        wire::check(&response)
    }

    /// Stages data for a `glance-direct` import (`PUT .../stage`), sent as
    /// [`Client::upload`] sends it. v2 only.
    pub fn stage(&self, id: &str, data: ImageData<'_>) -> Result<()> {
        self.require_v2("stage")?;
        let refused = || self.upload_refused(id);
        let response = self.send_data(data, Retry::Safe, &refused, |size| {
            v2::import::stage(id, size)
        })?;
        wire::parse_empty(&response)
    }

    /// Sends `data` with the request `request` builds for its size. A
    /// rewindable source is retried as `retry` says, a plain reader only
    /// when nothing was sent; when the transfer breaks off, `refused` says
    /// whether that was the server refusing it (see
    /// [`Client::upload_refused`]).
    pub(crate) fn send_data(
        &self,
        data: ImageData<'_>,
        retry: Retry,
        refused: &dyn Fn() -> Option<Error>,
        request: impl FnOnce(Option<u64>) -> Result<Request<Vec<u8>>>,
    ) -> Result<Response<Vec<u8>>> {
        let transport = self.transport();
        let ctx = self.ctx(true)?;
        let source = |what: String, size| UploadSource {
            what,
            size,
            progress: data.progress,
        };
        match data.source {
            Source::File(path) => {
                let (mut file, size) = open_sized(&path)?;
                let request = request(Some(size))?;
                let payload = Payload::Rewindable {
                    reader: &mut file,
                    start: 0,
                };
                let source = source(path.display().to_string(), Some(size));
                transport.send_payload(&ctx, &request, payload, source, retry, refused)
            }
            Source::Seekable { reader, size } => {
                let request = request(size)?;
                let start = reader
                    .stream_position()
                    .map_err(|e| Error::io("reading the upload source's position", e))?;
                let payload = Payload::Rewindable { reader, start };
                let source = source("the upload source".into(), size);
                transport.send_payload(&ctx, &request, payload, source, retry, refused)
            }
            Source::Reader { reader, size } => {
                let request = request(size)?;
                let source = source("the upload source".into(), size);
                transport.send_payload(
                    &ctx,
                    &request,
                    Payload::Stream(reader),
                    source,
                    retry,
                    refused,
                )
            }
        }
    }

    /// After an upload to `id` broke off: Glance answers an upload to an
    /// image that is not `queued` at once with 409 and closes the connection,
    /// so the answer is lost in the send. The image's status tells: not
    /// `queued` any more means refused ([`Error::Conflict`]); still
    /// `queued` (or unknown) means a network failure, retried as such.
    pub(crate) fn upload_refused(&self, id: &str) -> Option<Error> {
        let image = self.image(id).ok()?;
        if image.status == "queued" {
            return None;
        }
        log::warn!(
            "upload to image {id} broke off and the image is {}: taken as refused",
            image.status
        );
        Some(Error::from_status(ApiError::new(
            409,
            format!(
                "the server closed the connection during the upload, and image {id} is {}, \
                 not queued: Glance refuses data for an image that is not queued",
                image.status
            ),
            None,
        )))
    }
}

/// Opens a file for upload and reads its size.
fn open_sized(path: &Path) -> Result<(File, u64)> {
    let mut file =
        File::open(path).map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
    let size = file
        .seek(SeekFrom::End(0))
        .and_then(|n| file.seek(SeekFrom::Start(0)).map(|_| n))
        .map_err(|e| Error::io(format!("reading the size of {}", path.display()), e))?;
    Ok((file, size))
}
