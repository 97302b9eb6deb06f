//! Tasks from history: a commit that changed code and a test file together, where the test files
//! as the commit left them fail on the code before it. The task's tree is the parent's, its
//! statement the commit's message, and its checks run with the commit's test files over the
//! agents' tree: every test that passes on the commit and exists there must pass.

use std::collections::BTreeSet;
use std::time::Instant;

use super::make::{MakeError, Tried, classify, passing};
use super::tasks::{Source, Split, Task};
use crate::edit::{FileChange, Patch, RepoPath};
use crate::git::{self, Ancestor, Oid};
use crate::index::package::{FileKind, file_kind};
use crate::validate::Options;

/// A fix from history that may make a task: its commit, and what it changed.
#[derive(Debug, Clone)]
pub struct Fix {
    pub commit: Ancestor,
    pub parent: Oid,
    /// Test files (`tests/`, `benches/`) the commit changed: the hidden checks' files.
    pub test_files: Vec<String>,
    /// Every other file it changed: what the agents must redo.
    pub code_files: Vec<String>,
}

/// The commits among `depth` first parents of `from` that changed Rust code and a test file
/// together, newest first: the only ones that can make a task.
pub fn fixes(root: &std::path::Path, from: Oid, depth: usize) -> Result<Vec<Fix>, MakeError> {
    let mut found = Vec::new();
    for commit in git::first_parents(root, from, depth)? {
        let Some(parent) = commit.parent.filter(|_| !commit.merge) else {
            continue;
        };
        let (test_files, code_files): (Vec<String>, Vec<String>) =
            git::changed_between(root, parent, commit.id)?
                .into_iter()
                .partition(|path| path.ends_with(".rs") && file_kind(path) == FileKind::Tests);
        if test_files.is_empty() || !code_files.iter().any(|path| path.ends_with(".rs")) {
            continue;
        }
        found.push(Fix {
            commit,
            parent,
            test_files,
            code_files,
        });
    }
    Ok(found)
}

/// What proving a fix showed, the task it made with the tests that pass on the fix (the
/// reference's), and how long it took.
#[derive(Debug)]
pub struct Proved {
    pub tried: Tried,
    pub task: Option<(Task, Vec<String>)>,
    pub seconds: f64,
}

/// Proves `fix`: its commit, then its parent's code with the commit's test files. A task when
/// the commit can judge and some test passing on it then fails, every time; with the tests that
/// pass on the commit, its checks.
pub fn prove(root: &std::path::Path, fix: &Fix, options: &Options) -> Result<Proved, MakeError> {
    let started = Instant::now();
    let (mut path, base) = super::prover(root, fix.commit.id, options.clone())?;
    if !base.can_judge() {
        return Ok(Proved {
            tried: Tried::CannotJudge,
            task: None,
            seconds: started.elapsed().as_secs_f64(),
        });
    }
    let mut changes = Vec::new();
    for file in &fix.code_files {
        let text = |commit| -> Result<Option<String>, MakeError> {
            Ok(git::read_blob(root, commit, file)?.and_then(|bytes| String::from_utf8(bytes).ok()))
        };
        let (now, before) = (text(fix.commit.id)?, text(fix.parent)?);
        let Some(path) = RepoPath::new(file) else {
            continue;
        };
        if now != before {
            changes.push(FileChange {
                path,
                before: now,
                after: before,
            });
        }
    }
    let candidate = super::to_prove(Patch {
        summary: format!("Take back the code of {}", fix.commit.id),
        changes,
    });
    let proof = super::prove_only(&mut path, &candidate)?;
    let stable = passing(&base);
    let tried = classify(&base, &proof.report, &stable);
    let seconds = started.elapsed().as_secs_f64();
    let Tried::Kept(failing) = &tried else {
        return Ok(Proved {
            tried,
            task: None,
            seconds,
        });
    };
    let present: BTreeSet<&String> = proof.report.tests.tests.keys().collect();
    let unchecked = stable
        .iter()
        .filter(|key| !present.contains(key))
        .cloned()
        .collect();
    let source = Source::History {
        fix: fix.commit.id.to_string(),
        test_files: fix.test_files.clone(),
    };
    let commit = fix.parent.to_string();
    let task = Task {
        id: Task::id_of(&commit, &source),
        split: Split::Train,
        commit,
        source,
        statement: fix.commit.message.trim().to_owned() + "\n",
        reference: fix.commit.id.to_string(),
        fail_to_pass: failing.clone(),
        unchecked,
    };
    Ok(Proved {
        tried,
        task: Some((task, stable.into_iter().collect())),
        seconds,
    })
}
