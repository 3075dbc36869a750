//! [`FlowControl`]: when a fed reader pauses and resumes its transport (spec 3.3, 3.4, 3.9).

/// asyncio's pause rule: after a feed, pause the transport when more than `2 * limit`
/// bytes are buffered (strictly more).
///
/// # Examples
///
/// ```
/// use aiostreams::sansio::pause_needed;
///
/// assert!(!pause_needed(8, 4)); // 2 * limit exactly: not yet
/// assert!(pause_needed(9, 4));
/// ```
pub fn pause_needed(buffered: usize, limit: usize) -> bool {
    buffered > limit.saturating_mul(2)
}

/// asyncio's resume rule after a read: resume once at most `limit` bytes are buffered.
///
/// # Examples
///
/// ```
/// use aiostreams::sansio::resume_allowed;
///
/// assert!(!resume_allowed(5, 4));
/// assert!(resume_allowed(4, 4)); // down to the limit
/// ```
pub fn resume_allowed(buffered: usize, limit: usize) -> bool {
    buffered <= limit
}

/// The `paused` flag of an asyncio `StreamReader` and its three decisions.
///
/// Each method returns `true` when the caller must call the transport now
/// (`pause_reading()` or `resume_reading()`); the flag is updated as asyncio updates it.
///
/// # Examples
///
/// The spec's worked example (limit 4):
///
/// ```
/// use aiostreams::sansio::FlowControl;
///
/// let mut flow = FlowControl::new();
/// assert!(!flow.pause_after_feed(8, 4)); // 8 is not > 8
/// assert!(flow.pause_after_feed(9, 4)); // pause_reading()
/// assert!(!flow.pause_after_feed(12, 4)); // already paused
/// assert!(!flow.resume_after_read(5, 4));
/// assert!(flow.resume_after_read(4, 4)); // resume_reading()
/// assert!(flow.pause_after_feed(9, 4));
/// assert!(flow.resume_before_wait()); // a read about to wait resumes at once
/// assert!(!flow.is_paused());
/// ```
#[derive(Debug, Default, Clone)]
pub struct FlowControl {
    paused: bool,
    /// The transport cannot pause (asyncio forgets it after `NotImplementedError`).
    disabled: bool,
}

impl FlowControl {
    /// Not paused.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::FlowControl;
    ///
    /// let flow = FlowControl::new();
    /// assert!(!flow.is_paused());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// True while the transport is paused by this reader (asyncio's `_paused`).
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::FlowControl;
    ///
    /// let mut flow = FlowControl::new();
    /// assert!(flow.pause_after_feed(100, 10));
    /// assert!(flow.is_paused());
    /// ```
    pub fn is_paused(&self) -> bool {
        self.paused
    }

    /// After bytes were fed or committed: true when the transport must be paused now.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::FlowControl;
    ///
    /// let mut flow = FlowControl::new();
    /// assert!(!flow.pause_after_feed(20, 10));
    /// assert!(flow.pause_after_feed(21, 10)); // pause the transport now
    /// assert!(!flow.pause_after_feed(50, 10)); // already paused: nothing to do
    /// ```
    pub fn pause_after_feed(&mut self, buffered: usize, limit: usize) -> bool {
        let pause = !self.disabled && !self.paused && pause_needed(buffered, limit);
        self.paused |= pause;
        pause
    }

    /// The transport refused to pause (asyncio: `pause_reading()` raised
    /// `NotImplementedError`): never try again; the buffer may then grow without bound.
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::FlowControl;
    ///
    /// let mut flow = FlowControl::new();
    /// flow.pause_unsupported(); // pause_reading() raised NotImplementedError
    /// assert!(!flow.pause_after_feed(1 << 20, 10)); // never asks again
    /// ```
    pub fn pause_unsupported(&mut self) {
        self.paused = false;
        self.disabled = true;
    }

    /// After a read for which [`ReadOp::resumes_transport`] is true: true when the
    /// transport must be resumed now.
    ///
    /// [`ReadOp::resumes_transport`]: super::ReadOp::resumes_transport
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::FlowControl;
    ///
    /// let mut flow = FlowControl::new();
    /// assert!(flow.pause_after_feed(30, 10));
    /// assert!(!flow.resume_after_read(11, 10)); // still above the limit
    /// assert!(flow.resume_after_read(10, 10)); // resume the transport now
    /// assert!(!flow.is_paused());
    /// ```
    pub fn resume_after_read(&mut self, buffered: usize, limit: usize) -> bool {
        let resume = self.paused && resume_allowed(buffered, limit);
        self.paused &= !resume;
        resume
    }

    /// Before a read waits for data ([`Step::NeedMore`]): true when the transport must be
    /// resumed now. Waiting while paused would wait forever (e.g. `readexactly(n)` with
    /// `n > 2 * limit`), so asyncio resumes unconditionally.
    ///
    /// [`Step::NeedMore`]: super::Step::NeedMore
    ///
    /// # Examples
    ///
    /// ```
    /// use aiostreams::sansio::FlowControl;
    ///
    /// let mut flow = FlowControl::new();
    /// assert!(flow.pause_after_feed(30, 10));
    /// // readexactly(40) needs more than 2 * limit: it must not wait while paused.
    /// assert!(flow.resume_before_wait());
    /// assert!(!flow.resume_before_wait()); // not paused any more
    /// ```
    pub fn resume_before_wait(&mut self) -> bool {
        std::mem::take(&mut self.paused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transport_that_cannot_pause_is_never_paused_again() {
        let mut flow = FlowControl::new();
        assert!(flow.pause_after_feed(100, 4));
        flow.pause_unsupported();
        assert!(!flow.is_paused());
        assert!(!flow.pause_after_feed(100, 4));
        assert!(!flow.resume_before_wait());
    }

    #[test]
    fn resume_after_read_needs_a_pause_and_at_most_the_limit() {
        let mut flow = FlowControl::new();
        assert!(
            !flow.resume_after_read(0, 4),
            "not paused: nothing to resume"
        );
        assert!(flow.pause_after_feed(10, 4));
        assert!(!flow.resume_after_read(5, 4));
        assert!(flow.is_paused());
        assert!(flow.resume_after_read(4, 4));
        assert!(!flow.resume_after_read(0, 4), "resumed once");
    }

    #[test]
    fn pause_threshold_does_not_overflow() {
        assert!(!pause_needed(usize::MAX, usize::MAX));
        assert!(pause_needed(9, 4));
        assert!(!pause_needed(8, 4));
    }
}
