//! Who works on a task in the scratch repository: this build's agents, in this process
//! ([`Agents`]), or another build of Nova, run in the sandbox as a user runs `nova ask`
//! ([`Build`]). Either leaves its change committed on the task's branch there; the frozen
//! evaluator (this build) scores what is on the branch, whoever made it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde_json::Value;

use super::run::RunError;
use crate::agents::AgentSet;
use crate::git::{self, Oid};
use crate::llm::Provider;
use crate::orchestrator::{self, AgentsMd, AskError, AskRequest, Event};
use crate::validate::{Ended, NovaBuild, Options};

/// One task, handed to a worker: its tree is checked out in `scratch` at `start`.
#[derive(Debug)]
pub struct Assignment<'a> {
    /// The task's id.
    pub task: &'a str,
    /// The name the results of this run go under.
    pub label: &'a str,
    pub scratch: &'a Path,
    pub start: Oid,
    /// What a user would ask.
    pub statement: &'a str,
    /// Where the change is committed.
    pub branch: String,
    /// `Nova-Evaluator: <hash>`, for the change's commit.
    pub trailers: Vec<String>,
}

/// What a worker did on one task.
#[derive(Debug, Default)]
pub struct Worked {
    /// The agent that ended the run (routed to, or handed to).
    pub agent: String,
    /// The commit of the change on the assignment's branch; `None` when nothing landed.
    pub landed: Option<Oid>,
    pub turns: u32,
    pub tokens: u64,
    pub cost_usd: Option<f64>,
    /// Why nothing landed, or what stopped the agents.
    pub note: Option<String>,
}

/// Works on tasks, one at a time.
pub trait Worker {
    /// Works on `assignment`. `Err` only when no task could be worked on (the model or the
    /// configuration failed); a task the agents did not manage is a [`Worked`] with a note.
    fn work(&self, assignment: &Assignment<'_>) -> Result<Worked, RunError>;
}

/// This build's agents: `agents` with `template`'s model, budgets and routing.
pub struct Agents<'a> {
    agents: AgentSet,
    template: AskRequest,
    validation: Options,
    provider: &'a dyn Provider,
    runtime: tokio::runtime::Runtime,
}

impl std::fmt::Debug for Agents<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agents").finish_non_exhaustive()
    }
}

impl<'a> Agents<'a> {
    pub fn new(
        agents: AgentSet,
        template: AskRequest,
        validation: Options,
        provider: &'a dyn Provider,
    ) -> Result<Self, RunError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(RunError::Runtime)?;
        Ok(Agents {
            agents,
            template,
            validation,
            provider,
            runtime,
        })
    }
}

