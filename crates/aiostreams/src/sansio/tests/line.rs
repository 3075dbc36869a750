//! `readline` in both modes: its limit error, the discard and the probe (spec 3.8).

use super::*;

#[test]
fn readline_returns_the_unterminated_last_line_at_eof() {
    let mut b = buf(b"a\nb", true);
    assert_eq!(run(&mut ReadOp::readline(), &mut b).unwrap(), "a\n");
    let mut op = ReadOp::readline();
    assert_eq!(run(&mut op, &mut b).unwrap(), "b");
    assert!(
        !op.resumes_transport(),
        "asyncio returns the partial without a check"
    );
    assert_eq!(run(&mut ReadOp::readline(), &mut b).unwrap(), "");
}

#[test]
fn readline_drops_an_overlong_line_through_its_newline() {
    for mode in [Mode::Aiostreams, Mode::AsyncioExact] {
        let mut b = mode_buf(b"line1\nline2\n", false, 3, mode);
        let mut op = ReadOp::readline();
        let err = run(&mut op, &mut b);
        assert_eq!(limit_error(err), (5, true));
        assert_eq!(b.buffer(), b"line2\n");
        assert!(op.resumes_transport());
        assert!(!b.is_discarding());
    }
}

#[test]
fn asyncio_readline_clears_everything_and_reads_the_tail_as_a_line() {
    let mut b = mode_buf(b"line1li", false, 3, Mode::AsyncioExact);
    let err = run(&mut ReadOp::readline(), &mut b);
    assert_eq!(limit_error(err), (7, false));
    assert!(b.is_empty() && !b.is_discarding());
    b.feed(b"ne\nok\n").unwrap();
    assert_eq!(run(&mut ReadOp::readline(), &mut b).unwrap(), "ne\n");
}

#[test]
fn readline_discards_the_rest_of_an_overlong_line_as_it_arrives() {
    let mut b = mode_buf(b"ABCDEFGHIJ", false, 8, Mode::Aiostreams);
    let mut op = ReadOp::readline();
    assert!(matches!(op.step(&mut b, false), Step::NeedMoreIfReady));
    // A fed reader has nothing more received than its buffer: the error now.
    let err = done(op.finish_without_more(&mut b));
    assert_eq!(limit_error(err), (10, false));
    assert!(b.is_discarding() && b.is_empty());
    b.feed(b"KL").unwrap();
    assert!(b.is_empty(), "dropped as it arrives");
    let spare = b.spare_mut(8);
    spare[..6].copy_from_slice(b"MN\nok\n");
    b.commit(6).unwrap();
    assert!(!b.is_discarding());
    assert_eq!(b.buffer(), b"ok\n");
    assert_eq!(run(&mut ReadOp::readline(), &mut b).unwrap(), "ok\n");
}

#[test]
fn readline_reports_found_when_the_rest_of_the_line_was_already_received() {
    // The 100-byte line of issue 10: 16 bytes buffered, the rest ready in the source.
    let mut b = mode_buf(&[b'x'; 16], false, 8, Mode::Aiostreams);
    let mut op = ReadOp::readline();
    assert!(matches!(op.step(&mut b, false), Step::NeedMoreIfReady));
    b.feed(&[b'x'; 50]).unwrap();
    assert!(
        matches!(op.step(&mut b, true), Step::NeedMoreIfReady),
        "a newer exception waits"
    );
    let mut rest = vec![b'x'; 34];
    rest.extend_from_slice(b"\nnext\n");
    b.feed(&rest).unwrap();
    let err = done(op.step(&mut b, false));
    assert_eq!(limit_error(err), (100, true));
    assert_eq!(
        err_text(true),
        "Separator is found, but chunk is longer than limit"
    );
    assert!(!b.is_discarding());
    assert_eq!(b.buffer(), b"next\n");
}

fn err_text(found: bool) -> String {
    Error::LimitOverrun {
        consumed: 0,
        separator_found: found,
    }
    .to_string()
}

#[test]
fn readline_probe_stops_at_eof_and_at_its_budget() {
    let mut b = mode_buf(b"ABCDEFGHIJ", false, 8, Mode::Aiostreams);
    let mut op = ReadOp::readline();
    assert!(matches!(op.step(&mut b, false), Step::NeedMoreIfReady));
    b.feed(b"KL").unwrap();
    b.feed_eof();
    assert_eq!(limit_error(done(op.step(&mut b, false))), (10, false));
    assert!(!b.is_discarding(), "EOF ended the line");
    assert_eq!(run(&mut ReadOp::readline(), &mut b).unwrap(), "");

    let mut b = mode_buf(b"ABCDEFGHIJ", false, 8, Mode::Aiostreams);
    let mut op = ReadOp::readline();
    assert!(matches!(op.step(&mut b, false), Step::NeedMoreIfReady));
    b.feed(&vec![b'x'; PROBE_BUDGET]).unwrap();
    assert!(!limit_error(done(op.step(&mut b, false))).1);
    assert!(
        b.is_discarding(),
        "an endless line is dropped in bounded memory"
    );
}

#[test]
fn readline_over_the_limit_at_eof_clears_without_discarding() {
    let mut b = mode_buf(b"ABCDEFGHIJ", true, 8, Mode::Aiostreams);
    assert_eq!(
        limit_error(run(&mut ReadOp::readline(), &mut b)),
        (10, false)
    );
    assert!(b.at_eof() && !b.is_discarding());
}

#[test]
fn discarding_drops_fed_chunks_from_other_threads_too() {
    let mut b = mode_buf(b"ABCDEFGHIJ", false, 8, Mode::Aiostreams);
    let mut op = ReadOp::readline();
    let _ = op.step(&mut b, false);
    let _ = op.finish_without_more(&mut b);
    b.append(BytesMut::from(&b"tail\nnext"[..]));
    assert_eq!(b.buffer(), b"next");
    b.data.extend_from_slice(b"\n");
    b.after_pull();
    assert_eq!(b.buffer(), b"next\n");
}

#[test]
fn readuntil_never_discards() {
    let mut b = mode_buf(b"ABCDEFGHIJ", false, 8, Mode::Aiostreams);
    let err = run(&mut ReadOp::readuntil(b"\n").unwrap(), &mut b);
    assert_eq!(limit_error(err), (10, false));
    assert_eq!(b.buffer(), b"ABCDEFGHIJ");
    assert!(!b.is_discarding());
}
