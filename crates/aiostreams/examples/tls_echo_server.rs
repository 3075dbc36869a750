//! The asyncio docs' "TCP echo server using streams", over TLS.
//!
//! ```text
//! cargo run -p aiostreams --example tls_echo_server -- CERT_PEM KEY_PEM [HOST PORT]
//! ```
//!
//! Serves TLS on HOST:PORT (default 127.0.0.1 8888) with the certificate chain in
//! CERT_PEM (leaf first) and the unencrypted private key in KEY_PEM. Reads one message (up
//! to 100 bytes) per client, echoes it back and closes the connection. Serves until
//! interrupted; Ctrl-C ends it cleanly. The Python equivalent passes an `SSLContext`:
//!
//! ```python
//! context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
//! context.load_cert_chain(cert_pem, key_pem)
//! server = await asyncio.start_server(handle_echo, '127.0.0.1', 8888, ssl=context)
//! ```
//!
//! Try it with the `tls_echo_client` example, or with
//! `openssl s_client -connect 127.0.0.1:8888 -CAfile CA_PEM`.

use std::process::ExitCode;

use aiostreams::tls::server_config_from_pem;
use aiostreams::{Error, ServerOptions, StreamReader, StreamWriter};

async fn handle_echo(mut reader: StreamReader, writer: StreamWriter) -> Result<(), Error> {
    let data = reader.read(100).await?;
    let message = String::from_utf8_lossy(&data);
    let addr = writer.peername().map(|a| a.to_string()).unwrap_or_default();
    println!("Received '{message}' from {addr}");
    println!("Send: '{message}'");
    writer.write(&data)?;
    writer.drain().await?;
    println!("Close the connection");
    writer.close();
    writer.wait_closed().await
}

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
    let config = match server_config_from_pem(&args.cert, &args.key) {
        Ok(config) => config,
        Err(e) => {
            eprintln!("tls_echo_server: {e}");
            return ExitCode::FAILURE;
        }
    };
    let server = ServerOptions::new()
        .ssl(config)
        .start_server(handle_echo, args.host.as_str(), args.port)
        .await;
    let server = match server {
        Ok(server) => server,
        Err(e) => {
            eprintln!("tls_echo_server: {e}");
            return ExitCode::FAILURE;
        }
    };
    let ctrl_c = match listen_for_ctrl_c() {
        Ok(ctrl_c) => ctrl_c,
        Err(e) => {
            eprintln!("tls_echo_server: cannot listen for Ctrl-C: {e}");
            return ExitCode::FAILURE;
        }
    };
    let addrs: Vec<String> = server.sockets().iter().map(|a| a.to_string()).collect();
    println!("Serving on {}", addrs.join(", "));
    tokio::select! {
        result = server.serve_forever() => {
            if let Err(e) = result {
                eprintln!("tls_echo_server: {e}");
                return ExitCode::FAILURE;
            }
        }
        () = ctrl_c => {}
    }
    server.close();
    ExitCode::SUCCESS
}

/// Listens for Ctrl-C from now on. Call it before announcing that the server is up:
/// `tokio::signal::ctrl_c()` installs its handler only when first polled, and a Ctrl-C
/// arriving before that kills the process without closing the server.
fn listen_for_ctrl_c() -> std::io::Result<impl Future<Output = ()>> {
    #[cfg(unix)]
    let mut signal = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    #[cfg(windows)]
    let mut signal = tokio::signal::windows::ctrl_c()?;
    Ok(async move {
        signal.recv().await;
    })
}
