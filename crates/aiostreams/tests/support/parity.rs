//! What the two CPython differential tests share (`reader_parity`, in memory, and
//! `socket_parity`, over real connections): the oracle process and its JSON-lines wire
//! format, hex, the error names, and the replay files.
//!
//! An oracle is a Python script of this directory (`asyncio_oracle.py`,
//! `asyncio_socket_oracle.py`) run by `python3` (or `AIOSTREAMS_PYTHON`) for a whole batch:
//! it writes one header line, then answers each case line on stdin with one result line.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::thread::JoinHandle;
use std::{env, fs};

use aiostreams::Error;
use serde_json::{Value, json};

/// A running oracle script.
pub(crate) struct Oracle {
    child: Child,
    stdout: BufReader<ChildStdout>,
    stderr: Option<JoinHandle<String>>,
    /// Its Python version.
    pub(crate) python: String,
    /// Its header line (the version and what this asyncio can do).
    pub(crate) header: Value,
}

impl Oracle {
    /// Starts `script` (a file of `tests/support/`) and reads its header line.
    pub(crate) fn spawn(script: &str) -> Self {
        let interpreter = env::var("AIOSTREAMS_PYTHON").unwrap_or_else(|_| "python3".into());
        let script = format!("{}/tests/support/{script}", env!("CARGO_MANIFEST_DIR"));
        let mut child = Command::new(&interpreter)
            .arg(&script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot run `{interpreter}` ({e}): this test compares us with CPython's \
                     asyncio and needs Python 3 on PATH (or AIOSTREAMS_PYTHON set)"
                )
            });
        let mut stderr_pipe = child.stderr.take().expect("piped stderr");
        let stderr = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr_pipe.read_to_string(&mut text);
            text
        });
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        let mut oracle = Oracle {
            child,
            stdout,
            stderr: Some(stderr),
            python: String::new(),
            header: Value::Null,
        };
        oracle.header = oracle.next_line();
        oracle.python = oracle.header["python"]
            .as_str()
            .expect("python version")
            .to_owned();
        oracle
    }

    /// Sends every case (from a thread, so that neither pipe can fill up and block) and
    /// collects one result per case.
    pub(crate) fn run(&mut self, cases: &[Value]) -> Vec<Value> {
        let mut stdin = self.child.stdin.take().expect("piped stdin");
        let input: String = cases.iter().map(|c| format!("{c}\n")).collect();
        let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
        let results = cases.iter().map(|_| self.next_line()).collect();
        writer
            .join()
            .expect("writer thread")
            .expect("write the cases to python");
        let status = self.child.wait().expect("wait for python");
        assert!(
            status.success(),
            "the oracle failed ({status}): {}",
            self.stderr_text()
        );
        results
    }

    fn next_line(&mut self) -> Value {
        let mut line = String::new();
        let n = self.stdout.read_line(&mut line).expect("read from python");
        if n == 0 {
            let _ = self.child.wait();
            panic!("the oracle stopped early:\n{}", self.stderr_text());
        }
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("bad oracle output {line:?}: {e}"))
    }

    fn stderr_text(&mut self) -> String {
        self.stderr
            .take()
            .map(|h| h.join().unwrap_or_default())
            .unwrap_or_default()
    }
}

/// Our error as the oracles name asyncio's exceptions (`asyncio_oracle.error`).
pub(crate) fn error_json(err: &Error, readline: bool) -> Value {
    let msg = err.to_string();
    match err {
        Error::IncompleteRead { partial, expected } => json!({
            "err": "incomplete_read", "partial": hex(partial), "expected": expected, "msg": msg,
        }),
        // asyncio's readline() turns LimitOverrunError into ValueError(same message) after
        // its buffer cleanup; ours returns LimitOverrun after the same cleanup.
        Error::LimitOverrun { .. } if readline => json!({ "err": "value_error", "msg": msg }),
        Error::LimitOverrun { consumed, .. } => {
            json!({ "err": "limit_overrun", "consumed": consumed, "msg": msg })
        }
        Error::InvalidArgument(_) => json!({ "err": "value_error", "msg": msg }),
        // asyncio: AssertionError('feed_data after feed_eof'), raised before any change.
        Error::FeedAfterEof => json!({ "err": "feed_after_eof", "msg": msg }),
        Error::Custom(_) => json!({ "err": "custom", "msg": msg }),
        other => json!({ "err": format!("rust {other:?}"), "msg": msg }),
    }
}

