//! `nova ask`: a one-off question or task, answered by the agent the `ask` pipeline routes it to,
//! streamed to stdout as it arrives.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;

use super::output::{BOLD, DIM, GREEN, RED};
use super::validation::{ValidationArgs, print_baseline};
use super::{CommandError, Context, Exit};
use crate::agents::{self, AgentSet};
use crate::config::{Config, ProviderKind, RouteBy, Source, ToolCalls};
use crate::hooks::Hooks;
use crate::llm::{self, ApiKey, Client, ClientOptions, Format, LlmError, Prices, RetryPolicy};
use crate::orchestrator::{
    self, AgentsMd, AskError, AskRequest, ChangeOutcome, Event, ResumeError, RunLimits,
};

/// How the model is asked: reply and map sizes, recording and replaying. `ask` and `bench run`
/// share them.
#[derive(Debug, Args)]
pub(super) struct ExchangeArgs {
    /// The most tokens the answer may have
    #[arg(long, value_name = "N", default_value_t = 4096)]
    pub max_tokens: u32,
    /// The repository map's share of the prompt, in tokens (0: no map)
    #[arg(long, value_name = "N", default_value_t = 4096)]
    pub map_tokens: usize,
    /// Write every exchange with the model to FILE, one JSON line each (never the key)
    #[arg(long, value_name = "FILE", conflicts_with = "replay")]
    pub record: Option<PathBuf>,
    /// Answer from a recording made with `--record`, with no network; fails if the requests differ
    #[arg(long, value_name = "FILE")]
    pub replay: Option<PathBuf>,
}

/// Ask a question about the repository, or for a one-off change, proved and committed on a branch.
///
/// The request goes through the `ask` pipeline to the agent that acts on it (a question to `chat`,
/// a change request to `refactorer`, or `--agent NAME`), which works with its tools. A change is
/// built, tested and linted in the sandbox and committed on `nova/ask/<date>`, never in the
/// checkout. Needs a language model: `--provider openai`, `anthropic` or
/// `ollama` (see `nova config show`). Usage and cost go to stderr; `--json` prints events as JSON
/// lines. Failed requests are retried (429, 5xx, 529, resets, cut or stalled streams); refusals
/// (400, 401, 403, 404, prompt too long) are not. Ctrl-C stops at once (exit code 130).
#[derive(Debug, Args)]
pub struct AskArgs {
    /// The question or task; `-` reads it from stdin
    #[arg(required_unless_present = "resume", value_name = "QUESTION")]
    question: Vec<String>,
    /// Continue run RUN (its id or number in `nova runs list`) from its last finished turn: after
    /// a crash, Ctrl-C or kill, or when a budget or the loop guard stopped it
    #[arg(long, value_name = "RUN", conflicts_with_all = ["question", "agent", "explain_route"])]
    resume: Option<String>,
    #[command(flatten)]
    exchange: ExchangeArgs,
    /// The agent that acts, instead of the one the router picks
    #[arg(long, value_name = "NAME")]
    agent: Option<String>,
    /// Who routes the request: `offline` (the classifier over the agents' descriptions) or `model`
    /// (the `router` agent); default `[agents] route` in the config, else `offline`
    #[arg(long, value_name = "HOW")]
    route: Option<RouteBy>,
    /// Say which agent would act on the request, and why, then stop (a model router costs one
    /// short call)
    #[arg(long)]
    explain_route: bool,
    /// The review branch for a change; default `nova/ask/<date>-<time>`
    #[arg(long, value_name = "NAME")]
    branch: Option<String>,
    #[command(flatten)]
    validation: ValidationArgs,
}

