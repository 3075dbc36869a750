//! One synchronous test per rule of the state table (no socket, no runtime).

use super::*;

fn plain() -> ConnState {
    ConnState::new(false, DEFAULT_SSL_SHUTDOWN_TIMEOUT)
}

fn tls() -> ConnState {
    ConnState::new(true, DEFAULT_SSL_SHUTDOWN_TIMEOUT)
}

const QUEUE_AND_KICK: WritePlan = WritePlan::Queue {
    flush: false,
    kick: true,
};

/// Queues `n` bytes as `Inner` does for a [`WritePlan::Queue`].
fn push(st: &mut ConnState, n: usize) {
    let crossed = st.queue_mut().push(&vec![0; n]);
    st.on_pushed(crossed);
}

#[test]
fn write_answering_the_last_request_is_sent_from_the_callers_buffer() {
    let mut st = plain();
    assert_eq!(st.on_write(100, true), WritePlan::SendFirst);
    assert_eq!(st.after_direct(100, 100), None);
    // The kernel took part: the rest is queued and the flush task sends it.
    assert_eq!(st.after_direct(40, 100), Some(QUEUE_AND_KICK));
}

#[test]
fn write_with_requests_still_buffered_is_queued_for_later() {
    let mut st = plain();
    assert_eq!(st.on_write(100, false), QUEUE_AND_KICK);
    push(&mut st, 100);
    // Bytes already queued: the flush task is on its way; nothing to start.
    let queued = WritePlan::Queue {
        flush: false,
        kick: false,
    };
    assert_eq!(st.on_write(100, true), queued);
}

#[test]
fn tls_upgrading_or_large_writes_queue_then_send_the_queue_at_once() {
    let send_queue = WritePlan::Queue {
        flush: true,
        kick: true,
    };
    assert_eq!(tls().on_write(100, true), send_queue);
    let mut st = plain();
    st.layer = Layer::Upgrading;
    assert_eq!(st.on_write(100, true), send_queue);
    let mut st = plain();
    st.set_limits(10, 4);
    assert_eq!(st.on_write(11, true), send_queue);
    assert_eq!(st.on_write(10, true), WritePlan::SendFirst);
    // Nothing to send now (a writelines with more pieces than it sends directly).
    assert_eq!(plain().on_write(0, true), send_queue);
}

// A write above the high mark that the kernel takes at once made the protocol see
// pause_writing then resume_writing (fixed in 374730f).
#[test]
fn write_above_high_taken_at_once_neither_pauses_nor_resumes() {
    let mut st = plain();
    st.set_limits(10, 4);
    push(&mut st, 20);
    let notices = st.on_sent(20);
    assert!(!notices.resume_writing);
    assert!(notices.wake_drain && st.queue().is_empty());
    assert!(!st.end_write());
}

#[test]
fn write_left_above_high_pauses_at_its_end_and_resumes_at_low() {
    let mut st = plain();
    st.set_limits(10, 4);
    push(&mut st, 20);
    assert_eq!(st.on_sent(5), Notices::default());
    assert!(st.end_write());
    assert!(!st.end_write(), "told once");
    assert!(!st.on_sent(10).resume_writing, "5 left, above low");
    let notices = st.on_sent(1);
    assert!(notices.resume_writing && notices.wake_drain && !st.queue().is_empty());
}

#[test]
fn lowering_the_high_mark_under_the_queue_pauses_at_once() {
    let mut st = plain();
    push(&mut st, 100);
    assert!(!st.end_write());
    assert!(st.set_limits(50, 10));
    assert!(st.on_sent(90).resume_writing);
}

#[test]
fn write_after_write_eof_is_refused_even_when_closed() {
    let mut st = plain();
    assert_eq!(st.on_write_eof(), EofPlan::SendNow { kick: false });
    assert!(st.on_eof_sent());
    assert_eq!(st.on_write(1, true), WritePlan::Refuse);
    st.on_lost(Ok(()));
    assert_eq!(st.on_write(1, true), WritePlan::Refuse);
}

// Writes after close or loss are dropped; asyncio logs from the fifth one on.
#[test]
fn writes_after_loss_are_dropped_with_a_warning_from_the_fifth() {
    let mut st = plain();
    assert_eq!(st.on_close(), ClosePlan::LoseNow);
    for n in 1..=6 {
        let warn = n >= 5;
        assert_eq!(st.on_write(1, true), WritePlan::Drop { warn });
    }
    let mut st = plain();
    st.on_lost(Err(Error::ConnectionLost));
    assert_eq!(st.on_write(1, true), WritePlan::Drop { warn: false });
}

