//! [`Options`] and [`Stdio`]: asyncio's `stdin=`, `stdout=`, `stderr=` and `limit=`.

use std::fs::File;
use std::os::fd::OwnedFd;

use crate::DEFAULT_LIMIT;

/// Where one of the child's standard streams goes (asyncio's `stdin=`, `stdout=`,
/// `stderr=` values).
#[derive(Debug)]
#[non_exhaustive]
pub enum Stdio {
    /// The parent's stream (asyncio's default, `None`).
    Inherit,
    /// A new pipe, exposed as [`Process::stdin`](super::Process::stdin),
    /// [`Process::stdout`](super::Process::stdout) or
    /// [`Process::stderr`](super::Process::stderr) (`subprocess.PIPE`).
    Pipe,
    /// `/dev/null` (`subprocess.DEVNULL`).
    DevNull,
    /// For `stderr` only: the same place as stdout, its pipe included
    /// (`subprocess.STDOUT`).
    Stdout,
    /// An open file or descriptor (asyncio accepts a file object or an fd).
    Fd(OwnedFd),
}

/// [`Stdio::Pipe`], asyncio's `subprocess.PIPE`.
pub const PIPE: Stdio = Stdio::Pipe;
/// [`Stdio::DevNull`], asyncio's `subprocess.DEVNULL`.
pub const DEVNULL: Stdio = Stdio::DevNull;
/// [`Stdio::Stdout`], asyncio's `subprocess.STDOUT` (for `stderr`).
pub const STDOUT: Stdio = Stdio::Stdout;
/// [`Stdio::Inherit`], asyncio's `None`.
pub const INHERIT: Stdio = Stdio::Inherit;

impl From<OwnedFd> for Stdio {
    fn from(fd: OwnedFd) -> Self {
        Stdio::Fd(fd)
    }
}

impl From<File> for Stdio {
    fn from(file: File) -> Self {
        Stdio::Fd(file.into())
    }
}

/// How to start a child: its standard streams and the limit of its readers.
///
/// asyncio: the keywords of `create_subprocess_exec` / `create_subprocess_shell`
/// (`stdin=None, stdout=None, stderr=None, limit=_DEFAULT_LIMIT`). Everything else
/// `subprocess.Popen` takes (`cwd=`, `env=`, ...) is set on a [`std::process::Command`]
/// given to [`spawn`](Self::spawn).
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
/// use aiostreams::subprocess::{Options, PIPE, STDOUT, create_subprocess_shell};
///
/// let options = Options::new().stdout(PIPE).stderr(STDOUT);
/// let mut proc = create_subprocess_shell("echo out; echo err >&2", options).await?;
/// let (both, _) = proc.communicate(None).await?;
/// assert_eq!(both.as_deref(), Some(&b"out\nerr\n"[..]));
/// # Ok(()) }
/// ```
#[derive(Debug)]
#[must_use]
pub struct Options {
    pub(super) stdin: Stdio,
    pub(super) stdout: Stdio,
    pub(super) stderr: Stdio,
    pub(super) limit: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options::new()
    }
}

impl Options {
    /// Every stream inherited, limit [`DEFAULT_LIMIT`] (asyncio's defaults).
    pub fn new() -> Self {
        Options {
            stdin: Stdio::Inherit,
            stdout: Stdio::Inherit,
            stderr: Stdio::Inherit,
            limit: DEFAULT_LIMIT,
        }
    }

    /// The child's stdin (asyncio `stdin=`); [`PIPE`] makes
    /// [`Process::stdin`](super::Process::stdin) a writer.
    pub fn stdin(mut self, stdin: impl Into<Stdio>) -> Self {
        self.stdin = stdin.into();
        self
    }

    /// The child's stdout (asyncio `stdout=`); [`PIPE`] makes
    /// [`Process::stdout`](super::Process::stdout) a reader.
    pub fn stdout(mut self, stdout: impl Into<Stdio>) -> Self {
        self.stdout = stdout.into();
        self
    }

    /// The child's stderr (asyncio `stderr=`); [`STDOUT`] sends it where stdout goes.
    pub fn stderr(mut self, stderr: impl Into<Stdio>) -> Self {
        self.stderr = stderr.into();
        self
    }

    /// The limit of the stdout and stderr readers (asyncio `limit=`, 64 KiB): the
    /// longest line [`readline`](crate::StreamReader::readline) returns. Checked when the
    /// child is started.
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }
}
