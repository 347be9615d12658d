//! A string that must never be printed: passwords, identity tokens, bearer tokens.

use std::fmt;

/// A secret string whose `Debug` output is redacted.
///
/// `Secret` has no `Display`, so it cannot end up in a log line through `{}` by accident;
/// [`Secret::expose`] is the one, greppable, way to read it.
///
/// ```
/// use oci_auth::Secret;
///
/// let password = Secret::new("hunter2");
/// assert_eq!(format!("{password:?}"), "Secret(<redacted>)");
/// assert_eq!(password.expose(), "hunter2");
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value itself; call it only where the value goes on the wire.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// True when the secret is the empty string.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn debug_is_redacted() {
        let secret = Secret::new("s3cr3t-value");
        let printed = format!("{secret:?} {secret:#?}");
        assert!(!printed.contains("s3cr3t"), "{printed}");
        assert!(printed.contains("redacted"));
    }

    #[test]
    fn debug_of_a_containing_struct_is_redacted() {
        #[derive(Debug)]
        #[allow(dead_code)] // only read through Debug
        struct Login {
            user: String,
            password: Secret,
        }
        let login = Login {
            user: "alice".into(),
            password: "pa55word".into(),
        };
        let printed = format!("{login:?}");
        assert!(printed.contains("alice"));
        assert!(!printed.contains("pa55word"), "{printed}");
    }

    proptest! {
        #[test]
        fn no_value_leaks_through_debug(value in "[a-zA-Z0-9]{12,40}") {
            let printed = format!("{:?}", Secret::new(value.clone()));
            prop_assert!(!printed.contains(&value));
        }
    }
}