pub fn run(cx: &Context<'_>, args: &AskArgs) -> Result<Exit, CommandError> {
    let question = question(args)?;
    let root = cx.repo()?;
    let config = cx.config(root.as_deref())?;
    let set = AgentSet::for_repo(root.as_deref()).map_err(CommandError::usage)?;
    let problems = agents::check(&set);
    if let Some(first) = problems.first() {
        return Err(CommandError::usage(anyhow::anyhow!(
            "the agent set has {} problem(s), the first: {first}. Run `nova agents check` to see them all",
            problems.len()
        )));
    }
    // The offline router's choice needs no model: it is explained without one.
    if args.explain_route && args.route.unwrap_or(config.route.value) == RouteBy::Offline {
        return explain_offline(cx, args, &config, &set, root.as_deref(), &question);
    }
    let agent_model = set.agent("chat").and_then(|agent| agent.model.clone());
    let Connected {
        client,
        model,
        settings:
            ModelSettings {
                context_window,
                prices,
                text_tools,
                reasoning,
            },
    } = connect(
        cx,
        &config,
        agent_model,
        args.exchange.record.clone(),
        args.exchange.replay.clone(),
    )?;
    // A change can land only where it can be proved: in a repository, with the sandbox (or with
    // `--unsafe-no-sandbox`). Without either, a change request is answered instead.
    let validation = match &root {
        Some(_) => match args.validation.options(cx, &config) {
            Ok((options, _)) => Some(options),
            Err(error) => {
                cx.printer.warn(&format!(
                    "changes cannot be proved here, so none will be made: {:#}",
                    error.error
                ));
                None
            }
        },
        None => None,
    };
    let hooks = hooks_of(cx, &config, root.as_deref());
    let request = AskRequest {
        hooks,
        mcp_servers: config.mcp_servers.clone(),
        mcp_env: mcp_env(cx),
        text_tools,
        reasoning,
        limits: run_limits(&config),
        resume: args.resume.clone(),
        agents_md: root.as_deref().map(AgentsMd::read).unwrap_or_default(),
        works_on: None,
        route: args.route.unwrap_or(config.route.value),
        explain_route: args.explain_route,
        question,
        repo_root: root,
        agent: args.agent.clone(),
        branch: args.branch.clone(),
        validation,
        model,
        max_tokens: args.exchange.max_tokens,
        context_window,
        map_tokens: args.exchange.map_tokens,
        prices,
        disabled: config.disabled_agents.value.clone(),
        time: cx.env.source_date_epoch().unwrap_or_else(orchestrator::now),
        on_tip: None,
        trailers: Vec::new(),
        rule_dir: None,
    };

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CommandError::environment)?;
    let mut view = View::new(cx);
    let outcome = runtime.block_on(async {
        let mut sink = |event: &Event| view.show(event);
        let answer = orchestrator::ask(&request, &set, &client, &mut sink);
        // Ctrl-C first: its handler is in place before the request starts.
        tokio::select! {
            biased;
            _ = tokio::signal::ctrl_c() => None,
            outcome = answer => Some(outcome),
        }
    });
    view.end_answer();
    match outcome {
        None => {
            cx.printer.warn("interrupted: the request was cancelled");
            Ok(Exit::Interrupted)
        }
        Some(Ok(outcome)) => match &outcome.change {
            Some(change) => report_change(cx, change),
            None => Ok(Exit::Success),
        },
        Some(Err(error)) => Err(ask_error(error)),
    }
}

/// `--explain-route` with the offline router: who would act and why, no model asked.
fn explain_offline(
    cx: &Context<'_>,
    args: &AskArgs,
    config: &Config,
    set: &AgentSet,
    root: Option<&Path>,
    question: &str,
) -> Result<Exit, CommandError> {
    let can_change = root.is_some() && args.validation.options(cx, config).is_ok();
    let why = orchestrator::explain_offline(
        set,
        &config.disabled_agents.value,
        root,
        args.agent.as_deref(),
        question,
        can_change,
    )
    .map_err(ask_error)?;
    cx.printer.line(&why)?;
    Ok(Exit::Success)
}

/// The exit an ask's error maps to.
pub(super) fn ask_error(error: AskError) -> CommandError {
    match error {
        AskError::Resume(ResumeError::Store(_)) => CommandError::environment(error),
        AskError::Pipeline(_)
        | AskError::Route(_)
        | AskError::Resume(_)
        | AskError::MissingBase { .. } => CommandError::usage(error),
        AskError::Branch(
            crate::git::BranchError::Invalid(_) | crate::git::BranchError::Exists(_),
        ) => CommandError::usage(error),
        AskError::Llm(error) => llm_error(error),
        AskError::Stopped { .. } | AskError::CannotProve => CommandError::failure(error),
        AskError::OutOfTime { .. }
        | AskError::Store(_)
        | AskError::Land(_)
        | AskError::Branch(_)
        | AskError::Lock(_) => CommandError::environment(error),
    }
}

