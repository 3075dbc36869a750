//! `--connect-timeout` and `--timeout` of the clients (`connect`, `headers`).

use std::future::Future;
use std::time::Duration;

use anyhow::{Result, anyhow};

/// Runs `work`, failing with "timed out after N s (FLAG)" if `limit` passes first.
///
/// `None` waits as long as `work` takes. Dropping `work` at the timeout closes whatever
/// it had open (the library's connects and streams are cancel safe).
pub(crate) async fn within<T>(
    limit: Option<Duration>,
    flag: &str,
    work: impl Future<Output = Result<T>>,
) -> Result<T> {
    let Some(limit) = limit else {
        return work.await;
    };
    match tokio::time::timeout(limit, work).await {
        Ok(done) => done,
        Err(_) => Err(anyhow!(
            "timed out after {} s ({flag})",
            limit.as_secs_f64()
        )),
    }
}

#[cfg(test)]
mod tests {
    use std::future::pending;

    use tokio::time::Instant;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_stuck_operation_fails_at_its_limit() {
        let start = Instant::now();
        let stuck = within(
            Some(Duration::from_secs(7)),
            "--timeout",
            pending::<Result<()>>(),
        );
        let message = stuck.await.unwrap_err().to_string();
        assert_eq!(message, "timed out after 7 s (--timeout)");
        assert_eq!(start.elapsed(), Duration::from_secs(7));
    }

    #[tokio::test(start_paused = true)]
    async fn a_finished_operation_keeps_its_result() {
        let quick = within(Some(Duration::from_secs(1)), "--timeout", async { Ok(5) });
        assert_eq!(quick.await.unwrap(), 5);
        let unlimited = within(None, "--timeout", async { Ok(6) });
        assert_eq!(unlimited.await.unwrap(), 6);
    }
}
