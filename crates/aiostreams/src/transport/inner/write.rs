//! The write path of a connection: `write()`, `write_bytes()`, `writelines()` and the
//! sends, carrying out [`ConnState::on_write`](super::ConnState::on_write)'s plans.

use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};

use super::{Events, Inner, Locked, send_error, wake_all};
use crate::Error;
use crate::transport::state::WritePlan;

/// What a send from the caller's buffer did.
enum Direct {
    /// The socket took `n` bytes, then would block.
    Took(usize),
    /// Every byte left, or an error lost the connection: the write is over.
    Done,
}

impl Inner {
    /// `write(data)`; see `Transport::write` for the rules.
    pub(in crate::transport) fn write(self: &Arc<Self>, data: &[u8]) -> Result<(), Error> {
        self.write_as("Cannot call write() after write_eof()", data)
    }

    /// [`write`](Self::write), refused after `write_eof()` with `method`'s message.
    fn write_as(self: &Arc<Self>, method: &'static str, data: &[u8]) -> Result<(), Error> {
        let mut g = self.lock();
        if let Some((sent, plan)) = self
            .begin_write(&mut g, method, data)
            .map_err(Error::InvalidState)?
        {
            let crossed = g.conn.queue_mut().push(&data[sent..]);
            self.finish_write(&mut g, crossed, plan);
        }
        Ok(())
    }

    /// `write_bytes(data)`: as [`write`](Self::write), queued without a copy.
    pub(in crate::transport) fn write_bytes(
        self: &Arc<Self>,
        mut data: Bytes,
    ) -> Result<(), Error> {
        let mut g = self.lock();
        let method = "Cannot call write() after write_eof()";
        if let Some((sent, plan)) = self
            .begin_write(&mut g, method, &data)
            .map_err(Error::InvalidState)?
        {
            data.advance(sent);
            let crossed = g.conn.queue_mut().push_bytes(data);
            self.finish_write(&mut g, crossed, plan);
        }
        Ok(())
    }

    /// `writelines(pieces)`: queued, so that the pieces leave in one `writev`; a single
    /// piece is a `write()` (sent from the caller's buffer when nothing is queued).
    pub(in crate::transport) fn writelines<I>(self: &Arc<Self>, pieces: I) -> Result<(), Error>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        let method = "Cannot call writelines() after write_eof()";
        let mut pieces = pieces.into_iter();
        let (first, second) = (pieces.next(), pieces.next());
        if let (Some(only), None) = (&first, &second) {
            return self.write_as(method, only.as_ref());
        }
        let mut g = self.lock();
        if let Some((_, plan)) = self
            .begin_write(&mut g, method, b"")
            .map_err(Error::InvalidState)?
        {
            let mut crossed = false;
            for piece in first.into_iter().chain(second).chain(pieces) {
                crossed |= g.conn.queue_mut().push(piece.as_ref());
            }
            self.finish_write(&mut g, crossed, plan);
        }
        Ok(())
    }

    /// The first half of a write: refuse, drop, or send from `data` first. Returns how
    /// many bytes of `data` already left and the plan for the rest; `None` when the
    /// write is over.
    fn begin_write(
        &self,
        g: &mut Locked,
        method: &'static str,
        data: &[u8],
    ) -> Result<Option<(usize, WritePlan)>, &'static str> {
        let plan = g.conn.on_write(data.len(), self.reader_is_drained());
        match plan {
            WritePlan::Refuse => Err(method),
            WritePlan::Drop { warn } => {
                if warn {
                    tracing::warn!("socket.send() raised exception.");
                }
                Ok(None)
            }
            WritePlan::SendFirst => match self.send_directly(g, data) {
                Direct::Took(n) => Ok(g.conn.after_direct(n, data.len()).map(|plan| (n, plan))),
                Direct::Done => Ok(None),
            },
            WritePlan::Queue { .. } => Ok(Some((0, plan))),
        }
    }

    /// The second half: the bytes are queued (`crossed`: above the high mark); send or
    /// hand them to the flush task as planned, and tell the protocol about a pause.
    fn finish_write(self: &Arc<Self>, g: &mut Locked, crossed: bool, plan: WritePlan) {
        self.counters().queued();
        g.conn.on_pushed(crossed);
        if let WritePlan::Queue { flush, kick: true } = plan
            && !g.conn.queue().is_empty()
        {
            let all_sent = flush && self.flush_now(g);
            if !all_sent && !g.conn.is_lost() {
                if !g.conn.queue().is_empty() {
                    self.has_queued.store(true, Ordering::Release);
                }
                crate::transport::flush::kick(self, g);
            }
        }
        if g.conn.end_write() {
            self.event(Events::pause_writing);
        }
    }

    /// Sends from the caller's buffer on a plain socket with nothing queued: no copy into
    /// the queue, and one `send` rather than a `writev`.
    fn send_directly(&self, g: &mut Locked, data: &[u8]) -> Direct {
        let guard = self.socket.get();
        let Some(socket) = guard.as_ref() else {
            return Direct::Took(0);
        };
        let mut sent = 0;
        while sent < data.len() {
            match socket.try_write(&data[sent..]) {
                Ok(0) => break,
                Ok(n) => sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let e = send_error(socket, e);
                    drop(guard);
                    self.connection_lost(g, Err(e.into()));
                    return Direct::Done;
                }
            }
        }
        self.counters().sent(sent);
        if sent == data.len() {
            Direct::Done
        } else {
            Direct::Took(sent)
        }
    }

    fn reader_is_drained(&self) -> bool {
        self.reader.as_ref().is_none_or(|r| r.shared().is_drained())
    }

    /// Sends as much of the queue as the socket takes now, without waiting.
    ///
    /// Returns false when the socket would block with bytes (or TLS records) left.
    pub(in crate::transport) fn flush_now(&self, g: &mut Locked) -> bool {
        let guard = self.socket.get();
        let Some(socket) = guard.as_ref() else {
            return true;
        };
        if g.conn.is_borrowed() {
            return false;
        }
        while !g.conn.queue().is_empty() {
            match g.conn.queue().with_slices(|s| socket.try_write_vectored(s)) {
                Ok(n) => self.sent(g, n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let e = send_error(socket, e);
                    drop(guard);
                    self.connection_lost(g, Err(e.into()));
                    return true;
                }
            }
        }
        match socket.try_flush_output() {
            Ok(all_sent) => all_sent,
            Err(e) => {
                drop(guard);
                self.connection_lost(g, Err(e.into()));
                true
            }
        }
    }

    /// Carries out what the state says after the socket took `n` queued bytes.
    fn sent(&self, g: &mut Locked, n: usize) {
        self.counters().sent(n);
        let notices = g.conn.on_sent(n);
        if notices.resume_writing {
            self.event(Events::resume_writing);
        }
        if notices.emptied {
            self.has_queued.store(false, Ordering::Release);
        }
        if notices.wake_drain {
            wake_all(&mut g.wakers.drain);
        }
    }

    /// Waits until the socket can take more (TLS: until its records are sent).
    pub(in crate::transport) fn poll_write_ready(
        &self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), Error>> {
        match self.socket.get().as_ref() {
            Some(socket) => socket.poll_write_ready(cx).map_err(Error::from),
            None => Poll::Ready(Ok(())),
        }
    }
}
