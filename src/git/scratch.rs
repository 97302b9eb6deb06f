//! Scratch repositories: a repository of its own, where a task's tree is committed with no
//! history and checked out, so that the agents working on it see the tree and nothing of how it
//! was made. It borrows nothing: the tree's objects are copied in, so that what works there (a
//! build of Nova under evaluation) can be given the scratch repository and nothing of the
//! user's, whose object store may hold the task set itself.

use std::path::Path;

use git2::{BranchType, ObjectType, Odb, Oid, Repository, Signature, Time};

use super::WorktreeError;
use crate::edit::RepoPath;

/// The branch a scratch repository's task is on.
const TASK_BRANCH: &str = "task";

/// Makes `scratch` a repository (if it is not one yet). The caller holds the source repository's
/// lock, which is the scratch repository's too: a git lock file found there was left by a run
/// that was killed, and is removed, as are the alternates an older Nova borrowed the source's
/// objects by.
pub fn prepare(scratch: &Path) -> Result<(), WorktreeError> {
    let repo = match Repository::open(scratch) {
        Ok(repo) => repo,
        Err(_) => Repository::init(scratch)?,
    };
    remove_stale_locks(repo.path())?;
    let alternates = repo.path().join("objects/info/alternates");
    if alternates.exists() {
        std::fs::remove_file(&alternates).map_err(|source| WorktreeError::Io {
            path: alternates.clone(),
            source,
        })?;
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

/// Commits `commit`'s tree (a commit of the repository at `source`, its objects copied in) with
/// `changes` over it, as a commit with no parent, on the `task` branch of `scratch`, and checks it
/// out there; every other branch is deleted (what an earlier task left). Returns the new commit.
pub fn put_task(
    scratch: &Path,
    source: &Path,
    commit: Oid,
    changes: &[(RepoPath, Option<String>)],
    message: &str,
) -> Result<Oid, WorktreeError> {
    let repo = Repository::open(scratch)?;
    let from = Repository::open(source)?;
    let tree = from.find_commit(commit)?.tree_id();
    copy_tree(&from, &repo.odb()?, tree)?;
    let base = repo.find_tree(tree)?;
    put(&repo, &base, changes, message)
}

/// Copies the tree `tree` of `from`, with every tree and blob beneath it, into `to`: what is
/// there already is not copied again. Submodules' commits are not followed.
fn copy_tree(from: &Repository, to: &Odb<'_>, tree: Oid) -> Result<(), WorktreeError> {
    let odb = from.odb()?;
    let copy = |id: Oid| -> Result<(), WorktreeError> {
        if !to.exists(id) {
            let object = odb.read(id)?;
            to.write(object.kind(), object.data())?;
        }
        Ok(())
    };
    let mut pending = vec![tree];
    while let Some(id) = pending.pop() {
        // A tree is looked into even when it is there: a copy cut short leaves trees whose
        // blobs are missing.
        for entry in from.find_tree(id)?.iter() {
            match entry.kind() {
                Some(ObjectType::Tree) => pending.push(entry.id()),
                Some(ObjectType::Blob) => copy(entry.id())?,
                _ => {}
            }
        }
        copy(id)?;
    }
    Ok(())
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
        prepare(&scratch).expect("prepare");
        put_task(&scratch, &source, commit, &[], "first").expect("a first task");
        let git = scratch.join(".git");
        std::fs::write(git.join("HEAD.lock"), "").expect("lock");
        std::fs::write(git.join("refs/heads/task.lock"), "").expect("lock");
        assert!(put_task(&scratch, &source, commit, &[], "locked").is_err());

        prepare(&scratch).expect("prepare again");
        assert!(!git.join("HEAD.lock").exists());
        assert!(!git.join("refs/heads/task.lock").exists());
        put_task(&scratch, &source, commit, &[], "second").expect("the next task");
    }

    #[test]
    fn the_scratch_repository_holds_the_task_s_tree_and_no_other_object_of_the_source() {
        let dir = tempfile::tempdir().expect("temp dir");
        let source = dir.path().join("source");
        let repo = Repository::init(&source).expect("init");
        let who = Signature::new("t", "t@example.com", &Time::new(0, 0)).expect("signature");
        let blob = |text: &str| repo.blob(text.as_bytes()).expect("blob");
        let (kept, secret) = (blob("fn main() {}\n"), blob("{\"fail_to_pass\": []}\n"));
        let mut inner = repo.treebuilder(None).expect("builder");
        inner.insert("main.rs", kept, 0o100_644).expect("insert");
        let inner = inner.write().expect("tree");
        let mut root = repo.treebuilder(None).expect("builder");
        root.insert("src", inner, 0o040_000).expect("insert");
        let tree = repo.find_tree(root.write().expect("tree")).expect("tree");
        let commit = repo
            .commit(None, &who, &who, "code", &tree, &[])
            .expect("commit");
        let scratch = dir.path().join("scratch");
        prepare(&scratch).expect("prepare");
        // Left by an older Nova, which borrowed the source's objects.
        let info = scratch.join(".git/objects/info");
        std::fs::write(
            info.join("alternates"),
            format!("{}\n", repo.path().join("objects").display()),
        )
        .expect("alternates");
        prepare(&scratch).expect("prepare again");
        assert!(!info.join("alternates").exists());

        let task = put_task(&scratch, &source, commit, &[], "the task").expect("task");
        let theirs = Repository::open(&scratch).expect("scratch");
        assert!(theirs.find_commit(task).is_ok());
        assert_eq!(
            std::fs::read_to_string(scratch.join("src/main.rs")).expect("checked out"),
            "fn main() {}\n"
        );
        let odb = theirs.odb().expect("odb");
        assert!(odb.exists(kept));
        assert!(
            !odb.exists(secret),
            "a blob outside the task's tree was copied"
        );
        assert!(!odb.exists(commit), "the source's commit was copied");
    }
}
