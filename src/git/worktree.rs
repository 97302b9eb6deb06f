//! The validation worktree: a git worktree of the user's repository, detached at the commit being
//! validated, which Nova alone writes to.

use std::path::{Path, PathBuf};

use git2::{Oid, Repository, WorktreeAddOptions, build::CheckoutBuilder};

/// Why the worktree could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum WorktreeError {
    #[error("the repository has no commits yet; commit something first, then run Nova")]
    NoCommits,
    #[error("git: {0}; check that the repository is readable and writable, then run again")]
    Git(#[from] git2::Error),
    #[error("cannot prepare `{}`: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// The tree of commit `commit` in the repository at `root`.
pub fn tree_of(root: &Path, commit: Oid) -> Result<Oid, WorktreeError> {
    Ok(Repository::open(root)?.find_commit(commit)?.tree_id())
}

/// Whether the repository at `root` has commit `commit`.
pub fn has_commit(root: &Path, commit: Oid) -> Result<bool, WorktreeError> {
    Ok(Repository::open(root)?.find_commit(commit).is_ok())
}

/// The commit HEAD points to in the repository at `root`.
pub fn head_commit(root: &Path) -> Result<Oid, WorktreeError> {
    let repo = Repository::open(root)?;
    let head = match repo.head() {
        Ok(head) => head,
        Err(e) if e.code() == git2::ErrorCode::UnbornBranch => {
            return Err(WorktreeError::NoCommits);
        }
        Err(e) => return Err(e.into()),
    };
    Ok(head.peel_to_commit()?.id())
}

/// The text of `path` in `commit`, or `None` if it is not a file there.
pub fn read_blob(root: &Path, commit: Oid, path: &str) -> Result<Option<Vec<u8>>, WorktreeError> {
    let repo = Repository::open(root)?;
    let tree = repo.find_commit(commit)?.tree()?;
    let Ok(entry) = tree.get_path(Path::new(path)) else {
        return Ok(None);
    };
    let object = entry.to_object(&repo)?;
    Ok(object.as_blob().map(|blob| blob.content().to_vec()))
}

/// The blobs at `paths` in `commit`'s tree, in order (`None` where there is none): one opening
/// of the repository for them all.
pub fn read_blobs(
    root: &Path,
    commit: Oid,
    paths: &[&str],
) -> Result<Vec<Option<Vec<u8>>>, WorktreeError> {
    let repo = Repository::open(root)?;
    let tree = repo.find_commit(commit)?.tree()?;
    let mut blobs = Vec::with_capacity(paths.len());
    for path in paths {
        let blob = match tree.get_path(Path::new(path)) {
            Ok(entry) => entry
                .to_object(&repo)?
                .as_blob()
                .map(|blob| blob.content().to_vec()),
            Err(_) => None,
        };
        blobs.push(blob);
    }
    Ok(blobs)
}

/// The first leading part of `path` (`a`, `a/b`, ...) that is a symbolic link in `commit`'s tree,
/// if any: a change "inside" it would be written through the link.
pub fn under_symlink(
    root: &Path,
    commit: Oid,
    path: &str,
) -> Result<Option<String>, WorktreeError> {
    let repo = Repository::open(root)?;
    let tree = repo.find_commit(commit)?.tree()?;
    let mut walked = String::new();
    for part in path.split('/') {
        if !walked.is_empty() {
            walked.push('/');
        }
        walked.push_str(part);
        match tree.get_path(Path::new(&walked)) {
            Ok(entry) if entry.filemode() == i32::from(git2::FileMode::Link) => {
                return Ok(Some(walked));
            }
            Ok(_) => {}
            Err(_) => return Ok(None),
        }
    }
    Ok(None)
}

/// Every file (blob) in `commit`'s tree, by path, sorted; symbolic links and submodules left out.
pub fn tree_files(root: &Path, commit: Oid) -> Result<Vec<String>, WorktreeError> {
    let repo = Repository::open(root)?;
    let tree = repo.find_commit(commit)?.tree()?;
    let mut files = Vec::new();
    tree.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
        let blob = entry.kind() == Some(git2::ObjectType::Blob)
            && entry.filemode() != i32::from(git2::FileMode::Link);
        if blob && let Ok(name) = entry.name() {
            files.push(format!("{dir}{name}"));
        }
        git2::TreeWalkResult::Ok
    })?;
    files.sort();
    Ok(files)
}

/// Which of `paths` have uncommitted changes in the working tree or the index of the repository
/// at `root` (a path git does not know is not changed).
pub fn uncommitted(root: &Path, paths: &[&str]) -> Result<Vec<String>, WorktreeError> {
    let repo = Repository::open(root)?;
    let mut dirty = Vec::new();
    for path in paths {
        let status = match repo.status_file(Path::new(path)) {
            Ok(status) => status,
            Err(error) if error.code() == git2::ErrorCode::NotFound => git2::Status::CURRENT,
            Err(error) => return Err(error.into()),
        };
        if !status.is_empty() && status != git2::Status::CURRENT {
            dirty.push((*path).to_owned());
        }
    }
    Ok(dirty)
}

