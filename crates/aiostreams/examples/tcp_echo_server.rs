//! The asyncio docs' "TCP echo server using streams", on aiostreams.
//!
//! ```text
//! cargo run -p aiostreams --example tcp_echo_server -- [HOST PORT]   # default 127.0.0.1 8888
//! ```
//!
//! Reads one message (up to 100 bytes) per client, echoes it back and closes the
//! connection. Serves until interrupted; Ctrl-C ends it cleanly. The handler
//! (`handle_echo`, as in the asyncio docs) and the serving loop are in `common/mod.rs`,
//! shared with the TLS and Unix servers. The Python original:
//!
//! ```python
//! server = await asyncio.start_server(handle_echo, '127.0.0.1', 8888)
//! async with server:
//!     await server.serve_forever()
//! ```

mod common;

use std::process::ExitCode;

use aiostreams::start_server;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (host, port) = match args.as_slice() {
        [] => ("127.0.0.1", 8888),
        [host, port] => match port.parse::<u16>() {
            Ok(port) => (host.as_str(), port),
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
    let started = start_server(common::handle_echo, host, port).await;
    common::serve_until_ctrl_c("tcp_echo_server", started).await
}