#[test]
fn write_after_close_with_bytes_queued_is_still_sent() {
    let mut st = plain();
    push(&mut st, 10);
    assert_eq!(st.on_close(), ClosePlan::Flush);
    let queued = WritePlan::Queue {
        flush: false,
        kick: false,
    };
    assert_eq!(st.on_write(5, true), queued);
}

#[test]
fn write_eof_waits_for_the_queue_and_happens_once() {
    let mut st = plain();
    push(&mut st, 10);
    assert_eq!(st.on_write_eof(), EofPlan::AfterQueue);
    assert_eq!(st.on_write_eof(), EofPlan::Nothing);
    assert_eq!(
        st.after_flush(false, false, Instant::now),
        AfterFlush::Yield
    );
    st.on_sent(10);
    assert_eq!(
        st.after_flush(true, true, Instant::now),
        AfterFlush::SendEof
    );
    assert!(st.on_eof_sent());
    assert!(!st.on_eof_sent());
    // Half-closed, not closing: the flush task waits for more (there is none).
    assert!(!st.is_closing());
    assert_eq!(st.after_flush(true, false, Instant::now), AfterFlush::Idle);
    assert_eq!(st.on_close(), ClosePlan::LoseNow);
}

#[test]
fn write_eof_when_closing_does_nothing() {
    let mut st = plain();
    push(&mut st, 1);
    st.on_close();
    assert_eq!(st.on_write_eof(), EofPlan::Nothing);
    assert_eq!(tls().on_write_eof(), EofPlan::SendNow { kick: true });
}

#[test]
fn close_plain_sends_the_queue_then_finishes() {
    let mut st = plain();
    push(&mut st, 10);
    assert_eq!(st.on_close(), ClosePlan::Flush);
    assert!(st.is_closing() && !st.is_lost());
    assert_eq!(st.on_close(), ClosePlan::Nothing, "idempotent");
    st.on_sent(10);
    assert_eq!(
        st.after_flush(true, false, Instant::now),
        AfterFlush::Finish
    );
    assert!(st.on_lost(Ok(())));
    assert!(!st.on_lost(Err(Error::ConnectionLost)), "lost once");
    assert!(matches!(st.outcome(), Some(Ok(()))));
    assert_eq!(st.after_flush(true, false, Instant::now), AfterFlush::Stop);
    assert_eq!(st.before_flush(), FlushPlan::Stop);
}

// TLS close: the queue, then close_notify, then its records, then the descriptor.
#[test]
fn close_tls_sends_the_queue_then_close_notify_then_finishes() {
    let mut st = tls();
    assert_eq!(
        st.on_close(),
        ClosePlan::Flush,
        "TLS always goes through the task"
    );
    assert_eq!(
        st.after_flush(true, false, Instant::now),
        AfterFlush::SendCloseNotify
    );
    st.on_close_notify_sent();
    assert!(matches!(st.close, Close::NotifySent));
    assert_eq!(
        st.after_flush(true, false, Instant::now),
        AfterFlush::Finish
    );
    // After write_eof's close_notify, close() does not send another.
    let mut st = tls();
    st.on_write_eof();
    st.on_eof_sent();
    st.on_close();
    assert_eq!(
        st.after_flush(true, false, Instant::now),
        AfterFlush::Finish
    );
}

#[test]
fn tls_close_gives_up_at_the_shutdown_deadline() {
    let mut st = ConnState::new(true, Duration::from_secs(3));
    st.on_close();
    let t0 = Instant::now();
    let expected = AfterFlush::WaitWritable {
        deadline: Some((t0 + Duration::from_secs(3), Expiry::SslShutdown)),
    };
    assert_eq!(st.after_flush(false, true, || t0), expected);
    // The deadline is fixed when the close first waits.
    let later = t0 + Duration::from_secs(1);
    assert_eq!(st.after_flush(false, true, || later), expected);
    // A plain connection has none.
    let mut st = plain();
    st.on_close();
    let wait = AfterFlush::WaitWritable { deadline: None };
    assert_eq!(st.after_flush(false, true, || panic!("no clock")), wait);
}

