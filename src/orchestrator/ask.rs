//! `ask`: a one-off request through the `ask` pipeline. The router picks the agent
//! (`orchestrator::route`), which runs with its tools (`orchestrator::agent`, `tools`) against the
//! model: a question gets an answer that cites what the agent read; a change request gets a
//! candidate that goes down the one change path (guard, prove in the sandbox, commit) onto
//! `nova/ask/<date>`, never the checkout. Outside a repository, or for an agent with no tool
//! this build runs, the answer comes in one turn from the prompt alone.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::agent::{self, Ended, Session};
use super::clock::stamp;
use super::events::Event;
use super::handoff::{self, Chain};
use super::landing::{self, Act};
use super::route::{self, RouteError};
use crate::agents::{AgentDef, AgentSet, Output, Pipeline};
use crate::edit::Patch;
use crate::git::{self, Oid};
use crate::index::{Focus, Index};
use crate::llm::{
    self, ChatRequest, Delta, LlmError, Message, Prices, Provider, StopReason, Usage,
};
use crate::store::{Store, StoreError};
use crate::tools::{Toolbox, Tree};
use crate::validate::{Options, ValidationReport, Verdict};

/// The pipeline `nova ask` runs.
pub const ASK_PIPELINE: &str = "ask";

/// Below this many tokens a repository map says too little to be worth its place in the prompt.
const SMALLEST_MAP: usize = 256;

/// How much of the repository's `AGENTS.md` goes into an agent's prompt.
const AGENTS_MD_CHARS: usize = 8_000;

/// What to ask, and of whom.
#[derive(Debug, Clone)]
pub struct AskRequest {
    pub question: String,
    /// The repository the question is about: its map goes into the prompt and the run into its
    /// archive. `None` outside a repository.
    pub repo_root: Option<PathBuf>,
    pub model: String,
    /// The most tokens one reply may have.
    pub max_tokens: u32,
    /// The model's context window, when the configuration knows it.
    pub context_window: Option<u64>,
    /// The repository map's share of the prompt, in tokens; 0 for no map.
    pub map_tokens: usize,
    pub prices: Option<Prices>,
    /// Agents that must not run (`[agents] disabled`).
    pub disabled: Vec<String>,
    /// `--agent NAME`: this agent acts, whatever the router would choose.
    pub agent: Option<String>,
    /// How a change is proved; `None` where no change may land.
    pub validation: Option<Options>,
    /// The review branch for a change; default `nova/ask/<YYYYMMDD-HHMMSS>`.
    pub branch: Option<String>,
    /// The model calls tools in fenced text blocks rather than natively (`tool_calls = "text"`
    /// under the model in the configuration).
    pub text_tools: bool,
    /// A reasoning model: its reply limit goes as `max_completion_tokens`.
    pub reasoning: bool,
    /// The run's time, seconds since the epoch.
    pub time: i64,
}

/// How a request was answered.
#[derive(Debug, Clone)]
pub struct AskOutcome {
    /// The run's id in the archive, when there is a repository to keep it in.
    pub run: Option<String>,
    pub agent: String,
    /// The answer, or what the change does.
    pub answer: String,
    pub usage: Usage,
    pub cost_usd: Option<f64>,
    pub seconds: f64,
    /// The change the agent made, and what became of it.
    pub change: Option<ChangeOutcome>,
}

/// What became of an agent's change.
#[derive(Debug, Clone)]
pub struct ChangeOutcome {
    pub summary: String,
    pub diff: String,
    /// The base could not judge it: nothing was tried.
    pub base_failed: bool,
    pub base: ValidationReport,
    pub verdict: Option<Verdict>,
    pub report: Option<ValidationReport>,
    pub branch: Option<String>,
    pub commit: Option<String>,
    pub sandbox: String,
}

