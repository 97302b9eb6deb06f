//! Resuming a request: after every turn, the state of the work (the agent holding it, its task
//! and conversation, the handoff chain, the task memory, the candidate and findings so far, what
//! earlier agents spent, the agents waiting for a part they asked of an owner) is kept in the run archive as one checkpoint, replacing the last. A run
//! killed at any point, or stopped by a budget or the loop guard, continues from its last
//! completed turn with `nova ask --resume RUN`.

use serde::{Deserialize, Serialize};

use super::agent::{Conversation, Observer};
use super::ask::Recorder;
use super::events::Event;
use super::memory::TaskMemory;
use crate::edit::FileChange;
use crate::findings::Finding;
use crate::llm::Usage;
use crate::store::{Store, StoreError};
use crate::tools::Toolbox;

/// What resuming a request needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub question: String,
    /// The commit the run works on.
    pub base: String,
    pub agent: String,
    pub task: String,
    /// The agents the work passed through, the one holding it last.
    pub chain: Vec<String>,
    pub conversation: Conversation,
    pub memory: TaskMemory,
    pub candidate: Vec<FileChange>,
    pub findings: Vec<Finding>,
    /// What the run's earlier agents used.
    pub spent: Usage,
    /// Agents waiting for a part they asked of another owner, innermost last.
    #[serde(default)]
    pub waiting: Vec<Waited>,
    /// Domain agents whose changes, made at a request, are in the candidate.
    #[serde(default)]
    pub helpers: Vec<String>,
}

/// An agent waiting for the part it asked of another owner, as a checkpoint keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Waited {
    pub agent: String,
    pub task: String,
    pub conversation: Conversation,
    pub memory: TaskMemory,
    /// Its candidate when it asked.
    pub candidate: Vec<FileChange>,
}

/// Why a run cannot be resumed.
#[derive(Debug, thiserror::Error)]
pub enum ResumeError {
    #[error(
        "there is no run `{0}` in this repository's archive: `nova runs list` shows the runs there are"
    )]
    NoRun(String),
    #[error("run `{id}` is a `nova {command}` run; only `nova ask` runs can be resumed")]
    NotAsk { id: String, command: String },
    #[error("run `{0}` finished; there is nothing to resume (ask again to start a new run)")]
    Finished(String),
    #[error(
        "run `{0}` stopped before its first turn was done, so there is nothing to resume: ask again"
    )]
    NoTurn(String),
    #[error(
        "the checkpoint of run `{id}` cannot be read ({why}); it was written by another version of \
         Nova: ask again"
    )]
    Unreadable { id: String, why: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The run `id` of the archive at `root` and its checkpoint, reopened to go on.
pub fn load(root: &std::path::Path, id: &str) -> Result<(i64, String, Checkpoint), ResumeError> {
    let store = Store::open(root)?;
    let row = store
        .run(id)?
        .ok_or_else(|| ResumeError::NoRun(id.to_owned()))?;
    if row.command != "ask" {
        return Err(ResumeError::NotAsk {
            id: row.id,
            command: row.command,
        });
    }
    if row.status == "answered" {
        return Err(ResumeError::Finished(row.id));
    }
    let data = store
        .checkpoint(row.seq)?
        .ok_or_else(|| ResumeError::NoTurn(row.id.clone()))?;
    let checkpoint = serde_json::from_str(&data).map_err(|error| ResumeError::Unreadable {
        id: row.id.clone(),
        why: error.to_string(),
    })?;
    Ok((row.seq, row.id, checkpoint))
}

/// The observer of the agent holding a request's work: events go to the recorder, and every
/// finished turn becomes the run's checkpoint.
pub struct Keeper<'k, 'r> {
    pub rec: &'k mut Recorder<'r>,
    pub question: &'k str,
    pub base: String,
    pub agent: &'k str,
    pub task: &'k str,
    pub chain: &'k [String],
    pub spent: Usage,
    pub waiting: Vec<Waited>,
    pub helpers: Vec<String>,
    /// The agent's words are not the answer (a router's): its text is not streamed out.
    pub quiet: bool,
}

impl Observer for Keeper<'_, '_> {
    fn event(&mut self, event: Event) {
        if self.quiet && matches!(event, Event::AnswerDelta { .. }) {
            return;
        }
        self.rec.emit(event);
    }

    fn turn_done(&mut self, conversation: &Conversation, memory: &TaskMemory, tools: &Toolbox<'_>) {
        let checkpoint = Checkpoint {
            question: self.question.to_owned(),
            base: self.base.clone(),
            agent: self.agent.to_owned(),
            task: self.task.to_owned(),
            chain: self.chain.to_vec(),
            conversation: conversation.clone(),
            memory: memory.clone(),
            candidate: tools.patch("").map(|p| p.changes).unwrap_or_default(),
            findings: tools.findings().to_vec(),
            spent: self.spent,
            waiting: self.waiting.clone(),
            helpers: self.helpers.clone(),
        };
        self.rec.checkpoint(&checkpoint);
    }
}
