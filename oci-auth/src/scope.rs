//! Token scopes (`repository:library/alpine:pull,push`, `registry:catalog:*`) and sets of them.
//!
//! Grammar, after the distribution token spec:
//!
//! ```text
//! scope        = resourcetype ":" resourcename ":" [ action *( "," action ) ]
//! resourcetype = 1*[a-z0-9] [ "(" 1*[a-z0-9] ")" ]      ; repository, registry, repository(plugin)
//! resourcename = any visible characters but ' " , \    ; may hold ':' (host:port/name)
//! action       = 1*( [a-zA-Z0-9_-] / "*" )
//! ```
//!
//! The name may contain colons, so the type ends at the first colon and the actions start after
//! the last one.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use crate::error::{ScopeError, ScopePart};

/// The `pull` action.
pub const PULL: &str = "pull";
/// The `push` action.
pub const PUSH: &str = "push";
/// The `delete` action.
pub const DELETE: &str = "delete";
/// The wildcard action, as in `registry:catalog:*`.
pub const ALL: &str = "*";

/// One resource and the actions wanted on it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope {
    resource_type: String,
    name: String,
    actions: BTreeSet<String>,
}

impl Scope {
    /// A scope on any resource type; every part is checked against the grammar.
    pub fn new<A: Into<String>>(
        resource_type: &str,
        name: &str,
        actions: impl IntoIterator<Item = A>,
    ) -> Result<Scope, ScopeError> {
        let scope = Scope {
            resource_type: resource_type.to_owned(),
            name: name.to_owned(),
            actions: actions.into_iter().map(Into::into).collect(),
        };
        let invalid = |part| ScopeError::InvalidPart {
            input: scope.to_string(),
            part,
        };
        if !valid_resource_type(&scope.resource_type) {
            return Err(invalid(ScopePart::ResourceType));
        }
        if !valid_name(&scope.name) {
            return Err(invalid(ScopePart::Name));
        }
        if !scope.actions.iter().all(|action| valid_action(action)) {
            return Err(invalid(ScopePart::Actions));
        }
        Ok(scope)
    }

    /// `repository:<name>:<actions>`.
    pub fn repository<A: Into<String>>(
        name: &str,
        actions: impl IntoIterator<Item = A>,
    ) -> Result<Scope, ScopeError> {
        Scope::new("repository", name, actions)
    }

    /// `repository:<name>:pull`.
    pub fn pull(name: &str) -> Result<Scope, ScopeError> {
        Scope::repository(name, [PULL])
    }

    /// `repository:<name>:pull,push`.
    pub fn push_pull(name: &str) -> Result<Scope, ScopeError> {
        Scope::repository(name, [PULL, PUSH])
    }

    /// `registry:catalog:*`, the scope of `GET /v2/_catalog`.
    pub fn catalog() -> Scope {
        Scope {
            resource_type: "registry".to_owned(),
            name: "catalog".to_owned(),
            actions: BTreeSet::from([ALL.to_owned()]),
        }
    }

    /// `registry:catalog:search`, the scope Docker clients ask for before `/v1/search`.
    pub fn search() -> Scope {
        Scope {
            resource_type: "registry".to_owned(),
            name: "catalog".to_owned(),
            actions: BTreeSet::from(["search".to_owned()]),
        }
    }

    /// Parses `type:name:actions`.
    pub fn parse(input: &str) -> Result<Scope, ScopeError> {
        let missing = || ScopeError::MissingSeparator {
            input: input.to_owned(),
        };
        let (resource_type, rest) = input.split_once(':').ok_or_else(missing)?;
        let (name, actions) = rest.rsplit_once(':').ok_or_else(missing)?;
        let actions: Vec<&str> = if actions.is_empty() {
            Vec::new()
        } else {
            actions.split(',').collect()
        };
        Scope::new(resource_type, name, actions).map_err(|error| match error {
            ScopeError::InvalidPart { part, .. } => ScopeError::InvalidPart {
                input: input.to_owned(),
                part,
            },
            other => other,
        })
    }

    /// `repository`, `registry`, ...
    pub fn resource_type(&self) -> &str {
        &self.resource_type
    }

    /// The resource name, e.g. the repository.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The actions, sorted and without duplicates.
    pub fn actions(&self) -> &BTreeSet<String> {
        &self.actions
    }

    /// True when this scope grants `action` (directly or through `*`).
    pub fn allows(&self, action: &str) -> bool {
        self.actions.contains(action) || self.actions.contains(ALL)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:", self.resource_type, self.name)?;
        for (index, action) in self.actions.iter().enumerate() {
            if index > 0 {
                f.write_str(",")?;
            }
            f.write_str(action)?;
        }
        Ok(())
    }
}

