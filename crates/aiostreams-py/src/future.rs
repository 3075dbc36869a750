//! `loop.create_future()` for a read that waits, made without the stock loop's Python
//! method when that method is asyncio's own: `BaseEventLoop.create_future` is
//! `futures.Future(loop=self)`, so the reader calls `futures.Future(loop=loop)` itself
//! (about 2,700 instructions per waiting read less on the stock loop). Any other loop, or
//! a loop whose `create_future` is overridden (in its class or on the instance), is
//! asked as before.

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;
use pyo3::{PyTraverseError, PyVisit};

static BASE_CREATE_FUTURE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// asyncio's Future class and the `loop=` keyword argument for one loop, made once per
/// reader: a waiting read calls `class(**kwargs)` (the dict is only read by the call, so
/// one serves every Future; a dict per call cost ~400 instructions).
#[derive(Debug)]
pub(crate) struct PlainFuture {
    class: Py<PyAny>,
    kwargs: Py<PyDict>,
}

impl PlainFuture {
    /// Another reference to the same class and arguments.
    pub(crate) fn clone_ref(&self, py: Python<'_>) -> PlainFuture {
        PlainFuture {
            class: self.class.clone_ref(py),
            kwargs: self.kwargs.clone_ref(py),
        }
    }

    /// The Future class.
    pub(crate) fn class(&self) -> &Py<PyAny> {
        &self.class
    }

    /// The garbage collector's view of the references held.
    pub(crate) fn traverse(&self, visit: &PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.class)?;
        visit.call(&self.kwargs)
    }
}

/// How to make `event_loop`'s Futures directly, if its `create_future` is asyncio's
/// `BaseEventLoop.create_future` (looked up once per reader).
pub(crate) fn plain_future(event_loop: &Bound<'_, PyAny>) -> Option<PlainFuture> {
    let py = event_loop.py();
    let base = BASE_CREATE_FUTURE
        .get_or_try_init(py, || {
            py.import(intern!(py, "asyncio.base_events"))?
                .getattr(intern!(py, "BaseEventLoop"))?
                .getattr(intern!(py, "create_future"))
                .map(Bound::unbind)
        })
        .ok()?;
    let own = event_loop
        .getattr(intern!(py, "create_future"))
        .and_then(|m| m.getattr(intern!(py, "__func__")))
        .ok()?;
    if !own.is(base) {
        return None;
    }
    let class = py
        .import(intern!(py, "asyncio.futures"))
        .and_then(|m| m.getattr(intern!(py, "Future")))
        .ok()?;
    let kwargs = PyDict::new(py);
    kwargs.set_item(intern!(py, "loop"), event_loop).ok()?;
    Some(PlainFuture {
        class: class.unbind(),
        kwargs: kwargs.unbind(),
    })
}

/// `event_loop.create_future()`, or `Future(loop=event_loop)` made directly.
pub(crate) fn create_future<'py>(
    event_loop: &Bound<'py, PyAny>,
    plain: Option<&PlainFuture>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = event_loop.py();
    match plain {
        Some(plain) => plain.class.bind(py).call((), Some(plain.kwargs.bind(py))),
        None => event_loop.call_method0(intern!(py, "create_future")),
    }
}
