//! Counts lines, bytes and the longest line of a file (or stdin) with a `StreamReader`.
//!
//! ```text
//! cargo run --release -p aiostreams --example line_count -- [FILE] [--limit N]
//! ```
//!
//! Lines longer than the limit (default 64 KiB) are counted as over-long and skipped,
//! the way asyncio's `readline()` drops them.

use std::process::ExitCode;

use aiostreams::{DEFAULT_LIMIT, Error, StreamReader};
use tokio::io::AsyncRead;

#[derive(Debug, Default)]
struct Counts {
    lines: u64,
    bytes: u64,
    longest: usize,
    overlong: u64,
}

async fn count(mut reader: StreamReader) -> Result<Counts, Error> {
    let mut counts = Counts::default();
    loop {
        match reader.readline().await {
            Ok(line) if line.is_empty() => return Ok(counts),
            Ok(line) => {
                counts.lines += 1;
                counts.bytes += line.len() as u64;
                counts.longest = counts.longest.max(line.len());
            }
            Err(Error::LimitOverrun { .. }) => counts.overlong += 1,
            Err(err) => return Err(err),
        }
    }
}

fn parse_args() -> Result<(Option<String>, usize), String> {
    let mut path = None;
    let mut limit = DEFAULT_LIMIT;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--limit" {
            let value = args.next().ok_or("--limit needs a value")?;
            limit = value
                .parse()
                .map_err(|_| format!("--limit: not a number: {value}"))?;
        } else if path.is_none() {
            path = Some(arg);
        } else {
            return Err(format!("unexpected argument: {arg}"));
        }
    }
    Ok((path, limit))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let (path, limit) = match parse_args() {
        Ok(args) => args,
        Err(msg) => {
            eprintln!("line_count: {msg}\nusage: line_count [FILE] [--limit N]");
            return ExitCode::from(2);
        }
    };
    let source: Box<dyn AsyncRead + Send + Unpin> = match &path {
        Some(p) => match tokio::fs::File::open(p).await {
            Ok(f) => Box::new(f),
            Err(e) => {
                eprintln!("line_count: {p}: {e}");
                return ExitCode::FAILURE;
            }
        },
        None => Box::new(tokio::io::stdin()),
    };
    let reader = match StreamReader::from_io_with_limit(source, limit) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("line_count: --limit: {e}");
            return ExitCode::from(2);
        }
    };
    match count(reader).await {
        Ok(c) => {
            println!(
                "lines: {}  bytes: {}  longest: {}  over limit ({limit}): {}",
                c.lines, c.bytes, c.longest, c.overlong
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("line_count: {e}");
            ExitCode::FAILURE
        }
    }
}
