//! The native part of `StreamReaderProtocol`: an `asyncio.BufferedProtocol` whose
//! `get_buffer()` lends the transport the reader's own spare capacity, so bytes go from
//! the socket straight into the reader's buffer; plus write flow control
//! (`pause_writing`/`resume_writing`, `drain()`'s waiters).

use pyo3::exceptions::PyAssertionError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyMemoryView, PyWeakrefReference};
use pyo3::{PyTraverseError, PyVisit};

use aiostreams::sansio::MAX_SPARE;

use crate::drain::drain_op;
use crate::errors::{Flavor, to_pyerr};
use crate::outbox::Outbox;
use crate::reader::{StreamReader, fed};
#[cfg(unix)]
use crate::selector::{Io, Received, recv};
#[cfg(unix)]
use std::os::fd::RawFd;

/// The first size of the region lent to the transport; it doubles while receives fill it
/// (up to the core's `MAX_SPARE`, asyncio's 256 KiB receive size) and halves after two
/// receives that used under a quarter of it, so an idle connection holds a small region.
const MIN_HINT: usize = 4 * 1024;

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
    /// The receive region `get_buffer()` lends, allocated once (not zero-filled per
    /// receive) and copied from in `buffer_updated()`.
    region: Option<Region>,
    /// Size of the next region lent (0 until the first get_buffer).
    hint: usize,
    /// Consecutive receives that used under a quarter of the region.
    small: u8,
    /// What the native receive (`selector::ReadReady`) reads into, sized as the region
    /// would be (the region itself is then never made).
    scratch: Vec<u8>,
    /// The connection's pending writes (`outbox.rs`), shared with its writers and reader.
    pub(crate) outbox: Option<Py<Outbox>>,
}

/// A bytearray of the region's size and the memoryview over it that is lent (a view, so
/// that a transport's `buf[offset:]`, as asyncio's SSL protocol takes, writes into it).
#[derive(Debug)]
struct Region {
    array: Py<PyByteArray>,
    view: Py<PyMemoryView>,
}

impl Region {
    fn new(py: Python<'_>, len: usize) -> PyResult<Region> {
        let array = PyByteArray::new(py, &vec![0; len]);
        let view = PyMemoryView::from(&array)?;
        Ok(Region {
            array: array.unbind(),
            view: view.unbind(),
        })
    }

    /// Resized to `len` in place (a transport that still held the old view's buffer
    /// makes that fail: then a new region).
    fn resize(&mut self, py: Python<'_>, len: usize) -> PyResult<()> {
        let array = self.array.bind(py);
        let resized = self
            .view
            .bind(py)
            .call_method0(intern!(py, "release"))
            .is_ok()
            && array.resize(len).is_ok();
        *self = if resized {
            Region {
                array: array.clone().unbind(),
                view: PyMemoryView::from(array)?.unbind(),
            }
        } else {
            Region::new(py, len)?
        };
        Ok(())
    }
}

