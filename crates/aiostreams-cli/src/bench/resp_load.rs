//! The RESP cells' load: `redis-benchmark -t set,get` when installed, else a built-in
//! RESP client doing the same.
//!
//! redis-benchmark runs `-n N` SETs, then `-n N` GETs, over `-c` connections with `-P`
//! commands pipelined (it does not check answers). A first, short run is the warm-up and
//! gauges the rate, from which N is chosen so that the measured run lasts about the
//! window. Its CSV gives p50/p99 (the mean of SET's and GET's).
//!
//! The built-in client: each connection has its own key and alternates `SET key v` and
//! `GET key`, `pipeline` commands per write, then reads and checks every answer (`+OK`,
//! and the value the previous SET stored).

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::task::JoinSet;
use tokio::time::{Instant, timeout};

use super::load::{REQUEST_TIMEOUT, Sample, Stop, Target, connect, measure_window};
use super::system::{CpuTime, rss_bytes};

/// Commands per second assumed when sizing the warm-up run: a low guess for a busy
/// machine, pipelined and not.
fn assumed_rate(pipeline: usize) -> f64 {
    if pipeline > 1 { 100_000.0 } else { 10_000.0 }
}

/// The fewest SETs (and GETs) of a redis-benchmark run.
const MIN_PER_TEST: u64 = 1000;

/// Runs the cell's load against the RESP server at `target`.
pub(crate) async fn run(
    target: &Target,
    pipeline: usize,
    connections: usize,
    stop: Stop,
) -> Result<Sample> {
    if target.redis_benchmark {
        let per_test = match stop {
            Stop::Window(w) => {
                let warmup = w.warmup.as_secs_f64() * assumed_rate(pipeline) / 2.0;
                let warm = redis_benchmark(target, pipeline, connections, per_test(warmup))?;
                let rate = warm.requests as f64 / warm.seconds.max(1e-3);
                per_test(w.measure.as_secs_f64() * rate / 2.0)
            }
            Stop::Count(n) => n * connections as u64 / 2,
        };
        return redis_benchmark(target, pipeline, connections, per_test);
    }
    let (from, until) = stop.edges();
    let mut clients = JoinSet::new();
    for conn in 0..connections {
        let stream = connect(target.port).await?;
        clients.spawn(client(stream, conn, pipeline, stop, from, until));
    }
    measure_window(target.pid, stop, from, until, clients).await
}

fn per_test(commands: f64) -> u64 {
    (commands as u64).max(MIN_PER_TEST)
}

/// One `redis-benchmark` run; blocks this thread (the load generator has nothing else
/// to do meanwhile).
fn redis_benchmark(target: &Target, pipeline: usize, conns: usize, n: u64) -> Result<Sample> {
    let mut cmd = Command::new("redis-benchmark");
    cmd.args(["-h", "127.0.0.1", "-p", &target.port.to_string()]);
    cmd.args(["-c", &conns.to_string(), "-n", &n.to_string()]);
    cmd.args(["-P", &pipeline.to_string(), "-t", "set,get", "--csv"]);
    cmd.stdin(Stdio::null()).stderr(Stdio::null());
    let cpu_before = CpuTime::of(target.pid)?;
    let started = Instant::now();
    let out = cmd.output().context("running redis-benchmark")?;
    let elapsed = started.elapsed();
    let cpu = cpu_before.since(target.pid)?;
    if !out.status.success() {
        bail!("redis-benchmark failed: {}", out.status);
    }
    let csv = String::from_utf8_lossy(&out.stdout);
    let tests = parse_csv(&csv).with_context(|| format!("redis-benchmark printed {csv:?}"))?;
    let mut sample = Sample::new(elapsed.as_secs_f64());
    sample.requests = 2 * n;
    sample.cpu = cpu;
    sample.rss_bytes = rss_bytes(target.pid)?;
    let mean = |f: fn(&Test) -> f64| tests.iter().map(f).sum::<f64>() / tests.len() as f64;
    sample.record(Duration::from_secs_f64(mean(|t| t.p50_ms) / 1e3));
    sample.record(Duration::from_secs_f64(mean(|t| t.p99_ms) / 1e3));
    Ok(sample)
}

/// One row of redis-benchmark's CSV.
#[derive(Debug, PartialEq)]
struct Test {
    p50_ms: f64,
    p99_ms: f64,
}

