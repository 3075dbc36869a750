//! Waking a waiting read's task on asyncio's own loop without the loop's Python
//! `call_soon`. A waiting read's Future has one done-callback (its task's wake-up, with
//! the task's context); its `set_result` hands that callback to `loop.call_soon`, which
//! is three Python frames on the stock loop (`call_soon`, `_call_soon`,
//! `events.Handle.__init__` with its `get_debug()` call) around one append of an
//! `events.Handle` to `loop._ready`. Here the callback is taken off the Future first, the
//! result set, and a `Handle` with the same seven fields appended to the same `_ready` at
//! the same moment: the callback order asyncio programs observe is unchanged. Its class is
//! `fast_handle`'s subclass of `events.Handle` (the same fields and methods, `_run`
//! native) where there is one.
//!
//! Only where that is exactly what `call_soon` would do: the loop's class uses
//! `BaseEventLoop`'s `call_soon`, `_call_soon` and `get_debug` (checked once per reader),
//! its instance overrides none of them, it is neither closed nor in debug mode (checked
//! per wake-up: `call_soon` raises on a closed loop, and checks the thread and records a
//! traceback in debug mode), `events.Handle` has the slots this module sets, and the
//! Future is the reader's own plain class with exactly one callback. Anything else goes
//! through `set_result` as before.

use std::sync::{Arc, OnceLock};

use pyo3::exceptions::PyRuntimeError;
use pyo3::ffi;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyString, PyTuple, PyType};
use pyo3::{PyTraverseError, PyVisit};

use crate::fast_handle;

/// The `BaseEventLoop` methods `call_soon` runs; a loop class or instance overriding one
/// keeps `call_soon`.
const LOOP_METHODS: [&str; 3] = ["call_soon", "_call_soon", "get_debug"];

static BASE_LOOP: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// What a reader on asyncio's own loop needs to wake its task itself (cheap to clone).
#[derive(Debug, Clone)]
pub(crate) struct Waker(Arc<Parts>);

#[derive(Debug)]
struct Parts {
    event_loop: Py<PyAny>,
    /// The loop's instance `__dict__`: `_ready`, `_debug`, `_closed`, and overrides.
    loop_dict: Py<PyDict>,
    /// `loop._ready.append` (the deque is made in `BaseEventLoop.__init__` and never
    /// replaced).
    append: Py<PyAny>,
    /// The reader's plain Future class (`future::plain_future_class`).
    future_class: Py<PyAny>,
    /// The `events.Handle` the reader's wake-ups reuse (see [`Waker::handle`]).
    handle: OnceLock<Py<PyAny>>,
}

impl Waker {
    /// A waker for `event_loop` if `call_soon` there is `BaseEventLoop`'s (see the module
    /// docs) and the reader makes its Futures of `future_class` itself.
    pub(crate) fn for_loop(
        event_loop: &Bound<'_, PyAny>,
        future_class: &Py<PyAny>,
    ) -> Option<Waker> {
        let loop_dict = plain_loop_class(event_loop)?;
        let py = event_loop.py();
        let append = loop_dict
            .get_item(intern!(py, "_ready"))
            .ok()??
            .getattr(intern!(py, "append"))
            .ok()?;
        Some(Waker(Arc::new(Parts {
            event_loop: event_loop.clone().unbind(),
            loop_dict: loop_dict.unbind(),
            append: append.unbind(),
            future_class: future_class.clone_ref(py),
            handle: OnceLock::new(),
        })))
    }

    /// The garbage collector's view of the references held.
    pub(crate) fn traverse(&self, visit: &PyVisit<'_>) -> Result<(), PyTraverseError> {
        let parts = &*self.0;
        visit.call(&parts.event_loop)?;
        visit.call(&parts.loop_dict)?;
        visit.call(&parts.append)?;
        visit.call(&parts.future_class)?;
        visit.call(parts.handle.get())
    }

    /// `fut.set_result(None)` with its one callback's `Handle` appended to `loop._ready`
    /// here. `Ok(false)`, with nothing changed, where that would not be what `set_result`
    /// does (the caller then calls `set_result`).
    ///
    /// # Errors
    ///
    /// What the calls on the Future or the deque raise (memory errors).
    pub(crate) fn wake(&self, fut: &Bound<'_, PyAny>) -> PyResult<bool> {
        let py = fut.py();
        let parts = &*self.0;
        if !fut.get_type().is(parts.future_class.bind(py)) || !plain_loop(parts.loop_dict.bind(py))?
        {
            return Ok(false);
        }
        let callbacks = fut.getattr(intern!(py, "_callbacks"))?;
        let Some((callback, context)) = only_callback(&callbacks)? else {
            return Ok(false);
        };
        let Some(handle) = self.handle(&callback, fut, &context)? else {
            return Ok(false);
        };
        let removed = call_one(fut, Some(intern!(py, "remove_done_callback")), &callback)?;
        if removed.extract::<isize>()? != 1 {
            return Ok(false);
        }
        call_one(
            fut,
            Some(intern!(py, "set_result")),
            &py.None().into_bound(py),
        )?;
        call_one(parts.append.bind(py), None, &handle)?;
        Ok(true)
    }

