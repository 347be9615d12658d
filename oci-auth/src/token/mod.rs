//! Bearer tokens: how to ask for them, what the answer means, and keeping them.

mod cache;
mod flow;
mod response;
mod timestamp;

pub use cache::TokenCache;
pub(crate) use cache::{CacheKey, cache_key};
pub use flow::{TokenOptions, TokenRequest, fetch_token};
pub use response::Token;
