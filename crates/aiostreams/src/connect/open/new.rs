//! [`ConnectOptions::new`]: asyncio's `open_connection` defaults.

use super::ConnectOptions;
use crate::DEFAULT_LIMIT;
use crate::connect::accepts::Given;
use crate::connect::tcp::TcpConnectOptions;
use crate::transport::Timeouts;

impl ConnectOptions {
    /// The defaults: limit 64 KiB, any family, TCP_NODELAY on (as asyncio), no keepalive.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), aiostreams::Error> {
    /// # let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// # let port = listener.local_addr()?.port();
    /// let options = aiostreams::ConnectOptions::new();
    /// let (reader, writer) = options.connect("127.0.0.1", port).await?;
    /// // asyncio's defaults: lines up to 64 KiB, TCP_NODELAY on.
    /// assert_eq!(reader.limit(), 64 * 1024);
    /// assert!(writer.transport().with_socket(|s| s.tcp_nodelay()).unwrap()?);
    /// # Ok(())
    /// # }
    /// ```
    pub fn new() -> Self {
        ConnectOptions {
            limit: DEFAULT_LIMIT,
            tcp: TcpConnectOptions {
                nodelay: true,
                ..TcpConnectOptions::default()
            },
            timeouts: Timeouts::default(),
            given: Given::default(),
            #[cfg(feature = "tls")]
            tls: Default::default(),
        }
    }
}
