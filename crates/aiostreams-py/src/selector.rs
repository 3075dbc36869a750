//! The stock loop's hot path in native code: asyncio's own selector socket transport
//! (`asyncio.selector_events._SelectorSocketTransport`) keeps every behaviour it has, but
//! its two per-request Python methods are replaced on the instance for our protocol:
//! `_read_ready_cb` (what its `_read_ready` calls when the socket is readable) receives
//! straight into the reader, and is registered with the selector in place of
//! `_read_ready` itself; `write` sends at once. Anything but the plain case
//! (a write while data is queued, after `write_eof()`, during `sendfile()`, on a lost
//! connection, a partial send, a type other than `bytes`) is handed to the class's own
//! `write`, so every check, queue and message stays asyncio's.

use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, Ordering};

use pyo3::exceptions::PyOSError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBytes, PyTuple, PyType, PyWeakrefMethods, PyWeakrefReference};
use pyo3::{PyTraverseError, PyVisit};

use crate::fast_handle::{self, must_propagate};
use crate::protocol::ProtocolCore;

static CLASS_WRITE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static SOCKET_TRANSPORT: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// asyncio `transport.is_closing()`; for the selector socket transport its `_closing`
/// (what its `is_closing()` returns) read without the Python call.
pub(crate) fn is_closing(transport: &Bound<'_, PyAny>) -> PyResult<bool> {
    let py = transport.py();
    let selector =
        SOCKET_TRANSPORT.import(py, "asyncio.selector_events", "_SelectorSocketTransport")?;
    if transport.get_type().is(selector) {
        return transport.getattr(intern!(py, "_closing"))?.is_truthy();
    }
    transport
        .call_method0(intern!(py, "is_closing"))?
        .is_truthy()
}

/// Outcome of one non-blocking system call on the socket.
pub(crate) enum Io {
    Done(usize),
    /// `EAGAIN`/`EWOULDBLOCK` or `EINTR`: asyncio's `BlockingIOError`/`InterruptedError`.
    Retry,
    Failed(i32),
}

fn io_result(ret: isize) -> Io {
    match usize::try_from(ret) {
        Ok(n) => Io::Done(n),
        Err(_) => {
            let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
            if errno == libc::EAGAIN || errno == libc::EWOULDBLOCK || errno == libc::EINTR {
                Io::Retry
            } else {
                Io::Failed(errno)
            }
        }
    }
}

/// `recv(fd, buf, 0)`, as the transport's `sock.recv_into(buf)` makes it.
pub(crate) fn recv(fd: RawFd, buf: &mut [u8]) -> Io {
    // SAFETY: `buf` is a valid, writable region of `buf.len()` bytes for the whole call;
    // recv writes at most that many. `fd` is the transport's socket, open while its
    // reader callback is registered (asyncio closes it only in `_call_connection_lost`,
    // after removing the callback); a closed descriptor would only make recv fail.
    #[allow(unsafe_code, reason = "the recv system call")]
    let ret = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0) };
    io_result(ret)
}

/// `send(fd, data, 0)`, as the transport's `sock.send(data)` makes it.
fn send(fd: RawFd, data: &[u8]) -> Io {
    // SAFETY: `data` is valid for reads of `data.len()` bytes for the whole call. `fd`
    // is the transport's socket, open while the transport is not lost (checked by the
    // caller: `_conn_lost` is 0, and asyncio closes the socket only after setting it).
    #[allow(unsafe_code, reason = "the send system call")]
    let ret = unsafe { libc::send(fd, data.as_ptr().cast(), data.len(), 0) };
    io_result(ret)
}

