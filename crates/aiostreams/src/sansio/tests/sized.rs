//! `read(n)`, `read(-1)` in both modes, and `readexactly(n)` (spec 3.5, 3.6).

use super::*;

#[test]
fn read_returns_what_is_there_up_to_n() {
    let mut b = buf(b"line1line2", false);
    assert_eq!(run(&mut ReadOp::read(5), &mut b).unwrap(), "line1");
    assert_eq!(run(&mut ReadOp::read(100), &mut b).unwrap(), "line2");
    assert!(matches!(
        ReadOp::read(1).step(&mut b, false),
        Step::NeedMore
    ));
    assert_eq!(
        run(&mut ReadOp::read(0), &mut b).unwrap(),
        "",
        "read(0) never waits"
    );
    b.feed_eof();
    assert_eq!(run(&mut ReadOp::read(3), &mut b).unwrap(), "");
}

#[test]
fn read_signed_treats_every_negative_as_read_to_eof() {
    let mut b = buf(b"abc", true);
    assert_eq!(run(&mut ReadOp::read_signed(-7), &mut b).unwrap(), "abc");
    let mut b = buf(b"abc", true);
    assert_eq!(run(&mut ReadOp::read_signed(2), &mut b).unwrap(), "ab");
}

#[test]
fn read_to_eof_keeps_the_buffer_until_eof_by_default() {
    let mut b = buf(b"ab", false);
    let mut op = ReadOp::read_to_eof();
    assert!(matches!(op.step(&mut b, false), Step::NeedMore));
    assert_eq!(b.buffer(), b"ab", "nothing left the buffer");
    b.feed(b"cd").unwrap();
    b.feed_eof();
    assert_eq!(run(&mut op, &mut b).unwrap(), "abcd");
    assert!(op.resumes_transport());
}

#[test]
fn asyncio_read_to_eof_gathers_as_it_goes_and_loses_it_to_an_exception() {
    let mut b = mode_buf(b"abcdef", false, 2, Mode::AsyncioExact);
    let mut op = ReadOp::read_to_eof();
    assert!(matches!(op.step(&mut b, false), Step::NeedMore));
    assert_eq!(b.buffer(), b"", "gathered out of the buffer");
    assert!(op.resumes_transport());
    // Woken by data; an exception stored meanwhile is raised at the next block: the
    // block the waiting read(limit) took is lost, the rest stays.
    b.feed(b"ghijk").unwrap();
    assert!(matches!(op.step(&mut b, true), Step::RaiseStored));
    assert_eq!(b.buffer(), b"ijk");
}

#[test]
fn asyncio_read_to_eof_returns_everything_gathered() {
    let mut b = mode_buf(b"ab", false, 2, Mode::AsyncioExact);
    let mut op = ReadOp::read_to_eof();
    assert!(matches!(op.step(&mut b, false), Step::NeedMore));
    b.feed(b"cde").unwrap();
    assert!(matches!(op.step(&mut b, false), Step::NeedMore));
    b.feed_eof();
    assert_eq!(run(&mut op, &mut b).unwrap(), "abcde");
}

#[test]
fn readexactly_waits_for_all_n_and_ignores_the_limit() {
    let mut b = mode_buf(b"abc", false, 2, Mode::Aiostreams);
    let mut op = ReadOp::readexactly(5);
    assert!(matches!(op.step(&mut b, false), Step::NeedMore));
    assert_eq!(b.buffer(), b"abc");
    b.feed(b"defg").unwrap();
    assert_eq!(run(&mut op, &mut b).unwrap(), "abcde");
    assert_eq!(b.buffer(), b"fg");
}

#[test]
fn readexactly_at_eof_returns_the_partial_and_clears() {
    let mut b = buf(b"abc", true);
    let mut op = ReadOp::readexactly(5);
    let err = run(&mut op, &mut b).unwrap_err();
    assert_eq!(
        err.to_string(),
        "3 bytes read on a total of 5 expected bytes"
    );
    assert!(
        matches!(err, Error::IncompleteRead { expected: Some(5), ref partial } if partial == "abc")
    );
    assert!(b.is_empty() && b.at_eof());
    assert!(
        !op.resumes_transport(),
        "asyncio raises before its transport check"
    );
}
