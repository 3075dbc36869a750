//! The client cells: the same client written once with aiostreams and once with tokio
//! alone by an expert, against the same tokio server; the client's CPU is measured.
//!
//! Each connection loops over rounds: write `pipeline` requests, then read the
//! `pipeline` answers, verifying each. aiostreams: `open_connection`, `writelines` of
//! the round, `drain()`, then `readexactly(n)` (raw bytes) or `readline()` (lines). tokio: a
//! `BufReader<BufWriter<TcpStream>>`, `write_all` per request into the `BufWriter`, one
//! `flush`, then `read_exact` or `read_until(b'\n')`.

use anyhow::{Result, bail};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, BufWriter};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::{Instant, timeout};

use super::cell::{Impl, Load};
use super::load::{
    REQUEST_TIMEOUT, Sample, Stop, Target, connect, first_difference, measure_window, requests,
};

/// Drives the tokio server at `target` with `imp`'s client.
pub(crate) async fn run(load: Load, imp: Impl, target: &Target, stop: Stop) -> Result<Sample> {
    let Load::Client {
        bytes,
        lines,
        pipeline,
        connections,
    } = load
    else {
        bail!("not a client cell: {load:?}");
    };
    let shape = Shape {
        lines: lines > 0,
        pipeline,
    };
    let mut clients = Vec::with_capacity(connections);
    for _ in 0..connections {
        clients.push(Client::open(imp, target.port).await?);
    }
    let (from, until) = stop.edges();
    let mut tasks = JoinSet::new();
    for (i, client) in clients.into_iter().enumerate() {
        let requests = requests(bytes, lines, i);
        tasks.spawn(client.rounds(requests, shape, stop, from, until));
    }
    measure_window(target.pid, stop, from, until, tasks).await
}

/// What a round is.
#[derive(Clone, Copy, Debug)]
struct Shape {
    /// Answers are lines (`readline`) rather than as many bytes as were sent.
    lines: bool,
    /// Requests per round.
    pipeline: usize,
}

/// One client connection.
enum Client {
    Aiostreams(aiostreams::StreamReader, aiostreams::StreamWriter),
    Tokio(BufReader<BufWriter<TcpStream>>),
}

impl Client {
    async fn open(imp: Impl, port: u16) -> Result<Client> {
        Ok(match imp {
            Impl::Aiostreams => {
                let (reader, writer) = aiostreams::open_connection("127.0.0.1", port).await?;
                Client::Aiostreams(reader, writer)
            }
            _ => Client::Tokio(BufReader::new(BufWriter::new(connect(port).await?))),
        })
    }

    /// Rounds until `stop`; each request counts when its round's last answer arrives.
    async fn rounds(
        mut self,
        requests: Vec<Vec<u8>>,
        shape: Shape,
        stop: Stop,
        from: Instant,
        until: Instant,
    ) -> Sample {
        let mut stats = Sample::new(0.0);
        let mut next = requests.iter().cycle();
        let mut scratch = Vec::new();
        loop {
            let began = Instant::now();
            if stop.done(stats.requests, began, until) {
                break;
            }
            let round: Vec<&[u8]> = (&mut next).take(shape.pipeline).map(|r| &r[..]).collect();
            let answered = timeout(REQUEST_TIMEOUT, self.round(&round, shape, &mut scratch)).await;
            if stats.answered(answered, "no answer within 10 s").is_none() {
                break;
            }
            for request in &round {
                stats.verified_bytes += request.len() as u64;
                stats.count(began, from, until);
            }
        }
        stats
    }

    /// Writes `round`, then reads and checks its answers.
    async fn round(&mut self, round: &[&[u8]], shape: Shape, scratch: &mut Vec<u8>) -> Result<()> {
        match self {
            Client::Aiostreams(reader, writer) => {
                writer.writelines(round)?;
                writer.drain().await?;
                for request in round {
                    let answer = if shape.lines {
                        reader.readline().await?
                    } else {
                        reader.readexactly(request.len()).await?
                    };
                    check(request, &answer)?;
                }
            }
            Client::Tokio(conn) => {
                for request in round {
                    conn.get_mut().write_all(request).await?;
                }
                conn.get_mut().flush().await?;
                for request in round {
                    scratch.clear();
                    if shape.lines {
                        conn.read_until(b'\n', scratch).await?;
                    } else {
                        scratch.resize(request.len(), 0);
                        conn.read_exact(scratch).await?;
                    }
                    check(request, scratch)?;
                }
            }
        }
        Ok(())
    }
}

/// Inlined into both clients alike (the compiler inlined it into one and not the other,
/// about 20 instructions per request of difference that was no client's).
#[inline(always)]
fn check(request: &[u8], answer: &[u8]) -> Result<()> {
    if answer.len() != request.len() {
        bail!("an answer of {} bytes to {}", answer.len(), request.len());
    }
    match first_difference(request, answer) {
        Some(at) => bail!("wrong byte at offset {at} of an answer"),
        None => Ok(()),
    }
}
