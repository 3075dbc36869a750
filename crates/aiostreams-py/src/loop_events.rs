//! The stock loop's event gathering in native code: `EpollSelector.select()` and
//! `BaseSelectorEventLoop._process_events()`, the two Python methods `_run_once` calls
//! per loop iteration with a loop over the ready sockets (callgrind, CPython 3.11: ~2,500
//! instructions per ready socket in `select()`, whose `_key_from_fd` is a Python frame,
//! and ~2,000 in `_process_events`, whose `_add_callback` is another).
//!
//! They are put on the loop's own objects as instance attributes, as `selector.rs` puts
//! the transport's: `select` on the loop's `EpollSelector`, `_process_events` on the loop.
//! `_run_once` looks both up on the instance at every iteration, so it calls them; the
//! loop, its selector and their classes stay asyncio's. Each does what the Python method
//! does, in the same order, with the same objects: `select` returns the same list of
//! `(key, events & key.events)` and `_process_events` appends the same `Handle`s to
//! `_ready` (or calls `_remove_reader`/`_remove_writer` for a cancelled one). Whatever
//! is not the plain case (a timeout that is not a finite `float` or an `int`, an event
//! list that is not a list of `(SelectorKey, int)` pairs, a `Handle` of another class) is
//! handed to the class's own Python method before anything is done.
//!
//! Only where that is exactly the Python method: CPython 3.9 to 3.13 (their `select` and
//! `_process_events` do the same), a selector of exactly `selectors.EpollSelector` with
//! its own `select` (and `_key_from_fd` where it has one), and a loop class whose
//! `_process_events` and `_add_callback` are `BaseSelectorEventLoop`'s. Both hold their
//! object weakly: no reference cycle keeps a loop or a selector alive.
#![allow(
    unsafe_code,
    reason = "borrowed items of the event lists and keys (PyList_GetItem, PyTuple_GetItem)"
)]

use pyo3::exceptions::{PyInterruptedError, PyReferenceError};
use pyo3::ffi;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{
    PyDict, PyFloat, PyInt, PyList, PyTuple, PyType, PyWeakrefMethods, PyWeakrefReference,
};

use crate::fast_handle;
use crate::run_once::{self, RunOnce};
use crate::wakeup::call_one;

/// `selectors.EVENT_READ`, `selectors.EVENT_WRITE`.
const EVENT_READ: i64 = 1;
const EVENT_WRITE: i64 = 2;
/// `select.EPOLLIN`, `select.EPOLLOUT`.
const EPOLLIN: i64 = 0x001;
const EPOLLOUT: i64 = 0x004;

static EPOLL_SELECTOR: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static SELECTOR_KEY: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static BASE_SELECTOR_LOOP: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// The attribute `_process_events` is set as on the loop (and `select` on its selector).
const PROCESS_EVENTS: &str = "_process_events";

/// Puts the native `select` and `_process_events` on `event_loop` (asyncio's selector
/// loop, whose socket transport our protocol got) and its selector, once per loop, and
/// the native `_run_once` (`run_once.rs`) where the loop's is `BaseEventLoop`'s. Does
/// nothing where they would not be exactly the Python methods (see the module docs) or
/// are already there.
pub(crate) fn install(event_loop: &Bound<'_, PyAny>) -> PyResult<()> {
    let py = event_loop.py();
    if py.version_info() >= (3, 14) {
        return Ok(());
    }
    let Ok(dict) = event_loop
        .getattr(intern!(py, "__dict__"))
        .and_then(|d| d.cast_into::<PyDict>().map_err(PyErr::from))
    else {
        return Ok(());
    };
    if dict.contains(PROCESS_EVENTS)? || !plain_loop_class(event_loop)? {
        return Ok(());
    }
    let Some(selector) = dict.get_item(intern!(py, "_selector"))? else {
        return Ok(());
    };
    if !plain_selector(&selector)? {
        return Ok(());
    }
    let select = Bound::new(
        py,
        Select {
            selector: PyWeakrefReference::new(&selector)?.unbind(),
        },
    )?;
    let process = Bound::new(
        py,
        ProcessEvents {
            event_loop: PyWeakrefReference::new(event_loop)?.unbind(),
        },
    )?;
    selector.setattr(intern!(py, "select"), select)?;
    dict.set_item(PROCESS_EVENTS, process)?;
    if run_once::plain(event_loop, &dict)? {
        let run = Bound::new(py, RunOnce::new(event_loop)?)?;
        dict.set_item(run_once::RUN_ONCE, run)?;
    }
    Ok(())
}

