//! asyncio's subprocess streams: run a program with its standard streams as a
//! [`StreamWriter`](crate::StreamWriter) (stdin) and [`StreamReader`](crate::StreamReader)s
//! (stdout, stderr), on `tokio::process`.
//!
//! | asyncio | aiostreams |
//! |---|---|
//! | `await asyncio.create_subprocess_exec(prog, *args, stdin=, stdout=, stderr=, limit=)` | [`create_subprocess_exec`]`(prog, args, `[`Options`]`::new().stdin(..).stdout(..).stderr(..).limit(n))` |
//! | `await asyncio.create_subprocess_shell(cmd, ...)` | [`create_subprocess_shell`]`(cmd, options)` (`/bin/sh -c cmd`) |
//! | `cwd=`, `env=` and the other `Popen` keywords | [`Options::spawn`] with a configured [`std::process::Command`] |
//! | `subprocess.PIPE`, `DEVNULL`, `STDOUT`, `None` (inherit), a file / fd | [`PIPE`], [`DEVNULL`], [`STDOUT`], [`INHERIT`], [`Stdio::Fd`] |
//! | `proc.stdin`, `proc.stdout`, `proc.stderr` | [`Process::stdin`], [`Process::stdout`], [`Process::stderr`] |
//! | `await proc.communicate(input)` | [`Process::communicate`] -> `(Option<Bytes>, Option<Bytes>)` |
//! | `await proc.wait()`, `proc.returncode`, `proc.pid` | [`Process::wait`], [`Process::returncode`], [`Process::pid`] |
//! | `proc.send_signal(sig)`, `terminate()`, `kill()` | the same names |
//!
//! # Example
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), aiostreams::Error> {
//! use aiostreams::subprocess::{Options, PIPE, create_subprocess_exec};
//!
//! let options = Options::new().stdin(PIPE).stdout(PIPE);
//! let mut proc = create_subprocess_exec("cat", ["-"], options).await?;
//! let (stdout, stderr) = proc.communicate(Some(b"hello\n")).await?;
//! assert_eq!(stdout.as_deref(), Some(&b"hello\n"[..]));
//! assert_eq!(stderr, None); // not a pipe
//! assert_eq!(proc.returncode(), Some(0));
//! # Ok(()) }
//! ```

mod communicate;
mod options;
mod process;
mod spawn;

pub use options::{DEVNULL, INHERIT, Options, PIPE, STDOUT, Stdio};
pub use process::Process;
pub use spawn::{create_subprocess_exec, create_subprocess_shell};
