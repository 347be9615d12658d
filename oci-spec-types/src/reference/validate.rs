//! The grammar of repository names, tags and registry hosts.
//!
//! Usable on their own, e.g. by a registry checking the `<name>` and `<reference>` of a
//! request path.

use crate::error::ReferenceError;

/// Longest repository name, registry host included.
pub const NAME_TOTAL_MAX: usize = 255;
/// Longest tag.
pub const TAG_MAX: usize = 128;

/// Checks a repository name (`library/ubuntu`) against the distribution spec:
/// `/`-separated components of lower-case letters and digits joined by `.`, `_`, `__` or
/// dashes, at most [`NAME_TOTAL_MAX`] characters.
pub fn validate_repository(name: &str) -> Result<(), ReferenceError> {
    if name.len() > NAME_TOTAL_MAX {
        return Err(ReferenceError::NameTooLong {
            length: name.len(),
            max: NAME_TOTAL_MAX,
        });
    }
    if name.split('/').all(is_name_component) {
        return Ok(());
    }
    let repository = name.to_owned();
    if name
        .split('/')
        .all(|component| is_name_component(&component.to_ascii_lowercase()))
    {
        Err(ReferenceError::UppercaseRepository { repository })
    } else {
        Err(ReferenceError::InvalidRepository { repository })
    }
}

/// Checks a tag: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
pub fn validate_tag(tag: &str) -> Result<(), ReferenceError> {
    let mut bytes = tag.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
    let rest_ok = bytes.all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if first_ok && rest_ok && tag.len() <= TAG_MAX {
        Ok(())
    } else {
        Err(ReferenceError::InvalidTag {
            tag: tag.to_owned(),
        })
    }
}

/// Checks a registry: a domain name (`a.b-c.d`) or a bracketed IPv6 address, then an
/// optional `:port`.
pub fn validate_registry(registry: &str) -> Result<(), ReferenceError> {
    let (host, port) = split_port(registry);
    let host_ok = match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(ipv6) => {
            !ipv6.is_empty()
                && ipv6
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() || b":.".contains(&b))
        }
        None => host.split('.').all(is_domain_component),
    };
    let port_ok =
        port.is_none_or(|port| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()));
    if host_ok && port_ok {
        Ok(())
    } else {
        Err(ReferenceError::InvalidRegistry {
            registry: registry.to_owned(),
        })
    }
}

/// Splits `host:port`, leaving the colons inside `[ipv6]` alone.
fn split_port(registry: &str) -> (&str, Option<&str>) {
    let host_end = registry.rfind(']').map_or(0, |i| i + 1);
    match registry[host_end..].find(':') {
        Some(i) => (
            &registry[..host_end + i],
            Some(&registry[host_end + i + 1..]),
        ),
        None => (registry, None),
    }
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`
fn is_name_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !bytes.first().is_some_and(alnum) || !bytes.last().is_some_and(alnum) {
        return false;
    }
    // Between runs of letters and digits, each separator must be one of the allowed ones.
    component
        .split(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        .all(|separator| {
            matches!(separator, "" | "." | "_" | "__") || separator.bytes().all(|b| b == b'-')
        })
}

/// `[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]`
fn is_domain_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_grammar() {
        for good in ["a", "library/ubuntu", "a.b_c__d---e/f0", "0/1/2", "a-b"] {
            assert_eq!(validate_repository(good), Ok(()), "{good}");
        }
        for bad in [
            "", "a/", "/a", "a//b", "-a", "a-", "a..b", "a___b", "a._b", "a b", "a:b", "é",
        ] {
            assert!(
                matches!(
                    validate_repository(bad),
                    Err(ReferenceError::InvalidRepository { .. })
                ),
                "{bad}"
            );
        }
        assert_eq!(
            validate_repository("UPPER/case"),
            Err(ReferenceError::UppercaseRepository {
                repository: "UPPER/case".into()
            })
        );
        assert_eq!(validate_repository(&"a".repeat(255)), Ok(()));
        assert_eq!(
            validate_repository(&"a".repeat(256)),
            Err(ReferenceError::NameTooLong {
                length: 256,
                max: 255
            })
        );
    }

    #[test]
    fn tag_grammar() {
        for good in ["latest", "_x", "1.0", "v1.2.3-rc_1", &"t".repeat(128)] {
            assert_eq!(validate_tag(good), Ok(()), "{good}");
        }
        for bad in ["", ".x", "-x", "a/b", "a:b", "a@b", &"t".repeat(129)] {
            assert!(validate_tag(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn registry_grammar() {
        for good in [
            "localhost",
            "localhost:5000",
            "a.b-c.d",
            "127.0.0.1:80",
            "[::1]:5000",
            "[fe80::1]",
        ] {
            assert_eq!(validate_registry(good), Ok(()), "{good}");
        }
        for bad in [
            "", "a..b", "-a.b", "a.b:", "a.b:x", "[]:1", "[::1]x", "a_b.c", "a/b",
        ] {
            assert!(validate_registry(bad).is_err(), "{bad}");
        }
    }
}
