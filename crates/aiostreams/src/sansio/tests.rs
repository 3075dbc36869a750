//! Every rule of the core, synchronously (spec section numbers in the names' comments).

use bytes::BytesMut;

use super::buffer::RETAIN_CAPACITY;
use super::*;
use crate::Error;

fn buf(bytes: &[u8], eof: bool) -> ReadBuffer {
    mode_buf(bytes, eof, 64 * 1024, Mode::Aiostreams)
}

fn mode_buf(bytes: &[u8], eof: bool, limit: usize, mode: Mode) -> ReadBuffer {
    let mut b = ReadBuffer::new(limit, mode).unwrap();
    b.feed(bytes).unwrap();
    if eof {
        b.feed_eof();
    }
    b
}

fn done(step: Step) -> Result<bytes::Bytes, Error> {
    match step {
        Step::Done(r) => r,
        other => panic!("not done: {other:?}"),
    }
}

fn run(op: &mut ReadOp<'_>, b: &mut ReadBuffer) -> Result<bytes::Bytes, Error> {
    done(op.step(b, false))
}

fn limit_error(r: Result<bytes::Bytes, Error>) -> (usize, bool) {
    match r {
        Err(Error::LimitOverrun {
            consumed,
            separator_found,
        }) => (consumed, separator_found),
        other => panic!("not a limit error: {other:?}"),
    }
}

// --- construction, feeding, EOF (3.1, 3.3)

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

// --- check order (3.11)

#[test]
fn arguments_are_checked_before_the_stored_exception() {
    assert_eq!(
        ReadOp::readuntil(b"").unwrap_err().to_string(),
        "Separator should be at least one-byte string"
    );
    assert_eq!(
        ReadOp::readuntil_any(&[]).unwrap_err().to_string(),
        "Separator should contain at least one element"
    );
    assert_eq!(
        ReadOp::readuntil_any_owned(vec![b"x".to_vec(), Vec::new()])
            .unwrap_err()
            .to_string(),
        "Separator should be at least one-byte string"
    );
    assert_eq!(
        ReadOp::readexactly_signed(-1).unwrap_err().to_string(),
        "readexactly size can not be less than zero"
    );
}

#[test]
fn a_stored_exception_comes_before_buffered_data_for_every_read() {
    let ops = || {
        [
            ReadOp::read(0),
            ReadOp::read(5),
            ReadOp::read_to_eof(),
            ReadOp::readexactly(0),
            ReadOp::readexactly(1),
            ReadOp::readuntil_owned(b"\n".to_vec()).unwrap(),
            ReadOp::readline(),
        ]
    };
    for mode in [Mode::Aiostreams, Mode::AsyncioExact] {
        for mut op in ops() {
            let mut b = mode_buf(b"line\n", true, 16, mode);
            assert!(matches!(op.step(&mut b, true), Step::RaiseStored), "{op:?}");
            assert_eq!(b.buffer(), b"line\n", "the buffer is kept");
        }
    }
}

#[test]
fn the_stored_exception_is_looked_at_only_on_the_first_step() {
    // asyncio checks `_exception` once per call; a wait ended by it is the caller's.
    let mut b = buf(b"", false);
    let mut op = ReadOp::readexactly(2);
    assert!(matches!(op.step(&mut b, false), Step::NeedMore));
    assert!(op.has_started());
    b.feed(b"ab").unwrap();
    assert_eq!(done(op.step(&mut b, true)).unwrap(), "ab");
}

// --- read(n) (3.5)

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

// --- read(-1) (3.5), both modes

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

// --- readexactly (3.6)

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

// --- readuntil (3.7)

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

// --- readline (3.8), both modes

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

// --- memory and pulls (tokio reader)

