//! CPython `test_streams.py` reader cases, part 3: `readuntil()` with one separator and,
//! as `readuntil_any`, with asyncio 3.13's tuple of separators (inventory A26-A34).

use aiostreams::{Error, StreamReader};

use crate::support::{
    assert_overrun, bounded_test, error_type, fed_reader, fed_reader_with_limit, fed_while_waiting,
};

// asyncio's `ValueError()` given to `set_exception`.
error_type!(ValueError, "ValueError");

#[bounded_test]
async fn test_readuntil_separator() {
    let mut reader = StreamReader::new();
    let err = reader.readuntil(b"").await.unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidArgument("Separator should be at least one-byte string")
    ));
    let err = reader.readuntil_any(&[b""]).await.unwrap_err();
    assert!(err.to_string().starts_with("Separator should be"));
    let err = reader.readuntil_any(&[]).await.unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidArgument("Separator should contain at least one element")
    ));
    // Argument validation comes before the stored exception (spec 3.7).
    reader.set_exception(Error::custom(ValueError));
    let err = reader.readuntil(b"").await.unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)));
    let err = reader.readuntil_any(&[b"x", b""]).await.unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)));
    assert!(matches!(
        reader.readuntil(b"x").await,
        Err(Error::Custom(_))
    ));
}

#[bounded_test]
async fn test_readuntil_multi_chunks() {
    // asyncio passes the separator by keyword and then by position; Rust has one form,
    // so the first case simply runs twice.
    let mut reader = StreamReader::new();
    for _ in 0..2 {
        reader.feed_data(b"lineAAA").unwrap();
        assert_eq!(reader.readuntil(b"AAA").await.unwrap(), "lineAAA");
        assert_eq!(reader.buffer(), b"");
    }
    reader.feed_data(b"lineAAAxxx").unwrap();
    assert_eq!(reader.readuntil(b"AAA").await.unwrap(), "lineAAA");
    assert_eq!(reader.buffer(), b"xxx");
}

#[bounded_test]
async fn test_readuntil_multi_chunks_1() {
    let cases: [(&[&[u8]], &str); 5] = [
        (&[b"QWEaa", b"XYaa", b"a"], "QWEaaXYaaa"),
        (&[b"QWEaa", b"XYa", b"aa"], "QWEaaXYaaa"),
        (&[b"aaa"], "aaa"),
        (&[b"Xaaa"], "Xaaa"),
        (&[b"XXX", b"a", b"a", b"a"], "XXXaaa"),
    ];
    let mut reader = StreamReader::new();
    for (chunks, expected) in cases {
        for chunk in chunks {
            reader.feed_data(chunk).unwrap();
        }
        assert_eq!(reader.readuntil(b"aaa").await.unwrap(), expected);
        assert_eq!(reader.buffer(), b"");
    }
}

/// The same chunks as `test_readuntil_multi_chunks_1`, fed while the read waits, so the
/// separator straddles the chunks the resumed search sees.
#[bounded_test]
async fn test_readuntil_multi_chunks_1_while_waiting() {
    let mut reader = StreamReader::new();
    let feeder = reader.feeder();
    let chunks: [&[u8]; 3] = [b"QWEaa", b"XYaa", b"a"];
    let line = fed_while_waiting(reader.readuntil(b"aaa"), &feeder, &chunks).await;
    let line = line.unwrap();
    assert_eq!(line, "QWEaaXYaaa");
    assert_eq!(reader.buffer(), b"");
}

#[bounded_test]
async fn test_readuntil_eof() {
    let mut reader = fed_reader(&[b"some dataAA"]);
    reader.feed_eof();
    let err = reader.readuntil(b"AAA").await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "11 bytes read on a total of undefined expected bytes"
    );
    let Error::IncompleteRead { partial, expected } = err else {
        panic!("expected IncompleteRead, got {err:?}");
    };
    assert_eq!(partial, "some dataAA");
    assert_eq!(expected, None);
    assert_eq!(reader.buffer(), b"");
}

#[bounded_test]
async fn test_readuntil_limit_found_sep() {
    let mut reader = fed_reader_with_limit(3, &[b"some dataAA"]);
    assert_overrun(&reader.readuntil(b"AAA").await.unwrap_err(), 9, false);
    assert_eq!(reader.buffer(), b"some dataAA");

    reader.feed_data(b"A").unwrap();
    assert_overrun(&reader.readuntil(b"AAA").await.unwrap_err(), 9, true);
    assert_eq!(reader.buffer(), b"some dataAAA");
}

#[bounded_test]
async fn test_readuntil_multi_separator() {
    let mut reader = fed_reader_with_limit(65536, &[b"line 1\nline 2\r"]);
    assert_eq!(
        reader.readuntil_any(&[b"\r", b"\n"]).await.unwrap(),
        "line 1\n"
    );
    assert_eq!(
        reader.readuntil_any(&[b"\r", b"\n"]).await.unwrap(),
        "line 2\r"
    );
    assert_eq!(reader.buffer(), b"");

    // The earliest end wins, even though it belongs to the longer separator.
    reader.feed_data(b"ABCDEFG").unwrap();
    assert_eq!(
        reader.readuntil_any(&[b"DEF", b"BCDE"]).await.unwrap(),
        "ABCDE"
    );
    assert_eq!(reader.buffer(), b"FG");
}