/// `"test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms",...,"p99_latency_ms",...`.
fn parse_csv(csv: &str) -> Option<Vec<Test>> {
    let mut lines = csv.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines
        .next()?
        .split(',')
        .map(|f| f.trim_matches('"'))
        .collect();
    let column = |name: &str| header.iter().position(|&h| h == name);
    let (p50, p99) = (column("p50_latency_ms")?, column("p99_latency_ms")?);
    let tests: Option<Vec<Test>> = lines
        .map(|line| {
            let fields: Vec<&str> = line.split(',').map(|f| f.trim_matches('"')).collect();
            Some(Test {
                p50_ms: fields.get(p50)?.parse().ok()?,
                p99_ms: fields.get(p99)?.parse().ok()?,
            })
        })
        .collect();
    tests.filter(|t| t.len() == 2)
}

/// The built-in client's connection loop.
async fn client(
    mut stream: tokio::net::TcpStream,
    conn: usize,
    pipeline: usize,
    stop: Stop,
    from: Instant,
    until: Instant,
) -> Sample {
    let mut stats = Sample::new(0.0);
    let key = format!("key:{conn:06}");
    let (mut request, mut expected) = (Vec::new(), Vec::new());
    let mut answer = Vec::new();
    let mut n = 0u64;
    loop {
        let began = Instant::now();
        if stop.done(stats.requests, began, until) {
            break;
        }
        request.clear();
        expected.clear();
        for _ in 0..pipeline {
            command(n, &key, &mut request, &mut expected);
            n += 1;
        }
        answer.resize(expected.len(), 0);
        let exchange = async {
            stream.write_all(&request).await?;
            stream.read_exact(&mut answer).await
        };
        match timeout(REQUEST_TIMEOUT, exchange).await {
            Ok(Ok(_)) if answer == expected => {}
            Ok(Ok(_)) => stats.fail("a wrong answer"),
            Ok(Err(e)) => stats.fail(e),
            Err(_) => stats.fail("no answer within 10 s"),
        }
        if stats.errors > 0 {
            break;
        }
        stats.verified_bytes += answer.len() as u64;
        for _ in 0..pipeline {
            stats.count(began, from, until);
        }
    }
    stats
}

/// Appends command `n` (even: SET, odd: GET of what the SET before stored) and its answer.
fn command(n: u64, key: &str, request: &mut Vec<u8>, expected: &mut Vec<u8>) {
    let value = format!("{:03}", (n / 2) % 1000);
    let k = key.len();
    if n.is_multiple_of(2) {
        let _ = write!(
            request,
            "*3\r\n$3\r\nSET\r\n${k}\r\n{key}\r\n$3\r\n{value}\r\n"
        );
        expected.extend_from_slice(b"+OK\r\n");
    } else {
        let _ = write!(request, "*2\r\n$3\r\nGET\r\n${k}\r\n{key}\r\n");
        let _ = write!(expected, "$3\r\n{value}\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::{Test, command, parse_csv};

    #[test]
    fn csv_of_redis_benchmark_7() {
        let csv = "\"test\",\"rps\",\"avg_latency_ms\",\"min_latency_ms\",\"p50_latency_ms\",\"p95_latency_ms\",\"p99_latency_ms\",\"max_latency_ms\"\n\"SET\",\"462962.94\",\"1.561\",\"0.248\",\"0.919\",\"7.735\",\"13.719\",\"14.823\"\n\"GET\",\"847457.62\",\"0.741\",\"0.248\",\"0.775\",\"0.887\",\"1.407\",\"3.975\"\n";
        let tests = parse_csv(csv).unwrap();
        assert_eq!(
            tests[1],
            Test {
                p50_ms: 0.775,
                p99_ms: 1.407
            }
        );
        assert!(parse_csv("\"test\",\"rps\"\n").is_none());
    }

    #[test]
    fn a_get_expects_the_set_before_it() {
        let (mut request, mut expected) = (Vec::new(), Vec::new());
        command(6, "k", &mut request, &mut expected);
        command(7, "k", &mut request, &mut expected);
        assert_eq!(
            request,
            b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3\r\n003\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
        );
        assert_eq!(expected, b"+OK\r\n$3\r\n003\r\n");
    }
}
