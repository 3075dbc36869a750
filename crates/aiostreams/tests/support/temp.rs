//! Temporary directories and socket paths (`tempfile`), removed with their contents on
//! drop, so that no test leaves files behind or collides with another one.

use std::path::{Path, PathBuf};

/// A fresh directory under the system temp dir, removed with its contents on drop.
#[derive(Debug)]
pub(crate) struct TempDir(tempfile::TempDir);

impl TempDir {
    /// A new directory named `aiostreams-<tag>-<random>`.
    pub(crate) fn new(tag: &str) -> TempDir {
        let dir = tempfile::Builder::new()
            .prefix(&format!("aiostreams-{tag}-"))
            .tempdir()
            .expect("create a temp dir");
        TempDir(dir)
    }

    pub(crate) fn path(&self) -> &Path {
        self.0.path()
    }

    /// Writes `contents` to `name` inside the directory and returns the path.
    #[allow(
        dead_code,
        reason = "only the TLS tests write files: unused without `tls`"
    )]
    pub(crate) fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.path().join(name);
        std::fs::write(&path, contents).expect("write a temp file");
        path
    }
}

/// A path no file has yet (for a Unix socket), in a directory of its own that is removed
/// on drop.
#[derive(Debug)]
pub(crate) struct TempPath {
    path: PathBuf,
    _dir: TempDir,
}

impl TempPath {
    /// `<a fresh dir>/<name>.sock`.
    pub(crate) fn new(name: &str) -> TempPath {
        let dir = TempDir::new("sock");
        TempPath {
            path: dir.path().join(format!("{name}.sock")),
            _dir: dir,
        }
    }
}

impl AsRef<Path> for TempPath {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl std::ops::Deref for TempPath {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.path
    }
}
