//! The read loop: `poll_op` drives a read's sans-I/O steps, pulling from the source
//! or parking in between; the pull window and its adaptive hint.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use bytes::Bytes;

use super::timer::ReadTimer;
use super::{DISCARDING_PULLS_PER_POLL, MAX_PULL_HINT, MIN_PULL, StreamReader, shared};
use crate::Error;
use crate::sansio::{MAX_PULL, ReadBuffer, ReadOp, Step, Want};

impl StreamReader {
    /// Drives one read until it completes, pulling or parking in between.
    ///
    /// The core decides every outcome; this adds the waking rule: a wait ended while an
    /// exception is stored raises it (asyncio's waiter would; we cannot tell whether
    /// bytes came before it, and let the exception win).
    ///
    /// A read woken after its pull found nothing goes straight back to the pull when
    /// nothing was fed and no exception stored meanwhile: the buffer is then as its last
    /// step left it, and the step would say "need more" again; the pull takes the window
    /// it had (what decides it is as it was: the buffer, the read, the hint).
    pub(crate) fn poll_op(
        &mut self,
        cx: &mut Context<'_>,
        op: &mut impl Op,
    ) -> Poll<Result<Bytes, Error>> {
        let resumed = std::mem::take(&mut self.waiting) && op.has_started();
        if !op.has_started() && self.timed.new_read() {
            self.with_timer(ReadTimer::new_read);
        }
        let mut step = !(resumed && self.shared.is_quiet());
        // The woken read's pull: no merging of short reads (the next step merges).
        let mut want = Want {
            need: self.shared.wait_window.load(Ordering::Relaxed) as usize,
            merge_to: 0,
        };
        let mut discarding_pulls = 0;
        loop {
            if step {
                self.sync_inbox();
                let stored = self.shared.has_exception();
                if stored
                    && op.has_started()
                    && !op.is_probing()
                    && let Some(err) = self.shared.exception()
                {
                    return Poll::Ready(Err(err));
                }
                let done = match op.step(&mut self.buf, stored) {
                    Step::Done(result) => Some(result),
                    Step::RaiseStored => match self.shared.exception() {
                        Some(err) => Some(Err(err)),
                        None => continue, // cleared meanwhile: read on
                    },
                    Step::NeedMore => {
                        if self.buf.is_discarding() || op.is_skipping() {
                            // An endless over-long line from a fast source: yield now and
                            // then, as a socket read would, instead of looping in one poll.
                            discarding_pulls += 1;
                            if discarding_pulls > DISCARDING_PULLS_PER_POLL {
                                cx.waker().wake_by_ref();
                                return Poll::Pending;
                            }
                        }
                        self.publish_flow(true);
                        None
                    }
                    Step::NeedMoreIfReady if self.pull_ready(cx) => continue,
                    Step::NeedMoreIfReady => match op.finish_without_more(&mut self.buf) {
                        Step::Done(result) => Some(result),
                        _ => unreachable!("a probing read finishes without more input"),
                    },
                };
                if let Some(result) = done {
                    self.publish_flow(false);
                    return Poll::Ready(result);
                }
                want = op.want(&self.buf);
                want.need = self.window(want.need);
            }
            step = true;
            match self.poll_more(cx, want) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(timed_out)) => {
                    self.publish_flow(false);
                    return Poll::Ready(Err(*timed_out));
                }
                Poll::Pending => {
                    self.waiting = true;
                    return Poll::Pending;
                }
            }
        }
    }

    /// Waits until the buffer holds a byte or EOF (`AsyncBufRead::poll_fill_buf`).
    pub(super) fn poll_filled(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        loop {
            self.sync_inbox();
            if let Some(err) = self.shared.exception() {
                return Poll::Ready(Err(err));
            }
            if !self.buf.is_empty() || self.buf.eof() {
                self.publish_flow(false);
                if self.timed.new_read() {
                    // Each `AsyncRead` call is a read of its own.
                    self.with_timer(ReadTimer::new_read);
                }
                return Poll::Ready(Ok(()));
            }
            self.publish_flow(true);
            let want = Want {
                need: self.window(1),
                merge_to: 0,
            };
            std::task::ready!(self.poll_more(cx, want)).map_err(|e| *e)?;
        }
    }

    /// Appends bytes already received (fed, or ready in the source) without waiting;
    /// true if any arrived.
    fn pull_ready(&mut self, cx: &mut Context<'_>) -> bool {
        if self.sync_inbox() {
            return true;
        }
        !self.buf.eof() && matches!(self.pull(cx, self.window(1)), Poll::Ready(true))
    }

    /// Tells the writer and, for fed readers, the flow control how much is buffered
    /// (the flow control may resume the transport).
    #[inline]
    pub(crate) fn publish_flow(&self, waiting: bool) {
        self.publish_buffered();
        if let Some(flow) = self.shared.flow.get() {
            self.publish_to_flow(flow, waiting);
        }
    }

    /// The flow control's part of [`publish_flow`](Self::publish_flow): fed readers only.
    #[inline(never)]
    pub(super) fn publish_to_flow(&self, flow: &shared::Flow, waiting: bool) {
        let inbox_len = if self.shared.has_pending() {
            self.shared.lock().data.len()
        } else {
            0
        };
        flow.after_read(self.buf.len(), inbox_len, waiting);
    }

    /// Waits until something changes: bytes, EOF or an exception arrive (`want.need`
    /// is the pull's window, see [`window`](Self::window)); fails when a time limit
    /// passes first (nothing consumed: see `timer.rs`). (The error is boxed:
    /// a small return value keeps the wait path cheap, and it is rare.)
    ///
    /// Its callers have just moved the inbox (or seen it empty), so it does not look
    /// again before the pull: what a feeder sends from then on, the park sees.
    #[inline]
    fn poll_more(&mut self, cx: &mut Context<'_>, want: Want) -> Poll<Result<(), Box<Error>>> {
        if self.source.is_none() || self.buf.eof {
            return self.park(cx).map(Ok);
        }
        match self.pull(cx, want.need) {
            Poll::Pending => {
                self.shared
                    .wait_window
                    .store(want.need as u32, Ordering::Relaxed);
                self.buf.release_if_empty();
                if self.timed.wait_asks(!self.buf.is_empty())
                    && let Poll::Ready(timed_out) = self.poll_timer(cx)
                {
                    return Poll::Ready(Err(Box::new(timed_out)));
                }
                return self.park(cx).map(Ok);
            }
            Poll::Ready(true) => self.merge_short_reads(cx, want),
            Poll::Ready(false) => {}
        }
        Poll::Ready(Ok(()))
    }

    /// A read is about to wait and a time limit is set: has one passed?
    #[inline(never)]
    fn poll_timer(&mut self, cx: &mut Context<'_>) -> Poll<Error> {
        let mid_record = !self.buf.is_empty();
        match self.source.as_deref_mut() {
            Some(source) => source.poll_timeout(cx, mid_record),
            None => Poll::Pending,
        }
    }

    /// Runs `f` on the source's timer, if there is one.
    fn with_timer(&mut self, f: impl FnOnce(&mut ReadTimer)) {
        if let Some(timer) = self.source.as_mut().and_then(|s| s.timer()) {
            f(timer);
        }
    }

    /// How much a pull for a read that needs `need` bytes asks for (it may take
    /// `bulk_units` 64 KiB windows); at most `MAX_BULK_PULL`.
    #[inline]
    fn window(&self, need: usize) -> usize {
        self.buf
            .pull_window(need)
            .max(self.bulk_units as usize * MAX_PULL)
            .min((self.pull_hint as usize).max(need))
    }

    /// One pull from the source of at most `window` bytes; `Ready(true)` when bytes
    /// arrived.
    #[inline]
    fn pull(&mut self, cx: &mut Context<'_>, window: usize) -> Poll<bool> {
        let Some(source) = self.source.as_mut() else {
            return Poll::Ready(false);
        };
        match source.poll_pull(cx, self.buf.pull_target(), window) {
            Poll::Ready(Ok(0)) => self.mark_eof(),
            Poll::Ready(Ok(n)) => {
                if self.timed.tells_arrivals() {
                    self.with_timer(ReadTimer::bytes_arrived);
                }
                self.adapt_pull_hint(n, window);
                self.buf.after_pull();
                return Poll::Ready(true);
            }
            Poll::Ready(Err(err)) => {
                self.source = None;
                self.shared.set_exception(err.into());
            }
            Poll::Pending => return Poll::Pending,
        }
        Poll::Ready(false)
    }

    #[inline]
    fn adapt_pull_hint(&mut self, got: usize, window: usize) {
        if got >= window {
            // Twice the window that filled: a hint above `MAX_PULL` comes only from
            // `read(n)` pulls larger than that (other reads' windows stop at `MAX_PULL`).
            let grown = window.saturating_mul(2).min(MAX_PULL_HINT as usize) as u32;
            self.pull_hint = self.pull_hint.max(grown);
            self.small_pulls = 0;
        } else if got * 4 < self.pull_hint as usize {
            self.small_pulls += 1;
            if self.small_pulls == 2 {
                self.pull_hint = (self.pull_hint / 2).max(MIN_PULL);
                self.small_pulls = 0;
            }
        } else {
            self.small_pulls = 0;
        }
    }

    /// In-memory and file sources often hand out small pieces: keep pulling while they
    /// have more, up to one window, as long as the buffer stays within `want.merge_to`
    /// (below it, merging pieces cannot change what a read returns; see [`Want`]).
    /// Sockets are not merged: an extra read that finds nothing costs a system call.
    #[inline]
    fn merge_short_reads(&mut self, cx: &mut Context<'_>, want: Want) {
        if self.buf.len() < want.merge_to
            && self.source.as_ref().is_some_and(|s| s.merges_short_reads())
        {
            self.merge_more(cx, want);
        }
    }

    #[inline(never)]
    fn merge_more(&mut self, cx: &mut Context<'_>, want: Want) {
        let start = self.buf.len();
        // (Not while discarding: the buffer does not grow then.)
        while !self.buf.eof
            && !self.buf.is_discarding()
            && self.buf.len() < want.merge_to
            && self.buf.len() - start < MAX_PULL
        {
            match self.pull(cx, self.window(1)) {
                Poll::Ready(true) => {}
                Poll::Ready(false) | Poll::Pending => break,
            }
        }
    }

    /// Registers for wake-ups from feeders (only needed when a feeder can exist).
    #[inline]
    fn park(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if Arc::strong_count(&self.shared) == 1 && self.source.is_some() {
            return Poll::Pending;
        }
        if self.shared.park(cx) {
            Poll::Pending
        } else {
            Poll::Ready(())
        }
    }
}