/// Why a request could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum AskError {
    /// The agent set cannot run `ask`: a configuration mistake.
    #[error("{0}")]
    Pipeline(String),
    #[error(transparent)]
    Route(#[from] RouteError),
    #[error(transparent)]
    Llm(#[from] LlmError),
    #[error("the `{agent}` agent's budget of {seconds} s ran out before the answer was complete")]
    OutOfTime { agent: String, seconds: u64 },
    /// The loop guard or a budget stopped the agent before it finished.
    #[error("the `{agent}` agent was stopped: {why}; nothing was committed")]
    Stopped { agent: String, why: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the change could not be proved or committed: {0}")]
    Land(#[from] super::change::CommitError),
    #[error(transparent)]
    Branch(#[from] git::BranchError),
    #[error(transparent)]
    Lock(#[from] crate::state::LockError),
    /// The agent made a change, and there is no sandbox to prove it in.
    #[error(
        "the agent made a change, but it cannot be proved here (the sandbox is unavailable), so \
         nothing was committed; `nova doctor` says why, `--unsafe-no-sandbox` runs without it"
    )]
    CannotProve,
}

/// Answers `request` with `provider`, sending every event to `sink` as it happens.
pub async fn ask(
    request: &AskRequest,
    set: &AgentSet,
    provider: &dyn Provider,
    sink: &mut (dyn FnMut(&Event) + Send),
) -> Result<AskOutcome, AskError> {
    let started = Instant::now();
    let pipeline = ask_pipeline(set)?;
    let base = request
        .repo_root
        .as_deref()
        .and_then(|root| git::head_commit(root).ok());
    let can_change = base.is_some() && request.validation.is_some();
    let (agent, why) = route::choose(
        pipeline,
        set,
        &request.disabled,
        request.agent.as_deref(),
        &request.question,
        can_change,
    )?;
    let context = match (&request.repo_root, request.map_tokens) {
        (Some(root), budget) if budget > 0 => {
            Some(RepoContext::build(root, &request.question).await)
        }
        _ => None,
    };
    let tree = request
        .repo_root
        .clone()
        .zip(base)
        .map(|(root, commit)| GitTree { root, commit });
    let mut rec = Recorder::open(sink, request)?;
    rec.emit(Event::Routed {
        agent: agent.name.clone(),
        why,
    });
    let chain = Chain::new(
        handoff::receivers(pipeline, set, &request.disabled),
        &agent.name,
    );
    let scene = Scene {
        request,
        set,
        provider,
        context: context.as_ref(),
        tree: tree.as_ref(),
    };
    let acted = match act(&scene, agent, chain, &mut rec).await {
        Ok(acted) => acted,
        Err(error) => {
            rec.finish("failed", &error.to_string(), request.time);
            return Err(error);
        }
    };
    let Acted {
        agent,
        answer,
        stop,
        toolbox,
        usage,
    } = acted;
    let run = rec.archive.as_ref().map(|archive| archive.id.clone());
    let change = match (&toolbox, base) {
        (Some(tools), Some(base)) if agent.role.output() == Output::Patch => {
            match tools.patch(&answer) {
                Some(patch) => Some(land(&scene, pipeline, base, agent, patch, &mut rec).await?),
                None => None,
            }
        }
        _ => None,
    };
    let seconds = started.elapsed().as_secs_f64();
    let cost_usd = request.prices.map(|prices| prices.cost(&usage));
    rec.emit(Event::AskFinished {
        run: run.clone(),
        agent: agent.name.clone(),
        answer: answer.clone(),
        stop,
        usage,
        cost_usd,
        seconds,
    });
    rec.finish("answered", &first_line(&request.question), request.time);
    if let Some(error) = rec.failed {
        return Err(error.into());
    }
    Ok(AskOutcome {
        run,
        agent: agent.name.clone(),
        answer,
        usage,
        cost_usd,
        seconds,
        change,
    })
}

fn ask_pipeline(set: &AgentSet) -> Result<&Pipeline, AskError> {
    set.pipeline(ASK_PIPELINE).ok_or_else(|| {
        AskError::Pipeline(format!(
            "there is no `{ASK_PIPELINE}` pipeline: restore `agents/pipelines/{ASK_PIPELINE}.toml` \
             or remove the override in `.nova/agents/pipelines/`"
        ))
    })
}

/// What every agent of a request shares: the request, the agents, the model, the repository.
struct Scene<'a> {
    request: &'a AskRequest,
    set: &'a AgentSet,
    provider: &'a dyn Provider,
    context: Option<&'a RepoContext>,
    tree: Option<&'a GitTree>,
}

/// What the agents made of a request: the agent that ended it, its answer (or what its change
/// does), its tools with its candidate, and what they all used.
struct Acted<'a> {
    agent: &'a AgentDef,
    answer: String,
    stop: StopReason,
    toolbox: Option<Toolbox<'a>>,
    usage: Usage,
}

/// Runs `agent` on the request, then each agent the work is handed to, until one finishes or
/// answers. A handoff carries the sender's candidate and findings to the receiver.
async fn act<'a>(
    scene: &Scene<'a>,
    mut agent: &'a AgentDef,
    mut chain: Chain,
    rec: &mut Recorder<'_>,
) -> Result<Acted<'a>, AskError> {
    let request = scene.request;
    let index = scene.context.map(|c| &c.index);
    let mut task = request.question.clone();
    let mut carried: Option<Patch> = None;
    let mut usage = Usage::default();
    loop {
        let mut toolbox = scene
            .tree
            .map(|tree| Toolbox::new(agent, tree, index).with_handoffs(chain.rules()));
        if let (Some(tools), Some(patch)) = (toolbox.as_mut(), &carried) {
            tools.seed(patch);
        }
        let talk = Talk {
            agent,
            task: &task,
            first: chain.agents.len() == 1,
        };
        let (ended, used, stop) = converse(
            request,
            &talk,
            scene.provider,
            scene.context,
            toolbox.as_mut(),
            rec,
        )
        .await?;
        usage = usage.plus(used);
        let handed = match ended {
            Ended::Finished(answer) | Ended::Answered(answer) => {
                return Ok(Acted {
                    agent,
                    answer,
                    stop,
                    toolbox,
                    usage,
                });
            }
            Ended::HandedOff(handed) => handed,
            Ended::Stopped(why) | Ended::Invalid(why) => {
                return Err(AskError::Stopped {
                    agent: agent.name.clone(),
                    why,
                });
            }
        };
        let next = scene
            .set
            .agent(&handed.to)
            .ok_or_else(|| AskError::Stopped {
                agent: agent.name.clone(),
                why: format!(
                    "it handed the work to `{}`, which is not an agent",
                    handed.to
                ),
            })?;
        let findings = toolbox
            .as_ref()
            .map(|t| t.findings().to_vec())
            .unwrap_or_default();
        carried = toolbox.as_ref().and_then(|t| t.patch(&handed.message));
        rec.emit(chain.hop(&agent.name, &handed));
        task = handoff::task(&agent.name, &handed, &findings, &request.question);
        agent = next;
    }
}

