//! The awaitable a read returns: it runs the read's steps against the reader's buffer,
//! finishing in its first step when the buffer can answer, and otherwise waiting on a
//! Future from `loop.create_future()` (asyncio's `_wait_for_data`).

use pyo3::exceptions::{PyStopAsyncIteration, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};
use pyo3::{PyTraverseError, PyVisit};

use aiostreams::sansio::{ReadOp as Op, Step};

use crate::awaitable::{FutureWait, Resumed, Stepped, thrown};
use crate::errors::{Flavor, to_pyerr};
use crate::future::create_future;
use crate::outbox::Outbox;
use crate::reader::{StreamReader, already_waiting, apply_flow, with_bytes};

/// A read's arguments, given to the core's constructor (which checks them) when the read
/// starts, as asyncio's coroutine checks them when it first runs.
#[derive(Debug)]
pub(crate) enum Args {
    /// `read(n)`.
    Read(isize),
    /// `readexactly(n)`.
    Exactly(isize),
    /// `readuntil(separator)`.
    Until(Py<PyAny>),
    /// `readline()`.
    Line,
}

impl Args {
    /// The name asyncio's "already waiting" error gives (its internal caller's:
    /// `readline` waits inside `readuntil`).
    fn waiting_name(&self) -> &'static str {
        match self {
            Args::Read(_) => "read",
            Args::Exactly(_) => "readexactly",
            Args::Until(_) | Args::Line => "readuntil",
        }
    }

    fn flavor(&self) -> Flavor {
        match self {
            Args::Line => Flavor::Readline,
            _ => Flavor::Plain,
        }
    }
}

#[derive(Debug)]
enum State {
    Start(Args),
    Running(Op<'static>),
    Finished,
}

/// The awaitable returned by `StreamReader.read()`, `readline()`, `readexactly()`,
/// `readuntil()` and `__anext__()` (asyncio: the coroutine those methods return).
/// On this class the generator protocol's methods are pyo3's; what `await` calls is on its
/// subtype (`step_slots`), which the reads make where it exists.
#[pyclass(subclass, module = "aiostreams._native", name = "ReadOp")]
#[derive(Debug)]
pub struct ReadOp {
    reader: Py<StreamReader>,
    state: State,
    wait: FutureWait,
    anext: bool,
    name: &'static str,
    flavor: Flavor,
}

impl ReadOp {
    pub(crate) fn new(
        py: Python<'_>,
        reader: Py<StreamReader>,
        args: Args,
        anext: bool,
    ) -> PyResult<Py<ReadOp>> {
        crate::step_slots::new_read_op(
            py,
            ReadOp {
                reader,
                name: args.waiting_name(),
                flavor: args.flavor(),
                state: State::Start(args),
                wait: FutureWait::default(),
                anext,
            },
        )
    }

    /// Runs steps until the read completes (its result or its error) or must wait (the
    /// future to yield).
    fn run(&mut self, py: Python<'_>) -> PyResult<Stepped> {
        if let State::Start(_) = self.state {
            let State::Start(args) = std::mem::replace(&mut self.state, State::Finished) else {
                unreachable!("checked just above")
            };
            self.state = State::Running(start(py, args)?);
        }
        let reader = self.reader.bind(py);
        let State::Running(op) = &mut self.state else {
            return Err(PyTypeError::new_err("cannot reuse already awaited read"));
        };
        let (step, flow) = {
            let mut r = reader.borrow_mut();
            let has_exc = r.exception.is_some();
            let mut step = op.step(&mut r.buf, has_exc);
            if let Step::NeedMoreIfReady = step {
                // Everything received is already in the buffer (the transport pushes).
                step = op.finish_without_more(&mut r.buf);
            }
            let flow = match step {
                Step::Done(_) if op.resumes_transport() => Some(r.after_read(py)),
                _ => None,
            };
            (step, flow)
        };
        match step {
            Step::Done(result) => {
                self.state = State::Finished;
                if let Some(flow) = flow {
                    apply_flow(reader, flow)?;
                }
                match result {
                    Ok(bytes) if self.anext && bytes.is_empty() => {
                        Err(PyStopAsyncIteration::new_err(()))
                    }
                    Ok(bytes) => Ok(Stepped::Return(
                        PyBytes::new(py, &bytes).into_any().unbind(),
                    )),
                    Err(e) => Err(to_pyerr(py, e, self.flavor)),
                }
            }
            Step::RaiseStored => {
                self.state = State::Finished;
                let exc = reader.borrow().exception.as_ref().map(|e| e.clone_ref(py));
                Err(exc.map_or_else(
                    || PyTypeError::new_err("no stored exception"),
                    |e| PyErr::from_value(e.into_bound(py)),
                ))
            }
            Step::NeedMore | Step::NeedMoreIfReady => self.wait_for_data(py).map(Stepped::Yield),
        }
    }

