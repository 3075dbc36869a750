//! Differential test: random `StreamReader` scenarios run through CPython's asyncio and us.
//!
//! Each case is a limit and a list of operations (feeds, EOF, `set_exception`, and every
//! read kind). The whole batch goes through one `python3` process running
//! `tests/support/asyncio_oracle.py` on a real `asyncio.StreamReader`, then through our
//! reader, and every operation's result is compared: the bytes returned, or the error kind
//! with its fields (`partial`, `expected`, `consumed`) and message text, or "blocked" (the
//! read needs more input), plus the buffer and `at_eof()` after every operation and the
//! final stored-exception state.
//!
//! A read that cannot complete is polled once with a no-op waker and dropped; asyncio's is
//! run as a task, given a few loop iterations, and cancelled. Both leave the buffer as it
//! was, for every read except asyncio's `read(-1)`, which loses the chunks it gathered
//! when cancelled (a CPython flaw we do not copy: ours is cancel safe). The generator
//! therefore emits `read_all` only after `feed_eof`, when it cannot block.
//!
//! The one deliberate difference in what reads return (README, "Where we differ";
//! `sansio::Mode::Aiostreams`) is modelled by name: each case says `"mode": "aiostreams"`
//! and the oracle runs asyncio's reader wrapped in `DiscardOverlongLine`, which drops the
//! rest of a line after `readline()`'s "not found" limit error as it is fed (asyncio
//! returns those pieces as a line). Every other comparison is asyncio's unchanged.
//!
//! `readuntil` with a tuple of separators exists only in Python 3.13+. The oracle says
//! whether its asyncio has it; when not (Debian's 3.11, CI's `python3`), `readuntil_any`
//! operations are still drawn from the seeds but left out of the cases, and
//! `readuntil_any` is then covered only against the model in `reader_chunking/model.rs`.
//!
//! The cases also pass with Python 3.8 to 3.13 (3.13 includes `readuntil_any`). 3.7
//! differs in one message only: `IncompleteReadError` said "None expected bytes" where
//! 3.8+ (and we) say "undefined expected bytes".
//!
//! Environment:
//! - `AIOSTREAMS_PARITY_CASES`: number of cases (default 5,000: about 1.5 s in debug);
//! - `AIOSTREAMS_PARITY_SEED`: base seed (case `i` uses seed `base + i`);
//! - `AIOSTREAMS_PARITY_REPLAY`: a file of case JSON lines to run instead of random ones
//!   (a failing run writes its failing cases to such a file and prints its path);
//! - `AIOSTREAMS_PYTHON`: the interpreter (default `python3`), e.g. a 3.13 to cover
//!   `readuntil_any` too.
//!
//! 100,000 cases:
//! `AIOSTREAMS_PARITY_CASES=100000 cargo test -p aiostreams --release --test all reader_parity::`

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::{env, fmt};

use aiostreams::{DEFAULT_LIMIT, Error, StreamReader};
use bytes::Bytes;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::support::parity::{
    Mismatches, Oracle, assert_covered, env_u64, error_json, hex, outcome_name, read_cases, unhex,
};

/// The variable naming a file of cases to replay instead of random ones.
const REPLAY: &str = "AIOSTREAMS_PARITY_REPLAY";
const DEFAULT_CASES: u64 = 5_000;
const DEFAULT_SEED: u64 = 0xA510_57EA;

#[test]
fn reader_matches_cpython_asyncio() {
    let mut oracle = Oracle::spawn("asyncio_oracle.py");
    let cases = match env::var(REPLAY) {
        Ok(path) => read_cases(&path),
        Err(_) => random_cases(
            oracle.header["tuple_separators"]
                .as_bool()
                .expect("capability"),
        ),
    };
    let expected = oracle.run(&cases);
    if env::var_os(REPLAY).is_none() && cases.len() >= 1_000 {
        assert_covered(&outcomes(&expected), &WANTED);
    }
    let mut mismatches = Mismatches::new(&oracle.python);
    for (case, want) in cases.iter().zip(&expected) {
        mismatches.check(case, want, &run_case(case));
    }
    mismatches.finish(cases.len(), "reader_parity_failures.jsonl", REPLAY);
}

