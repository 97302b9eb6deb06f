//! `nova bench make`: a task set from a repository at a commit. Defects are seeded in its code
//! (`rules::mutate`), tried in an order the seed alone chooses, and each is proved in the sandbox
//! through the change path: a mutant becomes a task only when every target still builds and some
//! test that passes on the commit then fails, every time it runs (a test that passes on a rerun
//! is flaky, not a check). The tests the mutant breaks are the task's `fail_to_pass`; every test
//! that passes on the commit is its check.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use super::history;
use super::tasks::{FORMAT, Source, Split, Task, TaskSet, assign_splits};
use crate::edit::{FileChange, Patch, RepoPath};
use crate::git::{self, Oid, WorktreeError};
use crate::index::package::{FileKind, file_kind};
use crate::rules::mutate::{self, Mutant};
use crate::validate::{Options, TestOutcome, ValidateError, ValidationReport};

/// What to make a task set from.
#[derive(Debug, Clone)]
pub struct MakeRequest {
    pub repo_root: PathBuf,
    pub commit: Oid,
    pub seed: u64,
    /// Tasks wanted.
    pub count: usize,
    /// Mutants proved at most, kept or not.
    pub tries: usize,
    pub held_out_percent: u8,
    /// Tasks from history wanted: commits that made a failing test pass.
    pub history: usize,
    /// Commits looked at for them, along first parents from `commit`.
    pub depth: usize,
    pub validation: Options,
}

/// What proving one mutant showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tried {
    /// Some tests fail, every time: a task, with them.
    Kept(Vec<String>),
    DoesNotBuild,
    /// It builds and every test still passes: no test catches it.
    NoTestFails,
    /// Only tests that passed when run again failed.
    Flaky,
    /// A test ran until it was stopped: too slow to check.
    Hangs,
    /// `cargo test` did not run to the end, or the change lies where no build compiles it.
    Unproved,
    /// The commit a fix from history made cannot judge: it does not build, or its tests do not
    /// run to the end (an old commit this toolchain no longer builds).
    CannotJudge,
}

impl Tried {
    /// In a few words, for the progress lines.
    pub fn describe(&self) -> String {
        match self {
            Tried::Kept(tests) => format!(
                "kept: {} test{} fail",
                tests.len(),
                if tests.len() == 1 { "" } else { "s" }
            ),
            Tried::DoesNotBuild => String::from("dropped: it does not build"),
            Tried::NoTestFails => String::from("dropped: no test catches it"),
            Tried::Flaky => String::from("dropped: only flaky tests failed"),
            Tried::Hangs => String::from("dropped: a test hangs"),
            Tried::Unproved => String::from("dropped: its tests did not run to the end"),
            Tried::CannotJudge => String::from(
                "dropped: the commit itself does not build, or its tests do not run to the end",
            ),
        }
    }
}

/// What `make` tells as it goes.
#[derive(Debug)]
pub enum Progress<'a> {
    /// Defects found in `files` files, before anything runs.
    Found { files: usize, mutants: usize },
    /// The commit was proved: its tests are the checks.
    Base(&'a ValidationReport),
    /// Mutant `n` of at most `tries` was proved.
    Tried {
        n: usize,
        tries: usize,
        path: &'a str,
        what: String,
        tried: &'a Tried,
        seconds: f64,
    },
    /// `found` of the last `commits` commits changed code and a test file together.
    Fixes { commits: usize, found: usize },
    /// Fix `n` of `of` was proved.
    Fix {
        n: usize,
        of: usize,
        commit: &'a str,
        subject: &'a str,
        tried: &'a Tried,
        seconds: f64,
    },
}

