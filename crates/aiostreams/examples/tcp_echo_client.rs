//! The asyncio docs' "TCP echo client using streams", with aiostreams.
//!
//! ```text
//! cargo run -p aiostreams --example tcp_echo_client -- [HOST] [PORT]
//! ```
//!
//! Connects to HOST:PORT (default 127.0.0.1 8888), sends `Hello World!`, prints what
//! comes back (up to 100 bytes) and closes. The Python original:
//!
//! ```python
//! async def tcp_echo_client(message):
//!     reader, writer = await asyncio.open_connection('127.0.0.1', 8888)
//!     print(f'Send: {message!r}')
//!     writer.write(message.encode())
//!     await writer.drain()
//!     data = await reader.read(100)
//!     print(f'Received: {data.decode()!r}')
//!     print('Close the connection')
//!     writer.close()
//!     await writer.wait_closed()
//! ```
//!
//! Run it against any echo server on port 8888, e.g. the asyncio docs' echo server.

use std::process::ExitCode;

use aiostreams::{Error, open_connection};

async fn tcp_echo_client(host: &str, port: u16, message: &str) -> Result<(), Error> {
    let (mut reader, writer) = open_connection(host, port).await?;
    println!("Send: '{message}'");
    writer.write(message.as_bytes())?;
    writer.drain().await?;
    let data = reader.read(100).await?;
    println!("Received: '{}'", String::from_utf8_lossy(&data));
    println!("Close the connection");
    writer.close();
    writer.wait_closed().await
}

fn parse_args() -> Result<(String, u16), String> {
    let mut args = std::env::args().skip(1);
    let host = args.next().unwrap_or_else(|| "127.0.0.1".to_owned());
    let port = match args.next() {
        Some(p) => p.parse().map_err(|_| format!("not a port: {p}"))?,
        None => 8888,
    };
    if let Some(extra) = args.next() {
        return Err(format!("unexpected argument: {extra}"));
    }
    Ok((host, port))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let (host, port) = match parse_args() {
        Ok(args) => args,
        Err(msg) => {
            eprintln!("tcp_echo_client: {msg}\nusage: tcp_echo_client [HOST] [PORT]");
            return ExitCode::from(2);
        }
    };
    match tcp_echo_client(&host, port, "Hello World!").await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tcp_echo_client: {host}:{port}: {e}");
            ExitCode::FAILURE
        }
    }
}
