//! The load generator: plain tokio clients that verify every byte they get back.
//!
//! Each connection of a round-trip cell loops: send the request, read exactly as many
//! bytes back (writing and reading at once, so a 100 KiB echo cannot deadlock), compare,
//! record the latency. Requests that end inside the measured window are counted; the
//! server's CPU time is sampled at the window's edges.
//!
//! TLS cells use tokio-rustls clients trusting the bench's throwaway CA. The handshake
//! cell's loops each open a connection, handshake, echo one byte and close, again and
//! again: one request is one full handshake (the client never resumes a session).

use std::io;
use std::time::Duration;

use anyhow::{Context, Result};
use hdrhistogram::Histogram;
use tokio::io::{AsyncReadExt, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio::time::error::Elapsed;
use tokio::time::{Instant, sleep_until, timeout};
use tokio_rustls::TlsConnector;

use super::cell::{Impl, LINE_LEN, Load};
use super::system::{CpuTime, rss_bytes};
use super::tls::server_name;
use super::{bulk, client, resp_load};

/// A request that gets no answer within this long fails its cell.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Distinct requests per connection, sent in turn, so a stale answer does not verify.
const VARIANTS: usize = 8;
/// Connections the idle cell opens at once.
const IDLE_OPENERS: usize = 16;

/// The warm-up and the measured window of one measurement.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Window {
    /// Load before measuring.
    pub(crate) warmup: Duration,
    /// The measured window.
    pub(crate) measure: Duration,
}

/// When a load stops.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Stop {
    /// After a warm-up, measure for a while (the timing runs).
    Window(Window),
    /// After this many requests per connection (or loop), all counted (the
    /// `--instructions` runs, where only the request count matters).
    Count(u64),
}

impl Stop {
    /// The measured window's edges, from now; a count has an hour-long window, counted
    /// from now.
    pub(crate) fn edges(self) -> (Instant, Instant) {
        match self {
            Stop::Window(w) => {
                let from = Instant::now() + w.warmup;
                (from, from + w.measure)
            }
            Stop::Count(_) => {
                let now = Instant::now();
                (now, now + Duration::from_secs(3600))
            }
        }
    }

    /// Requests per connection, for a count.
    pub(crate) fn count(self) -> Option<u64> {
        match self {
            Stop::Window(_) => None,
            Stop::Count(n) => Some(n),
        }
    }

    /// Whether a loop that has done `done` requests and would start one at `now` stops.
    pub(crate) fn done(self, done: u64, now: Instant, until: Instant) -> bool {
        match self {
            Stop::Window(_) => now >= until,
            Stop::Count(n) => done >= n,
        }
    }
}

/// What one measurement of one server saw.
#[derive(Debug)]
pub(crate) struct Sample {
    /// Requests completed inside the window.
    pub(crate) requests: u64,
    /// The window's length.
    pub(crate) seconds: f64,
    /// Latency of those requests, in microseconds.
    pub(crate) latency: Histogram<u64>,
    /// Server CPU time (user + system) during the window.
    pub(crate) cpu: CpuTime,
    /// The client's (this process's) CPU time during the window, client cells only.
    pub(crate) client_cpu: Option<CpuTime>,
    /// Bytes moved one way, bulk cells only.
    pub(crate) bulk_bytes: Option<u64>,
    /// Server RSS at the end of the window.
    pub(crate) rss_bytes: u64,
    /// Server RSS growth per idle connection (idle cells only).
    pub(crate) rss_per_conn: Option<f64>,
    /// Bytes received and found equal to what was sent (warm-up included).
    pub(crate) verified_bytes: u64,
    /// Failed connections or requests (errors, timeouts, wrong bytes).
    pub(crate) errors: u64,
    /// The first failure, for the report.
    pub(crate) first_error: Option<String>,
}

impl Sample {
    pub(crate) fn new(seconds: f64) -> Sample {
        Sample {
            requests: 0,
            seconds,
            latency: new_histogram(),
            cpu: CpuTime::default(),
            client_cpu: None,
            bulk_bytes: None,
            rss_bytes: 0,
            rss_per_conn: None,
            verified_bytes: 0,
            errors: 0,
            first_error: None,
        }
    }

    pub(crate) fn fail(&mut self, error: impl ToString) {
        self.errors += 1;
        self.first_error.get_or_insert_with(|| error.to_string());
    }