/// A made task set, with what it took.
#[derive(Debug)]
pub struct Made {
    pub set: TaskSet,
    /// Mutants proved.
    pub tried: usize,
    /// Mutants there were to choose from.
    pub mutants: usize,
    /// Commits that changed code and a test file together: fixes there were to choose from.
    pub fixes: usize,
    pub sandbox: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MakeError {
    #[error(transparent)]
    Validate(#[from] ValidateError),
    #[error(transparent)]
    Git(#[from] WorktreeError),
    #[error(
        "commit {commit} cannot judge defects: {why}; fix its build and tests, or make the set \
         at another commit (`--rev`)"
    )]
    Base { commit: String, why: String },
    #[error(
        "commit {0} has no code to seed defects in (Rust files outside tests, benches and \
         examples); make the set from a repository with a library or binary"
    )]
    NoCode(String),
    #[error(
        "commit {0} has no passing test: a defect cannot fail one; make the set from a \
         repository with tests"
    )]
    NoTests(String),
}

/// Makes the task set `request` asks for, telling `progress` as it goes.
pub fn make(
    request: &MakeRequest,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<Made, MakeError> {
    let mut made = Made {
        set: TaskSet {
            format: FORMAT,
            seed: request.seed,
            held_out_percent: request.held_out_percent,
            repository: request.repo_root.clone(),
            passing: BTreeMap::new(),
            tasks: Vec::new(),
        },
        tried: 0,
        mutants: 0,
        fixes: 0,
        sandbox: String::new(),
    };
    if request.count > 0 {
        seed_defects(request, &mut made, progress)?;
    }
    if request.history > 0 {
        from_history(request, &mut made, progress)?;
    }
    assign_splits(&mut made.set.tasks, request.seed, request.held_out_percent);
    Ok(made)
}

/// The mutant tasks: defects tried in the seed's order until `count` are kept or `tries` proved.
fn seed_defects(
    request: &MakeRequest,
    made: &mut Made,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<(), MakeError> {
    let root = &request.repo_root;
    let commit = request.commit;
    let code = seedable(root, commit)?;
    let candidates: Vec<(usize, Mutant)> = code
        .iter()
        .enumerate()
        .flat_map(|(at, (_, text))| mutate::mutants(text).into_iter().map(move |m| (at, m)))
        .collect();
    made.mutants = candidates.len();
    progress(Progress::Found {
        files: code.len(),
        mutants: candidates.len(),
    });
    if candidates.is_empty() {
        return Err(MakeError::NoCode(commit.to_string()));
    }
    let (mut path, base) = super::prover(&request.repo_root, commit, request.validation.clone())?;
    made.sandbox = path.workspace().sandbox().to_owned();
    progress(Progress::Base(&base));
    if !base.can_judge() {
        let why = if base.build_ok {
            "its tests do not run to the end"
        } else {
            "it does not build"
        };
        return Err(MakeError::Base {
            commit: commit.to_string(),
            why: why.to_owned(),
        });
    }
    let passing = passing(&base);
    if passing.is_empty() {
        return Err(MakeError::NoTests(commit.to_string()));
    }
    let (_, worktree) = path.parts();
    worktree.set_step_timeout(defect_bound(&base).min(request.validation.step_timeout));
    worktree.stop_at_hang();
    let mut seen = BTreeSet::new();
    let mut kept = 0;
    for at in interleaved(&candidates, request.seed) {
        if kept >= request.count || made.tried >= request.tries {
            break;
        }
        let (file, mutant) = &candidates[at];
        let (file_path, text) = &code[*file];
        let after = mutant.apply(text);
        if !seen.insert(crate::hash::fnv1a_parts([
            file_path.as_str().as_bytes(),
            after.as_bytes(),
        ])) {
            continue; // the same code as a mutant already tried
        }
        made.tried += 1;
        let candidate = super::to_prove(Patch {
            summary: format!("Seed a defect in {file_path}"),
            changes: vec![FileChange::modify(file_path.clone(), text.as_str(), after)],
        });
        let started = std::time::Instant::now();
        let proof = super::prove_only(&mut path, &candidate)?;
        let outcome = classify(&base, &proof.report, &passing);
        progress(Progress::Tried {
            n: made.tried,
            tries: request.tries,
            path: file_path.as_str(),
            what: mutant.describe(text),
            tried: &outcome,
            seconds: started.elapsed().as_secs_f64(),
        });
        if let Tried::Kept(failing) = outcome {
            kept += 1;
            let source = Source::mutant(file_path.as_str(), mutant);
            let commit = commit.to_string();
            made.set.tasks.push(Task {
                id: Task::id_of(&commit, &source),
                split: Split::Train,
                statement: statement(&proof.report, &failing),
                reference: commit.clone(),
                commit,
                source,
                fail_to_pass: failing,
                unchecked: Vec::new(),
            });
        }
    }
    made.set
        .passing
        .insert(commit.to_string(), passing.into_iter().collect());
    Ok(())
}

/// The history tasks: fixes among `depth` commits, newest first, until `history` are kept.
fn from_history(
    request: &MakeRequest,
    made: &mut Made,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<(), MakeError> {
    let fixes = history::fixes(&request.repo_root, request.commit, request.depth)?;
    made.fixes = fixes.len();
    progress(Progress::Fixes {
        commits: request.depth,
        found: fixes.len(),
    });
    let mut kept = 0;
    for (n, fix) in fixes.iter().enumerate() {
        if kept >= request.history {
            break;
        }
        let history::Proved {
            tried,
            task,
            seconds,
        } = history::prove(&request.repo_root, fix, &request.validation)?;
        let id = fix.commit.id.to_string();
        progress(Progress::Fix {
            n: n + 1,
            of: fixes.len(),
            commit: &id[..10],
            subject: fix.commit.message.lines().next().unwrap_or_default(),
            tried: &tried,
            seconds,
        });
        if let Some((task, passing)) = task {
            kept += 1;
            made.set.passing.insert(task.reference.clone(), passing);
            made.set.tasks.push(task);
        }
    }
    Ok(())
}

/// How long any step may run on a defect: a defect that loops forever stops near what the base's
/// tests took (five times their longest step, at least 20 seconds), not at the user's bound. The
/// base's build is no guide: it was built from nothing, a defect's build is incremental.
fn defect_bound(base: &ValidationReport) -> Duration {
    let tests = base
        .steps
        .iter()
        .filter(|step| step.command.starts_with("cargo test"))
        .map(|step| step.seconds)
        .fold(0.0, f64::max);
    Duration::from_secs_f64((tests * 5.0).max(20.0))
}

/// The order mutants are tried in: the seed's order, dealt by operator in turn, so that a set
/// has every kind of defect and not mostly the most common one (operators replaced).
fn interleaved(candidates: &[(usize, Mutant)], seed: u64) -> Vec<usize> {
    let mut by_operator: BTreeMap<mutate::Operator, std::collections::VecDeque<usize>> =
        BTreeMap::new();
    for at in mutate::shuffled(candidates.len(), seed) {
        by_operator
            .entry(candidates[at].1.operator)
            .or_default()
            .push_back(at);
    }
    let mut order = Vec::with_capacity(candidates.len());
    while order.len() < candidates.len() {
        for queue in by_operator.values_mut() {
            order.extend(queue.pop_front());
        }
    }
    order
}

/// The Rust files of `commit` a defect may be seeded in, with their text: a library's or a
/// binary's code, not tests, benches, examples or build scripts, nor Nova's own state.
fn seedable(root: &std::path::Path, commit: Oid) -> Result<Vec<(RepoPath, String)>, MakeError> {
    let paths: Vec<String> = git::tree_files(root, commit)?
        .into_iter()
        .filter(|path| {
            let parts: Vec<&str> = path.split('/').collect();
            path.ends_with(".rs")
                && !parts
                    .iter()
                    .any(|p| p.starts_with('.') || *p == "examples" || *p == "fuzz")
                && parts.last() != Some(&"build.rs")
                && file_kind(path) != FileKind::Tests
        })
        .collect();
    let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
    let blobs = git::read_blobs(root, commit, &refs)?;
    Ok(paths
        .iter()
        .zip(blobs)
        .filter_map(|(path, blob)| {
            let text = String::from_utf8(blob?).ok()?;
            Some((RepoPath::new(path)?, text))
        })
        .collect())
}

/// The tests that pass on the base, flaky ones left out: the checks.
pub(super) fn passing(base: &ValidationReport) -> BTreeSet<String> {
    base.tests
        .tests
        .iter()
        .filter(|(key, outcome)| {
            **outcome == TestOutcome::Passed && !base.baseline.flaky.contains_key(*key)
        })
        .map(|(key, _)| key.clone())
        .collect()
}

/// What a mutant's report shows against the base's passing tests.
pub(super) fn classify(
    base: &ValidationReport,
    report: &ValidationReport,
    passing: &BTreeSet<String>,
) -> Tried {
    if !report.build_ok {
        return Tried::DoesNotBuild;
    }
    let stopped = report.steps.iter().any(|step| step.stopped.is_some());
    if !report.tests.hung.is_empty() || (!report.tests_ran && stopped) {
        return Tried::Hangs;
    }
    if !report.tests_ran || !report.uncompiled.is_empty() {
        return Tried::Unproved;
    }
    let mut failing = Vec::new();
    let mut flaky = false;
    for key in passing {
        if report.tests.tests.get(key) != Some(&TestOutcome::Failed) {
            continue;
        }
        let passed_again = report
            .reruns
            .get(key)
            .is_some_and(|r| r.passed_on.is_some());
        if passed_again
            || report.baseline.found.contains(key)
            || base.baseline.flaky.contains_key(key)
        {
            flaky = true;
        } else {
            failing.push(key.clone());
        }
    }
    match (failing.is_empty(), flaky) {
        (false, _) => Tried::Kept(failing),
        (true, true) => Tried::Flaky,
        (true, false) => Tried::NoTestFails,
    }
}

/// Tests shown in a statement, at most; the rest are counted.
const SHOWN_TESTS: usize = 3;
/// Lines of each shown test's output.
const SHOWN_LINES: usize = 12;

/// What a user who ran `cargo test` on the defect would write: the failing tests and what they
/// printed, and the request. Nothing of the defect itself.
fn statement(report: &ValidationReport, failing: &[String]) -> String {
    let mut text = String::from(
        "Fix the bug that makes `cargo test` fail on this repository (the tests are right; the \
         code they test is not):\n\n```\n",
    );
    for key in failing.iter().take(SHOWN_TESTS) {
        let name = report.tests.libtest_name(key);
        text.push_str(&format!("---- {name} ----\n"));
        if let Some(output) = report.tests.output.get(key) {
            for line in output
                .lines()
                .filter(|l| !l.trim().is_empty())
                .take(SHOWN_LINES)
            {
                text.push_str(&without_thread_id(line));
                text.push('\n');
            }
        }
    }
    text.push_str("```\n");
    if failing.len() > SHOWN_TESTS {
        text.push_str(&format!(
            "\n{} more tests fail.\n",
            failing.len() - SHOWN_TESTS
        ));
    }
    text
}

/// `thread 'name' (7) panicked at ...` without the `(7)`: which thread a test ran on changes from
/// run to run, and the set must not.
fn without_thread_id(line: &str) -> std::borrow::Cow<'_, str> {
    let Some(rest) = line.strip_prefix("thread '") else {
        return line.into();
    };
    let Some((name, after)) = rest.split_once("' (") else {
        return line.into();
    };
    match after.split_once(") ") {
        Some((id, tail)) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => {
            format!("thread '{name}' {tail}").into()
        }
        _ => line.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_line_loses_its_thread_id_and_nothing_else() {
        assert_eq!(
            without_thread_id("thread 'tests::evens' (7) panicked at src/lib.rs:60:9:"),
            "thread 'tests::evens' panicked at src/lib.rs:60:9:"
        );
        for kept in [
            "thread 'main' panicked at src/lib.rs:1:1:",
            "thread 'a' (x) panicked",
            "  left: 3",
        ] {
            assert_eq!(without_thread_id(kept), kept);
        }
    }
}
