//! The fast takes and the frozen buffer, checked against the full rules.

use super::*;

#[test]
fn find_newline_agrees_with_memchr() {
    // Every length to 40 (the inline words, then the vector search's short and long
    // haystacks: under 16, under 32, more) and a few longer ones, and every position of
    // the first `\n`, among bytes that trip a careless "zero byte" trick: 0x00, 0x01,
    // 0x0b, 0x8a, 0xff and `\n` itself later on.
    let fillers = [0x00, 0x01, 0x09, 0x0b, 0x8a, 0xff, b'a'];
    for len in (0..80).chain([130, 300]) {
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