impl FromStr for Scope {
    type Err = ScopeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scope::parse(s)
    }
}

fn valid_type_word(word: &str) -> bool {
    !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

fn valid_resource_type(resource_type: &str) -> bool {
    match resource_type.split_once('(') {
        None => valid_type_word(resource_type),
        Some((base, class)) => {
            valid_type_word(base) && class.strip_suffix(')').is_some_and(valid_type_word)
        }
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"\"',\\".contains(&b))
}

fn valid_action(action: &str) -> bool {
    !action.is_empty()
        && action
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'*')
}

/// A set of scopes for one token request: at most one entry per resource, whose actions are the
/// union of everything asked for it.
///
/// A cross-repository mount needs `pull` on the source and `pull,push` on the destination in
/// one token:
///
/// ```
/// use oci_auth::Scopes;
///
/// let scopes = Scopes::cross_mount("library/source", "team/destination")?;
/// assert_eq!(
///     scopes.to_string(),
///     "repository:library/source:pull repository:team/destination:pull,push"
/// );
/// # Ok::<(), oci_auth::ScopeError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scopes(BTreeMap<(String, String), BTreeSet<String>>);

impl Scopes {
    /// No scope (a token request for `GET /v2/` only).
    pub fn new() -> Self {
        Scopes(BTreeMap::new())
    }

    /// Pull on `source` and pull plus push on `destination`, as a cross-repository mount needs.
    pub fn cross_mount(source: &str, destination: &str) -> Result<Scopes, ScopeError> {
        Ok([Scope::pull(source)?, Scope::push_pull(destination)?]
            .into_iter()
            .collect())
    }

    /// Parses scopes separated by spaces (the form of a challenge's `scope` parameter).
    pub fn parse(input: &str) -> Result<Scopes, ScopeError> {
        input.split_whitespace().map(Scope::parse).collect()
    }

    /// Adds a scope, merging its actions into any entry for the same resource.
    pub fn insert(&mut self, scope: Scope) {
        self.0
            .entry((scope.resource_type, scope.name))
            .or_default()
            .extend(scope.actions);
    }

    /// Adds every scope of `other`.
    pub fn merge(&mut self, other: &Scopes) {
        self.extend(other.iter());
    }

    /// The scopes, one per resource, in resource order.
    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().map(|((resource_type, name), actions)| Scope {
            resource_type: resource_type.clone(),
            name: name.clone(),
            actions: actions.clone(),
        })
    }

    /// True when every action of `other` is granted here.
    pub fn covers(&self, other: &Scopes) -> bool {
        other.0.iter().all(|(resource, wanted)| {
            self.0.get(resource).is_some_and(|granted| {
                granted.contains(ALL) || wanted.iter().all(|a| granted.contains(a))
            })
        })
    }

    /// Number of resources.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there is no scope.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Scope> for Scopes {
    fn from(scope: Scope) -> Self {
        let mut scopes = Scopes::new();
        scopes.insert(scope);
        scopes
    }
}

impl FromIterator<Scope> for Scopes {
    fn from_iter<I: IntoIterator<Item = Scope>>(iter: I) -> Self {
        let mut scopes = Scopes::new();
        scopes.extend(iter);
        scopes
    }
}

impl Extend<Scope> for Scopes {
    fn extend<I: IntoIterator<Item = Scope>>(&mut self, iter: I) {
        for scope in iter {
            self.insert(scope);
        }
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, scope) in self.iter().enumerate() {
            if index > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{scope}")?;
        }
        Ok(())
    }
}

impl FromStr for Scopes {
    type Err = ScopeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Scopes::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_the_common_forms() {
        let scope = Scope::parse("repository:library/alpine:push,pull").unwrap();
        assert_eq!(scope.resource_type(), "repository");
        assert_eq!(scope.name(), "library/alpine");
        assert!(scope.allows(PULL) && scope.allows(PUSH) && !scope.allows(DELETE));
        assert_eq!(scope.to_string(), "repository:library/alpine:pull,push");

        let catalog = Scope::parse("registry:catalog:*").unwrap();
        assert_eq!(catalog, Scope::catalog());
        assert!(catalog.allows(DELETE));

        let plugin = Scope::parse("repository(plugin):vieux/sshfs:pull").unwrap();
        assert_eq!(plugin.resource_type(), "repository(plugin)");

        let with_port = Scope::parse("repository:localhost:5000/a/b:pull").unwrap();
        assert_eq!(with_port.name(), "localhost:5000/a/b");

        let no_actions = Scope::parse("repository:a:").unwrap();
        assert!(no_actions.actions().is_empty());
    }

