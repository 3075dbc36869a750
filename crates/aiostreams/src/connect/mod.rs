//! Making connections: TCP (`create_connection`), and later `open_connection` on top.

pub(crate) mod tcp;

mod accepts;

mod open;
#[cfg(feature = "tls")]
mod ssl;

pub(crate) use accepts::Entry;
#[cfg(unix)]
pub use open::open_unix_connection;
pub use open::{ConnectOptions, open_connection};
#[cfg(feature = "tls")]
pub(crate) use ssl::handshake;
