//! The native part of `StreamWriter`: its four references (`_transport`, `_protocol`,
//! `_reader`, `_loop`), `write()`/`writelines()` (coalesced until the task waits:
//! `outbox.rs`) and `drain()`, so that a `drain()` below the high-water mark is one
//! native call with no Python frame.

use pyo3::exceptions::PyAttributeError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use pyo3::{PyTraverseError, PyVisit};

use crate::drain::drain;
use crate::outbox::{Flusher, Outbox, Pushed};
use crate::protocol::ProtocolCore;
use crate::reader::StreamReader;
use crate::wakeup::call_one;

/// Native base of `aiostreams.StreamWriter` (asyncio: `asyncio.StreamWriter`).
///
/// The Python subclass adds the constructor, `start_tls`, `wait_closed`, `__del__` and
/// the one-line delegations to the transport (which flush the pending writes first).
#[pyclass(subclass, module = "aiostreams._native", name = "WriterCore")]
#[derive(Debug, Default)]
pub struct WriterCore {
    transport: Option<Py<PyAny>>,
    protocol: Option<Py<PyAny>>,
    reader: Option<Py<PyAny>>,
    event_loop: Option<Py<PyAny>>,
    /// The connection's pending writes, when they are coalesced (`_coalesce`).
    outbox: Option<Py<Outbox>>,
}

/// A field's value, or `AttributeError` before it was set (as a Python attribute).
fn field(py: Python<'_>, value: &Option<Py<PyAny>>, name: &str) -> PyResult<Py<PyAny>> {
    value.as_ref().map(|v| v.clone_ref(py)).ok_or_else(|| {
        PyAttributeError::new_err(format!("'StreamWriter' object has no attribute '{name}'"))
    })
}

impl WriterCore {
    /// Whether the connection's native reader holds bytes not read yet: the handler
    /// answers them before its read waits, so a write is kept to leave in one send with
    /// theirs (the expert's rule: flush when the read buffer is empty). With nothing
    /// buffered a write goes to the transport at once, with what is pending before it.
    fn more_to_answer(&self, py: Python<'_>) -> bool {
        self.reader
            .as_ref()
            .and_then(|r| r.bind(py).cast::<StreamReader>().ok().cloned())
            .and_then(|r| r.try_borrow().ok().map(|r| !r.buf.is_empty()))
            .unwrap_or(false)
    }
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
        visit.call(&self.outbox)
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
        let (protocol, reader, transport, outbox) = {
            let w = slf.borrow();
            (
                field(py, &w.protocol, "_protocol")?,
                field(py, &w.reader, "_reader")?,
                field(py, &w.transport, "_transport")?,
                w.outbox.as_ref().map(|o| o.clone_ref(py)),
            )
        };
        match protocol.bind(py).cast::<ProtocolCore>() {
            Ok(core) => drain(
                core,
                reader.bind(py),
                transport.bind(py),
                outbox.as_ref().map(|o| o.bind(py)),
            ),
            Err(_) => slf
                .call_method0(intern!(py, "_drain_generic"))
                .map(Bound::unbind),
        }
    }

    /// asyncio `StreamWriter.write(data)`: `transport.write(data)`, or, when writes are
    /// coalesced, kept until the task waits (then one `transport.write()` of everything
    /// written meanwhile, in order).
    fn write(slf: &Bound<'_, Self>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let py = slf.py();
        let (outbox, more) = {
            let w = slf.borrow();
            (
                w.outbox.as_ref().map(|o| o.clone_ref(py)),
                w.more_to_answer(py),
            )
        };
        if let Some(outbox) = outbox
            && (more || outbox.borrow(py).has_pending())
            && let Pushed::Kept = Outbox::push(outbox.bind(py), data)?
        {
            if !more {
                Outbox::flush(outbox.bind(py))?;
            }
            return Ok(());
        }
        let transport = field(py, &slf.borrow().transport, "_transport")?;
        call_one(transport.bind(py), Some(intern!(py, "write")), data).map(drop)
    }

    /// asyncio `StreamWriter.writelines(data)`: `transport.writelines(data)`, or each
    /// item kept as `write()` keeps it when all are bytes-like (otherwise the transport
    /// gets the list, after what is pending, and raises its own error).
    fn writelines(slf: &Bound<'_, Self>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let py = slf.py();
        let (outbox, transport) = {
            let w = slf.borrow();
            (
                w.outbox.as_ref().map(|o| o.clone_ref(py)),
                field(py, &w.transport, "_transport")?,
            )
        };
        let method = intern!(py, "writelines");
        let Some(outbox) = outbox else {
            return call_one(transport.bind(py), Some(method), data).map(drop);
        };
        let outbox = outbox.bind(py);
        let items = pyo3::types::PyList::new(py, data.try_iter()?.collect::<PyResult<Vec<_>>>()?)?;
        if Outbox::takes_all(&items) {
            for item in items.iter() {
                if let Pushed::Through = Outbox::push(outbox, &item)? {
                    call_one(transport.bind(py), Some(intern!(py, "write")), &item)?;
                }
            }
            if !slf.borrow().more_to_answer(py) {
                Outbox::flush(outbox)?;
            }
            return Ok(());
        }
        Outbox::flush(outbox)?;
        call_one(transport.bind(py), Some(method), items.as_any()).map(drop)
    }

    /// Coalesces this writer's writes (on a transport and loop `aiostreams._streams`
    /// knows): the connection's outbox (the protocol's, made on first use) is shared with
    /// the protocol's other writers and its reader, flushed at the latest by `flusher`.
    fn _coalesce(slf: &Bound<'_, Self>, flusher: Py<Flusher>) -> PyResult<()> {
        let py = slf.py();
        let (protocol, reader, transport) = {
            let w = slf.borrow();
            (
                field(py, &w.protocol, "_protocol")?,
                field(py, &w.reader, "_reader")?,
                field(py, &w.transport, "_transport")?,
            )
        };
        let Ok(core) = protocol.bind(py).cast::<ProtocolCore>() else {
            return Ok(());
        };
        let existing = core.borrow().outbox.as_ref().map(|o| o.clone_ref(py));
        let outbox = match existing {
            Some(o) => o,
            None => {
                let o = Py::new(py, Outbox::new(transport.bind(py), flusher)?)?;
                core.borrow_mut().outbox = Some(o.clone_ref(py));
                if core.borrow().lost {
                    Outbox::lost(o.bind(py))?;
                }
                o
            }
        };
        if let Ok(native) = reader.bind(py).cast::<StreamReader>() {
            native.borrow_mut().outbox = Some(outbox.clone_ref(py));
        }
        slf.borrow_mut().outbox = Some(outbox);
        Ok(())
    }

    /// Hands the pending writes to the transport (before the transport is used directly).
    fn _flush(&self, py: Python<'_>) -> PyResult<()> {
        match &self.outbox {
            Some(o) => Outbox::flush(o.bind(py)),
            None => Ok(()),
        }
    }

    /// Hands the pending writes to the transport and writes through from now on (the
    /// transport is closed, half-closed, replaced or handed out).
    fn _write_through(&self, py: Python<'_>) -> PyResult<()> {
        match &self.outbox {
            Some(o) => Outbox::stop(o.bind(py)),
            None => Ok(()),
        }
    }
}