/// The cases that differ from asyncio: the first few are printed as they are found, and
/// [`finish`](Mismatches::finish) fails the test with a file to replay them from.
pub(crate) struct Mismatches<'a> {
    python: String,
    failures: Vec<&'a Value>,
}

impl<'a> Mismatches<'a> {
    /// How many mismatching cases are printed in full.
    const SHOWN: usize = 3;

    pub(crate) fn new(python: &str) -> Self {
        Mismatches {
            python: python.to_owned(),
            failures: Vec::new(),
        }
    }

    /// Compares one case's results.
    pub(crate) fn check(&mut self, case: &'a Value, want: &Value, got: &Value) {
        if got != want {
            if self.failures.len() < Self::SHOWN {
                report(case, want, got, &self.python);
            }
            self.failures.push(case);
        }
    }

    /// Panics when any case differed, naming `replay_env` and the file (`name`) that
    /// holds the failing cases.
    pub(crate) fn finish(self, total: usize, name: &str, replay_env: &str) {
        if self.failures.is_empty() {
            return;
        }
        let path = save_failures(name, &self.failures);
        panic!(
            "{} of {total} cases differ from asyncio (Python {}); replay them with {replay_env}={}",
            self.failures.len(),
            self.python,
            path.display()
        );
    }
}

/// The outcome of one operation's result, for coverage counts: `err` (with `detail`'s
/// addition for the errors it names, e.g. the message), `blocked`, or `ok`.
pub(crate) fn outcome_name(result: &Value, detail: impl Fn(&str) -> Option<String>) -> String {
    match (&result["err"], &result["blocked"]) {
        (Value::String(err), _) => detail(err).map_or_else(|| err.clone(), |d| format!("{err}{d}")),
        (_, Value::Bool(true)) => "blocked".to_owned(),
        _ => "ok".to_owned(),
    }
}

/// Checks that the random cases reached every outcome in `wanted` (each the start of one
/// counted in `seen`, which is printed), so that a change to a generator cannot quietly
/// stop exercising a path.
pub(crate) fn assert_covered(seen: &BTreeMap<String, usize>, wanted: &[&str]) {
    eprintln!("outcomes: {seen:#?}");
    for kind in wanted {
        assert!(
            seen.keys().any(|k| k.starts_with(kind)),
            "no case produced {kind}"
        );
    }
}

/// Prints a mismatching case and its first differing operation.
fn report(case: &Value, want: &Value, got: &Value, python: &str) {
    eprintln!("mismatch with asyncio (Python {python}); case:\n{case}");
    let ops = case["ops"].as_array().expect("ops");
    let want_ops = want["results"].as_array().expect("results");
    let got_ops = got["results"].as_array().expect("results");
    let first = want_ops.iter().zip(got_ops).position(|(w, g)| w != g);
    match first {
        Some(i) => eprintln!(
            "  op #{i} {}\n    asyncio:    {}\n    aiostreams: {}",
            ops[i], want_ops[i], got_ops[i]
        ),
        None => eprintln!("  asyncio:    {want}\n  aiostreams: {got}"),
    }
}

/// A number from the environment, or `default`.
pub(crate) fn env_u64(name: &str, default: u64) -> u64 {
    env::var(name).map_or(default, |v| {
        v.parse()
            .unwrap_or_else(|_| panic!("{name} must be a number, got {v:?}"))
    })
}

/// The cases of a replay file (one JSON line each).
pub(crate) fn read_cases(path: &str) -> Vec<Value> {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad case {l:?}: {e}")))
        .collect()
}

/// Writes the failing cases to `name` in the test target's temp dir, for a replay.
fn save_failures(name: &str, failures: &[&Value]) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let lines: String = failures.iter().map(|c| format!("{c}\n")).collect();
    fs::write(&path, lines).expect("write the failing cases");
    path
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn unhex(value: &Value) -> Vec<u8> {
    let s = value.as_str().expect("hex string");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}
