//! `StreamReader`: the receive buffer, EOF, the stored exception, the one waiter, and
//! reading flow control (pause above `2 * limit`, resume at `limit` or before waiting).

use aiostreams::sansio::{FlowControl, Mode, ReadBuffer};
use pyo3::exceptions::{PyAssertionError, PyNotImplementedError, PyRuntimeError, PyTypeError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyTuple};
use pyo3::{PyTraverseError, PyVisit};

use crate::errors::{Flavor, to_pyerr};
use crate::future::PlainFuture;
use crate::outbox::Outbox;
use crate::read_op::{Args, ReadOp};
use crate::wakeup::{Waker, call_one};

/// asyncio's `_DEFAULT_LIMIT`.
pub(crate) const DEFAULT_LIMIT: usize = 64 * 1024;

/// The native part of `aiostreams.StreamReader` (asyncio: `asyncio.StreamReader`).
///
/// The Python subclass adds the constructor's loop resolution; everything that runs per
/// byte or per read is here.
#[pyclass(
    subclass,
    weakref,
    module = "aiostreams._native",
    name = "StreamReader"
)]
#[derive(Debug)]
pub struct StreamReader {
    /// The bytes, EOF and the limit, with every read rule (asyncio-exact mode).
    pub(crate) buf: ReadBuffer,
    /// Whether this reader paused its transport.
    pub(crate) flow: FlowControl,
    pub(crate) exception: Option<Py<PyAny>>,
    pub(crate) waiter: Option<Py<PyAny>>,
    pub(crate) transport: Option<Py<PyAny>>,
    pub(crate) event_loop: Option<Py<PyAny>>,
    /// How a waiting read makes its Future itself (`future::plain_future`).
    pub(crate) future_class: Option<PlainFuture>,
    /// Wakes the waiting read's task without the loop's Python `call_soon` (`wakeup.rs`).
    pub(crate) waker: Option<Waker>,
    /// The connection's pending writes, flushed before a read waits (`outbox.rs`).
    pub(crate) outbox: Option<Py<Outbox>>,
}

/// What the caller must do after a change to the buffer, once the borrow is released.
#[derive(Debug)]
pub(crate) enum Flow {
    /// Nothing.
    Keep,
    /// Call `transport.pause_reading()` (the buffer went above `2 * limit`).
    Pause(Py<PyAny>),
    /// Call `transport.resume_reading()`.
    Resume(Py<PyAny>),
}

impl StreamReader {
    /// asyncio `_maybe_resume_transport`: after a read that asks for it.
    pub(crate) fn after_read(&mut self, py: Python<'_>) -> Flow {
        let (len, limit) = (self.buf.len(), self.buf.limit());
        match &self.transport {
            Some(t) if self.flow.resume_after_read(len, limit) => Flow::Resume(t.clone_ref(py)),
            _ => Flow::Keep,
        }
    }

    /// Before a read waits (asyncio `_wait_for_data`): resume a paused transport.
    pub(crate) fn before_wait(&mut self, py: Python<'_>) -> Flow {
        match &self.transport {
            Some(t) if self.flow.resume_before_wait() => Flow::Resume(t.clone_ref(py)),
            _ => Flow::Keep,
        }
    }

    /// asyncio `feed_data`'s pause rule: after bytes arrived.
    pub(crate) fn after_feed(&mut self, py: Python<'_>) -> Flow {
        let (len, limit) = (self.buf.len(), self.buf.limit());
        match &self.transport {
            Some(t) if self.flow.pause_after_feed(len, limit) => Flow::Pause(t.clone_ref(py)),
            _ => Flow::Keep,
        }
    }

    /// asyncio `feed_data`: append, wake the waiter, maybe pause the transport.
    pub(crate) fn feed_data_impl(slf: &Bound<'_, Self>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let py = slf.py();
        let added = with_bytes(data, |bytes| {
            slf.borrow_mut().buf.feed(bytes).map(|()| !bytes.is_empty())
        })?
        .map_err(|e| to_pyerr(py, e, Flavor::Plain))?;
        if added { fed(slf) } else { Ok(()) }
    }

    /// The waiter to wake (it is cleared, as asyncio's `_wakeup_waiter` does), with the
    /// reader's waker.
    pub(crate) fn take_waiter(&mut self) -> Option<(Py<PyAny>, Option<Waker>)> {
        let waiter = self.waiter.take()?;
        Some((waiter, self.waker.clone()))
    }
}

