//! Byte ranges into a message buffer.

use abi_stable::StableAbi;

/// A half-open byte range `start..end` into the message buffer.
///
/// Spans are `u32` so that they cross the plugin ABI compactly; messages are
/// therefore limited to 4 GiB (the parser rejects anything larger).
#[repr(C)]
#[derive(StableAbi, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Span {
    /// First byte of the range.
    pub start: u32,
    /// One past the last byte of the range.
    pub end: u32,
}

impl Span {
    /// Builds a span from `usize` offsets (callers guarantee they fit in `u32`).
    #[inline]
    pub fn new(start: usize, end: usize) -> Span {
        Span {
            start: start as u32,
            end: end as u32,
        }
    }

    /// The bytes this span covers in `buf`; an out-of-range span yields an empty slice.
    #[inline]
    pub fn get<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        buf.get(self.start as usize..self.end as usize)
            .unwrap_or_default()
    }

    /// Length in bytes.
    #[inline]
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start) as usize
    }

    /// True when the span covers no bytes.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_and_len() {
        let s = Span::new(2, 5);
        assert_eq!(s.get(b"abcdefg"), b"cde");
        assert_eq!(s.len(), 3);
        assert!(!s.is_empty());
        assert!(Span::default().is_empty());
        assert_eq!(Span::new(5, 50).get(b"abc"), b"");
    }
}