#[bounded_test]
async fn test_readuntil_multi_separator_limit() {
    let mut reader = fed_reader_with_limit(3, &[b"some dataA"]);
    // Both end at 10; the shorter `A`, starting at 9 > limit, is the match.
    let err = reader
        .readuntil_any(&[b"A", b"ome dataA"])
        .await
        .unwrap_err();
    assert_overrun(&err, 9, true);
    assert_eq!(reader.buffer(), b"some dataA");
}

#[bounded_test]
async fn test_readuntil_multi_separator_negative_offset() {
    let mut reader = fed_reader_with_limit(65536, &[b"data"]);
    let feeder = reader.feeder();
    // After the Z, the resumed search offset (5 + 1 - 8) must be clamped at 0.
    let read = reader.readuntil_any(&[b"A", b"long sep"]);
    let line = fed_while_waiting(read, &feeder, &[b"Z", b"Aaaa"])
        .await
        .unwrap();
    assert_eq!(line, "dataZA");
    assert_eq!(reader.buffer(), b"aaa");
}

#[bounded_test]
async fn test_readuntil_bytearray() {
    // asyncio: a bytearray is one separator, not a collection. Rust: any byte slice
    // (here borrowed from a Vec) is one separator; a one-element list is the same.
    let separator: Vec<u8> = b"\r\n".to_vec();
    let mut reader = fed_reader_with_limit(65536, &[b"some data\r\n"]);
    assert_eq!(reader.readuntil(&separator).await.unwrap(), "some data\r\n");
    assert_eq!(reader.buffer(), b"");
    reader.feed_data(b"more\r\n").unwrap();
    assert_eq!(
        reader.readuntil_any(&[&separator]).await.unwrap(),
        "more\r\n"
    );
    assert_eq!(reader.buffer(), b"");
}

// Spec 3.7 edge cases beyond the CPython file.

#[bounded_test]
async fn readuntil_finds_a_buffered_separator_after_eof() {
    let mut reader = fed_reader_with_limit(65536, &[b"abc\ndef"]);
    reader.feed_eof();
    assert_eq!(reader.readuntil(b"\n").await.unwrap(), "abc\n");
    let err = reader.readuntil(b"\n").await.unwrap_err();
    assert!(matches!(err, Error::IncompleteRead { partial, expected: None } if partial == "def"));
    assert!(reader.at_eof());
}

#[bounded_test]
async fn readuntil_checks_the_limit_before_eof() {
    let mut reader = fed_reader_with_limit(3, &[b"abcdef"]);
    reader.feed_eof();
    assert_overrun(&reader.readuntil(b"\n").await.unwrap_err(), 6, false);
    assert_eq!(reader.buffer(), b"abcdef");
}

#[bounded_test]
async fn readuntil_limit_boundaries() {
    // Up to `limit` bytes before the separator are accepted.
    let mut reader = fed_reader_with_limit(5, &[b"abcde\nabcdef\n"]);
    assert_eq!(reader.readuntil(b"\n").await.unwrap(), "abcde\n");
    assert_overrun(&reader.readuntil(b"\n").await.unwrap_err(), 6, true);

    // `abc\r` gives offset 3, not past limit 3: the read waits for the `\n`.
    let mut reader = fed_reader_with_limit(3, &[b"abc\r"]);
    let feeder = reader.feeder();
    let line = fed_while_waiting(reader.readuntil(b"\r\n"), &feeder, &[b"\n"]).await;
    let line = line.unwrap();
    assert_eq!(line, "abc\r\n");

    let mut reader = fed_reader_with_limit(3, &[b"abcd\r"]);
    assert_overrun(&reader.readuntil(b"\r\n").await.unwrap_err(), 4, false);
}

#[bounded_test]
async fn readuntil_any_limit_rules() {
    // "Not found" uses the longest separator: abcdef still waits with limit 3.
    let mut reader = fed_reader_with_limit(3, &[b"abcdef"]);
    let feeder = reader.feeder();
    let read = reader.readuntil_any(&[b"\n", b"XXXXX"]);
    let err = fed_while_waiting(read, &feeder, &[b"gh"])
        .await
        .unwrap_err();
    assert_overrun(&err, 4, false);
    let mut reader = fed_reader_with_limit(3, &[b"abcdef"]);
    assert_overrun(&reader.readuntil_any(&[b"\n"]).await.unwrap_err(), 6, false);

    // At a shared end, the shorter separator's start is the one checked.
    let mut reader = fed_reader_with_limit(1, &[b"abc\r\n"]);
    assert_overrun(
        &reader.readuntil_any(&[b"\r\n", b"\n"]).await.unwrap_err(),
        4,
        true,
    );

    let mut reader = fed_reader_with_limit(65536, &[b"xxABCyy"]);
    let record = reader.readuntil_any(&[b"BC", b"ABC", b"C"]).await.unwrap();
    assert_eq!(record, "xxABC");
    assert_eq!(reader.buffer(), b"yy");
}
