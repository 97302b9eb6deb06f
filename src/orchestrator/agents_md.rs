//! The `AGENTS.md` files of a repository: read once, before a run, so that each agent's prompt
//! carries the nearest one up from the file it works on (the repository's own at its root when
//! it works on no file in particular).

use std::collections::BTreeMap;
use std::path::Path;

/// How much of an `AGENTS.md` goes into an agent's prompt.
pub const AGENTS_MD_CHARS: usize = 8_000;

/// Every `AGENTS.md` of a repository, by the directory it is in (`""` for the root).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentsMd {
    files: BTreeMap<String, String>,
}

impl AgentsMd {
    /// The `AGENTS.md` files under `root`, as the index walks it (gitignore-aware), each cut to
    /// `AGENTS_MD_CHARS`; an unreadable one is left out.
    pub fn read(root: &Path) -> AgentsMd {
        let mut files = BTreeMap::new();
        for path in crate::index::named(root, "AGENTS.md") {
            let Ok(text) = std::fs::read_to_string(root.join(&path)) else {
                continue;
            };
            if text.trim().is_empty() {
                continue;
            }
            let dir = path
                .strip_suffix("AGENTS.md")
                .unwrap_or("")
                .trim_end_matches('/')
                .to_owned();
            files.insert(dir, text.chars().take(AGENTS_MD_CHARS).collect());
        }
        AgentsMd { files }
    }

    /// The nearest `AGENTS.md` up from `path` (a file relative to the root), with the directory
    /// it is in; the root's when `path` is `None` or none is nearer.
    pub fn nearest(&self, path: Option<&str>) -> Option<(&str, &str)> {
        let mut dir = path.unwrap_or("").trim_start_matches("./");
        loop {
            dir = match dir.rfind('/') {
                Some(at) => &dir[..at],
                None => "",
            };
            if let Some((found, text)) = self.files.get_key_value(dir) {
                return Some((found.as_str(), text.as_str()));
            }
            if dir.is_empty() {
                return None;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(dirs: &[&str]) -> AgentsMd {
        AgentsMd {
            files: dirs
                .iter()
                .map(|d| ((*d).to_owned(), format!("rules of `{d}`")))
                .collect(),
        }
    }

    #[test]
    fn the_nearest_one_up_from_the_file() {
        let all = set(&["", "crates/core", "crates/core/src/deep"]);
        let dir = |path: Option<&str>| all.nearest(path).map(|(dir, _)| dir);
        assert_eq!(dir(Some("crates/core/src/lib.rs")), Some("crates/core"));
        assert_eq!(
            dir(Some("crates/core/src/deep/x.rs")),
            Some("crates/core/src/deep")
        );
        assert_eq!(dir(Some("crates/other/src/lib.rs")), Some(""));
        assert_eq!(dir(Some("README.md")), Some(""));
        assert_eq!(dir(None), Some(""));
        // A directory named like a prefix is not a parent.
        assert_eq!(dir(Some("crates/core2/lib.rs")), Some(""));
        assert_eq!(set(&["crates/core"]).nearest(None), None);
    }
}
