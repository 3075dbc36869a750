//! Lingering close: after a graceful close, half-close and read-and-drop for a while
//! before the descriptor closes, so that the peer gets every byte sent and then EOF.
//!
//! Closing a socket whose receive queue holds unread bytes, or that receives bytes after
//! the close, makes the kernel answer with a RST, and a RST throws away what was still
//! queued for the peer: a client that pipelined its next request while its answer was
//! arriving sees a cut answer and ECONNRESET. So a server connection (the only kind
//! given a [`Linger`]) that closes gracefully sends its FIN after the queue, reads and
//! drops what the peer still sends until the peer's own FIN, an error, the linger time,
//! or the server's cut (its shutdown deadline), and only then closes. The connection is
//! already lost for the API meanwhile (`wait_closed()` returned, the reader saw EOF, the
//! hook heard [`OnLost::lost`]); the hook hears [`OnLost::lingered`] when it ends. This is Apache's and nginx's
//! `lingering_close`, and Go's `closeWriteAndWait`.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::io::Socket;

/// How a server's connection ends: asked whether a graceful close lingers, told when
/// the connection is lost and when its lingering socket is closed.
pub(crate) trait OnLost: Send + Sync + 'static {
    /// How a graceful close lingers; `None`: it closes at once.
    fn linger(&self) -> Option<Linger>;

    /// The connection is lost (asyncio's `connection_lost`); `lingering`: its socket
    /// is still open, and [`lingered`](Self::lingered) follows when it is closed.
    fn lost(&self, lingering: bool);

    /// The lingering socket is closed.
    fn lingered(&self);
}

/// The lingering of a graceful close.
#[derive(Clone, Debug)]
pub(crate) struct Linger {
    /// The longest it lingers.
    pub(crate) time: Duration,
    /// Cancelled to close at once (the server's shutdown deadline passed).
    pub(crate) cut: CancellationToken,
}

/// Half-closes `socket`, reads and drops until the peer's EOF (bounded by `linger`),
/// closes it, then tells `hook`. Runs on its own task.
pub(crate) async fn linger(socket: Socket, linger: Linger, hook: Arc<dyn OnLost>) {
    let socket = socket.into_plain();
    // A failed FIN (the peer is gone) leaves nothing to wait for.
    if socket
        .sock_ref()
        .is_some_and(|s| s.shutdown(std::net::Shutdown::Write).is_ok())
    {
        tokio::select! {
            biased;
            () = linger.cut.cancelled() => {}
            _ = tokio::time::timeout(linger.time, read_to_eof(&socket)) => {}
        }
    }
    drop(socket);
    hook.lingered();
}

/// Reads and drops until EOF or an error.
async fn read_to_eof(socket: &Socket) {
    let mut scratch = [0u8; 4096];
    loop {
        let read = match socket {
            Socket::Tcp(s) => readable_then_read(s.readable().await, || s.try_read(&mut scratch)),
            #[cfg(unix)]
            Socket::Unix(s) => readable_then_read(s.readable().await, || s.try_read(&mut scratch)),
            #[cfg(feature = "tls")]
            Socket::Tls(_) => return, // `into_plain` took the socket out of its session
            Socket::Io(_) => return, // a generic writer is never a server's connection
        };
        match read {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => return,
        }
    }
}

fn readable_then_read(
    ready: std::io::Result<()>,
    read: impl FnOnce() -> std::io::Result<usize>,
) -> std::io::Result<usize> {
    ready.and_then(|()| read())
}
