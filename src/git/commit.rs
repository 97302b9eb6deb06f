//! Commits built in memory (parent tree plus new file contents) and review branches.

use std::path::Path;

use git2::{FileMode, Oid, Repository, Signature, Time, build::TreeUpdateBuilder};

use crate::edit::RepoPath;

/// Why a branch cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BranchError {
    #[error("`{0}` is not a valid branch name")]
    Invalid(String),
    #[error("branch `{0}` already exists; choose another with `--branch NAME`, or delete it")]
    Exists(String),
    #[error(
        "another program holds a git lock ({0}); Nova waited and left it alone: let that program \
         finish, or remove the stale `.lock` file yourself, then run again"
    )]
    Locked(String),
    #[error("git: {0}; check that the repository is readable and writable, then run again")]
    Git(#[from] git2::Error),
}

/// What a commit says and when.
#[derive(Debug, Clone)]
pub struct CommitSpec<'a> {
    pub parent: Oid,
    pub message: &'a str,
    /// Seconds since the Unix epoch, UTC; the author and committer date.
    pub time: i64,
}

const NAME: &str = "Nova";
pub(super) const EMAIL: &str = "nova@localhost";

/// Builds a commit of `changes` (path, new contents) on top of `spec.parent`, without touching any
/// working tree, index or reference. Returns the commit and its tree.
pub fn commit_changes(
    root: &Path,
    spec: &CommitSpec<'_>,
    changes: &[(&RepoPath, Option<&[u8]>)],
) -> Result<(Oid, Oid), super::Error> {
    let repo = Repository::open(root)?;
    let parent = repo.find_commit(spec.parent)?;
    let base = parent.tree()?;
    let tree = tree_over(&repo, &base, changes)?;
    let tree_id = tree.id();
    let signature = Signature::new(NAME, EMAIL, &Time::new(spec.time, 0))?;
    let commit = repo.commit(
        None,
        &signature,
        &signature,
        spec.message,
        &tree,
        &[&parent],
    )?;
    Ok((commit, tree_id))
}

/// `base` with `changes` (path, new contents; `None` removes) written over it, each changed file
/// keeping its executable bit.
pub(super) fn tree_over<'r>(
    repo: &'r Repository,
    base: &git2::Tree<'_>,
    changes: &[(&RepoPath, Option<&[u8]>)],
) -> Result<git2::Tree<'r>, git2::Error> {
    let mut update = TreeUpdateBuilder::new();
    for (path, contents) in changes {
        let Some(contents) = contents else {
            update.remove(path.as_str());
            continue;
        };
        let blob = repo.blob(contents)?;
        let mode = match base.get_path(Path::new(path.as_str())) {
            Ok(entry) if entry.filemode() == i32::from(FileMode::BlobExecutable) => {
                FileMode::BlobExecutable
            }
            _ => FileMode::Blob,
        };
        update.upsert(path.as_str(), blob, mode);
    }
    repo.find_tree(update.create_updated(repo, base)?)
}

/// The empty tree, written in `repo`.
pub(super) fn empty_tree(repo: &Repository) -> Result<git2::Tree<'_>, git2::Error> {
    repo.find_tree(repo.treebuilder(None)?.write()?)
}

/// Points the private reference `name` at `commit`, waiting briefly for a lock another program
/// holds.
fn set_private_ref(
    repo: &Repository,
    name: &str,
    commit: Oid,
    log: &str,
) -> Result<(), BranchError> {
    super::waiting_on_locks(|| repo.reference(name, commit, true, log)).map_err(
        |error| match error.code() {
            git2::ErrorCode::Locked => BranchError::Locked(error.message().to_owned()),
            _ => BranchError::Git(error),
        },
    )?;
    Ok(())
}

/// Commits the files of `patch` on `spec.parent` (see [`commit_changes`]).
pub fn commit_patch(
    root: &Path,
    spec: &CommitSpec<'_>,
    patch: &crate::edit::Patch,
) -> Result<(Oid, Oid), super::Error> {
    let changes: Vec<(&RepoPath, Option<&[u8]>)> = patch
        .changes
        .iter()
        .map(|c| (&c.path, c.after.as_deref().map(str::as_bytes)))
        .collect();
    commit_changes(root, spec, &changes)
}

/// The review branch a run commits to: `requested`, checked to be a valid name and (unless
/// nothing will be committed) not to exist yet; else `nova/<kind>/<run>`, or the first of
/// `nova/<kind>/<run>-2`, `-3`, ... that does not exist. The caller holds the repository's lock,
/// so no other run picks the same name before this one's first commit makes it.
pub fn review_branch(
    root: &Path,
    requested: Option<&str>,
    kind: &str,
    run: &str,
    dry_run: bool,
) -> Result<String, BranchError> {
    if let Some(branch) = requested {
        valid_branch_name(branch)?;
        if !dry_run && branch_exists(root, branch)? {
            return Err(BranchError::Exists(branch.to_owned()));
        }
        return Ok(branch.to_owned());
    }
    let base = format!("nova/{kind}/{run}");
    valid_branch_name(&base)?;
    let repo = Repository::open(root)?;
    let taken = |name: &str| {
        // A branch, or a directory of branches (`nova/x/1` makes `nova/x/1/...` impossible too).
        repo.find_branch(name, git2::BranchType::Local).is_ok()
            || repo
                .references_glob(&format!("refs/heads/{name}/*"))
                .is_ok_and(|mut refs| refs.next().is_some())
    };
    Ok((1..)
        .map(|n| {
            if n == 1 {
                base.clone()
            } else {
                format!("{base}-{n}")
            }
        })
        .find(|name| dry_run || !taken(name))
        .expect("some suffix is free"))
}

