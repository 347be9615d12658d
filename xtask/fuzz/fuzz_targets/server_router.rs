//! The whole registry: a fresh `Registry` over `MemoryStorage` answers a short session of
//! arbitrary requests (method, path, query, headers, small body) built with `arbitrary`.
//! Every answer is checked (see `oci_fuzz::router`): a panic, a 5xx, or an answer that
//! breaks the protocol is a finding.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oci_fuzz::router::{model::Session, run_session};

fuzz_target!(|session: Session| {
    run_session(&session);
});
