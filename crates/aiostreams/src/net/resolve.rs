//! Name resolution with asyncio's `family=` rule, for connecting and for binding.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::Error;

/// Which address family a connection or a server may use.
///
/// asyncio: the `family=` keyword (`AF_UNSPEC`, `AF_INET`, `AF_INET6`). Resolved addresses
/// of other families are dropped; if none is left the call fails with
/// `getaddrinfo() returned empty list` (asyncio passes the family to `getaddrinfo`, which
/// may fail earlier with `gaierror`, e.g. for an IPv4 literal with `AF_INET6`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Family {
    /// Any family (`AF_UNSPEC`), in the resolver's order.
    #[default]
    Unspec,
    /// IPv4 only (`AF_INET`).
    Inet,
    /// IPv6 only (`AF_INET6`).
    Inet6,
}

impl Family {
    /// Whether `addr` belongs to this family.
    fn admits(self, addr: &SocketAddr) -> bool {
        match self {
            Family::Unspec => true,
            Family::Inet => addr.is_ipv4(),
            Family::Inet6 => addr.is_ipv6(),
        }
    }
}

/// Resolves `host:port` (a name, an IP literal, or `[v6]`) and keeps the addresses of
/// `family`, in the resolver's order.
///
/// # Errors
///
/// [`Error::Resolve`] naming the host when it does not resolve; [`Error::Io`] with
/// `getaddrinfo() returned empty list` when no address of `family` is left.
pub(crate) async fn resolve(
    host: &str,
    port: u16,
    family: Family,
) -> Result<Vec<SocketAddr>, Error> {
    of_family(lookup(host, port).await?, family)
}

/// Resolves every host in turn: the addresses in order, without repeats, before the
/// family filter (so that one host of the wrong family does not fail the others).
///
/// # Errors
///
/// As [`resolve`], for the first host that does not resolve.
pub(crate) async fn resolve_each(hosts: &[String], port: u16) -> Result<Vec<SocketAddr>, Error> {
    let mut all: Vec<SocketAddr> = Vec::new();
    for host in hosts {
        for addr in lookup(host, port).await? {
            if !all.contains(&addr) {
                all.push(addr);
            }
        }
    }
    Ok(all)
}

/// Keeps the addresses of `family`.
///
/// # Errors
///
/// `getaddrinfo() returned empty list` (asyncio's text) when none is left.
pub(crate) fn of_family(addrs: Vec<SocketAddr>, family: Family) -> Result<Vec<SocketAddr>, Error> {
    let kept: Vec<SocketAddr> = addrs.into_iter().filter(|a| family.admits(a)).collect();
    if kept.is_empty() {
        let empty = io::Error::new(io::ErrorKind::NotFound, "getaddrinfo() returned empty list");
        return Err(empty.into());
    }
    Ok(kept)
}

/// The resolver's answer for one host, `[v6]` brackets removed.
async fn lookup(host: &str, port: u16) -> Result<Vec<SocketAddr>, Error> {
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let found = tokio::net::lookup_host((host, port))
        .await
        .map_err(|e| Error::Resolve {
            host: host.into(),
            error: Arc::new(e),
        })?;
    Ok(found.collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(list: &[&str]) -> Vec<SocketAddr> {
        list.iter().map(|a| a.parse().unwrap()).collect()
    }

    #[test]
    fn family_keeps_its_addresses_in_order() {
        let mixed = addrs(&["[::1]:1", "127.0.0.1:1", "[::2]:1"]);
        assert_eq!(of_family(mixed.clone(), Family::Unspec).unwrap(), mixed);
        assert_eq!(
            of_family(mixed.clone(), Family::Inet6).unwrap(),
            addrs(&["[::1]:1", "[::2]:1"])
        );
        let err = of_family(addrs(&["[::1]:1"]), Family::Inet).unwrap_err();
        assert_eq!(err.to_string(), "getaddrinfo() returned empty list");
    }

    #[tokio::test]
    async fn literals_resolve_with_or_without_brackets() {
        let want = addrs(&["[::1]:7"]);
        assert_eq!(resolve("[::1]", 7, Family::Unspec).await.unwrap(), want);
        assert_eq!(resolve("::1", 7, Family::Unspec).await.unwrap(), want);
        let both = resolve_each(&["127.0.0.1".into(), "127.0.0.1".into()], 7).await;
        assert_eq!(both.unwrap(), addrs(&["127.0.0.1:7"]));
    }
}