impl Worker for Agents<'_> {
    fn work(&self, assignment: &Assignment<'_>) -> Result<Worked, RunError> {
        let ask = AskRequest {
            // As `nova ask` takes it from the command line, so that a build asks alike.
            question: assignment.statement.trim().to_owned(),
            repo_root: Some(assignment.scratch.to_owned()),
            validation: Some(self.validation.clone()),
            branch: Some(assignment.branch.clone()),
            agents_md: AgentsMd::read(assignment.scratch),
            works_on: None,
            trailers: assignment.trailers.clone(),
            ..self.template.clone()
        };
        let mut turns = 0;
        let mut last_agent = String::new();
        let mut sink = |event: &Event| {
            if let Event::AgentTurn { agent, .. } = event {
                turns += 1;
                last_agent.clone_from(agent);
            }
        };
        let asked = self.runtime.block_on(orchestrator::ask(
            &ask,
            &self.agents,
            self.provider,
            &mut sink,
        ));
        let outcome = match asked {
            Ok(outcome) => outcome,
            Err(
                error
                @ (AskError::OutOfTime { .. } | AskError::Stopped { .. } | AskError::Route(_)),
            ) => {
                return Ok(Worked {
                    agent: last_agent,
                    turns,
                    note: Some(error.to_string()),
                    ..Worked::default()
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
            (None, _) => Some(String::from(NO_CHANGE)),
            (Some(change), None) => Some(refused(
                change
                    .verdict
                    .as_ref()
                    .map(|v| v.reasons.join("; "))
                    .as_deref(),
            )),
            (Some(_), Some(_)) => None,
        };
        Ok(Worked {
            agent: outcome.agent,
            landed,
            turns,
            tokens: outcome.usage.prompt_tokens + outcome.usage.completion_tokens,
            cost_usd: outcome.cost_usd,
            note,
        })
    }
}

const NO_CHANGE: &str = "the agents answered without a change";

fn refused(reasons: Option<&str>) -> String {
    format!(
        "the change was refused: {}",
        reasons.unwrap_or("the task's tree could not judge it")
    )
}

/// Another build of Nova: each task is `BIN ask --json` in the scratch repository, in the
/// sandbox ([`NovaBuild`]), with the model this run was given. What it committed on the task's
/// branch is its change, whatever it printed; its JSON events tell the turns, tokens and cost.
#[derive(Debug, Clone)]
pub struct Build {
    pub build: NovaBuild,
    /// The model's flags, as `nova` takes them: `--provider`, `--base-url`, `--model`,
    /// `--api-key-env`.
    pub model_args: Vec<String>,
    /// `ask`'s own flags this run passes on (`--max-tokens`, `--map-tokens`, `--step-timeout`).
    pub ask_args: Vec<String>,
    /// The build's home and temp dir (where its validation worktree is), emptied before each
    /// task.
    pub private: std::path::PathBuf,
    /// Each task's exchanges with the model recorded, or answered from a recording.
    pub recording: Option<Recording>,
}

/// What a build may read and change besides the scratch repository: (read, write).
type Reach = (Vec<PathBuf>, Vec<PathBuf>);

/// Recordings of a build's exchanges: one file per run name and task, under a directory
/// (`<dir>/<name>/<task>.jsonl`), since each task is a process of its own.
#[derive(Debug, Clone)]
pub enum Recording {
    Record(PathBuf),
    Replay(PathBuf),
}

impl Recording {
    /// The file of `task`'s exchanges in the run named `label`.
    fn file(dir: &Path, label: &str, task: &str) -> PathBuf {
        let name: String = label
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.@~".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        dir.join(name).join(format!("{task}.jsonl"))
    }

    /// The flags that make the build record or replay `assignment`'s exchanges, and what it
    /// must then read and write: (the file it replays, the directory it records in).
    fn flags(&self, assignment: &Assignment<'_>) -> Result<(Vec<OsString>, Reach), RunError> {
        match self {
            Recording::Record(dir) => {
                let file = Recording::file(dir, assignment.label, assignment.task);
                let parent = file.parent().unwrap_or(dir).to_owned();
                std::fs::create_dir_all(&parent).map_err(|source| RunError::Io {
                    path: parent.clone(),
                    source,
                })?;
                Ok((
                    vec!["--record".into(), file.into()],
                    (Vec::new(), vec![parent]),
                ))
            }
            Recording::Replay(dir) => {
                let file = Recording::file(dir, assignment.label, assignment.task);
                if !file.is_file() {
                    return Err(RunError::Build(format!(
                        "no recording of task `{}` for `{}`: `{}` is missing; record it with \
                         `--record` first",
                        assignment.task,
                        assignment.label,
                        file.display()
                    )));
                }
                Ok((
                    vec!["--replay".into(), file.clone().into()],
                    (vec![file], Vec::new()),
                ))
            }
        }
    }
}

impl Worker for Build {
    fn work(&self, assignment: &Assignment<'_>) -> Result<Worked, RunError> {
        // Nothing an earlier task's run left in its home or temp dir carries over.
        if self.private.exists() {
            std::fs::remove_dir_all(&self.private).map_err(|source| RunError::Io {
                path: self.private.clone(),
                source,
            })?;
        }
        let mut args: Vec<OsString> = vec!["--json".into(), "ask".into()];
        args.extend(self.model_args.iter().map(OsString::from));
        args.extend(self.ask_args.iter().map(OsString::from));
        if self.build.unsandboxed() {
            args.push("--unsafe-no-sandbox".into());
        }
        if self.build.options.network {
            args.push("--allow-network".into());
        }
        args.extend(["--branch".into(), assignment.branch.clone().into()]);
        let mut reach = (Vec::new(), Vec::new());
        if let Some(recording) = &self.recording {
            let flags;
            (flags, reach) = recording.flags(assignment)?;
            args.extend(flags);
        }
        args.extend(["--".into(), assignment.statement.into()]);
        let ran = self
            .build
            .run(assignment.scratch, &self.private, &args, reach)
            .map_err(|why| RunError::Build(format!("cannot run the build: {why}")))?;
        let mut worked = events(&ran.stdout);
        match ran.ended {
            // 2 and 3: bad arguments or a broken environment (no model, no sandbox): no task of
            // the run can go better, so it stops here.
            Ended::Exited(code @ (2 | 3)) => {
                return Err(RunError::Build(format!(
                    "the build exited with {code}: {}",
                    last_lines(&ran.stderr, 6)
                )));
            }
            Ended::Exited(_) => {}
            Ended::Signaled(signal) => {
                worked.note = Some(format!("the build was killed by signal {signal}"));
            }
            Ended::TimedOut => {
                worked.note = Some(format!(
                    "the build was stopped after {} s",
                    self.build.timeout.as_secs()
                ));
            }
        }
        let tip = git::commit_of(
            assignment.scratch,
            &format!("refs/heads/{}", assignment.branch),
        )?;
        worked.landed = tip.filter(|tip| *tip != assignment.start);
        if worked.landed.is_some() {
            worked.note = None;
        } else if worked.note.is_none() {
            worked.note = Some(String::from(NO_CHANGE));
        }
        Ok(worked)
    }
}

/// What the build's JSON events say: who worked, for how many turns, at what cost, and why a
/// change was refused. Lines that are not events (or events of a newer build) are passed over.
fn events(stdout: &str) -> Worked {
    let mut worked = Worked::default();
    let mut costs = Vec::new();
    for line in stdout.lines() {
        let Ok(event) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let agent = event["agent"].as_str();
        match event["event"].as_str() {
            Some("routed") => worked.agent = agent.unwrap_or_default().to_owned(),
            Some("agent_turn") => {
                worked.turns += 1;
                worked.agent = agent.unwrap_or_default().to_owned();
            }
            Some("ask_finished") => {
                let usage = &event["usage"];
                worked.tokens += usage["prompt_tokens"].as_u64().unwrap_or(0)
                    + usage["completion_tokens"].as_u64().unwrap_or(0);
                costs.extend(event["cost_usd"].as_f64());
                if let Some(agent) = agent {
                    worked.agent = agent.to_owned();
                }
            }
            Some("candidate_rejected") => {
                let reasons: Vec<&str> = event["reasons"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .collect();
                worked.note = Some(refused(Some(&reasons.join("; "))));
            }
            _ => {}
        }
    }
    worked.cost_usd = (!costs.is_empty()).then(|| costs.iter().sum());
    worked
}

/// The last `n` non-empty lines of `text`, joined.
fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_build_s_events_give_its_agent_turns_tokens_cost_and_refusal() {
        let stdout = [
            r#"{"event":"routed","agent":"fixer","why":"words"}"#,
            r#"{"event":"agent_turn","agent":"fixer","turn":1,"tool_calls":1}"#,
            "not json: a stray line",
            r#"{"event":"agent_turn","agent":"tester","turn":1,"tool_calls":0}"#,
            r#"{"event":"ask_finished","agent":"tester","usage":{"prompt_tokens":100,"completion_tokens":20},"cost_usd":0.5}"#,
            r#"{"event":"ask_finished","agent":"tester","usage":{"prompt_tokens":10,"completion_tokens":2},"cost_usd":0.25}"#,
            r#"{"event":"candidate_rejected","reasons":["`cargo test`: 1 failed","clippy"]}"#,
            r#"{"event":"something_newer","agent":"x"}"#,
        ]
        .join("\n");
        let worked = events(&stdout);
        assert_eq!(worked.agent, "tester");
        assert_eq!(worked.turns, 2);
        assert_eq!(worked.tokens, 132);
        assert_eq!(worked.cost_usd, Some(0.75));
        assert_eq!(
            worked.note.as_deref(),
            Some("the change was refused: `cargo test`: 1 failed; clippy")
        );
        assert_eq!(events("").cost_usd, None);
    }

    #[test]
    fn the_last_lines_of_what_a_build_said_skip_blank_ones() {
        assert_eq!(last_lines("a\n\nb\nc\n\n", 2), "b | c");
        assert_eq!(last_lines("", 3), "");
    }
}
