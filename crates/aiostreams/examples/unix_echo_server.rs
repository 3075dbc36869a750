//! The echo server over a Unix socket.
//!
//! ```text
//! cargo run -p aiostreams --example unix_echo_server -- PATH
//! ```
//!
//! Reads one message (up to 100 bytes) per client, echoes it back and closes the
//! connection. Serves until interrupted; Ctrl-C ends it cleanly and removes the socket.

use std::process::ExitCode;

use aiostreams::{Error, StreamReader, StreamWriter, start_unix_server};

async fn handle_echo(mut reader: StreamReader, writer: StreamWriter) -> Result<(), Error> {
    let data = reader.read(100).await?;
    let message = String::from_utf8_lossy(&data);
    println!("Received '{message}'");
    println!("Send: '{message}'");
    writer.write(&data)?;
    writer.drain().await?;
    println!("Close the connection");
    writer.close();
    writer.wait_closed().await
}

#[tokio::main]
async fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: unix_echo_server PATH");
        return ExitCode::from(2);
    };
    let server = match start_unix_server(handle_echo, &path).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("unix_echo_server: {e}");
            return ExitCode::FAILURE;
        }
    };
    let ctrl_c = match listen_for_ctrl_c() {
        Ok(ctrl_c) => ctrl_c,
        Err(e) => {
            eprintln!("unix_echo_server: cannot listen for Ctrl-C: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("Serving on {path}");
    tokio::select! {
        result = server.serve_forever() => {
            if let Err(e) = result {
                eprintln!("unix_echo_server: {e}");
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