/// What the random cases must reach, limit errors included.
const WANTED: [&str; 10] = [
    "ok",
    "blocked",
    "incomplete_read",
    "limit_overrun: \"Separator is found",
    "limit_overrun: \"Separator is not found",
    "value_error: \"Separator is found",
    "value_error: \"Separator is not found",
    "value_error: \"Separator should be at least one-byte string\"",
    "feed_after_eof",
    "custom",
];

/// How often each outcome (limit and value errors with their message) came up.
fn outcomes(expected: &[Value]) -> BTreeMap<String, usize> {
    let mut seen = BTreeMap::new();
    for case in expected {
        for result in case["results"].as_array().expect("results") {
            let message = |err: &str| {
                matches!(err, "limit_overrun" | "value_error")
                    .then(|| format!(": {}", result["msg"]))
            };
            *seen.entry(outcome_name(result, message)).or_default() += 1;
        }
    }
    seen
}

// ---------------------------------------------------------------------------------------
// Our side.

/// The exception stored by `set_exception` (asyncio side: `Boom(msg)`).
#[derive(Debug)]
struct Boom(String);

impl fmt::Display for Boom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Boom {}

/// The same JSON the oracle writes, from our reader.
fn run_case(case: &Value) -> Value {
    let limit = usize::try_from(case["limit"].as_u64().expect("limit")).expect("limit");
    let mut reader = if limit == DEFAULT_LIMIT {
        StreamReader::new()
    } else {
        StreamReader::with_limit(limit).expect("limit > 0")
    };
    let mut results = Vec::new();
    for op in case["ops"].as_array().expect("ops") {
        let mut result = apply(&mut reader, op);
        result["buf"] = hex(reader.buffer()).into();
        result["eof"] = reader.at_eof().into();
        results.push(result);
    }
    json!({
        "results": results,
        "buffer": hex(reader.buffer()),
        "at_eof": reader.at_eof(),
        "exception": reader.exception().is_some(),
    })
}

fn apply(reader: &mut StreamReader, op: &Value) -> Value {
    let n = || usize::try_from(op["n"].as_u64().expect("n")).expect("n");
    match op["op"].as_str().expect("op name") {
        "feed" => match reader.feed_data(&unhex(&op["data"])) {
            Ok(()) => json!({ "ok": null }),
            Err(err) => error_json(&err, false),
        },
        "feed_eof" => {
            reader.feed_eof();
            json!({ "ok": null })
        }
        "set_exception" => {
            let msg = op["msg"].as_str().expect("msg").to_owned();
            reader.set_exception(Error::custom(Boom(msg)));
            json!({ "ok": null })
        }
        "read" => outcome(poll_once(reader.read(n())), false),
        "read_all" => outcome(poll_once(reader.read_to_eof()), false),
        "readline" => outcome(poll_once(reader.readline()), true),
        "readuntil" => outcome(poll_once(reader.readuntil(&unhex(&op["sep"]))), false),
        "readuntil_any" => {
            let seps: Vec<Vec<u8>> = op["seps"]
                .as_array()
                .expect("seps")
                .iter()
                .map(unhex)
                .collect();
            let seps: Vec<&[u8]> = seps.iter().map(Vec::as_slice).collect();
            outcome(poll_once(reader.readuntil_any(&seps)), false)
        }
        "readexactly" => outcome(poll_once(reader.readexactly(n())), false),
        other => panic!("unknown op {other:?}"),
    }
}

/// Polls a read once; `None` when it would wait for input. Dropping it then is what
/// asyncio's cancellation does: our reads are cancel safe, so nothing is lost.
fn poll_once<T>(fut: impl Future<Output = Result<T, Error>>) -> Option<Result<T, Error>> {
    let mut fut = pin!(fut);
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(result) => Some(result),
        Poll::Pending => None,
    }
}

