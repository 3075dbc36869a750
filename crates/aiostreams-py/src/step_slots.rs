//! What `await` calls on a read: the type the reads return is a subtype of the pyo3
//! class `ReadOp` with three of CPython's slots written here, so that a completed read hands
//! its bytes back without a `StopIteration` (3.10, 3.11) or with the cheapest one
//! CPython makes (3.9, 3.12+).
//!
//! - `am_send` (in the limited API from 3.10; added only when the running interpreter has
//!   it, so one abi3 wheel serves 3.9): `PyIter_Send`, which `await` uses on 3.10 and 3.11
//!   and a Task's step on every 3.10+, calls it and gets `PYGEN_RETURN` with the value: no
//!   exception at all.
//! - `tp_iternext`: what `await` calls on 3.9 and 3.12+ (their `SEND` calls `tp_iternext`
//!   for every non-generator), and `next()`. It finishes with
//!   `PyErr_SetObject(StopIteration, value)`: on 3.9-3.11 CPython keeps the value
//!   unnormalised and `await` takes it back without ever making the instance; on 3.12+
//!   the instance is made by one vectorcall. pyo3's own `__next__` would build the
//!   instance, then restore, fetch and normalise it.
//! - `am_await` (what `await` calls first): the object itself, without pyo3's method
//!   trampoline.
//!
//! Everything else (`send`, `throw`, `close`, `__iter__`, the garbage collector's slots,
//! deallocation) is inherited from the pyo3 class unchanged, and the two step slots run the
//! same step as `send()`.
#![allow(
    unsafe_code,
    reason = "a type made with PyType_FromSpecWithBases and its slots, through pyo3-ffi"
)]

use std::ffi::{c_int, c_void};
use std::panic::{AssertUnwindSafe, catch_unwind};

use pyo3::ffi;
use pyo3::impl_::pyclass_init::PyObjectInit;
use pyo3::panic::PanicException;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyTuple, PyType};

use crate::awaitable::Stepped;
use crate::read_op::ReadOp;

/// `Py_am_send`'s slot id (CPython's `typeslots.h`; pyo3-ffi gives it only to abi3-py310
/// builds).
const PY_AM_SEND: c_int = 81;
/// `PySendResult`'s values.
const PYGEN_RETURN: c_int = 0;
const PYGEN_ERROR: c_int = -1;
const PYGEN_NEXT: c_int = 1;

/// The subtype, made by [`init`] when the module is imported (which fails without it).
static AWAITED: PyOnceLock<Py<PyType>> = PyOnceLock::new();

/// Makes the subtype of `ReadOp` with the slots (`am_send` only on 3.10+).
pub(crate) fn init(py: Python<'_>) -> PyResult<()> {
    let base = py.get_type::<ReadOp>();
    let base_ptr = base.as_type_ptr();
    // SAFETY: `base` is a heap type (pyo3 makes its classes with PyType_FromSpec), on which
    // PyType_GetSlot may be called on every version; both ids are valid slots.
    let (traverse, clear) = unsafe {
        (
            ffi::PyType_GetSlot(base_ptr, ffi::Py_tp_traverse),
            ffi::PyType_GetSlot(base_ptr, ffi::Py_tp_clear),
        )
    };
    let mut slots = vec![
        slot(ffi::Py_am_await, await_slot as *mut c_void),
        slot(ffi::Py_tp_iternext, next_slot as *mut c_void),
        // The same garbage-collector functions as the base (pyo3's, which handle subtypes).
        slot(ffi::Py_tp_traverse, traverse),
        slot(ffi::Py_tp_clear, clear),
    ];
    if py.version_info() >= (3, 10) {
        slots.push(slot(PY_AM_SEND, send_slot as *mut c_void));
    }
    slots.push(slot(0, std::ptr::null_mut()));
    let mut spec = ffi::PyType_Spec {
        // Static: the type's tp_name keeps pointing at it.
        name: c"aiostreams._native.ReadOp".as_ptr(),
        // Zero: the base's size and layout (the pyo3 object) are inherited.
        basicsize: 0,
        itemsize: 0,
        flags: (ffi::Py_TPFLAGS_DEFAULT | ffi::Py_TPFLAGS_HAVE_GC) as _,
        slots: slots.as_mut_ptr(),
    };
    let bases = PyTuple::new(py, [base])?;
    // SAFETY: `spec` and the slots it points to are valid for the call (CPython copies the
    // slots and keeps only the static name); `bases` is a tuple of one type.
    let made = unsafe { ffi::PyType_FromSpecWithBases(&mut spec, bases.as_ptr()) };
    // SAFETY: a new reference or NULL with an exception set.
    let made = unsafe { Bound::from_owned_ptr_or_err(py, made)? };
    let _ = AWAITED.set(py, made.cast_into::<PyType>()?.unbind());
    Ok(())
}