    /// The value of a step bounded by a timeout, or `None` after counting its failure:
    /// its error, or `late` when the timeout ran out.
    pub(crate) fn answered<T, E: ToString>(
        &mut self,
        outcome: Result<Result<T, E>, Elapsed>,
        late: &str,
    ) -> Option<T> {
        match outcome {
            Ok(Ok(value)) => Some(value),
            Ok(Err(e)) => {
                self.fail(e);
                None
            }
            Err(_) => {
                self.fail(late);
                None
            }
        }
    }

    pub(crate) fn merge(&mut self, other: Sample) {
        self.requests += other.requests;
        self.verified_bytes += other.verified_bytes;
        self.errors += other.errors;
        if let Some(e) = other.first_error {
            self.first_error.get_or_insert(e);
        }
        let _ = self.latency.add(&other.latency);
    }

    /// Counts a request that began at `began` and ends now, if it ends in the window.
    pub(crate) fn count(&mut self, began: Instant, from: Instant, until: Instant) {
        let ended = Instant::now();
        if ended >= from && ended <= until {
            self.requests += 1;
            self.record(ended - began);
        }
    }

    pub(crate) fn record(&mut self, latency: Duration) {
        let micros = u64::try_from(latency.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        self.latency.saturating_record(micros);
    }
}

fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

/// The server under load.
pub(crate) struct Target {
    /// Its port on 127.0.0.1.
    pub(crate) port: u16,
    /// Its process id (CPU time and RSS are read from `/proc`).
    pub(crate) pid: u32,
    /// The TLS client, for a TLS cell.
    pub(crate) tls: Option<TlsConnector>,
    /// Whether the RESP cells' load is `redis-benchmark` (else the built-in client).
    pub(crate) redis_benchmark: bool,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("port", &self.port)
            .field("pid", &self.pid)
            .field("tls", &self.tls.is_some())
            .field("redis_benchmark", &self.redis_benchmark)
            .finish()
    }
}

/// Drives `target` as `load` says; in the client cells with `imp`'s client.
pub(crate) async fn run(load: Load, imp: Impl, target: &Target, stop: Stop) -> Result<Sample> {
    match load {
        Load::RoundTrips {
            bytes,
            lines,
            connections,
        } => {
            round_trips(target, stop, connections, |conn| {
                requests(bytes, lines, conn)
            })
            .await
        }
        Load::Idle { connections } => idle(target.port, target.pid, connections).await,
        Load::Handshakes { loops } => handshakes(target, stop, loops).await,
        Load::Client { .. } => client::run(load, imp, target, stop).await,
        Load::Bulk { bytes, echo } => bulk::run(target, bytes, echo).await,
        Load::Resp {
            pipeline,
            connections,
        } => resp_load::run(target, pipeline, connections, stop).await,
    }
}