/// Lands the candidate `agent` made on `base`: proved, repaired by the pipeline's fixer if
/// rejected, described by its committer, committed.
async fn land(
    scene: &Scene<'_>,
    pipeline: &Pipeline,
    base: Oid,
    agent: &AgentDef,
    patch: Patch,
    rec: &mut Recorder<'_>,
) -> Result<ChangeOutcome, AskError> {
    let request = scene.request;
    let (Some(root), Some(tree)) = (request.repo_root.as_deref(), scene.tree) else {
        return Err(AskError::CannotProve);
    };
    let act = Act {
        request,
        root,
        base,
        provider: scene.provider,
        context: scene.context,
        tree,
        repair: landing::repairer(pipeline, scene.set, &request.disabled),
        committer: landing::committer(pipeline, scene.set, &request.disabled),
    };
    landing::land(&act, agent, patch, rec).await
}

/// One agent's part of a request: who, on what task, and whether it is the first to act (which
/// announces the run).
struct Talk<'a> {
    agent: &'a AgentDef,
    task: &'a str,
    first: bool,
}

/// The agent's conversation: with its tools where it has any this build runs, else one answer
/// from the prompt alone. How it ended, its usage and why the model stopped.
async fn converse(
    request: &AskRequest,
    talk: &Talk<'_>,
    provider: &dyn Provider,
    context: Option<&RepoContext>,
    toolbox: Option<&mut Toolbox<'_>>,
    rec: &mut Recorder<'_>,
) -> Result<(Ended, Usage, StopReason), AskError> {
    let agent = talk.agent;
    let toolbox = toolbox.filter(|tools| tools.specs().len() > 1);
    let agents_md = request
        .repo_root
        .as_deref()
        .and_then(|root| std::fs::read_to_string(root.join("AGENTS.md")).ok());
    let tools: Vec<String> = toolbox
        .as_ref()
        .map(|t| t.specs().into_iter().map(|s| s.name).collect())
        .unwrap_or_default();
    let mut chat = prompt(request, agent, context, &tools, agents_md.as_deref())?;
    chat.messages = vec![Message::user(talk.task)];
    if talk.first {
        rec.emit(Event::AskStarted {
            run: rec.archive.as_ref().map(|archive| archive.id.clone()),
            agent: agent.name.clone(),
            provider: provider.describe(),
            model: chat.model.clone(),
            prompt_tokens: llm::estimate(&chat),
        });
    }
    let Some(toolbox) = toolbox else {
        let reply = answer(provider, &chat, agent, rec).await?;
        return Ok((Ended::Answered(reply.text), reply.usage, reply.stop));
    };
    let session = Session {
        agent,
        provider,
        model: chat.model.clone(),
        system: chat.system.clone(),
        max_tokens: request.max_tokens,
        text_tools: request.text_tools,
        reasoning: request.reasoning,
    };
    let mut emit = |event: Event| rec.emit(event);
    let outcome = agent::run(&session, toolbox, talk.task, &mut emit).await?;
    Ok((outcome.ended, outcome.usage, StopReason::EndTurn))
}

