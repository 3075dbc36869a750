//! tokio-util codecs on the reader's buffer (`StreamReader::decode`, `decoded`) and into
//! the write queue (`StreamWriter::encode`): `LinesCodec`, `LengthDelimitedCodec`, a
//! custom codec; switching codecs mid-stream, also after a STARTTLS upgrade (tokio
//! issues #717 and #7472), `decode_eof` at EOF, cancellation and errors.

use std::io;
use std::pin::pin;

use aiostreams::{Error, FrameSpec, ServerOptions, StreamReader, StreamWriter, open_connection};
use bytes::{Buf, BufMut, BytesMut};
use tokio_stream::StreamExt;
use tokio_util::codec::{Decoder, Encoder, LengthDelimitedCodec, LinesCodec};

use crate::support::bounded_test;
use crate::support::fed_reader;
use crate::support::net::serve_loopback;
use crate::support::poll_once;

/// A custom codec: netstrings (`5:hello,`), at most 999 bytes.
#[derive(Debug, Default)]
struct Netstring;

impl Decoder for Netstring {
    type Item = BytesMut;
    type Error = io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> io::Result<Option<BytesMut>> {
        let Some(colon) = src.iter().take(4).position(|&b| b == b':') else {
            return match src.len() {
                0..4 => Ok(None),
                _ => Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "netstring length",
                )),
            };
        };
        let len: usize = std::str::from_utf8(&src[..colon])
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "netstring length"))?;
        if src.len() < colon + 1 + len + 1 {
            return Ok(None);
        }
        if src[colon + 1 + len] != b',' {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "netstring end"));
        }
        src.advance(colon + 1);
        let item = src.split_to(len);
        src.advance(1);
        Ok(Some(item))
    }
}

impl Encoder<&[u8]> for Netstring {
    type Error = io::Error;

    fn encode(&mut self, item: &[u8], dst: &mut BytesMut) -> io::Result<()> {
        dst.put_slice(format!("{}:", item.len()).as_bytes());
        dst.put_slice(item);
        dst.put_u8(b',');
        Ok(())
    }
}

/// A reader over `wire` handed out `piece` bytes at a time (a slow peer).
fn pieces(wire: &[u8], piece: usize) -> StreamReader {
    let chunks: Vec<io::Result<bytes::Bytes>> = wire
        .chunks(piece)
        .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
        .collect();
    StreamReader::from_io(tokio_util::io::StreamReader::new(tokio_stream::iter(
        chunks,
    )))
}

// One stream: a line, two length-delimited frames, a netstring, a line again (readline),
// in every chunking: each codec sees exactly its bytes, nothing is lost at a switch.
#[tokio::test]
async fn switching_codecs_mid_stream_loses_no_byte() {
    let wire = b"HELLO\n\0\0\0\x03abc\0\0\0\x005:world,bye\n";
    for piece in [1, 2, 3, 7, wire.len()] {
        let mut reader = pieces(wire, piece);
        let mut lines = LinesCodec::new_with_max_length(64);
        let mut frames = LengthDelimitedCodec::new();
        assert_eq!(reader.decode(&mut lines).await.unwrap().unwrap(), "HELLO");
        assert_eq!(reader.decode(&mut frames).await.unwrap().unwrap(), "abc");
        assert_eq!(reader.decode(&mut frames).await.unwrap().unwrap(), "");
        assert_eq!(
            reader.decode(&mut Netstring).await.unwrap().unwrap(),
            "world"
        );
        assert_eq!(reader.readline().await.unwrap(), "bye\n", "piece {piece}");
        assert_eq!(reader.decode(&mut lines).await.unwrap(), None);
    }
}

// decode_eof at EOF, as FramedRead calls it: LinesCodec returns the unterminated last
// line; the default decode_eof fails on bytes that make no item, which stay buffered.
#[tokio::test]
async fn decode_eof_semantics_at_eof() {
    let mut reader = pieces(b"a\nlast", 2);
    let mut lines = LinesCodec::new();
    assert_eq!(reader.decode(&mut lines).await.unwrap().unwrap(), "a");
    assert_eq!(reader.decode(&mut lines).await.unwrap().unwrap(), "last");
    assert_eq!(reader.decode(&mut lines).await.unwrap(), None);
    assert_eq!(reader.decode(&mut lines).await.unwrap(), None, "EOF stays");

    let mut reader = pieces(b"4:ab", 1);
    let err = reader.decode(&mut Netstring).await.unwrap_err();
    assert_eq!(err.to_string(), "bytes remaining on stream");
    assert_eq!(reader.buffer(), b"4:ab", "the bytes stay buffered");

    // LengthDelimitedCodec consumed the header of the frame cut by EOF.
    let mut reader = pieces(b"\0\0\0\x09abc", 3);
    let err = reader
        .decode(&mut LengthDelimitedCodec::new())
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "bytes remaining on stream");
    assert_eq!(reader.buffer(), b"abc");
}

// A decode dropped after the codec consumed a header and before the payload came: the
// same codec then returns the whole frame.
#[tokio::test]
async fn a_cancelled_decode_resumes_with_the_same_codec() {
    let mut reader = StreamReader::new();
    let mut frames = LengthDelimitedCodec::new();
    reader.feed_data(b"\0\0\0\x04ab").unwrap();
    {
        let mut decode = pin!(reader.decode(&mut frames));
        assert!(poll_once(decode.as_mut()).is_pending());
    }
    reader.feed_data(b"cd").unwrap();
    assert_eq!(reader.decode(&mut frames).await.unwrap().unwrap(), "abcd");
}

