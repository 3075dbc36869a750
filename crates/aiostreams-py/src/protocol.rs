//! The native part of `StreamReaderProtocol`: an `asyncio.BufferedProtocol` whose
//! `get_buffer()` lends the transport the reader's own spare capacity, so bytes go from
//! the socket straight into the reader's buffer; plus write flow control
//! (`pause_writing`/`resume_writing`, `drain()`'s waiters).

use std::ffi::c_char;

use pyo3::exceptions::{PyAssertionError, PyRuntimeError};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyWeakrefReference};

use aiostreams::sansio::MAX_SPARE;

use crate::awaitable::ready;
use crate::drain::drain_op;
use crate::errors::{Flavor, to_pyerr};
use crate::reader::{StreamReader, fed};

/// The first region lent to the transport; it doubles while receives fill it (up to the
/// core's `MAX_SPARE`, asyncio's 256 KiB receive size) and halves after two receives
/// that used under a quarter of it. The core zero-fills the region it lends, so a
/// region far larger than what arrives would cost a `memset` per receive.
const MIN_HINT: usize = 4 * 1024;

/// The region bytes are received into when the reader is gone or not ours.
const SCRATCH: usize = 64 * 1024;

/// `PyBUF_WRITE` of `memoryobject.h` (a writable memoryview; part of the stable ABI).
const PYBUF_WRITE: i32 = 0x200;

/// The region of the reader's buffer lent by the last `get_buffer()`.
#[derive(Debug)]
struct Lent {
    view: Py<PyAny>,
    ptr: usize,
    len: usize,
}

/// Native base of `aiostreams.StreamReaderProtocol` (asyncio: `StreamReaderProtocol`,
/// `FlowControlMixin`).
#[pyclass(
    subclass,
    weakref,
    module = "aiostreams._native",
    name = "ProtocolCore"
)]
#[derive(Debug, Default)]
pub struct ProtocolCore {
    reader: Option<Py<PyWeakrefReference>>,
    pub(crate) event_loop: Option<Py<PyAny>>,
    pub(crate) paused: bool,
    pub(crate) lost: bool,
    pub(crate) drain_waiters: Vec<Py<PyAny>>,
    lent: Option<Lent>,
    scratch: Option<Py<PyByteArray>>,
    /// Size of the next region lent (0 until the first get_buffer).
    hint: usize,
    /// Consecutive receives that used under a quarter of the region.
    small: u8,
}

impl ProtocolCore {
    fn reader<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyAny>> {
        use pyo3::types::PyWeakrefMethods;
        self.reader.as_ref().and_then(|w| w.bind(py).upgrade())
    }

    /// Releases the memoryview lent last time, so nothing can write through it any more.
    fn release_lent(&mut self, py: Python<'_>) {
        if let Some(lent) = self.lent.take() {
            // BufferError while a transport still holds it (uvloop releases its
            // Py_buffer only after buffer_updated returns); by the next get_buffer it
            // has, and the view dies with its last reference anyway.
            let _ = lent.view.bind(py).call_method0(intern!(py, "release"));
        }
    }

    /// The next region's size after a receive of `n` bytes into one of `self.hint`.
    fn adapt_hint(&mut self, n: usize) {
        if n >= self.hint {
            self.hint = (self.hint * 2).min(MAX_SPARE);
            self.small = 0;
        } else if n < self.hint / 4 {
            self.small += 1;
            if self.small >= 2 {
                self.hint = (self.hint / 2).max(MIN_HINT);
                self.small = 0;
            }
        } else {
            self.small = 0;
        }
    }

    fn scratch<'py>(&mut self, py: Python<'py>) -> Bound<'py, PyByteArray> {
        self.scratch
            .get_or_insert_with(|| PyByteArray::new(py, &[0; SCRATCH]).unbind())
            .bind(py)
            .clone()
    }

    fn finish_waiters(&mut self, py: Python<'_>, exc: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        for w in std::mem::take(&mut self.drain_waiters) {
            let w = w.bind(py);
            if w.call_method0(intern!(py, "done"))?.is_truthy()? {
                continue;
            }
            match exc {
                None => w.call_method1(intern!(py, "set_result"), (py.None(),))?,
                Some(e) => w.call_method1(intern!(py, "set_exception"), (e,))?,
            };
        }
        Ok(())
    }
}

/// `memoryview` over `len` writable bytes at `ptr`.
fn memoryview(py: Python<'_>, ptr: *mut u8, len: usize) -> PyResult<Py<PyAny>> {
    let len = isize::try_from(len).map_err(|_| PyRuntimeError::new_err("buffer too large"))?;
    // SAFETY: `ptr..ptr+len` is the region `ReadBuffer::spare_mut` lent: initialised
    // (zero-filled) bytes owned by the reader's buffer, which no Rust code reads or
    // moves until `commit` (any other mutation abandons the region, and `commit` then
    // refuses it). The transport writes into it only between get_buffer() and
    // buffer_updated() (the selector transport's recv_into, libuv's read). The view is
    // released when a different region is lent and at connection_lost, so no view
    // outlives a region for longer than until the next get_buffer().
    #[allow(
        unsafe_code,
        reason = "the limited API has no buffer protocol before 3.11"
    )]
    let raw = unsafe { pyo3::ffi::PyMemoryView_FromMemory(ptr.cast::<c_char>(), len, PYBUF_WRITE) };
    // SAFETY: a new reference or NULL with an exception set, as the C API documents.
    #[allow(unsafe_code, reason = "taking ownership of a C API result")]
    unsafe {
        Bound::from_owned_ptr_or_err(py, raw).map(Bound::unbind)
    }
}