pub(crate) async fn connect(port: u16) -> io::Result<TcpStream> {
    let stream = TcpStream::connect(("127.0.0.1", port)).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// A client TLS stream.
type ClientTls = tokio_rustls::client::TlsStream<TcpStream>;

/// One load-generator connection.
enum Conn {
    Tcp(TcpStream),
    /// Split once, so that a request is written while its answer is read.
    Tls(ReadHalf<ClientTls>, WriteHalf<ClientTls>),
}

impl Conn {
    /// Connects (and handshakes, with `tls`).
    async fn open(port: u16, tls: Option<&TlsConnector>) -> io::Result<Conn> {
        let stream = connect(port).await?;
        match tls {
            None => Ok(Conn::Tcp(stream)),
            Some(connector) => {
                let stream = connector.connect(server_name(), stream).await?;
                let (read, write) = tokio::io::split(stream);
                Ok(Conn::Tls(read, write))
            }
        }
    }

    /// Sends `request` while reading `response.len()` bytes back.
    async fn round_trip(&mut self, request: &[u8], response: &mut [u8]) -> io::Result<()> {
        match self {
            Conn::Tcp(stream) => round_trip(stream, request, response).await,
            Conn::Tls(read, write) => {
                let send = async {
                    write.write_all(request).await?;
                    write.flush().await
                };
                let (sent, received) = tokio::join!(send, read.read_exact(response));
                sent?;
                received?;
                Ok(())
            }
        }
    }
}

async fn round_trips(
    target: &Target,
    stop: Stop,
    connections: usize,
    requests: impl Fn(usize) -> Vec<Vec<u8>>,
) -> Result<Sample> {
    let mut conns = Vec::with_capacity(connections);
    for _ in 0..connections {
        conns.push(Conn::open(target.port, target.tls.as_ref()).await?);
    }
    let (from, until) = stop.edges();
    let mut clients = JoinSet::new();
    for (i, conn) in conns.into_iter().enumerate() {
        clients.spawn(client(conn, requests(i), stop, from, until));
    }
    measure_window(target.pid, stop, from, until, clients).await
}

/// Samples the server's CPU time (and this process's, the client's) over `from..until`,
/// then collects the clients' figures. With a count there is no window: the clients
/// are awaited and the CPU figures are over the whole run.
pub(crate) async fn measure_window(
    pid: u32,
    stop: Stop,
    from: Instant,
    until: Instant,
    mut clients: JoinSet<Sample>,
) -> Result<Sample> {
    let started = Instant::now();
    sleep_until(from).await;
    let me = std::process::id();
    let (cpu_before, client_before) = (CpuTime::of(pid)?, CpuTime::of(me)?);
    if let Stop::Window(_) = stop {
        sleep_until(until).await;
    }
    let mut merged = Sample::new(0.0);
    if stop.count().is_some() {
        join_all(&mut clients, &mut merged).await?;
    }
    let mut sample = Sample::new(match stop {
        Stop::Window(w) => w.measure.as_secs_f64(),
        Stop::Count(_) => started.elapsed().as_secs_f64(),
    });
    sample.cpu = cpu_before.since(pid)?;
    sample.client_cpu = Some(client_before.since(me)?);
    sample.rss_bytes = rss_bytes(pid)?;
    join_all(&mut clients, &mut merged).await?;
    sample.merge(merged);
    Ok(sample)
}

async fn join_all(clients: &mut JoinSet<Sample>, into: &mut Sample) -> Result<()> {
    while let Some(done) = clients.join_next().await {
        into.merge(done?);
    }
    Ok(())
}

/// One connection's request loop, until `stop`.
async fn client(
    mut conn: Conn,
    requests: Vec<Vec<u8>>,
    stop: Stop,
    from: Instant,
    until: Instant,
) -> Sample {
    let mut stats = Sample::new(0.0);
    let mut response = vec![0; requests[0].len()];
    for request in requests.iter().cycle() {
        let began = Instant::now();
        if stop.done(stats.requests, began, until) {
            break;
        }
        if let Err(e) = exchange(&mut conn, request, &mut response).await {
            stats.fail(e);
            break;
        }
        stats.verified_bytes += response.len() as u64;
        stats.count(began, from, until);
    }
    stats
}

/// One verified request: sent, answered in time, and answered right.
async fn exchange(conn: &mut Conn, request: &[u8], response: &mut [u8]) -> Result<(), String> {
    match timeout(REQUEST_TIMEOUT, conn.round_trip(request, response)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(e.to_string()),
        Err(_) => return Err("no answer within 10 s".into()),
    }
    match first_difference(request, response) {
        Some(at) => Err(format!("wrong byte at offset {at} of a response")),
        None => Ok(()),
    }
}

async fn round_trip(stream: &mut TcpStream, request: &[u8], response: &mut [u8]) -> io::Result<()> {
    let (mut read, mut write) = stream.split();
    let (sent, received) = tokio::join!(write.write_all(request), read.read_exact(response));
    sent?;
    received?;
    Ok(())
}

/// `loops` concurrent handshake loops until `stop`.
async fn handshakes(target: &Target, stop: Stop, loops: usize) -> Result<Sample> {
    let connector = target
        .tls
        .clone()
        .context("the handshake cell needs a TLS client")?;
    let (from, until) = stop.edges();
    let mut clients = JoinSet::new();
    for _ in 0..loops {
        let connector = connector.clone();
        clients.spawn(handshake_loop(target.port, connector, stop, from, until));
    }
    measure_window(target.pid, stop, from, until, clients).await
}

/// Connect, handshake, round trip, close, again, until `stop`.
async fn handshake_loop(
    port: u16,
    connector: TlsConnector,
    stop: Stop,
    from: Instant,
    until: Instant,
) -> Sample {
    let mut stats = Sample::new(0.0);
    loop {
        let began = Instant::now();
        if stop.done(stats.requests, began, until) {
            break;
        }
        let handshake = timeout(REQUEST_TIMEOUT, handshake_once(port, &connector)).await;
        if stats
            .answered(handshake, "no handshake and echo within 10 s")
            .is_none()
        {
            break;
        }
        stats.verified_bytes += 1;
        stats.count(began, from, until);
    }
    stats
}

/// One TLS connection: handshake, a verified 1-byte echo, then a clean close: our
/// close_notify, and the server's close_notify and EOF in answer.
async fn handshake_once(port: u16, connector: &TlsConnector) -> io::Result<()> {
    let stream = connect(port).await?;
    let mut tls = connector.connect(server_name(), stream).await?;
    tls.write_all(b"x").await?;
    tls.flush().await?;
    let mut answer = [0u8];
    tls.read_exact(&mut answer).await?;
    if &answer != b"x" {
        return Err(io::Error::other("wrong echo after the handshake"));
    }
    tls.shutdown().await?;
    let mut rest = [0u8; 16];
    match tls.read(&mut rest).await? {
        0 => Ok(()),
        _ => Err(io::Error::other("unexpected bytes after the echo")),
    }
}

pub(crate) fn first_difference(expected: &[u8], got: &[u8]) -> Option<usize> {
    if expected == got {
        return None;
    }
    Some(
        expected
            .iter()
            .zip(got)
            .position(|(a, b)| a != b)
            .unwrap_or(0),
    )
}

/// `VARIANTS` pseudo-random requests of `bytes` bytes: raw bytes, or `lines` lines of
/// `LINE_LEN` bytes (letters, then `\n`).
pub(crate) fn requests(bytes: usize, lines: usize, conn: usize) -> Vec<Vec<u8>> {
    (0..VARIANTS)
        .map(|variant| {
            let mut random = XorShift::new((conn * VARIANTS + variant) as u64);
            (0..bytes)
                .map(|i| match lines {
                    0 => random.next_byte(),
                    _ if i % LINE_LEN == LINE_LEN - 1 => b'\n',
                    _ => b'a' + random.next_byte() % 26,
                })
                .collect()
        })
        .collect()
}

/// xorshift64*: cheap bytes without period problems at 64 KiB boundaries.
struct XorShift(u64);

impl XorShift {
    fn new(seed: u64) -> XorShift {
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn next_byte(&mut self) -> u8 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
    }
}

/// Opens `connections` with one 1-byte round trip each, then reads the server's RSS.
async fn idle(port: u16, pid: u32, connections: usize) -> Result<Sample> {
    let rss_before = rss_bytes(pid)?;
    let cpu_before = CpuTime::of(pid)?;
    let started = Instant::now();
    let mut openers = JoinSet::new();
    for opener in 0..IDLE_OPENERS {
        let share = connections / IDLE_OPENERS + usize::from(opener < connections % IDLE_OPENERS);
        openers.spawn(open_idle(port, share));
    }
    let mut sample = Sample::new(0.0);
    let mut held = Vec::with_capacity(connections);
    while let Some(done) = openers.join_next().await {
        let (streams, stats) = done?;
        held.extend(streams);
        sample.merge(stats);
    }
    sample.seconds = started.elapsed().as_secs_f64();
    sample.cpu = cpu_before.since(pid)?;
    sample.rss_bytes = rss_bytes(pid)?;
    let growth = sample.rss_bytes as f64 - rss_before as f64;
    sample.rss_per_conn = Some(growth / held.len().max(1) as f64);
    drop(held);
    Ok(sample)
}

/// Opens `count` connections one after another, one verified round trip on each.
async fn open_idle(port: u16, count: usize) -> (Vec<TcpStream>, Sample) {
    let mut stats = Sample::new(0.0);
    let mut streams = Vec::with_capacity(count);
    for _ in 0..count {
        let began = Instant::now();
        let opened = async {
            let mut stream = connect(port).await?;
            let mut answer = [0u8];
            round_trip(&mut stream, b"x", &mut answer).await?;
            match &answer {
                b"x" => Ok(stream),
                _ => Err(io::Error::other("wrong echo on an idle connection")),
            }
        };
        let opened = timeout(REQUEST_TIMEOUT, opened).await;
        let Some(stream) = stats.answered(opened, "no answer within 10 s") else {
            continue;
        };
        streams.push(stream);
        stats.requests += 1;
        stats.verified_bytes += 1;
        stats.record(began.elapsed());
    }
    (streams, stats)
}
