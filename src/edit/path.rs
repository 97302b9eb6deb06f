//! `RepoPath`: a path inside the repository, checked once where it enters.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A path inside the repository: relative, `/`-separated, never `..` or absolute.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RepoPath(String);

impl RepoPath {
    /// Accepts `path` if it stays inside the repository.
    pub fn new(path: &str) -> Option<Self> {
        let path = path.strip_prefix("./").unwrap_or(path);
        let valid = !path.is_empty()
            && !path.starts_with('/')
            && !path.contains('\\')
            && path
                .split('/')
                .all(|part| !part.is_empty() && part != "." && part != "..");
        valid.then(|| RepoPath(path.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A path that is absolute, empty, or leaves the repository (`..`, `.` parts, backslashes).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a path inside the repository: give it relative to the root, with `/`")]
pub struct NotInRepository(pub String);

impl TryFrom<String> for RepoPath {
    type Error = NotInRepository;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        RepoPath::new(&value).ok_or(NotInRepository(value))
    }
}

impl From<RepoPath> for String {
    fn from(path: RepoPath) -> Self {
        path.0
    }
}

impl fmt::Display for RepoPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_paths_stay_inside() {
        assert!(RepoPath::new("src/lib.rs").is_some());
        assert_eq!(
            RepoPath::new("./src/lib.rs").map(|p| p.0),
            Some("src/lib.rs".into())
        );
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "src/../../x",
            "src//lib.rs",
            "a\\b",
        ] {
            assert!(RepoPath::new(bad).is_none(), "{bad}");
        }
    }
}
