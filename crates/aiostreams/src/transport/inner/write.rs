//! The write path of a connection: `write()`, `write_bytes()`, `writelines()` and the
//! sends, carrying out [`ConnState::on_write`](super::ConnState::on_write)'s plans.

use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};

use super::{Events, Inner, Locked, send_error, wake_all};
use crate::Error;
use crate::buffer::WriteQueue;
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
        let plan = g.conn.on_write(data.len(), self.reader_is_drained());
        let Some(sent) = self.send_first(&mut g, plan, data) else {
            return Ok(());
        };
        self.queue_rest(&mut g, method, plan, sent, data.len(), |q| {
            q.push(&data[sent..])
        })
    }

    /// `write_bytes(data)`: as [`write`](Self::write), queued without a copy.
    pub(in crate::transport) fn write_bytes(
        self: &Arc<Self>,
        mut data: Bytes,
    ) -> Result<(), Error> {
        let mut g = self.lock();
        let plan = g.conn.on_write(data.len(), self.reader_is_drained());
        let Some(sent) = self.send_first(&mut g, plan, &data) else {
            return Ok(());
        };
        let method = "Cannot call write() after write_eof()";
        let len = data.len();
        self.queue_rest(&mut g, method, plan, sent, len, move |q| {
            data.advance(sent);
            q.push_bytes(data)
        })
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
        let plan = g.conn.on_write(0, self.reader_is_drained());
        self.queue_rest(&mut g, method, plan, 0, 0, |q| {
            let mut crossed = false;
            for piece in first.into_iter().chain(second).chain(pieces) {
                crossed |= q.push(piece.as_ref());
            }
            crossed
        })
    }

    /// The first half of a write, inlined into each: on a [`WritePlan::SendFirst`] plan,
    /// sends from `data` (the common case of a write that answers the last request ends
    /// here). `None` when the write is over (every byte left, or a failed send lost the
    /// connection); else how many bytes of `data` already left.
    #[inline]
    fn send_first(&self, g: &mut Locked, plan: WritePlan, data: &[u8]) -> Option<usize> {
        if plan != WritePlan::SendFirst {
            return Some(0);
        }
        match self.send_directly(g, data) {
            Direct::Took(n) => Some(n),
            Direct::Done => None,
        }
    }

    /// The rest of a write, out of line: refuse or drop as `plan` says, or queue the
    /// bytes `push` adds (what a direct send left: `sent` of `len`) and send or hand
    /// them to the flush task.
    #[inline(never)]
    fn queue_rest(
        self: &Arc<Self>,
        g: &mut Locked,
        method: &'static str,
        plan: WritePlan,
        sent: usize,
        len: usize,
        push: impl FnOnce(&mut WriteQueue) -> bool,
    ) -> Result<(), Error> {
        let plan = match plan {
            WritePlan::Refuse => return Err(Error::InvalidState(method)),
            WritePlan::Drop { warn } => {
                if warn {
                    tracing::warn!("socket.send() raised exception.");
                }
                return Ok(());
            }
            WritePlan::SendFirst => match g.conn.after_direct(sent, len) {
                Some(plan) => plan,
                None => return Ok(()),
            },
            WritePlan::Queue { .. } => plan,
        };
        let crossed = push(g.conn.queue_mut());
        self.finish_write(g, crossed, plan);
        Ok(())
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
