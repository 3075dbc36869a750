//! asyncio's `ssl_handshake_timeout` and `ssl_shutdown_timeout` keywords, checked one way
//! for `open_connection`, `start_server` and `start_tls`.

use std::time::Duration;

use crate::Error;
use crate::tls::{DEFAULT_SSL_HANDSHAKE_TIMEOUT, DEFAULT_SSL_SHUTDOWN_TIMEOUT};

/// The two TLS timeout keywords as given (`None`: not given).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TlsTimeouts {
    pub(crate) handshake: Option<Duration>,
    pub(crate) shutdown: Option<Duration>,
}

/// The timeouts a TLS connection runs with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Checked {
    pub(crate) handshake: Duration,
    pub(crate) shutdown: Duration,
}

impl TlsTimeouts {
    /// asyncio's rules: without `ssl` neither keyword may be given; with it each must be
    /// positive. Returns the timeouts with asyncio's defaults (60 s, 30 s) filled in.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`] with asyncio's text: `"ssl_handshake_timeout is only
    /// meaningful with ssl"`, `"... should be a positive number"`, handshake first.
    pub(crate) fn check(self, ssl: bool) -> Result<Checked, Error> {
        if !ssl {
            if self.handshake.is_some() {
                return Err(Error::InvalidArgument(
                    "ssl_handshake_timeout is only meaningful with ssl",
                ));
            }
            if self.shutdown.is_some() {
                return Err(Error::InvalidArgument(
                    "ssl_shutdown_timeout is only meaningful with ssl",
                ));
            }
        }
        let checked = self.with_defaults();
        positive(
            "ssl_handshake_timeout should be a positive number",
            checked.handshake,
        )?;
        positive(
            "ssl_shutdown_timeout should be a positive number",
            checked.shutdown,
        )?;
        Ok(checked)
    }

    /// The timeouts with asyncio's defaults for those not given (already checked).
    pub(crate) fn with_defaults(self) -> Checked {
        Checked {
            handshake: self.handshake.unwrap_or(DEFAULT_SSL_HANDSHAKE_TIMEOUT),
            shutdown: self.shutdown.unwrap_or(DEFAULT_SSL_SHUTDOWN_TIMEOUT),
        }
    }
}

fn positive(message: &'static str, t: Duration) -> Result<(), Error> {
    if t.is_zero() {
        return Err(Error::InvalidArgument(message));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(result: Result<Checked, Error>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn rules_and_defaults_are_asyncios() {
        let none = TlsTimeouts::default();
        let defaults = Checked {
            handshake: Duration::from_secs(60),
            shutdown: Duration::from_secs(30),
        };
        assert_eq!(none.check(true).unwrap(), defaults);
        assert_eq!(none.check(false).unwrap(), defaults);
        let zero = TlsTimeouts {
            handshake: Some(Duration::ZERO),
            shutdown: Some(Duration::ZERO),
        };
        assert!(message(zero.check(true)).starts_with("ssl_handshake_timeout should be"));
        assert!(message(zero.check(false)).starts_with("ssl_handshake_timeout is only"));
        let shutdown_only = TlsTimeouts {
            shutdown: Some(Duration::ZERO),
            ..none
        };
        assert!(message(shutdown_only.check(true)).starts_with("ssl_shutdown_timeout should"));
        assert!(message(shutdown_only.check(false)).starts_with("ssl_shutdown_timeout is only"));
    }
}
