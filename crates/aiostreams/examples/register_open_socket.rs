//! The asyncio docs' "Register an open socket to wait for data using streams".
//!
//! ```text
//! cargo run -p aiostreams --example register_open_socket
//! ```
//!
//! One end of a Unix socket pair is handed to aiostreams as an already connected socket
//! (asyncio's `open_connection(sock=rsock)`); the other end sends `abc` from a plain
//! thread, and the stream reader receives it. The Python original:
//!
//! ```python
//! async def wait_for_data():
//!     loop = asyncio.get_running_loop()
//!     rsock, wsock = socket.socketpair()
//!     reader, writer = await asyncio.open_connection(sock=rsock)
//!     loop.call_soon(wsock.send, 'abc'.encode())
//!     data = await reader.read(100)
//!     print("Received:", data.decode())
//!     writer.close()
//!     await writer.wait_closed()
//!     wsock.close()
//! ```
//!
//! Unix only (socket pairs). Prints `Received: 'abc'`.

#[cfg(unix)]
async fn wait_for_data() -> Result<(), Box<dyn std::error::Error>> {
    use std::io::Write;
    use std::os::unix::net::UnixStream;

    let (rsock, mut wsock) = UnixStream::pair()?;
    // Registering with the runtime needs to happen inside it (as asyncio needs its loop).
    let (mut reader, writer) = aiostreams::ConnectOptions::new()
        .connect_sock(rsock)
        .await?;
    // `loop.call_soon(wsock.send, ...)`: the write happens while the reader waits.
    let sender = std::thread::spawn(move || wsock.write_all(b"abc").map(|()| wsock));
    let data = reader.read(100).await?;
    println!("Received: '{}'", String::from_utf8_lossy(&data));
    writer.close();
    writer.wait_closed().await?;
    let wsock = sender.join().expect("sender thread")?;
    drop(wsock); // wsock.close()
    Ok(())
}

#[cfg(unix)]
#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    match wait_for_data().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("register_open_socket: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(not(unix))]
fn main() {
    eprintln!("register_open_socket: Unix socket pairs are needed (Unix only)");
}