impl ProtocolCore {
    fn reader<'py>(&self, py: Python<'py>) -> Option<Bound<'py, PyAny>> {
        use pyo3::types::PyWeakrefMethods;
        self.reader.as_ref().and_then(|w| w.bind(py).upgrade())
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

    #[cfg(unix)]
    /// One receive from `fd` on the stock loop's selector transport (asyncio
    /// `_read_ready__get_buffer` without the Python calls): into the scratch region,
    /// then to the reader as `buffer_updated` does. `Ok(Some(0))` is EOF, `Ok(None)` a
    /// receive that would block.
    pub(crate) fn receive(slf: &Bound<'_, Self>, fd: RawFd) -> Result<Option<usize>, Received> {
        let py = slf.py();
        let mut p = slf.borrow_mut();
        let hint = p.hint.max(MIN_HINT);
        p.hint = hint;
        if p.scratch.len() != hint {
            p.scratch.resize(hint, 0);
            p.scratch.shrink_to(hint);
        }
        let n = match recv(fd, &mut p.scratch) {
            Io::Done(n) => n,
            Io::Retry => return Ok(None),
            Io::Failed(errno) => return Err(Received::Os(errno)),
        };
        if n == 0 {
            return Ok(Some(0));
        }
        p.adapt_hint(n);
        let Some(reader) = p.reader(py) else {
            return Ok(Some(n));
        };
        let delivered = match reader.cast::<StreamReader>() {
            Ok(native) => {
                let fed_now = native.borrow_mut().buf.feed(&p.scratch[..n]);
                drop(p);
                fed_now
                    .map_err(|e| to_pyerr(py, e, Flavor::Plain))
                    .and_then(|()| fed(native))
            }
            Err(_) => {
                let chunk = PyBytes::new(py, &p.scratch[..n]);
                drop(p);
                reader
                    .call_method1(intern!(py, "feed_data"), (chunk,))
                    .map(drop)
            }
        };
        delivered.map(|()| Some(n)).map_err(Received::Protocol)
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

/// Runs `f` on the first `n` bytes of `region` (`n` is at most its length).
fn received<R>(region: &Bound<'_, PyByteArray>, n: usize, f: impl FnOnce(&[u8]) -> R) -> R {
    // SAFETY: the bytearray is this protocol's own, never handed to Python code other
    // than the transport, which writes into it only between get_buffer() and
    // buffer_updated() (the selector transport's recv_into, libuv's read, the SSL
    // protocol's read into it); we are in buffer_updated(), so nothing mutates or resizes
    // it while the slice lives, and no Python code runs before `f` returns.
    #[allow(unsafe_code, reason = "reading a bytearray without copying it first")]
    let bytes = unsafe { region.as_bytes() };
    f(&bytes[..n])
}

#[pymethods]
impl ProtocolCore {
    #[new]
    #[pyo3(signature = (*_args, **_kwargs))]
    fn new(_args: &Bound<'_, pyo3::types::PyTuple>, _kwargs: Option<&Bound<'_, PyAny>>) -> Self {
        ProtocolCore::default()
    }

    /// The garbage collector sees the loop, the drain waiters and the region (the reader
    /// is held weakly), so a cycle through a protocol is collected.
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.reader)?;
        visit.call(&self.event_loop)?;
        for waiter in &self.drain_waiters {
            visit.call(waiter)?;
        }
        if let Some(region) = &self.region {
            visit.call(&region.array)?;
            visit.call(&region.view)?;
        }
        visit.call(&self.outbox)
    }

    fn __clear__(&mut self) {
        *self = ProtocolCore::default();
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

    /// asyncio `BufferedProtocol.get_buffer(sizehint)`: a region the transport receives
    /// into; `buffer_updated(n)` then moves its first `n` bytes into the reader.
    #[pyo3(signature = (sizehint = -1))]
    fn get_buffer(&mut self, py: Python<'_>, sizehint: isize) -> PyResult<Py<PyMemoryView>> {
        let _ = sizehint;
        let hint = self.hint.max(MIN_HINT);
        self.hint = hint;
        match &mut self.region {
            Some(region) if region.array.bind(py).len() != hint => region.resize(py, hint)?,
            Some(_) => {}
            None => self.region = Some(Region::new(py, hint)?),
        }
        let region = self.region.as_ref().expect("set just above");
        Ok(region.view.clone_ref(py))
    }

    /// asyncio `BufferedProtocol.buffer_updated(nbytes)`: `nbytes` were written into the
    /// lent region; they become the reader's (asyncio `feed_data`).
    fn buffer_updated(&mut self, py: Python<'_>, nbytes: usize) -> PyResult<()> {
        let region = match &self.region {
            Some(r) if nbytes <= r.array.bind(py).len() => r.array.bind(py).clone(),
            _ => {
                return Err(to_pyerr(
                    py,
                    aiostreams::Error::InvalidArgument(
                        "buffer_updated() reported more bytes than get_buffer() returned",
                    ),
                    Flavor::Plain,
                ));
            }
        };
        self.adapt_hint(nbytes);
        let Some(reader) = self.reader(py) else {
            return Ok(());
        };
        let Ok(native) = reader.cast::<StreamReader>() else {
            let chunk = received(&region, nbytes, |b| PyBytes::new(py, b));
            reader.call_method1(intern!(py, "feed_data"), (chunk,))?;
            return Ok(());
        };
        received(&region, nbytes, |b| native.borrow_mut().buf.feed(b))
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
        if let Some(outbox) = &self.outbox {
            Outbox::lost(outbox.bind(py))?;
        }
        self.region = None;
        self.scratch = Vec::new();
        if !self.paused {
            return Ok(());
        }
        self.finish_waiters(py, exc.filter(|e| !e.is_none()))
    }

    /// asyncio `FlowControlMixin._drain_helper()`.
    fn _drain_helper(slf: Py<Self>, py: Python<'_>) -> PyResult<Py<PyAny>> {
        drain_op(py, slf, None, false)
    }
}
