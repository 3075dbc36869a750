//! The echo client over a Unix socket.
//!
//! ```text
//! cargo run -p aiostreams --example unix_echo_client -- PATH [MESSAGE]
//! ```

use std::process::ExitCode;

use aiostreams::{Error, open_unix_connection};

async fn echo(path: &str, message: &str) -> Result<(), Error> {
    let (mut reader, writer) = open_unix_connection(path).await?;
    println!("Send: '{message}'");
    writer.write(message.as_bytes())?;
    writer.drain().await?;
    let data = reader.read(100).await?;
    println!("Received: '{}'", String::from_utf8_lossy(&data));
    println!("Close the connection");
    writer.close();
    writer.wait_closed().await
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
