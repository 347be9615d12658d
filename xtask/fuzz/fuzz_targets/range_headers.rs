//! The `range` module of oci-server-core: `Range` of blob GETs and `Content-Range` of upload
//! chunks.
//!
//! Input: the blob size in decimal on the first line (any other first line counts its own
//! length as the size), the header value after it. Resolved ranges must stay inside the blob,
//! every accepted range must report its length, and the values the server writes must parse
//! back to the range they describe.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oci_fuzz::split_header_line;
use oci_server_core::range::{
    RangeRequest, content_range, parse_chunk_range, unsatisfied_content_range, upload_progress,
};

fuzz_target!(|data: &[u8]| {
    let (size_line, value) = split_header_line(data);
    let size = size_line.map_or(0, |line| line.trim().parse().unwrap_or(line.len() as u64));
    let value = String::from_utf8_lossy(value);

    if let Some(request) = RangeRequest::parse(&value) {
        let printed = match request {
            RangeRequest::Bounded { start, end } => format!("bytes={start}-{end}"),
            RangeRequest::From { start } => format!("bytes={start}-"),
            RangeRequest::Suffix { len } => format!("bytes=-{len}"),
        };
        assert_eq!(RangeRequest::parse(&printed), Some(request), "{printed:?}");
        match request.resolve(size) {
            Ok(range) => {
                assert!(range.start <= range.end, "{range:?}");
                assert!(range.end < size, "{range:?} past a blob of {size}");
                assert!(range.len() <= size);
                let answer = content_range(range, size);
                assert_eq!(parse_chunk_range(&answer), Some(range), "{answer:?}");
            }
            Err(_) => assert!(unsatisfied_content_range(size).ends_with(&size.to_string())),
        }
    }

    if let Some(range) = parse_chunk_range(&value) {
        assert!(range.start <= range.end, "{range:?}");
        let len = range.len();
        assert!(len >= 1 && !range.is_empty());
        let printed = format!("{}-{}", range.start, range.end);
        assert_eq!(parse_chunk_range(&printed), Some(range));
        if let Some(offset) = range.end.checked_add(1) {
            assert_eq!(upload_progress(offset), format!("0-{}", range.end));
        }
    }
});
