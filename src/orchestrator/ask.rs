//! `ask`: a one-off request through the `ask` pipeline. The router picks the agent
//! (`orchestrator::route`), which runs with its tools (`orchestrator::agent`, `tools`) against the
//! model: a question gets an answer that cites what the agent read; a change request gets a
//! candidate that goes down the one change path (guard, prove in the sandbox, commit) onto
//! `nova/ask/<date>`, never the checkout. Outside a repository, or for an agent with no tool
//! this build runs, the answer comes in one turn from the prompt alone.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::agent::{self, Conversation, Ended, Observer, RunBudget, RunLimits, Session, Start};
use super::agents_md::AgentsMd;
use super::events::Event;
use super::handoff::{self, Chain};
use super::landing::{self, Act};
use super::memory::TaskMemory;
use super::prover::Prover;
pub(super) use super::recorder::Recorder;
use super::resume::{self, Checkpoint, Keeper, ResumeError};
use super::route::{self, RouteError};

mod context;
mod prompt;
mod requests;

use crate::agents::{AgentDef, AgentSet, Output, Pipeline, Role};
use crate::config::HookEvent;
use crate::config::RouteBy;
use crate::edit::Patch;
use crate::findings::Finding;
use crate::git::{self, Oid};
use crate::index::{Focus, Index};
use crate::llm::{
    self, ChatRequest, Delta, LlmError, Message, Prices, Provider, StopReason, Usage,
};
use crate::rules::RuleSet;
use crate::store::StoreError;
use crate::tools::{Checks, Toolbox, Tree};
use crate::validate::{Options, ValidationReport, Verdict};
pub(super) use context::RepoContext;
use context::rule_packs;
pub(super) use prompt::prompt;
use prompt::receivers;

/// The pipeline `nova ask` runs.
pub const ASK_PIPELINE: &str = "ask";

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
    /// The run's own budget over all its agents (`[budget]`).
    pub limits: RunLimits,
    /// The repository's `AGENTS.md` files, the nearest of which every agent's prompt carries
    /// (read by the caller: the run does no blocking IO on the async threads).
    pub agents_md: AgentsMd,
    /// The file the request is about (a finding's), whose nearest `AGENTS.md` the agents read;
    /// `None`: the first path the question names, else the repository's own.
    pub works_on: Option<String>,
    /// `--resume RUN`: continue that run from its last turn (its question replaces this one's).
    pub resume: Option<String>,
    /// Who routes the request when `agent` does not name one.
    pub route: RouteBy,
    /// Say who would act and why, and stop there.
    pub explain_route: bool,
    /// The run's time, seconds since the epoch.
    pub time: i64,
    /// Work on this commit for a caller that proves and commits the change itself, instead of
    /// on `HEAD` with the change landed here.
    pub on_tip: Option<OnTip>,
    /// The user's hooks (`[[hooks]]`), run on the run's events.
    pub hooks: crate::hooks::Hooks,
    /// The MCP servers the user's config declares; an agent whose `tools` name one gets its
    /// tools, the server started in the sandbox with `mcp_env`.
    pub mcp_servers: std::collections::BTreeMap<String, crate::config::McpServer>,
    pub mcp_env: Vec<(std::ffi::OsString, std::ffi::OsString)>,
    /// Trailers (`Key: value` lines) the change's commit carries after Nova's own: `nova bench
    /// run` names the evaluator that judges it.
    pub trailers: Vec<String>,
    /// Rule files over the repository's (a variant's `rules/` in `nova bench run`): what the
    /// agents' `review` tool reports, never what judges their change.
    pub rule_dir: Option<PathBuf>,
}

impl AskRequest {
    /// The `AGENTS.md` this request's agents read, with the directory it is in: the nearest one
    /// up from the file it works on.
    pub(super) fn nearest_agents_md(&self) -> Option<(&str, &str)> {
        let named;
        let path = match &self.works_on {
            Some(path) => Some(path.as_str()),
            None => {
                named = Focus::from_task(&self.question).paths;
                // `src/lib.rs:12` is a file and a line.
                named.first().map(|p| p.split(':').next().unwrap_or(p))
            }
        };
        self.agents_md.nearest(path)
    }
}

