//! `aiostreams floor-serve`: the machine's floor for the bulk cells.
//!
//! No runtime at all: blocking `std::net` sockets, a thread per connection, `read` into a
//! 1 MiB buffer (and `write_all` it back in echo mode). What is left is the kernel's
//! loopback copy and the system calls; no async server can move bytes for less CPU.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use anyhow::{Result, bail};

use crate::mode::{ListenArgs, Mode};

/// Bytes per `read` call.
const BUF: usize = 1024 * 1024;

/// Serves until killed.
pub(crate) fn run(args: ListenArgs) -> Result<()> {
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
