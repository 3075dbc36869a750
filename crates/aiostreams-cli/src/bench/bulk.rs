//! The bulk cells: one connection moves a lot of data; GB/s and server CPU per GB.
//!
//! The client writes `bytes` in 1 MiB writes of a pattern that does not repeat at
//! 1 MiB boundaries. To `discard`: then half-closes (TLS: close_notify) and waits for the
//! server to close, so the time counts until the server has read everything. To `echo`:
//! reads everything back at the same time and checks every byte. A GB is 10^9 bytes.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use anyhow::Result;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::Instant;

use super::load::{Sample, Target, connect};
use super::system::{CpuTime, rss_bytes};
use super::tls::server_name;

/// Bytes per client write (and read).
const CHUNK: usize = 1024 * 1024;
/// The pattern's period: a prime, so a chunk lost or repeated does not verify.
const PERIOD: usize = 1_048_573;

/// Sends `bytes` to the server (and reads them back when it echoes).
pub(crate) async fn run(target: &Target, bytes: u64, echo: bool) -> Result<Sample> {
    let pattern = pattern();
    let stream = connect(target.port).await?;
    let cpu_before = CpuTime::of(target.pid)?;
    let started = Instant::now();
    let verified = match &target.tls {
        None => transfer(stream, &pattern, bytes, echo).await?,
        Some(connector) => {
            let stream = connector.connect(server_name(), NoFin(stream)).await?;
            transfer(stream, &pattern, bytes, echo).await?
        }
    };
    let elapsed = started.elapsed();
    let mut sample = Sample::new(elapsed.as_secs_f64());
    sample.cpu = cpu_before.since(target.pid)?;
    sample.rss_bytes = rss_bytes(target.pid)?;
    sample.requests = 1;
    sample.record(elapsed);
    sample.verified_bytes = verified;
    sample.bulk_bytes = Some(bytes);
    Ok(sample)
}

/// A TCP stream whose `shutdown` only flushes: the TLS client's half-close is its
/// close_notify alone, without a TCP FIN after it.
///
/// uvloop 0.23 answers a close_notify followed by a FIN by closing without its own
/// close_notify (asyncio answers it either way; both answer a close_notify alone), which
/// the client must report as a truncation; a TLS close needs no FIN, so none is sent.
struct NoFin(tokio::net::TcpStream);

impl AsyncRead for NoFin {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for NoFin {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.0.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
}

/// Three periods, so that any chunk of up to `CHUNK` bytes is one slice from any offset
/// within the first (`CHUNK` is a little more than one period: with two, a full chunk
/// read at one of the period's last two offsets ran past the end).
fn pattern() -> Vec<u8> {
    let period: Vec<u8> = (0..PERIOD).map(|i| (i * 31 % 251) as u8).collect();
    period.repeat(3)
}

/// The pattern's bytes `offset..offset + len` (`len <= CHUNK`).
fn slice(pattern: &[u8], offset: u64, len: usize) -> &[u8] {
    let start = (offset % PERIOD as u64) as usize;
    &pattern[start..start + len]
}

async fn transfer<S: AsyncRead + AsyncWrite>(
    stream: S,
    pattern: &[u8],
    bytes: u64,
    echo: bool,
) -> io::Result<u64> {
    let (mut read, mut write) = tokio::io::split(stream);
    let send = async {
        let mut sent = 0;
        while sent < bytes {
            let len = (bytes - sent).min(CHUNK as u64) as usize;
            write.write_all(slice(pattern, sent, len)).await?;
            sent += len as u64;
        }
        write.shutdown().await
    };
    let receive = async {
        let mut buf = vec![0u8; CHUNK];
        let mut received = 0u64;
        loop {
            let n = read.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            if buf[..n] != *slice(pattern, received, n) {
                return Err(io::Error::other(format!(
                    "wrong bytes echoed after {received} right ones"
                )));
            }
            received += n as u64;
        }
        let expected = if echo { bytes } else { 0 };
        if received != expected {
            return Err(io::Error::other(format!(
                "{received} bytes came back, expected {expected}"
            )));
        }
        Ok(received)
    };
    let (sent, received) = tokio::join!(send, receive);
    sent?;
    received
}

#[cfg(test)]
mod tests {
    use super::{CHUNK, PERIOD, pattern, slice};

    #[test]
    fn a_full_chunk_is_one_slice_from_every_offset_of_the_period() {
        let pattern = pattern();
        for offset in [
            0,
            1,
            PERIOD as u64 - 2,
            PERIOD as u64 - 1,
            5 * PERIOD as u64 - 1,
        ] {
            let got = slice(&pattern, offset, CHUNK);
            let start = offset as usize % PERIOD;
            assert_eq!(got[0], pattern[start]);
            assert_eq!(got[CHUNK - 1], pattern[(start + CHUNK - 1) % PERIOD]);
        }
    }
}
