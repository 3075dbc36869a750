//! `BaseEventLoop._run_once()` in native code, for the stock loop whose `select()` and
//! `_process_events()` `loop_events` already made native: one iteration of the loop
//! (the timeout, the selector's `select`, `_process_events`, the timers that are due,
//! then each callback ready at the start of the run, in order, with the slow-callback
//! report of debug mode) cost ~11,000 instructions of Python per iteration with one
//! callback (callgrind, CPython 3.11), whoever owns the transports.
//!
//! Set as the loop instance's `_run_once`, which `run_forever` looks up at every turn;
//! the loop and its class stay asyncio's. It does what the Python method does, in its
//! order, reading the same attributes and calling the same methods (`select`,
//! `_process_events`, `time`, `heapq.heappop`, each handle's `_run`, the logger), with
//! one difference that nothing can observe: after `_process_events`, with no timer
//! scheduled, it does not call `time()` (`BaseEventLoop.time`, `time.monotonic()`,
//! whose value the Python method only compares with timers it does not have). An
//! iteration that starts with timers scheduled (their clean-up and the timeout computed
//! from the first differ between CPython versions) runs the class's own `_run_once`.
//!
//! Only on CPython 3.9 to 3.13, for a loop class whose `_run_once` and `time` are
//! `BaseEventLoop`'s, neither overridden on the instance.

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyString, PyType, PyWeakrefMethods, PyWeakrefReference};

use crate::wakeup::call_one;

static BASE_LOOP: PyOnceLock<Py<PyType>> = PyOnceLock::new();
static HEAPPOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static LOGGER: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static FORMAT_HANDLE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The attribute set on the loop.
pub(crate) const RUN_ONCE: &str = "_run_once";

