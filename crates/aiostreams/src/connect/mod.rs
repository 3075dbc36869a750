//! Making connections: TCP (`create_connection`), and later `open_connection` on top.

#[allow(
    dead_code,
    reason = "connect_tcp's caller, open_connection, comes next"
)]
pub(crate) mod tcp;

mod open;

pub use open::{ConnectOptions, open_connection};
pub use tcp::Family;
