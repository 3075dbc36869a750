//! The machine side of the bench: file-descriptor limit, CPU pinning, `/proc` figures.
//!
//! Linux only, through `/proc` and util-linux's `taskset`; no `libc` calls.

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

/// Open files the bench needs: 1,000 idle connections plus slack (servers inherit it).
const NEEDED_FDS: u64 = 4096;
/// What the bench raises the limit to when it is lower.
const WANTED_FDS: u64 = 8192;
/// Set in the re-executed bench so it does not try again.
const REEXEC_GUARD: &str = "AIOSTREAMS_BENCH_ULIMIT";

/// Re-executes the bench under `ulimit -n 8192` when the open-file limit is too low.
///
/// Returns only when the limit is high enough (or was already raised once).
pub(crate) fn ensure_fd_limit() -> Result<()> {
    let soft = open_files_limit().unwrap_or(u64::MAX);
    if soft >= NEEDED_FDS || std::env::var_os(REEXEC_GUARD).is_some() {
        return Ok(());
    }
    let script = format!(
        "ulimit -n {WANTED_FDS} 2>/dev/null || ulimit -n \"$(ulimit -H -n)\"; exec \"$0\" \"$@\""
    );
    let exe = std::env::current_exe()?;
    let err = Command::new("sh")
        .arg("-c")
        .arg(script)
        .arg(exe)
        .args(std::env::args_os().skip(1))
        .env(REEXEC_GUARD, "1")
        .exec();
    Err(err).context("re-executing the bench with a higher open-file limit")
}

/// The soft `Max open files` of this process, from `/proc/self/limits`.
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    let soft = line
        .trim_start_matches("Max open files")
        .split_whitespace()
        .next()?;
    soft.parse().ok()
}

/// Whether `taskset` can be run.
pub(crate) fn has_taskset() -> bool {
    Command::new("taskset")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Pins every thread of this process (and the threads it starts later) to `cpu`.
pub(crate) fn pin_self(cpu: usize) -> Result<()> {
    let status = Command::new("taskset")
        .args([
            "-a",
            "-p",
            "-c",
            &cpu.to_string(),
            &std::process::id().to_string(),
        ])
        .stdout(Stdio::null())
        .status()
        .context("running taskset")?;
    if !status.success() {
        bail!("taskset -p -c {cpu} failed: {status}");
    }
    Ok(())
}

/// Clock ticks per second for `/proc/<pid>/stat` times (`getconf CLK_TCK`, else 100).
pub(crate) fn clock_ticks_per_sec() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|&t| t > 0)
        .unwrap_or(100)
}

/// The 1-minute load average (`/proc/loadavg`), if readable.
pub(crate) fn load_average() -> Option<f64> {
    let loadavg = std::fs::read_to_string("/proc/loadavg").ok()?;
    loadavg.split_whitespace().next()?.parse().ok()
}

/// The current UTC time as `YYYY-MM-DDTHH:MM:SSZ` (`date -u`), or `unknown`.
pub(crate) fn utc_now() -> String {
    command_line("date", &["-u", "+%Y-%m-%dT%H:%M:%SZ"]).unwrap_or_else(|| "unknown".into())
}

/// The kernel's name and release (`uname -sr`), or `unknown`.
pub(crate) fn kernel() -> String {
    command_line("uname", &["-sr"]).unwrap_or_else(|| "unknown".into())
}

/// The CPU model of `/proc/cpuinfo`, or `unknown`.
pub(crate) fn cpu_model() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find(|l| l.starts_with("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, model)| model.trim().to_owned());
    model.unwrap_or_else(|| "unknown".into())
}

/// The first line `program args` prints, when it succeeds.
fn command_line(program: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(program).args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    out.status
        .success()
        .then(|| text.lines().next().unwrap_or("").trim().to_owned())
}

/// User plus system CPU time of `pid`, in clock ticks (`/proc/<pid>/stat` fields 14, 15).
fn cpu_ticks(pid: u32) -> Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    parse_cpu_ticks(&stat).with_context(|| format!("unexpected /proc/{pid}/stat"))
}