/// Tracked files that differ between the worktree at `path` and its HEAD, sorted.
pub fn modified_files(path: &Path) -> Result<Vec<String>, WorktreeError> {
    let repo = Repository::open(path)?;
    let mut options = git2::StatusOptions::new();
    options.include_untracked(false).include_ignored(false);
    let statuses = repo.statuses(Some(&mut options))?;
    let mut files: Vec<String> = statuses
        .iter()
        .filter(|entry| entry.status().contains(git2::Status::WT_MODIFIED))
        .filter_map(|entry| entry.path().ok().map(str::to_owned))
        .collect();
    files.sort();
    Ok(files)
}

/// The commit revision `rev` names (any form git accepts: a branch, `HEAD~3`, a commit id), or
/// `None` when git knows no commit by it.
pub fn commit_of(root: &Path, rev: &str) -> Result<Option<Oid>, WorktreeError> {
    let repo = Repository::open(root)?;
    let Ok(object) = repo.revparse_single(rev) else {
        return Ok(None);
    };
    Ok(object.peel_to_commit().ok().map(|commit| commit.id()))
}

/// The paths whose blobs differ between commits `from` and `to` (added, deleted or modified),
/// sorted.
pub fn changed_between(root: &Path, from: Oid, to: Oid) -> Result<Vec<String>, WorktreeError> {
    let repo = Repository::open(root)?;
    let old = repo.find_commit(from)?.tree()?;
    let new = repo.find_commit(to)?.tree()?;
    let diff = repo.diff_tree_to_tree(Some(&old), Some(&new), None)?;
    Ok(paths_of(&diff))
}

/// Every path `diff` adds, changes or deletes (a rename's both names), sorted.
pub(super) fn paths_of(diff: &git2::Diff<'_>) -> Vec<String> {
    let mut paths: Vec<String> = diff
        .deltas()
        .flat_map(|delta| [delta.old_file().path(), delta.new_file().path()])
        .flatten()
        .filter_map(|path| path.to_str().map(str::to_owned))
        .collect();
    paths.sort();
    paths.dedup();
    paths
}

/// A commit of a history walk: its id, its first parent and its message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ancestor {
    pub id: Oid,
    pub parent: Option<Oid>,
    pub message: String,
    /// More than one parent: a merge.
    pub merge: bool,
}

/// `from` and the commits before it along first parents, newest first, at most `depth` of them.
pub fn first_parents(root: &Path, from: Oid, depth: usize) -> Result<Vec<Ancestor>, WorktreeError> {
    let repo = Repository::open(root)?;
    let mut steps = Vec::new();
    let mut next = Some(from);
    while let Some(id) = next
        && steps.len() < depth
    {
        let commit = match repo.find_commit(id) {
            Ok(commit) => commit,
            // A shallow clone's history ends where its objects do.
            Err(_) if !steps.is_empty() => break,
            Err(error) => return Err(error.into()),
        };
        let parent = commit.parent_id(0).ok();
        steps.push(Ancestor {
            id,
            parent,
            message: String::from_utf8_lossy(commit.message_bytes()).into_owned(),
            merge: commit.parent_count() > 1,
        });
        next = parent;
    }
    Ok(steps)
}

/// Per path, the 1-based, inclusive ranges of lines that changed.
pub type ChangedLines = std::collections::BTreeMap<String, Vec<(usize, usize)>>;

/// The lines of each file that changed between revision `rev` (any form git accepts: a branch,
/// `HEAD~3`, a commit id) and the working tree, with the index: per path, the 1-based ranges of
/// new lines (an added file is all new). `None` for `rev` git does not know.
pub fn changed_lines(root: &Path, rev: &str) -> Result<Option<ChangedLines>, WorktreeError> {
    let repo = Repository::open(root)?;
    let Ok(object) = repo.revparse_single(rev) else {
        return Ok(None);
    };
    let tree = object.peel_to_tree()?;
    let mut options = git2::DiffOptions::new();
    options
        .include_untracked(true)
        .recurse_untracked_dirs(true)
        .context_lines(0);
    let diff = repo.diff_tree_to_workdir_with_index(Some(&tree), Some(&mut options))?;
    let mut changed = ChangedLines::new();
    let mut added = Vec::new();
    diff.foreach(
        &mut |delta, _| {
            if let Some(path) = delta.new_file().path().and_then(Path::to_str)
                && matches!(
                    delta.status(),
                    git2::Delta::Added | git2::Delta::Untracked | git2::Delta::Copied
                )
            {
                added.push(path.to_owned());
            }
            true
        },
        None,
        Some(&mut |delta, hunk| {
            if let Some(path) = delta.new_file().path().and_then(Path::to_str)
                && hunk.new_lines() > 0
            {
                let start = hunk.new_start() as usize;
                let end = start + hunk.new_lines() as usize - 1;
                changed
                    .entry(path.to_owned())
                    .or_default()
                    .push((start, end));
            }
            true
        }),
        None,
    )?;
    for path in added {
        changed.insert(path, vec![(1, usize::MAX)]);
    }
    Ok(Some(changed))
}