#[test]
fn a_waiting_reader_leaves_its_buffer_to_the_next_pull_on_the_thread() {
    let mut waiting = buf(b"", false);
    waiting.data.reserve(4096);
    waiting.release_if_empty();
    assert_eq!(
        waiting.data.capacity(),
        0,
        "a waiting reader holds no allocation"
    );
    let mut next = buf(b"", false);
    assert_eq!(
        next.pull_target().capacity(),
        0,
        "taken only when the source has bytes"
    );
    reserve_pull(next.pull_target(), 1);
    assert!(next.data.capacity() >= 4096);
    // The thread had one spare: the next reader allocates what it needs.
    let mut other = buf(b"", false);
    reserve_pull(other.pull_target(), 1);
    assert!(other.data.capacity() < 4096, "one spare per thread");
    // A large allocation is freed, not kept.
    next.data.reserve(RETAIN_CAPACITY + 1);
    next.release_if_empty();
    let mut third = buf(b"", false);
    reserve_pull(third.pull_target(), 1);
    assert!(third.data.capacity() < 4096);
}

#[test]
fn pull_window_respects_twice_the_limit_unless_a_read_needs_more() {
    let b = mode_buf(b"abcd", false, 4, Mode::Aiostreams);
    assert_eq!(b.pull_window(1), 4);
    let b = mode_buf(b"abcd", false, 2, Mode::Aiostreams);
    assert_eq!(b.pull_window(1), 1);
    assert_eq!(b.pull_window(100), 100);
    let b = mode_buf(b"abcd", false, 1 << 20, Mode::Aiostreams);
    assert_eq!(b.pull_window(1), MAX_PULL);
    assert_eq!(
        b.pull_window(usize::MAX),
        MAX_PULL,
        "a huge readexactly reserves one window at a time"
    );
}

#[test]
fn want_follows_the_read() {
    let b = mode_buf(b"abcd", false, 8, Mode::Aiostreams);
    let w = ReadOp::readexactly(10).want(&b);
    assert_eq!((w.need, w.merge_to), (6, 10));
    let w = ReadOp::readline().want(&b);
    assert_eq!((w.need, w.merge_to), (1, 8));
    let w = ReadOp::read(3).want(&b);
    assert_eq!((w.need, w.merge_to), (1, 0));
}

#[test]
fn take_line_takes_only_a_complete_line_within_the_limit() {
    let mut b = mode_buf(b"abcd\nef", false, 3, Mode::Aiostreams);
    assert_eq!(b.take_line(), None);
    let mut b = mode_buf(b"abcd\nef", false, 4, Mode::Aiostreams);
    assert_eq!(b.take_line().as_deref(), Some(&b"abcd\n"[..]));
    assert_eq!(b.take_line(), None);
    assert_eq!(b.buffer(), b"ef");
}

// --- the empty-buffer shortcut of `step`

/// Every kind of read, fresh, for both modes.
fn every_op() -> Vec<ReadOp<'static>> {
    vec![
        ReadOp::read(0),
        ReadOp::read(5),
        ReadOp::read_to_eof(),
        ReadOp::readexactly(0),
        ReadOp::readexactly(3),
        ReadOp::readline(),
        ReadOp::readuntil_owned(b"\r\n".to_vec()).unwrap(),
        ReadOp::readuntil_any_owned(vec![b"a".to_vec(), b"bc".to_vec()]).unwrap(),
        ReadOp::frame(FrameSpec::u16_be()),
        ReadOp::peek(0),
        ReadOp::peek(3),
        ReadOp::peek(9), // over the tests' limit of 8: an error
    ]
}

#[test]
fn empty_buffer_shortcut_agrees_with_the_full_rules() {
    for mode in [Mode::Aiostreams, Mode::AsyncioExact] {
        for (mut fast, mut full) in every_op().into_iter().zip(every_op()) {
            let what = format!("{fast:?} in {mode:?}");
            let (mut a, mut b) = (mode_buf(b"", false, 8, mode), mode_buf(b"", false, 8, mode));
            // First step, then a later one (the shortcut marks the op started).
            for _ in 0..2 {
                let (x, y) = (fast.step(&mut a, false), full.step_rules(&mut b, false));
                assert_eq!(format!("{x:?}"), format!("{y:?}"), "{what}");
                assert_eq!(fast.has_started(), full.has_started(), "{what}");
            }
            // The op still reads by the rules once bytes come.
            a.feed(b"abc\r\n").unwrap();
            b.feed(b"abc\r\n").unwrap();
            let (x, y) = (fast.step(&mut a, false), full.step_rules(&mut b, false));
            assert_eq!(format!("{x:?}"), format!("{y:?}"), "{what}");
            assert_eq!(a.buffer(), b.buffer(), "{what}");
        }
    }
    // An over-long line being probed is not shortcut: it finishes without more input.
    let mut b = mode_buf(b"0123456789", false, 4, Mode::Aiostreams);
    let mut op = ReadOp::readline();
    assert!(matches!(op.step(&mut b, false), Step::NeedMoreIfReady));
    assert!(b.is_empty());
    assert!(matches!(op.step(&mut b, false), Step::NeedMoreIfReady));
}