/// The `OSError` (its errno subclass) that Python's socket module raises for `errno`.
pub(crate) fn os_error(py: Python<'_>, errno: i32) -> PyResult<Bound<'_, PyAny>> {
    let text = py
        .import(intern!(py, "os"))?
        .call_method1(intern!(py, "strerror"), (errno,))?;
    py.get_type::<PyOSError>().call1((errno, text))
}

/// asyncio's `transport._fatal_error(exc, message)`.
pub(crate) fn fatal(
    transport: &Bound<'_, PyAny>,
    exc: &Bound<'_, PyAny>,
    message: &str,
) -> PyResult<()> {
    let py = transport.py();
    transport
        .call_method1(intern!(py, "_fatal_error"), (exc, message))
        .map(drop)
}

/// The transport's `_read_ready_cb` for our protocol: asyncio's `_read_ready__get_buffer`
/// with the receive made here, straight into the protocol's region and on to the reader.
#[pyclass(frozen, module = "aiostreams._native", name = "ReadReady")]
#[derive(Debug)]
pub struct ReadReady {
    transport: Py<PyWeakrefReference>,
    protocol: Py<PyWeakrefReference>,
    /// The transport, held strongly: registered with the selector in place of the
    /// transport's `_read_ready`, this object is what keeps a connection alive, as the
    /// bound method in asyncio's registration does. With only the weak references, a
    /// connection whose task waits on a read is a cycle nobody holds (the loop's
    /// `_transports` is weak): the garbage collector destroyed it with its pending
    /// task, and the peer saw an early EOF.
    keep: Py<PyAny>,
    fd: RawFd,
    /// Whether its first call made the selector's `Handle` for it a `fast_handle` one.
    adopted: AtomicBool,
}

#[pymethods]
impl ReadReady {
    /// Shows the transport to the garbage collector (the transport holds this object as
    /// its `_read_ready_cb`: a cycle, collected once the selector lets go of it).
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.keep)
    }

    fn __call__(slf: &Bound<'_, Self>) -> PyResult<()> {
        let py = slf.py();
        let this = slf.get();
        let (Some(transport), Some(protocol)) = (
            this.transport.bind(py).upgrade(),
            this.protocol.bind(py).upgrade(),
        ) else {
            return Ok(());
        };
        // Registered as the transport's `_read_ready` too, whose one line this is: a
        // protocol set since (`set_protocol`) has the class's own callback here.
        let callback = transport.getattr(intern!(py, "_read_ready_cb"))?;
        if !callback.is(slf) {
            return callback.call0().map(drop);
        }
        if !this.adopted.swap(true, Ordering::Relaxed) {
            adopt_registration(&transport, slf.as_any(), this.fd);
        }
        if transport.getattr(intern!(py, "_conn_lost"))?.is_truthy()? {
            return Ok(());
        }
        let protocol = protocol.cast_into::<ProtocolCore>()?;
        let received = ProtocolCore::receive(&protocol, this.fd);
        match received {
            Ok(Some(0)) => transport
                .call_method0(intern!(py, "_read_ready__on_eof"))
                .map(drop),
            Ok(_) => Ok(()),
            Err(Received::Os(errno)) => fatal(
                &transport,
                &os_error(py, errno)?,
                "Fatal read error on socket transport",
            ),
            Err(Received::Protocol(e)) if must_propagate(py, &e) => Err(e),
            Err(Received::Protocol(e)) => fatal(
                &transport,
                e.value(py).as_any(),
                "Fatal error: protocol.buffer_updated() call failed.",
            ),
        }
    }
}

/// The selector's reader `Handle` for `fd`, when its callback is `read`, made a
/// `fast_handle` one (its `_run` native; the same object and fields). Once per
/// connection; where the registration is not found as expected it stays as it is.
fn adopt_registration(transport: &Bound<'_, PyAny>, read: &Bound<'_, PyAny>, fd: RawFd) {
    let py = transport.py();
    let handle = transport
        .getattr(intern!(py, "_loop"))
        .and_then(|l| l.getattr(intern!(py, "_selector")))
        .and_then(|s| s.call_method1(intern!(py, "get_key"), (fd,)))
        .and_then(|key| key.getattr(intern!(py, "data")))
        .and_then(|data| data.get_item(0));
    let Ok(handle) = handle else {
        return;
    };
    let ours = handle
        .getattr(intern!(py, "_callback"))
        .is_ok_and(|c| c.is(read));
    if ours {
        // A failure leaves the loop's own `Handle`, which calls `read` the same way.
        let _ = fast_handle::adopt(&handle);
    }
}

/// Why a receive did not deliver.
pub(crate) enum Received {
    /// The system call failed with this errno.
    Os(i32),
    /// Feeding the reader raised.
    Protocol(PyErr),
}

/// The transport's `write` for our protocol: `bytes` sent at once when nothing is queued
/// (asyncio's "try to send now" optimisation); everything else goes to the class's own
/// `write`.
#[pyclass(module = "aiostreams._native", name = "SendNow")]
#[derive(Debug)]
pub struct SendNow {
    transport: Py<PyWeakrefReference>,
    fd: RawFd,
}

impl SendNow {
    /// The state asyncio's `write()` checks before its send: not after `write_eof()`, no
    /// `sendfile()` in progress, not lost, nothing queued.
    fn can_send_now(transport: &Bound<'_, PyAny>) -> PyResult<bool> {
        let py = transport.py();
        Ok(!transport.getattr(intern!(py, "_eof"))?.is_truthy()?
            && transport.getattr(intern!(py, "_empty_waiter"))?.is_none()
            && !transport.getattr(intern!(py, "_conn_lost"))?.is_truthy()?
            && !transport.getattr(intern!(py, "_buffer"))?.is_truthy()?)
    }
}

