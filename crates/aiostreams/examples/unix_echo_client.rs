//! The echo client over a Unix socket.
//!
//! ```text
//! cargo run -p aiostreams --example unix_echo_client -- PATH [MESSAGE]
//! ```
//!
//! The exchange after connecting (send, print, close) is in `common/mod.rs`, shared with
//! the TCP and TLS clients.

mod common;

use std::process::ExitCode;

use aiostreams::{Error, open_unix_connection};

async fn echo(path: &str, message: &str) -> Result<(), Error> {
    let (reader, writer) = open_unix_connection(path).await?;
    common::echo_exchange(reader, writer, message).await
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: unix_echo_client PATH [MESSAGE]");
        return ExitCode::from(2);
    };
    let message = args.next().unwrap_or_else(|| "Hello World!".to_owned());
    match echo(&path, &message).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("unix_echo_client: {path}: {e}");
            ExitCode::FAILURE
        }
    }
}
