//! What to verify a download against, and the hashing that does it off the
//! reading thread.
//!
//! The plan prefers the image's secure hash (`os_hash_algo` /
//! `os_hash_value`), then its legacy MD5 `checksum`, then the `Content-MD5`
//! header of the download; only the strongest is computed unless the caller
//! asks for every one ([`DownloadOptions::verify_all`]).
//!
//! [`Pipe`] moves filled buffers from the thread that reads and writes to one
//! hashing thread per algorithm, chained, and back into a fixed pool: memory
//! stays at `POOL` buffers whatever the image size, and the reader only waits
//! when the hashes fall `POOL` buffers behind.
//!
//! A download that verifies the image's signature needs the raw digest of
//! the signature's hash method over the same bytes: the checksum stage of
//! that algorithm gives it when there is one (an image whose `os_hash_algo`
//! is sha512, signed over SHA-512), else one more stage computes it, and
//! only it. So a signature adds at most one hash stream.
//!
//! [`DownloadOptions::verify_all`]: crate::DownloadOptions::verify_all

use std::io::{self, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::{Scope, ScopedJoinHandle};

use md5::Md5;
use sha2::{Digest, Sha224, Sha256, Sha384, Sha512};

use super::inspecting::{InspectPlan, Inspecting};
use super::signing::{Signing, Verdict};
use crate::error::{Error, Result};
use crate::image::Image;
use crate::inspect::Inspection;

/// Size of one buffer: large enough that channel traffic is noise (one
/// hand-over per 128 KiB), small enough to stay in L2 between the write and
/// the hash. Sizes from 64 KiB to 1 MiB, with pools of 4 to 32, measured
/// within the run-to-run noise on loopback (`benches/run.sh`; the README's
/// performance section).
pub(crate) const BUFFER: usize = 128 * 1024;

/// Buffers in flight. 16 x 128 KiB = 2 MiB, the whole of the downloader's
/// data memory.
const POOL: usize = 16;

/// A hash algorithm the downloader can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Algorithm {
    Md5,
    /// Only for an image signed over SHA-224 (`img_signature_hash_method`):
    /// no `os_hash_algo` is read as it.
    #[cfg_attr(not(feature = "signatures"), allow(dead_code))]
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Algorithm {
    /// The name Glance uses (`os_hash_algo`, Python's hashlib names).
    pub(crate) fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "md5",
            Algorithm::Sha224 => "sha224",
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha384 => "sha384",
            Algorithm::Sha512 => "sha512",
        }
    }

    fn from_name(name: &str) -> Option<Algorithm> {
        match name.trim().to_ascii_lowercase().replace('-', "").as_str() {
            "md5" => Some(Algorithm::Md5),
            "sha256" => Some(Algorithm::Sha256),
            "sha384" => Some(Algorithm::Sha384),
            "sha512" => Some(Algorithm::Sha512),
            _ => None,
        }
    }

    /// Length of the hex digest.
    fn hex_len(self) -> usize {
        match self {
            Algorithm::Md5 => 32,
            Algorithm::Sha224 => 56,
            Algorithm::Sha256 => 64,
            Algorithm::Sha384 => 96,
            Algorithm::Sha512 => 128,
        }
    }
}

/// One digest to compare against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Check {
    pub(crate) algorithm: Algorithm,
    /// Lowercase hex.
    pub(crate) expected: String,
    /// Where the expected value came from, for messages.
    pub(crate) from: &'static str,
}

impl Check {
    fn new(algorithm: Algorithm, value: &str, from: &'static str) -> Result<Check> {
        let expected = value.trim().to_ascii_lowercase();
        if expected.len() != algorithm.hex_len() || !expected.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(Error::invalid_response(format!(
                "{from} is not a {} hex digest: {value:?}",
                algorithm.name()
            )));
        }
        Ok(Check {
            algorithm,
            expected,
            from,
        })
    }
}

/// The checks to run, strongest first; empty means the image carries no
/// checksum at all (the download may still find a `Content-MD5`).
pub(crate) fn plan(
    image: &Image,
    verify_all: bool,
    allow_md5_fallback: bool,
) -> Result<Vec<Check>> {
    let mut checks = Vec::new();
    let value = image.os_hash_value.as_deref().filter(|v| !v.is_empty());
    match (
        image.os_hash_algo.as_deref().filter(|a| !a.is_empty()),
        value,
    ) {
        (Some(name), Some(value)) => match Algorithm::from_name(name) {
            Some(algorithm) => checks.push(Check::new(algorithm, value, "os_hash_value")?),
            None if allow_md5_fallback => log::warn!(
                "image {}: os_hash_algo {name:?} is not supported; verifying the md5 checksum instead",
                image.id
            ),
            None => {
                return Err(Error::UnsupportedChecksum {
                    algorithm: name.to_string(),
                });
            }
        },
        (Some(name), None) => log::warn!(
            "image {}: os_hash_algo {name:?} without os_hash_value; not verified with it",
            image.id
        ),
        _ => {}
    }
    if let Some(sum) = image.checksum.as_deref().filter(|s| !s.is_empty())
        && (checks.is_empty() || verify_all)
        && !checks.iter().any(|c| c.algorithm == Algorithm::Md5)
    {
        checks.push(Check::new(Algorithm::Md5, sum, "checksum")?);
    }
    Ok(checks)
}

