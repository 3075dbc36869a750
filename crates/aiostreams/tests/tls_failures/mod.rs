//! TLS failures end in the documented error, never in a panic or a hang: certificate
//! problems (asyncio's `SSLCertVerificationError`, D5), peers that do not speak TLS,
//! silent peers (D4), a peer leaving mid-handshake (D7), truncation, corrupted records
//! (D6), bad arguments (D1; D2's negative timeout cannot be expressed with a `Duration`),
//! bad PEM files and an empty trust store.
//!
//! Every test runs on loopback with port 0, under a timeout; the handshake timeouts used
//! are bounds, not speed assertions.
//!
//! The shared servers, clients and assertions are here; the tests, one module per kind
//! of failure.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use aiostreams::tls::{TlsError, server_config_from_pem};
use aiostreams::{ConnectOptions, Error, Server, ServerOptions, StreamReader, StreamWriter};
use rustls::{ClientConfig, ServerConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tracing::Level;

use crate::support::bounded_test;
use crate::support::net::listener;
use crate::support::{
    bounded, certs,
    certs::{Kind, OTHER_NAME, Pki},
    log_capture::Logs,
    net::{echo_lines, port_of},
    test_name,
};

mod arguments;
mod certificates;
mod handshake;
mod not_tls;
mod pem;
mod records;
mod trust_store;

async fn tls_echo_server(config: Arc<ServerConfig>) -> Server {
    ServerOptions::new()
        .ssl(config)
        .start_server(echo_lines, "127.0.0.1", 0)
        .await
        .expect("start a TLS server")
}

/// [`tls_echo_server`] with `pki`'s good certificate, and its port.
async fn good_echo_server(pki: &Pki) -> (Server, u16) {
    let server = tls_echo_server(pki.server_config(Kind::Good)).await;
    let port = port_of(&server);
    (server, port)
}

async fn tls_connect(
    port: u16,
    config: Arc<ClientConfig>,
    name: &str,
) -> Result<(StreamReader, StreamWriter), Error> {
    ConnectOptions::new()
        .ssl_config(config)
        .server_hostname(name)
        .connect("127.0.0.1", port)
        .await
}

/// A TLS client (trusting a fresh CA, naming `localhost`) of 127.0.0.1 `port` whose
/// handshake must fail (`why`): its error.
async fn refused_handshake(port: u16, why: &str) -> Error {
    let pki = Pki::new();
    tls_connect(port, pki.client_config(), "localhost")
        .await
        .expect_err(why)
}

/// A client with `config` gets its line echoed back: the server is still serving.
async fn assert_echoes(port: u16, config: Arc<ClientConfig>, name: &str) {
    let options = ConnectOptions::new()
        .ssl_config(config)
        .server_hostname(name);
    assert_echoes_with(options, port).await;
}

/// A client with `options` connects to 127.0.0.1 `port` and gets its line echoed back.
async fn assert_echoes_with(options: ConnectOptions, port: u16) {
    let (mut reader, writer) = options
        .connect("127.0.0.1", port)
        .await
        .expect("a good client connects");
    writer.write(b"still serving\n").unwrap();
    assert_eq!(reader.readline().await.unwrap(), "still serving\n");
    writer.close();
    writer.wait_closed().await.unwrap();
}

/// After a failed handshake: the server logged it (at debug level: nothing above DEBUG,
/// failed handshakes are the client's problem) and still serves a good client.
async fn assert_failure_logged_and_serving(
    logs: &Logs,
    port: u16,
    config: Arc<ClientConfig>,
    name: &str,
) {
    logs.wait_for("TLS handshake failed").await;
    assert_echoes(port, config, name).await;
    assert_quiet(logs);
}

/// Nothing above DEBUG was logged: failed handshakes are the client's problem.
fn assert_quiet(logs: &Logs) {
    let loud = logs.at_least(Level::INFO);
    assert!(loud.is_empty(), "the server logged: {loud:?}");
}
