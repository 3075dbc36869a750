//! The check that keeps the one-binary layout whole (see `tests/all.rs`).

use std::path::Path;

/// The test files of `tests/` that `all_rs` (the text of a crate's `tests/all.rs`) does not
/// declare as `mod NAME;`, leaving out `all.rs` itself and the files in `alone` (binaries
/// of their own). With `autotests = false` such a file would silently never be compiled.
pub(crate) fn undeclared_test_files(tests_dir: &Path, all_rs: &str, alone: &[&str]) -> Vec<String> {
    let declared: Vec<&str> = all_rs
        .lines()
        .filter_map(|l| l.strip_prefix("mod ")?.strip_suffix(';'))
        .collect();
    let mut missing: Vec<String> = std::fs::read_dir(tests_dir)
        .expect("read the tests directory")
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            let module = name.strip_suffix(".rs")?.to_owned();
            (module != "all"
                && !alone.contains(&module.as_str())
                && !declared.contains(&module.as_str()))
            .then_some(module)
        })
        .collect();
    missing.sort();
    missing
}
