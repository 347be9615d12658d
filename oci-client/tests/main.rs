//! Integration tests of the client against real servers on 127.0.0.1: the workspace's
//! registry (in-process), Debian's `docker-registry`, a token server with a bearer-checking
//! proxy, and a fault-injecting proxy.

mod support;

mod blobs;
mod containers;
mod distribution;
mod faults;
mod images;
mod listing;
mod manifests;
mod mount;
mod referrers;
mod referrers_fallback;
mod relay;
mod tls;
mod token_flow;
mod uploads;
