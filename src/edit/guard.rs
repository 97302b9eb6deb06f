//! Guards that turn a patch away before anything runs: paths it must never touch, and paths
//! outside the write scope of the agent that made it.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use super::Patch;
use crate::findings::RepoPath;

/// Why a path may not be changed, if it may not: build and CI machinery, Nova's own state and
/// config, and the tests that judge every change.
pub fn protected(path: &RepoPath) -> Option<&'static str> {
    let parts: Vec<&str> = path.as_str().split('/').collect();
    let file = parts.last().copied().unwrap_or("");
    let dirs = &parts[..parts.len().saturating_sub(1)];
    let in_dir = |name: &str| dirs.contains(&name);
    if in_dir(".git") || in_dir(".cargo") || in_dir(".github") || in_dir(".ci") || in_dir(".nova") {
        return Some("it is build, CI or version-control machinery");
    }
    if file == "build.rs" || file.starts_with("rust-toolchain") {
        return Some("it decides how the code is built");
    }
    if file == "nova.toml" {
        return Some("it is Nova's own configuration");
    }
    if in_dir("tests") || in_dir("benches") {
        return Some("tests judge every change, so Nova does not change them");
    }
    None
}

/// A compiled write scope.
#[derive(Debug, Clone)]
pub struct Scope {
    globs: GlobSet,
}

impl Scope {
    /// Compiles `globs`; `*` stops at `/`, `**` crosses directories. Invalid globs (which
    /// `nova agents check` reports) match nothing.
    pub fn new(globs: &[String]) -> Self {
        let mut builder = GlobSetBuilder::new();
        for glob in globs {
            if let Ok(glob) = GlobBuilder::new(glob).literal_separator(true).build() {
                builder.add(glob);
            }
        }
        Scope {
            globs: builder.build().unwrap_or_else(|_| GlobSet::empty()),
        }
    }

    pub fn contains(&self, path: &RepoPath) -> bool {
        self.globs.is_match(path.as_str())
    }
}

/// The first reason `patch` may not be applied by an agent with write `scope`, if any.
pub fn check(patch: &Patch, scope: &Scope) -> Result<(), String> {
    for change in &patch.changes {
        if let Some(why) = protected(&change.path) {
            return Err(format!("`{}` is protected: {why}", change.path));
        }
        if !scope.contains(&change.path) {
            return Err(format!(
                "`{}` is outside the agent's write scope",
                change.path
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> RepoPath {
        RepoPath::new(p).expect("valid path")
    }

    #[test]
    fn protected_paths() {
        for p in [
            "build.rs",
            "crates/x/build.rs",
            "tests/it.rs",
            "crates/x/tests/a.rs",
            ".cargo/config.toml",
            "rust-toolchain.toml",
            ".github/workflows/ci.yml",
            "nova.toml",
        ] {
            assert!(protected(&path(p)).is_some(), "{p}");
        }
        for p in [
            "src/lib.rs",
            "src/tests.rs",
            "crates/x/src/main.rs",
            "lib.rs",
        ] {
            assert!(protected(&path(p)).is_none(), "{p}");
        }
    }

    #[test]
    fn scopes_respect_directories() {
        let scope = Scope::new(&["src/*.rs".into(), "crates/**/*.rs".into()]);
        assert!(scope.contains(&path("src/lib.rs")));
        assert!(!scope.contains(&path("src/a/b.rs")), "`*` stops at `/`");
        assert!(scope.contains(&path("crates/a/src/b.rs")));
        assert!(!scope.contains(&path("examples/a.rs")));
    }
}
