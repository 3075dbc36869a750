//! `StreamWriter::sendfile`: a file's range sent by the kernel (plain sockets) or read
//! and written through the queue (TLS), after what is already queued.

use std::fs::File;
use std::future::poll_fn;
use std::io::{self, Seek, SeekFrom};
use std::sync::Arc;

use bytes::Bytes;

use super::StreamWriter;
use crate::Error;
use crate::transport::inner::{Inner, SendfileMode};

/// At most this much per `sendfile(2)` (Linux sends at most 0x7ffff000 bytes per call).
const MAX_NATIVE: u64 = 0x7fff_f000;
/// The fallback's read size.
const FALLBACK_CHUNK: u64 = 64 * 1024;

impl StreamWriter {
    /// Sends `count` bytes of `file` from `offset` (to its end when `count` is `None`),
    /// after the bytes already queued; returns how many were sent.
    ///
    /// asyncio: `await loop.sendfile(writer.transport, file, offset, count)`. On a plain
    /// TCP or Unix connection (Linux) the kernel copies the file to the socket
    /// (`sendfile(2)`: no copy through user space); on TLS, and on systems without it,
    /// the file is read in 64 KiB pieces (off the runtime's threads) and written with
    /// `write()` + `drain()`, as asyncio's fallback does. The queue is sent first; bytes
    /// written while the kernel sends the file are queued and leave after it, and a
    /// `write_eof()` or `close()` meanwhile waits for it (asyncio refuses writes during a
    /// `sendfile()`). The file's position is left at `offset` + the bytes sent, as
    /// asyncio leaves it; the reads themselves do not use it. A file shorter than
    /// `offset + count` sends what it has.
    ///
    /// # Errors
    ///
    /// - [`Error::InvalidArgument`] for `count == Some(0)`;
    /// - [`Error::InvalidState`] once closing (`"Transport is closing"`), after
    ///   [`write_eof`](Self::write_eof), or while another `sendfile()` or `start_tls`
    ///   runs;
    /// - the connection's error (it then ends, as after a failed send), or
    ///   [`drain`](Self::drain)'s errors; [`Error::Io`] when the file cannot be read.
    ///
    /// # Cancel safety
    ///
    /// Dropping it stops sending: a part of the range may have been sent (as with a
    /// dropped `write_all`), and queued writes go on.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use std::io::Write;
    ///
    /// let mut file = tempfile::tempfile()?;
    /// file.write_all(b"0123456789")?;
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let port = listener.local_addr()?.port();
    /// let (_reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
    /// let (mut peer, _) = listener.accept().await?;
    /// writer.write(b"head:")?;
    /// assert_eq!(writer.sendfile(&file, 2, Some(5)).await?, 5);
    /// writer.close();
    /// let mut got = String::new();
    /// tokio::io::AsyncReadExt::read_to_string(&mut peer, &mut got).await?;
    /// assert_eq!(got, "head:23456");
    /// # Ok(()) }
    /// ```
    pub async fn sendfile(
        &self,
        file: &File,
        offset: u64,
        count: Option<u64>,
    ) -> Result<u64, Error> {
        if count == Some(0) {
            return Err(Error::InvalidArgument(
                "count must be a positive integer (got 0)",
            ));
        }
        let inner = self.transport().inner();
        let sent = loop {
            match inner.begin_sendfile()? {
                SendfileMode::QueueFirst => {
                    let mut waited = false;
                    poll_fn(|cx| inner.poll_drain(cx, &mut waited, true)).await?;
                }
                SendfileMode::Native => break native(inner, file, offset, count).await?,
                SendfileMode::Fallback => break self.fallback(file, offset, count).await?,
            }
        };
        let mut position: &File = file;
        position.seek(SeekFrom::Start(offset.saturating_add(sent)))?;
        Ok(sent)
    }

    /// asyncio's `_sendfile_fallback`: read a piece, write it, drain.
    async fn fallback(&self, file: &File, offset: u64, count: Option<u64>) -> Result<u64, Error> {
        let mut file = file.try_clone()?;
        let mut sent = 0;
        loop {
            let want = count.map_or(FALLBACK_CHUNK, |c| (c - sent).min(FALLBACK_CHUNK));
            if want == 0 {
                return Ok(sent);
            }
            let at = offset.saturating_add(sent);
            let piece;
            (file, piece) =
                tokio::task::spawn_blocking(move || read_at(&file, at, want).map(|p| (file, p)))
                    .await
                    .map_err(io::Error::other)??;
            if piece.is_empty() {
                return Ok(sent);
            }
            sent += piece.len() as u64;
            self.write_bytes(piece)?;
            self.drain().await?;
        }
    }
}

/// The kernel's copy, `Layer::Sendfile` held until it ends or is dropped.
async fn native(
    inner: &Arc<Inner>,
    file: &File,
    offset: u64,
    count: Option<u64>,
) -> Result<u64, Error> {
    struct End<'a>(&'a Arc<Inner>);
    impl Drop for End<'_> {
        fn drop(&mut self) {
            self.0.end_sendfile();
        }
    }
    let _end = End(inner);
    let mut position = offset;
    loop {
        let sent = position - offset;
        let want = count.map_or(MAX_NATIVE, |c| (c - sent).min(MAX_NATIVE));
        if want == 0 {
            return Ok(sent);
        }
        let n = poll_fn(|cx| inner.poll_sendfile(cx, file, &mut position, want as usize)).await?;
        if n == 0 {
            return Ok(position - offset);
        }
    }
}

/// Up to `len` bytes of `file` at `at` (fewer only at its end).
fn read_at(file: &File, at: u64, len: u64) -> io::Result<Bytes> {
    use std::os::unix::fs::FileExt;
    let mut buf = vec![0; len as usize];
    let mut got = 0;
    while got < buf.len() {
        match file.read_at(&mut buf[got..], at + got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(got);
    Ok(buf.into())
}
