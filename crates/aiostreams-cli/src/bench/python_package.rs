//! The Python package the `py-aiostreams*` implementations measure: built from this
//! source tree, never whatever `aiostreams` the interpreter has installed.
//!
//! Once per bench run, before the first Python server starts: the extension
//! (`crates/aiostreams-py`, release profile) is built with cargo as maturin builds it
//! (`PYO3_BUILD_EXTENSION_MODULE`: no libpython link), put with the package's Python
//! files in `<target>/bench-python/site/aiostreams/`, and that directory goes first on
//! the servers' `PYTHONPATH` (ahead of site-packages, so an installed `aiostreams` is
//! shadowed and uvloop stays importable). A stamp holds the hash of the sources the
//! build came from: when they are unchanged, nothing is rebuilt. A probe import checks
//! that the interpreter loads the package from there; when the build or the probe
//! fails, the Python implementations of the package are skipped with the reason.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Serialize;

use super::cell::Impl;

/// What the sources' hash covers (relative to the tree's root): everything the
/// extension and its Python files are built from.
const SOURCES: [&str; 8] = [
    "Cargo.toml",
    "Cargo.lock",
    "crates/aiostreams/Cargo.toml",
    "crates/aiostreams/src",
    "crates/aiostreams-py/Cargo.toml",
    "crates/aiostreams-py/pyproject.toml",
    "crates/aiostreams-py/src",
    "crates/aiostreams-py/python",
];

/// The package's directory in the tree, and its Python files inside it.
const PACKAGE: &str = "crates/aiostreams-py";
const PYTHON_FILES: &str = "crates/aiostreams-py/python/aiostreams";

/// The extension's file name in the built package (what maturin names an abi3 build).
const EXTENSION: &str = "_native.abi3.so";

/// Which build the Python implementations measure (in the JSON's `run.python_package`).
#[derive(Clone, Debug, Serialize)]
pub(crate) struct PackageInfo {
    /// The crate's version (`aiostreams-py`, the wheel's version).
    pub(crate) version: String,
    /// The tree's commit (`git rev-parse --short HEAD`), when it is a git checkout.
    pub(crate) commit: Option<String>,
    /// Whether the hashed sources differ from that commit (`git status`).
    pub(crate) uncommitted_changes: bool,
    /// The hash of the sources it was built from (FNV-1a, 64 bits, hex).
    pub(crate) sources: String,
    /// Whether this run built it (false: the stamp showed the sources unchanged).
    pub(crate) rebuilt: bool,
}

/// The built package, ready for the servers' `PYTHONPATH`.
#[derive(Debug)]
pub(crate) struct Package {
    /// The directory holding `aiostreams/`.
    pub(crate) site: PathBuf,
    /// What was built.
    pub(crate) info: PackageInfo,
}

impl Package {
    /// Builds the package from `tree` into `out` unless the stamp there shows the same
    /// sources, then checks that `python` imports it from there. The error is the
    /// reason, for the skip note.
    pub(crate) fn prepare(tree: &Path, out: &Path, python: &Path) -> Result<Package, String> {
        if !tree.join(PACKAGE).join("Cargo.toml").is_file() {
            return Err(format!(
                "the package's sources are not in {} (the bench measures the package \
                 built from the tree it was compiled in)",
                tree.join(PACKAGE).display()
            ));
        }
        let sources = source_hash(tree).map_err(|e| format!("hashing the sources: {e}"))?;
        let site = out.join("site");
        let stamp = out.join("stamp");
        let (version, rebuilt) = match unchanged(&stamp, &site, &sources) {
            Some(version) => (version, false),
            None => {
                let version = build(tree, &site, python)?;
                let text = format!("sources {sources}\nversion {version}\n");
                fs::write(&stamp, text).map_err(|e| format!("writing {}: {e}", stamp.display()))?;
                (version, true)
            }
        };
        probe(python, &site)?;
        let (commit, uncommitted_changes) = git_commit(tree);
        let info = PackageInfo {
            version,
            commit,
            uncommitted_changes,
            sources,
            rebuilt,
        };
        Ok(Package { site, info })
    }

    /// The note printed before the run: which build is measured.
    pub(crate) fn note(&self) -> String {
        let info = &self.info;
        let commit = match &info.commit {
            Some(c) if info.uncommitted_changes => format!("commit {c} + uncommitted changes, "),
            Some(c) => format!("commit {c}, "),
            None => String::new(),
        };
        let when = if info.rebuilt {
            "built now"
        } else {
            "unchanged since its last build"
        };
        format!(
            "py-aiostreams measures the package built from this tree: aiostreams-py {}, \
             {commit}sources {} ({when}, release, {})",
            info.version,
            info.sources,
            self.site.display()
        )
    }