    /// The reader's one `Handle`, set to what `events.Handle(callback, (fut,), loop,
    /// context)` would hold, if nothing else holds it (so it is neither queued in
    /// `_ready` nor running: its reference count is this waker's alone); made on first
    /// use.
    fn handle<'py>(
        &self,
        callback: &Bound<'py, PyAny>,
        fut: &Bound<'py, PyAny>,
        context: &Bound<'py, PyAny>,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let py = fut.py();
        let parts = &*self.0;
        let Some(handle) = parts.handle.get() else {
            let handle = new_handle(parts.event_loop.bind(py), callback, fut, context)?;
            let _ = parts.handle.set(handle.clone().unbind());
            return Ok(Some(handle));
        };
        if handle.get_refcnt(py) != 1 {
            return Ok(None);
        }
        let handle = handle.bind(py);
        revive(handle)?;
        handle.setattr(intern!(py, "_callback"), callback)?;
        handle.setattr(intern!(py, "_args"), PyTuple::new(py, [fut])?)?;
        handle.setattr(intern!(py, "_context"), context)?;
        Ok(Some(handle.clone()))
    }
}

/// `event_loop.__dict__` if the loop's class runs `BaseEventLoop`'s `call_soon` (see the
/// module docs) and `events.Handle` has the slots set here: then appending an
/// `events.Handle` to its `_ready` is what `call_soon` does, on a loop that
/// [`plain_loop`] finds plain at that moment (also used by `outbox::Flusher`).
/// Makes a reused `events.Handle` that nobody else holds runnable again: only a holder
/// could have cancelled it (from `loop._ready`), so its cancel is undone.
pub(crate) fn revive(handle: &Bound<'_, PyAny>) -> PyResult<()> {
    let py = handle.py();
    if handle.getattr(intern!(py, "_cancelled"))?.is_truthy()? {
        handle.setattr(intern!(py, "_cancelled"), false)?;
        handle.setattr(intern!(py, "_repr"), py.None())?;
    }
    Ok(())
}

pub(crate) fn plain_loop_class<'py>(event_loop: &Bound<'py, PyAny>) -> Option<Bound<'py, PyDict>> {
    let py = event_loop.py();
    let base = BASE_LOOP
        .import(py, "asyncio.base_events", "BaseEventLoop")
        .ok()?;
    let class = event_loop.get_type();
    for name in LOOP_METHODS {
        let own = class.getattr(name).ok()?;
        if !own.is(base.getattr(name).ok()?) {
            return None;
        }
    }
    fast_handle::asyncio_handle(py)?;
    event_loop
        .getattr(intern!(py, "__dict__"))
        .ok()?
        .cast_into::<PyDict>()
        .ok()
}

/// Whether `call_soon` would only append to `_ready`: the loop is not closed, not in
/// debug mode, and its instance overrides none of the methods `call_soon` runs.
pub(crate) fn plain_loop(dict: &Bound<'_, PyDict>) -> PyResult<bool> {
    let py = dict.py();
    for flag in [intern!(py, "_debug"), intern!(py, "_closed")] {
        match dict.get_item(flag)? {
            Some(value) if !value.is_truthy()? => {}
            _ => return Ok(false),
        }
    }
    let overrides = [
        intern!(py, "call_soon"),
        intern!(py, "_call_soon"),
        intern!(py, "get_debug"),
    ];
    for name in overrides {
        if dict.contains(name)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `(callback, context)` when the Future's `_callbacks` is exactly one such pair.
fn only_callback<'py>(
    callbacks: &Bound<'py, PyAny>,
) -> PyResult<Option<(Bound<'py, PyAny>, Bound<'py, PyAny>)>> {
    let Ok(list) = callbacks.cast::<PyList>() else {
        return Ok(None);
    };
    if list.len() != 1 {
        return Ok(None);
    }
    let entry = list.get_item(0)?;
    let Ok(pair) = entry.cast::<PyTuple>() else {
        return Ok(None);
    };
    if pair.len() != 2 {
        return Ok(None);
    }
    let context = pair.get_item(1)?;
    if context.is_none() {
        return Ok(None);
    }
    Ok(Some((pair.get_item(0)?, context)))
}

/// `events.Handle(callback, (fut,), event_loop, context)`, as `_call_soon` makes it
/// (once per reader: later wake-ups reuse it).
fn new_handle<'py>(
    event_loop: &Bound<'py, PyAny>,
    callback: &Bound<'py, PyAny>,
    fut: &Bound<'py, PyAny>,
    context: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = event_loop.py();
    let class = match fast_handle::class(py) {
        Some(fast) => fast,
        None => fast_handle::asyncio_handle(py).ok_or_else(|| {
            PyRuntimeError::new_err("asyncio.events.Handle changed since the waker was made")
        })?,
    };
    class.call1((callback, PyTuple::new(py, [fut])?, event_loop, context))
}

/// `target.method(arg)` through `PyObject_CallMethodObjArgs`, or `target(arg)` through
/// `PyObject_CallFunctionObjArgs`: no bound method and no argument tuple (pyo3's
/// `call_method1` and `call1` make them under the abi3-py39 limited API).
pub(crate) fn call_one<'py>(
    target: &Bound<'py, PyAny>,
    method: Option<&Bound<'py, PyString>>,
    arg: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = target.py();
    let end = std::ptr::null_mut::<ffi::PyObject>();
    // SAFETY: the pointers are live objects borrowed for the call (the GIL is held: `py`),
    // each variadic list ends with NULL as the functions require, and the result is a new
    // reference or NULL with an exception set, as `from_owned_ptr_or_err` takes.
    #[allow(
        unsafe_code,
        reason = "PyObject_CallMethodObjArgs, PyObject_CallFunctionObjArgs"
    )]
    unsafe {
        let result = match method {
            Some(name) => {
                ffi::PyObject_CallMethodObjArgs(target.as_ptr(), name.as_ptr(), arg.as_ptr(), end)
            }
            None => ffi::PyObject_CallFunctionObjArgs(target.as_ptr(), arg.as_ptr(), end),
        };
        Bound::from_owned_ptr_or_err(py, result)
    }
}
