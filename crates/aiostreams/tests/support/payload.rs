//! Payloads that both sides can regenerate, and sending and checking them over streams.

use aiostreams::{StreamReader, StreamWriter};

/// xorshift64 (13, 7, 17) from `seed` (0 becomes 1), each state as 8 little-endian bytes,
/// cut to `n` bytes: `generate` of `tests/support/payload.py`, which the Python peers use.
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

/// The seed of a randomised run: `AIOSTREAMS_SEED` if set, else `default`; printed with
/// how to replay it.
pub(crate) fn seed_from_env(default: u64) -> u64 {
    let seed = std::env::var("AIOSTREAMS_SEED").map_or(default, |v| {
        v.parse()
            .unwrap_or_else(|_| panic!("AIOSTREAMS_SEED must be a number, got {v:?}"))
    });
    eprintln!("seed {seed} (AIOSTREAMS_SEED={seed} replays this run)");
    seed
}

/// Writes `data` in pieces of `piece` bytes, with a `drain()` after each.
pub(crate) async fn send_all(writer: &StreamWriter, data: &[u8], piece: usize) {
    for chunk in data.chunks(piece) {
        writer.write(chunk).expect("write");
        writer.drain().await.expect("drain");
    }
}

/// Reads exactly `expected.len()` bytes with `read(max)` and checks every one.
pub(crate) async fn receive_and_check(reader: &mut StreamReader, expected: &[u8], max: usize) {
    let mut at = 0;
    while at < expected.len() {
        let chunk = reader.read(max).await.expect("read");
        assert!(
            !chunk.is_empty(),
            "EOF after {at} of {} bytes",
            expected.len()
        );
        let end = at + chunk.len();
        assert!(end <= expected.len(), "{end} bytes, more than sent");
        if let Some(i) = (0..chunk.len()).find(|&i| chunk[i] != expected[at + i]) {
            panic!(
                "byte {} differs: got {}, sent {}",
                at + i,
                chunk[i],
                expected[at + i]
            );
        }
        at = end;
    }
}