/// What became of the agent's change: the branch it is on, or why it was refused.
fn report_change(cx: &Context<'_>, change: &ChangeOutcome) -> Result<Exit, CommandError> {
    let p = &cx.printer;
    if p.json() {
        // The events said it all (`candidate_accepted` with the commit, or `candidate_rejected`
        // with the reasons); stdout stays JSON lines.
        return Ok(if change.commit.is_some() {
            Exit::Success
        } else {
            Exit::Failure
        });
    }
    if change.base_failed {
        p.line(&p.paint(
            RED,
            "The base cannot judge a change (it does not build, or its tests do not run to the \
             end); nothing was tried.",
        ))?;
        print_baseline(p, &change.base)?;
        return Ok(Exit::Failure);
    }
    for line in change.diff.lines() {
        p.line(line)?;
    }
    let validation = change
        .report
        .as_ref()
        .map(|r| r.summary())
        .unwrap_or_default();
    match (&change.branch, &change.commit, &change.verdict) {
        (Some(branch), Some(commit), _) => {
            p.line(&format!("{} {validation}", p.paint(GREEN, "Validated:")))?;
            p.line(&format!(
                "{} {branch} ({})",
                p.paint(BOLD, "Branch:"),
                &commit[..commit.len().min(10)]
            ))?;
            p.line(&format!(
                "Review it with `git log -p HEAD..{branch}`; merge it if you like it."
            ))?;
            Ok(Exit::Success)
        }
        (_, _, verdict) => {
            p.line(&p.paint(RED, "Rejected:"))?;
            for reason in verdict.iter().flat_map(|v| &v.reasons) {
                p.line(&format!("  {reason}"))?;
            }
            p.line("Nothing was committed.")?;
            Ok(Exit::Failure)
        }
    }
}

/// The run's own budget over all its agents, from `[budget]`.
pub(super) fn run_limits(config: &Config) -> RunLimits {
    RunLimits {
        tokens: config.budget.tokens.value,
        cost_usd: config.budget.cost_usd.value,
        seconds: config.budget.seconds.value,
    }
}

/// The request the agents' runs of another command (`review`, `improve`) start from: the model
/// `connected` talks to, the configuration's budget and disabled agents, the repository at
/// `root` and its `AGENTS.md`, a map of `map_tokens`, offline routing.
pub(super) fn agent_template(
    cx: &Context<'_>,
    config: &Config,
    root: &std::path::Path,
    connected: &Connected,
    map_tokens: usize,
) -> AskRequest {
    let settings = &connected.settings;
    AskRequest {
        question: String::new(),
        repo_root: Some(root.to_path_buf()),
        model: connected.model.clone(),
        max_tokens: 4096,
        context_window: settings.context_window,
        map_tokens,
        prices: settings.prices,
        disabled: config.disabled_agents.value.clone(),
        agent: None,
        validation: None,
        branch: None,
        text_tools: settings.text_tools,
        reasoning: settings.reasoning,
        limits: run_limits(config),
        hooks: hooks_of(cx, config, Some(root)),
        mcp_servers: config.mcp_servers.clone(),
        mcp_env: mcp_env(cx),
        agents_md: AgentsMd::read(root),
        works_on: None,
        resume: None,
        route: RouteBy::Offline,
        explain_route: false,
        time: cx.env.source_date_epoch().unwrap_or_else(orchestrator::now),
        on_tip: None,
        trailers: Vec::new(),
        rule_dir: None,
    }
}

/// What an MCP server started for an agent may see of the environment: what a sandboxed build
/// may (the toolchain's variables, nothing that holds a secret).
pub(super) fn mcp_env(cx: &Context<'_>) -> Vec<(std::ffi::OsString, std::ffi::OsString)> {
    cx.env
        .sandbox_vars()
        .into_iter()
        .map(|(k, v)| (k.into(), v.into()))
        .collect()
}

/// The user's hooks, run in `root` (else the current directory) with the user's environment.
pub(super) fn hooks_of(cx: &Context<'_>, config: &Config, root: Option<&std::path::Path>) -> Hooks {
    let cwd = root
        .or_else(|| cx.env.current_dir())
        .map(std::path::Path::to_owned)
        .unwrap_or_default();
    Hooks::new(config.hooks.clone(), cwd, cx.env.user_vars())
}

/// A client for the configured provider, the model it talks to, and what the configuration says
/// of that model.
pub(super) struct Connected {
    pub client: Client,
    pub model: String,
    pub settings: ModelSettings,
}

