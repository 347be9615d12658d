//! The process's open-file limit and the connection cap that has to fit under it.
//!
//! Every connection holds a socket, and a request in flight usually one store file more; when
//! the process runs out of descriptors, `accept` fails and every new client waits. Go servers
//! raise the soft `RLIMIT_NOFILE` to the hard limit at start for that reason (the soft
//! default, 1024, is a leftover of `select`); [`raise_open_file_limit`] does the same, and
//! the server keeps its connection cap where the limit can hold it.

use std::{io, num::NonZeroUsize};

/// The highest soft limit asked for, even when the hard limit is unlimited (Linux refuses more
/// than `fs.nr_open`, one million by default).
const HIGHEST_SOFT_LIMIT: u64 = 1 << 20;

/// Descriptors kept free for everything that is not a connection (the listener, logs, store
/// folders, the runtime).
const RESERVED: u64 = 64;

/// Descriptors one connection may hold at once: its socket and a store file.
const PER_CONNECTION: u64 = 2;

/// Raises the soft open-file limit to the hard limit and returns the new soft limit.
pub fn raise_open_file_limit() -> io::Result<u64> {
    rlimit::increase_nofile_limit(HIGHEST_SOFT_LIMIT)
}

/// The connection cap to use: `requested`, lowered (with a warning) when the current soft
/// open-file limit cannot hold that many connections.
pub(super) fn fit_connection_cap(requested: NonZeroUsize) -> NonZeroUsize {
    #[cfg(unix)]
    if let Ok((soft, _hard)) = rlimit::getrlimit(rlimit::Resource::NOFILE) {
        let fits = soft.saturating_sub(RESERVED) / PER_CONNECTION;
        let fits = NonZeroUsize::new(usize::try_from(fits).unwrap_or(usize::MAX))
            .unwrap_or(NonZeroUsize::MIN);
        if fits < requested {
            tracing::warn!(
                requested = requested.get(),
                cap = fits.get(),
                open_file_limit = soft,
                "connection cap lowered to fit the open-file limit"
            );
            return fits;
        }
    }
    requested
}
