//! Protocol notifications raised inside the transport, delivered by the protocol driver.
//!
//! The transport's state lock is held when these happen, so they are queued here and the
//! task that owns the [`Protocol`](crate::Protocol) calls it afterwards, in order.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};

use crate::Error;

#[derive(Debug)]
pub(crate) enum Event {
    PauseWriting,
    ResumeWriting,
    ConnectionLost(Option<Error>),
}

#[derive(Debug, Default)]
pub(crate) struct Events {
    inner: Mutex<EventQueue>,
}

#[derive(Debug, Default)]
struct EventQueue {
    queue: VecDeque<Event>,
    waker: Option<Waker>,
}

impl Events {
    fn push(&self, event: Event) {
        let mut q = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        q.queue.push_back(event);
        if let Some(w) = q.waker.take() {
            w.wake();
        }
    }

    pub(crate) fn pause_writing(&self) {
        self.push(Event::PauseWriting);
    }

    pub(crate) fn resume_writing(&self) {
        self.push(Event::ResumeWriting);
    }

    pub(crate) fn connection_lost(&self, err: Option<Error>) {
        self.push(Event::ConnectionLost(err));
    }

    /// The next event, or `Pending` with the waker registered.
    pub(crate) fn poll_next(&self, cx: &mut Context<'_>) -> Poll<Event> {
        let mut q = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        match q.queue.pop_front() {
            Some(event) => Poll::Ready(event),
            None => {
                q.waker = Some(cx.waker().clone());
                Poll::Pending
            }
        }
    }
}