fn parse_cpu_ticks(stat: &str) -> Option<u64> {
    // The command name (field 2) may hold spaces: count fields after its ')'.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11); // field 3 is the first here
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// The CPU time of `pid`'s live threads in nanoseconds (the first field of each
/// `/proc/<pid>/task/<tid>/schedstat`): precise where `/proc/<pid>/stat` counts 10 ms
/// ticks, but a thread that exited is no longer counted.
fn threads_cpu_nanos(pid: u32) -> Result<u64> {
    let mut nanos = 0;
    for entry in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        // A thread may exit between the listing and the read: it is then left out.
        let Ok(schedstat) = std::fs::read_to_string(entry?.path().join("schedstat")) else {
            continue;
        };
        let thread: u64 = schedstat
            .split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .with_context(|| format!("unexpected schedstat of a thread of {pid}"))?;
        nanos += thread;
    }
    Ok(nanos)
}

/// A process's CPU time (user + system) so far, or over a window: its 10 ms ticks
/// (`/proc/<pid>/stat`) and its live threads' nanoseconds (`schedstat`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct CpuTime {
    /// Clock ticks: every thread's, exited ones too, but coarse.
    pub(crate) ticks: u64,
    /// Nanoseconds of the threads alive at the reading: precise, but a thread that
    /// exited in between is missing.
    pub(crate) nanos: u64,
}

impl CpuTime {
    /// `pid`'s CPU time so far.
    pub(crate) fn of(pid: u32) -> Result<CpuTime> {
        Ok(CpuTime {
            ticks: cpu_ticks(pid)?,
            nanos: threads_cpu_nanos(pid)?,
        })
    }

    /// `pid`'s CPU time since `self` was read.
    pub(crate) fn since(self, pid: u32) -> Result<CpuTime> {
        let now = CpuTime::of(pid)?;
        Ok(CpuTime {
            ticks: now.ticks.saturating_sub(self.ticks),
            nanos: now.nanos.saturating_sub(self.nanos),
        })
    }

    /// Microseconds: the nanoseconds, when they agree with the ticks within the two
    /// ticks that rounding at both ends can lose; else the ticks (a thread that worked
    /// exited in the window, as `floor`'s thread per connection does).
    pub(crate) fn micros(self, ticks_per_sec: u64) -> f64 {
        let tick_us = 1e6 / ticks_per_sec as f64;
        let ticks_us = self.ticks as f64 * tick_us;
        let nanos_us = self.nanos as f64 / 1e3;
        if (nanos_us - ticks_us).abs() <= 2.0 * tick_us {
            nanos_us
        } else {
            ticks_us
        }
    }
}

/// The resident set size of `pid` in bytes (`VmRSS` of `/proc/<pid>/status`).
pub(crate) fn rss_bytes(pid: u32) -> Result<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    parse_vm_rss(&status).with_context(|| format!("no VmRSS in /proc/{pid}/status"))
}

fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

#[cfg(test)]
mod tests {
    use super::{CpuTime, parse_cpu_ticks, parse_vm_rss};

    #[test]
    fn cpu_ticks_are_fields_14_and_15() {
        let stat = "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 7 5 0 0 20 0 1 0 9 1 1";
        assert_eq!(parse_cpu_ticks(stat), Some(12));
    }

    #[test]
    fn vm_rss_is_in_kib() {
        let status = "Name:\tx\nVmPeak:\t 9 kB\nVmRSS:\t    1234 kB\nThreads: 1\n";
        assert_eq!(parse_vm_rss(status), Some(1234 * 1024));
    }

    #[test]
    fn nanoseconds_are_used_when_they_agree_with_the_ticks() {
        let cpu = |ticks, nanos| CpuTime { ticks, nanos }.micros(100);
        assert_eq!(cpu(3, 31_234_000), 31_234.0);
        assert_eq!(cpu(30, 1_000_000), 300_000.0);
    }

    #[test]
    fn this_process_has_figures() {
        let pid = std::process::id();
        assert!(super::cpu_ticks(pid).is_ok());
        let before = super::threads_cpu_nanos(pid).unwrap();
        // Spin until the counter shows 10 ms of CPU (bounded): on a loaded machine 20 ms
        // of wall time gave this thread less than 10 ms of CPU.
        let spin = std::time::Instant::now();
        let mut after = before;
        while after < before + 10_000_000 && spin.elapsed() < std::time::Duration::from_secs(10) {
            after = super::threads_cpu_nanos(pid).unwrap();
        }
        assert!(after >= before + 10_000_000, "{before} {after}");
        assert!(super::rss_bytes(pid).unwrap() > 0);
    }
}
