//! The HTTP path: stream the image data into a sink while the hashing
//! threads verify it, and resume with `Range` when the body breaks off.
//! [`Resumer`] keeps the state between bodies (pure, tested on its own);
//! [`fetch`] does the reading, writing and asking.
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
use super::inspecting::InspectPlan;
use super::signing::Signing;
use super::staged::Staged;
use super::verify::{self, Check, Pipe, Verified};
use crate::client::{Client, ImageStream};
use crate::error::{Error, Result};
use crate::image::Image;
use crate::transport::is_retryable;
use crate::wire::DownloadStart;

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
    pub(super) verified: Verified,
    pub(super) server: String,
    pub(super) resumes: u32,
}

/// Limits and switches of one fetch.
pub(super) struct Fetch<'o, 'p> {
    pub(super) require_checksum: bool,
    /// The format inspection, when it is on.
    pub(super) inspect: Option<&'o InspectPlan>,
    /// The signature to verify, when one is required.
    pub(super) signing: Option<&'o Signing>,
    pub(super) max_resumes: u32,
    pub(super) progress: &'o mut Progress<'p>,
    /// The stores to ask for first (`?prefer=`), every request alike.
    pub(super) prefer: &'o [String],
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
    let mut stream = client.open_preferring(id, 0, how.prefer)?;
    verify::with_content_md5(&mut checks, stream.content_md5())?;
    if checks.is_empty() {
        if how.require_checksum {
            return Err(Error::NoChecksum {
                image_id: id.to_string(),
            });
        }
        log::warn!("image {id} has no checksum: downloading it unverified");
    }
    let mut resumer = Resumer::new(
        id,
        image.size,
        stream.start(),
        stream.server(),
        how.max_resumes,
    )?;
    std::thread::scope(|scope| {
        let mut pipe = Pipe::start(scope, &checks, how.inspect, how.signing);
        let mut transfer = Transfer {
            client,
            sink,
            pipe: &mut pipe,
            progress: how.progress,
            resumer: &mut resumer,
            prefer: how.prefer,
        };
        transfer.all_bodies(&mut stream)?;
        let bytes = resumer.finish()?;
        let verified = pipe.finish()?;
        Ok(Fetched {
            bytes,
            verified,
            server: stream.server().to_string(),
            resumes: resumer.resumes(),
        })
    })
}

/// One fetch's moving parts: where the data goes and what is known.
struct Transfer<'a, 'scope, 'p> {
    client: &'a Client,
    sink: &'a mut dyn Sink,
    pipe: &'a mut Pipe<'scope>,
    progress: &'a mut Progress<'p>,
    resumer: &'a mut Resumer,
    prefer: &'a [String],
}

impl Transfer<'_, '_, '_> {
    /// Passes `stream` and every body after it that a break calls for,
    /// until the image is complete.
    fn all_bodies(&mut self, stream: &mut ImageStream) -> Result<()> {
        loop {
            let Some(error) = self.one_body(stream)? else {
                return Ok(());
            };
            let next = self.reopen(stream.server(), error)?;
            if self.resumer.answered(next.start(), next.server())? == Answer::StartsOver {
                let restarted = self.sink.restart()?;
                if restarted {
                    self.pipe.reset()?;
                }
                self.resumer.started_over(restarted);
            }
            *stream = next;
        }
    }

    /// Passes the body of `stream` into the sink and the hashes until it
    /// ends (`None`: the image is complete, or its size unknown) or breaks
    /// off (the error, which may be resumed).
    fn one_body(&mut self, stream: &mut ImageStream) -> Result<Option<Error>> {
        loop {
            let mut buffer = self.pipe.buffer()?;
            let (len, failure) = fill(stream, &mut buffer);
            // Bytes at the head that were received before are dropped.
            let start = self.resumer.already_received(len);
            if start > 0 && len > start {
                buffer.copy_within(start..len, 0);
            }
            let len = len - start;
            if len > 0 {
                self.sink.write(&buffer[..len])?;
                self.pipe.hash(buffer, len)?;
                self.resumer.delivered(len)?;
                let (done, total) = (self.resumer.received(), self.resumer.total());
                if let ControlFlow::Break(()) = self.progress.report(done, total) {
                    return Err(Error::Cancelled);
                }
            } else {
                self.pipe.hash(buffer, 0)?;
            }
            match failure {
                Some(error) => return Ok(Some(error)),
                None if len > 0 || start > 0 => {}
                None => return Ok(self.resumer.ended(stream.server())),
            }
        }
    }

    /// Asks for the rest after `error` broke off the body from `server`, as
    /// often as the resumer allows; an unusable answer (a `206` whose
    /// `Content-Range` is unparsable or starts elsewhere) counts as an
    /// attempt, any other error ends the download.
    fn reopen(&mut self, server: &str, error: Error) -> Result<ImageStream> {
        let id = self.resumer.id.clone();
        let mut from = self.resumer.broke_off(server, error)?;
        loop {
            match self.client.open_preferring(&id, from, self.prefer) {
                Ok(next) => return Ok(next),
                Err(e @ Error::InvalidResponse(_)) => from = self.resumer.refused(e)?,
                Err(e) => return Err(e),
            }
        }
    }
}

