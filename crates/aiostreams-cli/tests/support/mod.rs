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
use std::process::{Child, ChildStderr, ChildStdout, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

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

/// Runs `cmd` with `stdin` as its input and returns its stdout; panics unless it exits
/// with 0 (the message gives the exit code and stderr).
pub(crate) fn run_ok(cmd: Command, stdin: &[u8]) -> Vec<u8> {
    let output = run(cmd, stdin);
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Checks that `text` mentions each of `needles`.
pub(crate) fn assert_mentions(text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(text.contains(needle), "{needle:?} not in {text}");
    }
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

/// A child's stderr, read line by line in a thread (the child never blocks on a full
/// pipe), so a test can wait for a log line.
pub(crate) struct Log {
    lines: mpsc::Receiver<String>,
    /// Every line received so far.
    pub(crate) seen: Vec<String>,
}

impl Log {
    /// Starts reading `stderr`.
    pub(crate) fn capture(stderr: ChildStderr) -> Log {
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Log {
            lines,
            seen: Vec::new(),
        }
    }

    /// Waits (at most [`LIMIT`]) for a line containing `needle`, and returns it.
    pub(crate) fn wait_for(&mut self, needle: &str) -> String {
        if let Some(line) = self.seen.iter().find(|l| l.contains(needle)) {
            return line.clone();
        }
        let end = Instant::now() + LIMIT;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!("no log line with {needle:?}; got {:#?}", self.seen),
            }
        }
    }

    /// Every line until the child closed its stderr (it exited).
    pub(crate) fn rest(mut self) -> Vec<String> {
        let end = Instant::now() + LIMIT;
        loop {
            let left = end.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(mpsc::RecvTimeoutError::Disconnected) => return self.seen,
                Err(mpsc::RecvTimeoutError::Timeout) => panic!("stderr still open"),
            }
        }
    }
}

/// A running `aiostreams serve`, with the address from its `Serving on` line and its
/// stderr; killed when dropped (a failing test leaves no server behind).
pub(crate) struct Served {
    child: Option<Child>,
    stdout: Option<BufReader<ChildStdout>>,
    pub(crate) addr: String,
    /// Its stderr: the log.
    log: Option<Log>,
}

impl Served {
    /// Starts `aiostreams serve ARGS` and reads its first `Serving on` line.
    pub(crate) fn start(args: &[&str]) -> Served {
        Served::start_subcommand("serve", args)
    }

    /// Starts `aiostreams SUBCOMMAND ARGS` and reads its first `Serving on` line.
    pub(crate) fn start_subcommand(subcommand: &str, args: &[&str]) -> Served {
        let mut cmd = aiostreams();
        cmd.arg(subcommand).args(args);
        Served::spawn(cmd)
    }

    /// Starts `cmd` (a server's command line, maybe wrapped) and reads its first
    /// `Serving on` line.
    pub(crate) fn spawn(mut cmd: Command) -> Served {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn aiostreams serve");
        let log = Log::capture(child.stderr.take().unwrap());
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout
            .read_line(&mut line)
            .expect("read the Serving on line");
        let Some(addr) = line.trim_end().strip_prefix("Serving on ") else {
            let _ = child.kill();
            panic!("unexpected first line: {line:?}; stderr: {:#?}", log.rest());
        };
        Served {
            addr: addr.to_owned(),
            child: Some(child),
            stdout: Some(stdout),
            log: Some(log),
        }
    }

    /// Its stderr so far.
    pub(crate) fn log(&mut self) -> &mut Log {
        self.log.as_mut().expect("the log of a running server")
    }

    /// The TCP port it serves on.
    pub(crate) fn port(&self) -> String {
        self.addr.rsplit(':').next().unwrap().to_owned()
    }

    /// Sends SIGTERM; returns whether it exited with 0, and the rest of its stdout.
    pub(crate) fn terminate(self) -> (bool, String) {
        let (success, rest, _log) = self.terminate_logged();
        (success, rest)
    }

    /// Sends SIGTERM and checks the clean shutdown: exit 0 after its summary line with
    /// `graceful` connections closed gracefully and none aborted or cut while lingering.
    pub(crate) fn assert_clean_shutdown(self, graceful: usize) {
        let (success, rest) = self.terminate();
        assert!(success, "serve did not exit with 0; stdout: {rest:?}");
        let expected = format!("Shutdown: {graceful} graceful, 0 aborted, 0 cut lingering");
        assert!(
            rest.lines().any(|l| l == expected),
            "no {expected:?} in {rest:?}"
        );
    }

    /// Sends SIGTERM, checks that it exited with 0, and returns the shutdown summary line
    /// of its log.
    pub(crate) fn stop_with_summary(self) -> String {
        let (success, _, log) = self.terminate_logged();
        assert!(success, "serve did not exit with 0; log: {log:#?}");
        let line = log.iter().find(|l| l.contains("shutdown: "));
        line.unwrap_or_else(|| panic!("no shutdown summary in {log:#?}"))
            .clone()
    }

    /// [`stop_with_summary`](Self::stop_with_summary), and checks that the summary
    /// mentions each of `needles`.
    pub(crate) fn assert_summary_mentions(self, needles: &[&str]) {
        assert_mentions(&self.stop_with_summary(), needles);
    }

    /// As [`terminate`](Self::terminate), plus every line of its stderr.
    pub(crate) fn terminate_logged(mut self) -> (bool, String, Vec<String>) {
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
            Ok((status, rest)) => {
                let log = self.log.take().expect("the log").rest();
                (status.expect("wait for serve").success(), rest, log)
            }
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
