//! The catalog: every repository name, found by walking the `repositories` folder. A folder
//! is a repository when it holds one of the `_`-prefixed model folders; names are nested
//! (`a/b/c`), so the walk goes on into the other children.

use super::Store;
use crate::{error::Error, names::RepoName, storage::Key};

impl Store {
    /// All repository names, in lexical order.
    pub async fn repositories(&self) -> Result<Vec<String>, Error> {
        let mut found = Vec::new();
        // Depth-first over (key, name so far); names are validated before they are kept.
        let mut pending = vec![(Key::repositories(), String::new())];
        while let Some((folder, prefix)) = pending.pop() {
            for child in self.storage.meta_list(&folder).await? {
                if child.starts_with('_') {
                    if !prefix.is_empty() && found.last() != Some(&prefix) {
                        found.push(prefix.clone());
                    }
                    continue;
                }
                let name = if prefix.is_empty() {
                    child.clone()
                } else {
                    format!("{prefix}/{child}")
                };
                if RepoName::parse(&name).is_ok() {
                    pending.push((folder.child(&child), name));
                }
            }
        }
        found.sort_unstable();
        Ok(found)
    }
}
