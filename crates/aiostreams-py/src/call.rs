//! A method call with one argument as CPython's own C code makes it.
//!
//! pyo3's `call_method1` on an abi3-py39 build looks the method up as a bound method
//! object and calls it with a one-element tuple: two allocations per call.
//! `PyObject_CallMethodObjArgs` (limited API) finds a method descriptor without binding it
//! and calls it with the arguments on the stack (vectorcall): a Future's `set_result`,
//! once per waiting read, costs 500-630 instructions less (callgrind, DESIGN.md).
#![allow(unsafe_code, reason = "a variadic call of CPython's C API")]

use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::PyString;

/// `obj.name(arg)`.
pub(crate) fn call_method1<'py>(
    obj: &Bound<'py, PyAny>,
    name: &Bound<'py, PyString>,
    arg: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let py = obj.py();
    // SAFETY: three live objects and the NULL that ends the variadic arguments.
    let ret = unsafe {
        ffi::PyObject_CallMethodObjArgs(
            obj.as_ptr(),
            name.as_ptr(),
            arg.as_ptr(),
            std::ptr::null_mut::<ffi::PyObject>(),
        )
    };
    // SAFETY: a new reference, or NULL with an exception set.
    unsafe { Bound::from_owned_ptr_or_err(py, ret) }
}
