//! Git, through git2: finding the repository, the validation worktree, commits built in memory,
//! and review branches.
//!
//! Owns: every call into libgit2.
//! Never: decides policy, or writes to the user's working tree, index, HEAD or current branch.
//! Commits are built from trees in memory; the only working trees Nova checks out are its own:
//! the validation worktree, and the scratch repositories `nova bench` gives agents.

mod branches;
mod commit;
mod history;
mod push;
pub mod scratch;
mod worktree;

pub use branches::{
    Dropped, Pushed, ReviewBranch, UndoError, Undone, list as review_branches, undo,
};
pub use commit::{
    BranchError, CommitSpec, branch_exists, checkpoint_ref, checkpoints, commit_changes,
    commit_files_to_ref, commit_patch, commit_tree_to_ref, ref_target, review_branch, set_branch,
    set_checkpoint, valid_branch_name,
};
pub use history::{PastChange, recent_changes, recent_changes_from};
pub use push::{PushError, checked_out_branch, push, remote_url};
pub use worktree::{
    Ancestor, ChangedLines, WorktreeError, changed_between, changed_lines, checkout_detached,
    commit_of, ensure_worktree, first_parents, has_commit, head_commit, modified_files, read_blob,
    read_blobs, tree_files, tree_of, uncommitted, under_symlink,
};

/// A commit, tree or blob id: the one type of libgit2's that other modules hold.
pub use git2::Oid;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a lock another program holds (`index.lock`, a ref's `.lock`) is waited on before the
/// failure is reported. Nova never deletes another program's lock.
const LOCK_WAIT: Duration = Duration::from_secs(3);

/// Runs `attempt` until it does not fail on a held lock, or [`LOCK_WAIT`] has passed.
fn waiting_on_locks<T>(
    mut attempt: impl FnMut() -> Result<T, git2::Error>,
) -> Result<T, git2::Error> {
    let started = Instant::now();
    loop {
        match attempt() {
            Err(error)
                if error.code() == git2::ErrorCode::Locked && started.elapsed() < LOCK_WAIT =>
            {
                std::thread::sleep(Duration::from_millis(50));
            }
            result => return result,
        }
    }
}

/// A repository operation libgit2 refused: its object database or references could not be read
/// or written.
#[derive(Debug, thiserror::Error)]
#[error("git: {0}; check that the repository is readable and writable, then run again")]
pub struct Error(#[from] git2::Error);

/// Why no repository could be found.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error(
        "`{}` is not inside a git repository; run Nova inside one, pass `--repo PATH`, or run `git init` first",
        .0.display()
    )]
    NotARepository(PathBuf),
    #[error("`{}` is a bare repository; Nova needs one with a working tree", .0.display())]
    Bare(PathBuf),
    #[error("cannot open the git repository at `{}`: {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: git2::Error,
    },
}

/// The root of the working tree of the repository that holds `start`.
pub fn discover_root(start: &Path) -> Result<PathBuf, GitError> {
    let repo = git2::Repository::discover(start).map_err(|source| match source.code() {
        git2::ErrorCode::NotFound => GitError::NotARepository(start.to_owned()),
        _ => GitError::Open {
            path: start.to_owned(),
            source,
        },
    })?;
    let root = repo
        .workdir()
        .ok_or_else(|| GitError::Bare(repo.path().to_owned()))?;
    Ok(root.canonicalize().unwrap_or_else(|_| root.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_root_from_a_subdirectory() {
        let dir = tempfile::tempdir().expect("tempdir");
        git2::Repository::init(dir.path()).expect("init");
        let sub = dir.path().join("a/b");
        std::fs::create_dir_all(&sub).expect("mkdir");
        let root = discover_root(&sub).expect("inside a repository");
        assert_eq!(root, dir.path().canonicalize().expect("canonical"));
    }

    #[test]
    fn outside_a_repository_says_what_to_do() {
        let dir = tempfile::tempdir().expect("tempdir");
        let error = discover_root(dir.path()).expect_err("no repository");
        assert!(matches!(error, GitError::NotARepository(_)));
        assert!(error.to_string().contains("--repo PATH"));
    }
}
