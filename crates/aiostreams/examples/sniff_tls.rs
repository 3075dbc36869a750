//! TLS and plain text on one port: the server peeks at the first byte of each connection
//! (`StreamReader::peek`, Go's `bufio.Reader.Peek`) and upgrades the connection in place
//! when it is a TLS handshake record (`0x16`), then echoes one line either way.
//!
//! ```text
//! cargo run -p aiostreams --example sniff_tls -- CERT_PEM KEY_PEM [HOST PORT]
//! ```
//!
//! Try `printf 'hi\n' | nc 127.0.0.1 8888` (answers `plain: hi`) and
//! `openssl s_client -connect 127.0.0.1:8888 -CAfile CA_PEM -quiet` (answers `tls: ...`).
//! Nothing the client sent is lost by the sniffing: peek consumes nothing, and
//! `start_tls` takes the buffered ClientHello as the start of the TLS input. Serving until
//! Ctrl-C is in `common/mod.rs`, shared with the echo servers.

mod common;

use std::process::ExitCode;
use std::sync::Arc;

use aiostreams::tls::{rustls::ServerConfig, server_config_from_pem};
use aiostreams::{Error, ServerOptions, StreamReader, StreamWriter};

/// The first byte of a TLS connection: a handshake record's content type.
const TLS_HANDSHAKE: u8 = 0x16;

/// Serves one connection: TLS if its first byte says so, plain text otherwise.
pub(crate) async fn handle(
    mut reader: StreamReader,
    writer: StreamWriter,
    config: Arc<ServerConfig>,
) -> Result<(), Error> {
    let kind = match reader.peek(1).await? {
        [] => return Ok(()), // closed without a byte
        [TLS_HANDSHAKE] => {
            writer.start_tls(&mut reader, config, None).await?;
            "tls"
        }
        _ => "plain",
    };
    let line = reader.readline().await?;
    writer.write(format!("{kind}: ").as_bytes())?;
    writer.write(&line)?;
    writer.drain().await?;
    writer.close();
    writer.wait_closed().await
}

#[allow(dead_code, reason = "tests include this file for `handle` only")]
#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cert, key, host, port) = match args.as_slice() {
        [cert, key] => (cert, key, "127.0.0.1", "8888"),
        [cert, key, host, port] => (cert, key, host.as_str(), port.as_str()),
        _ => {
            eprintln!("usage: sniff_tls CERT_PEM KEY_PEM [HOST PORT]");
            return ExitCode::from(2);
        }
    };
    let Ok(port) = port.parse::<u16>() else {
        eprintln!("sniff_tls: bad port {port:?}");
        return ExitCode::from(2);
    };
    let config = match server_config_from_pem(cert, key) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("sniff_tls: {e}");
            return ExitCode::FAILURE;
        }
    };
    let handler = move |reader, writer| handle(reader, writer, config.clone());
    let started = ServerOptions::new().start_server(handler, host, port).await;
    common::serve_until_ctrl_c("sniff_tls", started).await
}
