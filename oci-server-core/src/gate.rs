//! The authorization gate every API request passes: what the route needs, whether the
//! caller has it, and the 401 (with a challenge naming the scope) or 403 when not.

use http::HeaderMap;

use crate::{
    auth::{Action, Actions, AuthFailure, Authorizer, Permissions, Scope},
    error::Error,
    names::RepoName,
    operation::Operation,
};

/// What a route needs beyond being let in.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Needed {
    /// `/v2/`: only that the caller authenticates.
    Nothing,
    /// `/v2/_catalog`.
    Catalog,
    /// `/v1/search`: that the caller authenticates (the results are what it may pull).
    Search,
    /// An action on a repository.
    Repository(RepoName, Action),
}

impl Needed {
    fn of(operation: &Operation) -> Needed {
        let on = |name: &RepoName, action| Needed::Repository(name.clone(), action);
        match operation {
            Operation::Version => Needed::Nothing,
            Operation::Catalog => Needed::Catalog,
            Operation::Search => Needed::Search,
            Operation::UploadStart { name }
            | Operation::UploadStatus { name, .. }
            | Operation::UploadPatch { name, .. }
            | Operation::UploadFinish { name, .. }
            | Operation::UploadCancel { name, .. }
            | Operation::ManifestPut { name, .. } => on(name, Action::Push),
            Operation::BlobDelete { name, .. } | Operation::ManifestDelete { name, .. } => {
                on(name, Action::Delete)
            }
            Operation::BlobGet { name, .. }
            | Operation::ManifestGet { name, .. }
            | Operation::TagList { name }
            | Operation::Referrers { name, .. } => on(name, Action::Pull),
        }
    }

    /// The scope a challenge asks for: pushing asks for `pull,push`, as Docker clients do.
    fn scope(&self) -> Option<Scope> {
        match self {
            Needed::Nothing => None,
            Needed::Catalog => Some(Scope::Catalog),
            Needed::Search => Some(Scope::Search),
            Needed::Repository(name, action) => {
                let actions = match action {
                    Action::Push => Actions::NONE.with(Action::Pull).with(Action::Push),
                    other => Actions::NONE.with(*other),
                };
                Some(Scope::Repository {
                    name: name.clone(),
                    actions,
                })
            }
        }
    }

    fn met_by(&self, permissions: &Permissions) -> bool {
        match self {
            Needed::Nothing | Needed::Search => true,
            Needed::Catalog => permissions.catalog(),
            Needed::Repository(name, action) => permissions.allows(name, *action),
        }
    }
}

/// Lets a request through with the caller's permissions, or refuses it.
pub(crate) async fn admit(
    authorizer: &dyn Authorizer,
    headers: &HeaderMap,
    operation: &Operation,
) -> Result<Permissions, Error> {
    let needed = Needed::of(operation);
    let scope = needed.scope();
    let scopes = scope.as_slice();
    let refuse = |failure: AuthFailure| Error::Auth {
        challenge: authorizer.challenge(headers, scopes, &failure),
        failure,
    };
    let permissions = authorizer.authenticate(headers).await.map_err(refuse)?;
    if needed.met_by(&permissions) {
        return Ok(permissions);
    }
    let scope_text = scope.as_ref().map(Scope::to_string).unwrap_or_default();
    match permissions.subject() {
        Some(subject) if !authorizer.retry_with_scope(&permissions) => Err(Error::Auth {
            failure: AuthFailure::Denied {
                subject: subject.to_owned(),
                scope: scope_text,
            },
            challenge: None,
        }),
        _ => Err(refuse(AuthFailure::InsufficientScope { scope: scope_text })),
    }
}

/// A 401 asking the caller to come back with a token for all of `scopes` (a cross-repository
/// mount that needs `pull` on its source besides `push` on its target).
pub(crate) fn ask_for(authorizer: &dyn Authorizer, headers: &HeaderMap, scopes: &[Scope]) -> Error {
    let failure = AuthFailure::InsufficientScope {
        scope: crate::auth::scopes_text(scopes),
    };
    Error::Auth {
        challenge: authorizer.challenge(headers, scopes, &failure),
        failure,
    }
}

#[cfg(test)]
mod tests {
    use http::Method;

    use super::*;
    use crate::routes::{ManifestRef, Route};

    #[test]
    fn routes_need_what_they_touch() {
        let name = RepoName::parse("a/b").unwrap();
        let manifest = Route::Manifest {
            name: name.clone(),
            reference: Ok(ManifestRef::parse("v1").unwrap()),
        };
        let scope = |route: &Route, method: &Method| {
            let operation = Operation::of(route.clone(), method, true).unwrap();
            Needed::of(&operation).scope().map(|s| s.to_string())
        };
        assert_eq!(
            scope(&manifest, &Method::GET).as_deref(),
            Some("repository:a/b:pull")
        );
        assert_eq!(
            scope(&manifest, &Method::PUT).as_deref(),
            Some("repository:a/b:pull,push")
        );
        assert_eq!(
            scope(&manifest, &Method::DELETE).as_deref(),
            Some("repository:a/b:delete")
        );
        let upload = Route::UploadStart { name };
        assert_eq!(
            scope(&upload, &Method::POST).as_deref(),
            Some("repository:a/b:pull,push")
        );
        assert_eq!(scope(&Route::Base, &Method::GET), None);
        assert_eq!(
            scope(&Route::Catalog, &Method::GET).as_deref(),
            Some("registry:catalog:*")
        );
        assert_eq!(
            scope(&Route::Search, &Method::GET).as_deref(),
            Some("registry:catalog:search")
        );
    }
}
