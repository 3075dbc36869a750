//! `start_tls`'s switch of a live connection from its plain socket to a TLS session.

use std::sync::Arc;

use bytes::BytesMut;

use super::Transport;
use super::inner::Inner;
use super::io::Socket;
use crate::Error;
use crate::net::TlsChecked;
use crate::tls::{Side, TlsSocket, handshake};

impl Transport {
    /// Runs `side`'s handshake on this connection's socket, `prefix` (bytes the reader
    /// already received) first, then swaps the socket for the TLS session. Queued
    /// plaintext waits meanwhile; the caller makes sure no read runs. A failed or
    /// dropped handshake aborts the connection.
    pub(crate) async fn upgrade_tls(
        &self,
        side: Side,
        prefix: BytesMut,
        timeouts: TlsChecked,
    ) -> Result<(), Error> {
        let inner = self.inner();
        if matches!(inner.socket().get().as_ref(), Some(Socket::Io(_))) {
            return Err(Error::InvalidState(
                "start_tls: the transport is not a socket",
            ));
        }
        inner.lock().conn.on_upgrade_started();
        let guard = AbortOnDrop(inner);
        let result = handshake(inner.socket(), side, prefix, timeouts.handshake).await;
        std::mem::forget(guard);
        let (session, config) = match result {
            Ok(done) => done,
            Err(err) => {
                inner.lock().conn.on_upgrade_ended(None);
                inner.abort();
                return Err(err);
            }
        };
        let swapped = inner
            .socket()
            .replace(|plain| Socket::Tls(Box::new(TlsSocket::new(plain, session, config))));
        inner
            .lock()
            .conn
            .on_upgrade_ended(swapped.then_some(timeouts.shutdown));
        if !swapped {
            return Err(Error::ConnectionLost);
        }
        inner.kick_flush();
        Ok(())
    }

    /// Whether the connection runs over TLS now.
    pub(crate) fn is_tls(&self) -> bool {
        self.inner().lock().conn.is_tls()
    }
}

/// A dropped `start_tls` leaves a half-done handshake: abort the connection.
struct AbortOnDrop<'a>(&'a Arc<Inner>);

impl Drop for AbortOnDrop<'_> {
    fn drop(&mut self) {
        self.0.lock().conn.on_upgrade_ended(None);
        self.0.abort();
    }
}
