//! The asyncio docs' "Get HTTP headers" example, on aiostreams: http:// and https://.
//!
//! ```text
//! cargo run -p aiostreams --example get_http_headers -- [URL]
//! ```
//!
//! URL defaults to `https://example.com/path/page.html?query=value`, as in the docs. The
//! port is the URL's, else 80 (http) or 443 (https). An https server is verified against
//! the system trust store with its host name checked (asyncio's `ssl=True`); the store
//! honours `SSL_CERT_FILE` and `SSL_CERT_DIR`. The Python original:
//!
//! ```python
//! async def print_http_headers(url):
//!     url = urllib.parse.urlsplit(url)
//!     if url.scheme == 'https':
//!         reader, writer = await asyncio.open_connection(url.hostname, 443, ssl=True)
//!     else:
//!         reader, writer = await asyncio.open_connection(url.hostname, 80)
//!     query = (f"HEAD {url.path or '/'} HTTP/1.0\r\n"
//!              f"Host: {url.hostname}\r\n"
//!              f"\r\n")
//!     writer.write(query.encode('latin-1'))
//!     while True:
//!         line = await reader.readline()
//!         if not line:
//!             break
//!         line = line.decode('latin1').rstrip()
//!         if line:
//!             print(f'HTTP header> {line}')
//!     # Ignore the body, close the socket
//!     writer.close()
//!     await writer.wait_closed()
//! ```
//!
//! As in the original, the query string is not sent. We stop at the blank line that ends
//! the headers rather than at EOF, so a server that keeps the connection open works too.
//! Failures (no connection, a certificate that does not verify...) go to stderr with exit
//! status 1; a bad URL exits with 2.

use std::process::ExitCode;

use aiostreams::{ConnectOptions, Error};

/// The parts of the URL the example uses.
#[derive(Debug)]
struct Url {
    /// `https://`: connect with TLS.
    https: bool,
    /// The host name or address, without the brackets of an IPv6 literal.
    host: String,
    port: u16,
    /// The path alone (`/` when empty), without query or fragment.
    path: String,
}

/// Splits `scheme://[user@]host[:port][/path][?query][#fragment]` by hand.
fn parse_url(url: &str) -> Result<Url, String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("not a URL: {url:?} (expected http(s)://HOST[:PORT]/PATH)"))?;
    let (https, default_port) = match scheme.to_ascii_lowercase().as_str() {
        "http" => (false, 80),
        "https" => (true, 443),
        other => return Err(format!("unsupported scheme {other:?} (http or https)")),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let (host, port) = split_host_port(authority)?;
    let path = &tail[..tail.find(['?', '#']).unwrap_or(tail.len())];
    Ok(Url {
        https,
        host: host.to_owned(),
        port: port.unwrap_or(default_port),
        path: if path.is_empty() { "/" } else { path }.to_owned(),
    })
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`; an empty port means the default.
fn split_host_port(authority: &str) -> Result<(&str, Option<u16>), String> {
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| format!("unclosed '[' in {authority:?}"))?;
            match after {
                "" => (host, ""),
                _ => (host, after.strip_prefix(':').ok_or("junk after ']'")?),
            }
        }
        None => authority.rsplit_once(':').unwrap_or((authority, "")),
    };
    if host.is_empty() {
        return Err(format!("no host in {authority:?}"));
    }
    match port {
        "" => Ok((host, None)),
        p => p
            .parse()
            .map(|p| (host, Some(p)))
            .map_err(|_| format!("bad port {p:?}")),
    }
}

/// Decodes ISO-8859-1, as the original's `decode('latin1')`.
fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

async fn print_http_headers(url: &Url) -> Result<(), Error> {
    let mut options = ConnectOptions::new();
    if url.https {
        options = options.ssl();
    }
    let (mut reader, writer) = options.connect(&url.host, url.port).await?;
    let query = format!("HEAD {} HTTP/1.0\r\nHost: {}\r\n\r\n", url.path, url.host);
    writer.write(query.as_bytes())?;
    loop {
        let line = reader.readline().await?;
        let line = latin1(&line);
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break; // the blank line after the headers, or EOF
        }
        println!("HTTP header> {line}");
    }
    // Ignore the body, close the socket.
    writer.close();
    writer.wait_closed().await
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .unwrap_or_else(|| "https://example.com/path/page.html?query=value".to_owned());
    if args.next().is_some() {
        eprintln!("usage: get_http_headers [URL]");
        return ExitCode::from(2);
    }
    let parsed = match parse_url(&url) {
        Ok(parsed) => parsed,
        Err(msg) => {
            eprintln!("get_http_headers: {msg}\nusage: get_http_headers [URL]");
            return ExitCode::from(2);
        }
    };
    match print_http_headers(&parsed).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("get_http_headers: {url}: {e}");
            ExitCode::FAILURE
        }
    }
}