/// A read [`StreamReader::poll_op`] drives: a [`ReadOp`] of the sans-I/O core, or a
/// tokio-util decoder's read (`codec` feature), which completes with `Ok(empty)` and keeps
/// its item itself.
pub(crate) trait Op {
    /// [`ReadOp::step`].
    fn step(&mut self, buf: &mut ReadBuffer, exception_stored: bool) -> Step;
    /// [`ReadOp::has_started`].
    fn has_started(&self) -> bool;
    /// [`ReadOp::is_probing`].
    fn is_probing(&self) -> bool;
    /// `ReadOp::is_skipping`.
    fn is_skipping(&self) -> bool {
        false
    }
    /// [`ReadOp::want`].
    fn want(&self, buf: &ReadBuffer) -> Want;
    /// [`ReadOp::finish_without_more`].
    fn finish_without_more(&mut self, buf: &mut ReadBuffer) -> Step;
}

impl Op for ReadOp<'_> {
    #[inline]
    fn step(&mut self, buf: &mut ReadBuffer, exception_stored: bool) -> Step {
        ReadOp::step(self, buf, exception_stored)
    }
    #[inline]
    fn has_started(&self) -> bool {
        ReadOp::has_started(self)
    }
    #[inline]
    fn is_probing(&self) -> bool {
        ReadOp::is_probing(self)
    }
    #[inline]
    fn is_skipping(&self) -> bool {
        ReadOp::is_skipping(self)
    }
    #[inline]
    fn want(&self, buf: &ReadBuffer) -> Want {
        ReadOp::want(self, buf)
    }
    #[inline]
    fn finish_without_more(&mut self, buf: &mut ReadBuffer) -> Step {
        ReadOp::finish_without_more(self, buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pulls of one message at a time from a socket: `len` bytes, the window the hint
    /// allows; returns how many pulls each of the last messages took.
    fn pulls_per_message(len: usize) -> Vec<usize> {
        let mut reader = StreamReader::new();
        (0..20)
            .map(|_| {
                let (mut left, mut pulls) = (len, 0);
                while left > 0 {
                    let window = (reader.pull_hint as usize).min(MAX_PULL);
                    let got = left.min(window);
                    reader.adapt_pull_hint(got, window);
                    left -= got;
                    pulls += 1;
                }
                pulls
            })
            .skip(10)
            .collect()
    }

    #[test]
    fn pull_hint_settles_on_one_pull_per_message() {
        // 10 KiB: a full 8 KiB pull doubles the hint, the 2 KiB rest must not halve it.
        for len in [
            100,
            1024,
            4 * 1024,
            4 * 1024 + 512,
            10 * 1024,
            20 * 1024,
            60 * 1024,
        ] {
            assert_eq!(pulls_per_message(len), vec![1; 10], "{len}-byte messages");
        }
        assert_eq!(pulls_per_message(100 * 1024), vec![2; 10]);
    }

    #[test]
    fn pull_hint_shrinks_back_after_small_pulls() {
        let mut reader = StreamReader::new();
        for _ in 0..8 {
            let window = (reader.pull_hint as usize).min(MAX_PULL);
            reader.adapt_pull_hint(window, window);
        }
        assert_eq!(reader.pull_hint as usize, 2 * MAX_PULL);
        for _ in 0..10 {
            reader.adapt_pull_hint(100, reader.pull_hint as usize);
        }
        assert_eq!(reader.pull_hint, MIN_PULL);
    }
}