/// What a resume's answer means for the data received so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Answer {
    /// It starts where the data stopped.
    Continues,
    /// It is the whole image (the server ignored the range): the sink
    /// starts over, or skips what it already has.
    StartsOver,
}

/// Where an HTTP download stands between reads and bodies: how much of the
/// image was delivered, how much of the current body repeats it, how many
/// resumes were made, and what the answers said about the image. Pure
/// state and decisions, no I/O: reading, writing and asking are
/// [`fetch`]'s.
///
/// A body that breaks off in a way another attempt may cure is asked for
/// again from the first byte not yet delivered, at most `max_resumes`
/// times. The image's size and MD5 must not change between answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Resumer {
    id: String,
    /// The image's size: its record's, else the first answer's that says.
    total: Option<u64>,
    /// The first answer's `Content-MD5`; every later one must agree.
    md5: Option<String>,
    /// Bytes delivered to the sink.
    received: u64,
    /// Bytes at the head of the current body that were delivered before (a
    /// full answer to a resume, into a sink that cannot start over).
    skip: u64,
    resumes: u32,
    max_resumes: u32,
}

impl Resumer {
    /// The state after the first answer, `first` from `server`, to a
    /// download of image `id` whose record gives `size`.
    pub(super) fn new(
        id: &str,
        size: Option<u64>,
        first: &DownloadStart,
        server: &str,
        max_resumes: u32,
    ) -> Result<Resumer> {
        let mut resumer = Resumer {
            id: id.to_string(),
            total: size,
            md5: first.content_md5.clone(),
            received: 0,
            skip: 0,
            resumes: 0,
            max_resumes,
        };
        resumer.agree_on_size(first, server)?;
        Ok(resumer)
    }

    /// Bytes delivered so far.
    pub(super) fn received(&self) -> u64 {
        self.received
    }

    /// The image's size, when known.
    pub(super) fn total(&self) -> Option<u64> {
        self.total
    }

    /// Resumes asked for so far (unusable answers included).
    pub(super) fn resumes(&self) -> u32 {
        self.resumes
    }

    /// Of `len` bytes just read from the current body, how many at the
    /// head were delivered before and must be dropped.
    pub(super) fn already_received(&mut self, len: usize) -> usize {
        let dropped = self.skip.min(len as u64);
        self.skip -= dropped;
        dropped as usize
    }

    /// Counts `len` more bytes delivered; more than the image's size is
    /// [`Error::SizeMismatch`].
    pub(super) fn delivered(&mut self, len: usize) -> Result<()> {
        self.received += len as u64;
        match self.total {
            Some(expected) if self.received > expected => Err(Error::SizeMismatch {
                expected,
                actual: self.received,
            }),
            _ => Ok(()),
        }
    }

    /// The current body, from `server`, ended: `None` when that is the
    /// end of the image (or its size is unknown), else the error of a body
    /// that ended short, which is resumed like a broken connection.
    pub(super) fn ended(&self, server: &str) -> Option<Error> {
        match self.total {
            Some(expected) if self.received + self.skip < expected => Some(Error::Transport {
                server: server.to_string(),
                message: format!("the body ended after {} of {expected} bytes", self.received),
                timeout: false,
            }),
            _ => None,
        }
    }

    /// The bytes of the whole image, once every body is through: they must
    /// be its size.
    pub(super) fn finish(&self) -> Result<u64> {
        match self.total {
            Some(expected) if self.received != expected => Err(Error::SizeMismatch {
                expected,
                actual: self.received,
            }),
            _ => Ok(self.received),
        }
    }