    /// asyncio `_wait_for_data(name)`.
    fn wait_for_data(&mut self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let reader = self.reader.bind(py);
        let (event_loop, class, flow, outbox) = {
            let mut r = reader.borrow_mut();
            if r.waiter.is_some() {
                self.state = State::Finished;
                return Err(already_waiting(self.name));
            }
            let flow = r.before_wait(py);
            let class = r.future_class.as_ref().map(|c| c.clone_ref(py));
            let outbox = r.outbox.as_ref().map(|o| o.clone_ref(py));
            (
                r.event_loop.as_ref().map(|l| l.clone_ref(py)),
                class,
                flow,
                outbox,
            )
        };
        // The task is about to wait: what it wrote leaves now, in one send.
        if let Some(outbox) = outbox {
            Outbox::flush(outbox.bind(py))?;
        }
        apply_flow(reader, flow)?;
        let event_loop = event_loop.ok_or_else(|| PyTypeError::new_err("reader has no loop"))?;
        let fut = create_future(event_loop.bind(py), class.as_ref())?;
        reader.borrow_mut().waiter = Some(fut.clone().unbind());
        self.wait.start(&fut)
    }

    fn clear_waiter(&self, py: Python<'_>) {
        self.reader.bind(py).borrow_mut().waiter = None;
    }

    /// One step of the generator protocol (the task sent `None`).
    pub(crate) fn step(&mut self, py: Python<'_>) -> PyResult<Stepped> {
        if self.wait.is_waiting() {
            match self.wait.resume(py) {
                Ok(Resumed::Yield(v)) => return Ok(Stepped::Yield(v)),
                Ok(Resumed::Ready) => self.clear_waiter(py),
                Err(e) => {
                    self.clear_waiter(py);
                    self.state = State::Finished;
                    return Err(e);
                }
            }
        }
        self.run(py)
    }
}

/// The core's op for a read's arguments, or the error the read raises.
fn start(py: Python<'_>, args: Args) -> PyResult<Op<'static>> {
    let flavor = args.flavor();
    let op = match args {
        Args::Read(n) => Ok(Op::read_signed(n as i64)),
        Args::Exactly(n) => Op::readexactly_signed(n as i64),
        Args::Line => Ok(Op::readline()),
        Args::Until(sep) => {
            let sep = sep.bind(py);
            match sep.cast::<PyTuple>() {
                Ok(t) => Op::readuntil_any_owned(
                    t.iter()
                        .map(|s| with_bytes(&s, <[u8]>::to_vec))
                        .collect::<PyResult<Vec<_>>>()?,
                ),
                Err(_) => Op::readuntil_owned(with_bytes(sep, <[u8]>::to_vec)?),
            }
        }
    };
    op.map_err(|e| to_pyerr(py, e, flavor))
}

#[pymethods]
impl ReadOp {
    /// The garbage collector sees the reader, a `readuntil()` separator and the Future
    /// waited on, so a cycle through an abandoned read is collected.
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.reader)?;
        if let State::Start(Args::Until(separator)) = &self.state {
            visit.call(separator)?;
        }
        self.wait.traverse(&visit)
    }

    /// Drops what can be dropped (the reader is not optional: clearing the rest breaks
    /// any cycle through it).
    fn __clear__(&mut self) {
        self.state = State::Finished;
        self.wait = FutureWait::default();
    }

    fn __await__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __iter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __next__(&mut self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        self.step(py)?.into_next(py)
    }

    fn send(&mut self, py: Python<'_>, _value: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        self.step(py)?.into_next(py)
    }

    #[pyo3(signature = (typ, val = None, _tb = None))]
    fn throw(
        &mut self,
        py: Python<'_>,
        typ: &Bound<'_, PyAny>,
        val: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let exc = thrown(typ, val);
        self.state = State::Finished;
        if self.wait.is_waiting() {
            self.clear_waiter(py);
            return Err(self.wait.throw(py, exc));
        }
        Err(exc)
    }

    fn close(&mut self, py: Python<'_>) {
        if self.wait.is_waiting() {
            self.clear_waiter(py);
            self.wait = FutureWait::default();
        }
        self.state = State::Finished;
    }
}