/// Completes a waiter with `None` unless it was cancelled (asyncio `_wakeup_waiter`).
pub(crate) fn wake(py: Python<'_>, waiter: Option<(Py<PyAny>, Option<Waker>)>) -> PyResult<()> {
    let Some((w, waker)) = waiter else {
        return Ok(());
    };
    let w = w.bind(py);
    if let Some(waker) = waker
        && waker.wake(w)?
    {
        return Ok(());
    }
    // One call on the hot path: a waiter is done only if it was cancelled, and then
    // set_result raises InvalidStateError, which asyncio's check avoids; same outcome.
    // CPython's own method call (no bound method, no argument tuple): 500-630 instructions
    // less per wake-up than pyo3's call_method1.
    match call_one(w, Some(intern!(py, "set_result")), py.None().bind(py)) {
        Ok(_) => Ok(()),
        Err(e) if w.call_method0(intern!(py, "cancelled"))?.is_truthy()? => {
            drop(e);
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Carries out a [`Flow`] decision (outside any borrow of the reader).
pub(crate) fn apply_flow(reader: &Bound<'_, StreamReader>, flow: Flow) -> PyResult<()> {
    let py = reader.py();
    match flow {
        Flow::Keep => Ok(()),
        Flow::Resume(t) => t
            .bind(py)
            .call_method0(intern!(py, "resume_reading"))
            .map(drop),
        Flow::Pause(t) => match t.bind(py).call_method0(intern!(py, "pause_reading")) {
            Ok(_) => Ok(()),
            Err(e) if e.is_instance_of::<PyNotImplementedError>(py) => {
                let mut r = reader.borrow_mut();
                r.flow.pause_unsupported();
                r.transport = None;
                Ok(())
            }
            Err(e) => Err(e),
        },
    }
}

/// Bytes after a feed: wake the waiter, then maybe pause (asyncio's order).
pub(crate) fn fed(reader: &Bound<'_, StreamReader>) -> PyResult<()> {
    let py = reader.py();
    let (waiter, flow) = {
        let mut r = reader.borrow_mut();
        (r.take_waiter(), r.after_feed(py))
    };
    wake(py, waiter)?;
    apply_flow(reader, flow)
}

/// Runs `f` on a bytes-like object's contents.
pub(crate) fn with_bytes<R>(data: &Bound<'_, PyAny>, f: impl FnOnce(&[u8]) -> R) -> PyResult<R> {
    if let Ok(b) = data.cast::<PyBytes>() {
        return Ok(f(b.as_bytes()));
    }
    if let Ok(b) = data.cast::<PyByteArray>() {
        return Ok(f(&b.to_vec()));
    }
    // memoryview and other buffer exporters: bytes(data) copies through the buffer protocol.
    let copied = data
        .py()
        .get_type::<PyBytes>()
        .call1((data,))
        .map_err(|_| {
            PyTypeError::new_err(format!(
                "a bytes-like object is required, not '{}'",
                type_name(data)
            ))
        })?;
    Ok(f(copied.cast::<PyBytes>()?.as_bytes()))
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_default()
}

#[pymethods]
impl StreamReader {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, PyTuple>, _kwargs: Option<&Bound<'_, PyAny>>) -> Self {
        StreamReader {
            buf: ReadBuffer::new(DEFAULT_LIMIT, Mode::AsyncioExact).expect("a valid limit"),
            flow: FlowControl::new(),
            exception: None,
            waiter: None,
            transport: None,
            event_loop: None,
            future_class: None,
            waker: None,
            outbox: None,
        }
    }

    /// The garbage collector sees the four references (a Python `StreamReader`'s would be
    /// in its `__dict__`), so a cycle through a reader is collected.
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        for field in [
            &self.exception,
            &self.waiter,
            &self.transport,
            &self.event_loop,
        ] {
            visit.call(field)?;
        }
        if let Some(plain) = &self.future_class {
            plain.traverse(&visit)?;
        }
        visit.call(&self.outbox)?;
        match &self.waker {
            Some(waker) => waker.traverse(&visit),
            None => Ok(()),
        }
    }

    fn __clear__(&mut self) {
        self.exception = None;
        self.waiter = None;
        self.transport = None;
        self.event_loop = None;
        self.future_class = None;
        self.waker = None;
        self.outbox = None;
    }

    /// Sets the limit and the loop (called by the Python constructor).
    fn _setup(&mut self, py: Python<'_>, limit: usize, event_loop: Py<PyAny>) -> PyResult<()> {
        self.buf = ReadBuffer::new(limit, Mode::AsyncioExact)
            .map_err(|e| to_pyerr(py, e, Flavor::Plain))?;
        self.future_class = crate::future::plain_future(event_loop.bind(py));
        self.waker = self
            .future_class
            .as_ref()
            .and_then(|plain| Waker::for_loop(event_loop.bind(py), plain.class()));
        self.event_loop = Some(event_loop);
        Ok(())
    }

    #[getter]
    fn _loop(&self, py: Python<'_>) -> Py<PyAny> {
        opt(py, &self.event_loop)
    }

    #[getter]
    fn _limit(&self) -> usize {
        self.buf.limit()
    }

    #[getter]
    fn _buffer<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, self.buf.buffer())
    }

    #[getter]
    fn _eof(&self) -> bool {
        self.buf.eof()
    }

    #[getter]
    fn _paused(&self) -> bool {
        self.flow.is_paused()
    }

    #[getter]
    fn _exception(&self, py: Python<'_>) -> Py<PyAny> {
        opt(py, &self.exception)
    }

    #[getter(_transport)]
    fn transport_get(&self, py: Python<'_>) -> Py<PyAny> {
        opt(py, &self.transport)
    }

    #[setter(_transport)]
    fn transport_set(&mut self, transport: Option<Py<PyAny>>) {
        self.transport = transport;
    }

    #[getter(_waiter)]
    fn waiter_get(&self, py: Python<'_>) -> Py<PyAny> {
        opt(py, &self.waiter)
    }

    #[setter(_waiter)]
    fn waiter_set(&mut self, waiter: Option<Py<PyAny>>) {
        self.waiter = waiter;
    }

    /// asyncio `StreamReader.exception()`.
    fn exception(&self, py: Python<'_>) -> Py<PyAny> {
        opt(py, &self.exception)
    }

    /// asyncio `StreamReader.set_exception(exc)`: stored, and raised in a waiting read.
    fn set_exception(&mut self, py: Python<'_>, exc: Py<PyAny>) -> PyResult<()> {
        self.exception = Some(exc.clone_ref(py));
        if let Some(w) = self.waiter.take() {
            let w = w.bind(py);
            if !w.call_method0(intern!(py, "cancelled"))?.is_truthy()? {
                call_one(w, Some(intern!(py, "set_exception")), exc.bind(py))?;
            }
        }
        Ok(())
    }

    /// asyncio `StreamReader.set_transport(transport)`.
    fn set_transport(&mut self, transport: Py<PyAny>) -> PyResult<()> {
        if self.transport.is_some() {
            return Err(PyAssertionError::new_err("Transport already set"));
        }
        self.transport = Some(transport);
        Ok(())
    }

    /// asyncio `StreamReader.feed_eof()`.
    fn feed_eof(slf: &Bound<'_, Self>) -> PyResult<()> {
        let waiter = {
            let mut r = slf.borrow_mut();
            r.buf.feed_eof();
            r.take_waiter()
        };
        wake(slf.py(), waiter)
    }

    /// asyncio `StreamReader.at_eof()`: EOF was fed and the buffer is empty.
    fn at_eof(&self) -> bool {
        self.buf.at_eof()
    }

    /// asyncio `StreamReader.feed_data(data)`.
    fn feed_data(slf: &Bound<'_, Self>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        StreamReader::feed_data_impl(slf, data)
    }

    /// asyncio `StreamReader.read(n=-1)`.
    #[pyo3(signature = (n = -1))]
    fn read(slf: Py<Self>, py: Python<'_>, n: isize) -> PyResult<Py<ReadOp>> {
        ReadOp::new(py, slf, Args::Read(n), false)
    }

    /// asyncio `StreamReader.readexactly(n)`.
    fn readexactly(slf: Py<Self>, py: Python<'_>, n: isize) -> PyResult<Py<ReadOp>> {
        ReadOp::new(py, slf, Args::Exactly(n), false)
    }

    /// asyncio `StreamReader.readline()`.
    fn readline(slf: Py<Self>, py: Python<'_>) -> PyResult<Py<ReadOp>> {
        ReadOp::new(py, slf, Args::Line, false)
    }

    /// asyncio `StreamReader.readuntil(separator=b'\n')`.
    #[pyo3(signature = (separator = None))]
    fn readuntil(
        slf: Py<Self>,
        py: Python<'_>,
        separator: Option<Py<PyAny>>,
    ) -> PyResult<Py<ReadOp>> {
        let sep = separator.unwrap_or_else(|| PyBytes::new(py, b"\n").into_any().unbind());
        ReadOp::new(py, slf, Args::Until(sep), false)
    }

    fn __aiter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __anext__(slf: Py<Self>, py: Python<'_>) -> PyResult<Py<ReadOp>> {
        ReadOp::new(py, slf, Args::Line, true)
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let mut info = vec!["StreamReader".to_owned()];
        if !self.buf.is_empty() {
            info.push(format!("{} bytes", self.buf.len()));
        }
        if self.buf.eof() {
            info.push("eof".into());
        }
        if self.buf.limit() != DEFAULT_LIMIT {
            info.push(format!("limit={}", self.buf.limit()));
        }
        for (name, value) in [
            ("waiter", &self.waiter),
            ("exception", &self.exception),
            ("transport", &self.transport),
        ] {
            if let Some(v) = value {
                info.push(format!("{name}={}", v.bind(py).repr()?));
            }
        }
        if self.flow.is_paused() {
            info.push("paused".into());
        }
        Ok(format!("<{}>", info.join(" ")))
    }
}

fn opt(py: Python<'_>, v: &Option<Py<PyAny>>) -> Py<PyAny> {
    v.as_ref().map_or_else(|| py.None(), |v| v.clone_ref(py))
}

/// `RuntimeError` of a second read that would wait while one already does.
pub(crate) fn already_waiting(name: &str) -> PyErr {
    PyRuntimeError::new_err(format!(
        "{name}() called while another coroutine is already waiting for incoming data"
    ))
}
