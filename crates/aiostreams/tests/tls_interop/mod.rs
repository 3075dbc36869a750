//! TLS against peers we did not write: CPython's `ssl` (asyncio streams and `http.server`,
//! `tests/support/tls_peers.py`) and the `openssl` command-line tools, plus our TLS
//! examples run as programs, and many connections at once.
//!
//! Certificates are generated here with rcgen (a private CA, a server certificate for
//! `localhost` and `127.0.0.1`) and written to a temp dir for the other programs. Every
//! peer listens on 127.0.0.1 port 0 and prints its port; each child process is killed
//! when its test ends, and every test runs under a timeout. `python3` (or
//! `AIOSTREAMS_PYTHON`) and `openssl` must be on PATH: without them the tests fail.
//!
//! The shared client, echo and report helpers are here; the tests, one module per peer
//! (the letters are the cases of the interop list).

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use aiostreams::tls::TlsInfo;
use aiostreams::{ConnectOptions, Error, Server, ServerOptions, StreamReader, StreamWriter};
use rustls::ClientConfig;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;
use tokio::sync::mpsc;

use crate::support::bounded_test;
use crate::support::net::{closed, port_of};
use crate::support::{
    examples::example,
    payload::{generate, receive_and_check, send_all},
    process::{Peer, openssl, python, run, spawn_piped, success_stdout},
    temp::TempDir,
    tls_interop_support::{Certs, bounded, tls_peers},
};

mod concurrent;
mod cpython_asyncio;
mod cpython_https;
mod echo_examples;
mod openssl;

/// The payload of the large transfers.
const BIG: usize = 1 << 20;

/// The pieces our side writes, each followed by `drain()`.
const PIECE: usize = 64 * 1024;

/// Connects to 127.0.0.1:`port` with TLS, verifying the certificate for `localhost`.
async fn connect(config: Arc<ClientConfig>, port: u16) -> (StreamReader, StreamWriter) {
    ConnectOptions::new()
        .ssl_config(config)
        .server_hostname("localhost")
        .connect("127.0.0.1", port)
        .await
        .expect("TLS connect")
}

/// Sends `data` and reads it back at the same time, checking every byte.
async fn echo_round_trip(reader: &mut StreamReader, writer: &StreamWriter, data: &[u8]) {
    tokio::join!(
        send_all(writer, data, PIECE),
        receive_and_check(reader, data, PIECE)
    );
}

/// What our echo handler saw on one connection.
#[derive(Debug)]
struct Report {
    received: Vec<u8>,
    info: TlsInfo,
}

/// Our echo handler: echoes until EOF, then reports what it received and what the
/// session negotiated.
async fn echo_and_report(
    mut reader: StreamReader,
    writer: StreamWriter,
    report: mpsc::UnboundedSender<Report>,
) -> Result<(), Error> {
    let mut received = Vec::new();
    loop {
        let chunk = reader.read(PIECE).await?;
        if chunk.is_empty() {
            break;
        }
        received.extend_from_slice(&chunk);
        writer.write(&chunk)?;
        writer.drain().await?;
    }
    let info = writer.transport().tls_info().expect("a TLS connection");
    let _ = report.send(Report { received, info });
    closed(&writer).await
}

/// Our TLS echo server on 127.0.0.1 port 0 and the channel its reports arrive on.
async fn our_echo_server(certs: &Certs) -> (Server, u16, mpsc::UnboundedReceiver<Report>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let server = ServerOptions::new()
        .ssl(certs.server_config())
        .backlog(512)
        .start_server(
            move |r, w| echo_and_report(r, w, tx.clone()),
            "127.0.0.1",
            0,
        )
        .await
        .expect("start our TLS server");
    let port = port_of(&server);
    (server, port, rx)
}
