//! The hidden checks: whether the agents' change solves a task. The tree the checks run on is the
//! task's tree with the agents' change (and, for a task from history, the fix's own test files
//! over it); it is proved through the change path against the task's reference, and the task is
//! solved when every target builds and every test that passes on the reference passes on it (a
//! test flaky there within its reruns). The agents never see any of this.

use std::collections::BTreeSet;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::tasks::{Source, Task, TaskSet};
use crate::edit::{FileChange, Patch, RepoPath};
use crate::git::{self, Oid, WorktreeError};
use crate::orchestrator::ChangePath;
use crate::validate::{Options, TestOutcome, ValidateError, ValidationReport};

/// How a task came out.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub solved: bool,
    /// Every target builds on the checked tree.
    pub builds: bool,
    /// Checks that did not pass (failed, or did not run).
    pub broken: Vec<String>,
    /// Of the task's `fail_to_pass`, those that pass now.
    pub fixed: Vec<String>,
    /// The validation's one-line summary.
    pub summary: String,
    pub seconds: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Validate(#[from] ValidateError),
    #[error(transparent)]
    Git(#[from] WorktreeError),
    #[error("the task set names commit {0}, which its repository does not have")]
    NoCommit(String),
    #[error("`{0}` in the task's tree is not UTF-8 text")]
    Binary(String),
    #[error("the change does not apply to the task's tree: `{0}` is not what it expects")]
    Diverged(String),
    #[error(
        "the reference {0} cannot judge (it does not build, or its tests do not run to the end); \
         make the task set again"
    )]
    Reference(String),
}

/// Proves trees against one reference commit: open it once for every task that shares it.
#[derive(Debug)]
pub struct Checker {
    path: ChangePath,
    reference: String,
}

impl Checker {
    /// The change path at `reference` (its validation from the cache when it has one).
    pub fn open(set: &TaskSet, reference: &str, options: Options) -> Result<Checker, CheckError> {
        let commit = oid(set, reference)?;
        let (path, base) = super::prover(&set.repository, commit, options)?;
        if !base.can_judge() {
            return Err(CheckError::Reference(reference.to_owned()));
        }
        Ok(Checker {
            path,
            reference: reference.to_owned(),
        })
    }

    /// The reference commit this checker proves against.
    pub fn reference(&self) -> &str {
        &self.reference
    }

    /// Scores `change` (made on the task's tree) on `task`, which must have this checker's
    /// reference.
    pub fn check(
        &mut self,
        set: &TaskSet,
        task: &Task,
        change: &Patch,
    ) -> Result<Score, CheckError> {
        debug_assert_eq!(task.reference, self.reference);
        let started = Instant::now();
        if let Some(why) = touches_judges(set, task, change) {
            return Ok(Score {
                solved: false,
                builds: false,
                broken: task
                    .checks(set)
                    .iter()
                    .map(|key| (*key).to_owned())
                    .collect(),
                fixed: Vec::new(),
                summary: why,
                seconds: started.elapsed().as_secs_f64(),
            });
        }
        let patch = checked_tree(set, task, change)?;
        let report = if patch.changes.is_empty() {
            // The reference itself: its own proof.
            self.path.tip().report.clone()
        } else {
            let candidate = super::to_prove(patch);
            let proof = super::prove_only(&mut self.path, &candidate)?;
            proof.report
        };
        Ok(score(set, task, &report, started))
    }
}

/// Why `change` cannot be judged, when it changes what judges it: a file the guard protects
/// (tests, benches, build scripts, lint tables, CI, agent files) or test code inside a source
/// file. The change path refuses these for this build's agents; another build of Nova under
/// evaluation answers to the evaluator alone.
fn touches_judges(set: &TaskSet, task: &Task, change: &Patch) -> Option<String> {
    let read = |path: &str| task_text(set, task, path).ok().flatten();
    change.changes.iter().find_map(|file| {
        let path = file.path.as_str();
        if let Some(why) = crate::edit::guard::protected(file) {
            return Some(format!(
                "the change touches `{path}`, which judges it: {why}"
            ));
        }
        crate::edit::guard::test_code(path, file.before.as_deref(), file.after.as_deref(), &read)
            .map(|line| format!("the change touches test code in `{path}` (line {line})"))
    })
}

