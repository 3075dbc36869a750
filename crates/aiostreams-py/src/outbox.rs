//! Writes coalesced until the task waits (asyncio: `StreamWriter.write` is
//! `transport.write`, which sends at once: five `write()`s between two awaits are five
//! sends; here they are one).
//!
//! The writer keeps a write here only while the connection's reader holds bytes not read
//! yet (more answers are coming) or bytes are pending; with the read buffer empty it is
//! written at once, behind what is pending (`WriterCore::more_to_answer`).
//!
//! A connection's [`Outbox`] keeps the bytes written through its `StreamWriter`s (bytes
//! objects by reference, a `bytearray`/`memoryview` copied as asyncio's transports copy
//! what they keep) and hands them to the transport as one `transport.write()` of the
//! joined bytes: when a read on the connection's reader is about to wait, when `drain()`
//! must wait (or the transport has bytes queued), before `write_eof()`, `close()`,
//! `start_tls()`, `get_extra_info()` and `transport` (after which the writer writes
//! through), above `min(64 KiB, high-water mark)` pending, and at the latest in the
//! loop's next iteration: the first write of an iteration schedules the loop's one
//! [`Flusher`], which flushes every outbox still holding bytes.

use pyo3::exceptions::{PyKeyboardInterrupt, PySystemExit};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyMemoryView, PyType};
use pyo3::{PyTraverseError, PyVisit};

use crate::wakeup::{call_one, plain_loop, plain_loop_class, revive};

/// The most bytes kept before they go to the transport at once (asyncio's default
/// high-water mark; a lower mark set before the writer was made lowers it).
const MAX_PENDING: usize = 64 * 1024;

static SELECTOR_SOCKET: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static HANDLE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static CONTEXT: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// One connection's pending writes (shared by its reader, its writers and its protocol).
#[pyclass(module = "aiostreams._native", name = "Outbox")]
#[derive(Debug)]
pub struct Outbox {
    transport: Py<PyAny>,
    flusher: Py<Flusher>,
    pending: Vec<Py<PyBytes>>,
    len: usize,
    limit: usize,
    /// The transport is asyncio's selector socket transport (its queue is `_buffer`).
    selector: bool,
    /// In the flusher's list.
    queued: bool,
    /// Writes go to the transport at once from now on (closed, EOF written, the
    /// transport handed out, TLS started, the connection lost).
    through: bool,
}

/// What [`Outbox::push`] made of the data.
pub(crate) enum Pushed {
    /// Kept (or sent, above the limit): nothing more to do.
    Kept,
    /// Not a type kept here, or writing through: the caller writes it to the transport
    /// itself (after the flush, so the order is kept).
    Through,
}

impl Outbox {
    /// An outbox for `transport`, flushed at the latest by `flusher` (the loop's).
    pub(crate) fn new(transport: &Bound<'_, PyAny>, flusher: Py<Flusher>) -> PyResult<Self> {
        let py = transport.py();
        let selector =
            SELECTOR_SOCKET.import(py, "asyncio.selector_events", "_SelectorSocketTransport")?;
        let (_, high): (usize, usize) = transport
            .call_method0(intern!(py, "get_write_buffer_limits"))?
            .extract()?;
        Ok(Outbox {
            transport: transport.clone().unbind(),
            flusher,
            pending: Vec::new(),
            len: 0,
            limit: high.min(MAX_PENDING),
            selector: transport.get_type().is(selector),
            queued: false,
            through: false,
        })
    }

