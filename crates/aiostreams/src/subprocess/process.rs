//! [`Process`]: a running child, its streams, its exit status and its signals.

use std::fmt;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use rustix::process::{Pid, Signal, kill_process};

use crate::{Error, StreamReader, StreamWriter};

/// A child process started by [`create_subprocess_exec`](super::create_subprocess_exec)
/// or [`create_subprocess_shell`](super::create_subprocess_shell).
///
/// asyncio: `asyncio.subprocess.Process`. The streams are public fields, as asyncio's
/// attributes (and tokio's `Child`): take them to move them into other tasks. Dropping a
/// `Process` whose child still runs kills the child (asyncio kills it when its transport
/// is garbage-collected); the child is reaped in the background.
#[must_use = "dropping a Process kills its child: keep it, or await `wait()`"]
pub struct Process {
    /// The child's stdin when started with [`PIPE`](super::PIPE), else `None`.
    /// [`close`](StreamWriter::close) (or `write_eof`) closes the pipe: the child sees EOF.
    pub stdin: Option<StreamWriter>,
    /// The child's stdout when started with [`PIPE`](super::PIPE), else `None`.
    pub stdout: Option<StreamReader>,
    /// The child's stderr when started with [`PIPE`](super::PIPE), else `None`.
    pub stderr: Option<StreamReader>,
    child: tokio::process::Child,
    pid: u32,
    returncode: Option<i32>,
}

impl Process {
    pub(super) fn new(
        child: tokio::process::Child,
        stdin: Option<StreamWriter>,
        stdout: Option<StreamReader>,
        stderr: Option<StreamReader>,
    ) -> Self {
        Process {
            pid: child.id().unwrap_or_default(),
            stdin,
            stdout,
            stderr,
            child,
            returncode: None,
        }
    }

    /// The child's process id. asyncio: `proc.pid`.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::subprocess::{Options, PIPE, create_subprocess_shell};
    ///
    /// let mut proc = create_subprocess_shell("echo $$", Options::new().stdout(PIPE)).await?;
    /// let (stdout, _) = proc.communicate(None).await?;
    /// let reported = String::from_utf8(stdout.expect("piped").to_vec()).unwrap();
    /// assert_eq!(reported.trim(), proc.pid().to_string()); // the shell's own $$
    /// # Ok(()) }
    /// ```
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The exit status once the child has exited: its exit code, or `-N` when signal `N`
    /// ended it; `None` while it runs.
    ///
    /// asyncio: `proc.returncode`. asyncio's is set by its child watcher as soon as the
    /// child exits; this asks the system each time until it knows (hence `&mut self`).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::subprocess::{Options, create_subprocess_exec};
    ///
    /// let mut proc = create_subprocess_exec("sleep", ["30"], Options::new()).await?;
    /// assert_eq!(proc.returncode(), None); // still running
    /// proc.kill()?;
    /// proc.wait().await?;
    /// assert_eq!(proc.returncode(), Some(-9)); // ended by SIGKILL
    /// # Ok(()) }
    /// ```
    pub fn returncode(&mut self) -> Option<i32> {
        if self.returncode.is_none()
            && let Ok(Some(status)) = self.child.try_wait()
        {
            self.returncode = Some(code_of(status));
        }
        self.returncode
    }

    /// Waits for the child to exit; its [`returncode`](Self::returncode).
    ///
    /// asyncio: `await proc.wait()`. As asyncio warns: with stdout or stderr piped, a
    /// child that writes more than the pipe holds blocks until someone reads, so waiting
    /// without reading can wait forever; use [`communicate`](Self::communicate). It
    /// returns when the child exits (asyncio 3.12+ also waits for the pipes to close);
    /// output still in the pipes stays readable.
    ///
    /// # Errors
    ///
    /// [`Error::Io`] if the system cannot report the child's status.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: call it again to go on waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::subprocess::{Options, create_subprocess_exec};
    ///
    /// let mut proc = create_subprocess_exec("true", [""; 0], Options::new()).await?;
    /// assert_eq!(proc.wait().await?, 0);
    /// assert_eq!(proc.returncode(), Some(0));
    /// # Ok(()) }
    /// ```
    pub async fn wait(&mut self) -> Result<i32, Error> {
        if let Some(code) = self.returncode {
            return Ok(code);
        }
        let code = code_of(self.child.wait().await?);
        self.returncode = Some(code);
        Ok(code)
    }

