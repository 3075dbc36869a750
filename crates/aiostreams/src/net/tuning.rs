//! Socket tuning shared by connects and servers: TCP keepalive parameters and the
//! user's hook that sets socket options before connect or bind (Go's `net.Dialer` /
//! `net.ListenConfig` `KeepAliveConfig` and `Control`).

use std::fmt;
use std::io;
use std::sync::Arc;

use socket2::{SockRef, TcpKeepalive};

/// The user's socket-option hook (`configure_socket`).
#[derive(Clone)]
pub(crate) struct SocketHook(Arc<dyn Fn(SockRef<'_>) -> io::Result<()> + Send + Sync>);

impl SocketHook {
    pub(crate) fn new(
        hook: impl Fn(SockRef<'_>) -> io::Result<()> + Send + Sync + 'static,
    ) -> Self {
        SocketHook(Arc::new(hook))
    }

    pub(crate) fn call(&self, socket: SockRef<'_>) -> io::Result<()> {
        (self.0)(socket)
    }
}

impl fmt::Debug for SocketHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SocketHook")
    }
}

/// What a TCP socket gets besides its defaults: keepalive (on, with these parameters)
/// and the hook, run last so it can override anything we set.
#[derive(Clone, Debug, Default)]
pub(crate) struct Tuning {
    pub(crate) keepalive: Option<TcpKeepalive>,
    pub(crate) hook: Option<SocketHook>,
}

impl Tuning {
    /// Keepalive with its parameters (SO_KEEPALIVE, TCP_KEEPIDLE, TCP_KEEPINTVL,
    /// TCP_KEEPCNT), where set.
    pub(crate) fn keepalive_on(&self, socket: SockRef<'_>) -> io::Result<()> {
        match &self.keepalive {
            Some(params) => socket.set_tcp_keepalive(params),
            None => Ok(()),
        }
    }

    /// The hook, if any.
    pub(crate) fn hook(&self, socket: SockRef<'_>) -> io::Result<()> {
        match &self.hook {
            Some(hook) => hook.call(socket),
            None => Ok(()),
        }
    }
}
