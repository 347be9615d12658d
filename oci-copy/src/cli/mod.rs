//! The `oci-copy` command line: arguments, commands, progress display, logging.

pub(crate) mod args;
pub(crate) mod commands;
pub(crate) mod logging;
pub(crate) mod progress;
pub(crate) mod registry_verbs;
pub(crate) mod verbs;