    /// The bytes `data` stands for if it is a type asyncio's transports take as bytes:
    /// `bytes` itself, a copy of a `bytearray` or `memoryview`.
    fn as_bytes<'py>(data: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyBytes>>> {
        if let Ok(b) = data.cast::<PyBytes>() {
            return Ok(Some(b.clone()));
        }
        if is_copied(data) {
            let copy = data.py().get_type::<PyBytes>().call1((data,))?;
            return Ok(Some(copy.cast_into::<PyBytes>()?));
        }
        Ok(None)
    }

    /// Whether every item of `items` is a type [`Outbox::push`] keeps.
    pub(crate) fn takes_all(items: &Bound<'_, pyo3::types::PyList>) -> bool {
        items
            .iter()
            .all(|i| i.cast::<PyBytes>().is_ok() || is_copied(&i))
    }

    /// `writer.write(data)`: kept until the task waits, or [`Pushed::Through`].
    pub(crate) fn push(slf: &Bound<'_, Self>, data: &Bound<'_, PyAny>) -> PyResult<Pushed> {
        if slf.borrow().through {
            Outbox::flush(slf)?;
            return Ok(Pushed::Through);
        }
        let Some(bytes) = Outbox::as_bytes(data)? else {
            Outbox::flush(slf)?;
            return Ok(Pushed::Through);
        };
        let n = bytes.as_bytes().len();
        if n == 0 {
            return Ok(Pushed::Kept);
        }
        // A transport closing (closed by an error, or by whoever holds it) takes each
        // write itself: it drops it and counts it for its lost-connection warning, as
        // asyncio's does. Checked at a batch's first write: no other code runs before
        // the batch's last (its task's step).
        if slf.borrow().pending.is_empty() && slf.borrow().transport_closing(slf.py())? {
            slf.borrow_mut().through = true;
            return Ok(Pushed::Through);
        }
        let (over, first) = {
            let mut o = slf.borrow_mut();
            if n > o.limit {
                drop(o);
                Outbox::flush(slf)?;
                let transport = slf.borrow().transport.clone_ref(slf.py());
                write(transport.bind(slf.py()), bytes.as_any())?;
                return Ok(Pushed::Kept);
            }
            o.pending.push(bytes.unbind());
            o.len += n;
            let first = !o.queued;
            o.queued = true;
            (o.len > o.limit, first)
        };
        if over {
            return Outbox::flush(slf).map(|()| Pushed::Kept);
        }
        if first {
            let flusher = slf.borrow().flusher.clone_ref(slf.py());
            Flusher::enqueue(flusher.bind(slf.py()), slf)?;
        }
        Ok(Pushed::Kept)
    }

    /// Hands the pending bytes to the transport: one `transport.write()`.
    pub(crate) fn flush(slf: &Bound<'_, Self>) -> PyResult<()> {
        let py = slf.py();
        let (items, len, transport, dequeue) = {
            let mut o = slf.borrow_mut();
            if o.pending.is_empty() {
                return Ok(());
            }
            let dequeue = std::mem::replace(&mut o.queued, false);
            let len = std::mem::replace(&mut o.len, 0);
            (
                std::mem::take(&mut o.pending),
                len,
                o.transport.clone_ref(py),
                dequeue.then(|| o.flusher.clone_ref(py)),
            )
        };
        if let Some(flusher) = dequeue {
            Flusher::dequeue(flusher.bind(py), slf)?;
        }
        let data = match items.as_slice() {
            [one] => one.bind(py).clone(),
            _ => PyBytes::new_with(py, len, |buf| {
                let mut at = 0;
                for item in &items {
                    let b = item.bind(py).as_bytes();
                    buf[at..at + b.len()].copy_from_slice(b);
                    at += b.len();
                }
                Ok(())
            })?,
        };
        write(transport.bind(py), data.as_any())
    }

    /// Flushes, and writes through from now on.
    pub(crate) fn stop(slf: &Bound<'_, Self>) -> PyResult<()> {
        slf.borrow_mut().through = true;
        Outbox::flush(slf)
    }

    /// The connection is lost: what is pending is dropped (as the transport drops its
    /// queue), and later writes go to the transport, which counts and logs them as
    /// asyncio does.
    pub(crate) fn lost(slf: &Bound<'_, Self>) -> PyResult<()> {
        let py = slf.py();
        let dequeue = {
            let mut o = slf.borrow_mut();
            o.through = true;
            o.pending.clear();
            o.len = 0;
            std::mem::replace(&mut o.queued, false).then(|| o.flusher.clone_ref(py))
        };
        match dequeue {
            Some(flusher) => Flusher::dequeue(flusher.bind(py), slf),
            None => Ok(()),
        }
    }

    /// Whether bytes are pending.
    pub(crate) fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// `transport.is_closing()` (the selector transport's `_closing`, read directly).
    fn transport_closing(&self, py: Python<'_>) -> PyResult<bool> {
        let t = self.transport.bind(py);
        if self.selector {
            return t.getattr(intern!(py, "_closing"))?.is_truthy();
        }
        t.call_method0(intern!(py, "is_closing"))?.is_truthy()
    }

    /// Whether the transport has bytes queued (its send did not take everything): then
    /// `drain()` counts the pending bytes in the water marks by flushing them first.
    pub(crate) fn transport_backed_up(&self, py: Python<'_>) -> PyResult<bool> {
        let t = self.transport.bind(py);
        if self.selector {
            return t.getattr(intern!(py, "_buffer"))?.is_truthy();
        }
        Ok(t.call_method0(intern!(py, "get_write_buffer_size"))?
            .extract::<usize>()?
            > 0)
    }
}

