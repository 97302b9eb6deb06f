//! `nova bench run`: an agent set on tasks. Each task's tree is committed, with no history, in a
//! scratch repository of its own; a [`Worker`] (this build's agents, or another build of Nova)
//! gets the task's statement there as `nova ask` would (routed, with its tools, its change proved
//! by the change path and committed on a branch of the scratch repository). What it committed is
//! then proved under the task's hidden checks by the frozen evaluator, in the user's repository's
//! own validation worktree, which the agents never see.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::check::{CheckError, Checker, Score, task_text};
use super::frozen::Evaluator;
use super::tasks::{Source, Split, Task};
use super::worker::{Assignment, Worker};
use crate::edit::{FileChange, Patch, RepoPath};
use crate::git::{self, Oid, WorktreeError};
use crate::orchestrator::AskError;
use crate::validate::Options;

/// The tasks to run, and where.
#[derive(Debug)]
pub struct RunRequest<'a> {
    pub evaluator: &'a Evaluator,
    pub tasks: Vec<&'a Task>,
    /// The agent set's name in the results.
    pub label: String,
    /// How the evaluator proves trees.
    pub validation: Options,
    /// The scratch repository the agents work in.
    pub scratch: PathBuf,
}

/// How one task went.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskRun {
    pub task: String,
    pub split: Split,
    /// The agent that ended the run (routed to, or handed to).
    pub agent: String,
    pub score: Score,
    /// Whether the agents' change passed the change path and was committed.
    pub landed: bool,
    pub turns: u32,
    pub tokens: u64,
    pub cost_usd: Option<f64>,
    /// The agents' time, and the checks'.
    pub seconds: f64,
    /// Why nothing was checked, or what stopped the agents.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// What `run` tells as it goes.
#[derive(Debug)]
pub enum RunProgress<'a> {
    Started {
        n: usize,
        of: usize,
        task: &'a Task,
    },
    Finished {
        n: usize,
        of: usize,
        result: &'a TaskRun,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Check(#[from] CheckError),
    #[error(transparent)]
    Git(#[from] WorktreeError),
    /// The model or the configuration failed: no task can be run, so none is scored.
    #[error(transparent)]
    Ask(AskError),
    /// The build of Nova under evaluation could not work at all (bad arguments, no model, no
    /// sandbox): no task can be run.
    #[error("{0}")]
    Build(String),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot prepare `{}` for the build: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Runs `request`'s tasks, one after another, each worked on by `worker`, telling `progress`.
pub fn run(
    request: &RunRequest<'_>,
    worker: &dyn Worker,
    progress: &mut dyn FnMut(RunProgress<'_>),
) -> Result<Vec<TaskRun>, RunError> {
    let set = &request.evaluator.set;
    git::scratch::prepare(&request.scratch)?;
    // One checker at a time: they share the repository's validation worktree.
    let mut checker: Option<Checker> = None;
    let mut results = Vec::new();
    let of = request.tasks.len();
    for (at, task) in request.tasks.iter().enumerate() {
        progress(RunProgress::Started {
            n: at + 1,
            of,
            task,
        });
        let started = Instant::now();
        let start = put_task(request, task)?;
        let worked = worker.work(&Assignment {
            task: &task.id,
            label: &request.label,
            scratch: &request.scratch,
            start,
            statement: &task.statement,
            branch: format!("nova/bench/{}", task.id),
            trailers: vec![format!("Nova-Evaluator: {}", request.evaluator.hash)],
        })?;
        let change = match worked.landed {
            Some(landed) => committed(&request.scratch, start, landed)?,
            None => Patch::default(),
        };
        if checker
            .as_ref()
            .is_none_or(|c| c.reference() != task.reference)
        {
            // The old one lets go of the worktree before the new one checks it out.
            drop(checker.take());
            checker = Some(Checker::open(
                set,
                &task.reference,
                request.validation.clone(),
            )?);
        }
        let Some(checker) = checker.as_mut() else {
            continue;
        };
        let score = checker.check(set, task, &change)?;
        let result = TaskRun {
            task: task.id.clone(),
            split: task.split,
            agent: worked.agent,
            score,
            landed: worked.landed.is_some(),
            turns: worked.turns,
            tokens: worked.tokens,
            cost_usd: worked.cost_usd,
            seconds: started.elapsed().as_secs_f64(),
            note: worked.note,
        };
        progress(RunProgress::Finished {
            n: at + 1,
            of,
            result: &result,
        });
        results.push(result);
    }
    Ok(results)
}

/// Puts `task`'s tree (its commit's, with its defect seeded) in the scratch repository: the
/// commit it starts from.
fn put_task(request: &RunRequest<'_>, task: &Task) -> Result<Oid, RunError> {
    let set = &request.evaluator.set;
    let mut seeded = Vec::new();
    if let Source::Mutant { path, .. } = &task.source
        && let Some(repo_path) = RepoPath::new(path)
    {
        seeded.push((repo_path, task_text(set, task, path)?));
    }
    let commit =
        Oid::from_str(&task.commit).map_err(|_| CheckError::NoCommit(task.commit.clone()))?;
    Ok(git::scratch::put_task(
        &request.scratch,
        &set.repository,
        commit,
        &seeded,
        "The task's tree\n",
    )?)
}

/// The change from `from` to `to` in the scratch repository, file by file.
fn committed(scratch: &std::path::Path, from: Oid, to: Oid) -> Result<Patch, RunError> {
    let mut changes = Vec::new();
    for path in git::changed_between(scratch, from, to)? {
        let text = |commit| -> Result<Option<String>, RunError> {
            Ok(git::read_blob(scratch, commit, &path)?
                .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
        };
        let Some(repo_path) = RepoPath::new(&path) else {
            continue;
        };
        changes.push(FileChange {
            path: repo_path,
            before: text(from)?,
            after: text(to)?,
        });
    }
    Ok(Patch {
        summary: String::from("The agents' change"),
        changes,
    })
}

/// The solved rate of `results` per split, for summaries: (solved, of).
pub fn tally(results: &[TaskRun]) -> BTreeMap<Split, (usize, usize)> {
    let mut tally = BTreeMap::new();
    for result in results {
        let entry = tally.entry(result.split).or_insert((0, 0));
        entry.0 += usize::from(result.score.solved);
        entry.1 += 1;
    }
    tally
}

/// `result` of bench run `run` as the archive keeps it.
pub fn bench_row(
    run: &str,
    label: &str,
    fingerprint: &str,
    evaluator: &Evaluator,
    result: &TaskRun,
) -> crate::store::BenchRow {
    crate::store::BenchRow {
        run: run.to_owned(),
        agents: label.to_owned(),
        agents_hash: fingerprint.to_owned(),
        task_set: evaluator.set_hash.clone(),
        evaluator: evaluator.hash.clone(),
        task: result.task.clone(),
        split: result.split.name().to_owned(),
        solved: result.score.solved,
        turns: result.turns,
        tokens: result.tokens,
        cost_usd: result.cost_usd,
        seconds: result.seconds,
        detail: serde_json::to_string(result).unwrap_or_default(),
    }
}
