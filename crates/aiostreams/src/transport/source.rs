//! The reader's side of a transport: pulls from the socket, sending queued writes first.

use std::io;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::BytesMut;

use super::inner::Inner;
use super::io::{Socket, poll_read_tcp};
use crate::reader::source::Source;
use crate::reader::timer::ReadTimer;

/// Reads the transport's socket for a [`StreamReader`](crate::StreamReader).
pub(crate) struct TransportSource {
    inner: Arc<Inner>,
    timer: ReadTimer,
    /// The socket likely has input: try the read before tokio's readiness round (see
    /// `Socket::poll_read_buf`).
    ready: bool,
}

impl TransportSource {
    pub(crate) fn new(inner: Arc<Inner>, timer: ReadTimer) -> Self {
        TransportSource {
            inner,
            timer,
            ready: false,
        }
    }
}

impl TransportSource {
    /// The protocol driver handed the protocol bytes: its next wait is a new read.
    pub(crate) fn timer_new_read(&mut self) {
        self.timer.new_read();
    }
}

impl Source for TransportSource {
    fn stats(&self) -> Option<crate::metrics::ConnectionStats> {
        Some(self.inner.counters().snapshot())
    }

    fn poll_pull(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut BytesMut,
        window: usize,
    ) -> Poll<io::Result<usize>> {
        let inner = &self.inner;
        // Answers written since the last read leave together, before we wait.
        inner.flush_before_read();
        if inner.is_closing() {
            return Poll::Ready(Ok(0));
        }
        if inner.is_reading_paused() && !inner.park_paused_reader(cx) {
            return Poll::Pending;
        }
        let guard = inner.socket().get();
        // TCP first: its read leaves nothing to send and its EOF needs no word to TLS.
        let (result, pending_output, tls_eof) = match guard.as_ref() {
            None => return Poll::Ready(Ok(0)),
            Some(Socket::Tcp(tcp)) => (
                ready!(poll_read_tcp(tcp, cx, buf, window, &mut self.ready)),
                false,
                false,
            ),
            Some(socket) => {
                let result = ready!(socket.poll_read_buf(cx, buf, window, &mut self.ready));
                // A TLS read may leave records to send (alerts, key updates).
                let pending_output = socket.has_pending_output();
                let tls_eof = socket.is_tls() && matches!(result, Ok(0));
                (result, pending_output, tls_eof)
            }
        };
        drop(guard);
        if pending_output {
            inner.kick_flush();
        }
        if tls_eof {
            inner.tls_peer_closed();
        }
        if let Ok(n) = result {
            inner.counters().received(n);
        }
        Poll::Ready(result.map_err(|e| inner.read_failed(e)))
    }

    fn timer(&mut self) -> Option<&mut ReadTimer> {
        Some(&mut self.timer)
    }

    fn set_idle_timeout(&mut self, timeout: Option<std::time::Duration>) {
        self.inner.set_idle_timeout(timeout);
        self.timer.set_idle_by_connection(timeout.is_some());
    }
}