#[pymethods]
impl ProtocolCore {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, pyo3::types::PyTuple>, _kwargs: Option<&Bound<'_, PyAny>>) -> Self {
        ProtocolCore::default()
    }

    /// Sets the loop and the reader (held weakly, as asyncio does), or forgets the reader.
    #[pyo3(signature = (event_loop, reader))]
    fn _setup(
        &mut self,
        event_loop: Option<Py<PyAny>>,
        reader: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        if event_loop.is_some() {
            self.event_loop = event_loop;
        }
        self.reader = match reader {
            Some(r) if !r.is_none() => Some(PyWeakrefReference::new(r)?.unbind()),
            _ => None,
        };
        Ok(())
    }

    #[getter]
    fn _stream_reader(&self, py: Python<'_>) -> Py<PyAny> {
        self.reader(py).map_or_else(|| py.None(), Bound::unbind)
    }

    #[getter]
    fn _paused(&self) -> bool {
        self.paused
    }

    #[getter]
    fn _connection_lost(&self) -> bool {
        self.lost
    }

    /// asyncio `BufferedProtocol.get_buffer(sizehint)`: the reader's spare capacity.
    #[pyo3(signature = (sizehint = -1))]
    fn get_buffer(&mut self, py: Python<'_>, sizehint: isize) -> PyResult<Py<PyAny>> {
        let _ = sizehint;
        let reader = self.reader(py);
        let Some(native) = reader.as_ref().and_then(|r| r.cast::<StreamReader>().ok()) else {
            return Ok(self.scratch(py).into_any().unbind());
        };
        let hint = self.hint.max(MIN_HINT);
        self.hint = hint;
        let (ptr, len) = {
            let mut r = native.borrow_mut();
            let spare = r.buf.spare_mut(hint);
            (spare.as_mut_ptr(), spare.len())
        };
        if let Some(lent) = &self.lent
            && lent.ptr == ptr as usize
            && lent.len == len
        {
            // The same region as last time (the buffer was drained in place): lend the
            // same view again instead of making a new one.
            return Ok(lent.view.clone_ref(py));
        }
        self.release_lent(py);
        let view = memoryview(py, ptr, len)?;
        self.lent = Some(Lent {
            view: view.clone_ref(py),
            ptr: ptr as usize,
            len,
        });
        Ok(view)
    }

    /// asyncio `BufferedProtocol.buffer_updated(nbytes)`: `nbytes` were written into the
    /// lent buffer; they become the reader's (asyncio `feed_data`).
    fn buffer_updated(&mut self, py: Python<'_>, nbytes: usize) -> PyResult<()> {
        let Some(reader) = self.reader(py) else {
            return Ok(());
        };
        let Ok(native) = reader.cast::<StreamReader>() else {
            let chunk = PyBytes::new(py, &self.scratch(py).to_vec()[..nbytes.min(SCRATCH)]);
            reader.call_method1(intern!(py, "feed_data"), (chunk,))?;
            return Ok(());
        };
        self.adapt_hint(nbytes);
        native
            .borrow_mut()
            .buf
            .commit(nbytes)
            .map_err(|e| to_pyerr(py, e, Flavor::Plain))?;
        if nbytes == 0 {
            return Ok(());
        }
        fed(native)
    }

    /// asyncio `Protocol.data_received(data)` (transports that do not use the buffered
    /// protocol, such as some SSL transports): `reader.feed_data(data)`.
    fn data_received(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let Some(reader) = self.reader(py) else {
            return Ok(());
        };
        match reader.cast::<StreamReader>() {
            Ok(native) => StreamReader::feed_data_impl(native, data),
            Err(_) => reader
                .call_method1(intern!(py, "feed_data"), (data,))
                .map(drop),
        }
    }

    /// asyncio `FlowControlMixin.pause_writing()`.
    fn pause_writing(&mut self) -> PyResult<()> {
        if self.paused {
            return Err(PyAssertionError::new_err(()));
        }
        self.paused = true;
        Ok(())
    }

    /// asyncio `FlowControlMixin.resume_writing()`: releases every waiting `drain()`.
    fn resume_writing(&mut self, py: Python<'_>) -> PyResult<()> {
        if !self.paused {
            return Err(PyAssertionError::new_err(()));
        }
        self.paused = false;
        self.finish_waiters(py, None)
    }

    /// asyncio `FlowControlMixin.connection_lost(exc)`: waiting `drain()`s finish (with
    /// `exc` if there is one).
    #[pyo3(signature = (exc = None))]
    fn connection_lost(&mut self, py: Python<'_>, exc: Option<&Bound<'_, PyAny>>) -> PyResult<()> {
        self.lost = true;
        self.release_lent(py);
        if !self.paused {
            return Ok(());
        }
        self.finish_waiters(py, exc.filter(|e| !e.is_none()))
    }

    /// asyncio `FlowControlMixin._drain_helper()`.
    fn _drain_helper(slf: Py<Self>, py: Python<'_>) -> PyResult<Py<PyAny>> {
        drain_op(py, slf, None, false)
    }

    /// `StreamWriter.drain()` in one call: the reader's stored exception, then one yield
    /// if the transport is closing, then the flow-control wait. Below the high-water mark
    /// of an open transport it returns the completed awaitable at once.
    fn _drain(
        slf: &Bound<'_, Self>,
        reader: &Bound<'_, PyAny>,
        transport: &Bound<'_, PyAny>,
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
            return drain_op(
                py,
                slf.clone().unbind(),
                Some(PyErr::from_value(e.into_bound(py))),
                false,
            );
        }
        let closing = transport
            .call_method0(intern!(py, "is_closing"))?
            .is_truthy()?;
        {
            let p = slf.borrow();
            if !closing && !p.paused && !p.lost {
                return Ok(ready(py)?.into_any());
            }
        }
        drain_op(py, slf.clone().unbind(), None, closing)
    }
}
