//! Starting a child: `create_subprocess_exec`, `create_subprocess_shell`, [`Options::spawn`].

use std::ffi::OsStr;
use std::io;
use std::os::fd::AsFd;

use tokio::net::unix::pipe;

use super::options::{Options, Stdio};
use super::process::Process;
use crate::{Error, StreamReader, StreamWriter};

/// Runs `program` with `args` (no shell), its streams as `options` say.
///
/// asyncio: `await asyncio.create_subprocess_exec(program, *args, stdin=, stdout=,
/// stderr=, limit=)`. `program` is looked up in `PATH` as `execvp` does. Unlike
/// asyncio, a [`Process`] dropped while its child runs kills the child (asyncio kills it
/// when the garbage-collected transport closes, with a `ResourceWarning`).
///
/// # Errors
///
/// [`Error::Io`] when the program cannot be started (`NotFound`, `PermissionDenied`: the
/// `FileNotFoundError` / `PermissionError` of asyncio); [`Error::InvalidArgument`] for a
/// zero limit or [`STDOUT`](super::STDOUT) given for stdin or stdout.
///
/// # Cancel safety
///
/// The child is started without waiting, within the first poll.
///
/// # Panics
///
/// Outside a tokio runtime with I/O enabled.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
/// use aiostreams::subprocess::{Options, PIPE, create_subprocess_exec};
///
/// let options = Options::new().stdout(PIPE);
/// let mut proc = create_subprocess_exec("printf", ["a\\nb\\n"], options).await?;
/// let stdout = proc.stdout.as_mut().expect("piped");
/// assert_eq!(stdout.readline().await?, "a\n");
/// assert_eq!(stdout.readline().await?, "b\n");
/// assert_eq!(proc.wait().await?, 0);
/// # Ok(()) }
/// ```
pub async fn create_subprocess_exec<I, S>(
    program: impl AsRef<OsStr>,
    args: I,
    options: Options,
) -> Result<Process, Error>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = std::process::Command::new(program);
    command.args(args);
    options.spawn(command).await
}

/// Runs `cmd` through the shell (`/bin/sh -c cmd`), its streams as `options` say.
///
/// asyncio: `await asyncio.create_subprocess_shell(cmd, stdin=, stdout=, stderr=,
/// limit=)`. Quote what comes from users (the shell interprets `cmd`), or use
/// [`create_subprocess_exec`].
///
/// # Errors
///
/// As [`create_subprocess_exec`] (a command the shell cannot find is the shell's exit
/// status 127, not an error here).
///
/// # Cancel safety
///
/// As [`create_subprocess_exec`].
///
/// # Panics
///
/// Outside a tokio runtime with I/O enabled.
///
/// # Examples
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
/// use aiostreams::subprocess::{Options, create_subprocess_shell};
///
/// let mut proc = create_subprocess_shell("exit 3", Options::new()).await?;
/// assert_eq!(proc.wait().await?, 3);
/// # Ok(()) }
/// ```
pub async fn create_subprocess_shell(
    cmd: impl AsRef<OsStr>,
    options: Options,
) -> Result<Process, Error> {
    let mut command = std::process::Command::new("/bin/sh");
    command.arg("-c").arg(cmd);
    options.spawn(command).await
}

impl Options {
    /// Starts `command` (its program, arguments, `current_dir`, `env`, ... as set) with
    /// these streams and limit; what `command` said about its streams is replaced.
    ///
    /// asyncio: `create_subprocess_exec(..., cwd=, env=, ...)`, the `Popen` keywords.
    ///
    /// # Errors
    ///
    /// As [`create_subprocess_exec`].
    ///
    /// # Cancel safety
    ///
    /// As [`create_subprocess_exec`].
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime with I/O enabled.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::subprocess::{Options, PIPE};
    ///
    /// let mut command = std::process::Command::new("pwd");
    /// command.current_dir("/");
    /// let mut proc = Options::new().stdout(PIPE).spawn(command).await?;
    /// let (stdout, _) = proc.communicate(None).await?;
    /// assert_eq!(stdout.as_deref(), Some(&b"/\n"[..]));
    /// # Ok(()) }
    /// ```
    pub async fn spawn(self, command: std::process::Command) -> Result<Process, Error> {
        self.spawn_now(command)
    }

    fn spawn_now(self, command: std::process::Command) -> Result<Process, Error> {
        let limit = crate::sansio::check_limit(self.limit)?;
        let mut command = tokio::process::Command::from(command);
        // A merged stderr writes into stdout's pipe; that pipe is ours, not tokio's.
        let mut merged = None;
        let stdout = match (self.stdout, &self.stderr) {
            (Stdio::Pipe, Stdio::Stdout) => {
                let (read_end, write_end) = io::pipe()?;
                merged = Some(read_end);
                Stdio::Fd(write_end.into())
            }
            (stdout, _) => stdout,
        };
        let stderr = match self.stderr {
            Stdio::Stdout => duplicate(&stdout)?,
            stderr => stderr,
        };
        command
            .stdin(to_std(self.stdin)?)
            .stdout(to_std(stdout)?)
            .stderr(to_std(stderr)?)
            .kill_on_drop(true);
        let mut child = command.spawn()?;
        // The command holds our pipe's write ends: closed now, the reader sees EOF when
        // the child's copies close.
        drop(command);
        let stdin = child.stdin.take().map(StreamWriter::from_io);
        let stdout = match merged {
            Some(read_end) => Some(reader(
                pipe::Receiver::from_owned_fd(read_end.into())?,
                limit,
            )),
            None => child.stdout.take().map(|out| reader(out, limit)),
        };
        let stderr = child.stderr.take().map(|err| reader(err, limit));
        Ok(Process::new(child, stdin, stdout, stderr))
    }
}

fn reader(io: impl tokio::io::AsyncRead + Send + Unpin + 'static, limit: usize) -> StreamReader {
    StreamReader::from_io_with_limit(io, limit).expect("the limit was checked")
}

/// `STDOUT` for stderr: where stdout goes, once more.
fn duplicate(stdout: &Stdio) -> Result<Stdio, Error> {
    Ok(match stdout {
        Stdio::Inherit => Stdio::Fd(io::stdout().as_fd().try_clone_to_owned()?),
        Stdio::DevNull => Stdio::DevNull,
        Stdio::Fd(fd) => Stdio::Fd(fd.try_clone()?),
        // A piped stdout is an `Fd` by now; `STDOUT` for stdout is refused.
        Stdio::Pipe | Stdio::Stdout => return Err(only_for_stderr()),
    })
}

fn only_for_stderr() -> Error {
    Error::InvalidArgument("STDOUT can only be used for stderr")
}

fn to_std(stdio: Stdio) -> Result<std::process::Stdio, Error> {
    Ok(match stdio {
        Stdio::Inherit => std::process::Stdio::inherit(),
        Stdio::Pipe => std::process::Stdio::piped(),
        Stdio::DevNull => std::process::Stdio::null(),
        Stdio::Fd(fd) => std::process::Stdio::from(fd),
        Stdio::Stdout => return Err(only_for_stderr()),
    })
}
