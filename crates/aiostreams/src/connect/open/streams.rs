//! What the streams of a connection get: the reader's limit (asyncio's `limit=`) and
//! the read, write and idle timeouts (beyond asyncio).

use std::time::Duration;

use super::ConnectOptions;

impl ConnectOptions {
    /// The reader's limit (asyncio `limit=`). 0 is rejected when connecting;
    /// `create_connection_with` refuses it (its protocol gets the bytes).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// use aiostreams::{ConnectOptions, Error};
    ///
    /// let (reader, _writer) = ConnectOptions::new()
    ///     .limit(1 << 20) // lines up to 1 MiB
    ///     .connect("127.0.0.1", port)
    ///     .await?;
    /// assert_eq!(reader.limit(), 1 << 20);
    /// let zero = ConnectOptions::new().limit(0).connect("127.0.0.1", port).await;
    /// assert!(matches!(zero, Err(Error::InvalidArgument(_))));
    /// # Ok(())
    /// # }
    /// ```
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self.given.limit = true;
        self
    }

    /// Beyond asyncio: the connection's read timeout (default none); see
    /// [`ServerOptions::read_timeout`](crate::ServerOptions::read_timeout) and
    /// [`StreamReader::set_read_timeout`]. `create_connection_with` refuses it (its
    /// protocol has no reads to time).
    ///
    /// [`StreamReader::set_read_timeout`]: crate::StreamReader::set_read_timeout
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// use std::time::Duration;
    /// use aiostreams::Error;
    ///
    /// // The server says nothing: the read gives up after 10 s; the connection stays open.
    /// let (mut reader, writer) = aiostreams::ConnectOptions::new()
    ///     .read_timeout(Duration::from_secs(10))
    ///     .connect("127.0.0.1", port)
    ///     .await?;
    /// // (The outer timeout only keeps a broken example from hanging.)
    /// let read = tokio::time::timeout(Duration::from_secs(60), reader.readline()).await;
    /// let err = read.expect("the read timeout fires first").unwrap_err();
    /// assert!(matches!(err, Error::TimedOut { operation: "read", .. }));
    /// assert!(!writer.is_closing());
    /// # Ok(())
    /// # }
    /// ```
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.read = Some(timeout);
        self
    }

    /// Beyond asyncio: the connection's write timeout (default none), as
    /// [`ServerOptions::write_timeout`](crate::ServerOptions::write_timeout): queued bytes
    /// that make no progress this long, or a `drain()` that does not get the queue back
    /// to the low-water mark this long, end the connection; see
    /// [`Transport::set_write_timeout`](crate::Transport::set_write_timeout).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// use std::time::Duration;
    ///
    /// // The server takes none of our bytes: once the socket buffers are full, the queue
    /// // stops moving, and 10 s later drain() fails and the connection ends.
    /// let (_reader, writer) = aiostreams::ConnectOptions::new()
    ///     .write_timeout(Duration::from_secs(10))
    ///     .connect("127.0.0.1", port)
    ///     .await?;
    /// let chunk = vec![b'x'; 64 * 1024];
    /// let fill = async {
    ///     loop {
    ///         writer.write(&chunk)?;
    ///         if let Err(e) = writer.drain().await {
    ///             return Ok::<_, aiostreams::Error>(e);
    ///         }
    ///     }
    /// };
    /// // (The outer timeout only keeps a broken example from hanging.)
    /// let err = tokio::time::timeout(Duration::from_secs(600), fill).await.expect("cut")?;
    /// assert!(matches!(err, aiostreams::Error::TimedOut { operation: "write", .. }));
    /// assert!(writer.is_closing());
    /// # Ok(())
    /// # }
    /// ```
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.write = Some(timeout);
        self
    }

    /// Beyond asyncio: the connection's idle timeout (default none): no byte in either
    /// direction for this long, read waiting or not, and the connection is closed; see
    /// [`StreamReader::set_idle_timeout`]. `create_connection_with` honours it too (a
    /// protocol's `connection_lost` gets the `TimedOut` error).
    ///
    /// [`StreamReader::set_idle_timeout`]: crate::StreamReader::set_idle_timeout
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// use std::time::Duration;
    ///
    /// // 60 s with nothing sent or received: the connection is closed, and the read waiting
    /// // on it fails.
    /// let (mut reader, writer) = aiostreams::ConnectOptions::new()
    ///     .idle_timeout(Duration::from_secs(60))
    ///     .connect("127.0.0.1", port)
    ///     .await?;
    /// // (The outer timeout only keeps a broken example from hanging.)
    /// let read = tokio::time::timeout(Duration::from_secs(600), reader.read(100)).await;
    /// let err = read.expect("the idle timeout fires first").unwrap_err();
    /// assert!(matches!(err, aiostreams::Error::TimedOut { operation: "idle", .. }));
    /// assert!(writer.is_closing());
    /// # Ok(())
    /// # }
    /// ```
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.timeouts.idle = Some(timeout);
        self
    }
}