/// `install` for tests and for a loop made before any connection: the native `select`
/// and `_process_events` on `event_loop` where they are exactly the Python methods.
///
/// # Errors
///
/// What reading the loop's and the selector's attributes raises.
#[pyfunction]
pub(crate) fn use_native_loop_events(event_loop: &Bound<'_, PyAny>) -> PyResult<()> {
    install(event_loop)
}

/// Whether a function's `__module__` is `module` (the stdlib's own definition).
fn defined_in(function: &Bound<'_, PyAny>, module: &str) -> PyResult<bool> {
    Ok(function
        .getattr(intern!(function.py(), "__module__"))?
        .extract::<String>()
        .is_ok_and(|m| m == module))
}

/// The loop's class runs `BaseSelectorEventLoop`'s `_process_events` and `_add_callback`.
fn plain_loop_class(event_loop: &Bound<'_, PyAny>) -> PyResult<bool> {
    let py = event_loop.py();
    let base = BASE_SELECTOR_LOOP.import(py, "asyncio.selector_events", "BaseSelectorEventLoop")?;
    let class = event_loop.get_type();
    for name in [intern!(py, "_process_events"), intern!(py, "_add_callback")] {
        if !class.getattr(name)?.is(base.getattr(name)?) {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `selector` is an `EpollSelector` whose `select` (and `_key_from_fd`, on the Pythons
/// whose `select` calls it) are the stdlib's, overridden by no instance attribute.
fn plain_selector(selector: &Bound<'_, PyAny>) -> PyResult<bool> {
    let py = selector.py();
    let Ok(epoll) = EPOLL_SELECTOR.import(py, "selectors", "EpollSelector") else {
        return Ok(false);
    };
    if !selector.get_type().is(epoll)
        || !defined_in(&epoll.getattr(intern!(py, "select"))?, "selectors")?
    {
        return Ok(false);
    }
    if let Ok(key_from_fd) = epoll.getattr(intern!(py, "_key_from_fd"))
        && !defined_in(&key_from_fd, "selectors")?
    {
        return Ok(false);
    }
    let own = selector
        .getattr(intern!(py, "__dict__"))?
        .cast_into::<PyDict>()?;
    Ok(!own.contains(intern!(py, "select"))?
        && !own.contains(intern!(py, "_key_from_fd"))?
        && own
            .get_item(intern!(py, "_fd_to_key"))?
            .is_some_and(|d| d.is_exact_instance_of::<PyDict>()))
}

/// The object a weak reference points to, or the `ReferenceError` a call on a dead
/// object's method would be (it cannot be called then: the loop holds its selector and
/// itself while it runs).
fn alive<'py>(weak: &Bound<'py, PyWeakrefReference>) -> PyResult<Bound<'py, PyAny>> {
    weak.upgrade()
        .ok_or_else(|| PyReferenceError::new_err("the loop or selector is gone"))
}

/// `EpollSelector.select(timeout=None)`, set as the instance's `select`.
#[pyclass(frozen, module = "aiostreams._native", name = "EpollSelect")]
#[derive(Debug)]
pub struct Select {
    selector: Py<PyWeakrefReference>,
}

/// The timeout `select` gives `epoll.poll`, or `None` where the Python method must
/// compute it (not a finite `float` or an `int`).
fn poll_timeout<'py>(timeout: Option<&Bound<'py, PyAny>>) -> PyResult<Option<Bound<'py, PyAny>>> {
    let Some(timeout) = timeout.filter(|t| !t.is_none()) else {
        return Ok(None);
    };
    let py = timeout.py();
    let seconds = if let Ok(f) = timeout.cast_exact::<PyFloat>() {
        f.value()
    } else if let Ok(i) = timeout.cast_exact::<PyInt>() {
        match i.extract::<i64>() {
            Ok(i) if i <= 0 => return Ok(Some(0_i64.into_pyobject(py)?.into_any())),
            // `i * 1e3` is a float in Python too.
            Ok(i) => i as f64,
            Err(_) => return Ok(None),
        }
    } else {
        return Ok(None);
    };
    if !seconds.is_finite() {
        return Ok(None);
    }
    if seconds <= 0.0 {
        return Ok(Some(0_i64.into_pyobject(py)?.into_any()));
    }
    // math.ceil(timeout * 1e3) * 1e-3: the ceiling of a finite float is an integer
    // the float holds exactly, so f64 arithmetic gives the same value.
    Ok(Some(
        PyFloat::new(py, (seconds * 1e3).ceil() * 1e-3).into_any(),
    ))
}