    /// `PYTHONPATH` for a server: the package first, then what the environment had.
    pub(crate) fn python_path(&self) -> std::ffi::OsString {
        let mut paths = vec![self.site.clone()];
        if let Some(old) = std::env::var_os("PYTHONPATH") {
            paths.extend(std::env::split_paths(&old));
        }
        std::env::join_paths(paths).unwrap_or_else(|_| self.site.clone().into_os_string())
    }
}

/// Whether `imp` serves with the package (`asyncio_server.py --aiostreams`).
pub(crate) fn uses_package(imp: Impl) -> bool {
    matches!(imp, Impl::PyAiostreams | Impl::PyAiostreamsUvloop)
}

/// The source tree this executable was compiled from, and where its builds go.
pub(crate) fn tree_and_out() -> (PathBuf, PathBuf) {
    let tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let tree = tree.canonicalize().unwrap_or(tree);
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| tree.join("target"));
    (tree, target.join("bench-python"))
}

/// The version the stamp records, when it was written for `sources` and the built
/// package is still there.
fn unchanged(stamp: &Path, site: &Path, sources: &str) -> Option<String> {
    let text = fs::read_to_string(stamp).ok()?;
    let mut lines = text.lines();
    let hash = lines.next()?.strip_prefix("sources ")?;
    let version = lines.next()?.strip_prefix("version ")?;
    let built = site.join("aiostreams").join(EXTENSION).is_file();
    (hash == sources && built).then(|| version.to_owned())
}

/// Builds the extension and lays out the package in `site`; returns the crate's version.
fn build(tree: &Path, site: &Path, python: &Path) -> Result<String, String> {
    eprintln!("building the Python package (crates/aiostreams-py, release) for the bench ...");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["build", "--release", "--lib", "-p", "aiostreams-py"])
        .args([
            "--message-format",
            "json-render-diagnostics",
            "--manifest-path",
        ])
        .arg(tree.join("Cargo.toml"))
        .env("PYO3_BUILD_EXTENSION_MODULE", "1")
        .env("PYO3_PYTHON", python)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("running cargo to build the package: {e}"))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let first_error = stderr
            .lines()
            .find(|l| l.starts_with("error"))
            .unwrap_or_else(|| stderr.lines().last().unwrap_or(""));
        return Err(format!(
            "building the package from this tree failed ({}): {first_error}",
            output.status
        ));
    }
    let (library, version) = artifact(&String::from_utf8_lossy(&output.stdout))
        .ok_or("cargo built the package but reported no extension library")?;
    lay_out(tree, site, &library).map_err(|e| format!("laying out {}: {e}", site.display()))?;
    Ok(version)
}

/// The extension library and the crate's version from cargo's JSON messages.
fn artifact(messages: &str) -> Option<(PathBuf, String)> {
    messages.lines().find_map(|line| {
        let message: serde_json::Value = serde_json::from_str(line).ok()?;
        if message["reason"] != "compiler-artifact" || message["target"]["name"] != "_native" {
            return None;
        }
        let library = message["filenames"]
            .as_array()?
            .iter()
            .filter_map(|f| f.as_str())
            .find(|f| f.ends_with(".so"))?;
        // "path+file:///.../crates/aiostreams-py#aiostreams-py@0.1.0" (older cargo: "#0.1.0").
        let id = message["package_id"].as_str()?;
        let version = id.rsplit(['@', '#']).next()?;
        Some((PathBuf::from(library), version.to_owned()))
    })
}

/// `site/aiostreams/`: the package's Python files and the extension.
fn lay_out(tree: &Path, site: &Path, library: &Path) -> io::Result<()> {
    if site.exists() {
        fs::remove_dir_all(site)?;
    }
    let package = site.join("aiostreams");
    fs::create_dir_all(&package)?;
    for entry in fs::read_dir(tree.join(PYTHON_FILES))? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            fs::copy(entry.path(), package.join(entry.file_name()))?;
        }
    }
    fs::copy(library, package.join(EXTENSION))?;
    Ok(())
}

/// Checks that `python` with `site` on its path imports the package from `site`.
fn probe(python: &Path, site: &Path) -> Result<(), String> {
    let output = Command::new(python)
        .args(["-c", "import aiostreams._native as n; print(n.__file__)"])
        .env("PYTHONPATH", site)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("running {}: {e}", python.display()))?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let loaded = PathBuf::from(stdout.trim());
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().last().unwrap_or("");
        return Err(format!("the built package does not import: {last}"));
    }
    let expected = site.join("aiostreams").join(EXTENSION);
    let same = |a: &Path, b: &Path| a.canonicalize().ok() == b.canonicalize().ok();
    if !same(&loaded, &expected) {
        return Err(format!(
            "python imported aiostreams from {} instead of the build in {}",
            loaded.display(),
            site.display()
        ));
    }
    Ok(())
}

