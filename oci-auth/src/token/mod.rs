//! Bearer tokens: how to ask for them, what the answer means, and keeping them.

mod cache;
#[cfg(feature = "client")]
mod flow;
mod response;
mod timestamp;

pub use cache::TokenCache;
#[cfg(feature = "client")]
pub(crate) use cache::{CacheKey, cache_key};
#[cfg(feature = "client")]
pub use flow::{TokenOptions, TokenRequest, fetch_token};
pub use response::{Token, parse_token_response};
