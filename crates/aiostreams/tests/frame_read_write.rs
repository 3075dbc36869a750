//! Length-prefixed frames: `StreamReader::read_frame` and `StreamWriter::write_frame`
//! over every header width and byte order, arbitrary chunking, a hostile header, EOF,
//! cancellation, and a real connection.

use std::pin::pin;
use std::task::Poll;

use aiostreams::{ByteOrder, Error, FrameSpec, ServerOptions, StreamReader, open_connection};
use rand::{Rng, SeedableRng, rngs::StdRng};
use tokio::io::AsyncWriteExt;

use crate::support::bounded_test;
use crate::support::fed_reader;
use crate::support::net::serve_loopback;
use crate::support::poll_once;

const SPECS: [FrameSpec; 7] = [
    FrameSpec::u8(),
    FrameSpec::u16_be(),
    FrameSpec::u16_le(),
    FrameSpec::u32_be(),
    FrameSpec::u32_le(),
    FrameSpec::u64_be(),
    FrameSpec::u64_le(),
];

/// The header as a naive oracle writes it: the length's bytes, cut to the width.
fn naive_header(spec: &FrameSpec, len: usize) -> Vec<u8> {
    let w = spec.header_len();
    match spec.byte_order() {
        ByteOrder::Big => (len as u64).to_be_bytes()[8 - w..].to_vec(),
        ByteOrder::Little => (len as u64).to_le_bytes()[..w].to_vec(),
    }
}

#[test]
fn headers_match_a_naive_encoder_for_every_width_and_order() {
    for spec in SPECS {
        for len in [0, 1, 200, 255] {
            assert_eq!(&spec.header(len).unwrap()[..], naive_header(&spec, len));
        }
    }
    assert_eq!(
        FrameSpec::new(4, ByteOrder::Little).unwrap(),
        FrameSpec::u32_le()
    );
    for width in [0, 3, 5, 16] {
        assert!(FrameSpec::new(width, ByteOrder::Big).is_err(), "{width}");
    }
    assert_eq!(FrameSpec::u8().max_len(), 255);
    assert_eq!(FrameSpec::u16_be().max_frame(u64::MAX).max_len(), 65535);
    assert_eq!(FrameSpec::u64_le().max_frame(u64::MAX).max_len(), u64::MAX);
}