/// Where an agent works for a caller that proves and commits its change itself (`nova improve`
/// with a model): its tools read `commit`'s tree and start from `seed` (a candidate to repair)
/// when given; its change is returned as [`AskOutcome::proposal`], neither proved nor landed,
/// and `run_checks` and `shell` are refused (the caller holds the sandbox and the lock).
#[derive(Debug, Clone)]
pub struct OnTip {
    pub commit: Oid,
    pub seed: Option<Patch>,
    /// Where `commit` is checked out (the caller's worktree): the repository map is drawn from
    /// its files, so that the map shows what the tools read, not the user's checkout.
    pub files: PathBuf,
    /// The file the work is about (a finding's), for its nearest `AGENTS.md`.
    pub file: Option<String>,
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
    /// With [`AskRequest::on_tip`]: the change the agent made on that commit, for the caller.
    pub proposal: Option<Patch>,
    /// The steps of the plan the agent that ended the run made (a planner's), in order.
    pub steps: Vec<String>,
    /// What the agent that ended the run reported with `report_finding` (a reviewer's work).
    pub findings: Vec<Finding>,
    /// The domain agents whose changes, made at the agent's request, are in its change.
    pub helpers: Vec<String>,
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
    #[error("the `{agent}` agent was stopped: {why}; nothing was committed{}", resume_hint(.run.as_deref()))]
    Stopped {
        agent: String,
        why: String,
        /// The run to resume, when the archive keeps it.
        run: Option<String>,
    },
    #[error(transparent)]
    Resume(#[from] ResumeError),
    #[error(
        "run `{run}` worked on commit `{base}`, which this repository no longer has: ask again"
    )]
    MissingBase { run: String, base: String },
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

/// The run `--resume` names, with its checkpoint.
fn resuming(request: &AskRequest) -> Result<Option<(i64, String, Checkpoint)>, AskError> {
    match (&request.resume, &request.repo_root) {
        (Some(id), Some(root)) => Ok(Some(resume::load(root, id)?)),
        (Some(id), None) => Err(ResumeError::NoRun(id.clone()).into()),
        (None, _) => Ok(None),
    }
}

fn resume_hint(run: Option<&str>) -> String {
    run.map(|run| format!("; `nova ask --resume {run}` continues from its last turn"))
        .unwrap_or_default()
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
    let resumed = resuming(request)?;
    // A resumed run asks what it asked before, of the commit it started from.
    let request = &AskRequest {
        question: resumed
            .as_ref()
            .map_or_else(|| request.question.clone(), |(_, _, c)| c.question.clone()),
        ..request.clone()
    };
    let base = base_of(request, resumed.as_ref())?;
    let can_change = base.is_some() && (request.validation.is_some() || request.on_tip.is_some());
    let context = RepoContext::of(request).await;
    let tree = request
        .repo_root
        .clone()
        .zip(base)
        .map(|(root, commit)| GitTree { root, commit });
    let rules = rule_packs(request, set);
    let reopened = resumed.as_ref().map(|(seq, id, _)| (*seq, id.clone()));
    let mut rec = Recorder::open(sink, request, reopened)?;
    let mut holder = match resumed {
        Some((_, id, checkpoint)) => {
            Holder::resumed(pipeline, set, request, id, checkpoint, &mut rec)?
        }
        None => Holder::routed(
            pipeline,
            set,
            request,
            can_change,
            repo_of(request, context.as_ref()),
            &mut rec,
        )?,
    };
    if let Some(seed) = request.on_tip.as_ref().and_then(|on| on.seed.clone()) {
        holder.carried = Some(seed);
    }
    let scene = Scene {
        request,
        set,
        provider,
        context: context.as_ref(),
        tree: tree.as_ref(),
        rules: rules.as_ref(),
        started,
        pipeline,
        can_change,
    };
    let acted = act(&scene, base, holder, &mut rec)
        .await
        .inspect_err(|error| rec.finish("failed", &error.to_string(), request.time))?;
    let Acted {
        agent,
        answer,
        stop,
        toolbox,
        mut usage,
        helpers,
    } = acted;
    let run = rec.archive.as_ref().map(|archive| archive.id.clone());
    let (findings, steps) = reported(toolbox.as_ref());
    let made = to_land(toolbox.as_ref(), agent, &answer, base);
    let (change, proposal) = match made {
        Some((patch, _)) if request.on_tip.is_some() => (None, Some(patch)),
        Some((patch, base)) => {
            let by = (agent, helpers.as_slice());
            let landed = land(&scene, pipeline, base, by, patch, &mut usage, &mut rec).await?;
            (Some(landed), None)
        }
        None => (None, None),
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
        proposal,
        steps,
        findings,
        helpers: helpers.iter().map(|h| h.name.clone()).collect(),
    })
}

