//! asyncio's non-read methods of [`StreamReader`]: `at_eof`, `feed_data`, `feed_eof`,
//! `exception`, `set_exception` (asyncio's order after the reads on the docs page).

use super::StreamReader;
use crate::Error;

impl StreamReader {
    /// True when EOF was received and every buffered byte has been read.
    ///
    /// asyncio: `at_eof()`. A stored exception does not change the answer.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// let mut reader = aiostreams::StreamReader::new();
    /// reader.feed_data(b"x")?;
    /// reader.feed_eof();
    /// assert!(!reader.at_eof()); // a byte is still buffered
    /// assert_eq!(reader.read(10).await?, "x");
    /// assert!(reader.at_eof());
    /// # Ok(())
    /// # }
    /// ```
    pub fn at_eof(&self) -> bool {
        if self.shared.has_pending() {
            let inbox = self.shared.lock();
            return self.buf.is_empty() && inbox.data.is_empty() && inbox.eof;
        }
        self.buf.at_eof()
    }

    /// Appends bytes to the buffer and wakes a pending read.
    ///
    /// asyncio: `feed_data(data)`. Empty data is a no-op.
    ///
    /// # Errors
    ///
    /// [`Error::FeedAfterEof`] once EOF was fed (even for empty data, as in asyncio,
    /// where it is an assertion); the reader is left unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::{Error, StreamReader};
    ///
    /// let mut reader = StreamReader::new();
    /// reader.feed_data(b"line\n")?;
    /// assert_eq!(reader.readline().await?, "line\n");
    /// reader.feed_eof();
    /// assert!(matches!(reader.feed_data(b"late"), Err(Error::FeedAfterEof)));
    /// # Ok(())
    /// # }
    /// ```
    pub fn feed_data(&mut self, data: &[u8]) -> Result<(), Error> {
        self.sync_inbox();
        self.buf.feed(data)?;
        self.publish_buffered();
        Ok(())
    }

    /// Marks EOF: once the buffer is read, reads return empty or `IncompleteRead`.
    ///
    /// asyncio: `feed_eof()`. Idempotent.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::{Error, StreamReader};
    ///
    /// let mut reader = StreamReader::new();
    /// reader.feed_data(b"part")?;
    /// reader.feed_eof();
    /// let err = reader.readexactly(10).await.unwrap_err();
    /// assert!(matches!(err, Error::IncompleteRead { ref partial, expected: Some(10) } if partial == "part"));
    /// # Ok(())
    /// # }
    /// ```
    pub fn feed_eof(&mut self) {
        self.sync_inbox();
        self.mark_eof();
    }

    /// The stored error, if any.
    ///
    /// asyncio: `exception()`.
    ///
    /// # Examples
    ///
    /// ```
    /// let reader = aiostreams::StreamReader::new();
    /// assert!(reader.exception().is_none());
    /// reader.set_exception(std::io::Error::other("boom"));
    /// assert_eq!(reader.exception().unwrap().to_string(), "boom");
    /// ```
    pub fn exception(&self) -> Option<Error> {
        self.shared.exception()
    }

    /// Stores an error that every later read raises, ahead of any buffered data.
    ///
    /// asyncio: `set_exception(exc)`. The buffer is not modified, and data may still be
    /// fed afterwards. A read waiting for data wakes and fails with it.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// let mut reader = aiostreams::StreamReader::new();
    /// reader.feed_data(b"buffered\n")?;
    /// reader.set_exception(std::io::Error::other("parser gave up"));
    /// // The error comes first, ahead of the buffered bytes.
    /// assert_eq!(reader.readline().await.unwrap_err().to_string(), "parser gave up");
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_exception(&self, err: impl Into<Error>) {
        self.shared.set_exception(err.into());
    }
}
