//! Distribution-spec bodies: error responses, tag lists, the catalog and the referrers
//! index.

pub mod error_code;
pub mod error_response;
pub mod referrers;
pub mod tags;