/// What the agent that ended the run reported: its findings, and its plan's steps.
fn reported(toolbox: Option<&Toolbox<'_>>) -> (Vec<Finding>, Vec<String>) {
    let Some(tools) = toolbox else {
        return (Vec::new(), Vec::new());
    };
    let steps = tools
        .finished()
        .map(|finish| finish.steps.clone())
        .unwrap_or_default();
    (tools.findings().to_vec(), steps)
}

/// The commit the agents work on: the caller's, a resumed run's, else `HEAD`; none outside a
/// repository.
fn base_of(
    request: &AskRequest,
    resumed: Option<&(i64, String, Checkpoint)>,
) -> Result<Option<Oid>, AskError> {
    Ok(match (resumed, &request.on_tip) {
        (_, Some(on)) => Some(on.commit),
        (Some((_, id, checkpoint)), None) => Some(resumed_base(request, id, &checkpoint.base)?),
        (None, None) => request
            .repo_root
            .as_deref()
            .and_then(|root| git::head_commit(root).ok()),
    })
}

/// The change to land: the patch of the agent that ended the run, when it makes patches and made
/// one, on the run's base.
fn to_land(
    toolbox: Option<&Toolbox<'_>>,
    agent: &AgentDef,
    answer: &str,
    base: Option<Oid>,
) -> Option<(Patch, Oid)> {
    let tools = toolbox.filter(|_| agent.role.output() == Output::Patch)?;
    Some((tools.patch(answer)?, base?))
}

/// `--explain-route` with the offline router: the agent that would act on `question` and why,
/// with no model and nothing run. `can_change`: a change could land here.
pub fn explain_offline(
    set: &AgentSet,
    disabled: &[String],
    root: Option<&Path>,
    named: Option<&str>,
    question: &str,
    can_change: bool,
) -> Result<String, AskError> {
    let pipeline = ask_pipeline(set)?;
    let index = root.map(Index::build);
    let repo = root
        .zip(index.as_ref())
        .map(|(root, index)| route::Repo { index, root });
    let (agent, why) = route::choose(pipeline, set, disabled, named, question, can_change, repo)?;
    Ok(format!("{}: {why}", agent.name))
}

/// The repository as the offline router reads it, when the request has one and its index.
fn repo_of<'r>(
    request: &'r AskRequest,
    context: Option<&'r RepoContext>,
) -> Option<route::Repo<'r>> {
    Some(route::Repo {
        index: &context?.index,
        root: request.repo_root.as_deref()?,
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
    /// The rule packs the agents' `review` tool runs, when one of them has it.
    rules: Option<&'a Result<RuleSet, String>>,
    started: Instant,
    pipeline: &'a Pipeline,
    /// A change could land (a repository, and a sandbox to prove it in).
    can_change: bool,
}

impl Scene<'_> {
    /// Where `agent`'s `run_checks` and `shell` run: the sandbox on the run's base, where a change
    /// could be proved at all.
    fn prover(&self, agent: &AgentDef) -> Option<Prover> {
        if self.request.on_tip.is_some() {
            return None;
        }
        let tree = self.tree?;
        Prover::new(self.request, &tree.root, tree.commit, agent)
    }
}

