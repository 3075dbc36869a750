//! The state a server shares with its accept loops and client tasks.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::accept::accept_loop;
use super::admission::{Admission, IpSlot, PerIp, Tracked};
use super::listener::{Listener, ListenerSlot, address_of};
use super::options::ServerOptions;
use super::serve::Serve;
#[cfg(unix)]
use super::unix::Cleanup;
use crate::Error;
use crate::metrics::{ServerCounters, ServerStats};
use crate::transport::inner::Inner;
use crate::transport::io::Socket;
use crate::transport::{Linger, OnLost, SocketAddress};

type SpawnAccept = Box<dyn Fn(Arc<Core>, Arc<ListenerSlot>) -> JoinHandle<()> + Send + Sync>;

/// The accept-task starter for a callback.
pub(crate) fn spawner<H: Serve>(handler: H) -> SpawnAccept {
    let handler = Arc::new(handler);
    Box::new(move |core, slot| tokio::spawn(accept_loop(core, slot, handler.clone())))
}

pub(crate) struct Core {
    pub(crate) options: ServerOptions,
    /// Cancelled when the server closes (taken from the options: one per server).
    shutdown: CancellationToken,
    /// Starts the accept task of one listener (with the server's callback, whose type
    /// only this closure knows).
    spawn_accept: SpawnAccept,
    state: Mutex<State>,
    /// Woken when the server closes or its last connection ends.
    pub(crate) notify: Notify,
    limit: Option<Arc<Semaphore>>,
    per_ip: Option<Arc<PerIp>>,
    /// How a graceful close lingers (`None`: it does not); its token is cancelled when
    /// `shutdown(deadline)` reaches its deadline.
    linger: Option<Linger>,
    /// Cancelled at the shutdown deadline: lingering sockets close at once.
    cut: CancellationToken,
    next_id: AtomicU64,
    /// What the server counts ([`Server::stats`](crate::Server::stats)).
    pub(crate) counters: ServerCounters,
}

#[derive(Default)]
struct State {
    /// Bound sockets waiting for `start_serving`.
    bound: Vec<socket2::Socket>,
    listeners: Vec<Arc<ListenerSlot>>,
    accept_tasks: Vec<JoinHandle<()>>,
    serving: bool,
    closed: bool,
    pub(crate) serve_forever: bool,
    /// Live connections, by id (weak: a connection is owned by its task).
    connections: HashMap<u64, Weak<Inner>>,
    /// Connections lost whose socket is still open, in a lingering close.
    lingering: usize,
    #[cfg(unix)]
    cleanup: Option<Cleanup>,
}