#[pymethods]
impl Select {
    #[pyo3(signature = (timeout = None))]
    fn __call__<'py>(
        &self,
        py: Python<'py>,
        timeout: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let selector = alive(self.selector.bind(py))?;
        let poll_timeout = match poll_timeout(timeout)? {
            Some(t) => t,
            None if timeout.is_none_or(|t| t.is_none()) => (-1_i64).into_pyobject(py)?.into_any(),
            None => return python_select(&selector, timeout),
        };
        let fd_to_key = selector.getattr(intern!(py, "_fd_to_key"))?;
        let Ok(fd_to_key) = fd_to_key.cast_exact::<PyDict>() else {
            return python_select(&selector, timeout);
        };
        let max_events = fd_to_key.len().max(1);
        let ready = PyList::empty(py);
        let polled = selector
            .getattr(intern!(py, "_selector"))?
            .call_method1(intern!(py, "poll"), (poll_timeout, max_events));
        let polled = match polled {
            Ok(polled) => polled,
            Err(e) if e.is_instance_of::<PyInterruptedError>(py) => return Ok(ready.into_any()),
            Err(e) => return Err(e),
        };
        let key_class = SELECTOR_KEY.import(py, "selectors", "SelectorKey")?;
        let polled = polled.cast_into_exact::<PyList>()?;
        for i in 0..polled.len() {
            // SAFETY: `i` is below the list's length and nothing runs between the length
            // read and this read (the GIL is held, no Python code runs in this loop but
            // `key.events` of a key that is not a `SelectorKey`, after the item is used).
            let pair = unsafe { borrowed_list_item(&polled, i) };
            let (fd, event) = pair.extract::<(Bound<'py, PyAny>, i64)>()?;
            let mut events = 0;
            if event & !EPOLLIN != 0 {
                events |= EVENT_WRITE;
            }
            if event & !EPOLLOUT != 0 {
                events |= EVENT_READ;
            }
            let Some(key) = fd_to_key.get_item(&fd)? else {
                continue;
            };
            if !key.is_truthy()? {
                continue;
            }
            let wanted = if key.get_type().is(key_class) {
                // SAFETY: a `SelectorKey` is a 4-tuple (a namedtuple); the tuple is
                // immutable and held by `key`.
                unsafe { borrowed_tuple_item(&key, 2) }.to_owned()
            } else {
                key.getattr(intern!(py, "events"))?
            };
            let mask = match wanted.cast_exact::<PyInt>().map(|w| w.extract::<i64>()) {
                Ok(Ok(w)) => (w & events).into_pyobject(py)?.into_any(),
                _ => events.into_pyobject(py)?.bitand(&wanted)?,
            };
            ready.append(PyTuple::new(py, [key, mask])?)?;
        }
        Ok(ready.into_any())
    }
}

