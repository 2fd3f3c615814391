//! Checked reads from byte slices, and the ring that keeps the last bytes of
//! the stream. Every read returns `None` past the end instead of panicking,
//! so a parser can treat a short slice as a truncated header.

/// `len` bytes at `at`, or `None` when they are not all there.
pub(super) fn slice(b: &[u8], at: usize, len: usize) -> Option<&[u8]> {
    b.get(at..at.checked_add(len)?)
}

/// Whether `magic` is at `at`.
pub(super) fn has(b: &[u8], at: usize, magic: &[u8]) -> bool {
    slice(b, at, magic.len()) == Some(magic)
}

fn array<const N: usize>(b: &[u8], at: usize) -> Option<[u8; N]> {
    slice(b, at, N)?.try_into().ok()
}

pub(super) fn be32(b: &[u8], at: usize) -> Option<u32> {
    array(b, at).map(u32::from_be_bytes)
}

pub(super) fn be64(b: &[u8], at: usize) -> Option<u64> {
    array(b, at).map(u64::from_be_bytes)
}

pub(super) fn be16(b: &[u8], at: usize) -> Option<u16> {
    array(b, at).map(u16::from_be_bytes)
}

pub(super) fn le16(b: &[u8], at: usize) -> Option<u16> {
    array(b, at).map(u16::from_le_bytes)
}

pub(super) fn le32(b: &[u8], at: usize) -> Option<u32> {
    array(b, at).map(u32::from_le_bytes)
}

pub(super) fn le64(b: &[u8], at: usize) -> Option<u64> {
    array(b, at).map(u64::from_le_bytes)
}

/// A name or line from the image as text for a fact or a message: at most
/// `cap` bytes, invalid UTF-8 replaced.
pub(super) fn text(b: &[u8], cap: usize) -> String {
    String::from_utf8_lossy(b.get(..cap).unwrap_or(b)).into_owned()
}

/// The bytes before the first NUL (C string semantics, as qemu reads a
/// descriptor), and whether a NUL was found.
pub(super) fn until_nul(b: &[u8]) -> (&[u8], bool) {
    match b.iter().position(|&c| c == 0) {
        Some(n) => (b.get(..n).unwrap_or(b), true),
        None => (b, false),
    }
}

/// The last [`Tail::CAP`] bytes of the stream, kept as a ring so that a feed
/// costs a copy of at most `CAP` bytes whatever its length. The ring is
/// allocated at the first byte.
#[derive(Clone, Default)]
pub(super) struct Tail {
    ring: Vec<u8>,
    /// Where the next byte goes.
    next: usize,
    /// How many bytes of the ring hold data (grows to `CAP`, then stays).
    filled: usize,
}

impl Tail {
    /// 1536 bytes: a VMDK stream footer (footer marker, footer, end-of-stream
    /// marker) is the largest structure read from the end; a VHD footer is
    /// the last 512.
    pub(super) const CAP: usize = 1536;

    pub(super) fn push(&mut self, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        if self.ring.is_empty() {
            self.ring = vec![0; Self::CAP];
        }
        let keep = data
            .get(data.len().saturating_sub(Self::CAP)..)
            .unwrap_or(data);
        for part in self.split_at_wrap(keep.len()) {
            let (at, from, len) = part;
            if let (Some(dst), Some(src)) =
                (self.ring.get_mut(at..at + len), keep.get(from..from + len))
            {
                dst.copy_from_slice(src);
            }
        }
        self.next = (self.next + keep.len()) % Self::CAP;
        self.filled = (self.filled + keep.len()).min(Self::CAP);
    }

    /// Where `len` (≤ CAP) new bytes go: up to two (ring offset, source
    /// offset, length) pieces.
    fn split_at_wrap(&self, len: usize) -> [(usize, usize, usize); 2] {
        let first = len.min(Self::CAP - self.next);
        [(self.next, 0, first), (0, first, len - first)]
    }

    /// The last `n` bytes in stream order, when at least `n` were seen.
    pub(super) fn last(&self, n: usize) -> Option<Vec<u8>> {
        if n > self.filled {
            return None;
        }
        let start = (self.next + Self::CAP - n) % Self::CAP;
        let mut out = Vec::with_capacity(n);
        let first = n.min(Self::CAP - start);
        out.extend_from_slice(self.ring.get(start..start + first)?);
        out.extend_from_slice(self.ring.get(..n - first)?);
        Some(out)
    }

    pub(super) fn held(&self) -> usize {
        self.ring.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_the_last_bytes_whatever_the_split() {
        let data: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        for step in [1, 7, 511, 1535, 1536, 1537, 4999, 5000] {
            let mut tail = Tail::default();
            for piece in data.chunks(step) {
                tail.push(piece);
            }
            assert_eq!(
                tail.last(1536).as_deref(),
                data.get(5000 - 1536..),
                "step {step}"
            );
            assert_eq!(
                tail.last(512).as_deref(),
                data.get(5000 - 512..),
                "step {step}"
            );
        }
    }

    #[test]
    fn tail_shorter_than_asked_is_none() {
        let mut tail = Tail::default();
        tail.push(b"abc");
        assert_eq!(tail.last(3).as_deref(), Some(&b"abc"[..]));
        assert_eq!(tail.last(4), None);
        assert_eq!(Tail::default().last(0), Some(vec![]));
    }

    #[test]
    fn reads_past_the_end_are_none() {
        assert_eq!(be32(b"abc", 0), None);
        assert_eq!(le64(&[0; 8], 1), None);
        assert_eq!(slice(b"abc", usize::MAX, 2), None);
        assert!(!has(b"ab", 1, b"bc"));
        assert_eq!(until_nul(b"ab\0cd"), (&b"ab"[..], true));
    }
}
