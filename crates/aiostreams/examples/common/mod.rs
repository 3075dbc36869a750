//! What the echo examples share: the asyncio docs' echo handler and client exchange, and
//! serving until Ctrl-C. Each example is the part that differs (how it listens or
//! connects: TCP, TLS, a Unix socket); read this file with it.

#![allow(
    dead_code,
    reason = "each example uses its half: a server the handler and serve_until_ctrl_c, a client the exchange"
)]

use std::process::ExitCode;

use aiostreams::{Error, Server, StreamReader, StreamWriter};

/// The asyncio docs' `handle_echo`: reads one message (up to 100 bytes), echoes it back
/// and closes the connection, printing each step.
pub(crate) async fn handle_echo(
    mut reader: StreamReader,
    writer: StreamWriter,
) -> Result<(), Error> {
    let data = reader.read(100).await?;
    let message = String::from_utf8_lossy(&data);
    // A Unix client is usually unnamed: its address prints as nothing.
    match writer.peername().map(|a| a.to_string()).unwrap_or_default() {
        addr if addr.is_empty() => println!("Received '{message}'"),
        addr => println!("Received '{message}' from {addr}"),
    }
    println!("Send: '{message}'");
    writer.write(&data)?;
    writer.drain().await?;
    println!("Close the connection");
    writer.close();
    writer.wait_closed().await
}

/// The asyncio docs' echo client, once connected: sends `message`, prints what comes
/// back (up to 100 bytes) and closes.
pub(crate) async fn echo_exchange(
    mut reader: StreamReader,
    writer: StreamWriter,
    message: &str,
) -> Result<(), Error> {
    println!("Send: '{message}'");
    writer.write(message.as_bytes())?;
    writer.drain().await?;
    let data = reader.read(100).await?;
    println!("Received: '{}'", String::from_utf8_lossy(&data));
    println!("Close the connection");
    writer.close();
    writer.wait_closed().await
}

/// Announces the server `started` (`Serving on ...`) and serves until Ctrl-C, then closes
/// it (a Unix server removes its socket file); or says why it did not start. `name`
/// prefixes the error messages.
pub(crate) async fn serve_until_ctrl_c(name: &str, started: Result<Server, Error>) -> ExitCode {
    let server = match started {
        Ok(server) => server,
        Err(e) => {
            eprintln!("{name}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let ctrl_c = match listen_for_ctrl_c() {
        Ok(ctrl_c) => ctrl_c,
        Err(e) => {
            eprintln!("{name}: cannot listen for Ctrl-C: {e}");
            return ExitCode::FAILURE;
        }
    };
    let addrs: Vec<String> = server.sockets().iter().map(|a| a.to_string()).collect();
    println!("Serving on {}", addrs.join(", "));
    tokio::select! {
        result = server.serve_forever() => {
            if let Err(e) = result {
                eprintln!("{name}: {e}");
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
