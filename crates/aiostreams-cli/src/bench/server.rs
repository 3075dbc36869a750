//! Starting each implementation's server as a child process, pinned to its own CPU.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};

use anyhow::{Context, Result, bail};

use super::cell::Impl;
use super::tls::TlsFiles;
use crate::mode::Mode;

/// The asyncio/uvloop server script, written to a temporary directory at run time.
const ASYNCIO_SERVER: &str = include_str!("../../bench/asyncio_server.py");

/// What is needed to start the servers.
#[derive(Debug)]
pub(crate) struct Launcher {
    /// This executable (`aiostreams serve`, `aiostreams raw-tokio-serve`).
    exe: PathBuf,
    /// The real Python interpreter (not a shim), when there is one.
    python: Option<PathBuf>,
    /// Where the asyncio script was written.
    script_dir: Option<PathBuf>,
    /// The CPU servers are pinned to, when `taskset` works.
    cpu: Option<usize>,
}

impl Launcher {
    /// Finds this executable and Python; writes the asyncio script if Python is there.
    pub(crate) fn new(cpu: Option<usize>) -> Result<Launcher> {
        let exe = std::env::current_exe().context("locating the aiostreams executable")?;
        let python = find_python();
        let script_dir = match &python {
            Some(_) => Some(write_script()?),
            None => None,
        };
        Ok(Launcher {
            exe,
            python,
            script_dir,
            cpu,
        })
    }

    /// Why `imp` cannot run here, if it cannot.
    pub(crate) fn unavailable(&self, imp: Impl) -> Option<String> {
        let python = match (imp, &self.python) {
            (Impl::Aiostreams | Impl::Tokio, _) => return None,
            (_, None) => return Some(format!("{} skipped: python3 not found", imp.name())),
            (_, Some(python)) => python,
        };
        let has_uvloop = || {
            let mut probe = Command::new(python);
            probe.args(["-c", "import uvloop"]).stderr(Stdio::null());
            probe.status().is_ok_and(|s| s.success())
        };
        (imp == Impl::Uvloop && !has_uvloop()).then(|| {
            "uvloop skipped: `python3 -c 'import uvloop'` fails (pip install uvloop)".into()
        })
    }

    /// Starts `imp`'s server in `mode` on an ephemeral loopback port; over TLS with
    /// `tls`'s certificate.
    pub(crate) fn start(&self, imp: Impl, mode: Mode, tls: Option<&TlsFiles>) -> Result<Server> {
        let program = self.program(imp);
        let mut cmd = Command::new(if self.cpu.is_some() {
            Path::new("taskset")
        } else {
            program
        });
        if let Some(cpu) = self.cpu {
            cmd.args(["-c", &cpu.to_string()]).arg(program);
        }
        cmd.args(self.args(imp, mode));
        if let Some(tls) = tls {
            cmd.arg("--tls-cert").arg(&tls.cert);
            cmd.arg("--tls-key").arg(&tls.key);
        }
        cmd.stdin(Stdio::null()).stdout(Stdio::piped());
        let child = cmd
            .spawn()
            .with_context(|| format!("starting the {} server", imp.name()))?;
        Server::wait_ready(child, imp)
    }

    fn program(&self, imp: Impl) -> &Path {
        match (imp, &self.python) {
            (Impl::Asyncio | Impl::Uvloop, Some(python)) => python,
            _ => &self.exe,
        }
    }

    fn args(&self, imp: Impl, mode: Mode) -> Vec<String> {
        let mode = mode.as_str().to_owned();
        let flags = ["--host", "127.0.0.1", "--port", "0", "--mode"].map(String::from);
        let script = || {
            self.script_dir
                .as_ref()
                .map(|d| d.join("asyncio_server.py"))
        };
        let script = script().unwrap_or_default().display().to_string();
        let mut args: Vec<String> = match imp {
            Impl::Aiostreams => vec!["serve".into(), "--runtime".into(), "current".into()],
            Impl::Tokio => vec!["raw-tokio-serve".into()],
            Impl::Asyncio | Impl::Uvloop => vec![script],
        };
        args.extend(flags);
        args.push(mode);
        if imp == Impl::Uvloop {
            args.push("--uvloop".into());
        }
        args
    }
}

impl Drop for Launcher {
    fn drop(&mut self) {
        if let Some(dir) = &self.script_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// The interpreter behind `python3` (`sys.executable`), so that no shim sits between
/// the bench and the server process it measures.
fn find_python() -> Option<PathBuf> {
    let out = Command::new("python3")
        .args(["-c", "import sys; print(sys.executable)"])
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let path = String::from_utf8(out.stdout).ok()?;
    let path = PathBuf::from(path.trim());
    (out.status.success() && path.is_file()).then_some(path)
}

fn write_script() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("aiostreams-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("asyncio_server.py"), ASYNCIO_SERVER)?;
    Ok(dir)
}

/// A running server child; killed when dropped.
#[derive(Debug)]
pub(crate) struct Server {
    child: Child,
    /// Kept open so the server never writes into a closed pipe.
    _stdout: BufReader<ChildStdout>,
    /// The port it listens on (127.0.0.1).
    pub(crate) port: u16,
}

impl Server {
    /// Reads the `Serving on HOST:PORT` line.
    fn wait_ready(mut child: Child, imp: Impl) -> Result<Server> {
        let mut stdout = BufReader::new(child.stdout.take().context("no server stdout")?);
        let mut line = String::new();
        stdout.read_line(&mut line)?;
        let port = line
            .trim()
            .strip_prefix("Serving on ")
            .and_then(|addr| addr.rsplit(':').next())
            .and_then(|port| port.parse().ok());
        let Some(port) = port else {
            let _ = child.kill();
            let status = child.wait()?;
            bail!(
                "the {} server did not start ({status}): {line:?}",
                imp.name()
            );
        };
        Ok(Server {
            child,
            _stdout: stdout,
            port,
        })
    }

    /// The server's process id (taskset execs the server, so it is the server's own).
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
