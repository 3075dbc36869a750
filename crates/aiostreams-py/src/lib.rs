//! Native core of the `aiostreams` Python package: asyncio's `StreamReader`, the
//! buffered part of `StreamReaderProtocol`, and the awaitables they return, built on the
//! library's sans-I/O reader core and driven by the asyncio loop's own transports (no
//! tokio runtime, no thread: everything runs on the loop's thread).
//!
//! The Python side (`python/aiostreams/`) adds the constructors, the rest of
//! `StreamWriter`, the connection helpers and `install()`.

mod awaitable;
mod drain;
mod errors;
mod fast_handle;
mod future;
#[cfg(unix)]
mod loop_events;
mod outbox;
mod protocol;
mod read_op;
mod reader;
#[cfg(unix)]
mod run_once;
#[cfg(unix)]
mod selector;
mod step_slots;
mod wakeup;
mod writer;

use pyo3::prelude::*;

/// The extension module `aiostreams._native`.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<reader::StreamReader>()?;
    m.add_class::<protocol::ProtocolCore>()?;
    m.add_class::<read_op::ReadOp>()?;
    step_slots::init(m.py())?;
    m.add_class::<awaitable::Ready>()?;
    m.add_class::<drain::DrainOp>()?;
    m.add_class::<writer::WriterCore>()?;
    m.add_class::<outbox::Outbox>()?;
    m.add_class::<outbox::Flusher>()?;
    #[cfg(unix)]
    {
        m.add_class::<selector::ReadReady>()?;
        m.add_class::<selector::SendNow>()?;
        m.add_class::<loop_events::Select>()?;
        m.add_class::<loop_events::ProcessEvents>()?;
        m.add_class::<run_once::RunOnce>()?;
        m.add_function(wrap_pyfunction!(loop_events::use_native_loop_events, m)?)?;
        m.add_function(wrap_pyfunction!(selector::use_native_io, m)?)?;
    }
    m.add("DEFAULT_LIMIT", reader::DEFAULT_LIMIT)?;
    // The stock loop's `events.Handle` with a native `_run` (absent where not applicable).
    if let Some(handle) = fast_handle::class(m.py()) {
        m.add("Handle", handle)?;
    }
    Ok(())
}
