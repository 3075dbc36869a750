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

static BASE_CREATE_FUTURE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The Future class to instantiate directly for `event_loop`, if its `create_future` is
/// asyncio's `BaseEventLoop.create_future` (looked up once per reader).
pub(crate) fn plain_future_class(event_loop: &Bound<'_, PyAny>) -> Option<Py<PyAny>> {
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
    py.import(intern!(py, "asyncio.futures"))
        .and_then(|m| m.getattr(intern!(py, "Future")))
        .ok()
        .map(Bound::unbind)
}

/// `event_loop.create_future()`, or `class(loop=event_loop)` for a plain class.
pub(crate) fn create_future<'py>(
    event_loop: &Bound<'py, PyAny>,
    class: Option<&Py<PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = event_loop.py();
    match class {
        Some(class) => {
            let kwargs = PyDict::new(py);
            kwargs.set_item(intern!(py, "loop"), event_loop)?;
            class.bind(py).call((), Some(&kwargs))
        }
        None => event_loop.call_method0(intern!(py, "create_future")),
    }
}
