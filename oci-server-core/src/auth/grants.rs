//! What a caller may do: actions on repositories, granted by repository glob.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::names::RepoName;

/// One thing a caller can do to a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Read manifests, blobs, tags and referrers.
    Pull,
    /// Upload blobs and manifests (and mount blobs in).
    Push,
    /// Delete tags, manifests and blobs.
    Delete,
}

impl Action {
    const ALL: [Action; 3] = [Action::Pull, Action::Push, Action::Delete];

    /// The name scopes use.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Pull => "pull",
            Action::Push => "push",
            Action::Delete => "delete",
        }
    }

    fn bit(self) -> u8 {
        match self {
            Action::Pull => 1,
            Action::Push => 2,
            Action::Delete => 4,
        }
    }
}

/// A set of [`Action`]s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Actions(u8);

impl Actions {
    /// No action.
    pub const NONE: Actions = Actions(0);
    /// Pull, push and delete.
    pub const ALL: Actions = Actions(7);

    /// Whether `action` is in the set.
    pub fn contains(self, action: Action) -> bool {
        self.0 & action.bit() != 0
    }

    /// Whether every action of `other` is in the set.
    pub fn contains_all(self, other: Actions) -> bool {
        self.0 & other.0 == other.0
    }

    /// The set with `action` added.
    pub fn with(self, action: Action) -> Actions {
        Actions(self.0 | action.bit())
    }

    /// The actions in both sets.
    pub fn intersection(self, other: Actions) -> Actions {
        Actions(self.0 & other.0)
    }

    /// The actions in either set.
    pub fn union(self, other: Actions) -> Actions {
        Actions(self.0 | other.0)
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The actions, in the order pull, push, delete.
    pub fn iter(self) -> impl Iterator<Item = Action> {
        Action::ALL.into_iter().filter(move |a| self.contains(*a))
    }

    /// Parses a scope's comma-separated action list; `*` means all, unknown actions are
    /// ignored (a token never grants what it cannot name).
    pub fn parse_list(list: &str) -> Actions {
        list.split(',')
            .map(str::trim)
            .fold(Actions::NONE, |set, word| match word {
                "*" => Actions::ALL,
                "pull" => set.with(Action::Pull),
                "push" => set.with(Action::Push),
                "delete" => set.with(Action::Delete),
                _ => set,
            })
    }
}

impl FromIterator<Action> for Actions {
    fn from_iter<I: IntoIterator<Item = Action>>(iter: I) -> Self {
        iter.into_iter().fold(Actions::NONE, Actions::with)
    }
}

impl fmt::Display for Actions {
    /// `pull,push`: the form scopes use.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Action::as_str).collect();
        f.write_str(&names.join(","))
    }
}

impl Serialize for Actions {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for Actions {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Vec::<Action>::deserialize(deserializer)?
            .into_iter()
            .collect())
    }
}

/// A repository glob: `*` matches within one path component, `**` across components, `?`
/// one character other than `/`; everything else matches itself. `**` alone matches every
/// repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoPattern(String);

impl RepoPattern {
    /// Takes a glob as written (no check needed: any text is a pattern).
    pub fn new(glob: impl Into<String>) -> Self {
        Self(glob.into())
    }

    /// The pattern matching exactly one repository.
    pub fn exact(name: &RepoName) -> Self {
        Self(name.as_str().to_owned())
    }

    /// The glob as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `name` matches.
    pub fn matches(&self, name: &str) -> bool {
        glob_match(self.0.as_bytes(), name.as_bytes())
    }
}

/// Backtracking glob match; patterns are short and written by an operator, so the worst
/// case (many `**`) stays small.
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    match pattern {
        [] => text.is_empty(),
        [b'*', b'*', rest @ ..] => (0..=text.len()).any(|skip| glob_match(rest, &text[skip..])),
        [b'*', rest @ ..] => {
            let component = text.iter().position(|&b| b == b'/').unwrap_or(text.len());
            (0..=component).any(|skip| glob_match(rest, &text[skip..]))
        }
        [b'?', rest @ ..] => matches!(text, [c, tail @ ..] if *c != b'/' && glob_match(rest, tail)),
        [literal, rest @ ..] => {
            matches!(text, [c, tail @ ..] if c == literal && glob_match(rest, tail))
        }
    }
}

impl Serialize for RepoPattern {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for RepoPattern {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self)
    }
}

/// Actions allowed on the repositories a pattern matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// Which repositories.
    pub repository: RepoPattern,
    /// What may be done to them.
    pub actions: Actions,
}

/// Who a request comes from and everything it may do.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Permissions {
    subject: Option<String>,
    grants: Vec<Grant>,
    catalog: bool,
    issued_here: bool,
}

