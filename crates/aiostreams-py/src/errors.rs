//! The reader core's errors as asyncio's own exception classes, so existing `except`
//! clauses work unchanged.

use aiostreams::Error;
use pyo3::exceptions::{PyAssertionError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyType};

static INCOMPLETE_READ: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static LIMIT_OVERRUN: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Which read raised: `readline()` reports a limit overrun as `ValueError`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// `read`, `readexactly`, `readuntil`: asyncio's stream exceptions.
    Plain,
    /// `readline`: `LimitOverrunError` becomes `ValueError` with the same text.
    Readline,
}

/// `err` as the exception asyncio raises for it.
pub(crate) fn to_pyerr(py: Python<'_>, err: Error, flavor: Flavor) -> PyErr {
    match err {
        Error::IncompleteRead { partial, expected } => {
            match INCOMPLETE_READ.import(py, "asyncio", "IncompleteReadError") {
                Ok(cls) => {
                    PyErr::from_type(cls.clone(), (PyBytes::new(py, &partial).unbind(), expected))
                }
                Err(e) => e,
            }
        }
        Error::LimitOverrun { consumed, .. } if flavor == Flavor::Plain => {
            let message = err.to_string();
            match LIMIT_OVERRUN.import(py, "asyncio", "LimitOverrunError") {
                Ok(cls) => PyErr::from_type(cls.clone(), (message, consumed)),
                Err(e) => e,
            }
        }
        Error::LimitOverrun { .. } | Error::InvalidArgument(_) => {
            PyValueError::new_err(err.to_string())
        }
        Error::FeedAfterEof => PyAssertionError::new_err(err.to_string()),
        other => PyRuntimeError::new_err(other.to_string()),
    }
}
