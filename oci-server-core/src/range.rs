//! Byte ranges: the `Range` header of blob GETs, the `Content-Range` of upload chunks, and the
//! `Range` / `Content-Range` values the server answers with. Pure functions, no I/O.

/// An inclusive span of bytes, `start..=end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteRange {
    /// First byte.
    pub start: u64,
    /// Last byte (inclusive).
    pub end: u64,
}

impl ByteRange {
    /// Number of bytes in the span.
    pub fn len(&self) -> u64 {
        self.end - self.start + 1
    }

    /// Never true: a `ByteRange` holds at least one byte.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// A single-range `Range: bytes=...` request, before it meets the blob's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeRequest {
    /// `bytes=a-b`.
    Bounded {
        /// First byte asked for.
        start: u64,
        /// Last byte asked for (may lie past the end: clipped).
        end: u64,
    },
    /// `bytes=a-`.
    From {
        /// First byte asked for.
        start: u64,
    },
    /// `bytes=-n`: the last `n` bytes.
    Suffix {
        /// How many trailing bytes.
        len: u64,
    },
}

/// The range selects no byte of the blob: answer 416 with `Content-Range: bytes */<size>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsatisfiable;

impl RangeRequest {
    /// Parses a `Range` header. `None` means the header is to be ignored and the whole blob
    /// served: another unit, several ranges, or text that is not a range at all.
    pub fn parse(value: &str) -> Option<Self> {
        let spec = value.trim().strip_prefix("bytes=")?.trim();
        if spec.contains(',') {
            return None;
        }
        let (first, last) = spec.split_once('-')?;
        let (first, last) = (first.trim(), last.trim());
        match (first.is_empty(), last.is_empty()) {
            (false, false) => Some(Self::Bounded {
                start: parse_u64(first)?,
                end: parse_u64(last)?,
            }),
            (false, true) => Some(Self::From {
                start: parse_u64(first)?,
            }),
            (true, false) => Some(Self::Suffix {
                len: parse_u64(last)?,
            }),
            (true, true) => None,
        }
    }

    /// Resolves against a blob of `size` bytes, clipping an end past the blob.
    pub fn resolve(self, size: u64) -> Result<ByteRange, Unsatisfiable> {
        let last = size.checked_sub(1).ok_or(Unsatisfiable)?;
        match self {
            Self::Bounded { start, end } if start <= end && start <= last => Ok(ByteRange {
                start,
                end: end.min(last),
            }),
            Self::From { start } if start <= last => Ok(ByteRange { start, end: last }),
            Self::Suffix { len } if len > 0 => Ok(ByteRange {
                start: size - len.min(size),
                end: last,
            }),
            _ => Err(Unsatisfiable),
        }
    }
}

/// Parses the `Content-Range` of an upload chunk: `<start>-<end>` (inclusive), also accepting
/// the HTTP forms `bytes <start>-<end>/<total>` and `bytes=<start>-<end>`.
pub fn parse_chunk_range(value: &str) -> Option<ByteRange> {
    let value = value.trim();
    let value = value
        .strip_prefix("bytes=")
        .or_else(|| value.strip_prefix("bytes "))
        .unwrap_or(value);
    let span = match value.split_once('/') {
        Some((span, total)) => {
            let total = total.trim();
            (total == "*" || parse_u64(total).is_some()).then_some(span)?
        }
        None => value,
    };
    let (start, end) = span.trim().split_once('-')?;
    let (start, end) = (parse_u64(start.trim())?, parse_u64(end.trim())?);
    // An inclusive end of u64::MAX names a chunk whose length does not fit in a u64.
    (start <= end && end < u64::MAX).then_some(ByteRange { start, end })
}

/// `Content-Range` of a 206 answer: `bytes <start>-<end>/<total>`.
pub fn content_range(range: ByteRange, total: u64) -> String {
    format!("bytes {}-{}/{}", range.start, range.end, total)
}

/// `Content-Range` of a 416 answer: `bytes */<total>`.
pub fn unsatisfied_content_range(total: u64) -> String {
    format!("bytes */{total}")
}

/// `Range` of an upload status: `0-<last byte received>`; an upload holding nothing answers
/// `0-0`, as the reference implementation (CNCF distribution) does.
pub fn upload_progress(offset: u64) -> String {
    format!("0-{}", offset.saturating_sub(1))
}