fn class_write<'py>(transport: &Bound<'py, PyAny>, data: &Bound<'py, PyAny>) -> PyResult<()> {
    let py = transport.py();
    let write = CLASS_WRITE.get_or_try_init(py, || {
        py.import(intern!(py, "asyncio.selector_events"))?
            .getattr(intern!(py, "_SelectorSocketTransport"))?
            .getattr(intern!(py, "write"))
            .map(Bound::unbind)
    })?;
    write.bind(py).call1((transport, data)).map(drop)
}

#[pymethods]
impl SendNow {
    fn __call__(&self, py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<()> {
        let Some(transport) = self.transport.bind(py).upgrade() else {
            return Ok(());
        };
        let Ok(bytes) = data.cast_exact::<PyBytes>() else {
            return class_write(&transport, data);
        };
        let slice = bytes.as_bytes();
        if slice.is_empty() || !SendNow::can_send_now(&transport)? {
            return class_write(&transport, data);
        }
        match send(self.fd, slice) {
            Io::Done(n) if n == slice.len() => Ok(()),
            Io::Done(n) => class_write(&transport, PyBytes::new(py, &slice[n..]).as_any()),
            Io::Retry => class_write(&transport, data),
            Io::Failed(errno) => fatal(
                &transport,
                &os_error(py, errno)?,
                "Fatal write error on socket transport",
            ),
        }
    }
}

/// Puts `read` in place of the transport's `_read_ready` bound method: as an instance
/// attribute (what `resume_reading` registers) and in the `_add_reader(fd,
/// self._read_ready)` call its `__init__` queued in `loop._ready` after `connection_made`
/// (the transport's own `_add_reader` or, on 3.9, the loop's). Where that queued call is
/// not found, the first registration keeps the bound method, which calls `read` too.
fn register_directly(transport: &Bound<'_, PyAny>, read: &Bound<'_, ReadReady>) -> PyResult<()> {
    let py = transport.py();
    let bound = transport.getattr(intern!(py, "_read_ready"))?;
    let queued = transport
        .getattr(intern!(py, "_loop"))
        .and_then(|l| l.getattr(intern!(py, "_ready")))
        .and_then(|r| r.try_iter());
    for handle in queued.into_iter().flatten() {
        let handle = handle?;
        let Ok(args) = handle.getattr(intern!(py, "_args")) else {
            continue;
        };
        let Ok(args) = args.cast_into::<PyTuple>() else {
            continue;
        };
        if args.len() == 2 && args.get_item(1)?.eq(&bound)? {
            let fd = args.get_item(0)?;
            handle.setattr(intern!(py, "_args"), (fd, read))?;
            break;
        }
    }
    transport.setattr(intern!(py, "_read_ready"), read)
}

/// The private names of asyncio's selector socket transport that the native path reads
/// or replaces. They are the same on CPython 3.9 to 3.13; a Python whose transport lacks
/// one of them keeps the transport's own Python methods (checked per connection, once).
const TRANSPORT_NAMES: [&str; 11] = [
    "_sock_fd",
    "_loop",
    "_read_ready",
    "_read_ready_cb",
    "_read_ready__on_eof",
    "_fatal_error",
    "_conn_lost",
    "_eof",
    "_empty_waiter",
    "_buffer",
    "_closing",
];

/// Puts the native `_read_ready_cb` and `write` on asyncio's selector socket transport
/// `transport` whose protocol is `protocol` (called from `connection_made`, before the
/// transport's reader callback is registered). Does nothing when the transport lacks one
/// of [`TRANSPORT_NAMES`] (another CPython's transport: its own code stays in place).
#[pyfunction]
pub(crate) fn use_native_io(
    transport: &Bound<'_, PyAny>,
    protocol: &Bound<'_, ProtocolCore>,
) -> PyResult<()> {
    let py = transport.py();
    for name in TRANSPORT_NAMES {
        if !transport.hasattr(name)? {
            return Ok(());
        }
    }
    let fd: RawFd = transport.getattr(intern!(py, "_sock_fd"))?.extract()?;
    let weak = PyWeakrefReference::new(transport)?.unbind();
    let read = ReadReady {
        transport: weak.clone_ref(py),
        protocol: PyWeakrefReference::new(protocol)?.unbind(),
        fd,
        adopted: AtomicBool::new(false),
        keep: transport.clone().unbind(),
    };
    let read = Bound::new(py, read)?;
    transport.setattr(intern!(py, "_read_ready_cb"), &read)?;
    // The selector calls the transport's `_read_ready` (one Python line calling
    // `_read_ready_cb`): register `ReadReady` itself instead, for the registration
    // `__init__` queued after `connection_made` and for `resume_reading`'s.
    register_directly(transport, &read)?;
    transport.setattr(
        intern!(py, "write"),
        Py::new(
            py,
            SendNow {
                transport: weak,
                fd,
            },
        )?,
    )?;
    // The loop's own `select()` and `_process_events()` natively too (once per loop).
    crate::loop_events::install(&transport.getattr(intern!(py, "_loop"))?)
}
