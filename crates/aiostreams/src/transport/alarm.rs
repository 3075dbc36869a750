//! [`Alarm`]: one lazily re-armed tokio timer per connection side.
//!
//! A deadline that moves forward on every request (a read timeout restarts with each
//! read) would cost a timer-wheel update per request if the timer followed it. The
//! alarm does not: it stays armed where it is while the wanted deadline is later, and
//! only when it fires early does it move to the deadline wanted then. A deadline moved
//! earlier re-arms at once. So a busy connection re-arms at most once per timeout
//! period, the deadline itself is a plain [`Instant`] the caller stores, and the timer's
//! one allocation is made on the first wait that has a deadline, then reused.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use tokio::time::{Instant, Sleep};

/// A timer that tells when a deadline given at each poll has passed.
#[derive(Debug, Default)]
pub(crate) struct Alarm {
    sleep: Option<Pin<Box<Sleep>>>,
    /// The waker the timer was last polled with: while it is the caller's, the timer is
    /// armed no later than the deadline and has not fired, a poll would change nothing.
    waker: Option<Waker>,
}

impl Alarm {
    /// `Ready` once `at` has passed; otherwise `cx` is woken no later than `at` (maybe
    /// earlier, at a deadline given before: poll again and the alarm moves on).
    #[inline]
    pub(crate) fn poll_until(&mut self, cx: &mut Context<'_>, at: Instant) -> Poll<()> {
        if let (Some(sleep), Some(waker)) = (&self.sleep, &self.waker)
            && sleep.deadline() <= at
            && !sleep.is_elapsed()
            && waker.will_wake(cx.waker())
        {
            return Poll::Pending;
        }
        self.poll_timer(cx, at)
    }

    #[inline(never)]
    fn poll_timer(&mut self, cx: &mut Context<'_>, at: Instant) -> Poll<()> {
        let sleep = self
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at)));
        if sleep.deadline() > at {
            sleep.as_mut().reset(at);
        }
        if !self.waker.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
            self.waker = Some(cx.waker().clone());
        }
        loop {
            if sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            // It fired at its own deadline: `at` passed if that was `at` (or later).
            if sleep.deadline() >= at {
                return Poll::Ready(());
            }
            sleep.as_mut().reset(at);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn poll(alarm: &mut Alarm, at: Instant) -> Poll<()> {
        let mut cx = Context::from_waker(std::task::Waker::noop());
        alarm.poll_until(&mut cx, at)
    }

    #[tokio::test(start_paused = true)]
    async fn fires_at_the_latest_deadline_not_an_earlier_one() {
        let start = Instant::now();
        let mut alarm = Alarm::default();
        assert!(poll(&mut alarm, start + Duration::from_secs(1)).is_pending());
        // The deadline moves later: the timer is left where it was...
        assert!(poll(&mut alarm, start + Duration::from_secs(3)).is_pending());
        tokio::time::advance(Duration::from_secs(2)).await;
        // ...it fired at 1 s, is moved to 3 s, and is not done.
        assert!(poll(&mut alarm, start + Duration::from_secs(3)).is_pending());
        assert_eq!(
            alarm.sleep.as_ref().unwrap().deadline(),
            start + Duration::from_secs(3)
        );
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(poll(&mut alarm, start + Duration::from_secs(3)).is_ready());
    }

    #[tokio::test(start_paused = true)]
    async fn an_earlier_deadline_or_one_in_the_past_rearms_at_once() {
        let start = Instant::now();
        let mut alarm = Alarm::default();
        assert!(poll(&mut alarm, start + Duration::from_secs(10)).is_pending());
        assert!(poll(&mut alarm, start + Duration::from_secs(1)).is_pending());
        tokio::time::advance(Duration::from_secs(1)).await;
        assert!(poll(&mut alarm, start + Duration::from_secs(1)).is_ready());
        let mut fresh = Alarm::default();
        assert!(
            poll(&mut fresh, start).is_ready(),
            "a deadline already passed"
        );
    }
}
