//! The empty-buffer shortcut of `step`, checked against the full rules.

use super::*;

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
