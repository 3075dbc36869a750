//! The PROXY protocol header (HAProxy's `proxy-protocol.txt`, versions 1 and 2) as a
//! sans-I/O parse: given the first bytes of a connection, "need more", "no header", the
//! header and its length, or why it is malformed.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Version 2's 12-byte signature.
pub(crate) const V2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";

/// Version 1's prefix.
const V1_PREFIX: &[u8] = b"PROXY ";

/// The longest version 1 header, CRLF included (the spec's 107 bytes).
pub(crate) const V1_MAX: usize = 107;

/// The longest version 2 header accepted: the 16-byte fixed part and 2032 bytes of
/// addresses and TLVs (the addresses take at most 216; TLVs are ignored).
pub(crate) const V2_MAX: usize = 2048;

/// A parsed PROXY protocol header.
///
/// `source` is the client the proxy accepted (what `peername()` then returns),
/// `destination` the address the client connected to on the proxy. Both are `None` for
/// version 1's `UNKNOWN`, version 2's `LOCAL` command (a proxy's health check) and for
/// address families other than TCP over IPv4/IPv6 (UNIX, UNSPEC): the connection then
/// keeps the socket's own addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProxyHeader {
    /// 1 (text) or 2 (binary).
    pub version: u8,
    /// The original client's address.
    pub source: Option<SocketAddr>,
    /// The address the client connected to.
    pub destination: Option<SocketAddr>,
}

/// What the first bytes of a connection are.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Parsed {
    /// A header of `len` bytes.
    Header(ProxyHeader, usize),
    /// Could still become a header: more bytes are needed. `decided` is false while the
    /// bytes are only a prefix of a signature (they may yet be something else).
    NeedMore { decided: bool },
    /// Not a PROXY header (no signature).
    NotProxy,
}

/// Parses the start of a connection; an error says what is malformed.
pub(crate) fn parse(bytes: &[u8]) -> Result<Parsed, &'static str> {
    if starts_like(bytes, &V2_SIGNATURE) {
        return match bytes.len() < V2_SIGNATURE.len() {
            true => Ok(Parsed::NeedMore { decided: false }),
            false => parse_v2(bytes),
        };
    }
    if starts_like(bytes, V1_PREFIX) {
        return match bytes.len() < V1_PREFIX.len() {
            true => Ok(Parsed::NeedMore { decided: false }),
            false => parse_v1(bytes),
        };
    }
    Ok(Parsed::NotProxy)
}

/// `bytes` and `prefix` agree on their common length (empty bytes are undecided).
fn starts_like(bytes: &[u8], prefix: &[u8]) -> bool {
    let n = bytes.len().min(prefix.len());
    bytes[..n] == prefix[..n]
}

fn parse_v1(bytes: &[u8]) -> Result<Parsed, &'static str> {
    let window = &bytes[..bytes.len().min(V1_MAX)];
    let Some(lf) = memchr::memchr(b'\n', window) else {
        return match bytes.len() >= V1_MAX {
            true => Err("PROXY v1 header longer than 107 bytes"),
            false => Ok(Parsed::NeedMore { decided: true }),
        };
    };
    if lf == 0 || window[lf - 1] != b'\r' {
        return Err("PROXY v1 header not ended by CRLF");
    }
    let line = std::str::from_utf8(&window[V1_PREFIX.len()..lf - 1])
        .map_err(|_| "PROXY v1 header is not ASCII")?;
    let mut fields = line.split(' ');
    let (source, destination) = match fields.next() {
        Some("UNKNOWN") => (None, None), // the rest of the line is ignored
        Some(family @ ("TCP4" | "TCP6")) => {
            let v6 = family == "TCP6";
            let mut next = || fields.next().ok_or("PROXY v1 header has too few fields");
            let (src, dst) = (ip(next()?, v6)?, ip(next()?, v6)?);
            let (sport, dport) = (port(next()?)?, port(next()?)?);
            if fields.next().is_some() {
                return Err("PROXY v1 header has too many fields");
            }
            (
                Some(SocketAddr::new(src, sport)),
                Some(SocketAddr::new(dst, dport)),
            )
        }
        _ => return Err("PROXY v1 header has an unknown protocol (not TCP4, TCP6, UNKNOWN)"),
    };
    let header = ProxyHeader {
        version: 1,
        source,
        destination,
    };
    Ok(Parsed::Header(header, lf + 1))
}

fn ip(text: &str, v6: bool) -> Result<IpAddr, &'static str> {
    let bad = "PROXY v1 header has a bad address";
    match v6 {
        true => text.parse::<Ipv6Addr>().map(IpAddr::V6).map_err(|_| bad),
        false => text.parse::<Ipv4Addr>().map(IpAddr::V4).map_err(|_| bad),
    }
}

/// A decimal port: digits only (Rust's parser would take a `+`), no leading zero.
fn port(text: &str) -> Result<u16, &'static str> {
    let bad = "PROXY v1 header has a bad port";
    let digits = !text.is_empty() && text.len() <= 5 && text.bytes().all(|b| b.is_ascii_digit());
    if !digits || (text.len() > 1 && text.starts_with('0')) {
        return Err(bad);
    }
    text.parse().map_err(|_| bad)
}

fn parse_v2(bytes: &[u8]) -> Result<Parsed, &'static str> {
    let Some(fixed) = bytes.get(..16) else {
        return Ok(Parsed::NeedMore { decided: true });
    };
    let (version, command) = (fixed[12] >> 4, fixed[12] & 0x0f);
    if version != 2 {
        return Err("PROXY v2 header has a bad version");
    }
    let (family, protocol) = (fixed[13] >> 4, fixed[13] & 0x0f);
    if family > 3 || protocol > 2 {
        return Err("PROXY v2 header has a bad address family or protocol");
    }
    let len = 16 + usize::from(u16::from_be_bytes([fixed[14], fixed[15]]));
    if len > V2_MAX {
        return Err("PROXY v2 header longer than 2048 bytes");
    }
    let Some(header) = bytes.get(..len) else {
        return Ok(Parsed::NeedMore { decided: true });
    };
    let addresses = &header[16..];
    let (source, destination) = match (command, family) {
        (0, _) => (None, None), // LOCAL: the proxy's own connection
        (1, 1) => inet(addresses, 4)?,
        (1, 2) => inet(addresses, 16)?,
        (1, _) => (None, None), // UNSPEC, UNIX: no internet address to report
        _ => return Err("PROXY v2 header has a bad command"),
    };
    let header = ProxyHeader {
        version: 2,
        source,
        destination,
    };
    Ok(Parsed::Header(header, len))
}

/// Source and destination addresses (`width` bytes each), then their ports.
fn inet(
    block: &[u8],
    width: usize,
) -> Result<(Option<SocketAddr>, Option<SocketAddr>), &'static str> {
    let block = block
        .get(..2 * width + 4)
        .ok_or("PROXY v2 header's address block is too short")?;
    let addr = |at: usize| -> IpAddr {
        match width {
            4 => IpAddr::from(<[u8; 4]>::try_from(&block[at..at + 4]).expect("4 bytes")),
            _ => IpAddr::from(<[u8; 16]>::try_from(&block[at..at + 16]).expect("16 bytes")),
        }
    };
    let port = |at: usize| u16::from_be_bytes([block[at], block[at + 1]]);
    let ports = 2 * width;
    Ok((
        Some(SocketAddr::new(addr(0), port(ports))),
        Some(SocketAddr::new(addr(width), port(ports + 2))),
    ))
}

#[cfg(test)]
mod tests;
