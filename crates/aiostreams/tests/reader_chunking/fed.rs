//! Our reader, fed by the test: the whole input before the first read, or each chunk
//! when a read cannot complete.

use super::*;

// Our reader, fed by the test.

fn reader(limit: usize) -> StreamReader {
    StreamReader::with_limit(limit).expect("limit > 0")
}

/// Runs `op` on `reader`.
pub(super) async fn run_op(reader: &mut StreamReader, op: &Op) -> Outcome {
    match op {
        Op::Readline => reader.readline().await,
        Op::Readuntil(sep) => reader.readuntil(sep).await,
        Op::ReaduntilAny(seps) => {
            let seps: Vec<&[u8]> = seps.iter().map(Vec::as_slice).collect();
            reader.readuntil_any(&seps).await
        }
        Op::Readexactly(n) => reader.readexactly(*n).await,
    }
    .into()
}

/// Polls a read once; `None` when it waits for input (dropping it loses nothing).
fn poll_once(reader: &mut StreamReader, op: &Op) -> Option<Outcome> {
    let mut fut = pin!(run_op(reader, op));
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(outcome) => Some(outcome),
        Poll::Pending => None,
    }
}

/// Every chunk and EOF are fed before the first read.
pub(super) fn ours_fed_whole(chunks: &[Vec<u8>], limit: usize, ops: &[Op]) -> Vec<Outcome> {
    let mut reader = reader(limit);
    for chunk in chunks {
        reader.feed_data(chunk).expect("before EOF");
    }
    reader.feed_eof();
    let outcomes = ops
        .iter()
        .map(|op| poll_once(&mut reader, op).expect("at EOF"));
    outcomes.collect()
}

/// The next chunk (then EOF) is fed only when a read cannot complete.
pub(super) fn ours_fed_on_demand(chunks: &[Vec<u8>], limit: usize, ops: &[Op]) -> Vec<Outcome> {
    let mut reader = reader(limit);
    let mut next = chunks.iter();
    ops.iter()
        .map(|op| {
            loop {
                if let Some(outcome) = poll_once(&mut reader, op) {
                    break outcome;
                }
                match next.next() {
                    Some(chunk) => reader.feed_data(chunk).expect("before EOF"),
                    None => reader.feed_eof(),
                }
            }
        })
        .collect()
}

pub(super) fn on_demand_deliveries(chunks: &[Vec<u8>]) -> Vec<Delivery> {
    let data = chunks.iter().cloned().map(Delivery::Data);
    data.chain([Delivery::Eof]).collect()
}
