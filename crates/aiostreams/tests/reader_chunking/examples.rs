//! The spec's examples, through the model and through our reader.

use super::*;

/// Chunks fed on demand, limit, operations, expected outcomes.
type Example<'a> = (Vec<&'a [u8]>, usize, Vec<Op>, Vec<Outcome>);

/// The model against the spec's worked examples, so that it is a trustworthy reference.
#[test]
fn model_and_reader_follow_the_spec_examples() {
    let seps = |s: &[&[u8]]| Op::ReaduntilAny(s.iter().map(|s| s.to_vec()).collect());
    let overrun = |consumed, separator_found| Outcome::Overrun {
        consumed,
        separator_found,
    };
    let bytes = |b: &[u8]| Outcome::Bytes(b.to_vec());
    let cases: Vec<Example<'_>> = vec![
        (
            vec![b"ABCDEFG"],
            100,
            vec![seps(&[b"DEF", b"BCDE"])],
            vec![bytes(b"ABCDE")],
        ),
        (
            vec![b"abc\r\n"],
            1,
            vec![seps(&[b"\r\n", b"\n"])],
            vec![overrun(4, true)],
        ),
        (
            vec![b"xxABCyy"],
            100,
            vec![seps(&[b"BC", b"ABC", b"C"])],
            vec![bytes(b"xxABC")],
        ),
        (
            vec![b"abcdefgh"],
            3,
            vec![seps(&[b"\n", b"XXXXX"])],
            vec![overrun(4, false)],
        ),
        (
            vec![b"data", b"Z", b"Aaaa"],
            100,
            vec![seps(&[b"A", b"long sep"])],
            vec![bytes(b"dataZA")],
        ),
        (
            vec![b"QWEaa", b"XYaa", b"a"],
            100,
            vec![Op::Readuntil(b"aaa".to_vec())],
            vec![bytes(b"QWEaaXYaaa")],
        ),
        (
            vec![b"abc\r", b"\n"],
            3,
            vec![Op::Readuntil(b"\r\n".to_vec())],
            vec![bytes(b"abc\r\n")],
        ),
        (
            vec![b"abcd\r"],
            3,
            vec![Op::Readuntil(b"\r\n".to_vec())],
            vec![overrun(4, false)],
        ),
        (
            vec![b"abcdef"],
            3,
            vec![Op::Readuntil(b"\n".to_vec())],
            vec![overrun(6, false)],
        ),
        (
            vec![b"abcdef\n"],
            5,
            vec![Op::Readuntil(b"\n".to_vec())],
            vec![overrun(6, true)],
        ),
        // readline's cleanup: through the newline, or everything.
        (
            vec![b"li", b"ne1\nline2\n"],
            3,
            vec![Op::Readline, Op::Readexactly(6)],
            vec![overrun(5, true), bytes(b"line2\n")],
        ),
        // ... and then (aiostreams, not asyncio) the rest of that line as it arrives.
        (
            vec![b"li", b"ne1", b"23\n", b"ok\n"],
            3,
            vec![Op::Readline, Op::Readline],
            vec![overrun(5, false), bytes(b"ok\n")],
        ),
        (
            vec![b"1234567\n12345678\n"],
            7,
            vec![Op::Readline, Op::Readline],
            vec![bytes(b"1234567\n"), overrun(8, true)],
        ),
        (
            vec![b"abc"],
            2,
            vec![Op::Readexactly(8)],
            vec![Outcome::Incomplete {
                partial: b"abc".to_vec(),
                expected: Some(8),
            }],
        ),
    ];
    for (chunks, limit, ops, expected) in cases {
        let chunks: Vec<Vec<u8>> = chunks.iter().map(|c| c.to_vec()).collect();
        let model = model_on_demand(&on_demand_deliveries(&chunks), limit, &ops, false);
        assert_eq!(model, expected, "model, chunks {chunks:?}");
        assert_eq!(
            ours_fed_on_demand(&chunks, limit, &ops),
            expected,
            "ours, chunks {chunks:?}"
        );
    }
}