/// What the agents made of a request: the agent that ended it, its answer (or what its change
/// does), its tools with its candidate, and what they all used.
struct Acted<'a> {
    agent: &'a AgentDef,
    answer: String,
    stop: StopReason,
    toolbox: Option<Toolbox<'a>>,
    usage: Usage,
    /// Domain agents whose changes, made at the agent's request, are in its candidate.
    helpers: Vec<&'a AgentDef>,
}

/// Where a request's work is: the agent holding it, its task, the conversation it had (when
/// resumed), the candidate and findings it was handed or kept, the task memory, what earlier
/// agents spent, and the chain of agents so far.
struct Holder<'a> {
    agent: &'a AgentDef,
    /// Why it holds the work, when routing gave it the work.
    why: Option<String>,
    task: String,
    conversation: Option<Conversation>,
    carried: Option<Patch>,
    findings: Vec<Finding>,
    memory: TaskMemory,
    spent: Usage,
    chain: Chain,
    /// Agents waiting for the part they asked of the holder (or of an owner it asked in turn).
    waiting: Vec<requests::Waiting<'a>>,
    /// Domain agents whose changes the candidate holds, besides the holder's.
    helpers: Vec<&'a AgentDef>,
}

impl<'a> Holder<'a> {
    /// A new request, with the agent the router chose.
    fn fresh(
        pipeline: &Pipeline,
        set: &AgentSet,
        request: &AskRequest,
        agent: &'a AgentDef,
    ) -> Self {
        Holder {
            agent,
            why: None,
            task: request.question.clone(),
            conversation: None,
            carried: None,
            findings: Vec::new(),
            memory: TaskMemory::new(&request.question),
            spent: Usage::default(),
            chain: Chain::new(
                handoff::receivers(pipeline, set, &request.disabled),
                &agent.name,
            )
            .with_domains(handoff::domains(set, &request.disabled)),
            waiting: Vec::new(),
            helpers: Vec::new(),
        }
    }

    /// A new request, routed to its agent: `--agent`, else the `router` agent when the model
    /// routes (its choice comes as a handoff), else the offline classifier's choice.
    fn routed(
        pipeline: &Pipeline,
        set: &'a AgentSet,
        request: &AskRequest,
        can_change: bool,
        repo: Option<route::Repo<'_>>,
        rec: &mut Recorder<'_>,
    ) -> Result<Self, AskError> {
        // A caller working on its own tip runs the agent its own pipeline named.
        if let (Some(_), Some(name)) = (&request.on_tip, &request.agent) {
            let agent = set.agent(name).ok_or_else(|| {
                AskError::Pipeline(format!("there is no `{name}` agent in the agent set"))
            })?;
            return Ok(Holder::fresh(pipeline, set, request, agent));
        }
        if request.agent.is_none()
            && request.route == RouteBy::Model
            && let Some(router) = router(pipeline, set, &request.disabled)
        {
            return Ok(Holder::fresh(pipeline, set, request, router));
        }
        let (agent, why) = route::choose(
            pipeline,
            set,
            &request.disabled,
            request.agent.as_deref(),
            &request.question,
            can_change,
            repo,
        )?;
        rec.emit(Event::Routed {
            agent: agent.name.clone(),
            why: why.clone(),
        });
        Ok(Holder {
            why: Some(why),
            ..Holder::fresh(pipeline, set, request, agent)
        })
    }

    /// A run resumed from its checkpoint.
    fn resumed(
        pipeline: &Pipeline,
        set: &'a AgentSet,
        request: &AskRequest,
        run: String,
        checkpoint: Checkpoint,
        rec: &mut Recorder<'_>,
    ) -> Result<Self, AskError> {
        let agent = set.agent(&checkpoint.agent).ok_or_else(|| {
            AskError::Pipeline(format!(
                "run `{run}` was with the `{}` agent, which this agent set no longer has: \
                 restore its file, or ask again",
                checkpoint.agent
            ))
        })?;
        rec.emit(Event::Resumed {
            run,
            agent: agent.name.clone(),
            turn: checkpoint.conversation.turn,
        });
        let mut chain = Chain::new(
            handoff::receivers(pipeline, set, &request.disabled),
            &agent.name,
        )
        .with_domains(handoff::domains(set, &request.disabled));
        chain.agents = checkpoint.chain;
        Ok(Holder {
            agent,
            why: None,
            task: checkpoint.task,
            conversation: Some(checkpoint.conversation),
            carried: (!checkpoint.candidate.is_empty()).then(|| Patch {
                summary: String::new(),
                changes: checkpoint.candidate,
            }),
            findings: checkpoint.findings,
            memory: checkpoint.memory,
            spent: checkpoint.spent,
            chain,
            waiting: requests::rewait(set, checkpoint.waiting),
            helpers: checkpoint
                .helpers
                .iter()
                .filter_map(|name| set.agent(name))
                .collect(),
        })
    }
}

