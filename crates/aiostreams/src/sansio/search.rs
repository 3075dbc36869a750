//! Separator search with asyncio's limit accounting, resumable without rescanning.

use std::borrow::Cow;

use crate::Error;

/// The first `\n` in `haystack`: the first 16 bytes as two words, inline, then
/// `memchr`. Most lines a reader takes from its buffer are short (RESP's `*3\r\n`,
/// `$5\r\n`, `+OK\r\n`), and `memchr`'s call and dispatch cost more than that search.
/// (Two `u64` words rather than one `u128`: a line within 8 bytes is found with one,
/// and each costs 7 instructions where the `u128` carry chain took 27 for both.)
#[inline(always)]
pub(crate) fn find_newline(haystack: &[u8]) -> Option<usize> {
    let at = if let Some(word) = haystack.first_chunk::<16>() {
        let word = u128::from_le_bytes(*word);
        if let Some(i) = first_newline(word as u64) {
            return Some(i);
        }
        if let Some(i) = first_newline((word >> 64) as u64) {
            return Some(8 + i);
        }
        16
    } else if let Some(word) = haystack.first_chunk::<8>() {
        if let Some(i) = first_newline(u64::from_le_bytes(*word)) {
            return Some(i);
        }
        8
    } else {
        0
    };
    // (An empty rest, a request/response reader's empty buffer above all, is no call.)
    if at == haystack.len() {
        return None;
    }
    find_newline_past_words(haystack, at)
}

/// The first `\n` of `haystack[at..]` (what the inline words did not cover), as an
/// index into `haystack`: on x86-64 with AVX2, `memchr`'s AVX2 searcher called directly
/// (its `find` is inlined here, down to the vector loop, and short rests are searched
/// here with SSE2). `memchr::memchr` reaches the same loop through a function pointer
/// and two more frames (30 instructions per call); this function's own frame and checks
/// take back part of that: a 100-byte line costs 6 fewer, and the search of a long one
/// is the same vector loop. (`memchr`'s SSE2 searcher, which x86-64 always has and
/// which inlines whole, cost more: 116 instructions per 100-byte line against 103.) Out
/// of line, with the slicing inside, so that the short lines the words find keep the
/// caller's code as small as before (a buffered 16-byte `readline` was 7 instructions
/// dearer with the call taking the slice).
#[inline(never)]
fn find_newline_past_words(haystack: &[u8], at: usize) -> Option<usize> {
    let rest = haystack.get(at..)?;
    #[cfg(target_arch = "x86_64")]
    {
        use memchr::arch::x86_64::avx2::memchr::One;
        // Made once: `One::new` checks the CPU and builds its vectors in a call.
        static NEWLINE: std::sync::OnceLock<Option<One>> = std::sync::OnceLock::new();
        if let Some(avx2) = NEWLINE.get_or_init(|| One::new(b'\n')) {
            return avx2.find(rest).map(|i| at + i);
        }
    }
    memchr::memchr(b'\n', rest).map(|i| at + i)
}

/// The index of the first `\n` byte of `word` (little-endian), if any: the classic
/// "has a zero byte" test on `word ^ 0x0a0a...`. The lowest high bit it sets marks the
/// first zero byte (higher ones may be false positives, from the borrow; never the
/// lowest).
#[inline]
fn first_newline(word: u64) -> Option<usize> {
    const ONES: u64 = u64::MAX / 0xff;
    let x = word ^ (ONES * u64::from(b'\n'));
    let zero = x.wrapping_sub(ONES) & !x & (ONES << 7);
    (zero != 0).then(|| (zero.trailing_zeros() / 8) as usize)
}

/// A validated, non-empty set of non-empty separators, shortest first.
///
/// Equal lengths keep the caller's order (a stable sort), which is how asyncio breaks ties.
/// The separators are borrowed (a Rust call) or owned (an operation kept across wake-ups,
/// as the Python package keeps one in its awaitable).
#[derive(Debug)]
pub(crate) struct Separators<'a> {
    seps: SepList<'a>,
    max_len: usize,
}

#[derive(Debug)]
enum SepList<'a> {
    One(Cow<'a, [u8]>),
    Many(Vec<Cow<'a, [u8]>>),
}

/// What one search step found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Found {
    /// A record ends at this index (separator included); `start` is where its separator begins.
    Record { start: usize, end: usize },
    /// No separator yet; the next search needs more bytes.
    NotYet,
    /// The search crossed the limit (asyncio's `LimitOverrunError`).
    Overrun {
        consumed: usize,
        separator_found: bool,
    },
}

