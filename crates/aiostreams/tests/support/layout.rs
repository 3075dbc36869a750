//! The check that keeps the one-binary layout whole (see `tests/all.rs`).

use std::path::Path;

/// The test files of `tests/` (`NAME.rs`, or a directory module `NAME/mod.rs`) that
/// `all_rs` (the text of a crate's `tests/all.rs`) does not declare as `mod NAME;`, leaving
/// out `all.rs` itself, `support/` and the files in `alone` (binaries of their own). With
/// `autotests = false` such a file would silently never be compiled.
pub(crate) fn undeclared_test_files(tests_dir: &Path, all_rs: &str, alone: &[&str]) -> Vec<String> {
    let declared: Vec<&str> = all_rs
        .lines()
        .filter_map(|l| l.strip_prefix("mod ")?.strip_suffix(';'))
        .collect();
    let mut missing: Vec<String> = std::fs::read_dir(tests_dir)
        .expect("read the tests directory")
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let name = entry.file_name().into_string().ok()?;
            let module = match name.strip_suffix(".rs") {
                Some(module) => module.to_owned(),
                None if entry.path().join("mod.rs").is_file() => name,
                None => return None,
            };
            (module != "all"
                && module != "support"
                && !alone.contains(&module.as_str())
                && !declared.contains(&module.as_str()))
            .then_some(module)
        })
        .collect();
    missing.sort();
    missing
}