/// Whether `data` is a mutable type asyncio's transports copy (`bytearray`, `memoryview`).
fn is_copied(data: &Bound<'_, PyAny>) -> bool {
    data.cast::<PyByteArray>().is_ok() || data.cast::<PyMemoryView>().is_ok()
}

/// `transport.write(data)`.
fn write(transport: &Bound<'_, PyAny>, data: &Bound<'_, PyAny>) -> PyResult<()> {
    call_one(transport, Some(intern!(transport.py(), "write")), data).map(drop)
}

#[pymethods]
impl Outbox {
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.transport)?;
        visit.call(&self.flusher)?;
        for item in &self.pending {
            visit.call(item)?;
        }
        Ok(())
    }

    fn __clear__(&mut self) {
        self.pending.clear();
        self.through = true;
    }
}

/// The loop's fallback: flushes every outbox still holding bytes, once per loop
/// iteration in which something was written. On asyncio's own loop it is queued as a
/// ready-made `events.Handle` appended to `loop._ready` (what `call_soon` would append,
/// without its Python frames) and taken back off the end of `_ready` when the last
/// outbox was flushed before it ran (a read about to wait, in the common case: no extra
/// loop iteration); on any other loop through `loop.call_soon`, its handle cancelled then.
#[pyclass(module = "aiostreams._native", name = "Flusher")]
#[derive(Debug)]
pub struct Flusher {
    event_loop: Py<PyAny>,
    queued: Vec<Py<Outbox>>,
    scheduled: Scheduled,
    /// asyncio's own loop: its `__dict__`, its `_ready` deque and the reused `Handle`.
    plain: Option<Plain>,
}

#[derive(Debug)]
enum Scheduled {
    No,
    /// The reused `Handle` is in `_ready`.
    Handle,
    /// Through `call_soon`: the handle it returned (cancelled when the last outbox was
    /// flushed before it ran).
    CallSoon(Py<PyAny>),
}

#[derive(Debug)]
struct Plain {
    loop_dict: Py<PyDict>,
    ready: Py<PyAny>,
    handle: Option<Py<PyAny>>,
}

impl Flusher {
    fn enqueue(slf: &Bound<'_, Self>, outbox: &Bound<'_, Outbox>) -> PyResult<()> {
        let py = slf.py();
        let schedule = {
            let mut f = slf.borrow_mut();
            f.queued.push(outbox.clone().unbind());
            matches!(f.scheduled, Scheduled::No)
        };
        if !schedule {
            return Ok(());
        }
        if let Some(handle) = Flusher::handle(slf)? {
            let ready = slf.borrow().plain.as_ref().map(|p| p.ready.clone_ref(py));
            if let Some(ready) = ready {
                call_one(ready.bind(py), Some(intern!(py, "append")), &handle)?;
                slf.borrow_mut().scheduled = Scheduled::Handle;
                return Ok(());
            }
        }
        let event_loop = slf.borrow().event_loop.clone_ref(py);
        match call_one(event_loop.bind(py), Some(intern!(py, "call_soon")), slf) {
            Ok(handle) => {
                slf.borrow_mut().scheduled = Scheduled::CallSoon(handle.unbind());
                Ok(())
            }
            // A closed loop (call_soon raises): nothing will run later, write now.
            Err(_) => Outbox::flush(outbox),
        }
    }

