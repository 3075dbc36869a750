//! The awaitable `drain()` returns when it cannot complete at once (asyncio: the
//! `drain()` coroutine and `FlowControlMixin._drain_helper()`): the reader's stored
//! exception, one yield while the transport closes, then the wait for `resume_writing`.

use pyo3::exceptions::{PyConnectionResetError, PyRuntimeError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::{PyTraverseError, PyVisit};

use crate::awaitable::{FutureWait, Resumed, ready, thrown};
use crate::outbox::Outbox;
use crate::protocol::ProtocolCore;
use crate::reader::StreamReader;

/// `StreamWriter.drain()` in one call: the reader's stored exception, then one yield if the
/// transport is closing, then the flow-control wait. Below the high-water mark of an open
/// transport it returns the completed awaitable at once, leaving `outbox`'s pending bytes
/// pending (so that writes between two waits coalesce) unless the transport already has
/// bytes queued: then they are counted in the water marks by flushing them first. A
/// `drain()` that waits or raises flushes them first.
pub(crate) fn drain(
    slf: &Bound<'_, ProtocolCore>,
    reader: &Bound<'_, PyAny>,
    transport: &Bound<'_, PyAny>,
    outbox: Option<&Bound<'_, Outbox>>,
) -> PyResult<Py<PyAny>> {
    let py = slf.py();
    let exc = if reader.is_none() {
        None
    } else if let Ok(native) = reader.cast::<StreamReader>() {
        native.borrow().exception.as_ref().map(|e| e.clone_ref(py))
    } else {
        let e = reader.call_method0(intern!(py, "exception"))?;
        (!e.is_none()).then(|| e.unbind())
    };
    if let Some(e) = exc {
        flush(outbox)?;
        return drain_op(py, slf.clone().unbind(), Some(e), false);
    }
    #[cfg(unix)]
    let closing = crate::selector::is_closing(transport)?;
    #[cfg(not(unix))]
    let closing = transport
        .call_method0(intern!(py, "is_closing"))?
        .is_truthy()?;
    let open = |p: &ProtocolCore| !closing && !p.paused && !p.lost;
    if open(&slf.borrow()) {
        let backed_up = match outbox {
            Some(o) => {
                let o = o.borrow();
                o.has_pending() && o.transport_backed_up(py)?
            }
            None => false,
        };
        if !backed_up {
            return Ok(ready(py)?.into_any());
        }
        flush(outbox)?;
        if open(&slf.borrow()) {
            return Ok(ready(py)?.into_any());
        }
    } else {
        flush(outbox)?;
    }
    drain_op(py, slf.clone().unbind(), None, closing)
}

fn flush(outbox: Option<&Bound<'_, Outbox>>) -> PyResult<()> {
    outbox.map_or(Ok(()), Outbox::flush)
}

/// A `drain()` that may have to wait: the exception `error` is raised first if set;
/// `yield_first` yields once (asyncio's `sleep(0)` while the transport is closing).
pub(crate) fn drain_op(
    py: Python<'_>,
    protocol: Py<ProtocolCore>,
    error: Option<Py<PyAny>>,
    yield_first: bool,
) -> PyResult<Py<PyAny>> {
    Ok(Py::new(
        py,
        DrainOp {
            protocol,
            error,
            yield_first,
            waiter: None,
            wait: FutureWait::default(),
            done: false,
        },
    )?
    .into_any())
}

/// The awaitable of a `drain()` that may have to wait (asyncio: the `drain()` coroutine).
#[pyclass(module = "aiostreams._native", name = "DrainOp")]
#[derive(Debug)]
pub struct DrainOp {
    protocol: Py<ProtocolCore>,
    /// The reader's exception (kept as the object, which the garbage collector can see).
    error: Option<Py<PyAny>>,
    yield_first: bool,
    waiter: Option<Py<PyAny>>,
    wait: FutureWait,
    done: bool,
}

impl DrainOp {
    fn unregister(&mut self, py: Python<'_>) {
        if let Some(w) = self.waiter.take() {
            let mut p = self.protocol.bind(py).borrow_mut();
            p.drain_waiters.retain(|x| !x.is(&w));
        }
    }

    /// One step: `Some(x)` yields `x` to the task, `None` finishes with `None`.
    fn step(&mut self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        if self.done {
            return Err(PyRuntimeError::new_err(
                "cannot reuse already awaited drain()",
            ));
        }
        if self.wait.is_waiting() {
            let resumed = self.wait.resume(py);
            if !matches!(resumed, Ok(Resumed::Yield(_))) {
                self.unregister(py);
                self.done = true;
            }
            return match resumed? {
                Resumed::Yield(v) => Ok(Some(v)),
                Resumed::Ready => Ok(None),
            };
        }
        if let Some(e) = self.error.take() {
            self.done = true;
            return Err(PyErr::from_value(e.into_bound(py)));
        }
        if self.yield_first {
            self.yield_first = false;
            return Ok(Some(py.None()));
        }
        let event_loop = {
            let p = self.protocol.bind(py).borrow();
            if p.lost {
                self.done = true;
                return Err(PyConnectionResetError::new_err("Connection lost"));
            }
            if !p.paused {
                self.done = true;
                return Ok(None);
            }
            p.event_loop.as_ref().map(|l| l.clone_ref(py))
        };
        let event_loop =
            event_loop.ok_or_else(|| PyRuntimeError::new_err("protocol has no loop"))?;
        let fut = event_loop
            .bind(py)
            .call_method0(intern!(py, "create_future"))?;
        self.protocol
            .bind(py)
            .borrow_mut()
            .drain_waiters
            .push(fut.clone().unbind());
        self.waiter = Some(fut.clone().unbind());
        self.wait.start(&fut).map(Some)
    }
}

#[pymethods]
impl DrainOp {
    /// The garbage collector sees the protocol, the exception and the waiter, so a cycle
    /// through an abandoned `drain()` is collected.
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.protocol)?;
        visit.call(&self.error)?;
        visit.call(&self.waiter)?;
        self.wait.traverse(&visit)
    }

    fn __clear__(&mut self) {
        self.error = None;
        self.waiter = None;
        self.wait = FutureWait::default();
        self.done = true;
    }

    fn __await__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Option<Py<PyAny>>> {
        self.step(py)
    }

    fn send(&mut self, py: Python<'_>, _value: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        // The method form (generator protocol) must raise StopIteration to finish.
        self.step(py)?
            .ok_or_else(|| pyo3::exceptions::PyStopIteration::new_err(()))
    }

    #[pyo3(signature = (typ, val = None, _tb = None))]
    fn throw(
        &mut self,
        py: Python<'_>,
        typ: &Bound<'_, PyAny>,
        val: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let exc = thrown(typ, val);
        self.done = true;
        let err = if self.wait.is_waiting() {
            self.wait.throw(py, exc)
        } else {
            exc
        };
        self.unregister(py);
        Err(err)
    }

    fn close(&mut self, py: Python<'_>) {
        self.unregister(py);
        self.wait = FutureWait::default();
        self.done = true;
    }
}