/// The enabled router of the pipeline's route stage, when it has one.
fn router<'s>(pipeline: &Pipeline, set: &'s AgentSet, disabled: &[String]) -> Option<&'s AgentDef> {
    pipeline
        .stages
        .iter()
        .flat_map(|stage| &stage.agents)
        .filter(|name| !disabled.contains(name))
        .filter_map(|name| set.agent(name))
        .find(|agent| agent.role == Role::Router)
}

/// The commit a resumed run worked on, which must still be in the repository.
fn resumed_base(request: &AskRequest, run: &str, base: &str) -> Result<Oid, AskError> {
    let missing = || AskError::MissingBase {
        run: run.to_owned(),
        base: base.to_owned(),
    };
    let oid = Oid::from_str(base).map_err(|_| missing())?;
    let root = request.repo_root.as_deref().ok_or_else(missing)?;
    match git::has_commit(root, oid) {
        Ok(true) => Ok(oid),
        _ => Err(missing()),
    }
}

/// Runs the holder's agent on the request, then each agent the work is handed to, until one
/// finishes or answers. A handoff carries the sender's candidate and findings to the receiver.
async fn act<'a>(
    scene: &Scene<'a>,
    base: Option<Oid>,
    mut holder: Holder<'a>,
    rec: &mut Recorder<'_>,
) -> Result<Acted<'a>, AskError> {
    let request = scene.request;
    let index = scene.context.map(|c| &c.index);
    let base = base.map(|oid| oid.to_string()).unwrap_or_default();
    loop {
        let agent = holder.agent;
        if request.explain_route
            && let Some(explained) = holder.explained()
        {
            return Ok(explained);
        }
        let mut toolbox = scene.tree.map(|tree| {
            let tools = Toolbox::new(agent, tree, index)
                .with_handoffs(holder.chain.rules())
                .with_requests(holder.requests(scene));
            match scene.rules {
                Some(rules) => tools.with_rules(rules),
                None => tools,
            }
        });
        if let Some(tools) = toolbox.as_mut() {
            if let Some(patch) = &holder.carried {
                tools.seed(patch);
            }
            tools.seed_findings(std::mem::take(&mut holder.findings));
        }
        let run = rec.archive.as_ref().map(|archive| archive.id.clone());
        let Talked {
            ended,
            usage: used,
            stop,
            conversation,
        } = holder.talk(scene, &base, toolbox.as_mut(), rec).await?;
        holder.spent = holder.spent.plus(used);
        let stopped = |why: String| AskError::Stopped {
            agent: agent.name.clone(),
            why,
            run: run.clone(),
        };
        let answer = match ended {
            _ if agent.role == Role::Router => {
                holder.route(scene, ended, rec)?;
                continue;
            }
            Ended::Requested(asked) => {
                let conversation = conversation.unwrap_or_default();
                holder
                    .ask_owner(scene, &asked, toolbox.as_ref(), conversation, rec)
                    .map_err(stopped)?;
                continue;
            }
            // An owner done with the part it was asked for gives the work back.
            Ended::Finished(said) | Ended::Answered(said) if holder.is_asked() => {
                holder.give_back(Ok(said), toolbox.as_ref(), rec);
                continue;
            }
            Ended::Stopped(why) | Ended::Invalid(why) if holder.is_asked() => {
                holder.give_back(Err(why), toolbox.as_ref(), rec);
                continue;
            }
            Ended::Finished(answer) | Ended::Answered(answer) => answer,
            Ended::HandedOff(handed) => {
                holder
                    .hand_on(scene, &handed, toolbox.as_ref(), rec)
                    .map_err(stopped)?;
                continue;
            }
            Ended::Stopped(why) | Ended::Invalid(why) => return Err(stopped(why)),
        };
        return Ok(Acted {
            agent,
            answer,
            stop,
            toolbox,
            usage: holder.spent,
            helpers: holder.helpers,
        });
    }
}

