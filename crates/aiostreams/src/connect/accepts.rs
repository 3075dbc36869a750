//! Which connect entry point can use which option: an entry point given an option it
//! cannot use refuses it with [`Error::InvalidArgument`], rather than connect without it
//! (`create_connection_with` once dropped TLS silently).
//!
//! | option family                                          | `connect` | `connect_unix` | `connect_sock` TCP | `connect_sock` Unix | `create_connection_with` |
//! |--------------------------------------------------------|-----------|----------------|--------------------|---------------------|--------------------------|
//! | `limit`                                                | yes       | yes            | yes                | yes                 | refused                  |
//! | `family`, `local_addr`, `happy_eyeballs_delay`, `interleave` | yes | refused        | refused            | refused             | yes                      |
//! | `configure_socket` (runs before the TCP connect)       | yes       | refused        | refused            | refused             | yes                      |
//! | `nodelay`, `keepalive`, `tcp_keepalive`                | yes       | refused        | yes                | refused             | yes                      |
//! | `connect_timeout`                                      | yes       | yes            | refused            | refused             | yes                      |
//! | `ssl`, `server_hostname`, `ssl_*_timeout`              | yes       | yes            | yes                | yes                 | yes                      |
//! | `read_timeout`, `idle_timeout`                         | yes       | yes            | yes                | yes                 | refused                  |
//! | `write_timeout`                                        | yes       | yes            | yes                | yes                 | yes                      |

use super::ConnectOptions;
use crate::Error;
use crate::net::Family;

/// A connect entry point that cannot use every option (`connect` uses them all).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Entry {
    /// `connect_unix`.
    Unix,
    /// `connect_sock` given a TCP socket.
    SockTcp,
    /// `connect_sock` given a Unix socket.
    SockUnix,
    /// `create_connection_with` (a protocol, not a reader, gets the bytes).
    Protocol,
}

/// Which options the caller set by hand (their defaults cannot be told from a choice).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Given {
    pub(crate) limit: bool,
    pub(crate) socket_options: bool,
}

impl ConnectOptions {
    /// Refuses the options `entry` cannot use.
    pub(crate) fn refuse_unused(&self, entry: Entry) -> Result<(), Error> {
        let tcp = self.tcp();
        let addressing = tcp.family != Family::Unspec
            || tcp.local_addr.is_some()
            || tcp.happy_eyeballs_delay.is_some()
            || tcp.interleave.is_some()
            || tcp.tuning.hook.is_some();
        let refuse = |yes: bool, msg: &'static str| match yes {
            true => Err(Error::InvalidArgument(msg)),
            false => Ok(()),
        };
        match entry {
            Entry::Unix => {
                refuse(addressing, UNIX_ADDRESSING)?;
                refuse(self.given.socket_options, UNIX_SOCKET_OPTIONS)
            }
            Entry::SockTcp | Entry::SockUnix => {
                refuse(addressing || tcp.connect_timeout.is_some(), SOCK_CONNECTING)?;
                refuse(
                    entry == Entry::SockUnix && self.given.socket_options,
                    SOCK_UNIX_SOCKET_OPTIONS,
                )
            }
            Entry::Protocol => refuse(self.given.limit, PROTOCOL_LIMIT),
        }
    }
}

const UNIX_ADDRESSING: &str = "family, local_addr, happy_eyeballs_delay, interleave and \
     configure_socket are TCP options: connect_unix() cannot use them";
const UNIX_SOCKET_OPTIONS: &str =
    "nodelay, keepalive and tcp_keepalive are TCP options: connect_unix() cannot use them";
const SOCK_CONNECTING: &str = "connect_sock() takes a connected socket: family, local_addr, \
     happy_eyeballs_delay, interleave, configure_socket and connect_timeout cannot apply to it";
const SOCK_UNIX_SOCKET_OPTIONS: &str = "nodelay, keepalive and tcp_keepalive are TCP options: \
     connect_sock() was given a Unix socket";
const PROTOCOL_LIMIT: &str = "create_connection() takes no limit: the protocol gets the bytes \
     (give the limit to the StreamReader it feeds)";
