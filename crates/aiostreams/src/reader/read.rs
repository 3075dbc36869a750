//! `read(n)`, `read_to_eof()` and `readexactly(n)`.

use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;

use super::{MAX_BULK_PULL, StreamReader};
use crate::Error;
use crate::sansio::{MAX_PULL, ReadOp};

impl StreamReader {
    /// Reads up to `n` bytes, returning as soon as at least one is buffered.
    ///
    /// asyncio: `read(n)` with `n >= 0`. `read(0)` returns empty at once, without
    /// waiting. At EOF with nothing buffered it returns empty. The limit does not apply.
    ///
    /// # Bulk transfers
    ///
    /// `n` also sizes the reads from the socket: `read(65536)` (asyncio's idiom) takes
    /// at most 64 KiB per system call; a larger `n` lets one take up to `n` (at most
    /// 1 MiB) once the connection keeps filling what it reads (a read starts at 4 KiB and
    /// doubles, so an idle or slow connection never reserves that much). To copy or echo
    /// a stream, ask for 1 MiB, as a hand-written tokio loop uses a 1 MiB buffer: with
    /// `read(65536)`, `write` and `drain`, a 1 GiB echo made 16 times the system calls
    /// and cost 1.5x raw tokio's CPU per GB; with `read(1 << 20)`, the same system calls
    /// as raw tokio and within a few percent of its CPU (`bench --cells bulk-echo-1g`).
    /// The buffer is released while the reader waits with nothing buffered.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::{Error, StreamReader, StreamWriter};
    ///
    /// async fn echo(mut reader: StreamReader, writer: StreamWriter) -> Result<(), Error> {
    ///     loop {
    ///         let data = reader.read(1 << 20).await?; // up to 1 MiB per system call
    ///         if data.is_empty() {
    ///             return Ok(()); // EOF
    ///         }
    ///         writer.write_bytes(data)?; // no copy
    ///         writer.drain().await?;
    ///     }
    /// }
    /// # let server = aiostreams::start_server(echo, "127.0.0.1", 0).await?;
    /// # let port = server.sockets()[0].as_inet().unwrap().port();
    /// # let (mut reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// # writer.write(&vec![7u8; 3 << 20])?;
    /// # writer.write_eof();
    /// # assert_eq!(reader.read_to_eof().await?.len(), 3 << 20);
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// The stored exception, if any, before anything else (even for `n == 0`).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, no byte was removed.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// let mut reader = aiostreams::StreamReader::new();
    /// reader.feed_data(b"line1")?;
    /// reader.feed_data(b"line2")?;
    /// assert_eq!(reader.read(5).await?, "line1");
    /// assert_eq!(reader.read(100).await?, "line2");
    /// # Ok(()) }
    /// ```
    #[inline]
    pub fn read(&mut self, n: usize) -> impl Future<Output = Result<Bytes, Error>> + Send + '_ {
        ReadSome {
            reader: self,
            n,
            op: None,
        }
    }

    /// Reads until EOF and returns every byte.
    ///
    /// asyncio: `read()` / `read(-1)`. The result is not bounded by the limit.
    ///
    /// # Errors
    ///
    /// The stored exception, if any, including one stored while waiting; the bytes
    /// gathered so far then stay in the buffer.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, unlike asyncio's: the bytes gathered so far stay in the buffer until
    /// EOF, so a dropped future loses nothing and a later read returns them.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// let mut reader = aiostreams::StreamReader::new();
    /// reader.feed_data(b"chunk1\n")?;
    /// reader.feed_data(b"chunk2")?;
    /// reader.feed_eof();
    /// assert_eq!(reader.read_to_eof().await?, "chunk1\nchunk2");
    /// # Ok(()) }
    /// ```
    #[doc(alias = "read_to_end")]
    pub async fn read_to_eof(&mut self) -> Result<Bytes, Error> {
        self.run(ReadOp::read_to_eof()).await
    }

    /// Reads exactly `n` bytes.
    ///
    /// asyncio: `readexactly(n)`. `n` may exceed the limit. `readexactly(0)` returns
    /// empty at once unless an exception is stored.
    ///
    /// Nothing is reserved up front: the buffer grows as bytes arrive (a pull reserves at
    /// most 64 KiB), so a hostile declared size costs memory only as fast as the peer
    /// really sends. Still cap sizes a peer declares (Redis caps bulk strings at 512 MiB):
    /// see the RESP example below.
    ///
    /// # Errors
    ///
    /// - the stored exception, if any, first; bytes already buffered stay there;
    /// - [`Error::IncompleteRead`] with `expected: Some(n)` when EOF comes first: its
    ///   `partial` holds every buffered byte, and the buffer is left empty.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the bytes stay in the buffer until all `n` are there.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use aiostreams::{Error, StreamReader};
    /// let mut reader = StreamReader::new();
    /// reader.feed_data(b"abc").unwrap();
    /// reader.feed_eof();
    /// let Err(Error::IncompleteRead { partial, expected }) = reader.readexactly(5).await else {
    ///     panic!("EOF came first");
    /// };
    /// assert_eq!((&partial[..], expected), (&b"abc"[..], Some(5)));
    /// # }
    /// ```
    ///
    /// A RESP bulk string (`$5\r\nhello\r\n`): the size line, the declared size capped,
    /// then the payload with its CRLF checked:
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// const MAX_BULK: usize = 512 * 1024 * 1024;
    /// let mut reader = aiostreams::StreamReader::new();
    /// reader.feed_data(b"$5\r\nhello\r\n")?;
    /// let header = reader.readline().await?; // "$5\r\n"
    /// let size = header
    ///     .strip_prefix(b"$")
    ///     .and_then(|h| h.strip_suffix(b"\r\n"))
    ///     .and_then(|n| std::str::from_utf8(n).ok()?.parse::<usize>().ok())
    ///     .filter(|&n| n <= MAX_BULK)
    ///     .ok_or("bad bulk header")?;
    /// let mut payload = reader.readexactly(size + 2).await?; // the payload and its CRLF
    /// if !payload.ends_with(b"\r\n") {
    ///     return Err("bulk string without its CRLF".into());
    /// }
    /// payload.truncate(size);
    /// assert_eq!(payload, "hello");
    /// # Ok(()) }
    /// ```
    #[doc(alias = "read_exact")]
    pub async fn readexactly(&mut self, n: usize) -> Result<Bytes, Error> {
        if let Some(bytes) = self.fast(|buf| buf.take_exactly(n)) {
            return Ok(bytes);
        }
        self.run(ReadOp::readexactly(n)).await
    }

    /// Runs one read to completion. (A plain function returning the poll loop, not an
    /// `async fn`: the caller's future then holds the loop itself, one state machine
    /// less to enter on every poll.)
    pub(crate) fn run(&mut self, mut op: ReadOp<'_>) -> impl Future<Output = Result<Bytes, Error>> {
        poll_fn(move |cx| self.poll_op(cx, &mut op))
    }
}