/// The tree's commit and whether the hashed sources have changes not in it; `(None,
/// false)` outside a git checkout or without git.
fn git_commit(tree: &Path) -> (Option<String>, bool) {
    let git = |args: &[&str]| {
        let output = Command::new("git")
            .arg("-C")
            .arg(tree)
            .args(args)
            .stderr(Stdio::null())
            .output()
            .ok()?;
        output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
    };
    let Some(commit) = git(&["rev-parse", "--short", "HEAD"]) else {
        return (None, false);
    };
    let mut status = vec!["status", "--porcelain", "--"];
    status.extend(SOURCES);
    let changed = git(&status).is_some_and(|s| !s.is_empty());
    (Some(commit), changed)
}

/// FNV-1a (64 bits, hex) over the relative path, length and bytes of every file under
/// [`SOURCES`], in sorted order (missing entries are skipped: their absence is hashed by
/// the others' paths).
pub(crate) fn source_hash(tree: &Path) -> io::Result<String> {
    let mut files = Vec::new();
    for source in SOURCES {
        collect(&tree.join(source), &mut files)?;
    }
    files.sort();
    let mut hash = Fnv::default();
    for file in files {
        let relative = file.strip_prefix(tree).unwrap_or(&file);
        let bytes = fs::read(&file)?;
        hash.write(relative.to_string_lossy().as_bytes());
        hash.write(&(bytes.len() as u64).to_le_bytes());
        hash.write(&bytes);
    }
    Ok(format!("{:016x}", hash.0))
}

/// Every file under `path` (itself when it is a file), skipping Python caches.
fn collect(path: &Path, files: &mut Vec<PathBuf>) -> io::Result<()> {
    if path.is_file() {
        files.push(path.to_owned());
    } else if path.is_dir() {
        for entry in fs::read_dir(path)? {
            let path = entry?.path();
            if path.file_name().is_some_and(|n| n == "__pycache__") {
                continue;
            }
            collect(&path, files)?;
        }
    }
    Ok(())
}

/// 64-bit FNV-1a: a stable hash, the same in every build of this executable (std's
/// hashers promise no such thing).
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{EXTENSION, Package, source_hash, unchanged};
    use std::fs;
    use std::path::Path;

    fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    #[test]
    fn the_source_hash_follows_every_source_file_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path();
        write(&tree.join("Cargo.toml"), "[workspace]\n");
        write(&tree.join("crates/aiostreams-py/src/lib.rs"), "fn a() {}\n");
        let first = source_hash(tree).unwrap();
        assert_eq!(first.len(), 16);
        assert_eq!(source_hash(tree).unwrap(), first, "not stable");
        // Files outside the sources and Python caches do not count.
        write(&tree.join("README.md"), "words\n");
        write(&tree.join("crates/aiostreams-py/tests/t.py"), "pass\n");
        write(
            &tree.join("crates/aiostreams-py/python/aiostreams/__pycache__/x.pyc"),
            "cache",
        );
        assert_eq!(source_hash(tree).unwrap(), first);
        // One byte changed, a file added, a file renamed: each changes the hash.
        write(&tree.join("crates/aiostreams-py/src/lib.rs"), "fn b() {}\n");
        let changed = source_hash(tree).unwrap();
        assert_ne!(changed, first);
        write(&tree.join("crates/aiostreams/src/sansio.rs"), "");
        let added = source_hash(tree).unwrap();
        assert_ne!(added, changed);
        fs::rename(
            tree.join("crates/aiostreams/src/sansio.rs"),
            tree.join("crates/aiostreams/src/other.rs"),
        )
        .unwrap();
        assert_ne!(source_hash(tree).unwrap(), added);
    }

    #[test]
    fn the_stamp_reuses_a_build_only_for_the_same_sources_with_the_build_present() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        let stamp = out.join("stamp");
        let site = out.join("site");
        assert_eq!(unchanged(&stamp, &site, "00ff"), None, "no stamp yet");
        write(&stamp, "sources 00ff\nversion 0.1.0\n");
        assert_eq!(unchanged(&stamp, &site, "00ff"), None, "no built package");
        write(&site.join("aiostreams").join(EXTENSION), "");
        assert_eq!(unchanged(&stamp, &site, "00ff").as_deref(), Some("0.1.0"));
        assert_eq!(unchanged(&stamp, &site, "00fe"), None, "other sources");
        write(&stamp, "garbage\n");
        assert_eq!(unchanged(&stamp, &site, "00ff"), None);
    }

    #[test]
    fn a_tree_without_the_package_or_a_failing_build_is_a_reason_not_a_stale_package() {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path();
        let out = tree.join("out");
        let python = Path::new("python3");
        let why = Package::prepare(tree, &out, python).unwrap_err();
        assert!(why.contains("sources are not in"), "{why}");
        write(&tree.join("Cargo.toml"), "this is not a manifest");
        write(&tree.join("crates/aiostreams-py/Cargo.toml"), "[package]\n");
        let why = Package::prepare(tree, &out, python).unwrap_err();
        assert!(
            why.starts_with("building the package from this tree failed"),
            "{why}"
        );
        assert!(why.contains("error"), "{why}");
        assert!(!out.join("stamp").exists(), "a failed build left a stamp");
    }
}