impl Permissions {
    /// Everything, for anyone (the anonymous registry, and htpasswd users).
    pub fn everything(subject: Option<String>) -> Self {
        Self {
            subject,
            grants: vec![Grant {
                repository: RepoPattern::new("**"),
                actions: Actions::ALL,
            }],
            catalog: true,
            issued_here: false,
        }
    }

    /// The given grants (and the catalog when `catalog`).
    pub fn new(subject: Option<String>, grants: Vec<Grant>, catalog: bool) -> Self {
        Self {
            subject,
            grants,
            catalog,
            issued_here: false,
        }
    }

    /// The same permissions, marked as carried by a token this registry issued itself: its
    /// subject is one of the registry's own accounts (or anonymous), whose configured grants
    /// the registry can consult. Tokens of an external token service never are.
    pub fn issued_here(mut self) -> Self {
        self.issued_here = true;
        self
    }

    /// Whether a token this registry issued carries these permissions.
    pub fn is_issued_here(&self) -> bool {
        self.issued_here
    }

    /// The authenticated user, `None` for an anonymous caller.
    pub fn subject(&self) -> Option<&str> {
        self.subject.as_deref()
    }

    /// Every action allowed on `name`.
    pub fn actions_on(&self, name: &str) -> Actions {
        self.grants
            .iter()
            .filter(|g| g.repository.matches(name))
            .fold(Actions::NONE, |all, g| all.union(g.actions))
    }

    /// Whether `action` is allowed on `name`.
    pub fn allows(&self, name: &RepoName, action: Action) -> bool {
        self.actions_on(name.as_str()).contains(action)
    }

    /// Whether pull is granted on every repository (a `**` grant), which is what mounting a
    /// blob without naming its source needs: the blob may be in any repository.
    pub fn pulls_everything(&self) -> bool {
        self.grants
            .iter()
            .any(|g| g.repository.as_str() == "**" && g.actions.contains(Action::Pull))
    }

    /// Whether the catalog (`/v2/_catalog`) may be listed.
    pub fn catalog(&self) -> bool {
        self.catalog
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn globs() {
        let cases = [
            ("**", "a/b/c", true),
            ("*", "a", true),
            ("*", "a/b", false),
            ("team/*", "team/app", true),
            ("team/*", "team/app/x", false),
            ("team/**", "team/app/x", true),
            ("team/**", "teams/app", false),
            ("a?c", "abc", true),
            ("a?c", "a/c", false),
            ("lib*/x", "library/x", true),
            ("exact/name", "exact/name", true),
            ("exact/name", "exact/names", false),
        ];
        for (pattern, name, expected) in cases {
            assert_eq!(
                RepoPattern::new(pattern).matches(name),
                expected,
                "{pattern} vs {name}"
            );
        }
    }

    #[test]
    fn actions_parse_and_print() {
        assert_eq!(Actions::parse_list("push,pull").to_string(), "pull,push");
        assert_eq!(Actions::parse_list("*"), Actions::ALL);
        assert_eq!(
            Actions::parse_list("fly,pull"),
            Actions::NONE.with(Action::Pull)
        );
        let json = serde_json::to_string(&Actions::ALL).unwrap();
        assert_eq!(json, r#"["pull","push","delete"]"#);
        assert_eq!(
            serde_json::from_str::<Actions>(&json).unwrap(),
            Actions::ALL
        );
    }

    #[test]
    fn permissions_add_up_over_grants() {
        let grant = |pattern: &str, actions: &str| Grant {
            repository: RepoPattern::new(pattern),
            actions: Actions::parse_list(actions),
        };
        let permissions = Permissions::new(
            Some("alice".into()),
            vec![grant("**", "pull"), grant("alice/**", "push,delete")],
            false,
        );
        assert_eq!(permissions.actions_on("alice/app"), Actions::ALL);
        assert_eq!(permissions.actions_on("bob/app").to_string(), "pull");
        assert!(!permissions.catalog());
    }

    proptest! {
        #[test]
        fn a_name_matches_itself_and_double_star(name in "[a-z0-9]{1,6}(/[a-z0-9]{1,6}){0,3}") {
            prop_assert!(RepoPattern::new(name.clone()).matches(&name));
            prop_assert!(RepoPattern::new("**").matches(&name));
            let single = !name.contains('/');
            prop_assert_eq!(RepoPattern::new("*").matches(&name), single);
        }

        #[test]
        fn matching_never_panics(pattern in "[a-z*?/]{0,12}", name in "[a-z/]{0,12}") {
            let _ = RepoPattern::new(pattern).matches(&name);
        }

        #[test]
        fn action_lists_round_trip(bits in 0u8..8) {
            let actions = Actions(bits);
            prop_assert_eq!(Actions::parse_list(&actions.to_string()), actions);
        }
    }
}