#[test]
fn both_close_notifies_close_the_connection_in_either_order() {
    // Ours first, then the peer's.
    let mut st = tls();
    st.on_write_eof();
    st.on_eof_sent();
    assert!(!st.is_closing());
    assert!(st.on_peer_close_notify(), "the reader must close now");
    // The peer's first, then ours.
    let mut st = tls();
    assert!(!st.on_peer_close_notify());
    st.on_write_eof();
    assert!(st.on_eof_sent());
    assert!(st.is_closing());
    assert_eq!(
        st.after_flush(true, false, Instant::now),
        AfterFlush::Finish
    );
}

#[cfg(feature = "tls")]
#[test]
fn start_tls_handshake_holds_the_queue() {
    let mut st = plain();
    st.on_upgrade_started();
    assert_eq!(st.before_flush(), FlushPlan::Park);
    st.on_upgrade_ended(Some(Duration::from_secs(1)));
    assert_eq!(st.before_flush(), FlushPlan::Flush);
    assert!(st.is_tls());
    assert_eq!(st.ssl_shutdown_timeout, Duration::from_secs(1));
    let mut st = plain();
    st.on_upgrade_started();
    st.on_upgrade_ended(None);
    assert_eq!(st.on_write(1, true), WritePlan::SendFirst);
}

#[test]
fn drain_follows_the_marks_and_asyncios_rules_after_loss() {
    let mut st = plain();
    st.set_limits(10, 4);
    assert!(matches!(st.drain_ready(false, false), Some(Ok(()))));
    push(&mut st, 20);
    assert!(st.drain_ready(false, false).is_none());
    st.on_sent(16);
    assert!(matches!(st.drain_ready(true, false), Some(Ok(()))));
    assert!(
        st.drain_ready(true, true).is_none(),
        "flush waits for empty"
    );
    st.on_lost(Err(Error::ConnectionLost));
    // A waiter gets the outcome; a new caller gets ConnectionLost either way.
    assert!(matches!(
        st.drain_ready(true, false),
        Some(Err(Error::ConnectionLost))
    ));
    let mut st = plain();
    push(&mut st, 20);
    st.on_lost(Ok(()));
    assert!(matches!(st.drain_ready(true, false), Some(Ok(()))));
    assert!(matches!(
        st.drain_ready(false, false),
        Some(Err(Error::ConnectionLost))
    ));
    assert!(st.queue().is_empty(), "loss drops the queue");
}

#[test]
fn the_flush_task_yields_once_before_waiting() {
    let mut st = plain();
    push(&mut st, 10);
    assert_eq!(st.before_flush(), FlushPlan::Flush);
    assert_eq!(
        st.after_flush(false, false, Instant::now),
        AfterFlush::Yield
    );
    let wait = AfterFlush::WaitWritable { deadline: None };
    assert_eq!(st.after_flush(false, true, Instant::now), wait);
}

#[test]
fn detach_is_refused_where_the_state_would_be_lost() {
    let mut st = plain();
    assert!(st.detach_refusal().is_none());
    push(&mut st, 100);
    assert!(st.detach_refusal().is_none(), "queued bytes are handed out");
    assert_eq!(st.on_write_eof(), EofPlan::AfterQueue);
    assert!(matches!(st.detach_refusal(), Some(Error::InvalidState(_))));
    let mut st = plain();
    assert_eq!(st.on_write_eof(), EofPlan::SendNow { kick: false });
    assert!(st.on_eof_sent());
    assert!(st.detach_refusal().is_none(), "a half-closed socket can go");
    assert!(matches!(
        tls().detach_refusal(),
        Some(Error::InvalidState(_))
    ));
    let mut st = plain();
    push(&mut st, 10);
    assert_eq!(st.on_close(), ClosePlan::Flush);
    assert!(matches!(st.detach_refusal(), Some(Error::InvalidState(_))));
    assert!(st.on_lost(Ok(())));
    assert!(matches!(st.detach_refusal(), Some(Error::ConnectionLost)));
}

