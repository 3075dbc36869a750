//! Awaitables without a Future: what a read or `drain()` returns.
//!
//! asyncio's `async def` methods create a coroutine per call and, when they must wait,
//! a Future. Ours return one small object that is its own iterator (`__await__` returns
//! `self`) and also has `send`/`throw`/`close`, so `collections.abc.Coroutine` (and so
//! `asyncio.create_task`, `ensure_future`, `wait_for`) accepts it. An operation the
//! buffer can answer finishes in its first step: no Future, no loop iteration (how a
//! step hands its result back without a `StopIteration` is `step_slots.rs`). Only an
//! operation that must wait creates `loop.create_future()` and yields it, exactly as
//! `await future` would.

use pyo3::exceptions::PyStopIteration;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::{PyTraverseError, PyVisit};

/// What one step of an awaitable did (the generator protocol's two outcomes besides an
/// error).
#[derive(Debug)]
pub(crate) enum Stepped {
    /// Suspended: this goes to the task (the Future waited on, marked as blocking).
    Yield(Py<PyAny>),
    /// Finished with this result (bytes: never a tuple or an exception).
    Return(Py<PyAny>),
}

impl Stepped {
    /// The step as the generator protocol's `send()` returns it: a yielded value, or
    /// `StopIteration(result)` raised. The `await` path does not come here
    /// (`step_slots.rs`).
    ///
    /// The instance is made here and raised as it is: pyo3 (for Python < 3.12, which the
    /// abi3-py39 build always assumes) restores a lazy error by raising it, fetching it
    /// and normalising it into an instance, which costs more than making the instance once.
    pub(crate) fn into_next(self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        match self {
            Stepped::Yield(v) => Ok(v),
            Stepped::Return(v) => Err(match py.get_type::<PyStopIteration>().call1((v,)) {
                Ok(exc) => PyErr::from_value(exc),
                Err(e) => e,
            }),
        }
    }
}

/// `throw(typ, val=None, tb=None)` of the generator protocol as an error to raise.
pub(crate) fn thrown(typ: &Bound<'_, PyAny>, val: Option<&Bound<'_, PyAny>>) -> PyErr {
    match val {
        Some(v) if !v.is_none() => PyErr::from_value(v.clone()),
        _ => match typ.call0() {
            Ok(exc) if typ.is_instance_of::<pyo3::types::PyType>() => PyErr::from_value(exc),
            _ => PyErr::from_value(typ.clone()),
        },
    }
}

/// An awaitable that is already complete: awaiting it returns `None` at once.
///
/// asyncio: the result of an `async def` that returns without suspending, such as
/// `drain()` below the write buffer's high-water mark.
#[pyclass(module = "aiostreams._native", name = "Ready", frozen)]
#[derive(Debug)]
pub struct Ready;

#[pymethods]
impl Ready {
    fn __await__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    /// Finished: returns `None` (NULL without an exception: no StopIteration built).
    fn __next__(&self) -> Option<Py<PyAny>> {
        None
    }

    #[pyo3(signature = (_value))]
    fn send(&self, _value: &Bound<'_, PyAny>) -> PyResult<()> {
        Err(PyStopIteration::new_err(()))
    }

    #[pyo3(signature = (typ, val = None, _tb = None))]
    fn throw(
        &self,
        typ: &Bound<'_, PyAny>,
        val: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<()> {
        Err(thrown(typ, val))
    }

    fn close(&self) {}
}

/// The one `Ready` instance (it has no state).
pub(crate) fn ready(py: Python<'_>) -> PyResult<Py<Ready>> {
    static READY: pyo3::sync::PyOnceLock<Py<Ready>> = pyo3::sync::PyOnceLock::new();
    READY
        .get_or_try_init(py, || Py::new(py, Ready))
        .map(|r| r.clone_ref(py))
}

/// Waiting on a Future inside an awaitable: what `await future` does, without the
/// Future's own iterator (yield the future marked as blocking; when the task resumes us,
/// the future is done and `result()` gives its outcome).
#[derive(Debug, Default)]
pub(crate) struct FutureWait {
    fut: Option<Py<PyAny>>,
}

/// What a step of a [`FutureWait`] found.
pub(crate) enum Resumed {
    /// Not waiting, or the future completed: the operation runs its next step.
    Ready,
    /// Still waiting (a spurious resume): yield this to the task again.
    Yield(Py<PyAny>),
}

impl FutureWait {
    /// Starts waiting on `fut`: the value to yield to the task.
    pub(crate) fn start(&mut self, fut: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let py = fut.py();
        fut.setattr(intern!(py, "_asyncio_future_blocking"), true)?;
        self.fut = Some(fut.clone().unbind());
        Ok(fut.clone().unbind())
    }

    /// Shows the Future waited on to the garbage collector (from the owner's `__traverse__`).
    pub(crate) fn traverse(&self, visit: &PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.fut)
    }

    /// Whether a Future is being waited on.
    pub(crate) fn is_waiting(&self) -> bool {
        self.fut.is_some()
    }

    /// Resumes the wait (the task sent `None`): done, still waiting, or the Future's error
    /// (`CancelledError` when the task was cancelled).
    pub(crate) fn resume(&mut self, py: Python<'_>) -> PyResult<Resumed> {
        let Some(fut) = self.fut.take() else {
            return Ok(Resumed::Ready);
        };
        let bound = fut.bind(py);
        // The task resumes us when the future is done: one call gives its outcome.
        match bound.call_method0(intern!(py, "result")) {
            Ok(_) => Ok(Resumed::Ready),
            Err(e) if !bound.call_method0(intern!(py, "done"))?.is_truthy()? => {
                // Resumed before the future completed (only by hand): wait again.
                drop(e);
                bound.setattr(intern!(py, "_asyncio_future_blocking"), true)?;
                self.fut = Some(fut.clone_ref(py));
                Ok(Resumed::Yield(fut))
            }
            Err(e) => Err(e),
        }
    }

    /// Throws into the wait (the task or a wrapper called `throw`): the error to raise.
    /// asyncio's `await future` passes the exception on to the awaiting code unchanged.
    pub(crate) fn throw(&mut self, _py: Python<'_>, exc: PyErr) -> PyErr {
        self.fut = None;
        exc
    }
}
