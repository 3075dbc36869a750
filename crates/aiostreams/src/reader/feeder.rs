//! [`Feeder`]: feeds a reader from another task (protocols, tests).

use std::fmt;
use std::sync::Arc;

use super::shared::Shared;
use crate::Error;

/// A cloneable handle that feeds a [`StreamReader`](crate::StreamReader) from anywhere.
///
/// asyncio's protocols call `feed_data`/`feed_eof`/`set_exception` on the reader from
/// transport callbacks; in Rust the reader is owned by the task that reads it, so those
/// calls go through this handle. Fed bytes are appended in order after the reader's
/// buffer and wake a pending read.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
/// let mut reader = aiostreams::StreamReader::new();
/// let feeder = reader.feeder();
/// tokio::spawn(async move {
///     feeder.feed_data(b"hello\n").unwrap();
///     feeder.feed_eof();
/// });
/// assert_eq!(reader.readline().await?, "hello\n");
/// assert_eq!(reader.readline().await?, "");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Feeder {
    shared: Arc<Shared>,
}

impl Feeder {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Feeder { shared }
    }

    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    /// Appends bytes and wakes a pending read (asyncio: `feed_data`).
    ///
    /// # Errors
    ///
    /// [`Error::FeedAfterEof`] once EOF was fed or seen by the reader.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// let mut reader = aiostreams::StreamReader::new();
    /// let feeder = reader.feeder();
    /// feeder.feed_data(b"from another task\n")?;
    /// assert_eq!(reader.readline().await?, "from another task\n");
    /// # Ok(())
    /// # }
    /// ```
    pub fn feed_data(&self, data: &[u8]) -> Result<(), Error> {
        self.shared.feed_data(data)
    }

    /// Marks EOF and wakes a pending read (asyncio: `feed_eof`). Idempotent.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// let mut reader = aiostreams::StreamReader::new();
    /// let feeder = reader.feeder();
    /// feeder.feed_eof();
    /// assert_eq!(reader.read(100).await?, ""); // EOF: an empty read
    /// assert!(reader.at_eof());
    /// # Ok(())
    /// # }
    /// ```
    pub fn feed_eof(&self) {
        self.shared.feed_eof();
    }

    /// Stores an error every later read raises (asyncio: `set_exception`).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// let mut reader = aiostreams::StreamReader::new();
    /// reader.feeder().set_exception(aiostreams::Error::ConnectionLost);
    /// assert!(matches!(reader.read(1).await, Err(aiostreams::Error::ConnectionLost)));
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_exception(&self, err: impl Into<Error>) {
        self.shared.set_exception(err.into());
    }

    /// The reader's stored error, if any (asyncio: `exception()`).
    ///
    /// # Examples
    ///
    /// ```
    /// let reader = aiostreams::StreamReader::new();
    /// let feeder = reader.feeder();
    /// assert!(feeder.exception().is_none());
    /// reader.set_exception(aiostreams::Error::ConnectionLost);
    /// assert!(matches!(feeder.exception(), Some(aiostreams::Error::ConnectionLost)));
    /// ```
    #[inline]
    pub fn exception(&self) -> Option<Error> {
        self.shared.exception()
    }
}

impl fmt::Debug for Feeder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Feeder").finish_non_exhaustive()
    }
}