impl Core {
    pub(crate) fn new(
        mut options: ServerOptions,
        spawn_accept: SpawnAccept,
        bound: Vec<socket2::Socket>,
        #[cfg(unix)] cleanup: Option<Cleanup>,
    ) -> Self {
        let limit = options.max_connections.map(|n| Arc::new(Semaphore::new(n)));
        let per_ip = options.max_connections_per_ip.map(PerIp::new);
        let cut = CancellationToken::new();
        let linger = (!options.linger.is_zero()).then(|| Linger {
            time: options.linger,
            cut: cut.clone(),
        });
        let shutdown = std::mem::take(&mut options.shutdown);
        Core {
            options,
            shutdown,
            spawn_accept,
            state: Mutex::new(State {
                bound,
                #[cfg(unix)]
                cleanup,
                ..State::default()
            }),
            notify: Notify::new(),
            limit,
            per_ip,
            linger,
            cut,
            next_id: AtomicU64::new(0),
            counters: ServerCounters::default(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn shutdown_signal(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    pub(crate) fn connection_limit(&self) -> Option<Arc<Semaphore>> {
        self.limit.clone()
    }

    /// `max_connections_per_ip`: the accepted client's slot (`None` without the option,
    /// or for a client with no IP address: a Unix socket), or `Err(ip)` when its address
    /// has all its connections already.
    pub(crate) fn ip_slot(&self, socket: &Socket) -> Result<Option<IpSlot>, std::net::IpAddr> {
        let (Some(per_ip), Socket::Tcp(s)) = (&self.per_ip, socket) else {
            return Ok(None);
        };
        let Ok(peer) = s.peer_addr() else {
            return Ok(None); // already gone: it fails at its first read
        };
        per_ip.admit(peer.ip()).map(Some).ok_or(peer.ip())
    }

    /// Closes lingering sockets at once (the shutdown deadline passed).
    pub(crate) fn cut_lingering(&self) {
        self.cut.cancel();
    }

    /// Listens on every bound socket and starts accepting. Idempotent.
    pub(crate) fn start_serving(self: &Arc<Self>) -> Result<(), Error> {
        let mut st = self.lock();
        if st.closed {
            return Err(Error::InvalidState("server is closed"));
        }
        if st.serving {
            return Ok(());
        }
        for sock in std::mem::take(&mut st.bound) {
            let addr = address_of(&sock)?;
            let listener = Listener::listen(sock, self.options.backlog)?;
            let slot = Arc::new(ListenerSlot::new(listener, addr));
            st.accept_tasks
                .push((self.spawn_accept)(self.clone(), slot.clone()));
            st.listeners.push(slot);
        }
        st.serving = true;
        Ok(())
    }

    pub(crate) fn is_serving(&self) -> bool {
        let st = self.lock();
        st.serving && !st.closed
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.lock().closed
    }

    pub(crate) fn sockets(&self) -> Vec<SocketAddress> {
        let st = self.lock();
        let listening = st.listeners.iter().map(|l| l.addr.clone());
        let bound = st.bound.iter().filter_map(|s| address_of(s).ok());
        listening.chain(bound).collect()
    }

    /// Stops accepting and closes the listening sockets; connections stay.
    pub(crate) fn close(&self) {
        let mut st = self.lock();
        if st.closed {
            return;
        }
        st.closed = true;
        st.serving = false;
        st.bound.clear();
        for slot in st.listeners.drain(..) {
            slot.close();
        }
        for task in st.accept_tasks.drain(..) {
            task.abort();
        }
        #[cfg(unix)]
        if let Some(cleanup) = st.cleanup.take() {
            cleanup.run();
        }
        drop(st);
        self.shutdown.cancel();
        self.notify.notify_waiters();
    }

    /// True once closed with no connection left (asyncio 3.12.1 `wait_closed`);
    /// `with_lingering`: and no lingering socket either.
    pub(crate) fn is_finished(&self, with_lingering: bool) -> bool {
        let st = self.lock();
        st.closed && st.connections.is_empty() && (!with_lingering || st.lingering == 0)
    }

    /// Lingering sockets (see [`untrack`](Self::untrack)).
    pub(crate) fn lingering(&self) -> usize {
        self.lock().lingering
    }

    pub(crate) fn set_serve_forever(&self, on: bool) -> Result<(), Error> {
        let mut st = self.lock();
        if on {
            if st.closed {
                return Err(Error::InvalidState("server is closed"));
            }
            if st.serve_forever {
                return Err(Error::InvalidState(
                    "server is already being awaited on serve_forever()",
                ));
            }
        }
        st.serve_forever = on;
        Ok(())
    }

    /// Socket options for an accepted connection.
    pub(crate) fn prepare(&self, socket: Socket) -> std::io::Result<Socket> {
        if let Socket::Tcp(s) = &socket {
            s.set_nodelay(self.options.nodelay)?;
            if self.options.keep_alive {
                socket2::SockRef::from(s).set_keepalive(true)?;
            }
            self.options
                .tuning
                .keepalive_on(socket2::SockRef::from(s))?;
        }
        Ok(socket)
    }

    /// A new connection's id, for [`on_lost`](Self::on_lost) and [`track`](Self::track).
    pub(crate) fn next_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    /// The loss hook of connection `id`, holding its admission until it ends.
    pub(crate) fn on_lost(self: &Arc<Self>, id: u64, admission: Admission) -> Arc<dyn OnLost> {
        Arc::new(Tracked {
            core: Arc::downgrade(self),
            id,
            admission: Mutex::new(admission),
            linger: self.linger.clone(),
        })
    }

    /// Stops counting connection `id` (`lingering`: its socket lingers, and is counted
    /// apart until [`lingered`](Self::lingered)); wakes the waiters when it was the last.
    pub(crate) fn untrack(&self, id: u64, lingering: bool) {
        let mut st = self.lock();
        if let Some(inner) = st.connections.remove(&id).and_then(|c| c.upgrade()) {
            self.counters.retire(inner.counters().snapshot());
        }
        st.lingering += usize::from(lingering);
        let finished = st.closed && st.connections.is_empty();
        drop(st);
        if finished {
            self.notify.notify_waiters();
        }
    }

    /// A lingering socket is closed; wakes the waiters when it was the last.
    pub(crate) fn lingered(&self) {
        let mut st = self.lock();
        st.lingering -= 1;
        let drained = st.closed && st.connections.is_empty() && st.lingering == 0;
        drop(st);
        if drained {
            self.notify.notify_waiters();
        }
    }

    /// Counts connection `id` until its transport is lost.
    ///
    /// Returns false, tracking nothing, once the server is closed: a connection whose
    /// task starts after `close()` is turned away, as if it had still been in the
    /// backlog, so that no handler starts after `wait_closed()` returned.
    pub(crate) fn track(&self, id: u64, inner: &Arc<Inner>) -> bool {
        let mut st = self.lock();
        if st.closed {
            return false;
        }
        st.connections.insert(id, Arc::downgrade(inner));
        true
    }

    /// The connections still up (not lost: lingering ones are left out), taken out of
    /// the lock before use.
    pub(crate) fn connections(&self) -> Vec<Arc<Inner>> {
        let tracked: Vec<_> = self
            .lock()
            .connections
            .values()
            .filter_map(Weak::upgrade)
            .collect();
        tracked.into_iter().filter(|c| !c.is_lost()).collect()
    }

    /// The server's counters, the open connections' bytes included.
    pub(crate) fn stats(&self) -> ServerStats {
        let st = self.lock();
        let open = st.connections.values().filter_map(Weak::upgrade);
        let mut stats = self
            .counters
            .snapshot(open.map(|c| c.counters().snapshot()));
        stats.active = st.connections.len() as u64;
        stats
    }

    pub(crate) fn active_connections(&self) -> usize {
        self.lock().connections.len()
    }
}
