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
//! The exchange after connecting (send, print, close) is in `common/mod.rs`, shared with
//! the TLS and Unix clients. Run it against any echo server on port 8888, e.g. the
//! `tcp_echo_server` example.

mod common;

use std::process::ExitCode;

use aiostreams::{Error, open_connection};

async fn tcp_echo_client(host: &str, port: u16, message: &str) -> Result<(), Error> {
    let (reader, writer) = open_connection(host, port).await?;
    common::echo_exchange(reader, writer, message).await
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let host = args.next().unwrap_or_else(|| "127.0.0.1".to_owned());
    let port = args.next().map_or(Ok(8888), |port| port.parse::<u16>());
    let (Ok(port), None) = (port, args.next()) else {
        eprintln!("tcp_echo_client: PORT is a number up to 65535, and nothing follows it");
        eprintln!("usage: tcp_echo_client [HOST] [PORT]");
        return ExitCode::from(2);
    };
    match tcp_echo_client(&host, port, "Hello World!").await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tcp_echo_client: {host}:{port}: {e}");
            ExitCode::FAILURE
        }
    }
}