fn parse_u64(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn resolve(header: &str, size: u64) -> Option<Result<ByteRange, Unsatisfiable>> {
        RangeRequest::parse(header).map(|r| r.resolve(size))
    }

    #[test]
    fn spec_examples() {
        let whole = 2048;
        assert_eq!(
            resolve("bytes=500-1499", whole),
            Some(Ok(ByteRange {
                start: 500,
                end: 1499
            }))
        );
        assert_eq!(
            resolve("bytes=-100", whole),
            Some(Ok(ByteRange {
                start: 1948,
                end: 2047
            }))
        );
        assert_eq!(
            resolve("bytes=1000-99999", whole),
            Some(Ok(ByteRange {
                start: 1000,
                end: 2047
            }))
        );
        assert_eq!(resolve("bytes=500-0", whole), Some(Err(Unsatisfiable)));
        assert_eq!(resolve("bytes=2048-", whole), Some(Err(Unsatisfiable)));
        assert_eq!(resolve("bytes=-0", whole), Some(Err(Unsatisfiable)));
        assert_eq!(
            resolve("bytes=-5000", whole),
            Some(Ok(ByteRange {
                start: 0,
                end: 2047
            }))
        );
        assert_eq!(resolve("bytes=0-", 0), Some(Err(Unsatisfiable)));
        assert_eq!(resolve("items=0-1", whole), None);
        assert_eq!(resolve("bytes=0-1,5-6", whole), None);
        assert_eq!(resolve("bytes=+1-2", whole), None);
    }

    #[test]
    fn a_chunk_ending_at_u64_max_is_refused_not_overflowed() {
        // Found by the range_headers fuzz target: its length would not fit in a u64.
        assert_eq!(parse_chunk_range("0-18446744073709551615"), None);
        assert_eq!(parse_chunk_range("bytes 0-18446744073709551615/*"), None);
    }

    #[test]
    fn chunk_ranges() {
        assert_eq!(
            parse_chunk_range("0-99"),
            Some(ByteRange { start: 0, end: 99 })
        );
        assert_eq!(
            parse_chunk_range("bytes 100-199/*"),
            Some(ByteRange {
                start: 100,
                end: 199
            })
        );
        assert_eq!(parse_chunk_range("5-4"), None);
        assert_eq!(parse_chunk_range("-4"), None);
        assert_eq!(parse_chunk_range("a-b"), None);
        assert_eq!(parse_chunk_range("bytes 0-99/*x"), None);
        assert_eq!(
            parse_chunk_range("bytes 0-99/100"),
            Some(ByteRange { start: 0, end: 99 })
        );
    }

    #[test]
    fn upload_progress_is_inclusive() {
        assert_eq!(upload_progress(0), "0-0");
        assert_eq!(upload_progress(1), "0-0");
        assert_eq!(upload_progress(1024), "0-1023");
    }

    proptest! {
        #[test]
        fn resolved_ranges_stay_inside_the_blob(header in "bytes=[0-9]{0,5}-[0-9]{0,5}", size in 0u64..100_000) {
            if let Some(Ok(range)) = resolve(&header, size) {
                prop_assert!(range.start <= range.end);
                prop_assert!(range.end < size);
                prop_assert!(range.len() <= size);
            }
        }

        #[test]
        fn parse_never_panics(header in ".{0,40}", size in any::<u64>()) {
            let _ = resolve(&header, size);
            let _ = parse_chunk_range(&header);
        }

        #[test]
        fn chunk_range_round_trips(start in 0u64..u64::MAX / 2, len in 1u64..1_000_000) {
            let range = ByteRange { start, end: start + len - 1 };
            let text = format!("{}-{}", range.start, range.end);
            prop_assert_eq!(parse_chunk_range(&text), Some(range));
            let with_total = content_range(range, range.end + 1);
            prop_assert_eq!(parse_chunk_range(&with_total), Some(range));
        }

        #[test]
        fn bounded_request_round_trips(start in 0u64..1_000_000, len in 1u64..1_000_000) {
            let header = format!("bytes={}-{}", start, start + len - 1);
            prop_assert_eq!(
                RangeRequest::parse(&header),
                Some(RangeRequest::Bounded { start, end: start + len - 1 })
            );
        }
    }
}