/// What `report` says of `task`'s checks.
fn score(set: &TaskSet, task: &Task, report: &ValidationReport, started: Instant) -> Score {
    let passes = |key: &str| match report.tests.tests.get(key) {
        Some(TestOutcome::Passed) => true,
        Some(TestOutcome::Failed) => report
            .reruns
            .get(key)
            .is_some_and(|rerun| rerun.passed_on.is_some()),
        _ => false,
    };
    let ran = report.build_ok && report.tests_ran;
    let checks = task.checks(set);
    let broken: Vec<String> = checks
        .iter()
        .filter(|key| !ran || !passes(key))
        .map(|key| (*key).to_owned())
        .collect();
    let fixed = task
        .fail_to_pass
        .iter()
        .filter(|key| ran && passes(key))
        .cloned()
        .collect();
    Score {
        solved: ran && broken.is_empty() && !checks.is_empty(),
        builds: report.build_ok,
        broken,
        fixed,
        summary: report.summary(),
        seconds: started.elapsed().as_secs_f64(),
    }
}

fn oid(set: &TaskSet, commit: &str) -> Result<Oid, CheckError> {
    let id = Oid::from_str(commit).map_err(|_| CheckError::NoCommit(commit.to_owned()))?;
    if !git::has_commit(&set.repository, id)? {
        return Err(CheckError::NoCommit(commit.to_owned()));
    }
    Ok(id)
}

/// The files of `task`'s tree that differ from its reference's, as the task leaves them: its
/// defect, or the fix's changes not yet made.
fn task_paths(set: &TaskSet, task: &Task) -> Result<BTreeSet<String>, CheckError> {
    Ok(match &task.source {
        Source::Mutant { path, .. } => BTreeSet::from([path.clone()]),
        Source::History { .. } => git::changed_between(
            &set.repository,
            oid(set, &task.commit)?,
            oid(set, &task.reference)?,
        )?
        .into_iter()
        .collect(),
    })
}

/// `path`'s text in `commit`, `None` where it has no such file.
fn text_at(set: &TaskSet, commit: Oid, path: &str) -> Result<Option<String>, CheckError> {
    match git::read_blob(&set.repository, commit, path)? {
        Some(bytes) => String::from_utf8(bytes)
            .map(Some)
            .map_err(|_| CheckError::Binary(path.to_owned())),
        None => Ok(None),
    }
}

/// The task's tree as it is given to the agents, for the files in `paths`: `commit`'s, with the
/// defect seeded.
pub fn task_text(set: &TaskSet, task: &Task, path: &str) -> Result<Option<String>, CheckError> {
    let text = text_at(set, oid(set, &task.commit)?, path)?;
    Ok(match (&task.source, text) {
        (
            Source::Mutant {
                path: seeded,
                start,
                end,
                replacement,
                ..
            },
            Some(text),
        ) if seeded == path => {
            let (Some(before), Some(after)) = (text.get(..*start), text.get(*end..)) else {
                return Err(CheckError::Diverged(path.to_owned()));
            };
            Some(format!("{before}{replacement}{after}"))
        }
        (_, text) => text,
    })
}

/// The change from the reference's tree to the tree the checks run on: the task's tree with
/// `change` made on it and, from history, the fix's test files over it.
pub fn checked_tree(set: &TaskSet, task: &Task, change: &Patch) -> Result<Patch, CheckError> {
    let reference = oid(set, &task.reference)?;
    let mut paths = task_paths(set, task)?;
    paths.extend(change.changes.iter().map(|c| c.path.as_str().to_owned()));
    let tests: BTreeSet<&str> = match &task.source {
        Source::History { test_files, .. } => test_files.iter().map(String::as_str).collect(),
        Source::Mutant { .. } => BTreeSet::new(),
    };
    let mut changes = Vec::new();
    for path in paths {
        let want = text_at(set, reference, &path)?;
        let mut now = task_text(set, task, &path)?;
        if let Some(made) = change.changes.iter().find(|c| c.path.as_str() == path) {
            if made.before != now {
                return Err(CheckError::Diverged(path));
            }
            now.clone_from(&made.after);
        }
        if tests.contains(path.as_str()) {
            now.clone_from(&want);
        }
        if now != want {
            let path = RepoPath::new(&path).ok_or_else(|| CheckError::Diverged(path.clone()))?;
            changes.push(FileChange {
                path,
                before: want,
                after: now,
            });
        }
    }
    Ok(Patch {
        summary: format!("Check task {}", task.id),
        changes,
    })
}