// The reader's stored exception reaches the codec's error type as an io::Error that
// carries our Error; a codec's own error is returned as it is.
#[tokio::test]
async fn errors_reach_the_codec_error_type() {
    let mut reader = fed_reader(&[b"xy\n"]);
    reader.set_exception(Error::ConnectionLost);
    let err = reader.decode(&mut Netstring).await.unwrap_err();
    let ours = err.get_ref().and_then(|e| e.downcast_ref::<Error>());
    assert!(matches!(ours, Some(Error::ConnectionLost)), "{err:?}");
    reader.clear_exception();
    let mut lines = LinesCodec::new_with_max_length(1);
    assert!(reader.decode(&mut lines).await.is_err(), "line too long");

    let mut reader = fed_reader(&[b"12345:"]);
    assert_eq!(
        reader.decode(&mut Netstring).await.unwrap_err().to_string(),
        "netstring length"
    );
}

// The Stream form: items until EOF, then None; dropping it gives the reader back.
#[tokio::test]
async fn decoded_is_a_stream_of_items() {
    let mut reader = pieces(b"1:a,2:bc,0:,", 3);
    let items: Vec<BytesMut> = reader
        .decoded(Netstring)
        .map(Result::unwrap)
        .collect()
        .await;
    assert_eq!(items, ["a", "bc", ""]);
    assert!(reader.at_eof());
}

// Encoders write into the write queue; LengthDelimitedCodec's frames and read_frame /
// write_frame with a u32 big-endian spec are the same bytes on the wire.
#[bounded_test]
async fn encoders_and_frames_interoperate_over_loopback() {
    let (_server, port) = serve_loopback(
        ServerOptions::new(),
        |mut reader: StreamReader, writer: StreamWriter| async move {
            let spec = FrameSpec::u32_be();
            let frame = reader.read_frame(&spec).await?.expect("a frame");
            let mut frames = LengthDelimitedCodec::new();
            writer
                .encode(&mut frames, frame.clone())
                .map_err(Error::from)?;
            let item = reader.decode(&mut Netstring).await.map_err(Error::from)?;
            writer.write_frame(&spec, &item.expect("a netstring"))?;
            writer.drain().await
        },
    )
    .await;
    let (mut reader, writer) = open_connection("127.0.0.1", port).await.unwrap();
    let mut frames = LengthDelimitedCodec::new();
    writer
        .encode(&mut frames, bytes::Bytes::from_static(b"one"))
        .unwrap();
    writer.encode(&mut Netstring, &b"two"[..]).unwrap();
    writer.drain().await.unwrap();
    assert_eq!(reader.decode(&mut frames).await.unwrap().unwrap(), "one");
    let two = reader.read_frame(&FrameSpec::u32_be()).await.unwrap();
    assert_eq!(two.unwrap(), "two");
    assert!(reader.decode(&mut frames).await.unwrap().is_none());
}

// STARTTLS with a codec (tokio #7472): the server decodes the STARTTLS line with
// LinesCodec while the client's ClientHello, sent without waiting, is already buffered
// behind it; start_tls takes those bytes; then both sides speak length-delimited frames
// over TLS through the same reader.
#[cfg(feature = "tls")]
#[bounded_test]
async fn codec_switch_after_a_starttls_upgrade() {
    use crate::support::certs::{Kind, Pki};
    let pki = Pki::new();
    let config = pki.server_config(Kind::Good);
    let (_server, port) = serve_loopback(
        ServerOptions::new(),
        move |mut reader: StreamReader, writer: StreamWriter| {
            let config = config.clone();
            async move {
                let mut lines = LinesCodec::new_with_max_length(64);
                let line = reader.decode(&mut lines).await.map_err(Error::custom)?;
                assert_eq!(line.as_deref(), Some("STARTTLS"));
                writer.start_tls(&mut reader, config, None).await?;
                let mut frames = LengthDelimitedCodec::new();
                while let Some(frame) = reader.decode(&mut frames).await? {
                    writer.encode(&mut frames, frame.freeze())?;
                }
                writer.drain().await
            }
        },
    )
    .await;
    let (mut reader, writer) = open_connection("127.0.0.1", port).await.unwrap();
    writer.encode(&mut LinesCodec::new(), "STARTTLS").unwrap();
    writer
        .start_tls(&mut reader, pki.client_config(), Some("localhost"))
        .await
        .unwrap();
    let mut frames = LengthDelimitedCodec::new();
    for payload in ["over", "tls"] {
        writer
            .encode(&mut frames, bytes::Bytes::from_static(payload.as_bytes()))
            .unwrap();
    }
    writer.write_eof();
    assert_eq!(reader.decode(&mut frames).await.unwrap().unwrap(), "over");
    assert_eq!(
        reader
            .read_frame(&FrameSpec::u32_be())
            .await
            .unwrap()
            .unwrap(),
        "tls"
    );
    assert!(reader.decode(&mut frames).await.unwrap().is_none());
}
