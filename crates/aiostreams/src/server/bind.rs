//! Creating and binding listening sockets, with asyncio's rules and error texts.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use socket2::{Domain, Protocol, Socket, Type};

use super::options::ServerOptions;
use crate::Error;
use crate::net::{Family, bind_error, of_family, resolve_each};

/// Which hosts a TCP server binds: asyncio's `host=` forms.
#[derive(Clone, Debug, Default)]
pub enum Hosts {
    /// Every interface (asyncio `host=None` or `''`): `0.0.0.0` and `::`.
    #[default]
    Any,
    /// These hosts (names or literals); each resolved address gets its own socket.
    List(Vec<String>),
}

impl From<&str> for Hosts {
    fn from(host: &str) -> Self {
        if host.is_empty() {
            Hosts::Any
        } else {
            Hosts::List(vec![host.to_owned()])
        }
    }
}

impl From<String> for Hosts {
    fn from(host: String) -> Self {
        Hosts::from(host.as_str())
    }
}

impl From<Option<&str>> for Hosts {
    fn from(host: Option<&str>) -> Self {
        host.map_or(Hosts::Any, Hosts::from)
    }
}

impl<const N: usize> From<[&str; N]> for Hosts {
    fn from(hosts: [&str; N]) -> Self {
        Hosts::List(hosts.iter().map(|h| (*h).to_owned()).collect())
    }
}

impl From<Vec<&str>> for Hosts {
    fn from(hosts: Vec<&str>) -> Self {
        Hosts::List(hosts.into_iter().map(str::to_owned).collect())
    }
}

impl From<Vec<String>> for Hosts {
    fn from(hosts: Vec<String>) -> Self {
        Hosts::List(hosts)
    }
}

/// Resolves the hosts and binds one socket per distinct address (more with
/// `listeners_per_address`).
pub(crate) async fn bind_tcp(
    hosts: &Hosts,
    port: u16,
    opts: &ServerOptions,
) -> Result<Vec<Socket>, Error> {
    let addrs = resolve(hosts, port, opts.family).await?;
    let mut sockets = Vec::new();
    for addr in &addrs {
        let mut addr = *addr;
        for _ in 0..opts.listeners_per_address {
            match bind_one(addr, opts) {
                Ok(sock) => {
                    if let Some(bound) = sock.local_addr()?.as_socket() {
                        addr.set_port(bound.port());
                    }
                    sockets.push(sock);
                }
                // asyncio 3.13: an address that is not available is skipped.
                Err(e) if e.kind() == io::ErrorKind::AddrNotAvailable => break,
                Err(e) => return Err(bind_error(&addr, e).into()),
            }
        }
    }
    if sockets.is_empty() {
        let list: Vec<String> = addrs.iter().map(ToString::to_string).collect();
        return Err(io::Error::new(
            io::ErrorKind::AddrNotAvailable,
            format!("could not bind on any address out of [{}]", list.join(", ")),
        )
        .into());
    }
    Ok(sockets)
}

/// The addresses to bind: every interface, or each host's, of `family`, without repeats.
async fn resolve(hosts: &Hosts, port: u16, family: Family) -> Result<Vec<SocketAddr>, Error> {
    let candidates = match hosts {
        Hosts::Any => vec![
            SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port),
            SocketAddr::new(IpAddr::V6(Ipv6Addr::UNSPECIFIED), port),
        ],
        Hosts::List(list) => resolve_each(list, port).await?,
    };
    of_family(candidates, family)
}

fn bind_one(addr: SocketAddr, opts: &ServerOptions) -> io::Result<Socket> {
    let sock = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    if opts.reuse_address {
        sock.set_reuse_address(true)?;
    }
    #[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
    if opts.reuse_port || opts.listeners_per_address > 1 {
        sock.set_reuse_port(true)?;
    }
    if opts.keep_alive {
        sock.set_keepalive(true)?;
    }
    if addr.is_ipv6() {
        // No dual-stack sockets: `0.0.0.0` and `::` bind side by side, as in asyncio.
        sock.set_only_v6(true)?;
    }
    // Last, before bind (Go's `ListenConfig.Control`).
    opts.tuning.hook(socket2::SockRef::from(&sock))?;
    sock.bind(&addr.into())?;
    Ok(sock)
}
