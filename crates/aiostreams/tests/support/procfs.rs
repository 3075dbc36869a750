//! What this process holds, read from `/proc/self` (Linux): open descriptors, the
//! descriptor limit, resident memory. Included by path by the test binaries that count
//! them (each is a binary of its own: another test's sockets would be counted too).

use std::collections::BTreeMap;
use std::path::PathBuf;

/// This process's open descriptors and what they point at.
pub(crate) fn open_fds() -> BTreeMap<u32, PathBuf> {
    std::fs::read_dir("/proc/self/fd")
        .expect("read /proc/self/fd")
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let fd = entry.file_name().to_str()?.parse().ok()?;
            let target = std::fs::read_link(entry.path()).ok()?;
            // Skip the descriptor of the directory being listed.
            (!target.ends_with("fd")).then_some((fd, target))
        })
        .collect()
}

pub(crate) fn assert_same_fds(before: &BTreeMap<u32, PathBuf>, after: &BTreeMap<u32, PathBuf>) {
    let left: Vec<_> = after
        .iter()
        .filter(|(fd, _)| !before.contains_key(fd))
        .collect();
    let gone: Vec<_> = before
        .iter()
        .filter(|(fd, _)| !after.contains_key(fd))
        .collect();
    assert!(
        left.is_empty() && gone.is_empty(),
        "{} fds before, {} after; left open: {left:?}; closed: {gone:?}",
        before.len(),
        after.len()
    );
}

/// The soft and hard `RLIMIT_NOFILE` (`Max open files` in `/proc/self/limits`).
pub(crate) fn nofile_limits() -> (u64, u64) {
    let limits = std::fs::read_to_string("/proc/self/limits").expect("read /proc/self/limits");
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .expect("a `Max open files` line in /proc/self/limits");
    let value = |field: &str| match field {
        "unlimited" => u64::MAX,
        n => n.parse().expect("a number of files"),
    };
    let fields: Vec<&str> = line.split_whitespace().collect();
    (value(fields[3]), value(fields[4]))
}

/// This process's resident memory (`VmRSS` in `/proc/self/status`), in KiB.
pub(crate) fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("a VmRSS line in /proc/self/status")
}