/// Adds the download's `Content-MD5` to the plan: as the check when the
/// image had none, and in any case compared with the image's own MD5.
pub(crate) fn with_content_md5(checks: &mut Vec<Check>, content_md5: Option<&str>) -> Result<()> {
    let Some(value) = content_md5 else {
        return Ok(());
    };
    let header = Check::new(Algorithm::Md5, value, "Content-MD5")?;
    if let Some(md5) = checks.iter().find(|c| c.algorithm == Algorithm::Md5)
        && md5.expected != header.expected
    {
        return Err(Error::invalid_response(format!(
            "Content-MD5 {} disagrees with the image's checksum {}",
            header.expected, md5.expected
        )));
    }
    if checks.is_empty() {
        checks.push(header);
    }
    Ok(())
}

/// A running hash.
enum Hasher {
    Md5(Md5),
    Sha224(Sha224),
    Sha256(Sha256),
    Sha384(Sha384),
    Sha512(Sha512),
}

impl Hasher {
    fn new(algorithm: Algorithm) -> Hasher {
        match algorithm {
            Algorithm::Md5 => Hasher::Md5(Md5::new()),
            Algorithm::Sha224 => Hasher::Sha224(Sha224::new()),
            Algorithm::Sha256 => Hasher::Sha256(Sha256::new()),
            Algorithm::Sha384 => Hasher::Sha384(Sha384::new()),
            Algorithm::Sha512 => Hasher::Sha512(Sha512::new()),
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Md5(h) => h.update(data),
            Hasher::Sha224(h) => h.update(data),
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha384(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
    }

    fn finish(self) -> Vec<u8> {
        match self {
            Hasher::Md5(h) => h.finalize().to_vec(),
            Hasher::Sha224(h) => h.finalize().to_vec(),
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::Sha384(h) => h.finalize().to_vec(),
            Hasher::Sha512(h) => h.finalize().to_vec(),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// Hashes everything `reader` yields (on this thread): the byte count and
/// the lowercase hex digest. For re-checking a file at rest.
pub(crate) fn digest(algorithm: Algorithm, reader: &mut dyn Read) -> io::Result<(u64, String)> {
    let mut hasher = Hasher::new(algorithm);
    let mut buffer = vec![0; BUFFER];
    let mut total = 0u64;
    loop {
        match reader.read(&mut buffer) {
            Ok(0) => return Ok((total, hex(&hasher.finish()))),
            Ok(n) => {
                hasher.update(&buffer[..n]);
                total += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// What travels down the chain of hashing threads.
enum Msg {
    /// A buffer and how many of its bytes to hash.
    Data(Vec<u8>, usize),
    /// Forget everything hashed so far (the download starts over).
    Reset,
}

/// Buffers out to the hashing threads and back, see the module docs.
pub(crate) struct Pipe<'scope> {
    /// Into the first hashing thread; `None` when there is nothing to verify.
    first: Option<SyncSender<Msg>>,
    /// Buffers the last thread is done with.
    free: Receiver<Vec<u8>>,
    /// Buffers kept here when nothing hashes them.
    spare: Vec<Vec<u8>>,
    allocated: usize,
    /// Each hashing thread, with the checksum it verifies (`None` for the
    /// stage that only gives the signature's digest).
    stages: Vec<(Option<Check>, ScopedJoinHandle<'scope, Vec<u8>>)>,
    /// The signature to verify, and the stage whose digest it covers.
    signing: Option<(usize, &'scope Signing)>,
    /// The format inspection of the data, when it is on.
    inspecting: Option<Inspecting>,
}

/// What a pass over the data established.
#[derive(Debug)]
pub(crate) struct Verified {
    /// The algorithms verified, strongest first.
    pub(crate) algorithms: Vec<&'static str>,
    /// The format inspection, when it was on (and passed).
    pub(crate) inspection: Option<Inspection>,
    /// The signature, when one was required (and verified).
    #[cfg_attr(not(feature = "signatures"), allow(dead_code))]
    pub(crate) signature: Option<Verdict>,
}

impl<'scope> Pipe<'scope> {
    /// Starts one hashing thread per check, in `scope`, and one more for
    /// `signing` when no check computes its hash; and the format inspection
    /// when `inspect` says so.
    pub(crate) fn start<'env>(
        scope: &'scope Scope<'scope, 'env>,
        checks: &[Check],
        inspect: Option<&InspectPlan>,
        signing: Option<&'scope Signing>,
    ) -> Pipe<'scope> {
        let (wanted, signed) = stages(checks, signing.map(Signing::algorithm));
        let signing = signing.zip(signed).map(|(signing, stage)| (stage, signing));
        let (free_tx, free) = sync_channel::<Vec<u8>>(POOL);
        let mut stages = Vec::new();
        let mut next: Option<SyncSender<Msg>> = None;
        // Built from the last stage back, so each knows where to send on.
        for (algorithm, check) in wanted.into_iter().rev() {
            let (tx, rx) = sync_channel::<Msg>(POOL);
            let forward = next.take();
            let free_tx = free_tx.clone();
            let handle = scope.spawn(move || hash_stage(algorithm, rx, forward, free_tx));
            stages.push((check, handle));
            next = Some(tx);
        }
        stages.reverse();
        Pipe {
            first: next,
            free,
            spare: Vec::new(),
            allocated: 0,
            stages,
            signing,
            inspecting: inspect.map(Inspecting::new),
        }
    }

    /// A buffer of length [`BUFFER`] to fill: a fresh one while the pool is
    /// not full, else the next one the hashes are done with. (Buffers keep
    /// their length, so they are zeroed once, not at every use.)
    pub(crate) fn buffer(&mut self) -> Result<Vec<u8>> {
        if let Some(b) = self.spare.pop() {
            return Ok(b);
        }
        if self.allocated < POOL {
            self.allocated += 1;
            return Ok(vec![0; BUFFER]);
        }
        self.free.recv().map_err(|_| hash_thread_gone())
    }

    /// Hands the first `len` bytes of a buffer to the hashes (or keeps the
    /// buffer when there are none).
    ///
    /// Every byte of image data passes here exactly once and in order,
    /// whether it came over HTTP (`http.rs`, after the sink has it) or from
    /// a local copy (`local.rs`, read back from the temporary file), and
    /// [`Pipe::reset`] marks a start over: the one place to add another
    /// consumer of the data.
    pub(crate) fn hash(&mut self, buffer: Vec<u8>, len: usize) -> Result<()> {
        if let Some(inspecting) = &mut self.inspecting {
            inspecting.feed(&buffer[..len.min(buffer.len())])?;
        }
        match &self.first {
            Some(tx) if len > 0 => tx
                .send(Msg::Data(buffer, len))
                .map_err(|_| hash_thread_gone()),
            _ => {
                self.spare.push(buffer);
                Ok(())
            }
        }
    }

    /// Forgets what was hashed: the data starts again from byte 0.
    pub(crate) fn reset(&mut self) -> Result<()> {
        if let Some(inspecting) = &mut self.inspecting {
            inspecting.reset();
        }
        match &self.first {
            Some(tx) => tx.send(Msg::Reset).map_err(|_| hash_thread_gone()),
            None => Ok(()),
        }
    }

    /// Waits for the hashes and compares them, then verifies the signature,
    /// then gives the inspection's verdict: a checksum mismatch first (the
    /// data is not the image), then a bad signature (the image is not the
    /// signer's), then an unsafe image.
    pub(crate) fn finish(mut self) -> Result<Verified> {
        let (algorithms, digest) = self.compare()?;
        let signature = match (self.signing, digest) {
            (Some((_, signing)), Some(digest)) => Some(signing.verify(&digest)?),
            _ => None,
        };
        let inspection = self.inspecting.take().map(Inspecting::finish).transpose()?;
        Ok(Verified {
            algorithms,
            inspection,
            signature,
        })
    }

    /// Waits for the hashes and compares them. Returns the algorithms
    /// verified, strongest first, and the digest the signature covers.
    fn compare(&mut self) -> Result<(Vec<&'static str>, Option<Vec<u8>>)> {
        drop(self.first.take());
        let mut verified = Vec::new();
        let mut mismatch = None;
        let mut signed = None;
        for (i, (check, handle)) in self.stages.drain(..).enumerate() {
            let digest = handle.join().map_err(|_| hash_thread_gone())?;
            if let Some(check) = check {
                let actual = hex(&digest);
                if actual == check.expected {
                    verified.push(check.algorithm.name());
                } else if mismatch.is_none() {
                    mismatch = Some(Error::ChecksumMismatch {
                        algorithm: check.algorithm.name(),
                        expected: check.expected,
                        actual,
                    });
                }
            }
            if self.signing.is_some_and(|(stage, _)| stage == i) {
                signed = Some(digest);
            }
        }
        match mismatch {
            Some(e) => Err(e),
            None => Ok((verified, signed)),
        }
    }
}

/// The hashing stages for `checks` and, when `signed` names the
/// signature's hash, the stage whose digest the signature covers: the
/// check of that algorithm, else one more stage at the end (with no check).
fn stages(
    checks: &[Check],
    signed: Option<Algorithm>,
) -> (Vec<(Algorithm, Option<Check>)>, Option<usize>) {
    let mut wanted: Vec<(Algorithm, Option<Check>)> = checks
        .iter()
        .map(|c| (c.algorithm, Some(c.clone())))
        .collect();
    let stage = signed.map(
        |algorithm| match wanted.iter().position(|(a, _)| *a == algorithm) {
            Some(at) => at,
            None => {
                wanted.push((algorithm, None));
                wanted.len() - 1
            }
        },
    );
    (wanted, stage)
}

fn hash_thread_gone() -> Error {
    Error::Internal("a hashing thread stopped unexpectedly".into())
}

/// One hashing thread: hash each buffer, pass it on, until the sender hangs up.
fn hash_stage(
    algorithm: Algorithm,
    rx: Receiver<Msg>,
    forward: Option<SyncSender<Msg>>,
    free: SyncSender<Vec<u8>>,
) -> Vec<u8> {
    let mut hasher = Hasher::new(algorithm);
    for msg in rx {
        let passed = match msg {
            Msg::Data(buffer, len) => {
                hasher.update(&buffer[..len.min(buffer.len())]);
                match &forward {
                    Some(next) => next.send(Msg::Data(buffer, len)).is_ok(),
                    // The pool holds every buffer, so this never blocks;
                    // a reader that is gone just drops it.
                    None => {
                        let _ = free.send(buffer);
                        true
                    }
                }
            }
            Msg::Reset => {
                hasher = Hasher::new(algorithm);
                forward
                    .as_ref()
                    .is_none_or(|next| next.send(Msg::Reset).is_ok())
            }
        };
        if !passed {
            break;
        }
    }
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(algo: Option<&str>, value: Option<&str>, checksum: Option<&str>) -> Image {
        Image {
            id: "i".into(),
            os_hash_algo: algo.map(Into::into),
            os_hash_value: value.map(Into::into),
            checksum: checksum.map(Into::into),
            ..Image::default()
        }
    }

    const MD5_ABC: &str = "900150983cd24fb0d6963f7d28e17f72";
    const SHA256_ABC: &str = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    #[test]
    fn plan_prefers_the_secure_hash_and_adds_md5_only_when_asked() {
        let img = image(Some("sha256"), Some(SHA256_ABC), Some(MD5_ABC));
        let only = plan(&img, false, false).unwrap();
        assert_eq!(only.len(), 1);
        assert_eq!(only[0].algorithm, Algorithm::Sha256);
        let all = plan(&img, true, false).unwrap();
        let names: Vec<_> = all.iter().map(|c| c.algorithm.name()).collect();
        assert_eq!(names, ["sha256", "md5"]);
    }

    #[test]
    fn plan_falls_back_to_md5_without_a_secure_hash() {
        let checks = plan(&image(None, None, Some(MD5_ABC)), false, false).unwrap();
        assert_eq!(checks[0].algorithm, Algorithm::Md5);
        assert!(
            plan(&image(None, None, None), false, false)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn unknown_algorithm_is_an_error_unless_md5_may_stand_in() {
        let img = image(Some("blake3"), Some("00"), Some(MD5_ABC));
        match plan(&img, false, false) {
            Err(Error::UnsupportedChecksum { algorithm }) => assert_eq!(algorithm, "blake3"),
            other => panic!("expected UnsupportedChecksum, got {other:?}"),
        }
        let checks = plan(&img, false, true).unwrap();
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].algorithm, Algorithm::Md5);
    }

    #[test]
    fn malformed_digests_are_invalid_responses() {
        let img = image(Some("sha256"), Some("abc"), None);
        assert!(matches!(
            plan(&img, false, false),
            Err(Error::InvalidResponse(_))
        ));
        let img = image(None, None, Some("zz0150983cd24fb0d6963f7d28e17f72"));
        assert!(matches!(
            plan(&img, false, false),
            Err(Error::InvalidResponse(_))
        ));
    }

    #[test]
    fn content_md5_is_the_last_resort_and_must_agree() {
        let mut none = Vec::new();
        with_content_md5(&mut none, Some(&MD5_ABC.to_uppercase())).unwrap();
        assert_eq!(none[0].expected, MD5_ABC);
        assert_eq!(none[0].from, "Content-MD5");
        let mut md5 = plan(&image(None, None, Some(MD5_ABC)), false, false).unwrap();
        let other = "00000000000000000000000000000000";
        assert!(matches!(
            with_content_md5(&mut md5, Some(other)),
            Err(Error::InvalidResponse(_))
        ));
    }

    fn run(
        checks: &[Check],
        chunks: &[&[u8]],
        reset_after: Option<usize>,
    ) -> Result<Vec<&'static str>> {
        std::thread::scope(|s| {
            let mut pipe = Pipe::start(s, checks, None, None);
            for (i, chunk) in chunks.iter().enumerate() {
                let mut b = pipe.buffer()?;
                b[..chunk.len()].copy_from_slice(chunk);
                pipe.hash(b, chunk.len())?;
                if reset_after == Some(i) {
                    pipe.reset()?;
                }
            }
            pipe.finish().map(|v| v.algorithms)
        })
    }

    #[test]
    fn pipe_verifies_across_buffers_and_reports_mismatches() {
        let checks = plan(
            &image(Some("sha256"), Some(SHA256_ABC), Some(MD5_ABC)),
            true,
            false,
        )
        .unwrap();
        assert_eq!(
            run(&checks, &[b"a", b"", b"bc"], None).unwrap(),
            ["sha256", "md5"]
        );
        match run(&checks, &[b"abd"], None) {
            Err(Error::ChecksumMismatch { algorithm, .. }) => assert_eq!(algorithm, "sha256"),
            other => panic!("expected a mismatch, got {other:?}"),
        }
    }

    #[test]
    fn a_hashing_thread_that_stopped_is_an_internal_fault() {
        // Not the caller's input, not the server's answer.
        let e = hash_thread_gone();
        assert!(matches!(e, Error::Internal(_)), "{e:?}");
        assert!(e.to_string().starts_with("internal error: "), "{e}");
    }

    #[test]
    fn a_signature_adds_at_most_one_hash_stream() {
        let img = image(Some("sha512"), Some(&"0".repeat(128)), Some(MD5_ABC));
        let all = plan(&img, true, false).unwrap();
        let algorithms = |stages: &[(Algorithm, Option<Check>)]| -> Vec<&str> {
            stages.iter().map(|(a, _)| a.name()).collect()
        };
        // Signed over the checksum's own hash: its stage gives the digest.
        let (same, at) = stages(&all, Some(Algorithm::Sha512));
        assert_eq!((algorithms(&same), at), (vec!["sha512", "md5"], Some(0)));
        let (md5, at) = stages(&all, Some(Algorithm::Md5));
        assert_eq!((algorithms(&md5), at), (vec!["sha512", "md5"], Some(1)));
        // Another hash: one stage more, which verifies no checksum.
        let (other, at) = stages(&all, Some(Algorithm::Sha224));
        assert_eq!(
            (algorithms(&other), at),
            (vec!["sha512", "md5", "sha224"], Some(2))
        );
        assert!(other[2].1.is_none());
        // No checksum at all: the signature's stage alone.
        let (alone, at) = stages(&[], Some(Algorithm::Sha256));
        assert_eq!((algorithms(&alone), at), (vec!["sha256"], Some(0)));
        let (unsigned, at) = stages(&all, None);
        assert_eq!((unsigned.len(), at), (2, None));
    }

    #[test]
    fn pipe_reset_forgets_earlier_data() {
        let checks = plan(&image(None, None, Some(MD5_ABC)), false, false).unwrap();
        assert_eq!(run(&checks, &[b"xyz", b"abc"], Some(0)).unwrap(), ["md5"]);
    }

    #[test]
    fn pipe_recycles_a_bounded_pool() {
        // Many more buffers than the pool: the reader gets recycled ones.
        let chunk = [7u8; 1000];
        let chunks: Vec<&[u8]> = (0..POOL * 8).map(|_| &chunk[..]).collect();
        let expected = {
            let mut h = Md5::new();
            for c in &chunks {
                h.update(c);
            }
            hex(&h.finalize())
        };
        let checks = vec![Check::new(Algorithm::Md5, &expected, "test").unwrap()];
        assert_eq!(run(&checks, &chunks, None).unwrap(), ["md5"]);
        // No checks: nothing to hash, still a working pool.
        assert!(run(&[], &chunks, None).unwrap().is_empty());
    }
}
