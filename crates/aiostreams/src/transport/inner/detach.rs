//! `detach()`: the socket handed back with the bytes still queued for it.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};

use super::Inner;
use crate::Error;
use crate::reader::shared::Shared;
use crate::transport::io::Socket;

impl Inner {
    /// Takes the plain socket out with the queued bytes, and ends the connection (`Ok`)
    /// without closing the descriptor: waiters wake, the reader is fed EOF, a server
    /// stops counting the connection. `reader` must be this connection's reader.
    /// Nothing changes when it fails.
    pub(in crate::transport) fn detach(
        &self,
        reader: &Arc<Shared>,
    ) -> Result<(Socket, Bytes), Error> {
        let mut g = self.lock();
        let ours = self
            .reader
            .as_ref()
            .is_some_and(|r| Arc::ptr_eq(r.shared(), reader));
        if !ours {
            return Err(Error::InvalidArgument(
                "detach: the reader is not this connection's",
            ));
        }
        if let Some(refusal) = g.conn.detach_refusal() {
            return Err(refusal);
        }
        let Some(socket) = self.socket.take_if(Socket::is_plain_socket) else {
            return Err(Error::InvalidState("detach: the transport is not a socket"));
        };
        let queue = g.conn.queue();
        let mut unsent = BytesMut::with_capacity(queue.len());
        queue.with_slices(|slices| slices.iter().for_each(|s| unsent.extend_from_slice(s)));
        // The slot is empty: `end` closes nothing, and nothing lingers.
        self.end(&mut g, Ok(()), super::Ending::Close);
        Ok((socket, unsent.freeze()))
    }
}
