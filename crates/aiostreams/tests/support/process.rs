//! Child processes: run to completion with output captured, or kept running with their
//! output read line by line ([`Peer`]); killed when the test ends first. A program that
//! cannot start fails the test saying what it needs (Python, openssl).
#![cfg_attr(
    not(feature = "tls"),
    expect(dead_code, reason = "the kept-running peers are TLS interop peers")
)]

use std::ffi::OsStr;
use std::process::{ExitStatus, Output, Stdio};

use tokio::io::{AsyncBufRead, AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

/// `python3` (or `AIOSTREAMS_PYTHON`), unbuffered.
pub(crate) fn python() -> Command {
    let python = std::env::var("AIOSTREAMS_PYTHON").unwrap_or_else(|_| "python3".into());
    let mut command = Command::new(python);
    command.arg("-u");
    command
}

/// The `openssl` command-line tool.
pub(crate) fn openssl() -> Command {
    Command::new("openssl")
}

/// Why a program could not start, with what the tests need.
fn cannot_run(program: &OsStr, e: std::io::Error) -> ! {
    let program = program.to_string_lossy();
    let need = if program.contains("python") {
        "Python 3.8+ as `python3` on PATH (or AIOSTREAMS_PYTHON set)"
    } else if program == "openssl" {
        "the `openssl` command-line tool on PATH (Debian: apt-get install openssl)"
    } else {
        "the program"
    };
    panic!("cannot run `{program}` ({e}): these tests need {need}");
}

/// Runs a program to completion with stdin empty; killed if the test ends first.
pub(crate) async fn run(command: &mut Command) -> Output {
    let program = command.as_std().get_program().to_owned();
    command
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .unwrap_or_else(|e| cannot_run(&program, e))
}

/// Starts a program with stdin, stdout and stderr piped; killed if the test ends first.
pub(crate) fn spawn_piped(command: &mut Command) -> Child {
    let program = command.as_std().get_program().to_owned();
    command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| cannot_run(&program, e))
}

/// The stdout of a program that must have succeeded.
pub(crate) fn success_stdout(what: &str, out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{what}: {}; stdout:\n{stdout}stderr:\n{stderr}",
        out.status
    );
    stdout
}

/// A running program whose stdout and stderr arrive line by line (read continuously, so
/// it never blocks on a full pipe). Killed when dropped; its stdin stays open until then.
pub(crate) struct Peer {
    what: String,
    child: Child,
    /// Held open: the Python peers exit when it closes.
    _stdin: Option<ChildStdin>,
    stdout: mpsc::UnboundedReceiver<String>,
    stderr: mpsc::UnboundedReceiver<String>,
    stderr_seen: Vec<String>,
}

/// Forwards each line of `pipe` to a channel until EOF.
fn forward_lines(
    pipe: impl AsyncBufRead + Unpin + Send + 'static,
) -> mpsc::UnboundedReceiver<String> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut lines = pipe.lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl Peer {
    pub(crate) fn spawn(what: &str, command: &mut Command) -> Peer {
        let mut child = spawn_piped(command);
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let stderr = BufReader::new(child.stderr.take().expect("piped stderr"));
        Peer {
            what: what.to_owned(),
            _stdin: child.stdin.take(),
            child,
            stdout: forward_lines(stdout),
            stderr: forward_lines(stderr),
            stderr_seen: Vec::new(),
        }
    }

    /// The next line on stdout; `None` once the program closed it (ended).
    pub(crate) async fn try_stdout_line(&mut self) -> Option<String> {
        self.stdout.recv().await
    }

    /// The next line on stdout; fails the test with the stderr if the program ended.
    pub(crate) async fn stdout_line(&mut self) -> String {
        match self.stdout.recv().await {
            Some(line) => line,
            None => self.ended("printing another line").await,
        }
    }

    /// The next stdout line that starts with `prefix` (earlier lines are skipped).
    pub(crate) async fn stdout_line_starting(&mut self, prefix: &str) -> String {
        loop {
            let line = self.stdout_line().await;
            if line.starts_with(prefix) {
                return line;
            }
        }
    }

    /// The next stderr line containing `needle` (earlier lines are skipped).
    pub(crate) async fn stderr_line_containing(&mut self, needle: &str) -> String {
        loop {
            match self.stderr.recv().await {
                Some(line) if line.contains(needle) => return line,
                Some(line) => self.stderr_seen.push(line),
                None => return self.ended(&format!("printing {needle:?} on stderr")).await,
            }
        }
    }

    /// Waits for the program to exit.
    pub(crate) async fn wait(&mut self) -> ExitStatus {
        self.child.wait().await.expect("wait for the child")
    }

    /// The rest of stderr, once the program has ended.
    pub(crate) async fn rest_of_stderr(&mut self) -> String {
        while let Some(line) = self.stderr.recv().await {
            self.stderr_seen.push(line);
        }
        self.stderr_seen.join("\n")
    }

    /// Fails the test: the program ended before `doing`.
    async fn ended(&mut self, doing: &str) -> String {
        let status = self.wait().await;
        let stderr = self.rest_of_stderr().await;
        panic!(
            "{} ended ({status}) before {doing}; stderr:\n{stderr}",
            self.what
        );
    }

    /// Sends SIGINT (what Ctrl-C sends).
    pub(crate) fn interrupt(&self) {
        let pid = self.child.id().expect("still running").to_string();
        let kill = std::process::Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("run kill");
        assert!(kill.success(), "kill -INT {pid}: {kill}");
    }
}
