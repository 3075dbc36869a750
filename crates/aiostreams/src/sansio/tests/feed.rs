//! Construction, feeding, EOF, the `BufferedProtocol` region (spec 3.1, 3.3).

use super::*;

#[test]
fn zero_limit_is_refused_with_asyncios_message() {
    let err = ReadBuffer::new(0, Mode::default()).unwrap_err();
    assert_eq!(err.to_string(), "Limit cannot be <= 0");
}

#[test]
fn feed_after_eof_is_refused_even_when_empty_and_changes_nothing() {
    let mut b = buf(b"ab", true);
    assert!(matches!(b.feed(b""), Err(Error::FeedAfterEof)));
    assert!(matches!(b.feed(b"x"), Err(Error::FeedAfterEof)));
    assert_eq!(b.buffer(), b"ab");
    b.feed_eof(); // idempotent
    assert!(b.eof() && !b.at_eof());
}

#[test]
fn at_eof_needs_eof_and_an_empty_buffer() {
    let mut b = buf(b"a", false);
    assert!(!b.at_eof());
    b.feed_eof();
    assert!(!b.at_eof());
    assert_eq!(run(&mut ReadOp::read(1), &mut b).unwrap(), "a");
    assert!(b.at_eof());
}

#[test]
fn spare_then_commit_appends_only_what_was_written() {
    let mut b = buf(b"ab", false);
    let spare = b.spare_mut(8);
    assert_eq!(spare.len(), 8);
    spare[..3].copy_from_slice(b"cde");
    assert_eq!(b.buffer(), b"ab", "an uncommitted region is not buffered");
    assert_eq!(b.len(), 2);
    b.commit(3).unwrap();
    assert_eq!(b.buffer(), b"abcde");
}

#[test]
fn a_spare_region_is_abandoned_by_the_next_call() {
    let mut b = buf(b"ab", false);
    b.spare_mut(4)[0] = b'X';
    b.feed(b"c").unwrap();
    assert_eq!(b.buffer(), b"abc");
    b.spare_mut(4)[0] = b'Y';
    b.spare_mut(2)[0] = b'd';
    b.commit(1).unwrap();
    assert_eq!(b.buffer(), b"abcd");
}

#[test]
fn commit_refuses_more_than_the_region_and_after_eof() {
    let mut b = buf(b"ab", false);
    b.spare_mut(2);
    assert!(matches!(b.commit(3), Err(Error::InvalidArgument(_))));
    assert_eq!(b.buffer(), b"ab");
    b.spare_mut(2);
    b.feed_eof();
    assert!(matches!(b.commit(1), Err(Error::FeedAfterEof)));
    assert_eq!(b.buffer(), b"ab");
    assert_eq!(b.spare_mut(usize::MAX).len(), MAX_SPARE);
    assert_eq!(b.spare_mut(0).len(), 1);
}
