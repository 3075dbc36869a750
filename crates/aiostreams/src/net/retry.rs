//! Which I/O errors of a non-blocking call mean "try again".

use std::io;

/// `WouldBlock` (wait for readiness, then retry) and `Interrupted` (retry at once).
pub(crate) fn retry(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}
