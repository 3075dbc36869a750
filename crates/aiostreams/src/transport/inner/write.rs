//! The write path of a connection: `write()`, `write_bytes()`, `writelines()` and the
//! sends, carrying out [`ConnState::on_write`](super::ConnState::on_write)'s plans.

use std::io::{self, IoSlice};
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};

use super::{Events, Inner, Locked, send_error, wake_all};
use crate::Error;
use crate::buffer::WriteQueue;
use crate::transport::io::Socket;
use crate::transport::state::WritePlan;

/// The plan of a write behind bytes already queued (pipelined answers after the first).
const BEHIND_QUEUED: WritePlan = WritePlan::Queue {
    flush: false,
    kick: false,
};

/// At most this many `writelines()` pieces are sent straight from the caller's buffers
/// (one iovec each); a call with more queues them all first.
const DIRECT_PIECES: usize = 32;

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
        let plan = self.plan_write(&mut g, data.len());
        let Some(sent) = self.send_first(&mut g, plan, data.len(), send_from(data)) else {
            return Ok(());
        };
        if plan == BEHIND_QUEUED {
            self.append(&mut g, data);
            return Ok(());
        }
        self.queue_rest(&mut g, method, plan, sent, data.len(), |q| {
            q.push(&data[sent..])
        })
    }

    /// `write_bytes(data)`: as [`write`](Self::write), queued without a copy (unless it
    /// is small: then it is copied into the queue's tail, as `write` copies it).
    pub(in crate::transport) fn write_bytes(
        self: &Arc<Self>,
        mut data: Bytes,
    ) -> Result<(), Error> {
        let mut g = self.lock();
        let plan = self.plan_write(&mut g, data.len());
        let Some(sent) = self.send_first(&mut g, plan, data.len(), send_from(&data)) else {
            return Ok(());
        };
        if plan == BEHIND_QUEUED && WriteQueue::copies(data.len()) {
            self.append(&mut g, &data);
            return Ok(());
        }
        let method = "Cannot call write() after write_eof()";
        let len = data.len();
        self.queue_rest(&mut g, method, plan, sent, len, move |q| {
            data.advance(sent);
            q.push_bytes(data)
        })
    }

    /// A write behind bytes already queued (pipelined answers after the first): only the
    /// copy into the queue's tail.
    #[inline(never)]
    fn append(&self, g: &mut Locked, data: &[u8]) {
        let crossed = g.conn.queue_mut().push(data);
        self.pushed(g, crossed);
        self.end_write(g);
    }

    /// The state's plan for a write of `len` bytes. (Whether the reader is drained
    /// matters only to a write that finds the queue empty: it is not asked otherwise.)
    #[inline]
    fn plan_write(&self, g: &mut Locked, len: usize) -> WritePlan {
        let drained = g.conn.queue().is_empty() && self.reader_is_drained();
        g.conn.on_write(len, drained)
    }

    /// `writelines(pieces)`: the pieces leave in one `writev`. Up to [`DIRECT_PIECES`]
    /// of them are sent from the caller's buffers when a `write()` of their total would
    /// be (nothing queued, the reader drained), and only what the socket did not take is
    /// copied into the queue; more pieces are queued first, then sent. A single piece is
    /// a `write()`.
    pub(in crate::transport) fn writelines<I>(self: &Arc<Self>, pieces: I) -> Result<(), Error>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        let method = "Cannot call writelines() after write_eof()";
        // Fused: no piece follows a first `None`.
        let mut pieces = pieces.into_iter().fuse();
        let (first, second) = (pieces.next(), pieces.next());
        if let (Some(only), None) = (&first, &second) {
            return self.write_as(method, only.as_ref());
        }
        // Held for one `writev` from the caller's buffers.
        let mut held: [Option<I::Item>; DIRECT_PIECES] = std::array::from_fn(|_| None);
        let mut len = first.as_ref().map_or(0, |p| p.as_ref().len());
        len += second.as_ref().map_or(0, |p| p.as_ref().len());
        let mut count = if second.is_some() { 2 } else { 0 };
        (held[0], held[1]) = (first, second);
        while 0 < count && count < DIRECT_PIECES {
            let Some(piece) = pieces.next() else {
                break;
            };
            len += piece.as_ref().len();
            held[count] = Some(piece);
            count += 1;
        }
        let past_held = if count == DIRECT_PIECES {
            pieces.next()
        } else {
            None
        };
        let held = &held[..count];
        let mut g = self.lock();
        // With more pieces than are held, ask as for nothing to send now: queue them.
        let direct_len = if past_held.is_none() { len } else { 0 };
        let plan = self.plan_write(&mut g, direct_len);
        let Some(sent) = self.send_first(&mut g, plan, len, |socket, sent| {
            let (slices, n) = unsent_slices(held, sent);
            socket.try_write_vectored(&slices[..n])
        }) else {
            return Ok(());
        };
        self.queue_rest(&mut g, method, plan, sent, len, |q| {
            let mut crossed = false;
            let mut skip = sent;
            for piece in held.iter().flatten() {
                let piece = piece.as_ref();
                let from = skip.min(piece.len());
                skip -= from;
                crossed |= q.push(&piece[from..]);
            }
            for piece in past_held.into_iter().chain(pieces) {
                crossed |= q.push(piece.as_ref());
            }
            crossed
        })
    }

    /// The first half of a write, inlined into each: on a [`WritePlan::SendFirst`] plan,
    /// sends the write's `len` bytes with `send` (the common case of a write that answers
    /// the last request ends here). `None` when the write is over (every byte left, or a
    /// failed send lost the connection); else how many bytes already left.
    #[inline(always)]
    fn send_first(
        &self,
        g: &mut Locked,
        plan: WritePlan,
        len: usize,
        send: impl FnMut(&Socket, usize) -> io::Result<usize>,
    ) -> Option<usize> {
        if plan != WritePlan::SendFirst {
            return Some(0);
        }
        match self.send_directly(g, len, send) {
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
        self.pushed(g, crossed);
        if let WritePlan::Queue { flush, kick: true } = plan
            && !g.conn.queue().is_empty()
        {
            let all_sent = flush && self.flush_now(g);
            if !all_sent && !g.conn.is_lost() {
                self.kick_after_write(g);
            }
        }
        self.end_write(g);
    }

    /// A write's bytes were pushed (`crossed`: the queue went above the high mark).
    #[inline]
    fn pushed(&self, g: &mut Locked, crossed: bool) {
        self.counters().queued();
        self.mirror_queued(g);
        g.conn.on_pushed(crossed);
    }

    /// The write is over: tells the protocol about a pause it is left in.
    #[inline]
    fn end_write(&self, g: &mut Locked) {
        if g.conn.end_write() {
            self.event(Events::pause_writing);
        }
    }

    /// Sends from the caller's buffers on a plain socket with nothing queued (no copy
    /// into the queue): `send(socket, sent)` sends what follows the first `sent` of the
    /// write's `len` bytes.
    #[inline(never)]
    fn send_directly(
        &self,
        g: &mut Locked,
        len: usize,
        mut send: impl FnMut(&Socket, usize) -> io::Result<usize>,
    ) -> Direct {
        let guard = self.socket.get();
        let Some(socket) = guard.as_ref() else {
            return Direct::Took(0);
        };
        let mut sent = 0;
        while sent < len {
            match send(socket, sent) {
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
        if sent == len {
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
        // One buffer leaves with `send`, as tokio's `BufWriter` flush sends it: a
        // `writev` of one iovec costs the kernel more (the file layer's checks and
        // notification). Only on a plain socket: a TLS socket's `try_write` is raw.
        let plain = g.conn.is_plain();
        while !g.conn.queue().is_empty() {
            let queue = g.conn.queue();
            let result = match queue.contiguous() {
                Some(bytes) if plain => socket.try_write(bytes),
                _ => queue.with_slices(|s| socket.try_write_vectored(s)),
            };
            match result {
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
        self.mirror_queued(g);
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

/// A single buffer's send: one `send`, not a `writev`.
#[inline]
fn send_from(data: &[u8]) -> impl FnMut(&Socket, usize) -> io::Result<usize> + '_ {
    move |socket, sent| socket.try_write(&data[sent..])
}

/// The iovecs of `pieces` past their first `skip` bytes, and how many there are.
fn unsent_slices<T: AsRef<[u8]>>(
    pieces: &[Option<T>],
    mut skip: usize,
) -> ([IoSlice<'_>; DIRECT_PIECES], usize) {
    let mut slices = [IoSlice::new(&[]); DIRECT_PIECES];
    let mut n = 0;
    for piece in pieces.iter().flatten() {
        let piece = piece.as_ref();
        if skip >= piece.len() {
            skip -= piece.len();
            continue;
        }
        slices[n] = IoSlice::new(&piece[skip..]);
        skip = 0;
        n += 1;
    }
    (slices, n)
}