impl<'a> Holder<'a> {
    /// The holding agent's turn at the work, each of its turns kept as the run's checkpoint.
    async fn talk(
        &mut self,
        scene: &Scene<'a>,
        base: &str,
        toolbox: Option<&mut Toolbox<'_>>,
        rec: &mut Recorder<'_>,
    ) -> Result<Talked, AskError> {
        let (agent, request) = (self.agent, scene.request);
        let talk = Talk {
            agent,
            task: &self.task,
            first: self.chain.agents.len() == 1 && self.conversation.is_none(),
            conversation: self.conversation.take(),
            spent: self.spent,
        };
        let mut keeper = Keeper {
            rec,
            question: &request.question,
            base: base.to_owned(),
            agent: &agent.name,
            task: &self.task,
            chain: &self.chain.agents,
            spent: self.spent,
            waiting: self.waited(),
            helpers: self.helpers.iter().map(|h| h.name.clone()).collect(),
            quiet: agent.role == Role::Router,
        };
        converse(scene, &talk, toolbox, &mut self.memory, &mut keeper).await
    }

    /// Who acts and why, for `--explain-route`, once routing has chosen.
    fn explained(&self) -> Option<Acted<'a>> {
        let why = self.why.as_ref()?;
        Some(Acted {
            agent: self.agent,
            answer: format!("{}: {why}", self.agent.name),
            stop: StopReason::EndTurn,
            toolbox: None,
            usage: self.spent,
            helpers: Vec::new(),
        })
    }

    /// The holder handed the work on: the receiver takes it with the sender's candidate and
    /// findings.
    fn hand_on(
        &mut self,
        scene: &Scene<'a>,
        handed: &crate::tools::Handoff,
        toolbox: Option<&Toolbox<'_>>,
        rec: &mut Recorder<'_>,
    ) -> Result<(), String> {
        let next = scene.set.agent(&handed.to).ok_or_else(|| {
            format!(
                "it handed the work to `{}`, which is not an agent",
                handed.to
            )
        })?;
        let findings = toolbox.map(|t| t.findings().to_vec()).unwrap_or_default();
        self.carried = toolbox.and_then(|t| t.patch(&handed.message));
        rec.emit(self.chain.hop(&self.agent.name, handed));
        self.task = handoff::task(&self.agent.name, handed, &findings, &scene.request.question);
        self.agent = next;
        Ok(())
    }
}

impl<'a> Holder<'a> {
    /// The router is done: the work goes to the agent it handed it to, or, when it chose none
    /// (it answered, or was stopped), to the offline classifier's choice. Either is a `routed`
    /// event.
    fn route(
        &mut self,
        scene: &Scene<'a>,
        ended: Ended,
        rec: &mut Recorder<'_>,
    ) -> Result<(), AskError> {
        let request = scene.request;
        let chosen = match &ended {
            Ended::HandedOff(handed) => scene
                .set
                .agent(&handed.to)
                .map(|agent| (agent, format!("the router chose it: {}", handed.message))),
            _ => None,
        };
        let (agent, why) = match chosen {
            Some(chosen) => chosen,
            None => {
                let reason = match &ended {
                    Ended::Stopped(why) | Ended::Invalid(why) => why.clone(),
                    _ => String::from("it answered instead of handing the request on"),
                };
                let (agent, why) = route::choose(
                    scene.pipeline,
                    scene.set,
                    &request.disabled,
                    None,
                    &request.question,
                    scene.can_change,
                    repo_of(request, scene.context),
                )?;
                (
                    agent,
                    format!("the router made no choice ({reason}); offline, {why}"),
                )
            }
        };
        rec.emit(Event::Routed {
            agent: agent.name.clone(),
            why: why.clone(),
        });
        if let Ended::HandedOff(handed) = &ended {
            self.task = handoff::task(&self.agent.name, handed, &[], &request.question);
        }
        self.chain.agents.push(agent.name.clone());
        self.agent = agent;
        self.why = Some(why);
        Ok(())
    }
}

