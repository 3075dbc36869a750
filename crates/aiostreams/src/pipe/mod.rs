//! asyncio's `loop.connect_read_pipe()` / `loop.connect_write_pipe()`: streams over a
//! pipe (or another pollable descriptor) given as a file descriptor.

use std::fs::File;
use std::os::fd::OwnedFd;
use std::os::unix::fs::FileTypeExt;

use tokio::net::unix::pipe;

use crate::{DEFAULT_LIMIT, Error, StreamReader, StreamWriter};

/// A [`StreamReader`] reading a pipe's read end, e.g. a child's output or a FIFO (limit
/// [`DEFAULT_LIMIT`]).
///
/// asyncio: `reader = StreamReader(); await loop.connect_read_pipe(lambda:
/// StreamReaderProtocol(reader), pipe)`. As asyncio, it accepts a pipe (FIFO), a socket or
/// a character device (a terminal) and puts the descriptor in non-blocking mode (which
/// the other holders of an inherited descriptor, e.g. a shell's terminal, see too). The
/// reader owns the descriptor and closes it when dropped. EOF is the writers' closing.
///
/// tokio: [`tokio::net::unix::pipe::Receiver`], under a reader; a
/// [`tokio::process::ChildStdout`] goes to [`StreamReader::from_io`] directly.
///
/// # Errors
///
/// [`Error::InvalidArgument`] (asyncio's `"Pipe transport is for pipes/sockets only."`)
/// for a regular file, a directory or another descriptor epoll cannot watch;
/// [`Error::Io`] when its type or mode cannot be read or set.
///
/// # Panics
///
/// Outside a tokio runtime with I/O enabled, as tokio's own constructors.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
/// use std::io::Write;
///
/// let (read_end, mut write_end) = std::io::pipe()?;
/// let mut reader = aiostreams::connect_read_pipe(read_end)?;
/// write_end.write_all(b"one line\n")?;
/// drop(write_end); // the reader sees EOF once every write end is closed
/// assert_eq!(reader.readline().await?, "one line\n");
/// assert!(reader.read_to_eof().await?.is_empty());
/// # Ok(()) }
/// ```
pub fn connect_read_pipe(pipe: impl Into<OwnedFd>) -> Result<StreamReader, Error> {
    connect_read_pipe_with_limit(pipe, DEFAULT_LIMIT)
}

/// [`connect_read_pipe`] with the reader's `limit` (asyncio `StreamReader(limit=n)`).
///
/// # Errors
///
/// As [`connect_read_pipe`], and [`Error::InvalidArgument`] (`"Limit cannot be <= 0"`)
/// for a zero limit.
///
/// # Panics
///
/// Outside a tokio runtime with I/O enabled.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
/// use std::io::Write;
///
/// use aiostreams::Error;
///
/// let (read_end, mut write_end) = std::io::pipe()?;
/// let mut reader = aiostreams::connect_read_pipe_with_limit(read_end, 8)?;
/// write_end.write_all(b"short\nfar too long a line\n")?;
/// assert_eq!(reader.readline().await?, "short\n");
/// assert!(matches!(reader.readline().await, Err(Error::LimitOverrun { .. })));
///
/// let (read_end, _write_end) = std::io::pipe()?;
/// let zero = aiostreams::connect_read_pipe_with_limit(read_end, 0);
/// assert!(matches!(zero, Err(Error::InvalidArgument(_))));
/// # Ok(()) }
/// ```
pub fn connect_read_pipe_with_limit(
    pipe: impl Into<OwnedFd>,
    limit: usize,
) -> Result<StreamReader, Error> {
    let fd = pollable(pipe.into())?;
    StreamReader::from_io_with_limit(pipe::Receiver::from_owned_fd_unchecked(fd)?, limit)
}

/// A [`StreamWriter`] writing a pipe's write end, e.g. a child's input, a FIFO, or a
/// duplicate of stdout.
///
/// asyncio: `transport, protocol = await loop.connect_write_pipe(FlowControlMixin, pipe);
/// writer = StreamWriter(transport, protocol, None, loop)`. The descriptors accepted and
/// the non-blocking mode are [`connect_read_pipe`]'s. The writer is
/// [`StreamWriter::from_io`]'s: `write()` never blocks, `drain()` has the water marks,
/// `write_eof()` and `close()` close the descriptor once the queue is sent (the reading
/// side sees EOF). Writing once the reading end is closed fails with `BrokenPipe`, which
/// `drain()` and `wait_closed()` raise (Rust programs ignore `SIGPIPE`).
///
/// # Errors
///
/// As [`connect_read_pipe`].
///
/// # Panics
///
/// Outside a tokio runtime with I/O enabled.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
/// let (read_end, write_end) = std::io::pipe()?;
/// let writer = aiostreams::connect_write_pipe(write_end)?;
/// let mut reader = aiostreams::connect_read_pipe(read_end)?;
/// writer.write(b"through the pipe\n")?;
/// writer.drain().await?;
/// writer.close(); // closes the write end: the reader sees EOF
/// writer.wait_closed().await?;
/// assert_eq!(reader.read_to_eof().await?, "through the pipe\n");
/// # Ok(()) }
/// ```
pub fn connect_write_pipe(pipe: impl Into<OwnedFd>) -> Result<StreamWriter, Error> {
    let fd = pollable(pipe.into())?;
    Ok(StreamWriter::from_io(
        pipe::Sender::from_owned_fd_unchecked(fd)?,
    ))
}

/// asyncio's check (a pipe, a socket or a character device: what a selector can watch),
/// then non-blocking mode. tokio's checked constructors take FIFOs only.
fn pollable(fd: OwnedFd) -> Result<OwnedFd, Error> {
    let file = File::from(fd);
    let kind = file.metadata()?.file_type();
    if !(kind.is_fifo() || kind.is_socket() || kind.is_char_device()) {
        return Err(Error::InvalidArgument(
            "Pipe transport is for pipes/sockets only.",
        ));
    }
    // `fcntl(F_SETFL, O_NONBLOCK)`, which socket2 does for any descriptor.
    socket2::SockRef::from(&file).set_nonblocking(true)?;
    Ok(file.into())
}
