//! The log subscriber: logs go to standard error; on a terminal only warnings by default
//! (progress bars show the rest), elsewhere one line per step.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// Installs the subscriber. `RUST_LOG` wins over `verbose` (the count of `-v`).
pub(crate) fn init(verbose: u8) {
    let terminal = std::io::stderr().is_terminal();
    let level = match (verbose, terminal) {
        (0, true) => "warn",
        (0, false) | (1, _) => "info",
        _ => "debug",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(level));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(terminal)
        .with_target(false)
        .init();
}