/// Lands the candidate `agent` made on `base`: proved, repaired by the pipeline's fixer if
/// rejected, described by its committer, committed.
async fn land(
    scene: &Scene<'_>,
    pipeline: &Pipeline,
    base: Oid,
    (agent, helpers): (&AgentDef, &[&AgentDef]),
    patch: Patch,
    usage: &mut Usage,
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
        started: scene.started,
        used: std::sync::Mutex::new(*usage),
        helpers: helpers.to_vec(),
    };
    let landed = landing::land(&act, agent, patch, rec).await;
    *usage = *act.used.lock().expect("no panic while held");
    landed
}

/// One agent's part of a request: who, on what task, whether it is the first to act (which
/// announces the run), the conversation it resumes, and what the run spent before it.
struct Talk<'a> {
    agent: &'a AgentDef,
    task: &'a str,
    first: bool,
    conversation: Option<Conversation>,
    spent: Usage,
}

/// How one agent's part of a request went: how it ended, its usage, why the model stopped, and
/// its conversation (for an agent that waits for a part it asked of another owner).
struct Talked {
    ended: Ended,
    usage: Usage,
    stop: StopReason,
    conversation: Option<Conversation>,
}

/// The agent's conversation: with its tools where it has any this build runs, else one answer
/// from the prompt alone. How it ended, its usage and why the model stopped.
async fn converse(
    scene: &Scene<'_>,
    talk: &Talk<'_>,
    toolbox: Option<&mut Toolbox<'_>>,
    memory: &mut TaskMemory,
    keeper: &mut Keeper<'_, '_>,
) -> Result<Talked, AskError> {
    let (hooks, agent) = (&scene.request.hooks, talk.agent);
    let stopped = |why: String| {
        Ok(Talked {
            ended: Ended::Stopped(why),
            usage: Usage::default(),
            stop: StopReason::EndTurn,
            conversation: None,
        })
    };
    if talk.first {
        let payload = serde_json::json!({
            "agent": agent.name,
            "request": scene.request.question,
            "repository": scene.request.repo_root,
        });
        if let Some(why) = agent::fire(hooks, HookEvent::SessionStart, None, payload, keeper).await
        {
            return stopped(format!("a `session_start` hook blocked the run: {why}"));
        }
    }
    let payload = serde_json::json!({"agent": agent.name, "task": talk.task});
    if let Some(why) = agent::fire(hooks, HookEvent::SubagentStart, None, payload, keeper).await {
        return stopped(format!("a `subagent_start` hook blocked it: {why}"));
    }
    let talked = talk_with(scene, talk, toolbox, memory, keeper).await;
    let how = match &talked {
        Ok(Talked {
            ended: Ended::Answered(_),
            ..
        }) => "answered",
        Ok(Talked {
            ended: Ended::Finished(_),
            ..
        }) => "finished",
        Ok(Talked {
            ended: Ended::HandedOff(_),
            ..
        }) => "handed_off",
        Ok(Talked {
            ended: Ended::Requested(_),
            ..
        }) => "requested",
        Ok(Talked {
            ended: Ended::Stopped(_) | Ended::Invalid(_),
            ..
        }) => "stopped",
        Err(_) => "failed",
    };
    let payload = serde_json::json!({"agent": agent.name, "ended": how});
    // The agent is done: a hook here is heard (its run is an event), not obeyed.
    agent::fire(hooks, HookEvent::SubagentStop, None, payload, keeper).await;
    talked
}