    /// Sends signal `signal` (e.g. `libc::SIGHUP`) to the child.
    ///
    /// asyncio: `proc.send_signal(signal)`. A child that exited but was not waited for
    /// yet is not an error (as asyncio ignores `ProcessLookupError` then).
    ///
    /// # Errors
    ///
    /// [`Error::Io`] with `ESRCH` (asyncio's `ProcessLookupError`) once the exit status
    /// is known (the pid may belong to another process by then);
    /// [`Error::InvalidArgument`] for a number that is not a signal.
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::subprocess::{Options, create_subprocess_exec};
    ///
    /// let mut proc = create_subprocess_exec("sleep", ["30"], Options::new()).await?;
    /// proc.send_signal(15)?; // SIGTERM
    /// assert_eq!(proc.wait().await?, -15);
    /// assert!(proc.send_signal(15).is_err()); // ProcessLookupError
    /// # Ok(()) }
    /// ```
    pub fn send_signal(&mut self, signal: i32) -> Result<(), Error> {
        let signal = Signal::from_named_raw(signal)
            .ok_or(Error::InvalidArgument("invalid signal number"))?;
        if self.returncode().is_some() {
            return Err(
                io::Error::from_raw_os_error(rustix::io::Errno::SRCH.raw_os_error()).into(),
            );
        }
        // Not reaped yet (only we reap it), so the pid is still the child's.
        let pid = i32::try_from(self.pid).ok().and_then(Pid::from_raw);
        match pid.map(|pid| kill_process(pid, signal)) {
            Some(Err(e)) if e != rustix::io::Errno::SRCH => Err(io::Error::from(e).into()),
            _ => Ok(()),
        }
    }

    /// Sends `SIGTERM`. asyncio: `proc.terminate()`.
    ///
    /// # Errors
    ///
    /// As [`send_signal`](Self::send_signal).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::subprocess::{Options, create_subprocess_exec};
    ///
    /// let mut proc = create_subprocess_exec("sleep", ["30"], Options::new()).await?;
    /// proc.terminate()?;
    /// assert_eq!(proc.wait().await?, -15); // SIGTERM
    /// # Ok(()) }
    /// ```
    pub fn terminate(&mut self) -> Result<(), Error> {
        self.send_signal(Signal::TERM.as_raw())
    }

    /// Sends `SIGKILL`. asyncio: `proc.kill()`.
    ///
    /// # Errors
    ///
    /// As [`send_signal`](Self::send_signal).
    ///
    /// # Examples
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
    /// use aiostreams::subprocess::{Options, create_subprocess_exec};
    ///
    /// let mut proc = create_subprocess_exec("sleep", ["30"], Options::new()).await?;
    /// proc.kill()?;
    /// assert_eq!(proc.wait().await?, -9);
    /// assert!(proc.kill().is_err()); // ProcessLookupError once it is reaped
    /// # Ok(()) }
    /// ```
    pub fn kill(&mut self) -> Result<(), Error> {
        self.send_signal(Signal::KILL.as_raw())
    }
}

/// asyncio's `returncode`: the exit code, or minus the signal that ended the child.
fn code_of(status: ExitStatus) -> i32 {
    status
        .code()
        .or_else(|| status.signal().map(|s| -s))
        .unwrap_or_default()
}

impl fmt::Debug for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<Process {}>", self.pid)
    }
}
