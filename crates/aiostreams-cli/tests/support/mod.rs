//! Helpers shared by the CLI tests: run the binary, bounded in time.

pub(crate) mod certs;
// The library's certificate generator and temp dirs, shared by path rather than copied
// (see docs/DESIGN.md, "Tests: one binary, one support module").
#[path = "../../../aiostreams/tests/support/layout.rs"]
pub(crate) mod layout;
#[path = "../../../aiostreams/tests/support/certs.rs"]
#[allow(
    dead_code,
    reason = "the CLI tests need only part of the library's generator"
)]
mod pki;
#[path = "../../../aiostreams/tests/support/temp.rs"]
pub(crate) mod temp;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// No command of the tests may take longer than this.
pub(crate) const LIMIT: Duration = Duration::from_secs(60);

/// The `aiostreams` binary under test.
pub(crate) fn aiostreams() -> Command {
    Command::new(env!("CARGO_BIN_EXE_aiostreams"))
}

/// Runs `cmd` with `stdin` as its input; panics when it outlives [`LIMIT`].
pub(crate) fn run(mut cmd: Command, stdin: &[u8]) -> Output {
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn aiostreams");
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || input.write_all(&data));
    let output = wait(child);
    writer.join().unwrap().expect("write stdin");
    output
}

/// Waits for `child` to exit and collects its output; kills it after [`LIMIT`].
pub(crate) fn wait(child: Child) -> Output {
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait_with_output()));
    match rx.recv_timeout(LIMIT) {
        Ok(output) => output.expect("wait for aiostreams"),
        Err(_) => {
            signal(pid, "KILL");
            panic!("aiostreams (pid {pid}) did not exit within {LIMIT:?}");
        }
    }
}

/// Sends `SIGNAL` (e.g. `TERM`) to `pid` with kill(1).
pub(crate) fn signal(pid: u32, name: &str) {
    let status = Command::new("kill")
        .arg(format!("-{name}"))
        .arg(pid.to_string())
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -{name} {pid} failed");
}

/// A running `aiostreams serve`, with the address from its `Serving on` line; killed
/// when dropped (a failing test leaves no server behind).
pub(crate) struct Served {
    child: Option<Child>,
    stdout: Option<BufReader<ChildStdout>>,
    pub(crate) addr: String,
}

impl Served {
    /// Starts `aiostreams serve ARGS` and reads its first `Serving on` line.
    pub(crate) fn start(args: &[&str]) -> Served {
        Served::start_subcommand("serve", args)
    }

    /// Starts `aiostreams SUBCOMMAND ARGS` and reads its first `Serving on` line.
    pub(crate) fn start_subcommand(subcommand: &str, args: &[&str]) -> Served {
        let mut child = aiostreams()
            .arg(subcommand)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn aiostreams serve");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .expect("read the Serving on line");
        let addr = line
            .trim_end()
            .strip_prefix("Serving on ")
            .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
            .to_owned();
        Served {
            child: Some(child),
            stdout: Some(stdout),
            addr,
        }
    }

    /// The TCP port it serves on.
    pub(crate) fn port(&self) -> String {
        self.addr.rsplit(':').next().unwrap().to_owned()
    }

    /// Sends SIGTERM; returns whether it exited with 0, and the rest of its stdout.
    pub(crate) fn terminate(mut self) -> (bool, String) {
        let mut child = self.child.take().unwrap();
        let mut stdout = self.stdout.take().unwrap();
        let pid = child.id();
        signal(pid, "TERM");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = stdout.read_to_string(&mut rest);
            tx.send((child.wait(), rest))
        });
        match rx.recv_timeout(LIMIT) {
            Ok((status, rest)) => (status.expect("wait for serve").success(), rest),
            Err(_) => {
                signal(pid, "KILL");
                panic!("aiostreams serve (pid {pid}) did not exit after SIGTERM");
            }
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
