//! `readuntil` and `readuntil_any` (spec 3.7).

use super::*;

#[test]
fn readuntil_resumes_its_search_across_feeds() {
    let mut b = buf(b"QWEaa", false);
    let mut op = ReadOp::readuntil(b"aaa").unwrap();
    assert!(matches!(op.step(&mut b, false), Step::NeedMore));
    b.feed(b"XYaa").unwrap();
    assert!(matches!(op.step(&mut b, false), Step::NeedMore));
    b.feed(b"a").unwrap();
    assert_eq!(run(&mut op, &mut b).unwrap(), "QWEaaXYaaa");
}

#[test]
fn limit_is_checked_before_eof_and_readuntil_keeps_the_buffer() {
    let mut b = buf(b"abcdef", true);
    let mut b3 = ReadBuffer::new(3, Mode::Aiostreams).unwrap();
    b3.feed(b.buffer()).unwrap();
    b3.feed_eof();
    let err = run(&mut ReadOp::readuntil(b"\n").unwrap(), &mut b3);
    assert_eq!(limit_error(err), (6, false));
    assert_eq!(b3.buffer(), b"abcdef");
    let err = run(&mut ReadOp::readuntil(b"\n").unwrap(), &mut b).unwrap_err();
    assert!(matches!(err, Error::IncompleteRead { expected: None, .. }));
    assert!(b.is_empty());
}

#[test]
fn readuntil_found_past_the_limit_keeps_the_buffer() {
    let mut b = mode_buf(b"abcdef\nx", false, 5, Mode::Aiostreams);
    let err = run(&mut ReadOp::readuntil(b"\n").unwrap(), &mut b);
    assert_eq!(limit_error(err), (6, true));
    assert_eq!(b.buffer(), b"abcdef\nx");
    let mut b = mode_buf(b"abcde\n", false, 5, Mode::Aiostreams);
    assert_eq!(
        run(&mut ReadOp::readuntil(b"\n").unwrap(), &mut b).unwrap(),
        "abcde\n"
    );
}

#[test]
fn readuntil_any_takes_the_earliest_end() {
    let mut b = buf(b"ABCDEFG", false);
    let mut op = ReadOp::readuntil_any(&[b"DEF", b"BCDE"]).unwrap();
    assert_eq!(run(&mut op, &mut b).unwrap(), "ABCDE");
    assert_eq!(b.buffer(), b"FG");
}