fn outcome(result: Option<Result<Bytes, Error>>, readline: bool) -> Value {
    match result {
        None => json!({ "blocked": true }),
        Some(Ok(bytes)) => json!({ "ok": hex(&bytes) }),
        Some(Err(err)) => error_json(&err, readline),
    }
}

// ---------------------------------------------------------------------------------------
// Case generation.

fn random_cases(tuple_separators: bool) -> Vec<Value> {
    let count = env_u64("AIOSTREAMS_PARITY_CASES", DEFAULT_CASES);
    let base = env_u64("AIOSTREAMS_PARITY_SEED", DEFAULT_SEED);
    (0..count)
        .map(|i| generate(base.wrapping_add(i), tuple_separators))
        .collect()
}

fn generate(seed: u64, tuple_separators: bool) -> Value {
    let mut rng = StdRng::seed_from_u64(seed);
    // Mostly small limits, so that the limit paths are hit often.
    let limit = match rng.gen_range(0..10) {
        0..=6 => rng.gen_range(1..=16),
        7..=8 => rng.gen_range(17..=64),
        _ => DEFAULT_LIMIT,
    };
    let mut cases = Gen {
        rng,
        eof: false,
        tuple_separators,
    };
    let attempts = cases.rng.gen_range(1..=24);
    let ops: Vec<Value> = (0..attempts).filter_map(|i| cases.op(i)).collect();
    json!({ "seed": seed, "limit": limit, "mode": "aiostreams", "ops": ops })
}

struct Gen {
    rng: StdRng,
    /// `feed_eof` was emitted.
    eof: bool,
    tuple_separators: bool,
}

impl Gen {
    /// One operation, or `None` when the drawn one is left out.
    fn op(&mut self, index: usize) -> Option<Value> {
        Some(match self.rng.gen_range(0..100) {
            0..=29 => {
                let data = self.bytes();
                // Feeding after EOF is an error; keep it rare so cases go on reading.
                if self.eof && !self.rng.gen_ratio(1, 10) {
                    return None;
                }
                json!({ "op": "feed", "data": hex(&data) })
            }
            30..=34 => {
                self.eof = true;
                json!({ "op": "feed_eof" })
            }
            35..=36 => json!({ "op": "set_exception", "msg": format!("boom {index}") }),
            37..=48 => json!({ "op": "readline" }),
            49..=62 => json!({ "op": "readuntil", "sep": hex(&self.separator()) }),
            63..=70 => {
                let count = if self.rng.gen_ratio(1, 30) {
                    0
                } else {
                    self.rng.gen_range(1..=3)
                };
                let seps: Vec<String> = (0..count).map(|_| hex(&self.separator())).collect();
                if !self.tuple_separators {
                    return None;
                }
                json!({ "op": "readuntil_any", "seps": seps })
            }
            71..=80 => json!({ "op": "readexactly", "n": self.rng.gen_range(0..=20) }),
            81..=92 => json!({ "op": "read", "n": self.rng.gen_range(0..=20) }),
            // asyncio's read(-1) loses data when cancelled, so only once it cannot block.
            _ if self.eof => json!({ "op": "read_all" }),
            _ => return None,
        })
    }

    /// Fed bytes from a small alphabet, so that separators occur.
    fn bytes(&mut self) -> Vec<u8> {
        let len = self.rng.gen_range(0..=12);
        (0..len).map(|_| self.byte()).collect()
    }

    fn byte(&mut self) -> u8 {
        match self.rng.gen_range(0..10) {
            0..=3 => b'a',
            4..=6 => b'b',
            7..=8 => b'\n',
            _ => b'\r',
        }
    }

    fn separator(&mut self) -> Vec<u8> {
        const COMMON: [&[u8]; 6] = [b"\n", b"\r\n", b"a", b"ab", b"aba", b"\n\n"];
        match self.rng.gen_range(0..50) {
            0 => Vec::new(), // asyncio's ValueError, checked before the stored exception
            1..=29 => COMMON[self.rng.gen_range(0..COMMON.len())].to_vec(),
            _ => {
                let len = self.rng.gen_range(1..=3);
                (0..len).map(|_| self.byte()).collect()
            }
        }
    }
}