/// The class's own `select`, for a case the native one does not take.
fn python_select<'py>(
    selector: &Bound<'py, PyAny>,
    timeout: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = selector.py();
    let method = selector.get_type().getattr(intern!(py, "select"))?;
    match timeout {
        Some(t) => method.call1((selector, t)),
        None => method.call1((selector,)),
    }
}

/// `BaseSelectorEventLoop._process_events(event_list)`, set as the loop instance's.
#[pyclass(frozen, module = "aiostreams._native", name = "ProcessEvents")]
#[derive(Debug)]
pub struct ProcessEvents {
    event_loop: Py<PyWeakrefReference>,
}

/// A `(key, mask)` pair `_process_events` takes natively: an exact 2-tuple of a
/// `SelectorKey` whose data is a `(reader, writer)` tuple and an `int` that fits an
/// `i64`: `(fileobj, (reader, writer), mask)`. Anything else goes, with the pairs after
/// it, to the Python method, which then raises its own error where it would have.
fn plain_pair<'py>(pair: &Bound<'py, PyAny>, key_class: &Bound<'py, PyType>) -> Option<Pair<'py>> {
    let pair = pair.cast_exact::<PyTuple>().ok()?;
    if pair.len() != 2 {
        return None;
    }
    // SAFETY: indexes below the length of tuples held for the call (immutable).
    let (key, mask) = unsafe { (borrowed_tuple_item(pair, 0), borrowed_tuple_item(pair, 1)) };
    if !key.get_type().is(key_class) {
        return None;
    }
    let mask = mask.cast_exact::<PyInt>().ok()?.extract::<i64>().ok()?;
    // SAFETY: a `SelectorKey` is a 4-tuple (namedtuple), immutable and held by `pair`.
    let (fileobj, data) = unsafe { (borrowed_tuple_item(&key, 0), borrowed_tuple_item(&key, 3)) };
    let data = data.cast_exact::<PyTuple>().ok()?;
    if data.len() != 2 {
        return None;
    }
    // SAFETY: as above, for the 2-tuple `data`.
    let (reader, writer) = unsafe {
        (
            borrowed_tuple_item(data.as_any(), 0),
            borrowed_tuple_item(data.as_any(), 1),
        )
    };
    Some(Pair {
        fileobj: fileobj.to_owned(),
        reader: reader.to_owned(),
        writer: writer.to_owned(),
        mask,
    })
}

/// What `_process_events` reads of one `(key, mask)` pair.
struct Pair<'py> {
    fileobj: Bound<'py, PyAny>,
    reader: Bound<'py, PyAny>,
    writer: Bound<'py, PyAny>,
    mask: i64,
}

/// Item `i` of `list`, borrowed.
///
/// # Safety
///
/// `i` is below the list's length, and the list is not changed while the item is used
/// before being made owned.
unsafe fn borrowed_list_item<'a, 'py>(
    list: &'a Bound<'py, PyList>,
    i: usize,
) -> Borrowed<'a, 'py, PyAny> {
    // SAFETY: PyList_GetItem returns a borrowed reference (non-NULL for an index in
    // range, the caller's promise), valid while the list holds it.
    unsafe {
        Borrowed::from_ptr(
            list.py(),
            ffi::PyList_GetItem(list.as_ptr(), i as ffi::Py_ssize_t),
        )
    }
}

/// Item `i` of the tuple (or tuple subclass) `tuple`, borrowed.
///
/// # Safety
///
/// `tuple` is a tuple with more than `i` items.
unsafe fn borrowed_tuple_item<'a, 'py>(
    tuple: &'a Bound<'py, PyAny>,
    i: usize,
) -> Borrowed<'a, 'py, PyAny> {
    // SAFETY: PyTuple_GetItem returns a borrowed reference (non-NULL for an index in
    // range, the caller's promise), valid while the tuple lives (tuples are immutable).
    unsafe {
        Borrowed::from_ptr(
            tuple.py(),
            ffi::PyTuple_GetItem(tuple.as_ptr(), i as ffi::Py_ssize_t),
        )
    }
}

