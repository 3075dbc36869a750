//! The asyncio docs' "TCP echo server using streams", on aiostreams.
//!
//! ```text
//! cargo run -p aiostreams --example tcp_echo_server -- [HOST PORT]   # default 127.0.0.1 8888
//! ```
//!
//! Reads one message (up to 100 bytes) per client, echoes it back and closes the
//! connection. Serves until interrupted; Ctrl-C ends it cleanly.

use std::process::ExitCode;

use aiostreams::{Error, StreamReader, StreamWriter, start_server};

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

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (host, port) = match args.as_slice() {
        [] => ("127.0.0.1".to_owned(), 8888),
        [host, port] => match port.parse::<u16>() {
            Ok(port) => (host.clone(), port),
            Err(_) => {
                eprintln!("tcp_echo_server: bad port {port:?}");
                return ExitCode::from(2);
            }
        },
        _ => {
            eprintln!("usage: tcp_echo_server [HOST PORT]");
            return ExitCode::from(2);
        }
    };
    let server = match start_server(handle_echo, host.as_str(), port).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!("tcp_echo_server: {e}");
            return ExitCode::FAILURE;
        }
    };
    let ctrl_c = match listen_for_ctrl_c() {
        Ok(ctrl_c) => ctrl_c,
        Err(e) => {
            eprintln!("tcp_echo_server: cannot listen for Ctrl-C: {e}");
            return ExitCode::FAILURE;
        }
    };
    let addrs: Vec<String> = server.sockets().iter().map(|a| a.to_string()).collect();
    println!("Serving on {}", addrs.join(", "));
    tokio::select! {
        result = server.serve_forever() => {
            if let Err(e) = result {
                eprintln!("tcp_echo_server: {e}");
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