/// One agent's conversation, once its hooks let it start.
async fn talk_with(
    scene: &Scene<'_>,
    talk: &Talk<'_>,
    toolbox: Option<&mut Toolbox<'_>>,
    memory: &mut TaskMemory,
    keeper: &mut Keeper<'_, '_>,
) -> Result<Talked, AskError> {
    let (request, provider, agent) = (scene.request, scene.provider, talk.agent);
    let mcp = mcp_tools(request, agent, keeper).await;
    let toolbox = toolbox.filter(|tools| tools.specs().len() > 1 || !mcp.specs().is_empty());
    let agents_md = request.nearest_agents_md();
    let mut tools: Vec<String> = toolbox
        .as_ref()
        .map(|t| t.specs().into_iter().map(|s| s.name).collect())
        .unwrap_or_default();
    tools.extend(mcp.specs().into_iter().map(|s| s.name));
    let mut chat = prompt(request, agent, scene.context, &tools, agents_md)?;
    chat.messages = vec![Message::user(talk.task)];
    if tools.iter().any(|t| t == "handoff") {
        chat.system.push_str(&receivers(scene, agent, talk.task));
    }
    if tools.iter().any(|t| t == "request_change") {
        chat.system.push_str(&requests::owners_prompt(scene, agent));
    }
    if talk.first {
        keeper.event(Event::AskStarted {
            run: keeper
                .rec
                .archive
                .as_ref()
                .map(|archive| archive.id.clone()),
            agent: agent.name.clone(),
            provider: provider.describe(),
            model: chat.model.clone(),
            prompt_tokens: llm::estimate(&chat),
        });
    }
    let Some(toolbox) = toolbox else {
        let reply = answer(provider, &chat, agent, keeper.rec).await?;
        return Ok(Talked {
            ended: Ended::Answered(reply.text),
            usage: reply.usage,
            stop: reply.stop,
            conversation: None,
        });
    };
    let prover = scene.prover(agent);
    let session = Session {
        agent,
        hooks: &request.hooks,
        mcp: Some(&mcp),
        provider,
        model: chat.model.clone(),
        system: chat.system.clone(),
        max_tokens: request.max_tokens,
        text_tools: request.text_tools,
        reasoning: request.reasoning,
        window: request.context_window,
        run: RunBudget {
            limits: request.limits,
            prices: request.prices,
            started: scene.started,
            spent: talk.spent,
        },
        checks: prover.as_ref().map(|p| p as &dyn Checks),
    };
    let start = match &talk.conversation {
        Some(conversation) => Start::Resume(conversation.clone()),
        None => Start::Task(talk.task),
    };
    let outcome = agent::run(&session, toolbox, start, memory, keeper).await?;
    Ok(Talked {
        ended: outcome.ended,
        usage: outcome.usage,
        stop: StopReason::EndTurn,
        conversation: Some(outcome.conversation),
    })
}

/// The MCP tools `agent` may use: the servers its `tools` name, started for this part of the run;
/// a server that cannot be used is a warning, and the agent goes on without it.
async fn mcp_tools(
    request: &AskRequest,
    agent: &AgentDef,
    keeper: &mut Keeper<'_, '_>,
) -> crate::mcp::McpTools {
    if !agent.tools.iter().any(|t| t.starts_with("mcp:")) {
        return crate::mcp::McpTools::default();
    }
    let root = request
        .on_tip
        .as_ref()
        .map(|on| on.files.clone())
        .or_else(|| request.repo_root.clone())
        .unwrap_or_default();
    let (tools, problems) = crate::mcp::McpTools::start(
        &agent.tools,
        &agent.scope.read,
        &request.mcp_servers,
        &root,
        &request.mcp_env,
    )
    .await;
    for why in problems {
        keeper.event(Event::AgentGuarded {
            agent: agent.name.clone(),
            stopped: false,
            why,
        });
    }
    tools
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

    fn read_many(&self, paths: &[&str]) -> Vec<Option<String>> {
        match git::read_blobs(&self.root, self.commit, paths) {
            Ok(blobs) => blobs
                .into_iter()
                .map(|blob| String::from_utf8(blob?).ok())
                .collect(),
            Err(_) => vec![None; paths.len()],
        }
    }
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("");
    let mut short: String = line.chars().take(80).collect();
    if short.len() < line.len() {
        short.push('…');
    }
    short
}