    /// The body from `server` broke off with `error`: the offset to ask
    /// the rest from (a resume counted), or the error that ends the
    /// download (one another attempt cannot cure, or no resume left).
    pub(super) fn broke_off(&mut self, server: &str, error: Error) -> Result<u64> {
        if !is_retryable(&error) {
            self.giving_up(&error);
            return Err(error);
        }
        let why = format!(
            "download from {server} broke off after {} bytes ({})",
            self.received,
            error.attempt_reason(),
        );
        self.next_attempt(why, error)
    }

    /// The answer to a resume was unusable (`error`): the offset to ask
    /// from again (another resume counted), or the error when none is left.
    pub(super) fn refused(&mut self, error: Error) -> Result<u64> {
        let why = format!(
            "unusable answer to the resume from byte {} ({error})",
            self.received
        );
        self.next_attempt(why, error)
    }

    fn next_attempt(&mut self, why: String, error: Error) -> Result<u64> {
        if self.resumes >= self.max_resumes {
            self.giving_up(&error);
            return Err(error);
        }
        self.resumes += 1;
        log::warn!(
            "image {}: {why}; resuming ({} of {})",
            self.id,
            self.resumes,
            self.max_resumes
        );
        Ok(self.received)
    }

    fn giving_up(&self, error: &Error) {
        if self.resumes > 0 {
            log::warn!(
                "image {}: giving up after {} resumes: {error}",
                self.id,
                self.resumes
            );
        }
    }

    /// A resume's answer, `start` from `server`: it must agree with the
    /// earlier ones on the image's size and MD5; says whether it continues
    /// the data or starts the image over.
    pub(super) fn answered(&mut self, start: &DownloadStart, server: &str) -> Result<Answer> {
        self.agree_on_size(start, server)?;
        if let (Some(a), Some(b)) = (self.md5.as_deref(), start.content_md5.as_deref())
            && a != b
        {
            return Err(Error::invalid_response(format!(
                "image {} changed during the download (Content-MD5 {a}, then {b})",
                self.id
            )));
        }
        if start.offset == self.received {
            // Nothing of this body was received before, even if an earlier
            // body that ignored the range was cut before catching up.
            self.skip = 0;
            return Ok(Answer::Continues);
        }
        log::warn!(
            "image {}: {server} ignored the range request; starting over",
            self.id
        );
        Ok(Answer::StartsOver)
    }

    /// After [`Answer::StartsOver`]: the sink started over from byte 0
    /// (`true`), or cannot, and the bytes it has are skipped in the new body.
    pub(super) fn started_over(&mut self, restarted: bool) {
        if restarted {
            self.received = 0;
            self.skip = 0;
        } else {
            self.skip = self.received;
        }
    }

