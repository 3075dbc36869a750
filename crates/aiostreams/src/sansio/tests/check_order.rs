//! The check order: arguments, then the stored exception, then the buffer (spec 3.11).

use super::*;

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
