//! The streaming [`Inspector`]: feeds the head window, the tail ring and the
//! VHDX walker, and puts their findings together at the end.

use std::fmt;

use super::bytes::{Tail, has};
use super::inspection::{Format, Inspection};
use super::start::{self, HEAD_LEN, Start};
use super::verdict::{self, Policy, Reason};
use super::vhdx::Walker;
use super::{vhd, vmdk};

/// A sans-IO disk image inspector: feed it the image's bytes in order, in
/// slices of any size, then [`finish`](Self::finish) it for the
/// [`Inspection`]. It holds at most [`MAX_HELD_BYTES`](Self::MAX_HELD_BYTES)
/// whatever the data, and the result does not depend on how the bytes were
/// split.
///
/// ```
/// use glance_client::inspect::{Format, Inspector, Policy};
///
/// let mut inspector = Inspector::new();
/// let mut qcow2 = vec![0u8; 512];
/// qcow2[..4].copy_from_slice(b"QFI\xfb");
/// qcow2[7] = 3; // version 3
/// qcow2[15] = 0xf0; // a backing file name at byte 240
/// for chunk in qcow2.chunks(100) {
///     inspector.feed(chunk);
/// }
/// let inspection = inspector.finish();
/// assert_eq!(inspection.format, Format::Qcow2);
/// assert!(inspection.verdict(Some("qcow2"), &Policy::default()).is_err());
/// ```
#[derive(Default)]
pub struct Inspector {
    pos: u64,
    /// The head window while it fills; released once analysed.
    head: Vec<u8>,
    tail: Tail,
    /// What the head window said, once complete.
    start: Option<Start>,
    vhdx: Option<Walker>,
}

impl Inspector {
    /// The most bytes an inspector holds: the 64.5 KiB head window (or,
    /// after it, one 64 KiB VHDX table), the 1.5 KiB tail, and the facts'
    /// strings (a few KiB at most).
    pub const MAX_HELD_BYTES: usize = 80 * 1024;

    /// An inspector at the start of an image.
    pub fn new() -> Self {
        Inspector::default()
    }

    /// Takes the next bytes of the image. Once the head window (64.5 KiB)
    /// has passed, a feed costs a copy of at most 1536 bytes into the tail
    /// ring (and, for a VHDX, of the table bytes it carries), whatever its
    /// length.
    pub fn feed(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let at = self.pos;
        self.pos = self.pos.saturating_add(data.len() as u64);
        self.tail.push(data);
        if self.start.is_none() {
            if self.head.capacity() == 0 {
                self.head.reserve_exact(HEAD_LEN);
            }
            let room = HEAD_LEN.saturating_sub(self.head.len());
            self.head
                .extend_from_slice(data.get(..room).unwrap_or(data));
            if self.head.len() >= HEAD_LEN {
                self.settle_head();
            }
        }
        if let Some(walker) = &mut self.vhdx {
            walker.feed(at, data);
        }
    }

    fn settle_head(&mut self) {
        let start = start::analyse(&self.head);
        if start.insp.format == Format::Vhdx {
            self.vhdx = Some(Walker::new());
        }
        self.start = Some(start);
        self.head = Vec::new();
    }

    /// How many bytes have been fed.
    pub fn position(&self) -> u64 {
        self.pos
    }

    /// The bytes the inspector holds now, never more than
    /// [`MAX_HELD_BYTES`](Self::MAX_HELD_BYTES).
    pub fn held_bytes(&self) -> usize {
        let start = self
            .start
            .as_ref()
            .map_or(0, |s| s.insp.held() + s.pending.held());
        self.head.capacity() + self.tail.held() + start + self.vhdx.as_ref().map_or(0, Walker::held)
    }

    /// A refusal that no later bytes can undo, so that a download can stop
    /// early: `Some` only when [`Inspection::verdict`] on the whole data is
    /// certain to refuse too (its reason may differ, for example when the
    /// data ends in a truncated structure). It answers at once for a
    /// `disk_format` the inspector cannot check, and otherwise only after
    /// the head window (the first 64.5 KiB), where the format is decided;
    /// a raw or gpt start may still turn out to be a fixed VHD, whose footer
    /// is the last 512 bytes, and is judged accordingly.
    pub fn early_refusal(&self, claimed: Option<&str>, policy: &Policy) -> Option<Reason> {
        if let Some(reason) = verdict::unsupported_claim(claimed) {
            return Some(reason);
        }
        let start = self.start.as_ref()?;
        let may_become_fixed_vhd = may_become_fixed_vhd(&start.insp);
        match &self.vhdx {
            None => verdict::early(&start.insp, may_become_fixed_vhd, claimed, policy),
            Some(walker) => {
                let mut provisional = start.insp.clone();
                walker.facts(&mut provisional);
                verdict::early(&provisional, may_become_fixed_vhd, claimed, policy)
            }
        }
    }

    /// The inspection of all the bytes fed.
    pub fn finish(mut self) -> Inspection {
        if self.start.is_none() {
            self.settle_head();
        }
        let Some(Start { mut insp, pending }) = self.start.take() else {
            return Inspection::new(Format::Raw, self.pos);
        };
        insp.size = self.pos;
        let footer = self
            .tail
            .last(vhd::FOOTER_LEN)
            .filter(|f| has(f, 0, vhd::COOKIE));
        if let Some(footer) = footer
            && may_become_fixed_vhd(&insp)
        {
            insp.format = Format::Vhd;
            insp.vhd_fixed = true;
            vhd::parse_fixed(&footer, &mut insp);
        }
        if matches!(insp.format, Format::Raw | Format::Gpt) {
            insp.virtual_size = Some(self.pos);
        }
        if let Some(header) = pending.vmdk_footer {
            vmdk::check_footer(header, self.tail.last(Tail::CAP).as_deref(), &mut insp);
        }
        pending.check(self.pos, &mut insp);
        if let Some(walker) = self.vhdx.take() {
            walker.finish(self.pos, &mut insp);
        }
        insp
    }
}

/// Whether the format may still become a fixed VHD: a raw or gpt start,
/// unambiguous, may end in a VHD footer.
fn may_become_fixed_vhd(insp: &Inspection) -> bool {
    matches!(insp.format, Format::Raw | Format::Gpt) && insp.also_detected.is_empty()
}

impl fmt::Debug for Inspector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Inspector")
            .field("position", &self.pos)
            .field("format", &self.start.as_ref().map(|s| s.insp.format))
            .field("held_bytes", &self.held_bytes())
            .finish()
    }
}
