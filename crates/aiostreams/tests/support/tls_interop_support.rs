//! Helpers of `tests/tls_interop.rs`: generated certificates, child processes read line by
//! line, our examples built as programs, and the payload generator.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore, ServerConfig, SupportedProtocolVersion};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::{OnceCell, mpsc};

use super::temp::TempDir;

/// Bounds one test once the examples are built (debug builds, a shared CI machine).
const TEST_TIMEOUT: Duration = Duration::from_secs(120);

/// Building may wait for the build-directory lock while other builds run.
const BUILD_TIMEOUT: Duration = Duration::from_secs(600);

/// The examples the tests run.
const EXAMPLES: [&str; 3] = ["get_http_headers", "tls_echo_server", "tls_echo_client"];

/// Runs a test body under [`TEST_TIMEOUT`].
pub(crate) async fn bounded<F: Future<Output = ()>>(body: F) {
    super::bounded_for(TEST_TIMEOUT, body).await;
}

/// xorshift64 (13, 7, 17) from `seed` (0 becomes 1), each state as 8 little-endian bytes,
/// cut to `n` bytes: `generate` of `tests/support/tls_peers.py`.
pub(crate) fn generate(n: usize, seed: u64) -> Vec<u8> {
    let mut x = if seed == 0 { 1 } else { seed };
    let mut out = Vec::with_capacity(n + 8);
    while out.len() < n {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(n);
    out
}

// ---------------------------------------------------------------------------------------
// Certificates.

/// A private CA, a server certificate from it for `localhost` and `127.0.0.1`, and a
/// second, unrelated CA; all as PEM files in a temp dir removed on drop.
pub(crate) struct Certs {
    pub(crate) dir: TempDir,
    ca_der: CertificateDer<'static>,
    /// The server's certificate, DER.
    pub(crate) leaf_der: CertificateDer<'static>,
}

/// A CA certificate with the extensions strict verifiers (Python 3.13's
/// `VERIFY_X509_STRICT`) insist on; returns it and the issuer that signs with it.
fn make_ca(name: &str) -> (rcgen::Certificate, Issuer<'static, KeyPair>) {
    let key = KeyPair::generate().expect("CA key");
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.distinguished_name.push(DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let cert = params.self_signed(&key).expect("CA certificate");
    (cert, Issuer::new(params, key))
}

impl Certs {
    pub(crate) fn new() -> Certs {
        let dir = TempDir::new("tls-interop");
        let (ca, issuer) = make_ca("aiostreams interop CA");
        let (other_ca, _) = make_ca("an unrelated CA");
        let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
        let mut params = CertificateParams::new(names).expect("server params");
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.use_authority_key_identifier_extension = true;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().expect("server key");
        let cert = params.signed_by(&key, &issuer).expect("server certificate");
        dir.write("ca.pem", ca.pem());
        dir.write("other-ca.pem", other_ca.pem());
        dir.write("chain.pem", cert.pem());
        dir.write("key.pem", key.serialize_pem());
        Certs {
            dir,
            ca_der: ca.der().clone(),
            leaf_der: cert.der().clone(),
        }
    }

    fn arg(&self, name: &str) -> String {
        let path = self.dir.path().join(name);
        path.to_str().expect("a UTF-8 temp path").to_owned()
    }

    /// The CA certificate's PEM file.
    pub(crate) fn ca_arg(&self) -> String {
        self.arg("ca.pem")
    }

    /// A CA that signed nothing here: trusting only it, no server verifies.
    pub(crate) fn other_ca_arg(&self) -> String {
        self.arg("other-ca.pem")
    }

    /// The server's certificate chain (the leaf).
    pub(crate) fn chain_arg(&self) -> String {
        self.arg("chain.pem")
    }

    /// The server's private key (PKCS#8, unencrypted).
    pub(crate) fn key_arg(&self) -> String {
        self.arg("key.pem")
    }

    /// Our server configuration, loaded from the PEM files.
    pub(crate) fn server_config(&self) -> Arc<ServerConfig> {
        aiostreams::tls::server_config_from_pem(self.chain_arg(), self.key_arg())
            .expect("server config from PEM")
    }

    fn roots(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca_der.clone()).expect("a usable root");
        roots
    }

    /// A verifying client configuration trusting the CA only.
    pub(crate) fn client_config(&self) -> Arc<ClientConfig> {
        Arc::new(aiostreams::tls::client_config_with_roots(self.roots()).expect("client config"))
    }

    /// As [`client_config`](Self::client_config), limited to one protocol version.
    pub(crate) fn client_config_for(
        &self,
        version: &'static SupportedProtocolVersion,
    ) -> Arc<ClientConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[version])
            .expect("protocol version")
            .with_root_certificates(self.roots())
            .with_no_client_auth();
        Arc::new(config)
    }
}

// ---------------------------------------------------------------------------------------
// Child processes.

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

/// `tests/support/tls_peers.py`.
pub(crate) fn tls_peers() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/tls_peers.py")
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
    panic!("cannot run `{program}` ({e}): the TLS interop tests need {need}");
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

// ---------------------------------------------------------------------------------------
// Our examples.

/// The path of example `name`'s executable, building all of [`EXAMPLES`] on first use.
pub(crate) async fn example(name: &str) -> PathBuf {
    static BUILT: OnceCell<HashMap<String, PathBuf>> = OnceCell::const_new();
    let built = BUILT.get_or_init(build_examples).await;
    built
        .get(name)
        .unwrap_or_else(|| panic!("cargo reported no executable for example {name}"))
        .clone()
}

/// `cargo build --example ...` (a no-op when `cargo test` already built them).
async fn build_examples() -> HashMap<String, PathBuf> {
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .args([
            "build",
            "--quiet",
            "--message-format=json",
            "-p",
            "aiostreams",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    for name in EXAMPLES {
        cargo.args(["--example", name]);
    }
    let out = tokio::time::timeout(BUILD_TIMEOUT, cargo.output())
        .await
        .expect("cargo build --example timed out")
        .expect("run cargo");
    assert!(
        out.status.success(),
        "cargo build of the examples failed: {}",
        out.status
    );
    executables(&out.stdout)
}

/// Example name -> `executable`, from cargo's `compiler-artifact` messages.
fn executables(json_lines: &[u8]) -> HashMap<String, PathBuf> {
    let text = String::from_utf8_lossy(json_lines);
    text.lines()
        .filter_map(|line| {
            let msg: serde_json::Value = serde_json::from_str(line).ok()?;
            let target = &msg["target"];
            let is_example = target["kind"].as_array()?.iter().any(|k| k == "example");
            let exe = msg["executable"].as_str().filter(|_| is_example)?;
            Some((target["name"].as_str()?.to_owned(), PathBuf::from(exe)))
        })
        .collect()
}
