//! The asyncio docs' "TCP echo server using streams", over TLS.
//!
//! ```text
//! cargo run -p aiostreams --example tls_echo_server -- CERT_PEM KEY_PEM [HOST PORT]
//! ```
//!
//! Serves TLS on HOST:PORT (default 127.0.0.1 8888) with the certificate chain in
//! CERT_PEM (leaf first) and the unencrypted private key in KEY_PEM. Reads one message (up
//! to 100 bytes) per client, echoes it back and closes the connection. Serves until
//! interrupted; Ctrl-C ends it cleanly. The handler and the serving loop are in
//! `common/mod.rs`, shared with the TCP and Unix servers. The Python equivalent passes an
//! `SSLContext`:
//!
//! ```python
//! context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
//! context.load_cert_chain(cert_pem, key_pem)
//! server = await asyncio.start_server(handle_echo, '127.0.0.1', 8888, ssl=context)
//! ```
//!
//! Try it with the `tls_echo_client` example, or with
//! `openssl s_client -connect 127.0.0.1:8888 -CAfile CA_PEM`.

mod common;

use std::process::ExitCode;

use aiostreams::tls::server_config_from_pem;
use aiostreams::{Error, Server, ServerOptions};

/// `CERT_PEM KEY_PEM [HOST PORT]`.
struct Args {
    cert: String,
    key: String,
    host: String,
    port: u16,
}

fn parse_args() -> Result<Args, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cert, key, host, port) = match args.as_slice() {
        [cert, key] => (cert, key, "127.0.0.1", "8888"),
        [cert, key, host, port] => (cert, key, host.as_str(), port.as_str()),
        _ => return Err("wrong number of arguments".to_owned()),
    };
    Ok(Args {
        cert: cert.clone(),
        key: key.clone(),
        host: host.to_owned(),
        port: port.parse().map_err(|_| format!("bad port {port:?}"))?,
    })
}

/// Loads the certificate and key and starts serving TLS.
async fn start(args: &Args) -> Result<Server, Error> {
    let config = server_config_from_pem(&args.cert, &args.key)?;
    ServerOptions::new()
        .ssl(config)
        .start_server(common::handle_echo, args.host.as_str(), args.port)
        .await
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(msg) => {
            eprintln!(
                "tls_echo_server: {msg}\nusage: tls_echo_server CERT_PEM KEY_PEM [HOST PORT]"
            );
            return ExitCode::from(2);
        }
    };
    common::serve_until_ctrl_c("tls_echo_server", start(&args).await).await
}
