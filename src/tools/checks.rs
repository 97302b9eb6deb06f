//! The tools that run repository code: `run_checks` (build, tests and lints of the candidate so
//! far) and `shell` (one command on the candidate's worktree). Both run only inside the sandbox,
//! through a [`Checks`] the orchestrator gives the toolbox; this module only checks the call and
//! describes the job, so that a build never blocks the model's conversation.

use std::future::Future;
use std::pin::Pin;

use serde_json::{Value, json};

use super::{CallResult, Toolbox};
use crate::edit::Patch;

/// The longest command line `shell` takes.
pub const SHELL_COMMAND_CHARS: usize = 2_000;

/// Work for the sandbox: the candidate to put in the worktree, and a command to run there (none:
/// the checks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub patch: Option<Patch>,
    pub command: Option<String>,
}

/// What a job gave: whether it passed, what to tell the model, and the checks that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobResult {
    pub ok: bool,
    pub text: String,
    pub failing: Vec<String>,
}

/// A job's result, when it comes.
pub type JobFuture<'a> = Pin<Box<dyn Future<Output = JobResult> + Send + 'a>>;

/// Runs jobs in the sandbox, on a worktree of the run's base.
pub trait Checks: Send + Sync {
    fn run(&self, job: Job) -> JobFuture<'_>;
}

pub(super) fn catalog() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            "run_checks",
            "Build, test and lint your candidate as it is now, in the sandbox, against the last \
             commit: the verdict it would get, with the failing tests and errors. Slow (a full \
             build): run it once your change is complete.",
            json!({"type": "object", "properties": {}}),
        ),
        (
            "shell",
            "Run one shell command in the sandbox, in a worktree holding your candidate: no \
             network, no secrets, a time limit, output cut to its end.",
            json!({"type": "object", "properties": {
                "command": {"type": "string"}
            }, "required": ["command"]}),
        ),
    ]
}

impl Toolbox<'_> {
    /// The job `call` asks for, when it is `run_checks` or `shell`: `Err` with the refusal when
    /// the agent may not make it. `None` for every other tool.
    pub fn job(&self, call: &crate::llm::ToolCall) -> Option<Result<Job, CallResult>> {
        if !matches!(call.name.as_str(), "run_checks" | "shell") {
            return None;
        }
        if !self.has(&call.name) {
            return Some(Err(self.not_yours(&call.name)));
        }
        let patch = self.patch("");
        if call.name == "run_checks" {
            return Some(Ok(Job {
                patch,
                command: None,
            }));
        }
        let command = call.arguments["command"].as_str().unwrap_or("").trim();
        Some(if command.is_empty() {
            Err(CallResult::failed(String::from("`shell` needs `command`")))
        } else if command.len() > SHELL_COMMAND_CHARS {
            Err(CallResult::failed(format!(
                "the command is over {SHELL_COMMAND_CHARS} characters: write a shorter one"
            )))
        } else {
            Ok(Job {
                patch,
                command: Some(command.to_owned()),
            })
        })
    }
}
