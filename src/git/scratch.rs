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
/// at `source`. The caller holds the source repository's lock, which is the scratch repository's
/// too: a git lock file found there was left by a run that was killed, and is removed.
pub fn prepare(scratch: &Path, source: &Path) -> Result<(), WorktreeError> {
    let repo = match Repository::open(scratch) {
        Ok(repo) => repo,
        Err(_) => Repository::init(scratch)?,
    };
    remove_stale_locks(repo.path())?;
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

/// Removes every `*.lock` file of the git directory `dir`: `HEAD.lock`, `index.lock`, a branch's.
fn remove_stale_locks(dir: &Path) -> Result<(), WorktreeError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| WorktreeError::Io { path, source }
    };
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).map_err(io(&dir))? {
            let path = entry.map_err(io(&dir))?.path();
            if path.is_dir() {
                // Objects are never locked by name; the rest is small.
                if !path.ends_with("objects") {
                    pending.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "lock") {
                std::fs::remove_file(&path).map_err(io(&path))?;
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lock_a_killed_run_left_is_removed_and_the_next_task_goes_in() {
        let dir = tempfile::tempdir().expect("temp dir");
        let source = dir.path().join("source");
        let repo = Repository::init(&source).expect("init");
        let tree = repo
            .treebuilder(None)
            .expect("builder")
            .write()
            .expect("tree");
        let tree = repo.find_tree(tree).expect("tree");
        let who = Signature::new("t", "t@example.com", &Time::new(0, 0)).expect("signature");
        let commit = repo
            .commit(None, &who, &who, "empty", &tree, &[])
            .expect("commit");
        let scratch = dir.path().join("scratch");
        prepare(&scratch, &source).expect("prepare");
        put_task(&scratch, commit, &[], "first").expect("a first task");
        let git = scratch.join(".git");
        std::fs::write(git.join("HEAD.lock"), "").expect("lock");
        std::fs::write(git.join("refs/heads/task.lock"), "").expect("lock");
        assert!(put_task(&scratch, commit, &[], "locked").is_err());

        prepare(&scratch, &source).expect("prepare again");
        assert!(!git.join("HEAD.lock").exists());
        assert!(!git.join("refs/heads/task.lock").exists());
        put_task(&scratch, commit, &[], "second").expect("the next task");
    }
}
