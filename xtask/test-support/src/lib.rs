//! The one home of the workspace's test support, so every crate's tests start the same real
//! servers the same way:
//!
//! - [`registry`]: the workspace's registry served in-process on a free port of 127.0.0.1,
//!   with the request helpers the server's own tests use;
//! - [`proxy`]: a byte-level HTTP/1.1 proxy in front of a registry that records every request
//!   and injects the faults a real registry does not produce on demand;
//! - [`peers`]: other registries and servers as child processes on free ports (Debian's
//!   `docker-registry`, olareg, `moto_server`, `s3s-fs`, our `oci-registry` binary), each
//!   killed and reaped when dropped.
//!
//! Not published: the crates use it as a path-only dev-dependency, which `cargo package`
//! strips. The `registry` feature (on by default) depends on `oci-server-core`, so the
//! server's unit tests (inside `src/`) cannot use it, its integration tests can, and crates
//! that need only the proxy and the peers turn it off to build less.

#![warn(missing_docs)]

pub mod peers;
pub mod proxy;
#[cfg(feature = "registry")]
pub mod registry;

pub use peers::free_port;
pub use proxy::{Action, Fault, Proxy, Seen};
#[cfg(feature = "registry")]
pub use registry::TestRegistry;
