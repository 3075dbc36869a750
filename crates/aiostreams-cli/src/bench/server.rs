//! Starting each implementation's server as a child process, pinned to its own CPU.

use std::cell::OnceCell;
use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::cell::{Cell, Impl};
use super::python_package::{self, Package};
use super::tls::TlsFiles;

/// The asyncio/uvloop server script, written to a temporary directory at run time.
const ASYNCIO_SERVER: &str = include_str!("../../bench/asyncio_server.py");

/// How long a stopped server may take to exit (and, under callgrind, write its counts).
const STOP_TIMEOUT: Duration = Duration::from_secs(60);

/// The bulk cells' read size for the tokio server ("large buffers") and aiostreams'
/// `read(n)`.
const BULK_BUF: usize = 1024 * 1024;

/// What is needed to start the servers.
#[derive(Debug)]
pub(crate) struct Launcher {
    /// This executable (`aiostreams serve`, `aiostreams raw-tokio-serve`, ...).
    exe: PathBuf,
    /// The real Python interpreter (not a shim), when there is one.
    python: Option<PathBuf>,
    /// Where the asyncio script was written.
    script_dir: Option<PathBuf>,
    /// The CPU servers are pinned to, when `taskset` works.
    cpu: Option<usize>,
    /// `bench --timeouts`: `aiostreams serve` runs with read, write and idle timeouts.
    pub(crate) timeouts: bool,
    /// The Python package built from this tree (or why not), made on first need.
    package: OnceCell<Result<Package, String>>,
}

/// The timeouts `bench --timeouts` gives `aiostreams serve` (long enough never to fire).
const SERVE_TIMEOUTS: [&str; 6] = [
    "--read-timeout",
    "60",
    "--write-timeout",
    "60",
    "--idle-timeout",
    "300",
];