// --- the fast takes

#[test]
fn find_newline_agrees_with_memchr() {
    // Every length to 40 and every position of the first `\n`, among bytes that trip a
    // careless "zero byte" trick: 0x00, 0x01, 0x0b, 0x8a, 0xff and `\n` itself later on.
    let fillers = [0x00, 0x01, 0x09, 0x0b, 0x8a, 0xff, b'a'];
    for len in 0..40 {
        for newline in (0..len).map(Some).chain([None]) {
            for (f, &filler) in fillers.iter().enumerate() {
                let mut hay: Vec<u8> = (0..len)
                    .map(|i| if (i + f) % 3 == 0 { filler } else { b'x' })
                    .collect();
                if let Some(at) = newline {
                    hay[at] = b'\n';
                    if at + 2 < len {
                        hay[at + 2] = b'\n';
                    }
                }
                assert_eq!(
                    super::search::find_newline(&hay),
                    memchr::memchr(b'\n', &hay),
                    "{hay:?}"
                );
            }
        }
    }
}

#[test]
fn a_frozen_buffer_reads_and_thaws_as_one_buffer() {
    // Ends on a line end with more left: frozen at the first take.
    let mut b = buf(b"a\nbb\nccc\n", false);
    assert_eq!(run(&mut ReadOp::readline(), &mut b).unwrap(), "a\n");
    assert!(!b.ready.is_empty() && b.data.is_empty());
    assert_eq!((b.buffer(), b.len()), (&b"bb\nccc\n"[..], 7));
    assert_eq!(run(&mut ReadOp::readexactly(2), &mut b).unwrap(), "bb");
    // Appending thaws: the rest comes first, then the new bytes.
    b.feed(b"dd").unwrap();
    assert!(b.ready.is_empty());
    assert_eq!(b.buffer(), b"\nccc\ndd");
    let region = b.spare_mut(4);
    region[..2].copy_from_slice(b"\nx");
    b.commit(2).unwrap();
    assert_eq!(b.buffer(), b"\nccc\ndd\nx");
    // Frozen again; a take of everything, a discard, and a pull target.
    assert_eq!(run(&mut ReadOp::readline(), &mut b).unwrap(), "\n");
    assert_eq!(b.take_all(), "ccc\ndd\nx");
    assert!(b.is_empty());
    b.feed(b"1\n2\n3\n").unwrap();
    assert_eq!(run(&mut ReadOp::readline(), &mut b).unwrap(), "1\n");
    b.discard(2);
    assert_eq!(b.buffer(), b"3\n");
    b.pull_target().extend_from_slice(b"4\n");
    assert_eq!(b.buffer(), b"3\n4\n");
    assert_eq!(b.take_data(), &b"3\n4\n"[..]);
}

#[test]
fn a_frozen_buffer_keeps_the_limit_and_eof_rules() {
    let mut b = mode_buf(b"ab\nlonger line\n", false, 4, Mode::Aiostreams);
    assert_eq!(run(&mut ReadOp::readline(), &mut b).unwrap(), "ab\n");
    assert!(matches!(
        run(&mut ReadOp::readline(), &mut b),
        Err(Error::LimitOverrun { .. })
    ));
    let mut b = buf(b"x\ntail\n", true);
    assert_eq!(run(&mut ReadOp::readline(), &mut b).unwrap(), "x\n");
    assert!(matches!(
        run(&mut ReadOp::readexactly(9), &mut b),
        Err(Error::IncompleteRead { partial, expected: Some(9) }) if partial == "tail\n"
    ));
    assert!(b.at_eof());
}