/// Connects to the configured provider (refusing `builtin`, which has no model), with the model a
/// flag or `NOVA_MODEL` names, else `agent_model`, else the configuration's; every exchange
/// recorded to `record`, or answered from `replay`.
pub(super) fn connect(
    cx: &Context<'_>,
    config: &Config,
    agent_model: Option<String>,
    record: Option<PathBuf>,
    replay: Option<PathBuf>,
) -> Result<Connected, CommandError> {
    let options = client_options(cx, config, record, replay)?;
    let model = model(config, agent_model, options.provider)?;
    let settings = model_settings(config, &model);
    let client = Client::new(ClientOptions {
        context_window: settings.context_window,
        ..options
    })
    .map_err(llm_error)?;
    Ok(Connected {
        client,
        model,
        settings,
    })
}

/// What the configuration says of the model: its window, its prices, how it calls tools, and
/// whether it is a reasoning model.
pub(super) struct ModelSettings {
    pub context_window: Option<u64>,
    pub prices: Option<Prices>,
    pub text_tools: bool,
    pub reasoning: bool,
}

fn model_settings(config: &Config, model: &str) -> ModelSettings {
    let info = config.models.get(model);
    ModelSettings {
        context_window: info.and_then(|info| info.context_window.value),
        prices: info.and_then(|info| {
            Some(Prices {
                input: info.input_usd_per_mtok.value?,
                output: info.output_usd_per_mtok.value?,
                cached_input: info.cached_input_usd_per_mtok.value,
            })
        }),
        text_tools: info.is_some_and(|info| info.tool_calls.value == ToolCalls::Text),
        reasoning: info
            .and_then(|info| info.reasoning.value)
            .unwrap_or_else(|| llm::is_reasoning_model(model)),
    }
}

fn question(args: &AskArgs) -> Result<String, CommandError> {
    if args.resume.is_some() {
        // The resumed run's own question is asked again.
        return Ok(String::new());
    }
    let question = if args.question.len() == 1 && args.question[0] == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(CommandError::environment)?;
        text
    } else {
        args.question.join(" ")
    };
    let question = question.trim().to_owned();
    if question.is_empty() {
        return Err(CommandError::usage(anyhow::anyhow!(
            "the question is empty: `nova ask \"what does X do?\"`"
        )));
    }
    Ok(question)
}

pub(super) fn llm_error(error: LlmError) -> CommandError {
    if error.is_configuration() {
        CommandError::usage(error)
    } else {
        CommandError::environment(error)
    }
}

/// Everything about the provider but the model, from the configuration.
fn client_options(
    cx: &Context<'_>,
    config: &Config,
    record: Option<PathBuf>,
    replay: Option<PathBuf>,
) -> Result<ClientOptions, CommandError> {
    let p = &config.provider;
    let kind = p.kind.value;
    let (format, provider) = match kind {
        ProviderKind::Builtin => {
            return Err(CommandError::usage(anyhow::anyhow!(
                "`nova ask` needs a language model, and the provider is `builtin` (the offline \
                 engine, which cannot answer questions). Choose one: `--provider ollama` for a \
                 local model, or `--provider openai` / `--provider anthropic` with a key; set it \
                 for good under `[provider]` in `~/.config/nova/config.toml`"
            )));
        }
        ProviderKind::Openai => (Format::OpenAi, "openai"),
        ProviderKind::Ollama => (Format::OpenAi, "ollama"),
        ProviderKind::Anthropic => (Format::Anthropic, "anthropic"),
    };
    let base_url = p
        .base_url
        .value
        .clone()
        .ok_or_else(|| CommandError::usage(anyhow::anyhow!("no base URL: set `--base-url`")))?;
    let key = match &p.api_key_env.value {
        // A replay sends nothing anywhere: no key needed.
        _ if replay.is_some() => None,
        None => None,
        Some(var) => match config.api_key(cx.env) {
            Some(key) => Some(ApiKey::new(key)),
            None if kind == ProviderKind::Ollama => None,
            None => {
                return Err(llm_error(LlmError::MissingKey {
                    provider,
                    var: var.clone(),
                }));
            }
        },
    };
    let shown_key = match (&key, &p.api_key_env.value) {
        (Some(key), Some(var)) => format!("key `{var}` = {key}"),
        _ => String::from("no key"),
    };
    cx.printer.info(&format!(
        "provider {provider} at {base_url} ({}), {shown_key}",
        p.base_url.source
    ));
    Ok(ClientOptions {
        format,
        provider,
        proxy: cx.env.proxy_for(&base_url).map(str::to_owned),
        no_proxy: cx.env.no_proxy().map(str::to_owned),
        base_url,
        key,
        connect_timeout: Duration::from_secs(p.connect_timeout_secs.value),
        idle_timeout: Duration::from_secs(p.idle_timeout_secs.value),
        retry: RetryPolicy {
            max_retries: p.max_retries.value,
            deadline: Duration::from_secs(p.retry_deadline_secs.value),
            ..RetryPolicy::default()
        },
        context_window: None,
        record,
        replay,
    })
}