impl<'a> Separators<'a> {
    /// `readline`'s `\n`.
    pub(crate) const NEWLINE: Separators<'static> = Separators {
        seps: SepList::One(Cow::Borrowed(b"\n")),
        max_len: 1,
    };

    /// One separator (asyncio's `readuntil(bytes)`).
    pub(crate) fn one(sep: Cow<'a, [u8]>) -> Result<Self, Error> {
        if sep.is_empty() {
            return Err(Error::InvalidArgument(
                "Separator should be at least one-byte string",
            ));
        }
        Ok(Separators {
            max_len: sep.len(),
            seps: SepList::One(sep),
        })
    }

    /// Several separators (asyncio 3.13's `readuntil(tuple)`), checked in asyncio's order.
    pub(crate) fn many(seps: Vec<Cow<'a, [u8]>>) -> Result<Self, Error> {
        let mut sorted = seps;
        sorted.sort_by_key(|s| s.len());
        match (sorted.first(), sorted.last()) {
            (None, _) | (_, None) => Err(Error::InvalidArgument(
                "Separator should contain at least one element",
            )),
            (Some(first), _) if first.is_empty() => Err(Error::InvalidArgument(
                "Separator should be at least one-byte string",
            )),
            (Some(_), Some(last)) => Ok(Separators {
                max_len: last.len(),
                seps: SepList::Many(sorted),
            }),
        }
    }

    /// True for `readline`'s `\n` alone.
    pub(crate) fn is_newline(&self) -> bool {
        matches!(&self.seps, SepList::One(s) if **s == *b"\n")
    }

    /// The longest separator's length.
    pub(crate) fn max_len(&self) -> usize {
        self.max_len
    }

    fn min_len(&self) -> usize {
        match &self.seps {
            SepList::One(s) => s.len(),
            SepList::Many(v) => v[0].len(),
        }
    }

    /// Searches `buf` from `*offset` and applies asyncio's limit rules (spec 3.7).
    ///
    /// `*offset` is the number of leading bytes already known to hold no separator start;
    /// it is advanced on `NotYet` so the next call resumes instead of rescanning. Start it
    /// at 0 for a new read, and never reuse it once bytes were removed from the front.
    pub(crate) fn search(&self, buf: &[u8], offset: &mut usize, limit: usize) -> Found {
        if buf.len() - *offset < self.min_len() {
            return Found::NotYet;
        }
        if let Some((start, end)) = self.earliest_end(buf, *offset) {
            return if start > limit {
                Found::Overrun {
                    consumed: start,
                    separator_found: true,
                }
            } else {
                Found::Record { start, end }
            };
        }
        *offset = (buf.len() + 1).saturating_sub(self.max_len);
        if *offset > limit {
            return Found::Overrun {
                consumed: *offset,
                separator_found: false,
            };
        }
        Found::NotYet
    }

    /// The match with the smallest end index; on ties, the shortest separator.
    fn earliest_end(&self, buf: &[u8], offset: usize) -> Option<(usize, usize)> {
        match &self.seps {
            SepList::One(sep) => find(&buf[offset..], sep).map(|i| {
                let start = offset + i;
                (start, start + sep.len())
            }),
            SepList::Many(seps) => {
                let mut best: Option<(usize, usize)> = None;
                for sep in seps {
                    // A later (longer) separator only wins with a strictly earlier end, so
                    // its search can stop where the best end so far would be reached.
                    let stop = best.map_or(buf.len(), |(_, end)| end - 1).min(buf.len());
                    if stop < offset + sep.len() {
                        continue;
                    }
                    if let Some(i) = find(&buf[offset..stop], sep) {
                        let start = offset + i;
                        best = Some((start, start + sep.len()));
                    }
                }
                best
            }
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    match needle {
        [b] => memchr::memchr(*b, haystack),
        _ => memchr::memmem::find(haystack, needle),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn many<'a>(seps: &[&'a [u8]]) -> Result<Separators<'a>, Error> {
        Separators::many(seps.iter().map(|s| Cow::Borrowed(*s)).collect())
    }

    fn run(seps: &[&[u8]], buf: &[u8], limit: usize) -> Found {
        many(seps).unwrap().search(buf, &mut 0, limit)
    }

    #[test]
    fn earliest_end_wins_even_if_longer() {
        assert_eq!(
            run(&[b"DEF", b"BCDE"], b"ABCDEFG", 100),
            Found::Record { start: 1, end: 5 }
        );
        assert_eq!(
            run(&[b"BC", b"ABC", b"C"], b"xxABCyy", 100),
            Found::Record { start: 4, end: 5 }
        );
    }

    #[test]
    fn limit_uses_the_shortest_separator_at_the_earliest_end() {
        assert_eq!(
            run(&[b"\r\n", b"\n"], b"abc\r\n", 1),
            Found::Overrun {
                consumed: 4,
                separator_found: true
            }
        );
    }

    #[test]
    fn not_found_offset_uses_the_longest_separator() {
        assert_eq!(run(&[b"\n", b"XXXXX"], b"abcdef", 3), Found::NotYet);
        assert_eq!(
            run(&[b"\n", b"XXXXX"], b"abcdefgh", 3),
            Found::Overrun {
                consumed: 4,
                separator_found: false
            }
        );
        assert_eq!(
            run(&[b"\n"], b"abcdef", 3),
            Found::Overrun {
                consumed: 6,
                separator_found: false
            }
        );
    }

    #[test]
    fn resumed_search_finds_a_straddling_separator() {
        let seps = Separators::one(Cow::Borrowed(b"aaa")).unwrap();
        let mut offset = 0;
        assert_eq!(seps.search(b"QWEaa", &mut offset, 100), Found::NotYet);
        assert_eq!(offset, 3);
        assert_eq!(seps.search(b"QWEaaXYaa", &mut offset, 100), Found::NotYet);
        assert_eq!(
            seps.search(b"QWEaaXYaaa", &mut offset, 100),
            Found::Record { start: 7, end: 10 }
        );
    }

    #[test]
    fn validation_messages() {
        assert!(Separators::one(Cow::Borrowed(b"")).is_err());
        let e = many(&[]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Separator should contain at least one element"
        );
        let e = many(&[b"x", b""]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Separator should be at least one-byte string"
        );
    }
}