    #[test]
    fn actions_are_a_set() {
        let scope = Scope::parse("repository:a:push,pull,push").unwrap();
        assert_eq!(scope.actions().len(), 2);
        assert_eq!(scope, Scope::push_pull("a").unwrap());
    }

    #[test]
    fn malformed_scopes_give_typed_errors() {
        let invalid = |input: &str, part| ScopeError::InvalidPart {
            input: input.to_owned(),
            part,
        };
        let cases = [
            (
                "",
                ScopeError::MissingSeparator {
                    input: String::new(),
                },
            ),
            (
                "repository",
                ScopeError::MissingSeparator {
                    input: "repository".into(),
                },
            ),
            (
                "repository:a",
                ScopeError::MissingSeparator {
                    input: "repository:a".into(),
                },
            ),
            (
                "Repository:a:pull",
                invalid("Repository:a:pull", ScopePart::ResourceType),
            ),
            (
                "repository(:a:pull",
                invalid("repository(:a:pull", ScopePart::ResourceType),
            ),
            (":a:pull", invalid(":a:pull", ScopePart::ResourceType)),
            (
                "repository::pull",
                invalid("repository::pull", ScopePart::Name),
            ),
            (
                "repository:a b:pull",
                invalid("repository:a b:pull", ScopePart::Name),
            ),
            (
                "repository:a:pull,",
                invalid("repository:a:pull,", ScopePart::Actions),
            ),
            (
                "repository:a:pu ll",
                invalid("repository:a:pu ll", ScopePart::Actions),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(Scope::parse(input), Err(expected), "{input:?}");
        }
    }

    #[test]
    fn scopes_merge_actions_per_resource() {
        let mut scopes = Scopes::parse("repository:b:pull repository:a:pull").unwrap();
        scopes.insert(Scope::repository("b", [PUSH]).unwrap());
        scopes.insert(Scope::pull("a").unwrap());
        assert_eq!(scopes.len(), 2);
        assert_eq!(
            scopes.to_string(),
            "repository:a:pull repository:b:pull,push"
        );

        let mut other = Scopes::from(Scope::catalog());
        other.merge(&scopes);
        assert_eq!(other.len(), 3);
        assert!(other.covers(&scopes));
        assert!(!scopes.covers(&other));
    }

    #[test]
    fn cross_mount_asks_pull_on_source_and_push_on_destination() {
        let scopes = Scopes::cross_mount("src", "dst").unwrap();
        assert!(scopes.covers(&Scope::pull("src").unwrap().into()));
        assert!(scopes.covers(&Scope::push_pull("dst").unwrap().into()));
        assert!(!scopes.covers(&Scope::push_pull("src").unwrap().into()));
        // The same repository on both sides collapses into one entry.
        assert_eq!(Scopes::cross_mount("same", "same").unwrap().len(), 1);
    }

    #[test]
    fn wildcard_covers_any_action() {
        let granted = Scopes::from(Scope::repository("a", [ALL]).unwrap());
        assert!(granted.covers(&Scope::push_pull("a").unwrap().into()));
        assert!(granted.covers(&Scopes::new()));
    }

    fn scope_strategy() -> impl Strategy<Value = Scope> {
        (
            "[a-z0-9]{1,8}(\\([a-z0-9]{1,6}\\))?",
            "[a-zA-Z0-9._/:@*-]{1,24}",
            proptest::collection::btree_set("[a-zA-Z0-9_*-]{1,8}", 0..4),
        )
            .prop_map(|(resource_type, name, actions)| {
                Scope::new(&resource_type, &name, actions).unwrap()
            })
    }

    proptest! {
        #[test]
        fn scope_parsing_never_panics(input in any::<String>()) {
            let _ = Scope::parse(&input);
            let _ = Scopes::parse(&input);
        }

        #[test]
        fn scope_round_trips(scope in scope_strategy()) {
            prop_assert_eq!(Scope::parse(&scope.to_string()), Ok(scope));
        }

        #[test]
        fn scopes_round_trip(scopes in proptest::collection::vec(scope_strategy(), 0..5)) {
            let scopes: Scopes = scopes.into_iter().collect();
            prop_assert_eq!(Scopes::parse(&scopes.to_string()), Ok(scopes.clone()));
            prop_assert!(scopes.covers(&scopes));
        }
    }
}
