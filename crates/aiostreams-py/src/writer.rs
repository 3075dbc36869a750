//! The native part of `StreamWriter`: its four references (`_transport`, `_protocol`,
//! `_reader`, `_loop`) and `drain()`, so that a `drain()` below the high-water mark is one
//! native call with no Python frame.

use pyo3::exceptions::PyAttributeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use pyo3::{PyTraverseError, PyVisit};

use crate::drain::drain;
use crate::protocol::ProtocolCore;

/// Native base of `aiostreams.StreamWriter` (asyncio: `asyncio.StreamWriter`).
///
/// The Python subclass adds the constructor, `write`/`writelines` (one-line delegations
/// to the transport, as asyncio's), `start_tls`, `wait_closed` and `__del__`.
#[pyclass(subclass, module = "aiostreams._native", name = "WriterCore")]
#[derive(Debug, Default)]
pub struct WriterCore {
    transport: Option<Py<PyAny>>,
    protocol: Option<Py<PyAny>>,
    reader: Option<Py<PyAny>>,
    event_loop: Option<Py<PyAny>>,
}

/// A field's value, or `AttributeError` before it was set (as a Python attribute).
fn field(py: Python<'_>, value: &Option<Py<PyAny>>, name: &str) -> PyResult<Py<PyAny>> {
    value.as_ref().map(|v| v.clone_ref(py)).ok_or_else(|| {
        PyAttributeError::new_err(format!("'StreamWriter' object has no attribute '{name}'"))
    })
}

#[pymethods]
impl WriterCore {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, PyTuple>, _kwargs: Option<&Bound<'_, PyAny>>) -> Self {
        WriterCore::default()
    }

    /// The garbage collector sees the four references (a Python `StreamWriter`'s would be
    /// in its `__dict__`), so a cycle through a writer is collected and its `__del__` runs.
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        for field in [
            &self.transport,
            &self.protocol,
            &self.reader,
            &self.event_loop,
        ] {
            visit.call(field)?;
        }
        Ok(())
    }

    fn __clear__(&mut self) {
        *self = WriterCore::default();
    }

    #[getter(_transport)]
    fn transport_get(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        field(py, &self.transport, "_transport")
    }

    #[setter(_transport)]
    fn transport_set(&mut self, value: Py<PyAny>) {
        self.transport = Some(value);
    }

    #[getter(_protocol)]
    fn protocol_get(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        field(py, &self.protocol, "_protocol")
    }

    #[setter(_protocol)]
    fn protocol_set(&mut self, value: Py<PyAny>) {
        self.protocol = Some(value);
    }

    #[getter(_reader)]
    fn reader_get(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        field(py, &self.reader, "_reader")
    }

    #[setter(_reader)]
    fn reader_set(&mut self, value: Py<PyAny>) {
        self.reader = Some(value);
    }

    #[getter(_loop)]
    fn loop_get(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        field(py, &self.event_loop, "_loop")
    }

    #[setter(_loop)]
    fn loop_set(&mut self, value: Py<PyAny>) {
        self.event_loop = Some(value);
    }

    /// asyncio `StreamWriter.drain()`: the reader's stored exception, one yield while the
    /// transport closes, then the wait for `resume_writing`. Below the high-water mark of
    /// an open transport it returns an already completed awaitable. With a protocol that
    /// is not aiostreams' it is asyncio's coroutine (`_drain_generic`).
    fn drain(slf: &Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let (protocol, reader, transport) = {
            let w = slf.borrow();
            (
                field(py, &w.protocol, "_protocol")?,
                field(py, &w.reader, "_reader")?,
                field(py, &w.transport, "_transport")?,
            )
        };
        match protocol.bind(py).cast::<ProtocolCore>() {
            Ok(core) => drain(core, reader.bind(py), transport.bind(py)),
            Err(_) => slf
                .call_method0(intern!(py, "_drain_generic"))
                .map(Bound::unbind),
        }
    }
}
