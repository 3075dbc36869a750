//! `aiostreams floor-serve`: the machine's floor for the bulk cells.
//!
//! No runtime at all: blocking `std::net` sockets, a thread per connection, `read` into a
//! 1 MiB buffer (and `write_all` it back in echo mode). What is left is the kernel's
//! loopback copy and the system calls; no async server can move bytes for less CPU.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use anyhow::{Result, bail};

use crate::mode::Mode;

/// Bytes per `read` call.
const BUF: usize = 1024 * 1024;

/// `floor-serve` flags.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// echo or discard.
    #[arg(long, value_enum)]
    mode: Mode,
}

/// Serves until killed.
pub(crate) fn run(args: Args) -> Result<()> {
    if !matches!(args.mode, Mode::Echo | Mode::Discard) {
        bail!("floor-serve supports echo and discard");
    }
    let listener = TcpListener::bind((args.host.as_str(), args.port))?;
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "Serving on {}", listener.local_addr()?)?;
        out.flush()?;
    }
    for stream in listener.incoming() {
        let stream = stream?;
        let mode = args.mode;
        std::thread::spawn(move || serve(mode, stream));
    }
    Ok(())
}

fn serve(mode: Mode, mut stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut buf = vec![0u8; BUF];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        if mode == Mode::Echo {
            stream.write_all(&buf[..n])?;
        }
    }
}
