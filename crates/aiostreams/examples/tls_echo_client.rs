//! The asyncio docs' "TCP echo client using streams", over TLS with a private CA.
//!
//! ```text
//! cargo run -p aiostreams --example tls_echo_client -- CA_PEM [HOST PORT [SERVER_NAME]]
//! ```
//!
//! Connects to HOST:PORT (default 127.0.0.1 8888) with TLS, trusting exactly the
//! certificates in CA_PEM and checking that the server's certificate is valid for
//! SERVER_NAME (default HOST). Sends `Hello World!`, prints what comes back (up to 100
//! bytes) and closes. The Python equivalent:
//!
//! ```python
//! context = ssl.create_default_context(cafile=ca_pem)
//! reader, writer = await asyncio.open_connection(
//!     host, port, ssl=context, server_hostname=server_name)
//! ```
//!
//! Run it against the `tls_echo_server` example.

mod common;

use std::process::ExitCode;
use std::sync::Arc;

use aiostreams::tls::client_config_with_roots;
use aiostreams::{ConnectOptions, Error};
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// The certificates of a PEM file, as the only trusted roots.
fn load_roots(path: &str) -> Result<RootCertStore, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect())
        .map_err(|e| format!("{path}: {e}"))?;
    let mut roots = RootCertStore::empty();
    for cert in certs {
        roots.add(cert).map_err(|e| format!("{path}: {e}"))?;
    }
    if roots.is_empty() {
        return Err(format!("{path}: no CERTIFICATE found"));
    }
    Ok(roots)
}

async fn tls_echo_client(args: &Args, roots: RootCertStore, message: &str) -> Result<(), Error> {
    let config = Arc::new(client_config_with_roots(roots)?);
    let mut options = ConnectOptions::new().ssl_config(config);
    if let Some(name) = &args.server_name {
        options = options.server_hostname(name);
    }
    let (reader, writer) = options.connect(&args.host, args.port).await?;
    common::echo_exchange(reader, writer, message).await
}

/// `CA_PEM [HOST PORT [SERVER_NAME]]`.
struct Args {
    ca: String,
    host: String,
    port: u16,
    server_name: Option<String>,
}

fn parse_args() -> Result<Args, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (ca, host, port, server_name) = match args.as_slice() {
        [ca] => (ca, "127.0.0.1", "8888", None),
        [ca, host, port] => (ca, host.as_str(), port.as_str(), None),
        [ca, host, port, name] => (ca, host.as_str(), port.as_str(), Some(name.clone())),
        _ => return Err("wrong number of arguments".to_owned()),
    };
    Ok(Args {
        ca: ca.clone(),
        host: host.to_owned(),
        port: port.parse().map_err(|_| format!("bad port {port:?}"))?,
        server_name,
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let usage = "usage: tls_echo_client CA_PEM [HOST PORT [SERVER_NAME]]";
    let args = match parse_args() {
        Ok(args) => args,
        Err(msg) => {
            eprintln!("tls_echo_client: {msg}\n{usage}");
            return ExitCode::from(2);
        }
    };
    let roots = match load_roots(&args.ca) {
        Ok(roots) => roots,
        Err(msg) => {
            eprintln!("tls_echo_client: {msg}");
            return ExitCode::FAILURE;
        }
    };
    match tls_echo_client(&args, roots, "Hello World!").await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tls_echo_client: {}:{}: {e}", args.host, args.port);
            ExitCode::FAILURE
        }
    }
}