/// [`StreamReader::read`]'s future: the buffer's fast take on its first poll, else the
/// read run by [`StreamReader::poll_op`]. A future of its own rather than an `async fn`
/// (whose state machine, compiled in this crate, is one more call on each of the two
/// polls of a read that waits): its `poll` is inlined into the caller's crate, and a
/// read that starts on an empty buffer (every read of a request/response connection)
/// goes straight to `poll_op`, whose first step answers as the fast take would. Issue
/// 16's round 10 (echo-1k-c10 2,566 -> 2,470 instructions per request).
struct ReadSome<'a> {
    reader: &'a mut StreamReader,
    n: usize,
    /// Made on the first poll, when the fast take found nothing.
    op: Option<ReadOp<'static>>,
}

impl Future for ReadSome<'_> {
    type Output = Result<Bytes, Error>;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let n = this.n;
        let op = match &mut this.op {
            Some(op) => op,
            None => {
                if !this.reader.buf.is_empty()
                    && let Some(bytes) = this.reader.fast(|buf| buf.take_some(n))
                {
                    return Poll::Ready(Ok(bytes));
                }
                // A large `n` lets this read's pulls grow past 64 KiB ("Bulk transfers").
                this.reader.bulk_units = (n / MAX_PULL).min(MAX_BULK_PULL / MAX_PULL) as u8;
                this.op.insert(ReadOp::read(n))
            }
        };
        let read = ready!(this.reader.poll_op(cx, op));
        this.reader.bulk_units = 0;
        Poll::Ready(read)
    }
}
