//! Unix socket names.

use std::path::Path;

/// A leading NUL byte makes a Linux abstract socket name (no file on disk).
pub(crate) fn is_abstract(path: &Path) -> bool {
    path.as_os_str().as_encoded_bytes().first() == Some(&0)
}