/// Makes sure a worktree of the repository at `root`, named `name`, exists at `path`, detached at
/// `commit`. A worktree left broken by an earlier run is pruned and made again. No branch of the
/// user's is created or moved.
///
/// The caller holds the run lock (`state::Lock`): no other Nova uses this worktree, so a lock
/// file in its admin directory is one a killed run left (libgit2 writing its `HEAD` or index),
/// and goes.
pub fn ensure_worktree(
    root: &Path,
    path: &Path,
    name: &str,
    commit: Oid,
) -> Result<(), WorktreeError> {
    let repo = Repository::open(root)?;
    remove_stale_branches(&repo, name)?;
    remove_stale_locks(&repo.path().join("worktrees").join(name))?;
    if let Ok(existing) = Repository::open(path)
        && existing.is_worktree()
        && same_repository(&existing, &repo)
    {
        return checkout_detached(path, commit);
    }
    // A stale registration is removed by hand, never with libgit2's prune: in a copied
    // repository the registration points at the original's worktree, and prune follows that
    // worktree's `.git` file back to the original's admin files and deletes them.
    let admin = repo.path().join("worktrees").join(name);
    if admin.exists() {
        std::fs::remove_dir_all(&admin).map_err(|source| WorktreeError::Io {
            path: admin,
            source,
        })?;
    }
    if path.exists() {
        std::fs::remove_dir_all(path).map_err(|source| WorktreeError::Io {
            path: path.to_owned(),
            source,
        })?;
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|source| WorktreeError::Io {
            path: parent.to_owned(),
            source,
        })?;
    }
    // libgit2 checks a worktree out on a branch; give it a throwaway one, then detach.
    let temporary = format!("nova-worktree-{name}-{}", std::process::id());
    let target = repo.find_commit(commit)?;
    let branch = repo.branch(&temporary, &target, true)?;
    let mut options = WorktreeAddOptions::new();
    options.reference(Some(branch.get()));
    let added = repo.worktree(name, path, Some(&options));
    let detached = added.and_then(|_| {
        let worktree = Repository::open(path)?;
        worktree.set_head_detached(commit)
    });
    let mut branch = repo.find_branch(&temporary, git2::BranchType::Local)?;
    branch.delete()?;
    detached?;
    checkout_detached(path, commit)
}

/// Deletes the `*.lock` files under the worktree's admin directory (`.git/worktrees/<name>/`).
fn remove_stale_locks(admin: &Path) -> Result<(), WorktreeError> {
    let mut stack = vec![admin.to_owned()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "lock") {
                std::fs::remove_file(&path).map_err(|source| WorktreeError::Io {
                    path: path.clone(),
                    source,
                })?;
            }
        }
    }
    Ok(())
}

/// Deletes throwaway branches an earlier run left behind if it died while making the worktree.
fn remove_stale_branches(repo: &Repository, name: &str) -> Result<(), WorktreeError> {
    let prefix = format!("nova-worktree-{name}-");
    let mut stale = Vec::new();
    for branch in repo.branches(Some(git2::BranchType::Local))? {
        let (branch, _) = branch?;
        if let Ok(Some(branch_name)) = branch.name()
            && branch_name.starts_with(&prefix)
            && !branch.is_head()
        {
            stale.push(branch_name.to_owned());
        }
    }
    for branch_name in stale {
        let mut branch = repo.find_branch(&branch_name, git2::BranchType::Local)?;
        // nova:allow(ignored-result): a branch checked out in some worktree cannot be deleted; leave it
        let _ = branch.delete();
    }
    Ok(())
}

fn same_repository(worktree: &Repository, repo: &Repository) -> bool {
    let common = worktree.commondir().canonicalize().ok();
    common.is_some() && common == repo.path().canonicalize().ok()
}

/// Checks the worktree at `path` out at `commit`, detached, discarding any change in it and any
/// untracked file (a file a candidate added); ignored files stay.
pub fn checkout_detached(path: &Path, commit: Oid) -> Result<(), WorktreeError> {
    let worktree = Repository::open(path)?;
    super::waiting_on_locks(|| worktree.set_head_detached(commit))?;
    super::waiting_on_locks(|| {
        let mut checkout = CheckoutBuilder::new();
        // Exactly the commit's tree: a file a candidate added goes too (ignored files stay).
        checkout.force().remove_untracked(true);
        worktree.checkout_head(Some(&mut checkout))
    })?;
    Ok(())
}