/// A wrapper the server runs under (`valgrind --tool=callgrind ...`).
#[derive(Debug)]
pub(crate) struct Wrapper {
    /// The wrapper's program and arguments, before the server's own.
    pub(crate) command: Vec<OsString>,
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
            timeouts: false,
            package: OnceCell::new(),
        })
    }

    /// The Python package the `py-aiostreams*` servers import: built from this tree on
    /// the first call (`python_package`), or why it cannot be.
    pub(crate) fn package(&self) -> Result<&Package, &str> {
        let package = self.package.get_or_init(|| {
            let python = self.python.as_deref().ok_or("python3 not found")?;
            let (tree, out) = python_package::tree_and_out();
            Package::prepare(&tree, &out, python)
        });
        package.as_ref().map_err(String::as_str)
    }

    /// Why `imp` cannot run here, if it cannot.
    pub(crate) fn unavailable(&self, imp: Impl) -> Option<String> {
        if imp == Impl::RedisServer {
            return (!installed("redis-server")).then(|| {
                "redis-server skipped: not installed (apt-get install redis-server)".into()
            });
        }
        if !imp.python() {
            return None;
        }
        let Some(python) = &self.python else {
            return Some(format!("{} skipped: python3 not found", imp.name()));
        };
        let imports = |module: &str| {
            let mut probe = Command::new(python);
            probe.args(["-c", &format!("import {module}")]);
            probe.stderr(Stdio::null()).stdout(Stdio::null());
            probe.status().is_ok_and(|s| s.success())
        };
        let uvloop = matches!(imp, Impl::Uvloop | Impl::PyAiostreamsUvloop);
        let package = python_package::uses_package(imp);
        if uvloop && !imports("uvloop") {
            return Some(format!(
                "{} skipped: `python3 -c 'import uvloop'` fails (pip install uvloop)",
                imp.name()
            ));
        }
        if package && let Err(why) = self.package() {
            return Some(format!("{} skipped: {why}", imp.name()));
        }
        None
    }

    /// Starts the server `cell` needs to measure `imp`, on a loopback port; over TLS
    /// with `tls`'s certificate; under `wrapper` when given.
    pub(crate) fn start(
        &self,
        imp: Impl,
        cell: Cell,
        tls: Option<&TlsFiles>,
        wrapper: Option<&Wrapper>,
    ) -> Result<Server> {
        let server = cell.server(imp);
        let redis_port = (server == Impl::RedisServer).then(free_port).transpose()?;
        let mut argv: Vec<OsString> = Vec::new();
        if let Some(cpu) = self.cpu {
            argv.extend(["taskset".into(), "-c".into(), cpu.to_string().into()]);
        }
        if let Some(wrapper) = wrapper {
            argv.extend(wrapper.command.iter().cloned());
        }
        argv.extend(self.server_argv(server, cell, tls, redis_port));
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..]);
        if python_package::uses_package(server) {
            let package = self.package().map_err(|why| anyhow::anyhow!("{why}"))?;
            cmd.env("PYTHONPATH", package.python_path());
        }
        cmd.stdin(Stdio::null()).stdout(Stdio::piped());
        let child = cmd
            .spawn()
            .with_context(|| format!("starting the {} server", server.name()))?;
        Server::wait_ready(child, server, redis_port)
    }

    /// The server's own program and arguments.
    fn server_argv(
        &self,
        imp: Impl,
        cell: Cell,
        tls: Option<&TlsFiles>,
        redis_port: Option<u16>,
    ) -> Vec<OsString> {
        let mut args: Vec<OsString> = Vec::new();
        let exe = || self.exe.clone().into_os_string();
        let mode = cell.mode().as_str();
        let on_loopback = ["--host", "127.0.0.1", "--port", "0"];
        match imp {
            Impl::RedisServer => {
                let port = redis_port.unwrap_or_default().to_string();
                args.push("redis-server".into());
                for arg in ["--bind", "127.0.0.1", "--port", &port, "--save", ""] {
                    args.push(arg.into());
                }
                args.extend(["--appendonly", "no"].map(OsString::from));
                return args;
            }
            _ if cell.resp() => {
                let which = if imp == Impl::Aiostreams {
                    "example"
                } else {
                    "tokio"
                };
                args.extend([exe(), "resp-serve".into(), "--impl".into(), which.into()]);
                args.extend(on_loopback.map(OsString::from));
                return args;
            }
            Impl::Aiostreams => {
                args.push(exe());
                args.extend(["serve", "--runtime", "current"].map(OsString::from));
                if self.timeouts {
                    args.extend(SERVE_TIMEOUTS.map(OsString::from));
                }
                if cell.bulk() {
                    args.extend(["--read-size".into(), BULK_BUF.to_string().into()]);
                }
            }
            Impl::Tokio | Impl::TokioBuffered => {
                args.extend([exe(), "raw-tokio-serve".into()]);
                if imp == Impl::TokioBuffered {
                    args.push("--buffered".into());
                }
                if cell.bulk() {
                    args.extend(["--buf-size".into(), BULK_BUF.to_string().into()]);
                }
            }
            Impl::Floor => args.extend([exe(), "floor-serve".into()]),
            Impl::Asyncio | Impl::Uvloop | Impl::PyAiostreams | Impl::PyAiostreamsUvloop => {
                let python = self.python.clone().unwrap_or_default();
                let script = self.script_dir.clone().unwrap_or_default();
                args.push(python.into_os_string());
                args.push(script.join("asyncio_server.py").into_os_string());
                if matches!(imp, Impl::Uvloop | Impl::PyAiostreamsUvloop) {
                    args.push("--uvloop".into());
                }
                if python_package::uses_package(imp) {
                    args.push("--aiostreams".into());
                }
            }
        }
        args.extend(on_loopback.map(OsString::from));
        args.extend(["--mode".into(), mode.into()]);
        if let Some(tls) = tls {
            args.extend(["--tls-cert".into(), tls.cert.clone().into_os_string()]);
            args.extend(["--tls-key".into(), tls.key.clone().into_os_string()]);
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

/// A loopback port that was free a moment ago (for redis-server, which cannot pick one).
fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
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
    /// Reads the `Serving on HOST:PORT` line (redis-server: its ready line).
    fn wait_ready(mut child: Child, imp: Impl, redis_port: Option<u16>) -> Result<Server> {
        let mut stdout = BufReader::new(child.stdout.take().context("no server stdout")?);
        let mut line = String::new();
        let port = loop {
            line.clear();
            if stdout.read_line(&mut line)? == 0 {
                break None;
            }
            match redis_port {
                Some(port) if line.contains("Ready to accept connections") => break Some(port),
                Some(_) => continue,
                None => {}
            }
            break line
                .trim()
                .strip_prefix("Serving on ")
                .and_then(|addr| addr.rsplit(':').next())
                .and_then(|port| port.parse().ok());
        };
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

    /// The server's process id (taskset and valgrind exec the server, so it is the
    /// server's own).
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Interrupts the server (SIGINT: every server here exits cleanly on it) and waits
    /// for it to exit.
    pub(crate) fn stop(mut self) -> Result<()> {
        let pid = self.pid().to_string();
        let status = Command::new("kill").args(["-INT", &pid]).status()?;
        if !status.success() {
            bail!("kill -INT {pid} failed: {status}");
        }
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if self.child.try_wait()?.is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        bail!("the server {pid} did not exit within {STOP_TIMEOUT:?} of SIGINT")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether `program --version` runs and succeeds.
pub(crate) fn installed(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