// Random frames in every layout, cut into random pieces: the payloads come back in order,
// then None at EOF.
#[tokio::test]
async fn random_frames_in_random_pieces_come_back_whole() {
    let mut rng = StdRng::seed_from_u64(14);
    for round in 0..200 {
        let spec = SPECS[round % SPECS.len()];
        let frames: Vec<Vec<u8>> = (0..rng.gen_range(0..8))
            .map(|_| {
                let len = rng.gen_range(0..=300.min(spec.max_len() as usize));
                (0..len).map(|_| rng.r#gen()).collect()
            })
            .collect();
        let wire: Vec<u8> = frames
            .iter()
            .flat_map(|f| [naive_header(&spec, f.len()), f.clone()].concat())
            .collect();
        let mut reader = StreamReader::new();
        let mut got = Vec::new();
        let mut rest = &wire[..];
        while !rest.is_empty() {
            let (piece, tail) = rest.split_at(rng.gen_range(1..=rest.len().min(40)));
            reader.feed_data(piece).unwrap();
            rest = tail;
            // Read whatever is complete; a pending read is dropped (cancel safety).
            while let Poll::Ready(frame) = poll_once(pin!(reader.read_frame(&spec))) {
                got.push(frame.unwrap().unwrap().to_vec());
            }
        }
        reader.feed_eof();
        assert_eq!(
            reader.read_frame(&spec).await.unwrap(),
            None,
            "round {round}"
        );
        assert_eq!(got, frames, "round {round}: {spec:?}");
    }
}

// A hostile header declaring 4 GiB (or 2^62 bytes) over the maximum: refused at once,
// while the peer keeps the connection open, with the header still buffered.
#[bounded_test]
async fn a_hostile_header_is_refused_before_anything_is_buffered() {
    let (mut peer, io) = tokio::io::duplex(64);
    let mut reader = StreamReader::from_io(io);
    peer.write_all(&[0xff; 4]).await.unwrap();
    let err = reader.read_frame(&FrameSpec::u32_be()).await.unwrap_err();
    assert!(
        matches!(err, Error::FrameTooLarge { len: 0xffff_ffff, max } if max == 8 << 20),
        "{err:?}"
    );
    assert_eq!(reader.buffer(), [0xff; 4]);
    let spec = FrameSpec::u64_le().max_frame(1 << 20);
    let mut reader = fed_reader(&[&(1u64 << 62).to_le_bytes()]);
    assert!(matches!(
        reader.read_frame(&spec).await,
        Err(Error::FrameTooLarge { len, .. }) if len == 1 << 62
    ));
}

// A huge frame the spec allows still reserves nothing up front: the read waits with what
// came (allocating 2^62 bytes would abort the process).
#[tokio::test]
async fn an_allowed_huge_frame_costs_memory_only_as_it_arrives() {
    let spec = FrameSpec::u64_be().max_frame(u64::MAX);
    let (mut peer, io) = tokio::io::duplex(4096);
    let mut reader = StreamReader::from_io(io);
    peer.write_all(&(1u64 << 62).to_be_bytes()).await.unwrap();
    peer.write_all(&[7; 1000]).await.unwrap();
    {
        let mut read = pin!(reader.read_frame(&spec));
        for _ in 0..3 {
            assert!(poll_once(read.as_mut()).is_pending());
        }
    }
    assert_eq!(
        reader.buffer().len(),
        1008,
        "what came, kept for the next read"
    );
    drop(peer);
    let Err(Error::IncompleteRead { partial, expected }) = reader.read_frame(&spec).await else {
        panic!("EOF inside the frame");
    };
    assert_eq!((partial.len(), expected), (1008, Some(8 + (1 << 62))));
}

#[tokio::test]
async fn eof_inside_a_header_or_a_payload_is_incomplete_read_with_every_byte() {
    let spec = FrameSpec::u32_be();
    for (wire, expected) in [(&b"\0\0"[..], 4), (&b"\0\0\0\x05abc"[..], 9)] {
        let mut reader = fed_reader(&[wire]);
        reader.feed_eof();
        let Err(Error::IncompleteRead {
            partial,
            expected: e,
        }) = reader.read_frame(&spec).await
        else {
            panic!("EOF inside the frame");
        };
        assert_eq!((&partial[..], e), (wire, Some(expected)));
        assert!(reader.at_eof());
        assert_eq!(reader.read_frame(&spec).await.unwrap(), None);
    }
}

// A frame read dropped after part of its header, then after part of its payload, consumes
// nothing: the next read returns the whole frame.
#[tokio::test]
async fn a_cancelled_frame_read_consumes_nothing() {
    let spec = FrameSpec::u16_be();
    let mut reader = StreamReader::new();
    for piece in [&b"\0"[..], b"\x04ab", b"cd"] {
        {
            let mut read = pin!(reader.read_frame(&spec));
            assert!(poll_once(read.as_mut()).is_pending());
        }
        reader.feed_data(piece).unwrap();
    }
    assert_eq!(reader.read_frame(&spec).await.unwrap().unwrap(), "abcd");
}

#[tokio::test]
async fn the_stored_exception_comes_before_a_buffered_frame() {
    let mut reader = fed_reader(&[b"\x01x"]);
    reader.set_exception(Error::ConnectionLost);
    assert!(matches!(
        reader.read_frame(&FrameSpec::u8()).await,
        Err(Error::ConnectionLost)
    ));
    reader.clear_exception();
    assert_eq!(
        reader.read_frame(&FrameSpec::u8()).await.unwrap().unwrap(),
        "x"
    );
}

// Over a real connection: frames larger than the reader's limit and the pull window, each
// layout, echoed by a server; a payload over the maximum is refused and nothing is queued.
#[bounded_test]
async fn frames_echo_over_loopback() {
    let (_server, port) = serve_loopback(
        ServerOptions::new().limit(1024),
        |mut reader: StreamReader, writer: aiostreams::StreamWriter| async move {
            for spec in SPECS {
                let frame = reader.read_frame(&spec).await?.expect("a frame");
                writer.write_frame(&spec, &frame)?;
            }
            writer.drain().await
        },
    )
    .await;
    let (mut reader, writer) = open_connection("127.0.0.1", port).await.unwrap();
    let payload =
        |spec: &FrameSpec| vec![spec.header_len() as u8; 200_000.min(spec.max_len() as usize)];
    let small = FrameSpec::u32_be().max_frame(10);
    assert!(matches!(
        writer.write_frame(&small, &[0; 11]),
        Err(Error::FrameTooLarge { len: 11, max: 10 })
    ));
    assert_eq!(writer.transport().get_write_buffer_size(), 0);
    for spec in SPECS {
        writer.write_frame(&spec, &payload(&spec)).unwrap();
    }
    writer.drain().await.unwrap();
    for spec in SPECS {
        let frame = reader.read_frame(&spec).await.unwrap().unwrap();
        assert_eq!(frame, payload(&spec), "{spec:?}");
    }
    assert_eq!(reader.read_frame(&FrameSpec::u8()).await.unwrap(), None);
}
