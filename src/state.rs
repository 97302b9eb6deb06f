//! Nova's state directory, `.nova/` at the repository root: what lives there, and the
//! `.gitignore` that keeps it out of `git status`.
//!
//! Owns: the layout of `.nova/` (run archive, validation worktree and target dir, index cache,
//! the repository's own agents and config) and its `.gitignore`.
//! Never: writes outside `.nova/`.

use std::path::{Path, PathBuf};

/// Where Nova keeps its state inside a repository.
pub const STATE_DIR: &str = ".nova";

/// `.nova/.gitignore` as `nova init` writes it, to be committed: run state (archive, worktree,
/// target dir) is never committed; the repository's own agents and config are.
pub const STATE_GITIGNORE: &str = "\
# Nova's run state (run archive, event logs, index cache, validation worktree): never commit it.
# The repository's own agents and config are kept.
*
!.gitignore
!config.toml
!agents/
!agents/**
";

/// `.nova/.gitignore` as Nova writes it when it first needs `.nova/` when there is none: the same rules, but it ignores itself
/// too, so that a run leaves `git status` exactly as it was.
const RUN_GITIGNORE: &str = "\
# Written by Nova so that its run state stays out of `git status`; `nova init` keeps it as it is.
*
!config.toml
!agents/
!agents/**
";

/// Creates `.nova/` under `repo_root` if needed and, when it has no `.gitignore`, gives it one
/// that ignores everything Nova writes there. Returns the directory.
pub fn prepare(repo_root: &Path) -> Result<PathBuf, (PathBuf, std::io::Error)> {
    let state = repo_root.join(STATE_DIR);
    std::fs::create_dir_all(&state).map_err(|e| (state.clone(), e))?;
    let gitignore = state.join(".gitignore");
    if !gitignore.exists() {
        std::fs::write(&gitignore, RUN_GITIGNORE).map_err(|e| (gitignore, e))?;
    }
    Ok(state)
}