/// The request to send: the agent's prompt, what this session gives it (its tools, or none), the
/// repository's `AGENTS.md`, and a map ranked around the question, shrunk once if the whole is
/// over the model's window.
pub(super) fn prompt(
    request: &AskRequest,
    agent: &AgentDef,
    context: Option<&RepoContext>,
    tools: &[String],
    agents_md: Option<&str>,
) -> Result<ChatRequest, AskError> {
    let system = |budget: usize| system_prompt(agent, context, budget, tools, agents_md);
    let mut chat = ChatRequest::new(
        &request.model,
        system(request.map_tokens),
        vec![Message::user(&request.question)],
    );
    chat.max_tokens = request.max_tokens;
    chat.reasoning = request.reasoning;
    // The caller's rule when the prompt is too large: a smaller map, once; no map below the
    // smallest useful one.
    let chat = llm::fit(chat, request.context_window, |mut chat, over| {
        context?;
        let budget = request
            .map_tokens
            .saturating_sub(usize::try_from(over).unwrap_or(usize::MAX) + 64);
        let budget = if budget < SMALLEST_MAP { 0 } else { budget };
        chat.system = system(budget);
        Some(chat)
    })?;
    Ok(chat)
}

/// Sends `chat` within the agent's time budget, each piece of the answer an event as it comes.
async fn answer(
    provider: &dyn Provider,
    chat: &ChatRequest,
    agent: &AgentDef,
    rec: &mut Recorder<'_>,
) -> Result<llm::Reply, AskError> {
    let budget = Duration::from_secs(agent.budget.seconds);
    let answered = {
        let mut on_delta = |delta: &Delta| rec.delta(delta);
        tokio::time::timeout(budget, provider.chat(chat, &mut on_delta)).await
    };
    match answered {
        Err(_) => Err(AskError::OutOfTime {
            agent: agent.name.clone(),
            seconds: agent.budget.seconds,
        }),
        Ok(result) => result.map_err(AskError::from),
    }
}

/// The repository at the run's base commit, as the tools read it.
pub(super) struct GitTree {
    root: PathBuf,
    commit: Oid,
}

impl Tree for GitTree {
    fn read(&self, path: &str) -> Option<String> {
        String::from_utf8(git::read_blob(&self.root, self.commit, path).ok()??).ok()
    }

    fn files(&self) -> Vec<String> {
        git::tree_files(&self.root, self.commit).unwrap_or_default()
    }

    fn symlink(&self, path: &str) -> Option<String> {
        git::under_symlink(&self.root, self.commit, path)
            .ok()
            .flatten()
    }
}

pub(super) fn system_prompt(
    agent: &AgentDef,
    map: Option<&RepoContext>,
    budget: usize,
    tools: &[String],
    agents_md: Option<&str>,
) -> String {
    let mut prompt = agent.prompt.trim_end().to_owned();
    prompt.push_str("\n\n## This session\n\n");
    if tools.is_empty() {
        prompt.push_str("No tools are available in this session: answer from what is below, and say what you could not see.\n");
    } else {
        prompt.push_str(&format!(
            "Your tools: {}. They read the repository as its last commit has it; your edits go to \
             a candidate of your own, never the user's files. Read before you claim, and cite \
             `path:line`. When you are done, call `finish` with your answer, or with one line \
             saying what your change does.\n",
            tools.join(", ")
        ));
    }
    if let Some(text) = agents_md.filter(|t| !t.trim().is_empty()) {
        let cut: String = text.chars().take(AGENTS_MD_CHARS).collect();
        prompt.push_str(&format!(
            "\n## The repository's AGENTS.md\n\n{}\n",
            cut.trim_end()
        ));
    }
    if let Some(context) = map
        && budget > 0
    {
        let map = context.index.map(&context.focus, budget);
        if !map.text.is_empty() {
            prompt.push_str(&format!(
                "\n## Repository map of `{}`\n\nThe definitions that matter most to the question, by file (signatures; bodies elided):\n\n{}",
                context.name, map.text
            ));
        }
    }
    prompt
}

