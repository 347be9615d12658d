//! Pure parsers for the response headers the registry protocol relies on: `Link` (pagination),
//! `Range` (upload progress) and `Content-Range` (a resumed download).

/// The registry's `Docker-Content-Digest` header.
pub(crate) const CONTENT_DIGEST: &str = "docker-content-digest";
/// `OCI-Chunk-Min-Length`, announced when an upload starts.
pub(crate) const CHUNK_MIN_LENGTH: &str = "oci-chunk-min-length";
/// `OCI-Subject`, answered to a manifest push with a `subject` the registry indexed.
pub(crate) const OCI_SUBJECT: &str = "oci-subject";
/// `OCI-Tag`, one per tag applied by a manifest push with `?tag=`.
pub(crate) const OCI_TAG: &str = "oci-tag";
/// `OCI-Filters-Applied`, naming the filters a referrers answer applied.
pub(crate) const OCI_FILTERS_APPLIED: &str = "oci-filters-applied";
/// `Docker-Distribution-API-Version`, answered by `GET /v2/`.
pub(crate) const API_VERSION: &str = "docker-distribution-api-version";

/// The target of the `rel="next"` link of a `Link` value, if any:
/// `</v2/a/tags/list?n=2&last=b>; rel="next"`. Several links may be separated by commas,
/// and `rel` may list several relation types.
pub(crate) fn next_link(value: &str) -> Option<&str> {
    let mut rest = value;
    loop {
        let start = rest.find('<')?;
        let end = start + rest[start..].find('>')?;
        let target = &rest[start + 1..end];
        let after = &rest[end + 1..];
        let params_end = after.find('<').unwrap_or(after.len());
        let params = &after[..params_end];
        if params.split(';').any(is_next_relation) {
            return Some(target.trim());
        }
        rest = &after[params_end..];
    }
}

/// True for a `rel=next` parameter (quoted or not, among other relation types).
fn is_next_relation(param: &str) -> bool {
    let Some((name, value)) = param.split_once('=') else {
        return false;
    };
    name.trim().eq_ignore_ascii_case("rel")
        && value
            .trim()
            .trim_end_matches(',')
            .trim_matches('"')
            .split_ascii_whitespace()
            .any(|relation| relation.eq_ignore_ascii_case("next"))
}

/// The byte count an upload's `Range` value (`0-<last>`, or `bytes=0-<last>`) reports.
///
/// The format cannot tell 0 bytes from 1 (both are `0-0`), so `more_than_zero` says which
/// to pick when it says `0-0`: whether the caller knows the registry holds at least a byte.
pub(crate) fn upload_offset(value: &str, more_than_zero: bool) -> Option<u64> {
    let value = value.trim();
    let value = value.strip_prefix("bytes=").unwrap_or(value);
    let (first, last) = value.split_once('-')?;
    let first = parse_number(first)?;
    let last = parse_number(last)?;
    if first != 0 {
        return None;
    }
    match last {
        0 if !more_than_zero => Some(0),
        last => last.checked_add(1),
    }
}

/// The first byte and the total of a `Content-Range: bytes <first>-<last>/<total|*>` value.
pub(crate) fn content_range_start(value: &str) -> Option<(u64, Option<u64>)> {
    let rest = value.trim().strip_prefix("bytes ")?;
    let (range, total) = rest.split_once('/')?;
    let (first, last) = range.split_once('-')?;
    let first = parse_number(first)?;
    let last = parse_number(last)?;
    if last < first {
        return None;
    }
    let total = match total.trim() {
        "*" => None,
        total => Some(parse_number(total)?),
    };
    Some((first, total))
}

/// A plain decimal number (no sign, no spaces inside).
fn parse_number(text: &str) -> Option<u64> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn finds_the_next_link() {
        assert_eq!(
            next_link(r#"</v2/a/tags/list?n=2&last=b>; rel="next""#),
            Some("/v2/a/tags/list?n=2&last=b")
        );
        assert_eq!(
            next_link(r#"<https://r/v2/_catalog?last=x>; rel=next"#),
            Some("https://r/v2/_catalog?last=x")
        );
        assert_eq!(
            next_link(r#"</first>; rel="prev", </second>; rel="next""#),
            Some("/second")
        );
        assert_eq!(next_link(r#"</x>; title="a"; rel="prev next""#), Some("/x"));
        assert_eq!(next_link(r#"</x>; rel="prev""#), None);
        assert_eq!(next_link("garbage"), None);
        assert_eq!(next_link("<unterminated; rel=next"), None);
    }

    #[test]
    fn reads_upload_progress() {
        assert_eq!(upload_offset("0-1023", false), Some(1024));
        assert_eq!(upload_offset("bytes=0-9", false), Some(10));
        assert_eq!(upload_offset("0-0", false), Some(0));
        assert_eq!(upload_offset("0-0", true), Some(1));
        assert_eq!(upload_offset("5-9", false), None);
        assert_eq!(upload_offset("0-", false), None);
        assert_eq!(upload_offset("0-18446744073709551615", false), None);
    }

    #[test]
    fn reads_content_ranges() {
        assert_eq!(
            content_range_start("bytes 500-1499/2048"),
            Some((500, Some(2048)))
        );
        assert_eq!(content_range_start("bytes 0-0/*"), Some((0, None)));
        assert_eq!(content_range_start("bytes 9-3/10"), None);
        assert_eq!(content_range_start("500-1499/2048"), None);
        assert_eq!(content_range_start("bytes */2048"), None);
    }

    proptest! {
        #[test]
        fn parsers_never_panic(value in any::<String>(), flag in any::<bool>()) {
            let _ = next_link(&value);
            let _ = upload_offset(&value, flag);
            let _ = content_range_start(&value);
        }

        #[test]
        fn links_round_trip(target in "[a-zA-Z0-9/?=&._%-]{1,40}", before in proptest::option::of("[a-z/]{1,10}")) {
            let mut value = String::new();
            if let Some(before) = before {
                value.push_str(&format!("</{before}>; rel=\"prev\", "));
            }
            value.push_str(&format!("<{target}>; rel=\"next\""));
            prop_assert_eq!(next_link(&value), Some(target.as_str()));
        }

        #[test]
        fn upload_ranges_round_trip(offset in 1u64..u64::MAX) {
            prop_assert_eq!(upload_offset(&format!("0-{}", offset - 1), true), Some(offset));
        }

        #[test]
        fn content_ranges_round_trip(first in 0u64..1 << 40, len in 1u64..1 << 20, extra in 0u64..1 << 20) {
            let last = first + len - 1;
            let total = last + 1 + extra;
            prop_assert_eq!(
                content_range_start(&format!("bytes {first}-{last}/{total}")),
                Some((first, Some(total)))
            );
        }
    }
}
