//! Memory and pulls (the tokio reader): the per-thread spare, the pull window, `Want`.

use super::*;

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
