//! `search HOST TERM`: the registry's legacy `/v1/search` where it offers one, else its
//! catalog filtered by the term (as podman does), printed as `HOST/NAME`.

use futures_util::TryStreamExt;

use oci_copy::Error;

use crate::cli::args::RegistryArgs;
use crate::cli::commands::Failure;
use crate::cli::registry_verbs::registry_reference;
use crate::cli::verbs::print_json;

/// Lists at most `limit` repositories of `host` whose name contains `term`.
pub(crate) async fn search(
    host: &str,
    term: &str,
    limit: usize,
    json: bool,
    registry: &RegistryArgs,
) -> Result<(), Failure> {
    if limit == 0 {
        return Err(Failure::Usage("--limit must be at least 1".into()));
    }
    let (client, _) = registry_reference(&format!("{host}/probe"), registry)?;
    let names = match client
        .search(host, term, limit)
        .await
        .map_err(Error::from)?
    {
        Some(names) => names,
        None => {
            let needle = term.to_lowercase();
            let mut found = Vec::new();
            let mut catalog = client.catalog(host, None);
            while found.len() < limit
                && let Some(name) = catalog.try_next().await.map_err(|error| {
                    if error.status().map(|status| status.as_u16()) == Some(404) {
                        // olareg, for one, has neither: say so rather than show a 404.
                        Error::Unsupported {
                            end: host.to_owned(),
                            operation: "search (it has no /v1/search and no /v2/_catalog)",
                        }
                    } else {
                        Error::from(error)
                    }
                })?
            {
                if name.to_lowercase().contains(&needle) {
                    found.push(name);
                }
            }
            found
        }
    };
    let names: Vec<String> = names
        .into_iter()
        .map(|name| format!("{host}/{name}"))
        .collect();
    if json {
        return print_json(&names, "search", false);
    }
    for name in names {
        println!("{name}");
    }
    Ok(())
}
