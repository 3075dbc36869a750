//! [`StreamReader`]'s constructors: fed by hand or pulling from any `AsyncRead`. In their
//! own file, declared first, so the docs page starts with them.

use tokio::io::AsyncRead;

use super::StreamReader;
use super::source::IoSource;
use crate::sansio::check_limit;
use crate::{DEFAULT_LIMIT, Error};

impl StreamReader {
    /// A reader with no source, fed with [`feed_data`](Self::feed_data) or a [`Feeder`](crate::Feeder).
    ///
    /// asyncio: `StreamReader()`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::StreamReader;
    ///
    /// let mut reader = StreamReader::new();
    /// reader.feed_data(b"GET / HTTP/1.1\r\n")?;
    /// assert_eq!(reader.readuntil(b"\r\n").await?, "GET / HTTP/1.1\r\n");
    /// # Ok(())
    /// # }
    /// ```
    pub fn new() -> Self {
        Self::build(DEFAULT_LIMIT, None)
    }

    /// A reader with no source and the given limit.
    ///
    /// asyncio: `StreamReader(limit=limit)`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] (`"Limit cannot be <= 0"`) when `limit` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::{Error, StreamReader};
    ///
    /// let mut reader = StreamReader::with_limit(4)?;
    /// reader.feed_data(b"toolong\n")?;
    /// assert!(matches!(reader.readline().await, Err(Error::LimitOverrun { .. })));
    /// assert!(matches!(StreamReader::with_limit(0), Err(Error::InvalidArgument(_))));
    /// # Ok(())
    /// # }
    /// ```
    pub fn with_limit(limit: usize) -> Result<Self, Error> {
        Ok(Self::build(check_limit(limit)?, None))
    }

    /// A reader that pulls from `io` when a read needs more bytes.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// let mut reader = aiostreams::StreamReader::from_io(&b"abc"[..]);
    /// assert_eq!(reader.readexactly(3).await?, "abc");
    /// # Ok(()) }
    /// ```
    pub fn from_io(io: impl AsyncRead + Send + Unpin + 'static) -> Self {
        Self::build(DEFAULT_LIMIT, Some(Box::new(IoSource::new(io))))
    }

    /// A reader that pulls from `io`, with the given limit.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] (`"Limit cannot be <= 0"`) when `limit` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// let (mut client, server) = tokio::io::duplex(64);
    /// let mut reader = aiostreams::StreamReader::from_io_with_limit(server, 1024)?;
    /// tokio::io::AsyncWriteExt::write_all(&mut client, b"ping\n").await?;
    /// assert_eq!(reader.readline().await?, "ping\n");
    /// assert_eq!(reader.limit(), 1024);
    /// # Ok(())
    /// # }
    /// ```
    pub fn from_io_with_limit(
        io: impl AsyncRead + Send + Unpin + 'static,
        limit: usize,
    ) -> Result<Self, Error> {
        Ok(Self::build(
            check_limit(limit)?,
            Some(Box::new(IoSource::new(io))),
        ))
    }
}