/// Checks that `name` can be a branch name.
pub fn valid_branch_name(name: &str) -> Result<(), BranchError> {
    if git2::Reference::is_valid_name(&format!("refs/heads/{name}")) {
        Ok(())
    } else {
        Err(BranchError::Invalid(name.to_owned()))
    }
}

pub fn branch_exists(root: &Path, name: &str) -> Result<bool, BranchError> {
    let repo = Repository::open(root)?;
    Ok(repo.find_branch(name, git2::BranchType::Local).is_ok())
}

/// Points branch `name` at `commit`, creating it if needed. Refuses to move a branch that is
/// checked out, so the user's current branch is never touched.
pub fn set_branch(root: &Path, name: &str, commit: Oid) -> Result<(), BranchError> {
    let repo = Repository::open(root)?;
    let refname = format!("refs/heads/{name}");
    if let Ok(head) = repo.head()
        && head.name().ok() == Some(refname.as_str())
    {
        return Err(BranchError::Exists(name.to_owned()));
    }
    super::waiting_on_locks(|| repo.reference(&refname, commit, true, "nova: review branch"))
        .map_err(|error| match error.code() {
            git2::ErrorCode::Locked => BranchError::Locked(error.message().to_owned()),
            _ => BranchError::Git(error),
        })?;
    Ok(())
}

/// The private ref a run keeps its `n`th candidate under, accepted or not:
/// `refs/nova/runs/<run>/<n>` (1-based), never a branch, never pushed.
pub fn checkpoint_ref(run: &str, n: usize) -> String {
    format!("refs/nova/runs/{run}/{n}")
}

/// Points the checkpoint of candidate `n` of `run` at `commit`.
pub fn set_checkpoint(root: &Path, run: &str, n: usize, commit: Oid) -> Result<(), BranchError> {
    let repo = Repository::open(root)?;
    set_private_ref(&repo, &checkpoint_ref(run, n), commit, "nova: checkpoint")
}

/// The checkpoints of `run`: each candidate's number and commit, in order.
pub fn checkpoints(root: &Path, run: &str) -> Result<Vec<(usize, String)>, BranchError> {
    let repo = Repository::open(root)?;
    let prefix = format!("refs/nova/runs/{run}/");
    let mut found = Vec::new();
    for reference in repo.references_glob(&format!("{prefix}*"))?.flatten() {
        let (Some(name), Some(target)) = (reference.name().ok(), reference.target()) else {
            continue;
        };
        if let Some(n) = name.strip_prefix(&prefix).and_then(|n| n.parse().ok()) {
            found.push((n, target.to_string()));
        }
    }
    found.sort();
    Ok(found)
}

/// Commits `files` alone (no other file) on `parent` (none: a first commit) and points the private
/// reference `name` (under `refs/nova/`) at it; no branch, index or working tree is touched.
/// Returns the commit.
pub fn commit_files_to_ref(
    root: &Path,
    files: &[(&RepoPath, &str)],
    parent: Option<Oid>,
    spec: (&str, i64),
    name: &str,
) -> Result<Oid, BranchError> {
    debug_assert!(name.starts_with("refs/nova/"), "a private reference");
    let (message, time) = spec;
    let repo = Repository::open(root)?;
    let changes: Vec<(&RepoPath, Option<&[u8]>)> = files
        .iter()
        .map(|(path, text)| (*path, Some(text.as_bytes())))
        .collect();
    let tree = tree_over(&repo, &empty_tree(&repo)?, &changes)?;
    commit_to_ref(&repo, &tree, parent, (message, time), name)
}

/// Commits the tree of commit `of` (the whole of it) on `parent` with `spec`'s message and time
/// under the private reference `name`: a variant of the code, kept in its lineage.
pub fn commit_tree_to_ref(
    root: &Path,
    of: Oid,
    parent: Option<Oid>,
    spec: (&str, i64),
    name: &str,
) -> Result<Oid, BranchError> {
    debug_assert!(name.starts_with("refs/nova/"), "a private reference");
    let (message, time) = spec;
    let repo = Repository::open(root)?;
    let tree = repo.find_commit(of)?.tree()?;
    commit_to_ref(&repo, &tree, parent, (message, time), name)
}

/// Commits `tree` on `parent` with `spec`'s message and time under the private reference `name`.
fn commit_to_ref(
    repo: &Repository,
    tree: &git2::Tree<'_>,
    parent: Option<Oid>,
    (message, time): (&str, i64),
    name: &str,
) -> Result<Oid, BranchError> {
    let signature = Signature::new(NAME, EMAIL, &Time::new(time, 0))?;
    let parents = match parent {
        Some(parent) => vec![repo.find_commit(parent)?],
        None => Vec::new(),
    };
    let parents: Vec<&git2::Commit<'_>> = parents.iter().collect();
    let commit = repo.commit(None, &signature, &signature, message, tree, &parents)?;
    set_private_ref(repo, name, commit, "nova: evolve")?;
    Ok(commit)
}

/// The commit the reference `name` points at, if there is one.
pub fn ref_target(root: &Path, name: &str) -> Result<Option<Oid>, BranchError> {
    let repo = Repository::open(root)?;
    Ok(repo.find_reference(name).ok().and_then(|r| r.target()))
}
