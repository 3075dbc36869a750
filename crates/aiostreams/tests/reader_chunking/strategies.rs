//! The proptest strategies: bytes, separators, operations, limits, splits.

use super::*;

// Strategies.

fn byte() -> impl Strategy<Value = u8> {
    prop_oneof![4 => Just(b'a'), 3 => Just(b'b'), 2 => Just(b'\n'), 1 => Just(b'\r')]
}

fn separator() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => Just(b"\n".to_vec()),
        2 => Just(b"\r\n".to_vec()),
        1 => Just(b"ab".to_vec()),
        1 => Just(b"aba".to_vec()),
        2 => prop::collection::vec(byte(), 0..=3), // sometimes empty: InvalidArgument
    ]
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Readline),
        3 => separator().prop_map(Op::Readuntil),
        2 => prop::collection::vec(separator(), 0..=3).prop_map(Op::ReaduntilAny),
        2 => (0usize..=24).prop_map(Op::Readexactly),
    ]
}

/// Mostly small limits so that limit errors are frequent; 1000 never binds.
/// The reads every property runs: one to fifteen of them.
pub(super) fn ops() -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(op(), 1..16)
}

pub(super) fn limit() -> impl Strategy<Value = usize> {
    prop_oneof![3 => 1usize..=12, 1 => Just(1000usize)]
}

/// Bytes and two ways to cut them (cut positions may repeat: empty chunks).
pub(super) fn split_data() -> impl Strategy<Value = (Vec<u8>, Vec<Vec<u8>>, Vec<Vec<u8>>)> {
    prop::collection::vec(byte(), 0..160).prop_flat_map(|data| {
        let n = data.len();
        let cuts = || prop::collection::vec(0..=n, 0..12);
        (cuts(), cuts()).prop_map(move |(a, b)| (data.clone(), split(&data, a), split(&data, b)))
    })
}

fn split(data: &[u8], mut cuts: Vec<usize>) -> Vec<Vec<u8>> {
    cuts.sort_unstable();
    let mut chunks = Vec::new();
    let mut start = 0;
    for cut in cuts.into_iter().chain([data.len()]) {
        chunks.push(data[start..cut].to_vec());
        start = cut;
    }
    chunks
}
