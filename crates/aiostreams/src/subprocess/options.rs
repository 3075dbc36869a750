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
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::subprocess::{Options, create_subprocess_exec};
    ///
    /// let mut proc = create_subprocess_exec("true", [""; 0], Options::new()).await?;
    /// // Nothing piped: the child uses the parent's stdin, stdout and stderr.
    /// assert!(proc.stdin.is_none() && proc.stdout.is_none() && proc.stderr.is_none());
    /// assert_eq!(proc.wait().await?, 0);
    /// # Ok(()) }
    /// ```
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
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::subprocess::{Options, PIPE, create_subprocess_exec};
    ///
    /// let options = Options::new().stdin(PIPE).stdout(PIPE);
    /// let mut proc = create_subprocess_exec("wc", ["-l"], options).await?;
    /// let stdin = proc.stdin.take().expect("piped");
    /// stdin.write(b"one\ntwo\nthree\n")?;
    /// stdin.close(); // the child sees EOF
    /// stdin.wait_closed().await?;
    /// let counted = proc.stdout.as_mut().expect("piped").read_to_eof().await?;
    /// assert_eq!(std::str::from_utf8(&counted).unwrap().trim(), "3");
    /// assert_eq!(proc.wait().await?, 0);
    /// # Ok(()) }
    /// ```
    pub fn stdin(mut self, stdin: impl Into<Stdio>) -> Self {
        self.stdin = stdin.into();
        self
    }

    /// The child's stdout (asyncio `stdout=`); [`PIPE`] makes
    /// [`Process::stdout`](super::Process::stdout) a reader.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::subprocess::{DEVNULL, Options, PIPE, create_subprocess_shell};
    ///
    /// let piped = Options::new().stdout(PIPE);
    /// let mut proc = create_subprocess_shell("echo hello", piped).await?;
    /// assert_eq!(proc.stdout.as_mut().expect("piped").readline().await?, "hello\n");
    /// proc.wait().await?;
    ///
    /// let discarded = Options::new().stdout(DEVNULL);
    /// let mut proc = create_subprocess_shell("echo lost", discarded).await?;
    /// assert!(proc.stdout.is_none());
    /// assert_eq!(proc.wait().await?, 0);
    /// # Ok(()) }
    /// ```
    pub fn stdout(mut self, stdout: impl Into<Stdio>) -> Self {
        self.stdout = stdout.into();
        self
    }

    /// The child's stderr (asyncio `stderr=`); [`STDOUT`] sends it where stdout goes.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::subprocess::{Options, PIPE, create_subprocess_shell};
    ///
    /// let options = Options::new().stdout(PIPE).stderr(PIPE);
    /// let mut proc = create_subprocess_shell("echo out; echo err >&2; exit 3", options).await?;
    /// let (stdout, stderr) = proc.communicate(None).await?;
    /// assert_eq!(stdout.as_deref(), Some(&b"out\n"[..]));
    /// assert_eq!(stderr.as_deref(), Some(&b"err\n"[..]));
    /// assert_eq!(proc.returncode(), Some(3));
    /// # Ok(()) }
    /// ```
    pub fn stderr(mut self, stderr: impl Into<Stdio>) -> Self {
        self.stderr = stderr.into();
        self
    }

    /// The limit of the stdout and stderr readers (asyncio `limit=`, 64 KiB): the
    /// longest line [`readline`](crate::StreamReader::readline) returns. Checked when the
    /// child is started.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::Error;
    /// use aiostreams::subprocess::{Options, PIPE, create_subprocess_shell};
    ///
    /// let options = Options::new().stdout(PIPE).limit(4);
    /// let mut proc = create_subprocess_shell("echo ok; echo too-long", options).await?;
    /// let stdout = proc.stdout.as_mut().expect("piped");
    /// assert_eq!(stdout.readline().await?, "ok\n");
    /// assert!(matches!(stdout.readline().await, Err(Error::LimitOverrun { .. })));
    /// proc.wait().await?;
    ///
    /// let zero = create_subprocess_shell("true", Options::new().stdout(PIPE).limit(0)).await;
    /// assert!(matches!(zero, Err(Error::InvalidArgument(_))));
    /// # Ok(()) }
    /// ```
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit;
        self
    }
}