fn slot(slot: c_int, pfunc: *mut c_void) -> ffi::PyType_Slot {
    ffi::PyType_Slot { slot, pfunc }
}

/// A new read awaitable: an instance of the subtype (of `ReadOp` itself only before
/// [`init`], which no read can come before).
pub(crate) fn new_read_op(py: Python<'_>, op: ReadOp) -> PyResult<Py<ReadOp>> {
    let Some(awaited) = AWAITED.get(py) else {
        return Py::new(py, op);
    };
    let init = PyClassInitializer::from(op);
    // SAFETY: `awaited` is a subtype of `ReadOp` with its layout (basicsize inherited): what
    // pyo3's own constructor (`tp_new`) of a subclass is given.
    let ptr = unsafe { init.into_new_object(py, awaited.bind(py).as_type_ptr())? };
    // SAFETY: a new reference to an initialised `ReadOp` (of a subtype).
    Ok(unsafe { Bound::from_owned_ptr(py, ptr).cast_into_unchecked::<ReadOp>() }.unbind())
}

/// One step of the read `slf`, attached to the interpreter, with a panic turned into
/// pyo3's `PanicException` as pyo3's own slots do.
///
/// # Safety
/// `slf` is a live instance of the subtype (CPython calls its slots so, on a thread that
/// holds the GIL).
unsafe fn step<R>(
    slf: *mut ffi::PyObject,
    out: impl FnOnce(Python<'_>, PyResult<Stepped>) -> R,
) -> R {
    let body = |py: Python<'_>| {
        let stepped = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: `slf` is a live object of the subtype, so a `ReadOp`.
            let op = unsafe { Bound::from_borrowed_ptr(py, slf).cast_into_unchecked::<ReadOp>() };
            let mut op = op.try_borrow_mut()?;
            op.step(py)
        }))
        .unwrap_or_else(|_| Err(PanicException::new_err("a read's step panicked")));
        out(py, stepped)
    };
    // SAFETY: CPython calls a type's slots on a thread that holds the GIL.
    unsafe { Python::attach_unchecked(body) }
}

/// `am_await` (`__await__`, which `await` calls first): the object itself. pyo3's
/// `__await__` does the same through its method trampoline.
unsafe extern "C" fn await_slot(slf: *mut ffi::PyObject) -> *mut ffi::PyObject {
    // SAFETY: CPython passes a live object (the GIL held); the new reference is returned.
    unsafe { ffi::Py_IncRef(slf) };
    slf
}

/// `am_send`: the value sent is `None` from `await` and a task (a read takes no value).
unsafe extern "C" fn send_slot(
    slf: *mut ffi::PyObject,
    _value: *mut ffi::PyObject,
    result: *mut *mut ffi::PyObject,
) -> c_int {
    // SAFETY: CPython passes a live instance of the type and a place for the result.
    unsafe {
        step(slf, |py, stepped| {
            let (code, value) = match stepped {
                Ok(Stepped::Yield(v)) => (PYGEN_NEXT, v.into_ptr()),
                Ok(Stepped::Return(v)) => (PYGEN_RETURN, v.into_ptr()),
                Err(e) => {
                    e.restore(py);
                    (PYGEN_ERROR, std::ptr::null_mut())
                }
            };
            *result = value;
            code
        })
    }
}

/// `tp_iternext`: the value yielded, or NULL with `StopIteration` (the result as its
/// value, left unnormalised) or the read's error set.
unsafe extern "C" fn next_slot(slf: *mut ffi::PyObject) -> *mut ffi::PyObject {
    // SAFETY: CPython passes a live instance of the type.
    unsafe {
        step(slf, |py, stepped| match stepped {
            Ok(Stepped::Yield(v)) => v.into_ptr(),
            Ok(Stepped::Return(v)) => {
                // The value is bytes (never a tuple or an exception, which CPython would
                // take as the arguments or the exception itself); SetObject takes its own
                // reference.
                ffi::PyErr_SetObject(ffi::PyExc_StopIteration, v.as_ptr());
                std::ptr::null_mut()
            }
            Err(e) => {
                e.restore(py);
                std::ptr::null_mut()
            }
        })
    }
}