#[test]
fn sendfile_borrows_the_socket_and_writes_queue_behind_it() {
    let mut st = plain();
    push(&mut st, 10);
    assert!(
        matches!(st.on_sendfile_started(), Ok(false)),
        "queued bytes go first"
    );
    st.queue_mut().clear();
    assert!(matches!(st.on_sendfile_started(), Ok(true)));
    assert!(matches!(
        st.on_sendfile_started(),
        Err(Error::InvalidState(_))
    ));
    assert!(
        matches!(st.on_write(100, true), WritePlan::Queue { .. }),
        "no direct send past the file"
    );
    assert_eq!(st.before_flush(), FlushPlan::Park);
    assert_eq!(
        st.on_write_eof(),
        EofPlan::AfterQueue,
        "the FIN waits for the file"
    );
    assert!(matches!(st.detach_refusal(), Some(Error::InvalidState(_))));
    st.on_sendfile_ended();
    assert_eq!(st.before_flush(), FlushPlan::Flush);
    assert_eq!(
        st.after_flush(true, false, Instant::now),
        AfterFlush::SendEof
    );

    let mut st = plain();
    assert!(matches!(st.on_sendfile_started(), Ok(true)));
    assert_eq!(st.on_close(), ClosePlan::Flush, "close waits for the file");
    st.on_sendfile_ended();
    assert_eq!(
        st.after_flush(true, false, Instant::now),
        AfterFlush::Finish
    );
    assert!(matches!(
        st.on_sendfile_started(),
        Err(Error::InvalidState(_))
    ));
    assert!(matches!(
        tls().on_sendfile_started(),
        Err(Error::InvalidState(_))
    ));
}

#[test]
fn a_stalled_queue_gives_up_write_timeout_after_its_last_progress() {
    let mut st = plain();
    st.set_write_timeout(Some(Duration::from_secs(5)));
    push(&mut st, 10);
    let t0 = Instant::now();
    let at_t0 = AfterFlush::WaitWritable {
        deadline: Some((
            t0 + Duration::from_secs(5),
            Expiry::Write {
                after: Duration::from_secs(5),
            },
        )),
    };
    assert_eq!(st.after_flush(false, true, || t0), at_t0);
    // Still stalled: the clock is not restarted by another wait.
    let t1 = t0 + Duration::from_secs(2);
    assert_eq!(st.after_flush(false, true, || t1), at_t0);
    // Progress restarts it.
    st.on_sent(3);
    let restarted = AfterFlush::WaitWritable {
        deadline: Some((
            t1 + Duration::from_secs(5),
            Expiry::Write {
                after: Duration::from_secs(5),
            },
        )),
    };
    assert_eq!(st.after_flush(false, true, || t1), restarted);
}

#[test]
fn the_write_deadline_and_the_tls_close_take_the_earliest() {
    let mut st = tls();
    let t0 = Instant::now();
    st.set_write_deadline(Some(t0 + Duration::from_secs(1)));
    push(&mut st, 10);
    st.on_close();
    let wait = st.after_flush(false, true, || t0);
    let AfterFlush::WaitWritable {
        deadline: Some((at, Expiry::Write { after })),
    } = wait
    else {
        panic!("{wait:?}");
    };
    assert_eq!(
        (at, after),
        (t0 + Duration::from_secs(1), Duration::from_secs(1))
    );
    st.set_write_deadline(None);
    let wait = st.after_flush(false, true, || t0);
    assert_eq!(
        wait,
        AfterFlush::WaitWritable {
            deadline: Some((t0 + DEFAULT_SSL_SHUTDOWN_TIMEOUT, Expiry::SslShutdown))
        }
    );
    assert!(matches!(
        Expiry::Write {
            after: Duration::from_secs(1)
        }
        .error(),
        Error::TimedOut {
            operation: "write",
            ..
        }
    ));
}

#[test]
fn a_queue_above_the_high_mark_must_get_back_to_the_low_one_within_write_timeout() {
    let mut st = plain();
    st.set_write_timeout(Some(Duration::from_secs(5)));
    st.set_limits(100, 20);
    push(&mut st, 1000);
    assert!(st.end_write(), "paused: drain() waits");
    let t0 = Instant::now();
    let deadline = |at: Instant, after: u64| AfterFlush::WaitWritable {
        deadline: Some((
            at,
            Expiry::Write {
                after: Duration::from_secs(after),
            },
        )),
    };
    assert_eq!(
        st.after_flush(false, true, || t0),
        deadline(t0 + Duration::from_secs(5), 5)
    );
    // A slow reader takes a byte a second: progress, but the drain's deadline stays.
    for s in 1..5 {
        st.on_sent(1);
        let t = t0 + Duration::from_secs(s);
        assert_eq!(
            st.after_flush(false, true, || t),
            deadline(t0 + Duration::from_secs(5), 5)
        );
    }
    // Back at the low mark: only the progress rule is left, from the next wait.
    st.on_sent(1000 - 4 - 20);
    let t5 = t0 + Duration::from_millis(4_500);
    assert_eq!(
        st.after_flush(false, true, || t5),
        deadline(t5 + Duration::from_secs(5), 5)
    );
}
