//! The `oci-copy` command line: arguments, commands, progress display, logging.

pub(crate) mod args;
pub(crate) mod artifact;
pub(crate) mod blob_verbs;
pub(crate) mod commands;
pub(crate) mod connect;
pub(crate) mod logging;
pub(crate) mod login;
pub(crate) mod manifest_verbs;
pub(crate) mod progress;
pub(crate) mod registry_verbs;
pub(crate) mod search;
pub(crate) mod verb_args;
pub(crate) mod verb_commands;
pub(crate) mod verbs;
