//! Waking a reader's task in place when bytes arrive from the transport.
//!
//! asyncio's `_wakeup_waiter` is `waiter.set_result(None)`: the Future schedules its
//! task's wake-up with `loop.call_soon`, and the task runs in the next loop iteration
//! through a `Handle`. On the stock loop that scheduling (a Python `call_soon`, a Python
//! `Handle`, its `_run`) costs more than the whole read. When the bytes come from the
//! transport (`buffer_updated`, a loop callback outside any task) and the waiter is a
//! plain asyncio Future whose only callback is its task's wake-up, the reader instead
//! takes the callback off the Future, completes it, and runs the callback at once in its
//! context, as the `Handle` would have: the same task step, one scheduling step earlier.
//!
//! Only on loops whose `call_soon` is asyncio's own Python one ([`worth_it`]): uvloop's is
//! compiled, and there the three calls this takes under the limited API (take the
//! callback off, set the result, run it) cost more than the scheduling they save.

use pyo3::exceptions::{PyKeyboardInterrupt, PySystemExit};
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyTuple, PyType};

/// How a waiter's completion reaches its task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wake {
    /// `waiter.set_result(None)`: the Future schedules the wake-up (asyncio's way).
    Scheduled,
    /// Bytes from the transport: the wake-up runs now when [`wake_in_place`] allows.
    InPlace,
}

static FUTURE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static BASE_CALL_SOON: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static RUNNING: PyOnceLock<Running> = PyOnceLock::new();

/// How to ask whether a task of a loop is running on this interpreter.
enum Running {
    /// `_asyncio.current_task(loop)` (C, 3.12+).
    Function(Py<PyAny>),
    /// The `{loop: task}` dict the C tasks keep (`_asyncio._current_tasks`, up to 3.11).
    Dict(Py<PyDict>),
}

/// Whether waking in place pays on `event_loop`: its `call_soon` is asyncio's
/// `BaseEventLoop.call_soon` (the stock loops, not uvloop nor a loop that overrides it).
pub(crate) fn worth_it(event_loop: &Bound<'_, PyAny>) -> PyResult<bool> {
    let py = event_loop.py();
    let base = BASE_CALL_SOON.get_or_try_init(py, || {
        py.import("asyncio.base_events")?
            .getattr("BaseEventLoop")?
            .getattr("call_soon")
            .map(Bound::unbind)
    })?;
    let theirs = event_loop.get_type().getattr(intern!(py, "call_soon"));
    Ok(theirs.is_ok_and(|f| f.is(base)))
}

fn task_running(py: Python<'_>, event_loop: &Bound<'_, PyAny>) -> PyResult<bool> {
    let running = RUNNING.get_or_try_init(py, || -> PyResult<Running> {
        let module = py
            .import("_asyncio")
            .or_else(|_| py.import("asyncio.tasks"))?;
        if let Ok(f) = module.getattr("current_task") {
            return Ok(Running::Function(f.unbind()));
        }
        let tasks = module.getattr("_current_tasks")?;
        Ok(Running::Dict(tasks.cast_into::<PyDict>()?.unbind()))
    })?;
    match running {
        Running::Function(f) => Ok(!f.bind(py).call1((event_loop,))?.is_none()),
        Running::Dict(d) => Ok(d.bind(py).get_item(event_loop)?.is_some()),
    }
}

/// Completes `waiter` (of `event_loop`) and runs its task's wake-up now, if that can be done
/// as the loop would do it: `waiter` is an `asyncio.Future` (not a subclass) with exactly
/// one callback, and no task of the loop is running (so no task step nests in another).
/// Returns whether it did; if not, nothing was changed.
pub(crate) fn wake_in_place(
    waiter: &Bound<'_, PyAny>,
    event_loop: &Bound<'_, PyAny>,
) -> PyResult<bool> {
    let py = waiter.py();
    let future = FUTURE.import(py, "asyncio", "Future")?;
    if !waiter.get_type().is(future) {
        return Ok(false);
    }
    // `_callbacks` is None or a list of (callback, context); a done Future has none left.
    let callbacks = waiter.getattr(intern!(py, "_callbacks"))?;
    let Ok(callbacks) = callbacks.cast::<PyList>() else {
        return Ok(false);
    };
    if callbacks.len() != 1 || task_running(py, event_loop)? {
        return Ok(false);
    }
    let entry = callbacks.get_item(0)?;
    let entry = entry.cast::<PyTuple>()?;
    let (callback, context) = (entry.get_item(0)?, entry.get_item(1)?);
    waiter.call_method1(intern!(py, "remove_done_callback"), (&callback,))?;
    waiter.call_method1(intern!(py, "set_result"), (py.None(),))?;
    let ran = context.call_method1(intern!(py, "run"), (&callback, waiter));
    let Err(err) = ran else { return Ok(true) };
    // As `Handle._run`: SystemExit and KeyboardInterrupt propagate, the rest is reported.
    if err.is_instance_of::<PySystemExit>(py) || err.is_instance_of::<PyKeyboardInterrupt>(py) {
        return Err(err);
    }
    let info = PyDict::new(py);
    info.set_item(
        intern!(py, "message"),
        format!("Exception in callback {}", callback.repr()?),
    )?;
    info.set_item(intern!(py, "exception"), err.value(py))?;
    event_loop.call_method1(intern!(py, "call_exception_handler"), (info,))?;
    Ok(true)
}