    /// The image record, `Content-Length` and `Content-Range` must agree
    /// on the size; the first that says sets it.
    fn agree_on_size(&mut self, start: &DownloadStart, server: &str) -> Result<()> {
        match (self.total, start.total) {
            (Some(a), Some(b)) if a != b => Err(Error::invalid_response(format!(
                "{server} sends {b} bytes for an image of {a}"
            ))),
            (None, Some(b)) => {
                self.total = Some(b);
                Ok(())
            }
            _ => Ok(()),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The head of an answer: a body from `offset`, of an image of `total`.
    fn answer(offset: u64, total: Option<u64>, md5: Option<&str>) -> DownloadStart {
        DownloadStart {
            offset,
            length: total.map(|t| t - offset),
            total,
            content_md5: md5.map(String::from),
        }
    }

    fn reset() -> Error {
        Error::Transport {
            server: "http://a".into(),
            message: "connection reset".into(),
            timeout: false,
        }
    }

    fn resumer(size: Option<u64>, max_resumes: u32) -> Resumer {
        Resumer::new(
            "i",
            size,
            &answer(0, size, Some("m")),
            "http://a",
            max_resumes,
        )
        .unwrap()
    }

    #[test]
    fn a_whole_body_completes_the_image() {
        let mut r = resumer(Some(10), 5);
        assert_eq!(r.already_received(10), 0);
        r.delivered(10).unwrap();
        assert!(r.ended("http://a").is_none());
        assert_eq!(r.finish().unwrap(), 10);
        assert_eq!(r.resumes(), 0);
    }

    #[test]
    fn a_short_body_is_resumed_where_it_stopped() {
        let mut r = resumer(Some(10), 5);
        r.delivered(4).unwrap();
        let short = r.ended("http://a").expect("ended short");
        assert!(short.to_string().contains("after 4 of 10 bytes"), "{short}");
        assert_eq!(r.broke_off("http://a", short).unwrap(), 4);
        assert_eq!(r.resumes(), 1);
        let next = answer(4, Some(10), Some("m"));
        assert_eq!(r.answered(&next, "http://b").unwrap(), Answer::Continues);
        r.delivered(6).unwrap();
        assert_eq!(r.finish().unwrap(), 10);
    }

    #[test]
    fn more_data_than_the_image_holds_is_a_size_mismatch() {
        let mut r = resumer(Some(10), 5);
        r.delivered(8).unwrap();
        let e = r.delivered(3).unwrap_err();
        assert!(
            matches!(
                e,
                Error::SizeMismatch {
                    expected: 10,
                    actual: 11
                }
            ),
            "{e:?}"
        );
        let r = resumer(Some(10), 5);
        assert!(matches!(
            r.finish(),
            Err(Error::SizeMismatch { actual: 0, .. })
        ));
    }

    #[test]
    fn a_sink_that_can_start_over_does_after_a_full_answer() {
        let mut r = resumer(Some(10), 5);
        r.delivered(4).unwrap();
        r.broke_off("http://a", reset()).unwrap();
        let full = answer(0, Some(10), Some("m"));
        assert_eq!(r.answered(&full, "http://b").unwrap(), Answer::StartsOver);
        r.started_over(true);
        assert_eq!((r.received(), r.already_received(10)), (0, 0));
    }

    #[test]
    fn a_sink_that_cannot_start_over_skips_what_it_has() {
        let mut r = resumer(Some(10), 5);
        r.delivered(6).unwrap();
        r.broke_off("http://a", reset()).unwrap();
        assert_eq!(
            r.answered(&answer(0, Some(10), None), "http://b").unwrap(),
            Answer::StartsOver
        );
        r.started_over(false);
        // The 6 bytes it has come again, across two reads.
        assert_eq!(r.already_received(4), 4);
        assert_eq!(r.already_received(4), 2);
        r.delivered(2).unwrap();
        assert_eq!(r.received(), 8);
        // A full body cut before catching up ends short of the image.
        let mut r = resumer(Some(10), 5);
        r.delivered(6).unwrap();
        r.broke_off("http://a", reset()).unwrap();
        r.answered(&answer(0, Some(10), None), "http://b").unwrap();
        r.started_over(false);
        assert_eq!(r.already_received(3), 3);
        assert!(r.ended("http://b").is_some(), "3 of the 6 still to skip");
        // A later ranged answer from where the data stopped skips nothing.
        assert_eq!(r.broke_off("http://b", reset()).unwrap(), 6);
        assert_eq!(
            r.answered(&answer(6, Some(10), None), "http://a").unwrap(),
            Answer::Continues
        );
        assert_eq!(r.already_received(4), 0);
    }

    #[test]
    fn resumes_are_bounded_and_unusable_answers_count() {
        let mut r = resumer(Some(10), 2);
        assert_eq!(r.broke_off("http://a", reset()).unwrap(), 0);
        let unusable = Error::invalid_response("bad Content-Range");
        assert_eq!(r.refused(unusable).unwrap(), 0);
        assert_eq!(r.resumes(), 2);
        let last = r.refused(Error::invalid_response("again")).unwrap_err();
        assert!(last.to_string().contains("again"), "{last}");
        assert_eq!(r.resumes(), 2);
        let mut none = resumer(Some(10), 0);
        assert!(matches!(
            none.broke_off("http://a", reset()),
            Err(Error::Transport { .. })
        ));
    }

    #[test]
    fn a_failure_another_attempt_cannot_cure_is_not_resumed() {
        let mut r = resumer(Some(10), 5);
        let e = r.broke_off("http://a", Error::Cancelled).unwrap_err();
        assert!(matches!(e, Error::Cancelled));
        assert_eq!(r.resumes(), 0);
    }

    #[test]
    fn every_answer_must_agree_on_the_size_and_md5() {
        let e = Resumer::new("i", Some(10), &answer(0, Some(11), None), "http://a", 5).unwrap_err();
        assert!(
            e.to_string().contains("sends 11 bytes for an image of 10"),
            "{e}"
        );
        let mut r = resumer(None, 5);
        assert_eq!(r.total(), None);
        r.answered(&answer(0, Some(12), Some("m")), "http://b")
            .unwrap();
        assert_eq!(r.total(), Some(12), "the first answer that says sets it");
        let e = r
            .answered(&answer(0, Some(12), Some("other")), "http://b")
            .unwrap_err();
        assert!(e.to_string().contains("changed during the download"), "{e}");
    }
}
