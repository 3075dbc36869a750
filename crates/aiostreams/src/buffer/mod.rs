//! The write queue with asyncio's high/low water marks, without I/O.
//!
//! The read side's rules live in [`crate::sansio`].

mod write_queue;

pub use write_queue::DEFAULT_HIGH_WATER;
pub(crate) use write_queue::{WriteQueue, resolve_limits};
