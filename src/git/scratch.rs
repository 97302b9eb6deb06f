//! Scratch repositories: a repository of its own that borrows the user's objects (git's
//! alternates), where a task's tree is committed with no history and checked out, so that the
//! agents working on it see the tree and nothing of how it was made.

use std::path::Path;

use git2::{BranchType, Oid, Repository, Signature, Time};

use super::WorktreeError;
use crate::edit::RepoPath;

/// The branch a scratch repository's task is on.
const TASK_BRANCH: &str = "task";

/// Makes `scratch` a repository (if it is not one yet) that reads the objects of the repository
/// at `source`.
pub fn prepare(scratch: &Path, source: &Path) -> Result<(), WorktreeError> {
    let repo = match Repository::open(scratch) {
        Ok(repo) => repo,
        Err(_) => Repository::init(scratch)?,
    };
    let objects = Repository::open(source)?.path().join("objects");
    let info = repo.path().join("objects/info");
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| WorktreeError::Io { path, source }
    };
    std::fs::create_dir_all(&info).map_err(io(&info))?;
    let alternates = info.join("alternates");
    let line = format!("{}\n", objects.display());
    if std::fs::read_to_string(&alternates).ok().as_deref() != Some(line.as_str()) {
        std::fs::write(&alternates, line).map_err(io(&alternates))?;
    }
    Ok(())
}

/// Commits `commit`'s tree (a commit of the source repository) with `changes` over it, as a
/// commit with no parent, on the `task` branch of `scratch`, and checks it out there; every other
/// branch is deleted (what an earlier task left). Returns the new commit.
pub fn put_task(
    scratch: &Path,
    commit: Oid,
    changes: &[(RepoPath, Option<String>)],
    message: &str,
) -> Result<Oid, WorktreeError> {
    let repo = Repository::open(scratch)?;
    let base = repo.find_commit(commit)?.tree()?;
    put(&repo, &base, changes, message)
}

/// Commits `files` alone (no other file), as a commit with no parent, on the `task` branch of
/// the repository at `scratch` (made if needed), and checks it out there.
pub fn put_files(
    scratch: &Path,
    files: &[(RepoPath, Option<String>)],
    message: &str,
) -> Result<Oid, WorktreeError> {
    let repo = match Repository::open(scratch) {
        Ok(repo) => repo,
        Err(_) => Repository::init(scratch)?,
    };
    let empty = super::commit::empty_tree(&repo)?;
    put(&repo, &empty, files, message)
}

fn put(
    repo: &Repository,
    base: &git2::Tree<'_>,
    changes: &[(RepoPath, Option<String>)],
    message: &str,
) -> Result<Oid, WorktreeError> {
    let changes: Vec<(&RepoPath, Option<&[u8]>)> = changes
        .iter()
        .map(|(path, text)| (path, text.as_deref().map(str::as_bytes)))
        .collect();
    let tree = super::commit::tree_over(repo, base, &changes)?;
    let signature = Signature::new("Nova", super::commit::EMAIL, &Time::new(0, 0))?;
    let task = repo.commit(None, &signature, &signature, message, &tree, &[])?;
    repo.reference(
        &format!("refs/heads/{TASK_BRANCH}"),
        task,
        true,
        "nova bench: the task",
    )?;
    repo.set_head(&format!("refs/heads/{TASK_BRANCH}"))?;
    let mut checkout = git2::build::CheckoutBuilder::new();
    checkout.force();
    repo.checkout_head(Some(&mut checkout))?;
    let mut stale = Vec::new();
    for branch in repo.branches(Some(BranchType::Local))? {
        let (branch, _) = branch?;
        if branch.name()?.is_some_and(|name| name != TASK_BRANCH) {
            stale.push(branch);
        }
    }
    for mut branch in stale {
        branch.delete()?;
    }
    Ok(task)
}
