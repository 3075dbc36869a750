//! `aiostreams headers`: the asyncio docs' "Get HTTP headers" example.
//!
//! ```python
//! if url.scheme == 'https':
//!     reader, writer = await asyncio.open_connection(url.hostname, 443, ssl=True)
//! else:
//!     reader, writer = await asyncio.open_connection(url.hostname, 80)
//! writer.write(f"HEAD {url.path or '/'} HTTP/1.0\r\nHost: {url.hostname}\r\n\r\n".encode('latin-1'))
//! while True:
//!     line = await reader.readline()
//!     if not line: break
//!     line = line.decode('latin1').rstrip()
//!     if line: print(f'HTTP header> {line}')
//! ```
//!
//! As in the example, the query string is not sent. We stop at the blank line that ends
//! the headers rather than at EOF, so a server that keeps the connection open works too.
//! An https:// server is verified against the system trust store with its host name
//! checked (asyncio's `ssl=True`); the store honours `SSL_CERT_FILE` and `SSL_CERT_DIR`.
//!
//! Unlike the example, a hostile or broken server cannot hold us: the header block is
//! capped (`--max-header-bytes`, 64 KiB; a longer one is an error after what fit was
//! printed), and so are the connect (`--connect-timeout`, 10 s, TLS handshake included)
//! and the whole run (`--timeout`, 30 s).

use std::io::Write;
use std::time::Duration;

use aiostreams::{ConnectOptions, Error, StreamReader};
use anyhow::{Context, Result, bail};

use crate::deadline::within;
use crate::numbers;

/// `headers` arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The URL to ask for: http:// or https:// (verified with the system trust store).
    #[arg(default_value = "http://example.com/path/page.html?query=value")]
    url: String,
    /// Give up connecting (TLS handshake included) after SECS.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = numbers::positive_secs)]
    connect_timeout: Duration,
    /// Give up after SECS in all.
    #[arg(long, value_name = "SECS", default_value = "30", value_parser = numbers::positive_secs)]
    timeout: Duration,
    /// Fail when the response's header block is longer than BYTES (line ends included).
    #[arg(long, value_name = "BYTES", default_value = "65536", value_parser = numbers::bytes())]
    max_header_bytes: usize,
}

/// Runs `headers`.
pub(crate) fn run(args: Args) -> Result<()> {
    let url = Url::parse(&args.url)?;
    let work = print_http_headers(&url, &args);
    crate::runtime::Runtime::Current.build()?.block_on(within(
        Some(args.timeout),
        "--timeout",
        work,
    ))
}

async fn print_http_headers(url: &Url, args: &Args) -> Result<()> {
    // A single endless line stops at the cap too: it is the reader's limit.
    let mut options = ConnectOptions::new().limit(args.max_header_bytes);
    if url.https {
        options = options.ssl();
    }
    let opening = async { Ok(options.connect(&url.host, url.port).await?) };
    let (mut reader, writer) = within(Some(args.connect_timeout), "--connect-timeout", opening)
        .await
        .with_context(|| format!("cannot connect to {}:{}", url.host, url.port))?;
    let query = format!("HEAD {} HTTP/1.0\r\nHost: {}\r\n\r\n", url.path, url.host);
    writer.write(query.as_bytes())?;
    let mut out = std::io::stdout().lock();
    let mut left = args.max_header_bytes;
    loop {
        let line = header_line(&mut reader, &mut left, args.max_header_bytes).await?;
        let line = latin1(&line);
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        writeln!(out, "HTTP header> {line}")?;
    }
    out.flush()?;
    writer.close();
    writer.wait_closed().await?;
    Ok(())
}

/// The next line of the header block, taken from the `left` bytes it may still use.
async fn header_line(
    reader: &mut StreamReader,
    left: &mut usize,
    max: usize,
) -> Result<bytes::Bytes> {
    let too_long = || {
        anyhow::anyhow!(
            "the response's header block is over {max} bytes (--max-header-bytes); stopped"
        )
    };
    let line = match reader.readline().await {
        Err(Error::LimitOverrun { .. }) => return Err(too_long()),
        line => line.context("reading the response")?,
    };
    *left = left.checked_sub(line.len()).ok_or_else(too_long)?;
    Ok(line)
}

/// Decodes ISO-8859-1, as the example's `decode('latin1')`.
fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// The parts of an http:// URL the example uses.
#[derive(Debug, PartialEq, Eq)]
struct Url {
    /// `https://` (port 443 by default): the connection must use TLS.
    https: bool,
    host: String,
    port: u16,
    /// The path alone (`/` when empty), without query or fragment.
    path: String,
}

impl Url {
    fn parse(url: &str) -> Result<Url> {
        let Some((scheme, rest)) = url.split_once("://") else {
            bail!("not a URL: {url:?} (expected http(s)://HOST[:PORT]/PATH)");
        };
        let (https, default_port) = match scheme.to_ascii_lowercase().as_str() {
            "http" => (false, 80),
            "https" => (true, 443),
            other => bail!("unsupported URL scheme {other:?} (expected http:// or https://)"),
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(end);
        let path_end = tail.find(['?', '#']).unwrap_or(tail.len());
        let path = match &tail[..path_end] {
            "" => "/".to_owned(),
            p => p.to_owned(),
        };
        let (host, port) = split_host_port(authority, default_port)?;
        Ok(Url {
            https,
            host,
            port,
            path,
        })
    }
}

/// `host`, `host:port`, `[v6]` or `[v6]:port` (user info is not supported).
fn split_host_port(authority: &str, default_port: u16) -> Result<(String, u16)> {
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (host, after) = v6.split_once(']').context("unclosed '[' in URL host")?;
        (host, after.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() || host.contains('@') {
        bail!("bad host in URL: {authority:?}");
    }
    let port = match port {
        Some(p) => p
            .parse()
            .with_context(|| format!("bad port in URL: {p:?}"))?,
        None => default_port,
    };
    Ok((host.to_owned(), port))
}

#[cfg(test)]
mod tests {
    use super::Url;

    fn url(host: &str, port: u16, path: &str) -> Url {
        let (host, path) = (host.to_owned(), path.to_owned());
        Url {
            https: false,
            host,
            port,
            path,
        }
    }

    #[test]
    fn the_docs_url_drops_the_query() {
        let parsed = Url::parse("http://example.com/path/page.html?query=value").unwrap();
        assert_eq!(parsed, url("example.com", 80, "/path/page.html"));
    }

    #[test]
    fn ports_and_ipv6_hosts() {
        assert_eq!(
            Url::parse("http://127.0.0.1:8080").unwrap(),
            url("127.0.0.1", 8080, "/")
        );
        assert_eq!(
            Url::parse("http://[::1]:81/x#f").unwrap(),
            url("::1", 81, "/x")
        );
        assert_eq!(Url::parse("HTTP://h?q").unwrap(), url("h", 80, "/"));
    }

    #[test]
    fn https_defaults_to_port_443() {
        let parsed = Url::parse("https://example.com/a").unwrap();
        assert_eq!(
            parsed,
            Url {
                https: true,
                ..url("example.com", 443, "/a")
            }
        );
    }

    #[test]
    fn bad_urls_are_errors() {
        for bad in [
            "example.com",
            "ftp://h/",
            "http://:80/",
            "http://h:x/",
            "http://[::1/",
        ] {
            assert!(Url::parse(bad).is_err(), "{bad}");
        }
    }
}
