//! `events.Handle._run` without its Python frame, for the two callbacks the stock loop
//! runs per request for our streams: the socket's read callback and a waiting read's
//! task wake-up.
//!
//! `Handle._run` is `self._context.run(self._callback, *self._args)` inside a `try` that
//! re-raises `SystemExit`/`KeyboardInterrupt` and hands any other exception to
//! `loop.call_exception_handler`. In Python that costs a frame, a bound `Context.run`, a
//! star-call that builds a list and a tuple: ~1,600 instructions per callback more than
//! the `Context.run` call itself (callgrind, CPython 3.11). The class here is a subclass
//! of `events.Handle` named `Handle`, with no slot of its own (`__slots__ = ()`, so an
//! `events.Handle` can take it as its `__class__`) and a native `_run`: a method
//! descriptor (`PyDescr_NewMethod`, `METH_NOARGS`), which `_run_once`'s
//! `handle._run()` calls directly. Its `_run` does what `Handle._run` does, in the same
//! order: `Context.run` with the callback and the arguments, the same two exceptions
//! propagated, any other reported with the same context dictionary (`message` from
//! `format_helpers._format_callback_source`, `exception`, `handle`, `source_traceback`
//! when there is one) while that exception is the one being handled, as inside Python's
//! `except` block. Everything else (`__init__`, `cancel`, `__repr__`, the slots) is
//! `events.Handle`'s own.
//!
//! Only on the CPythons whose `Handle` this matches (3.9 to 3.13: the same `_run`, the
//! same slots); elsewhere [`class`] is `None` and the loop's own `Handle` is used.
#![allow(
    unsafe_code,
    reason = "a method descriptor made with PyDescr_NewMethod and the handled-exception state, through pyo3-ffi"
)]

use std::panic::{AssertUnwindSafe, catch_unwind};

use pyo3::exceptions::{PyKeyboardInterrupt, PySystemExit};
use pyo3::ffi;
use pyo3::intern;
use pyo3::panic::PanicException;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};

/// `events.Handle.__slots__` as CPython 3.9 to 3.13 define it; another set (a Python that
/// adds a field) keeps asyncio's own `Handle` and `call_soon`.
const HANDLE_SLOTS: [&str; 8] = [
    "_callback",
    "_args",
    "_cancelled",
    "_loop",
    "_source_traceback",
    "_repr",
    "__weakref__",
    "_context",
];

