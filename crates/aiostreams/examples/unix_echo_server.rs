//! The echo server over a Unix socket.
//!
//! ```text
//! cargo run -p aiostreams --example unix_echo_server -- PATH
//! ```
//!
//! Reads one message (up to 100 bytes) per client, echoes it back and closes the
//! connection. Serves until interrupted; Ctrl-C ends it cleanly and removes the socket.
//! The handler and the serving loop are in `common/mod.rs`, shared with the TCP and TLS
//! servers.

mod common;

use std::process::ExitCode;

use aiostreams::start_unix_server;

#[tokio::main]
async fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: unix_echo_server PATH");
        return ExitCode::from(2);
    };
    let started = start_unix_server(common::handle_echo, &path).await;
    common::serve_until_ctrl_c("unix_echo_server", started).await
}
