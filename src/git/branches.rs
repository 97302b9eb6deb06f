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
    #[error(
        "`{branch}` holds no accepted checkpoint {n} of run {run}; its commits are checkpoints \
         {on}: `nova runs show {run}` lists them all"
    )]
    NotOnBranch {
        branch: String,
        run: String,
        n: usize,
        /// The numbers of the run's checkpoints the branch holds, like `1, 3, 4`.
        on: String,
    },
    #[error("the last commit of `{0}` names no Nova run; drop its commits one at a time instead")]
    NoRun(String),
    #[error("`{branch}` is already at checkpoint {n}: there is nothing to drop")]
    AlreadyThere { branch: String, n: usize },
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
    /// The commits dropped, newest first.
    pub dropped: Vec<Dropped>,
    /// Where the branch points now; `None` when it held no other Nova commit and was deleted.
    pub tip: Option<String>,
}

/// A commit `undo` dropped, and its subject.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dropped {
    pub commit: String,
    pub subject: String,
}

impl Dropped {
    fn of(commit: &Commit<'_>) -> Self {
        Dropped {
            commit: commit.id().to_string(),
            subject: commit.summary().ok().flatten().unwrap_or("").to_owned(),
        }
    }
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
/// the branch to its parent, or deletes it when that leaves no Nova commit on it. With `to`, drops
/// every commit after checkpoint `to` of the run that made the branch's last commit
/// (`refs/nova/runs/<run>/<to>`), which must be one of the branch's own commits. Refuses a branch
/// that was pushed, that is checked out, or whose commits to drop Nova did not make.
pub fn undo(root: &Path, name: Option<&str>, to: Option<usize>) -> Result<Undone, UndoError> {
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
    let target = match to {
        None => tip.parents().next().filter(is_nova),
        Some(n) => Some(checkpoint_on_branch(&repo, &name, &tip, n)?),
    };
    let mut dropped = Vec::new();
    let mut current = tip.clone();
    while target.as_ref().is_none_or(|t| t.id() != current.id()) && is_nova(&current) {
        dropped.push(Dropped::of(&current));
        match current.parents().next() {
            Some(parent) => current = parent,
            None => break,
        }
    }
    let new_tip = match &target {
        Some(target) => {
            let why = format!("nova undo: back to {}", target.id());
            super::waiting_on_locks(|| branch.get_mut().set_target(target.id(), &why).map(drop))?;
            Some(target.id().to_string())
        }
        None => {
            super::waiting_on_locks(|| branch.delete())?;
            None
        }
    };
    Ok(Undone {
        branch: name,
        dropped,
        tip: new_tip,
    })
}

/// Checkpoint `n` of the run that made `tip`, when it is one of the Nova commits that lead to
/// `tip` and not `tip` itself.
fn checkpoint_on_branch<'r>(
    repo: &'r Repository,
    branch: &str,
    tip: &Commit<'r>,
    n: usize,
) -> Result<Commit<'r>, UndoError> {
    let run = tip
        .message()
        .ok()
        .and_then(|m| m.lines().find_map(|l| l.strip_prefix("Nova-Run: ")))
        .map(|run| run.trim().to_owned())
        .ok_or_else(|| UndoError::NoRun(branch.to_owned()))?;
    let mut chain = Vec::new();
    let mut current = tip.clone();
    while is_nova(&current) {
        chain.push(current.id());
        match current.parents().next() {
            Some(parent) => current = parent,
            None => break,
        }
    }
    let prefix = format!("refs/nova/runs/{run}/");
    let mut on: Vec<(usize, Oid)> = Vec::new();
    for reference in repo.references_glob(&format!("{prefix}*"))?.flatten() {
        let number = reference
            .name()
            .ok()
            .and_then(|name| name.strip_prefix(&prefix)?.parse().ok());
        if let (Some(k), Some(id)) = (number, reference.target())
            && chain.contains(&id)
        {
            on.push((k, id));
        }
    }
    on.sort();
    match on.iter().find(|(k, _)| *k == n) {
        Some((_, id)) if *id == tip.id() => Err(UndoError::AlreadyThere {
            branch: branch.to_owned(),
            n,
        }),
        Some((_, id)) => Ok(repo.find_commit(*id)?),
        None => Err(UndoError::NotOnBranch {
            branch: branch.to_owned(),
            run,
            n,
            on: on
                .iter()
                .map(|(k, _)| k.to_string())
                .collect::<Vec<_>>()
                .join(", "),
        }),
    }
}