/// Whether `event_loop`'s class runs `BaseEventLoop`'s `_run_once` and `time`, and its
/// instance dictionary `dict` overrides neither.
pub(crate) fn plain(event_loop: &Bound<'_, PyAny>, dict: &Bound<'_, PyDict>) -> PyResult<bool> {
    let py = event_loop.py();
    let base = BASE_LOOP.import(py, "asyncio.base_events", "BaseEventLoop")?;
    let class = event_loop.get_type();
    for name in [intern!(py, "_run_once"), intern!(py, "time")] {
        if !class.getattr(name)?.is(base.getattr(name)?) || dict.contains(name)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `BaseEventLoop._run_once()`, set as the loop instance's.
#[pyclass(frozen, module = "aiostreams._native", name = "RunOnce")]
#[derive(Debug)]
pub struct RunOnce {
    event_loop: Py<PyWeakrefReference>,
}

impl RunOnce {
    /// One for `event_loop`, held weakly.
    pub(crate) fn new(event_loop: &Bound<'_, PyAny>) -> PyResult<RunOnce> {
        Ok(RunOnce {
            event_loop: PyWeakrefReference::new(event_loop)?.unbind(),
        })
    }
}

/// `target.name()` through `PyObject_CallMethodObjArgs` (no bound method, no tuple).
fn call0<'py>(
    target: &Bound<'py, PyAny>,
    name: &Bound<'py, PyString>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = target.py();
    let end = std::ptr::null_mut::<pyo3::ffi::PyObject>();
    // SAFETY: live objects borrowed for the call (the GIL is held: `py`), the variadic
    // list ends with NULL, and a new reference or NULL with an exception set comes back.
    #[allow(unsafe_code, reason = "PyObject_CallMethodObjArgs")]
    unsafe {
        let result = pyo3::ffi::PyObject_CallMethodObjArgs(target.as_ptr(), name.as_ptr(), end);
        Bound::from_owned_ptr_or_err(py, result)
    }
}

/// Whether `loop._scheduled` is an empty list (anything else counts as timers).
fn no_timers(event_loop: &Bound<'_, PyAny>) -> PyResult<bool> {
    let scheduled = event_loop.getattr(intern!(event_loop.py(), "_scheduled"))?;
    Ok(scheduled
        .cast_exact::<PyList>()
        .is_ok_and(|list| list.len() == 0))
}

/// The Python method's "Handle 'later' callbacks that are ready" part, for a loop that
/// has timers after `_process_events`.
fn due_timers(event_loop: &Bound<'_, PyAny>, ready: &Bound<'_, PyAny>) -> PyResult<()> {
    let py = event_loop.py();
    let end_time = call0(event_loop, intern!(py, "time"))?
        .add(event_loop.getattr(intern!(py, "_clock_resolution"))?)?;
    let heappop = HEAPPOP.import(py, "heapq", "heappop")?;
    loop {
        let scheduled = event_loop.getattr(intern!(py, "_scheduled"))?;
        if !scheduled.is_truthy()? {
            return Ok(());
        }
        let first = scheduled.get_item(0)?;
        if first.getattr(intern!(py, "_when"))?.ge(&end_time)? {
            return Ok(());
        }
        let handle = heappop.call1((scheduled,))?;
        handle.setattr(intern!(py, "_scheduled"), false)?;
        call_one(ready, Some(intern!(py, "append")), &handle)?;
    }
}

/// A callback run in debug mode: `_current_handle` set around it and a warning when it
/// took `slow_callback_duration` or more.
fn run_debug(event_loop: &Bound<'_, PyAny>, handle: &Bound<'_, PyAny>) -> PyResult<()> {
    let py = event_loop.py();
    event_loop.setattr(intern!(py, "_current_handle"), handle)?;
    let ran = (|| {
        let t0 = call0(event_loop, intern!(py, "time"))?;
        call0(handle, intern!(py, "_run"))?;
        let dt = call0(event_loop, intern!(py, "time"))?.sub(&t0)?;
        if dt.ge(event_loop.getattr(intern!(py, "slow_callback_duration"))?)? {
            let format = FORMAT_HANDLE.import(py, "asyncio.base_events", "_format_handle")?;
            LOGGER
                .import(py, "asyncio.base_events", "logger")?
                .call_method1(
                    intern!(py, "warning"),
                    (
                        "Executing %s took %.3f seconds",
                        format.call1((handle,))?,
                        dt,
                    ),
                )?;
        }
        Ok(())
    })();
    // The `finally`: its own error replaces the callback's, as in Python.
    event_loop.setattr(intern!(py, "_current_handle"), py.None())?;
    ran
}

#[pymethods]
impl RunOnce {
    fn __call__(&self, py: Python<'_>) -> PyResult<()> {
        let Some(event_loop) = self.event_loop.bind(py).upgrade() else {
            return Err(pyo3::exceptions::PyReferenceError::new_err(
                "the loop is gone",
            ));
        };
        if !no_timers(&event_loop)? {
            return BASE_LOOP
                .import(py, "asyncio.base_events", "BaseEventLoop")?
                .getattr(intern!(py, "_run_once"))?
                .call1((&event_loop,))
                .map(drop);
        }
        let ready = event_loop.getattr(intern!(py, "_ready"))?;
        let timeout =
            if ready.is_truthy()? || event_loop.getattr(intern!(py, "_stopping"))?.is_truthy()? {
                0_i64.into_pyobject(py)?.into_any()
            } else {
                py.None().into_bound(py)
            };
        let selector = event_loop.getattr(intern!(py, "_selector"))?;
        let event_list = call_one(&selector, Some(intern!(py, "select")), &timeout)?;
        call_one(
            &event_loop,
            Some(intern!(py, "_process_events")),
            &event_list,
        )?;
        drop(event_list);
        if !no_timers(&event_loop)? {
            due_timers(&event_loop, &ready)?;
        }
        let ntodo = ready.len()?;
        for _ in 0..ntodo {
            let handle = call0(&ready, intern!(py, "popleft"))?;
            if handle.getattr(intern!(py, "_cancelled"))?.is_truthy()? {
                continue;
            }
            if event_loop.getattr(intern!(py, "_debug"))?.is_truthy()? {
                run_debug(&event_loop, &handle)?;
            } else {
                call0(&handle, intern!(py, "_run"))?;
            }
        }
        Ok(())
    }
}