/// The model: a flag or `NOVA_MODEL` first, then the agent's own choice, then the configuration.
fn model(
    config: &Config,
    agent_model: Option<String>,
    provider: &'static str,
) -> Result<String, CommandError> {
    let configured = &config.provider.model;
    let explicit = matches!(configured.source, Source::Flag(_) | Source::Env(_));
    let chosen = if explicit {
        configured.value.clone()
    } else {
        agent_model.or_else(|| configured.value.clone())
    };
    chosen.ok_or_else(|| llm_error(LlmError::NoModel { provider }))
}

/// Renders `ask`'s events: the answer on stdout as it streams, the rest on stderr; or every event
/// as a JSON line with `--json`.
///
/// When a request is retried after part of the answer was printed, the new answer is matched
/// against what is on the screen: while it repeats it, nothing is printed again; where it
/// differs, a warning says so and the new answer is printed from its start.
struct View<'a> {
    cx: &'a Context<'a>,
    /// Whether the answer so far ends in a newline (or nothing was printed).
    at_line_start: bool,
    /// The answer on the screen.
    shown: String,
    /// After a retry: what the new answer has repeated of `shown` so far.
    repeating: Option<String>,
}

impl<'a> View<'a> {
    fn new(cx: &'a Context<'a>) -> Self {
        View {
            cx,
            at_line_start: true,
            shown: String::new(),
            repeating: None,
        }
    }

    fn print(&mut self, text: &str) {
        if text.is_empty() {
            return;
        }
        // nova:allow(ignored-result): a closed stdout ends the output, not the request
        let _ = self.cx.printer.raw(text.as_bytes());
        self.shown.push_str(text);
        self.at_line_start = text.ends_with('\n');
    }

    fn answer_delta(&mut self, text: &str) {
        let Some(mut repeated) = self.repeating.take() else {
            self.print(text);
            return;
        };
        repeated.push_str(text);
        if self.shown.starts_with(&repeated) {
            // Still the same answer: keep waiting for it to go past what is shown.
            self.repeating = Some(repeated);
        } else if repeated.starts_with(&self.shown) {
            let fresh = repeated[self.shown.len()..].to_owned();
            self.print(&fresh);
        } else {
            self.end_answer();
            self.cx
                .printer
                .warn("the new answer differs from the one above; here it is from its start");
            self.shown.clear();
            self.print(&repeated);
        }
    }

    /// A guard's word, or a hook that did not simply allow: a warning line.
    fn warning(&mut self, event: &Event) {
        let line = match event {
            Event::HookRan {
                on,
                command,
                outcome,
                reason,
                ..
            } if outcome != "allowed" => {
                let why = reason.as_deref().unwrap_or("");
                format!("hook `{command}` on {on}: {outcome}: {why}")
            }
            Event::AgentGuarded {
                agent,
                stopped,
                why,
            } => {
                let what = if *stopped { "stopped" } else { "warned" };
                format!("{agent} {what}: {why}")
            }
            _ => return,
        };
        self.end_answer();
        self.cx.printer.warn(&line);
    }

