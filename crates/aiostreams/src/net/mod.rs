//! Plumbing shared by the connect and server sides, one copy each: name resolution with
//! asyncio's `family=` rule, asyncio's bind-error text, the abstract Unix name check, the
//! TLS timeout keywords, and which I/O errors mean "try again".

mod bind_error;
mod resolve;
#[cfg(feature = "tls")]
mod retry;
#[cfg(feature = "tls")]
mod tls_keywords;
mod tuning;
#[cfg(unix)]
mod unix;

pub(crate) use bind_error::bind_error;
pub use resolve::Family;
pub(crate) use resolve::{of_family, resolve, resolve_each};
#[cfg(feature = "tls")]
pub(crate) use retry::retry;
#[cfg(feature = "tls")]
pub(crate) use tls_keywords::{Checked as TlsChecked, TlsTimeouts};
pub(crate) use tuning::{SocketHook, Tuning};
#[cfg(unix)]
pub(crate) use unix::is_abstract;
