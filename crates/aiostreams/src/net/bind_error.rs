//! asyncio's text for a failed bind, on the connect side (`local_addr=`) and the server side.

use std::io;
use std::net::SocketAddr;

use crate::error::PyAddr;

/// asyncio 3.13's bind failure, for `create_connection(local_addr=...)` and
/// `create_server` alike: `error while attempting to bind on address ('h', p): [errno N]
/// reason` (the address as Python's `repr` of the sockaddr, so IPv6 gets four fields).
/// The kind and the original error (as the source) are kept.
pub(crate) fn bind_error(addr: &SocketAddr, source: io::Error) -> io::Error {
    let text = source.to_string();
    let (errno, reason) = match source.raw_os_error() {
        Some(code) => (
            format!("[errno {code}] "),
            text.trim_end_matches(&format!(" (os error {code})")),
        ),
        None => (String::new(), text.as_str()),
    };
    let msg = format!(
        "error while attempting to bind on address {}: {errno}{}",
        PyAddr(addr),
        reason.to_lowercase()
    );
    io::Error::new(source.kind(), BindError { msg, source })
}

#[derive(Debug, thiserror::Error)]
#[error("{msg}")]
struct BindError {
    msg: String,
    source: io::Error,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_asyncio_3_13s() {
        // Printed by CPython 3.13 for a bind to an address in use (Linux errno 98).
        let v4: SocketAddr = "127.0.0.1:8888".parse().unwrap();
        let err = bind_error(&v4, io::Error::from_raw_os_error(98));
        assert_eq!(
            err.to_string(),
            "error while attempting to bind on address ('127.0.0.1', 8888): \
             [errno 98] address already in use"
        );
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        assert!(std::error::Error::source(err.get_ref().unwrap()).is_some());
        let v6: SocketAddr = "[::1]:8888".parse().unwrap();
        let err = bind_error(&v6, io::Error::other("Odd"));
        assert_eq!(
            err.to_string(),
            "error while attempting to bind on address ('::1', 8888, 0, 0): odd"
        );
    }
}
