//! `ask`: a one-off request through the `ask` pipeline. The route stage picks the agent, the act
//! stage runs it against the model, and its answer streams back as events.
//!
//! Routing by a model, tools and the agent loop are not built yet: until they are, the route stage
//! sends every request to the answering (`chat`) agent of the routed stage, which answers from the
//! repository map given in its prompt. Stages whose input never appears (patches, reports) do
//! not run.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use super::clock::stamp;
use super::events::Event;
use crate::agents::{AgentDef, AgentSet, Flow, Mode, Pipeline, Role};
use crate::index::{Focus, Index};
use crate::llm::{self, ChatRequest, Delta, LlmError, Message, Prices, Provider, Reply};
use crate::store::{Store, StoreError};

/// The pipeline `nova ask` runs.
pub const ASK_PIPELINE: &str = "ask";

/// Below this many tokens a repository map says too little to be worth its place in the prompt.
const SMALLEST_MAP: usize = 256;

/// What to ask, and of whom.
#[derive(Debug, Clone)]
pub struct AskRequest {
    pub question: String,
    /// The repository the question is about: its map goes into the prompt and the run into its
    /// archive. `None` outside a repository.
    pub repo_root: Option<PathBuf>,
    pub model: String,
    /// The most tokens the answer may have.
    pub max_tokens: u32,
    /// The model's context window, when the configuration knows it.
    pub context_window: Option<u64>,
    /// The repository map's share of the prompt, in tokens; 0 for no map.
    pub map_tokens: usize,
    pub prices: Option<Prices>,
    /// Agents that must not run (`[agents] disabled`).
    pub disabled: Vec<String>,
    /// The run's time, seconds since the epoch.
    pub time: i64,
}

/// How a request was answered.
#[derive(Debug, Clone)]
pub struct AskOutcome {
    /// The run's id in the archive, when there is a repository to keep it in.
    pub run: Option<String>,
    pub agent: String,
    pub reply: Reply,
    pub cost_usd: Option<f64>,
    pub seconds: f64,
}

/// Why a request could not be answered.
#[derive(Debug, thiserror::Error)]
pub enum AskError {
    /// The agent set cannot run `ask`: a configuration mistake.
    #[error("{0}")]
    Pipeline(String),
    #[error(transparent)]
    Llm(#[from] LlmError),
    #[error("the `{agent}` agent's budget of {seconds} s ran out before the answer was complete")]
    OutOfTime { agent: String, seconds: u64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Answers `request` with `provider`, sending every event to `sink` as it happens.
pub async fn ask(
    request: &AskRequest,
    set: &AgentSet,
    provider: &dyn Provider,
    sink: &mut (dyn FnMut(&Event) + Send),
) -> Result<AskOutcome, AskError> {
    let started = Instant::now();
    let pipeline = set.pipeline(ASK_PIPELINE).ok_or_else(|| {
        AskError::Pipeline(format!(
            "there is no `{ASK_PIPELINE}` pipeline: restore `agents/pipelines/{ASK_PIPELINE}.toml` \
             or remove the override in `.nova/agents/pipelines/`"
        ))
    })?;
    let agent = route(pipeline, set, &request.disabled)?;

    let chat = prompt(request, agent).await?;

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
    let run = rec.archive.as_ref().map(|archive| archive.id.clone());
    rec.emit(Event::AskStarted {
        run: run.clone(),
        agent: agent.name.clone(),
        provider: provider.describe(),
        model: chat.model.clone(),
        prompt_tokens: llm::estimate(&chat),
    });

    let result = answer(provider, &chat, agent, &mut rec).await;
    let seconds = started.elapsed().as_secs_f64();
    let reply = match result {
        Ok(reply) => reply,
        Err(error) => {
            rec.finish("failed", &error.to_string(), request.time);
            return Err(error);
        }
    };
    let cost_usd = request.prices.map(|prices| prices.cost(&reply.usage));
    rec.emit(Event::AskFinished {
        run: run.clone(),
        agent: agent.name.clone(),
        answer: reply.text.clone(),
        stop: reply.stop.clone(),
        usage: reply.usage,
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
        reply,
        cost_usd,
        seconds,
    })
}

/// The request to send: the agent's prompt with a map of the repository ranked around the
/// question, shrunk once if the whole is over the model's window.
async fn prompt(request: &AskRequest, agent: &AgentDef) -> Result<ChatRequest, AskError> {
    let map = match (&request.repo_root, request.map_tokens) {
        (Some(root), budget) if budget > 0 => {
            Some(RepoContext::build(root, &request.question).await)
        }
        _ => None,
    };
    let system = |budget: usize| system_prompt(agent, map.as_ref(), budget);
    let mut chat = ChatRequest::new(
        &request.model,
        system(request.map_tokens),
        vec![Message::user(&request.question)],
    );
    chat.max_tokens = request.max_tokens;
    // The caller's rule when the prompt is too large: a smaller map, once; no map below the
    // smallest useful one.
    let chat = llm::fit(chat, request.context_window, |mut chat, over| {
        map.as_ref()?;
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
) -> Result<Reply, AskError> {
    let budget = Duration::from_secs(agent.budget.seconds);
    let answered = {
        let mut on_delta = |delta: &Delta| match delta {
            Delta::Text { text } => rec.emit(Event::AnswerDelta { text: text.clone() }),
            Delta::Retrying {
                attempt,
                reason,
                delay_ms,
            } => rec.emit(Event::Retrying {
                attempt: *attempt,
                reason: reason.clone(),
                delay_ms: *delay_ms,
            }),
            Delta::ToolCall { .. } => {}
        };
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

/// The agent that answers. The route stage's choice is, for now, the answering agent of the stage
/// that is routed to (see the module's docs).
fn route<'s>(
    pipeline: &Pipeline,
    set: &'s AgentSet,
    disabled: &[String],
) -> Result<&'s AgentDef, AskError> {
    let routed = pipeline
        .stages
        .iter()
        .filter(|stage| stage.mode == Mode::Route && stage.output.contains(&Flow::Answer))
        .flat_map(|stage| &stage.agents)
        .filter(|name| !disabled.contains(name))
        .filter_map(|name| set.agent(name))
        .find(|agent| agent.role == Role::Chat);
    routed.ok_or_else(|| {
        AskError::Pipeline(format!(
            "the `{ASK_PIPELINE}` pipeline has no enabled agent with role `chat` in a `route` stage              that outputs `answer`: check `[agents] disabled` in your config and              `nova agents check`"
        ))
    })
}

/// The repository's index and the question's focus, kept to draw maps of any size.
struct RepoContext {
    index: Index,
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

fn system_prompt(agent: &AgentDef, map: Option<&RepoContext>, budget: usize) -> String {
    let mut prompt = agent.prompt.trim_end().to_owned();
    prompt.push_str("\n\n## This session\n\nNo tools are available in this session: answer from what is below, and say what you could not see.\n");
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
struct Recorder<'s> {
    sink: &'s mut (dyn FnMut(&Event) + Send),
    archive: Option<Archive>,
    seq: usize,
    failed: Option<StoreError>,
}

impl Recorder<'_> {
    fn emit(&mut self, event: Event) {
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

    #[test]
    fn the_builtin_ask_pipeline_routes_to_chat() {
        let set = AgentSet::builtin();
        let pipeline = set.pipeline(ASK_PIPELINE).expect("built in");
        assert_eq!(route(pipeline, &set, &[]).expect("routes").name, "chat");
        let error = route(pipeline, &set, &["chat".to_owned()]).expect_err("disabled");
        assert!(error.to_string().contains("no enabled agent"), "{error}");
    }
}
