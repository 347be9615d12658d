//! Scopes as the Docker token flow spells them: `repository:<name>:<actions>`,
//! `registry:catalog:*` and `registry:catalog:search` (what Docker clients ask for before
//! `/v1/search`).

use std::fmt;

use super::grants::Actions;
use crate::names::RepoName;

/// One scope a token is asked for, or a challenge names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Actions on one repository.
    Repository {
        /// The repository.
        name: RepoName,
        /// The actions.
        actions: Actions,
    },
    /// Listing the catalog.
    Catalog,
    /// Searching the repositories the caller may pull.
    Search,
}

impl Scope {
    /// Parses one scope; `None` for anything this registry has no use for (other resource
    /// types, invalid names), which a token request simply does not get.
    pub fn parse(text: &str) -> Option<Scope> {
        let (kind, rest) = text.split_once(':')?;
        // A resource class may follow the type: `repository(plugin)`.
        let kind = kind.split_once('(').map_or(kind, |(kind, _)| kind);
        let (name, actions) = rest.rsplit_once(':')?;
        match kind {
            "repository" => Some(Scope::Repository {
                name: RepoName::parse(name).ok()?,
                actions: Actions::parse_list(actions),
            }),
            "registry" if name == "catalog" => {
                let mut actions = actions.split(',').map(str::trim);
                if actions.clone().any(|a| a == "*") {
                    Some(Scope::Catalog)
                } else if actions.any(|a| a == "search") {
                    Some(Scope::Search)
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// Parses every scope of a list (space-separated, as the OAuth2 form sends them).
    pub fn parse_all<'a>(texts: impl IntoIterator<Item = &'a str>) -> Vec<Scope> {
        texts
            .into_iter()
            .flat_map(str::split_whitespace)
            .filter_map(Scope::parse)
            .collect()
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Repository { name, actions } => write!(f, "repository:{name}:{actions}"),
            Scope::Catalog => f.write_str("registry:catalog:*"),
            Scope::Search => f.write_str("registry:catalog:search"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Action;
    use proptest::prelude::*;

    #[test]
    fn parses_what_clients_send() {
        assert_eq!(
            Scope::parse("repository:a/b:pull,push"),
            Some(Scope::Repository {
                name: RepoName::parse("a/b").unwrap(),
                actions: Actions::NONE.with(Action::Pull).with(Action::Push),
            })
        );
        assert_eq!(
            Scope::parse("repository(plugin):a:pull").map(|s| s.to_string()),
            Some("repository:a:pull".to_owned())
        );
        assert_eq!(Scope::parse("registry:catalog:*"), Some(Scope::Catalog));
        assert_eq!(Scope::parse("registry:catalog:search"), Some(Scope::Search));
        assert_eq!(Scope::parse("registry:catalog:pull"), None);
        assert_eq!(Scope::parse("repository:A:pull"), None);
        assert_eq!(Scope::parse("garbage"), None);
        assert_eq!(
            Scope::parse_all(["repository:a:pull repository:b:push", "registry:catalog:*"]).len(),
            3
        );
    }

    proptest! {
        #[test]
        fn scopes_round_trip(name in "[a-z0-9]{1,6}(/[a-z0-9]{1,6}){0,2}", bits in 1u8..8) {
            let actions: Actions = [Action::Pull, Action::Push, Action::Delete]
                .into_iter()
                .enumerate()
                .filter(|(i, _)| bits & (1 << i) != 0)
                .map(|(_, a)| a)
                .collect();
            let scope = Scope::Repository { name: RepoName::parse(&name).unwrap(), actions };
            prop_assert_eq!(Scope::parse(&scope.to_string()), Some(scope));
        }

        #[test]
        fn parsing_never_panics(text in "\\PC{0,40}") {
            let _ = Scope::parse(&text);
        }
    }
}
