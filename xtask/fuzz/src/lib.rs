//! Helpers shared by the fuzz targets in `fuzz_targets/`.
//!
//! - [`split_header_line`]: inputs that carry a header value on their first line and a body
//!   after it (manifests with their `Content-Type`, ranges with the blob size), so the seed
//!   corpus stays readable.
//! - [`router`]: the request model, the replay and the invariants of the `server_router` and
//!   `route_parse` targets.
//!
//! The targets run under `cargo fuzz` (see `cargo xtask fuzz` and this folder's README).
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod router;

/// Splits `data` at its first `\n` into a header value (without the newline) and the rest.
/// Without a newline there is no header and the whole input is the rest.
///
/// ```
/// use oci_fuzz::split_header_line;
///
/// assert_eq!(split_header_line(b"text/plain\n{}"), (Some("text/plain".into()), &b"{}"[..]));
/// assert_eq!(split_header_line(b"{}"), (None, &b"{}"[..]));
/// ```
pub fn split_header_line(data: &[u8]) -> (Option<std::borrow::Cow<'_, str>>, &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(newline) => (
            Some(String::from_utf8_lossy(&data[..newline])),
            &data[newline + 1..],
        ),
        None => (None, data),
    }
}
