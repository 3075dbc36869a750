//! Making connections: TCP (`create_connection`), and later `open_connection` on top.

pub(crate) mod tcp;

mod open;
#[cfg(feature = "tls")]
mod ssl;

#[cfg(unix)]
pub use open::open_unix_connection;
pub(crate) use open::streams;
pub use open::{ConnectOptions, open_connection};
