//! `apply`: take a reply (from a model, a chat window or a colleague), apply its edits to the
//! current commit, prove the result in the validation worktree, and commit it on a review branch;
//! optionally write it into the user's working tree too.

use std::cell::RefCell;
use std::path::PathBuf;

use super::change::{self, Author, Candidate, CommitError, Origin, Target};
use super::clock::stamp;
use crate::edit::apply as edits;
use crate::edit::guard::Rejection;
use crate::edit::reply::{self, ParseError};
use crate::edit::{FileChange, Patch};
use crate::git::{self, BranchError};
use crate::validate::{Options, ValidateError, ValidationReport, Verdict, write_change};

/// What to apply, and how.
#[derive(Debug, Clone)]
pub struct ApplyRequest {
    pub repo_root: PathBuf,
    pub reply: String,
    /// The review branch; default `nova/apply/<YYYYMMDD-HHMMSS>`.
    pub branch: Option<String>,
    /// Validate, but commit nothing.
    pub dry_run: bool,
    /// Also write the validated change into the working tree.
    pub to_worktree: bool,
    /// A whole-file rewrite was asked for: shrinking files is expected.
    pub rewrite: bool,
    pub validation: Options,
    /// Refuse a base with any failing or flaky test (`--require-green`).
    pub require_green: bool,
    /// Seconds since the epoch: the clock, or `SOURCE_DATE_EPOCH`.
    pub time: i64,
}