    /// The reused `Handle`, when `call_soon` would only append one to `_ready` and
    /// nobody else holds it (so it is not queued or running); made on first use.
    fn handle<'py>(slf: &Bound<'py, Self>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let py = slf.py();
        let (loop_dict, handle) = match &slf.borrow().plain {
            Some(p) => (
                p.loop_dict.clone_ref(py),
                p.handle.as_ref().map(|h| h.clone_ref(py)),
            ),
            None => return Ok(None),
        };
        if !plain_loop(loop_dict.bind(py))? {
            return Ok(None);
        }
        let Some(handle) = handle else {
            let class = HANDLE.import(py, "asyncio.events", "Handle")?;
            let context = CONTEXT.import(py, "contextvars", "Context")?.call0()?;
            let event_loop = slf.borrow().event_loop.clone_ref(py);
            let handle = class.call1((slf, (), event_loop, context))?;
            if let Some(p) = slf.borrow_mut().plain.as_mut() {
                p.handle = Some(handle.clone().unbind());
            }
            return Ok(Some(handle));
        };
        // Ours and the local clone above: queued or running would add a third.
        if handle.get_refcnt(py) != 2 {
            return Ok(None);
        }
        let handle = handle.into_bound(py);
        revive(&handle)?;
        Ok(Some(handle))
    }

    /// `outbox` was flushed before the fallback ran; with none left, the queued `Handle`
    /// is taken back if it is still the last one in `_ready`, or the handle `call_soon`
    /// returned is cancelled.
    fn dequeue(slf: &Bound<'_, Self>, outbox: &Bound<'_, Outbox>) -> PyResult<()> {
        let py = slf.py();
        let (ready, handle) = {
            let mut f = slf.borrow_mut();
            f.queued.retain(|o| !o.is(outbox));
            if !f.queued.is_empty() {
                return Ok(());
            }
            match std::mem::replace(&mut f.scheduled, Scheduled::No) {
                Scheduled::No => return Ok(()),
                Scheduled::CallSoon(handle) => {
                    drop(f);
                    return handle
                        .bind(py)
                        .call_method0(intern!(py, "cancel"))
                        .map(drop);
                }
                Scheduled::Handle => f.scheduled = Scheduled::Handle,
            }
            match &f.plain {
                Some(Plain {
                    ready,
                    handle: Some(handle),
                    ..
                }) => (ready.clone_ref(py), handle.clone_ref(py)),
                _ => return Ok(()),
            }
        };
        let ready = ready.into_bound(py);
        if ready.len()? > 0 && ready.get_item(-1)?.is(&handle) {
            ready.call_method0(intern!(py, "pop"))?;
            slf.borrow_mut().scheduled = Scheduled::No;
        }
        Ok(())
    }
}

#[pymethods]
impl Flusher {
    /// The fallback for `event_loop` (one per loop: `aiostreams._streams` keeps it on the
    /// loop).
    #[new]
    fn new(event_loop: &Bound<'_, PyAny>) -> PyResult<Self> {
        let py = event_loop.py();
        let plain = match plain_loop_class(event_loop) {
            Some(loop_dict) => {
                let ready = loop_dict.get_item(intern!(py, "_ready"))?;
                ready.map(|ready| Plain {
                    loop_dict: loop_dict.unbind(),
                    ready: ready.unbind(),
                    handle: None,
                })
            }
            None => None,
        };
        Ok(Flusher {
            event_loop: event_loop.clone().unbind(),
            queued: Vec::new(),
            scheduled: Scheduled::No,
            plain,
        })
    }

    /// Runs from the loop: flushes every outbox holding bytes. A failing write is
    /// reported to the loop's exception handler (as a failing callback is) and the
    /// others are still flushed.
    fn __call__(slf: &Bound<'_, Self>) -> PyResult<()> {
        let py = slf.py();
        let queued = {
            let mut f = slf.borrow_mut();
            f.scheduled = Scheduled::No;
            std::mem::take(&mut f.queued)
        };
        // Unmarked first: if a flush raises SystemExit, the rest is queued again by its
        // next write.
        for outbox in &queued {
            outbox.bind(py).borrow_mut().queued = false;
        }
        for outbox in queued {
            let outbox = outbox.bind(py);
            if let Err(e) = Outbox::flush(outbox) {
                if e.is_instance_of::<PySystemExit>(py)
                    || e.is_instance_of::<PyKeyboardInterrupt>(py)
                {
                    return Err(e);
                }
                let context = PyDict::new(py);
                context.set_item("message", "Exception in a StreamWriter's deferred write")?;
                context.set_item("exception", e.value(py))?;
                context.set_item("transport", &outbox.borrow().transport)?;
                slf.borrow()
                    .event_loop
                    .bind(py)
                    .call_method1(intern!(py, "call_exception_handler"), (context,))?;
            }
        }
        Ok(())
    }

    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.event_loop)?;
        if let Scheduled::CallSoon(handle) = &self.scheduled {
            visit.call(handle)?;
        }
        for outbox in &self.queued {
            visit.call(outbox)?;
        }
        if let Some(p) = &self.plain {
            visit.call(&p.loop_dict)?;
            visit.call(&p.ready)?;
            visit.call(&p.handle)?;
        }
        Ok(())
    }

    fn __clear__(&mut self) {
        self.queued.clear();
        self.plain = None;
    }
}
