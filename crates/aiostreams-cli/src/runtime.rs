//! `--runtime current|multi`: which tokio runtime a server runs on.

use clap::ValueEnum;

/// The tokio runtime flavour.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum Runtime {
    /// One thread (`new_current_thread`): fits one core; what the bench uses.
    #[default]
    Current,
    /// A worker per core (`new_multi_thread`).
    Multi,
}

impl Runtime {
    /// Builds the runtime with I/O, timers and signals enabled.
    pub(crate) fn build(self) -> std::io::Result<tokio::runtime::Runtime> {
        let mut builder = match self {
            Runtime::Current => tokio::runtime::Builder::new_current_thread(),
            Runtime::Multi => tokio::runtime::Builder::new_multi_thread(),
        };
        builder.enable_all().build()
    }
}
