//! The model: asyncio's reader rules over a plain `Vec`, as naive as possible, and its
//! runs on the whole input or on chunks delivered on demand.

use super::*;

// The model.

/// asyncio's reader rules over a plain `Vec`, as naive as possible.
#[derive(Debug)]
struct Model {
    buf: Vec<u8>,
    eof: bool,
    limit: usize,
    /// Dropping received bytes through the next `\n` (the rest of an over-long line).
    discarding: bool,
}

impl Model {
    /// One attempt at `op`: `None` when it needs more input (and nothing was changed).
    fn attempt(&mut self, op: &Op) -> Option<Outcome> {
        match op {
            Op::Readline => self.readline(),
            Op::Readuntil(sep) => self.readuntil(std::slice::from_ref(sep)),
            Op::ReaduntilAny(seps) => self.readuntil(seps),
            Op::Readexactly(n) => self.readexactly(*n),
        }
    }

    /// Spec 3.6.
    fn readexactly(&mut self, n: usize) -> Option<Outcome> {
        if self.buf.len() >= n {
            Some(Outcome::Bytes(self.buf.drain(..n).collect()))
        } else if self.eof {
            let partial = std::mem::take(&mut self.buf);
            Some(Outcome::Incomplete {
                partial,
                expected: Some(n),
            })
        } else {
            None
        }
    }

    /// Spec 3.7, for one separator or several.
    fn readuntil(&mut self, seps: &[Vec<u8>]) -> Option<Outcome> {
        let mut seps = seps.to_vec();
        seps.sort_by_key(Vec::len); // stable: equal lengths keep their order
        let (Some(min), Some(max)) = (seps.first().map(Vec::len), seps.last().map(Vec::len)) else {
            return Some(invalid("Separator should contain at least one element"));
        };
        if min == 0 {
            return Some(invalid("Separator should be at least one-byte string"));
        }
        // The match with the smallest end; on equal ends, the first (shortest) separator.
        let found = (1..=self.buf.len()).find_map(|end| {
            let sep = seps.iter().find(|s| self.buf[..end].ends_with(s))?;
            Some((end - sep.len(), end))
        });
        match found {
            Some((start, _)) if start > self.limit => Some(Outcome::Overrun {
                consumed: start,
                separator_found: true,
            }),
            Some((_, end)) => Some(Outcome::Bytes(self.buf.drain(..end).collect())),
            None => self.not_found(min, max),
        }
    }

    /// Spec 3.7 when no separator is buffered: the limit first, then EOF.
    fn not_found(&mut self, min: usize, max: usize) -> Option<Outcome> {
        let offset = (self.buf.len() + 1).saturating_sub(max);
        if self.buf.len() >= min && offset > self.limit {
            Some(Outcome::Overrun {
                consumed: offset,
                separator_found: false,
            })
        } else if self.eof {
            let partial = std::mem::take(&mut self.buf);
            Some(Outcome::Incomplete {
                partial,
                expected: None,
            })
        } else {
            None
        }
    }

    /// Spec 3.8: readuntil(b"\n") with the partial line at EOF and the limit cleanup;
    /// after "not found" the rest of the line is dropped as it arrives (`Mode::Aiostreams`).
    fn readline(&mut self) -> Option<Outcome> {
        match self.readuntil(&[b"\n".to_vec()])? {
            Outcome::Incomplete { partial, .. } => Some(Outcome::Bytes(partial)),
            err @ Outcome::Overrun { consumed, .. } => {
                if self.buf.get(consumed) == Some(&b'\n') {
                    self.buf.drain(..=consumed);
                } else {
                    self.buf.clear();
                    self.discarding = !self.eof;
                }
                Some(err)
            }
            other => Some(other),
        }
    }

    /// Received bytes enter the buffer, minus the rest of a discarded line.
    fn receive(&mut self, mut bytes: &[u8]) {
        if self.discarding {
            match bytes.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    self.discarding = false;
                    bytes = &bytes[i + 1..];
                }
                None => bytes = &[],
            }
        }
        self.buf.extend_from_slice(bytes);
    }

    /// Right after `readline`'s "not found" error, a pulling reader takes what its source
    /// has ready (up to a `Pending`): when the line's `\n` is among it, the error is
    /// "found" with the whole line's length.
    fn probe<'d>(
        &mut self,
        err: Outcome,
        next: &mut impl Iterator<Item = &'d Delivery>,
    ) -> Outcome {
        let Outcome::Overrun {
            consumed,
            separator_found: false,
        } = err
        else {
            return err;
        };
        let mut line = consumed;
        while self.discarding {
            match next.next() {
                Some(Delivery::Data(bytes)) => match bytes.iter().position(|&b| b == b'\n') {
                    Some(i) => {
                        self.receive(bytes);
                        return Outcome::Overrun {
                            consumed: line + i,
                            separator_found: true,
                        };
                    }
                    None => line += bytes.len(),
                },
                Some(Delivery::Eof) => {
                    self.eof = true;
                    self.discarding = false;
                }
                Some(Delivery::Pending) | None => break,
            }
        }
        err
    }
}

fn invalid(msg: &str) -> Outcome {
    Outcome::Invalid(msg.to_owned())
}

/// What a source handed over: bytes, EOF, or (sources only) "nothing ready" once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Delivery {
    Data(Vec<u8>),
    Eof,
    Pending,
}

/// The model on the whole input, present from the start, then EOF.
pub(super) fn model_whole(data: &[u8], limit: usize, ops: &[Op]) -> Vec<Outcome> {
    let model = Model {
        buf: data.to_vec(),
        eof: true,
        limit,
        discarding: false,
    };
    run_model(model, &[], ops, false)
}

/// The model given `deliveries` one at a time, each only when a read needs more input;
/// `source`: pulled by the reader (so `readline`'s probe may take deliveries), not fed.
pub(super) fn model_on_demand(
    deliveries: &[Delivery],
    limit: usize,
    ops: &[Op],
    source: bool,
) -> Vec<Outcome> {
    let model = Model {
        buf: Vec::new(),
        eof: false,
        limit,
        discarding: false,
    };
    run_model(model, deliveries, ops, source)
}

fn run_model(mut model: Model, deliveries: &[Delivery], ops: &[Op], source: bool) -> Vec<Outcome> {
    let mut next = deliveries.iter();
    ops.iter()
        .map(|op| {
            loop {
                if let Some(outcome) = model.attempt(op) {
                    break match op {
                        Op::Readline if source => model.probe(outcome, &mut next),
                        _ => outcome,
                    };
                }
                match next.next() {
                    Some(Delivery::Data(bytes)) => model.receive(bytes),
                    Some(Delivery::Eof) => model.eof = true,
                    Some(Delivery::Pending) => {}
                    None => panic!("the model needs more input than was delivered: {model:?}"),
                }
            }
        })
        .collect()
}