/// `loop._add_callback(handle)` for a `handle` just found not cancelled: `_add_callback`
/// is `if not handle._cancelled: self._ready.append(handle)` (3.9's also asserts the
/// type), so for the loop's own `Handle` classes (whose `_cancelled` is a slot that
/// nothing changed since) it is the append; another class goes to the method.
fn add_callback<'py>(
    event_loop: &Bound<'py, PyAny>,
    append: &mut Option<Bound<'py, PyAny>>,
    handle: &Bound<'py, PyAny>,
) -> PyResult<()> {
    let py = event_loop.py();
    let class = handle.get_type();
    let (plain, fast) = handle_classes(py);
    if plain.is_some_and(|h| class.is(h)) || fast.is_some_and(|h| class.is(h)) {
        let append = match append {
            Some(append) => append,
            None => append.insert(
                event_loop
                    .getattr(intern!(py, "_ready"))?
                    .getattr(intern!(py, "append"))?,
            ),
        };
        call_one(append, None, handle).map(drop)
    } else {
        call_one(event_loop, Some(intern!(py, "_add_callback")), handle).map(drop)
    }
}

/// `events.Handle` and `fast_handle`'s subclass (each where there is one).
type HandleClasses = (Option<Py<PyType>>, Option<Py<PyType>>);

static HANDLE_CLASSES: PyOnceLock<HandleClasses> = PyOnceLock::new();

/// `events.Handle` (with the slots `fast_handle` knows) and `fast_handle`'s class, looked
/// up once.
fn handle_classes(py: Python<'_>) -> (Option<&Bound<'_, PyType>>, Option<&Bound<'_, PyType>>) {
    let (plain, fast) = HANDLE_CLASSES.get_or_init(py, || {
        (
            fast_handle::asyncio_handle(py).map(|h| h.clone().unbind()),
            fast_handle::class(py).map(|h| h.clone().unbind()),
        )
    });
    (
        plain.as_ref().map(|h| h.bind(py)),
        fast.as_ref().map(|h| h.bind(py)),
    )
}

/// The class's own `_process_events`, for event lists the native one does not take.
fn python_process_events(
    event_loop: &Bound<'_, PyAny>,
    event_list: &Bound<'_, PyAny>,
) -> PyResult<()> {
    let py = event_loop.py();
    BASE_SELECTOR_LOOP
        .import(py, "asyncio.selector_events", "BaseSelectorEventLoop")?
        .getattr(intern!(py, "_process_events"))?
        .call1((event_loop, event_list))
        .map(drop)
}

#[pymethods]
impl ProcessEvents {
    fn __call__(&self, py: Python<'_>, event_list: &Bound<'_, PyAny>) -> PyResult<()> {
        let event_loop = alive(self.event_loop.bind(py))?;
        let Ok(list) = event_list.cast_exact::<PyList>() else {
            return python_process_events(&event_loop, event_list);
        };
        let key_class = SELECTOR_KEY.import(py, "selectors", "SelectorKey")?;
        let mut append = None;
        let mut i = 0;
        while i < list.len() {
            // SAFETY: `i` is below the length just read; the item is made owned (by
            // `plain_pair`) before any Python code can run.
            let pair = unsafe { borrowed_list_item(list, i) }.to_owned();
            let Some(Pair {
                fileobj,
                reader,
                writer,
                mask,
            }) = plain_pair(&pair, key_class)
            else {
                let rest = list.get_slice(i, list.len());
                return python_process_events(&event_loop, rest.as_any());
            };
            i += 1;
            for (bit, handle, remove) in [
                (EVENT_READ, reader, intern!(py, "_remove_reader")),
                (EVENT_WRITE, writer, intern!(py, "_remove_writer")),
            ] {
                if mask & bit == 0 || handle.is_none() {
                    continue;
                }
                if handle.getattr(intern!(py, "_cancelled"))?.is_truthy()? {
                    call_one(&event_loop, Some(remove), &fileobj)?;
                } else {
                    add_callback(&event_loop, &mut append, &handle)?;
                }
            }
        }
        Ok(())
    }
}
