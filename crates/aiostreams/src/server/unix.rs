//! Unix listening sockets: stale-file removal, abstract names, clean-up on close.

use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use socket2::{Domain, SockAddr, Socket, Type};

use crate::Error;

/// The socket file a server removes on close, if it is still the one it created.
#[derive(Debug)]
pub(crate) struct Cleanup {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

impl Cleanup {
    /// Records `path`'s identity now (right after bind, or for a `sock=` listener).
    pub(crate) fn record(path: &Path) -> Option<Self> {
        let meta = std::fs::metadata(path).ok()?;
        Some(Cleanup {
            path: path.to_owned(),
            dev: meta.dev(),
            ino: meta.ino(),
        })
    }

    /// Removes the file unless it is gone or was replaced (asyncio 3.13).
    pub(crate) fn run(self) {
        if let Ok(meta) = std::fs::metadata(&self.path)
            && meta.dev() == self.dev
            && meta.ino() == self.ino
        {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Binds a Unix stream socket at `path`; a leading NUL byte makes a Linux abstract name.
///
/// An existing socket file at the path is a stale one and is removed first; any other
/// kind of file is left alone and binding fails.
pub(crate) fn bind_unix(path: &Path) -> Result<(Socket, Option<Cleanup>), Error> {
    let abstract_name = crate::net::is_abstract(path);
    if !abstract_name {
        remove_stale_socket(path);
    }
    let sock = Socket::new(Domain::UNIX, Type::STREAM, None)?;
    let addr = unix_addr(path)?;
    sock.bind(&addr).map_err(|e| bind_error(path, e))?;
    let cleanup = if abstract_name {
        None
    } else {
        Cleanup::record(path)
    };
    Ok((sock, cleanup))
}

/// socket2 builds a Linux abstract address from a path that starts with a NUL byte.
fn unix_addr(path: &Path) -> Result<SockAddr, Error> {
    Ok(SockAddr::unix(path)?)
}

fn remove_stale_socket(path: &Path) {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => {
            if let Err(e) = std::fs::remove_file(path) {
                tracing::error!(path = %path.display(), "unable to remove stale socket: {e}");
            }
        }
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => {
            tracing::error!(path = %path.display(), "unable to check for a stale socket: {e}")
        }
    }
}

/// asyncio: `OSError(EADDRINUSE, "Address '{path}' is already in use")`.
fn bind_error(path: &Path, e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::AddrInUse {
        return io::Error::new(
            e.kind(),
            format!("Address '{}' is already in use", path.display()),
        );
    }
    e
}