/// How an apply ended.
#[derive(Debug, Clone, Default)]
pub struct ApplyOutcome {
    pub patch: Option<Patch>,
    /// The base cannot judge the change (it does not build, or its tests do not run to the end),
    /// or it has failing or flaky tests and a green one was required: nothing was tried.
    pub base_failed: bool,
    /// The base's report, when it was validated: its already-failing and flaky tests.
    pub base: Option<ValidationReport>,
    pub report: Option<ValidationReport>,
    pub verdict: Option<Verdict>,
    pub branch: Option<String>,
    pub commit: Option<String>,
    /// Files written into the working tree (with `to_worktree`).
    pub written: Vec<String>,
    /// Files with uncommitted changes that kept `to_worktree` from writing anything.
    pub dirty: Vec<String>,
    pub sandbox: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("the reply cannot be read: {0}")]
    Parse(#[from] ParseError),
    #[error(
        "the reply holds no edits: give SEARCH/REPLACE blocks under a path line, a unified diff, \
         a `*** Begin Patch` block, or a whole file in a fence under its path"
    )]
    Empty,
    #[error("the reply does not apply, so nothing was changed: {0}")]
    Apply(#[from] edits::ApplyError),
    #[error("`{0}` is not UTF-8 text; Nova edits text files only")]
    Binary(String),
    #[error("the reply was turned away, so nothing was changed:\n{}", list(.0))]
    Rejected(Vec<Rejection>),
    #[error("`{0}` is not a Cargo project (no Cargo.toml at its root)")]
    NotCargo(PathBuf),
    #[error(transparent)]
    Worktree(#[from] git::WorktreeError),
    #[error(transparent)]
    Validate(#[from] ValidateError),
    #[error(transparent)]
    Branch(#[from] BranchError),
    #[error(transparent)]
    Git(#[from] git::Error),
    #[error("cannot write `{}` into the working tree: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ApplyError {
    /// Whether the reply itself is at fault (exit 1) rather than the machine (exit 3) or the
    /// arguments (exit 2).
    pub fn is_reply(&self) -> bool {
        matches!(
            self,
            ApplyError::Parse(_)
                | ApplyError::Empty
                | ApplyError::Apply(_)
                | ApplyError::Binary(_)
                | ApplyError::Rejected(_)
        )
    }
}

impl From<CommitError> for ApplyError {
    fn from(error: CommitError) -> Self {
        match error {
            CommitError::Git(error) => ApplyError::Git(error),
            CommitError::Branch(error) => ApplyError::Branch(error),
            CommitError::Validate(error) => ApplyError::Validate(error),
        }
    }
}

fn list(rejections: &[Rejection]) -> String {
    rejections
        .iter()
        .map(|r| format!("  {r}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A reply's edits, applied in memory to the commit `HEAD` was at.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub patch: Patch,
    /// The commit the patch applies to: `HEAD` when the reply was read.
    pub base: git::Oid,
    rewrite: bool,
}

impl Prepared {
    fn candidate(&self) -> Candidate {
        Candidate {
            patch: self.patch.clone(),
            author: Author::Person {
                rewrite: self.rewrite,
            },
            origin: Origin::Reply,
            message: None,
        }
    }
}

/// Reads the request's reply, applies its edits to `HEAD` in memory and guards the result: the
/// patch to validate, or why there is none (the reply's fault). Touches nothing: not `.nova/`,
/// not the sandbox.
pub fn prepare(request: &ApplyRequest) -> Result<Prepared, ApplyError> {
    let root = &request.repo_root;
    if !root.join("Cargo.toml").is_file() {
        return Err(ApplyError::NotCargo(root.clone()));
    }
    let parsed = reply::parse(&request.reply)?;
    if parsed.is_empty() {
        return Err(ApplyError::Empty);
    }
    let base = git::head_commit(root)?;
    let binary = RefCell::new(None);
    let read = |path: &str| -> Option<String> {
        let bytes = git::read_blob(root, base, path).ok()??;
        String::from_utf8(bytes)
            .map_err(|_| *binary.borrow_mut() = Some(path.to_owned()))
            .ok()
    };
    let changes = edits::apply(&parsed, &read);
    if let Some(path) = binary.into_inner() {
        return Err(ApplyError::Binary(path));
    }
    let prepared = Prepared {
        patch: to_patch(changes?),
        base,
        rewrite: request.rewrite,
    };
    let rejections = change::guard(root, base, &prepared.candidate());
    if !rejections.is_empty() {
        return Err(ApplyError::Rejected(rejections));
    }
    Ok(prepared)
}

/// Validates the patch (from [`prepare`]) against the commit it was made on and commits it, on
/// the same change path as every candidate. `lock` is this repository's: the caller takes it
/// first.
pub fn apply(
    request: &ApplyRequest,
    prepared: Prepared,
    lock: &crate::state::Lock,
) -> Result<ApplyOutcome, ApplyError> {
    debug_assert_eq!(lock.root(), request.repo_root.as_path());
    let root = &request.repo_root;
    let run = stamp(request.time);
    let branch = git::review_branch(
        root,
        request.branch.as_deref(),
        "apply",
        &run,
        request.dry_run,
    )?;
    let candidate = prepared.candidate();
    let mut outcome = ApplyOutcome {
        patch: Some(candidate.patch.clone()),
        ..ApplyOutcome::default()
    };
    let target = Target {
        branch,
        dry_run: request.dry_run,
        run,
        time: request.time,
    };
    // A dry run makes the commit too (objects only, no branch), as `improve` does.
    let landing = change::land(
        root,
        prepared.base,
        &candidate,
        request.validation.clone(),
        target,
        request.require_green,
    )?;
    outcome.sandbox = landing.sandbox;
    outcome.base_failed = landing.proof.is_none();
    outcome.base = Some(landing.base);
    if let Some(proof) = landing.proof {
        outcome.report = Some(proof.report);
        outcome.verdict = Some(proof.verdict);
    }
    if let Some(committed) = landing.committed
        && committed.branch.is_some()
    {
        outcome.commit = Some(committed.commit.to_string());
        outcome.branch = committed.branch;
        if request.to_worktree {
            write_to_worktree(root, &candidate.patch, &mut outcome)?;
        }
    }
    Ok(outcome)
}

fn to_patch(changes: Vec<FileChange>) -> Patch {
    let paths: Vec<&str> = changes.iter().map(|c| c.path.as_str()).collect();
    let summary = match paths.as_slice() {
        [one] => format!("Apply a reply to {one}"),
        many => format!("Apply a reply to {} files", many.len()),
    };
    Patch { summary, changes }
}

/// Writes the validated files into the user's working tree, but only when none of them has
/// uncommitted changes (in the working tree or the index); otherwise writes nothing and names
/// them.
fn write_to_worktree(
    root: &std::path::Path,
    patch: &Patch,
    outcome: &mut ApplyOutcome,
) -> Result<(), ApplyError> {
    let paths: Vec<&str> = patch.changes.iter().map(|c| c.path.as_str()).collect();
    outcome.dirty = git::uncommitted(root, &paths)?;
    if !outcome.dirty.is_empty() {
        return Ok(());
    }
    for change in &patch.changes {
        write_change(root, change).map_err(|(path, source)| ApplyError::Write { path, source })?;
        outcome.written.push(change.path.to_string());
    }
    Ok(())
}
