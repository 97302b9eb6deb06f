//! `nova bench run`: an agent set on tasks. Each task's tree is committed, with no history, in a
//! scratch repository that borrows the user's objects; the agent set gets the task's statement
//! there as `nova ask` would (routed, with its tools, its change proved by the change path and
//! committed on a branch of the scratch repository). What it committed is then proved under the
//! task's hidden checks by the frozen evaluator, in the user's repository's own validation
//! worktree, which the agents never see.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use super::check::{CheckError, Checker, Score, task_text};
use super::frozen::Evaluator;
use super::tasks::{Source, Split, Task};
use crate::agents::AgentSet;
use crate::edit::{FileChange, Patch, RepoPath};
use crate::git::{self, Oid, WorktreeError};
use crate::llm::Provider;
use crate::orchestrator::{self, AgentsMd, AskError, AskRequest, Event};
use crate::validate::Options;

/// An agent set and the tasks to run it on.
#[derive(Debug)]
pub struct RunRequest<'a> {
    pub evaluator: &'a Evaluator,
    pub tasks: Vec<&'a Task>,
    pub agents: &'a AgentSet,
    /// The agent set's name in the results.
    pub label: String,
    /// The model, budgets and routing every task's run starts from.
    pub template: AskRequest,
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
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

/// Runs `request`'s agent set on its tasks, one after another, telling `progress`.
pub fn run(
    request: &RunRequest<'_>,
    provider: &dyn Provider,
    progress: &mut dyn FnMut(RunProgress<'_>),
) -> Result<Vec<TaskRun>, RunError> {
    let set = &request.evaluator.set;
    git::scratch::prepare(&request.scratch, &set.repository)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(RunError::Runtime)?;
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
        let worked = work(request, provider, &runtime, task)?;
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
        let score = checker.check(set, task, &worked.change)?;
        let result = TaskRun {
            task: task.id.clone(),
            split: task.split,
            agent: worked.agent,
            score,
            landed: worked.landed,
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

/// What the agents did on one task.
struct Worked {
    agent: String,
    /// The committed change, on the task's tree; empty when nothing landed.
    change: Patch,
    landed: bool,
    turns: u32,
    tokens: u64,
    cost_usd: Option<f64>,
    note: Option<String>,
}

/// Puts `task`'s tree in the scratch repository and has the agent set work on its statement.
fn work(
    request: &RunRequest<'_>,
    provider: &dyn Provider,
    runtime: &tokio::runtime::Runtime,
    task: &Task,
) -> Result<Worked, RunError> {
    let set = &request.evaluator.set;
    let mut seeded = Vec::new();
    if let Source::Mutant { path, .. } = &task.source
        && let Some(repo_path) = RepoPath::new(path)
    {
        seeded.push((repo_path, task_text(set, task, path)?));
    }
    let commit =
        Oid::from_str(&task.commit).map_err(|_| CheckError::NoCommit(task.commit.clone()))?;
    let start = git::scratch::put_task(&request.scratch, commit, &seeded, "The task's tree\n")?;
    let ask = AskRequest {
        question: task.statement.clone(),
        repo_root: Some(request.scratch.clone()),
        validation: Some(request.validation.clone()),
        branch: Some(format!("nova/bench/{}", task.id)),
        agents_md: AgentsMd::read(&request.scratch),
        works_on: None,
        trailers: vec![format!("Nova-Evaluator: {}", request.evaluator.hash)],
        ..request.template.clone()
    };
    let mut turns = 0;
    let mut last_agent = String::new();
    let mut sink = |event: &Event| {
        if let Event::AgentTurn { agent, .. } = event {
            turns += 1;
            last_agent.clone_from(agent);
        }
    };
    let asked = runtime.block_on(orchestrator::ask(&ask, request.agents, provider, &mut sink));
    let outcome = match asked {
        Ok(outcome) => outcome,
        Err(
            error @ (AskError::OutOfTime { .. } | AskError::Stopped { .. } | AskError::Route(_)),
        ) => {
            return Ok(Worked {
                agent: last_agent,
                change: Patch::default(),
                landed: false,
                turns,
                tokens: 0,
                cost_usd: None,
                note: Some(error.to_string()),
            });
        }
        Err(error) => return Err(RunError::Ask(error)),
    };
    let landed = outcome
        .change
        .as_ref()
        .and_then(|change| change.commit.as_deref())
        .and_then(|commit| Oid::from_str(commit).ok());
    let note = match (&outcome.change, landed) {
        (None, _) => Some(String::from("the agents answered without a change")),
        (Some(change), None) => Some(format!(
            "the change was refused: {}",
            change
                .verdict
                .as_ref()
                .map(|v| v.reasons.join("; "))
                .unwrap_or_else(|| String::from("the task's tree could not judge it"))
        )),
        (Some(_), Some(_)) => None,
    };
    let change = match landed {
        Some(landed) => committed(&request.scratch, start, landed)?,
        None => Patch::default(),
    };
    Ok(Worked {
        agent: outcome.agent,
        change,
        landed: landed.is_some(),
        turns,
        tokens: outcome.usage.prompt_tokens + outcome.usage.completion_tokens,
        cost_usd: outcome.cost_usd,
        note,
    })
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