static HANDLE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static FAST_HANDLE: PyOnceLock<Option<Py<PyType>>> = PyOnceLock::new();
static FORMAT_SOURCE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// `asyncio.events.Handle`, when its slots are the ones [`HANDLE_SLOTS`] names.
pub(crate) fn asyncio_handle(py: Python<'_>) -> Option<&Bound<'_, PyType>> {
    let handle = HANDLE.import(py, "asyncio.events", "Handle").ok()?;
    let slots: Vec<String> = handle
        .getattr(intern!(py, "__slots__"))
        .ok()?
        .extract()
        .ok()?;
    (slots == HANDLE_SLOTS).then_some(handle)
}

/// The `Handle` subclass with the native `_run` (made on first use), or `None` on a
/// Python it is not written for.
pub(crate) fn class(py: Python<'_>) -> Option<&Bound<'_, PyType>> {
    FAST_HANDLE
        .get_or_init(py, || make(py).ok().flatten())
        .as_ref()
        .map(|class| class.bind(py))
}

/// `handle` (an `events.Handle` of exactly that class) made an instance of [`class`]:
/// the same object, the same fields, `_run` native. Does nothing where there is no such
/// class or `handle` is of another class.
pub(crate) fn adopt(handle: &Bound<'_, PyAny>) -> PyResult<()> {
    let py = handle.py();
    let (Some(plain), Some(fast)) = (asyncio_handle(py), class(py)) else {
        return Ok(());
    };
    if handle.get_type().is(plain) {
        handle.setattr(intern!(py, "__class__"), fast)?;
    }
    Ok(())
}

fn make(py: Python<'_>) -> PyResult<Option<Py<PyType>>> {
    if py.version_info() >= (3, 14) {
        return Ok(None);
    }
    let Some(base) = asyncio_handle(py) else {
        return Ok(None);
    };
    let namespace = PyDict::new(py);
    namespace.set_item("__slots__", PyTuple::empty(py))?;
    namespace.set_item("__module__", "aiostreams._native")?;
    namespace.set_item("__qualname__", "Handle")?;
    let class = py
        .get_type::<PyType>()
        .call1(("Handle", (base,), namespace))?
        .cast_into::<PyType>()?;
    // Made once per process (under FAST_HANDLE's lock) and kept for ever, as CPython keeps
    // the method definitions of every extension module.
    let def = Box::leak(Box::new(ffi::PyMethodDef {
        ml_name: c"_run".as_ptr(),
        ml_meth: ffi::PyMethodDefPointer {
            PyCFunction: run_slot,
        },
        ml_flags: ffi::METH_NOARGS,
        ml_doc: c"events.Handle._run, natively: the callback in its context.".as_ptr(),
    }));
    // SAFETY: `class` is a live type object and `def` lives for ever; the result is a new
    // reference or NULL with an exception set.
    let descriptor = unsafe {
        Bound::from_owned_ptr_or_err(py, ffi::PyDescr_NewMethod(class.as_type_ptr(), def))?
    };
    class.setattr(intern!(py, "_run"), descriptor)?;
    Ok(Some(class.unbind()))
}

/// Whether `err` must propagate, as asyncio re-raises `SystemExit`/`KeyboardInterrupt`.
pub(crate) fn must_propagate(py: Python<'_>, err: &PyErr) -> bool {
    err.is_instance_of::<PySystemExit>(py) || err.is_instance_of::<PyKeyboardInterrupt>(py)
}

/// The `METH_NOARGS` function behind `_run`.
unsafe extern "C" fn run_slot(
    slf: *mut ffi::PyObject,
    _unused: *mut ffi::PyObject,
) -> *mut ffi::PyObject {
    let body = |py: Python<'_>| {
        // SAFETY: the method descriptor checked that `slf` is a live instance of the class.
        let handle = unsafe { Bound::from_borrowed_ptr(py, slf) };
        let ran = catch_unwind(AssertUnwindSafe(|| run(&handle)))
            .unwrap_or_else(|_| Err(PanicException::new_err("Handle._run panicked")));
        match ran {
            Ok(()) => py.None().into_ptr(),
            Err(e) => {
                e.restore(py);
                std::ptr::null_mut()
            }
        }
    };
    // SAFETY: CPython calls a method on a thread that holds the GIL.
    unsafe { Python::attach_unchecked(body) }
}

/// `Handle._run`: the callback in the handle's context; an exception other than
/// `SystemExit`/`KeyboardInterrupt` goes to the loop's exception handler.
fn run(handle: &Bound<'_, PyAny>) -> PyResult<()> {
    let py = handle.py();
    match call_in_context(handle) {
        Ok(()) => Ok(()),
        Err(e) if must_propagate(py, &e) => Err(e),
        Err(e) => report(handle, &e),
    }
}

/// `self._context.run(self._callback, *self._args)`.
fn call_in_context(handle: &Bound<'_, PyAny>) -> PyResult<()> {
    let py = handle.py();
    let context = handle.getattr(intern!(py, "_context"))?;
    let callback = handle.getattr(intern!(py, "_callback"))?;
    let args = handle.getattr(intern!(py, "_args"))?;
    let run = intern!(py, "run");
    let end = std::ptr::null_mut::<ffi::PyObject>();
    let args = match args.cast::<PyTuple>() {
        Ok(tuple) if tuple.len() <= 1 => {
            let first = match tuple.len() {
                0 => None,
                _ => Some(tuple.get_item(0)?),
            };
            let first = first.as_ref().map_or(end, |a| a.as_ptr());
            // SAFETY: live objects borrowed for the call (GIL held); the list ends with
            // NULL (`first` is NULL for no argument); a new reference or NULL with an
            // exception set comes back.
            let result = unsafe {
                ffi::PyObject_CallMethodObjArgs(
                    context.as_ptr(),
                    run.as_ptr(),
                    callback.as_ptr(),
                    first,
                    end,
                )
            };
            // SAFETY: as above.
            return unsafe { Bound::from_owned_ptr_or_err(py, result) }.map(drop);
        }
        _ => args.try_iter()?.collect::<PyResult<Vec<_>>>()?,
    };
    let mut all = vec![callback];
    all.extend(args);
    context.call_method1(run, PyTuple::new(py, all)?).map(drop)
}

/// What `Handle._run`'s `except BaseException` does with `err`, with `err` the exception
/// being handled meanwhile (as inside that block: `sys.exc_info()`, and the context of an
/// exception the handler raises).
fn report(handle: &Bound<'_, PyAny>, err: &PyErr) -> PyResult<()> {
    let py = handle.py();
    let exc = err.value(py);
    let _handling = Handling::start(exc.as_any());
    let format = FORMAT_SOURCE.import(py, "asyncio.format_helpers", "_format_callback_source")?;
    let source = format.call1((
        handle.getattr(intern!(py, "_callback"))?,
        handle.getattr(intern!(py, "_args"))?,
    ))?;
    let context = PyDict::new(py);
    context.set_item(
        "message",
        format!("Exception in callback {}", source.str()?),
    )?;
    context.set_item("exception", exc)?;
    context.set_item("handle", handle)?;
    let traceback = handle.getattr(intern!(py, "_source_traceback"))?;
    if traceback.is_truthy()? {
        context.set_item("source_traceback", traceback)?;
    }
    handle
        .getattr(intern!(py, "_loop"))?
        .call_method1(intern!(py, "call_exception_handler"), (context,))
        .map(drop)
}

/// The exception being handled set to one, and put back as it was when dropped.
struct Handling {
    saved: [*mut ffi::PyObject; 3],
}

impl Handling {
    fn start(exc: &Bound<'_, PyAny>) -> Handling {
        let mut saved = [std::ptr::null_mut(); 3];
        let traceback = exc
            .getattr(intern!(exc.py(), "__traceback__"))
            .map_or(std::ptr::null_mut(), Bound::into_ptr);
        // SAFETY: the GIL is held (`exc` is bound). GetExcInfo hands out new references
        // (or NULL), which `drop` gives back to SetExcInfo; SetExcInfo steals the three
        // new references given here (type, value, traceback; NULL allowed).
        unsafe {
            ffi::PyErr_GetExcInfo(&mut saved[0], &mut saved[1], &mut saved[2]);
            ffi::PyErr_SetExcInfo(exc.get_type().into_ptr(), exc.clone().into_ptr(), traceback);
        }
        Handling { saved }
    }
}

impl Drop for Handling {
    fn drop(&mut self) {
        let [kind, value, traceback] = self.saved;
        // SAFETY: dropped where it was made, with the GIL held (it lives in `report`);
        // the three references from GetExcInfo are stolen back.
        unsafe { ffi::PyErr_SetExcInfo(kind, value, traceback) };
    }
}