/// The repository's index and the question's focus, kept to draw maps of any size.
pub(super) struct RepoContext {
    pub(super) index: Index,
    focus: Focus,
    name: String,
}

impl RepoContext {
    /// Builds (or loads from its cache) the index, off the async threads.
    async fn build(root: &std::path::Path, question: &str) -> RepoContext {
        let name = root
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let root = root.to_owned();
        let focus = Focus::from_words(&question_words(question));
        let index = match tokio::task::spawn_blocking(move || Index::build(&root)).await {
            Ok(index) => index,
            Err(panic) => std::panic::resume_unwind(panic.into_panic()),
        };
        RepoContext { index, focus, name }
    }
}

/// The words of a question that could name code: identifiers and paths.
fn question_words(question: &str) -> Vec<String> {
    question
        .split(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '/' | '.' | ':')))
        .map(|word| word.trim_matches(|c: char| matches!(c, '.' | ':')))
        .filter(|word| word.len() >= 3)
        .map(str::to_owned)
        .collect()
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    let mut short: String = line.chars().take(80).collect();
    if short.len() < line.len() {
        short.push('…');
    }
    short
}

/// The run's record in the repository's archive.
struct Archive {
    store: Store,
    run: i64,
    id: String,
}

impl Archive {
    fn open(root: &std::path::Path, time: i64) -> Result<Archive, StoreError> {
        let store = Store::open(root)?;
        let base = crate::git::head_commit(root)
            .map(|oid| oid.to_string())
            .unwrap_or_default();
        let id = stamp(time);
        let run = store.start_run(&id, "ask", &base, None, time)?;
        Ok(Archive { store, run, id })
    }
}

/// Sends events to the sink and keeps them in the archive. A failure to archive is kept and
/// reported at the end: it must not cut the answer short.
pub(super) struct Recorder<'s> {
    sink: &'s mut (dyn FnMut(&Event) + Send),
    archive: Option<Archive>,
    seq: usize,
    failed: Option<StoreError>,
}

impl<'s> Recorder<'s> {
    /// Opens the repository's archive for the run, if there is a repository, saying when an
    /// unreadable one was kept aside.
    fn open(
        sink: &'s mut (dyn FnMut(&Event) + Send),
        request: &AskRequest,
    ) -> Result<Self, StoreError> {
        let mut rec = Recorder {
            sink,
            archive: match &request.repo_root {
                Some(root) => Some(Archive::open(root, request.time)?),
                None => None,
            },
            seq: 0,
            failed: None,
        };
        if let Some(kept) = rec.archive.as_ref().and_then(|a| a.store.recovered()) {
            let kept = kept.display().to_string();
            rec.emit(Event::ArchiveRecovered { kept });
        }
        Ok(rec)
    }

    pub(super) fn emit(&mut self, event: Event) {
        // The archive keeps the answer once, whole, in `ask_finished`.
        if let Some(archive) = &self.archive
            && !matches!(event, Event::AnswerDelta { .. })
        {
            let data = serde_json::to_string(&event).unwrap_or_default();
            if let Err(error) = archive
                .store
                .event(archive.run, self.seq, event.kind(), &data)
            {
                self.failed.get_or_insert(error);
            }
            self.seq += 1;
        }
        (self.sink)(&event);
    }

    /// A piece of a streamed reply, as an event.
    fn delta(&mut self, delta: &Delta) {
        match delta {
            Delta::Text { text } => self.emit(Event::AnswerDelta { text: text.clone() }),
            Delta::Retrying {
                attempt,
                reason,
                delay_ms,
            } => self.emit(Event::Retrying {
                attempt: *attempt,
                reason: reason.clone(),
                delay_ms: *delay_ms,
            }),
            Delta::ToolCall { .. } => {}
        }
    }

    fn finish(&mut self, status: &str, summary: &str, time: i64) {
        if let Some(archive) = &self.archive
            && let Err(error) = archive.store.finish_run(archive.run, status, summary, time)
        {
            self.failed.get_or_insert(error);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_words_of_a_question() {
        assert_eq!(
            question_words("What does `Index::map` do in src/index/map.rs? And fit?"),
            [
                "What",
                "does",
                "Index::map",
                "src/index/map.rs",
                "And",
                "fit"
            ]
        );
    }
}