    fn show(&mut self, event: &Event) {
        let p = &self.cx.printer;
        if p.json() {
            // nova:allow(ignored-result): a closed stdout ends the output, not the request
            let _ = p.json_line(event);
            return;
        }
        match event {
            Event::AskStarted {
                agent,
                provider,
                model,
                prompt_tokens,
                ..
            } => p.info(&format!(
                "{agent}: asking {model} ({provider}), prompt about {prompt_tokens} tokens"
            )),
            Event::AnswerDelta { text } => self.answer_delta(text),
            Event::Routed { agent, why } => p.note(&format!("routed to `{agent}`: {why}")),
            Event::ToolCalled {
                tool,
                arguments,
                ok,
                refused,
                result,
                ..
            } => {
                self.end_answer();
                let how = match (ok, refused) {
                    (_, true) => p.paint_err(RED, "refused"),
                    (true, false) => String::from("ok"),
                    (false, false) => p.paint_err(RED, "failed"),
                };
                p.note(&p.paint_err(DIM, &format!("  {tool} {arguments}: {how}: {result}")));
            }
            Event::Handoff {
                from,
                to,
                message,
                attempt,
                why,
            } => p.note(&if *attempt == 0 {
                format!("{from} hands its {message} to `{to}`: {why}")
            } else {
                format!("{from} hands the {message} to `{to}` (repair attempt {attempt})")
            }),
            Event::CandidateRejected { reasons, .. } => {
                p.note(&format!("rejected: {}", reasons.join("; ")));
            }
            Event::Resumed { run, agent, turn } => {
                p.note(&format!(
                    "resuming run {run}: `{agent}` goes on after turn {turn}"
                ));
            }
            Event::Compacted {
                agent,
                dropped,
                tokens_before,
                tokens_after,
            } => p.note(&format!(
                "{agent}'s conversation compacted: {dropped} messages folded into the task \
                 memory ({tokens_before} -> {tokens_after} tokens)"
            )),
            Event::HookRan { .. } | Event::AgentGuarded { .. } => self.warning(event),
            Event::StepFinished {
                command,
                ok,
                seconds,
            } => p.info(&format!(
                "  {command}: {} in {seconds:.1} s",
                if *ok { "ok" } else { "failed" }
            )),
            Event::ArchiveRecovered { kept } => p.warn(&super::improve::recovered_note(kept)),
            Event::Retrying {
                attempt,
                reason,
                delay_ms,
            } => {
                // On a terminal the warning gets a line of its own; piped, the answer stays
                // exactly the answer.
                if std::io::stdout().is_terminal() {
                    self.end_answer();
                }
                p.warn(&format!(
                    "{reason}; trying again in {:.1} s (attempt {attempt})",
                    *delay_ms as f64 / 1000.0
                ));
                if !self.shown.is_empty() {
                    self.repeating = Some(String::new());
                }
            }
            Event::AskFinished { .. } => self.finished(event),
            _ => {}
        }
    }

    /// The end of the answer: what did not stream, then usage and cost.
    fn finished(&mut self, event: &Event) {
        let p = &self.cx.printer;
        let Event::AskFinished {
            answer,
            stop,
            usage,
            cost_usd,
            seconds,
            ..
        } = event
        else {
            return;
        };
        if let Some(repeated) = self.repeating.take()
            && repeated.len() < self.shown.len()
        {
            // The new answer is a shorter copy of the shown one: show it whole.
            self.end_answer();
            p.warn("the new answer is shorter than the one above; here it is whole");
            self.shown.clear();
            self.print(answer);
        }
        // An answer given through `finish` did not stream: print it whole.
        if !self.shown.trim_end().ends_with(answer.trim_end()) {
            self.end_answer();
            self.print(answer);
        }
        self.end_answer();
        if *stop == llm::StopReason::MaxTokens {
            p.warn("the answer was cut at `--max-tokens`; raise it for a longer one");
        }
        let mut cached = match usage.cached_tokens {
            0 => String::new(),
            n => format!(" ({n} cached)"),
        };
        if usage.counted {
            cached.push_str(" (counted here: the endpoint reported no usage)");
        }
        let cost = match cost_usd {
            Some(cost) => format!("${cost:.4}"),
            None => String::from("cost unknown (no prices for the model in the config)"),
        };
        p.note(&p.paint_err(
            DIM,
            &format!(
                "{} prompt{cached} + {} completion tokens, {cost}, {seconds:.1} s",
                usage.prompt_tokens, usage.completion_tokens
            ),
        ));
    }

    /// Ends the answer's last line, so that what follows starts on its own.
    fn end_answer(&mut self) {
        if !self.at_line_start && !self.cx.printer.json() {
            // nova:allow(ignored-result): a closed stdout ends the output, not the request
            let _ = self.cx.printer.raw(b"\n");
        }
        self.at_line_start = true;
    }
}
