//! Review branches: listing them with where they start and whether they were pushed, and
//! dropping the last Nova commit of one.

use std::path::Path;

use git2::{BranchType, Commit, Oid, Repository};
use serde::Serialize;

use super::commit::EMAIL;

/// One of Nova's review branches (`nova/...`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReviewBranch {
    pub name: String,
    pub tip: String,
    /// The commit the branch starts from: the newest ancestor of its tip not made by Nova.
    pub base: Option<String>,
    /// Nova's commits on it, from the base to the tip.
    pub commits: usize,
    /// Remote-tracking branches of the same name, and whether each holds the tip.
    pub pushed: Vec<Pushed>,
    /// Seconds since the epoch of the tip commit.
    pub time: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Pushed {
    pub remote: String,
    /// The remote branch holds the tip (it is the tip or a descendant of it).
    pub up_to_date: bool,
}

/// Why a commit cannot be dropped.
#[derive(Debug, thiserror::Error)]
pub enum UndoError {
    #[error("there is no review branch `{0}`; `nova branches` lists them")]
    NoBranch(String),
    #[error("there are no review branches")]
    NoBranches,
    #[error(
        "`{branch}` was pushed to `{remote}`: dropping a commit there would rewrite shared history; \
         revert it with a new commit instead"
    )]
    Pushed { branch: String, remote: String },
    #[error(
        "the last commit of `{branch}` ({commit}) was not made by Nova; Nova only drops its own"
    )]
    NotNova { branch: String, commit: String },
    #[error("`{0}` is checked out; switch to another branch first")]
    CheckedOut(String),
    #[error(transparent)]
    Git(#[from] super::Error),
}

impl From<git2::Error> for UndoError {
    fn from(error: git2::Error) -> Self {
        UndoError::Git(error.into())
    }
}

/// What `undo` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Undone {
    pub branch: String,
    /// The commit dropped, and its subject.
    pub dropped: String,
    pub subject: String,
    /// Where the branch points now; `None` when it held no other Nova commit and was deleted.
    pub tip: Option<String>,
}

/// Whether `commit` is one of Nova's: its author and its `Nova-Run` trailer.
fn is_nova(commit: &Commit<'_>) -> bool {
    commit.author().email() == Ok(EMAIL)
        && commit
            .message()
            .is_ok_and(|message| message.contains("\nNova-Run: "))
}

/// Every review branch, newest tip first.
pub fn list(root: &Path) -> Result<Vec<ReviewBranch>, super::Error> {
    let repo = Repository::open(root)?;
    let mut out = Vec::new();
    for branch in repo.branches(Some(BranchType::Local))? {
        let (branch, _) = branch?;
        let Some(name) = branch.name()?.map(str::to_owned) else {
            continue;
        };
        if !name.starts_with("nova/") {
            continue;
        }
        let tip = branch.get().peel_to_commit()?;
        let (base, commits) = base_of(&tip)?;
        out.push(ReviewBranch {
            pushed: pushed(&repo, &name, tip.id())?,
            name,
            tip: tip.id().to_string(),
            base: base.map(|id| id.to_string()),
            commits,
            time: tip.time().seconds(),
        });
    }
    out.sort_by(|a, b| b.time.cmp(&a.time).then_with(|| a.name.cmp(&b.name)));
    Ok(out)
}

/// The newest ancestor of `tip` (first parents) that Nova did not make, and how many Nova
/// commits lead from it to `tip`.
fn base_of(tip: &Commit<'_>) -> Result<(Option<Oid>, usize), git2::Error> {
    let mut current = tip.clone();
    let mut count = 0;
    while is_nova(&current) {
        count += 1;
        match current.parents().next() {
            Some(parent) => current = parent,
            None => return Ok((None, count)),
        }
    }
    Ok((Some(current.id()), count))
}

/// Remote-tracking branches named like `branch`, on any remote.
fn pushed(repo: &Repository, branch: &str, tip: Oid) -> Result<Vec<Pushed>, git2::Error> {
    let mut out = Vec::new();
    for remote in repo.remotes()?.iter().flatten().flatten() {
        let refname = format!("refs/remotes/{remote}/{branch}");
        let Ok(reference) = repo.find_reference(&refname) else {
            continue;
        };
        let Some(target) = reference.target() else {
            continue;
        };
        let up_to_date = target == tip || repo.graph_descendant_of(target, tip)?;
        out.push(Pushed {
            remote: remote.to_owned(),
            up_to_date,
        });
    }
    Ok(out)
}

/// Drops the last commit of review branch `name` (the newest review branch when `None`): moves
/// the branch to its parent, or deletes it when that leaves no Nova commit on it. Refuses a
/// branch that was pushed, that is checked out, or whose last commit Nova did not make.
pub fn undo(root: &Path, name: Option<&str>) -> Result<Undone, UndoError> {
    let name = match name {
        Some(name) => name.to_owned(),
        None => list(root)?
            .into_iter()
            .next()
            .map(|branch| branch.name)
            .ok_or(UndoError::NoBranches)?,
    };
    let repo = Repository::open(root)?;
    let mut branch = repo
        .find_branch(&name, BranchType::Local)
        .map_err(|_| UndoError::NoBranch(name.clone()))?;
    if branch.is_head() {
        return Err(UndoError::CheckedOut(name));
    }
    let tip = branch.get().peel_to_commit()?;
    if let Some(remote) = pushed(&repo, &name, tip.id())?.into_iter().next() {
        return Err(UndoError::Pushed {
            branch: name,
            remote: remote.remote,
        });
    }
    if !is_nova(&tip) {
        return Err(UndoError::NotNova {
            branch: name,
            commit: tip.id().to_string(),
        });
    }
    let subject = tip.summary().ok().flatten().unwrap_or("").to_owned();
    let parent = tip.parents().next();
    let new_tip = match parent {
        Some(parent) if is_nova(&parent) => {
            super::waiting_on_locks(|| {
                branch
                    .get_mut()
                    .set_target(parent.id(), "nova undo: drop the last commit")
                    .map(drop)
            })?;
            Some(parent.id().to_string())
        }
        _ => {
            super::waiting_on_locks(|| branch.delete())?;
            None
        }
    };
    Ok(Undone {
        branch: name,
        dropped: tip.id().to_string(),
        subject,
        tip: new_tip,
    })
}
