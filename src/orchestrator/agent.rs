//! The agent loop: an agent's prompt, its task and its tools go to the model; the tools it calls
//! run (each checked by `tools` against its file; `run_checks` and `shell` in the sandbox, off the
//! conversation's thread) and their results go back, turn after turn, until it calls `finish`,
//! hands the work on, or answers without a call. The task memory is rebuilt into every request,
//! and a conversation nearing the model's window is compacted against it. Budgets (the agent's
//! turns, tokens and seconds; the run's tokens, cost and seconds) bound the loop, never exceeded
//! by more than the turn in flight, and the loop guard stops an agent that repeats itself, gets
//! the same failure again and again, or makes no progress: first a nudge that names the pattern,
//! then a stop with the reason. After every turn the conversation is handed to the observer, so
//! that a run can be resumed from its last turn.

mod guard;

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::events::Event;
use super::memory::{TaskMemory, update_plan_spec};
use crate::agents::AgentDef;
use crate::config::HookEvent;
use crate::llm::{
    self, ChatRequest, Delta, LlmError, Message, Prices, Provider, ToolCall, Usage, text_tools,
};
use crate::tools::{CallResult, ChangeRequest, Checks, Handoff, Toolbox};
use guard::{LoopGuard, Verdict};

/// How many outputs that do not match their schema an agent may give: the first is answered with
/// what was wrong (its corrective turn), the next ends its run.
pub const INVALID_OUTPUTS: usize = 2;

/// The share of the model's window a conversation may fill before it is compacted, in percent.
pub const COMPACT_AT_PERCENT: u64 = 75;

/// How many of the latest messages compaction keeps as they are.
const KEEP_MESSAGES: usize = 4;

/// How an agent's loop ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ended {
    /// It called `finish` with this text.
    Finished(String),
    /// It answered without calling a tool (a chat agent's plain answer).
    Answered(String),
    /// It passed the work on.
    HandedOff(Handoff),
    /// It asked another part's owner for a change, and waits for it.
    Requested(ChangeRequest),
    /// Its output did not match its schema after the corrective turn: the problem.
    Invalid(String),
    /// The loop guard or a budget stopped it: why.
    Stopped(String),
}

/// What an agent's run gave: how it ended, and what it cost.
#[derive(Debug, Clone)]
pub struct AgentOutcome {
    pub ended: Ended,
    pub usage: Usage,
    /// The conversation as it ended: an agent waiting for another's part goes on from it.
    pub conversation: Conversation,
}

/// An agent's conversation so far: what resuming it needs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Conversation {
    pub messages: Vec<Message>,
    /// Turns taken.
    pub turn: u32,
    /// What the agent's turns used.
    pub usage: Usage,
}

/// What a run may spend over all its agents (the configuration's `[budget]`); `None`: no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct RunLimits {
    pub tokens: Option<u64>,
    pub cost_usd: Option<f64>,
    pub seconds: Option<u64>,
}

/// A run's own budget, over all its agents: its limits, and what the run's earlier agents spent.
#[derive(Debug, Clone, Copy)]
pub struct RunBudget {
    pub limits: RunLimits,
    pub prices: Option<Prices>,
    pub started: Instant,
    pub spent: Usage,
}

impl RunBudget {
    /// Why the run may not take another turn, with `usage` spent by the agent now acting.
    fn over(&self, usage: Usage) -> Option<String> {
        let all = self.spent.plus(usage);
        let tokens = all.prompt_tokens + all.completion_tokens;
        if let Some(limit) = self.limits.tokens.filter(|limit| tokens >= *limit) {
            return Some(format!(
                "the run's budget of {limit} tokens ran out ({tokens} spent)"
            ));
        }
        if let (Some(limit), Some(prices)) = (self.limits.cost_usd, self.prices) {
            let cost = prices.cost(&all);
            if cost >= limit {
                return Some(format!(
                    "the run's budget of ${limit:.4} ran out (${cost:.4} spent)"
                ));
            }
        }
        match self.limits.seconds {
            Some(limit) if self.started.elapsed() >= Duration::from_secs(limit) => {
                Some(format!("the run's budget of {limit} s ran out"))
            }
            _ => None,
        }
    }

    /// The time the run has left, if it has a limit.
    fn left(&self) -> Option<Duration> {
        self.limits
            .seconds
            .map(|s| Duration::from_secs(s).saturating_sub(self.started.elapsed()))
    }
}

/// What watches an agent's run: every event, and the conversation after every turn.
pub trait Observer: Send {
    fn event(&mut self, event: Event);
    /// The agent's turn is done: its conversation, the task memory and its tools (with its
    /// candidate) as they are now.
    fn turn_done(&mut self, conversation: &Conversation, memory: &TaskMemory, tools: &Toolbox<'_>);
}

/// One agent's conversation with its model.
pub struct Session<'a> {
    pub agent: &'a AgentDef,
    /// The user's hooks: tool calls go past `pre_tool_use`, results to `post_tool_use`.
    pub hooks: &'a crate::hooks::Hooks,
    /// The MCP tools the agent may use, their servers running.
    pub mcp: Option<&'a crate::mcp::McpTools>,
    pub provider: &'a dyn Provider,
    pub model: String,
    pub system: String,
    /// The most tokens one reply may have.
    pub max_tokens: u32,
    /// The model has no native tool calls: the tools are described in the prompt and called in
    /// fenced `tool` blocks (`llm::text_tools`).
    pub text_tools: bool,
    /// A reasoning model: the reply limit goes as `max_completion_tokens`.
    pub reasoning: bool,
    /// The model's context window, when known: a conversation nearing it is compacted.
    pub window: Option<u64>,
    pub run: RunBudget,
    /// Where `run_checks` and `shell` run; without it they are refused.
    pub checks: Option<&'a dyn Checks>,
}

impl Session<'_> {
    /// The tools offered to the model: the agent's, and `update_plan` for agents that work over
    /// several turns.
    fn specs(&self, tools: &Toolbox<'_>) -> Vec<llm::ToolSpec> {
        let mut specs = tools.specs();
        if let Some(mcp) = self.mcp {
            specs.extend(mcp.specs());
        }
        if keeps_plan(self.agent) {
            specs.push(update_plan_spec());
        }
        specs
    }
}

/// The most characters of a tool's result a `post_tool_use` hook is given.
const HOOK_RESULT_CHARS: usize = 16_000;

/// Runs the hooks of `event` (off the async threads) and reports each as an event: the reason
/// when one blocked.
pub(super) async fn fire(
    hooks: &crate::hooks::Hooks,
    event: HookEvent,
    tool: Option<&str>,
    payload: serde_json::Value,
    obs: &mut dyn Observer,
) -> Option<String> {
    if !hooks.wants(event, tool) {
        return None;
    }
    let hooks = hooks.clone();
    let tool = tool.map(str::to_owned);
    let fired = super::blocking(move || hooks.fire(event, tool.as_deref(), &payload)).await;
    for run in fired.runs {
        obs.event(hook_ran(run));
    }
    fired.blocked
}

/// The event of one hook's run.
pub(super) fn hook_ran(run: crate::hooks::HookRun) -> Event {
    Event::HookRan {
        on: run.on.to_owned(),
        command: run.command,
        outcome: run.outcome.to_owned(),
        reason: run.reason,
        seconds: run.seconds,
    }
}

/// Whether an agent gets `update_plan`: every agent with turns to plan, not a one-shot router or
/// committer.
fn keeps_plan(agent: &AgentDef) -> bool {
    use crate::agents::Role;
    !matches!(agent.role, Role::Router | Role::Committer)
}

/// Where the agent starts: a task, or a conversation it had before (a resumed run).
pub enum Start<'t> {
    Task(&'t str),
    Resume(Conversation),
}

/// Runs `session` from `start` with `tools` until the agent finishes, hands off, answers, or is
/// stopped. Every turn, tool call and guard's word is an event; `memory` is kept as it goes.
pub async fn run(
    session: &Session<'_>,
    tools: &mut Toolbox<'_>,
    start: Start<'_>,
    memory: &mut TaskMemory,
    obs: &mut dyn Observer,
) -> Result<AgentOutcome, LlmError> {
    let mut turns = Turns {
        session,
        deadline: Instant::now() + Duration::from_secs(session.agent.budget.seconds),
        system: if session.text_tools {
            format!(
                "{}\n\n{}",
                session.system,
                text_tools::instructions(&session.specs(tools))
            )
        } else {
            session.system.clone()
        },
        conversation: match start {
            Start::Task(task) => Conversation {
                messages: vec![Message::user(task)],
                ..Conversation::default()
            },
            Start::Resume(conversation) => conversation,
        },
        guard: LoopGuard::default(),
    };
    loop {
        if let Some(ended) = turns.take(tools, memory, obs).await? {
            return Ok(AgentOutcome {
                ended,
                usage: turns.conversation.usage,
                conversation: turns.conversation,
            });
        }
        obs.turn_done(&turns.conversation, memory, tools);
    }
}

/// The state of one agent's loop.
struct Turns<'s, 'a> {
    session: &'s Session<'a>,
    deadline: Instant,
    system: String,
    conversation: Conversation,
    guard: LoopGuard,
}

impl Turns<'_, '_> {
    /// One turn: a request, then its calls. How the run ended, if it did.
    async fn take(
        &mut self,
        tools: &mut Toolbox<'_>,
        memory: &mut TaskMemory,
        obs: &mut dyn Observer,
    ) -> Result<Option<Ended>, LlmError> {
        let agent = self.session.agent;
        let usage = self.conversation.usage;
        let over = over_budget(agent, self.conversation.turn, usage, self.deadline)
            .or_else(|| self.session.run.over(usage));
        if let Some(why) = over {
            obs.event(guarded(agent, true, &why));
            return Ok(Some(Ended::Stopped(why)));
        }
        // A `pre_compact` hook hears of it first; exit 2 keeps the conversation whole this turn.
        let kept = match self.over_window() {
            Some(tokens) if self.session.hooks.wants(HookEvent::PreCompact, None) => {
                let payload = serde_json::json!({
                    "agent": agent.name,
                    "messages": self.conversation.messages.len(),
                    "tokens": tokens,
                });
                fire(
                    self.session.hooks,
                    HookEvent::PreCompact,
                    None,
                    payload,
                    obs,
                )
                .await
                .is_some()
            }
            _ => false,
        };
        if !kept {
            self.compact(memory, obs);
        }
        let request = self.request(tools, memory);
        let mut left = self.deadline.saturating_duration_since(Instant::now());
        if let Some(run_left) = self.session.run.left() {
            left = left.min(run_left);
        }
        self.conversation.turn += 1;
        let reply = match ask_model(self.session, &request, left, obs).await? {
            Ok(reply) => reply,
            Err(spent) => {
                self.conversation.usage = self.conversation.usage.plus(spent);
                obs.event(Event::AgentTurn {
                    agent: agent.name.clone(),
                    turn: self.conversation.turn,
                    tool_calls: 0,
                    prompt_tokens: spent.prompt_tokens,
                    completion_tokens: spent.completion_tokens,
                });
                let why = format!("its budget of {} s ran out mid-turn", agent.budget.seconds);
                obs.event(guarded(agent, true, &why));
                return Ok(Some(Ended::Stopped(why)));
            }
        };
        self.conversation.usage = self.conversation.usage.plus(reply.usage);
        let calls = calls_of(self.session, &reply);
        obs.event(Event::AgentTurn {
            agent: agent.name.clone(),
            turn: self.conversation.turn,
            tool_calls: calls.as_ref().map_or(0, Vec::len),
            prompt_tokens: reply.usage.prompt_tokens,
            completion_tokens: reply.usage.completion_tokens,
        });
        let messages = &mut self.conversation.messages;
        let calls = match calls {
            Ok(calls) => calls,
            Err(error) => {
                // A text call the model can write again: say what was wrong, take another turn.
                messages.push(Message::Assistant {
                    text: reply.text.clone(),
                    tool_calls: Vec::new(),
                });
                messages.push(Message::user(format!(
                    "Your tool block could not be read: {error}. Write it again as one JSON \
                     object with `name` and `arguments` in a ```tool block."
                )));
                return Ok(None);
            }
        };
        messages.push(Message::Assistant {
            text: reply.text.clone(),
            tool_calls: if self.session.text_tools {
                Vec::new()
            } else {
                calls.clone()
            },
        });
        if calls.is_empty() {
            return Ok(match plain_answer(tools, &reply.text) {
                Ok(ended) => Some(ended),
                Err(corrective) => {
                    messages.push(Message::user(corrective));
                    None
                }
            });
        }
        if let Some(why) = self.calls(tools, memory, &calls, obs).await {
            return Ok(Some(Ended::Stopped(why)));
        }
        Ok(ended_by(tools))
    }

    /// The request for the next turn: the conversation, then the task memory when it holds more
    /// than the goal.
    fn request(&self, tools: &Toolbox<'_>, memory: &TaskMemory) -> ChatRequest {
        let session = self.session;
        let mut messages = self.conversation.messages.clone();
        if let Some(memory) = memory.render() {
            messages.push(Message::user(memory));
        }
        let mut request = ChatRequest::new(&session.model, &self.system, messages);
        if !session.text_tools {
            request.tools = session.specs(tools);
        }
        request.max_tokens = session.max_tokens;
        request.reasoning = session.reasoning;
        request
    }

    /// The conversation's size in tokens when it has reached the share of the model's window at
    /// which it is compacted (and can be): `None` when it has not.
    fn over_window(&self) -> Option<u64> {
        let limit = self.session.window? * COMPACT_AT_PERCENT / 100;
        let size = self.size(limit);
        (size >= limit && cut_point(&self.conversation.messages).is_some()).then_some(size)
    }

    /// The conversation's size in tokens: a cheap bound below `near` (a token is at least one
    /// byte), counted only from there.
    fn size(&self, near: u64) -> u64 {
        let chat = ChatRequest::new("", &self.system, self.conversation.messages.clone());
        let bytes: usize = chat.system.len()
            + chat
                .messages
                .iter()
                .map(|m| serde_json::to_string(m).map_or(0, |t| t.len()))
                .sum::<usize>();
        if (bytes as u64) < near {
            return bytes as u64 / 4;
        }
        llm::estimate(&chat)
    }

    /// Compacts the conversation when it nears the model's window: the task and the latest
    /// messages stay, what came between is replaced by a note pointing at the task memory.
    fn compact(&mut self, memory: &TaskMemory, obs: &mut dyn Observer) {
        let Some(before) = self.over_window() else {
            return;
        };
        let messages = &mut self.conversation.messages;
        let Some(cut) = cut_point(messages) else {
            return;
        };
        let dropped = cut - 1;
        let note = format!(
            "[Nova compacted {dropped} earlier messages to fit the model's window. What they \
             established is in the task memory; read files again where you need their text.]\n\n{}",
            memory
                .render()
                .unwrap_or_else(|| format!("Goal: {}", memory.goal))
        );
        messages.splice(1..cut, [Message::user(note)]);
        let after = self.size(u64::MAX);
        obs.event(Event::Compacted {
            agent: self.session.agent.name.clone(),
            dropped,
            tokens_before: before,
            tokens_after: after,
        });
    }

    /// Runs the turn's calls in order through the loop guard, the tools and the sandbox; why the
    /// agent must stop, if the guard says so.
    async fn calls(
        &mut self,
        tools: &mut Toolbox<'_>,
        memory: &mut TaskMemory,
        calls: &[ToolCall],
        obs: &mut dyn Observer,
    ) -> Option<String> {
        let agent = self.session.agent;
        let mut results = Vec::new();
        let before = candidate_digest(tools);
        let mut progressed = false;
        for call in calls {
            let mut result = match self.guard.check(call) {
                Verdict::Pass => self.hooked(tools, memory, call, obs).await,
                Verdict::Nudge(why) => {
                    obs.event(guarded(agent, false, &why));
                    CallResult {
                        content: format!(
                            "{why}. Not run again: change your approach, or call `finish`."
                        ),
                        is_error: true,
                        refused: true,
                    }
                }
                Verdict::Stop(why) => {
                    obs.event(guarded(agent, true, &why));
                    return Some(why);
                }
            };
            progressed |= self.guard.is_new(&result);
            match self.guard.outcome(&result) {
                Verdict::Pass => {}
                Verdict::Nudge(why) => {
                    obs.event(guarded(agent, false, &why));
                    result
                        .content
                        .push_str(&format!("\n\n[{why}: try something else.]"));
                }
                Verdict::Stop(why) => {
                    obs.event(guarded(agent, true, &why));
                    return Some(why);
                }
            }
            self.after_call(call, &mut result, obs).await;
            obs.event(called(agent, call, &result));
            results.push((call, result));
        }
        if let Some(patch) = tools.patch("") {
            memory.files_touched = patch.changes.iter().map(|c| c.path.to_string()).collect();
        }
        // A changed candidate is progress, whatever the results said.
        progressed |= candidate_digest(tools) != before;
        self.answer(results);
        match self.guard.turn(progressed) {
            Verdict::Pass => None,
            Verdict::Nudge(why) => {
                obs.event(guarded(agent, false, &why));
                self.conversation.messages.push(Message::user(format!(
                    "[Nova's loop guard: {why}. Change your approach, or call `finish` with what \
                     you have.]"
                )));
                None
            }
            Verdict::Stop(why) => {
                obs.event(guarded(agent, true, &why));
                Some(why)
            }
        }
    }

    /// Runs one call the guard let pass, unless a `pre_tool_use` hook blocks it (the model reads
    /// why).
    async fn hooked(
        &mut self,
        tools: &mut Toolbox<'_>,
        memory: &mut TaskMemory,
        call: &ToolCall,
        obs: &mut dyn Observer,
    ) -> CallResult {
        let payload = serde_json::json!({
            "agent": self.session.agent.name,
            "tool": call.name,
            "arguments": call.arguments,
        });
        let hooks = self.session.hooks;
        match fire(hooks, HookEvent::PreToolUse, Some(&call.name), payload, obs).await {
            Some(reason) => CallResult {
                content: format!("A hook of the user's blocked this call: {reason}"),
                is_error: true,
                refused: true,
            },
            None => self.one(tools, memory, call).await,
        }
    }

    /// The `post_tool_use` (or `post_tool_failure`) hooks of a call that ran: what a hook that
    /// exits 2 says is added to the result (the call has run: it is heard, not obeyed).
    async fn after_call(&self, call: &ToolCall, result: &mut CallResult, obs: &mut dyn Observer) {
        let after = if result.is_error {
            HookEvent::PostToolFailure
        } else {
            HookEvent::PostToolUse
        };
        let payload = serde_json::json!({
            "agent": self.session.agent.name,
            "tool": call.name,
            "arguments": call.arguments,
            "result": result.content.chars().take(HOOK_RESULT_CHARS).collect::<String>(),
            "is_error": result.is_error,
        });
        if let Some(said) = fire(self.session.hooks, after, Some(&call.name), payload, obs).await {
            result
                .content
                .push_str(&format!("\n\n[A hook of the user's says: {said}]"));
        }
    }

    /// Runs one call the guard let pass.
    async fn one(
        &mut self,
        tools: &mut Toolbox<'_>,
        memory: &mut TaskMemory,
        call: &ToolCall,
    ) -> CallResult {
        if call.name == "update_plan" && keeps_plan(self.session.agent) {
            return match memory.update_plan(&call.arguments) {
                Ok(kept) => CallResult {
                    content: kept,
                    is_error: false,
                    refused: false,
                },
                Err(problem) => CallResult {
                    content: problem,
                    is_error: true,
                    refused: false,
                },
            };
        }
        if let Some(mcp) = self.session.mcp
            && let Some(called) = mcp.call(&call.name, &call.arguments).await
        {
            return CallResult {
                content: crate::tools::cut(called.text),
                is_error: called.is_error,
                refused: called.refused,
            };
        }
        let Some(job) = tools.job(call) else {
            let result = tools.call(call);
            if call.name == "read_file"
                && !result.is_error
                && let Some(path) = call.arguments["path"].as_str()
            {
                memory.read(path);
            }
            return result;
        };
        let job = match job {
            Ok(job) => job,
            Err(refused) => return refused,
        };
        let Some(checks) = self.session.checks else {
            return CallResult {
                content: format!(
                    "`{}` cannot run in this session: nothing can be proved here (no sandbox, \
                     or no repository)",
                    call.name
                ),
                is_error: true,
                refused: true,
            };
        };
        let is_checks = job.command.is_none();
        let done = checks.run(job).await;
        if is_checks {
            memory.failing_checks = done.failing.clone();
        }
        CallResult {
            content: crate::tools::cut(done.text),
            is_error: !done.ok,
            refused: false,
        }
    }

    /// The results go back: as tool results, or one user message for text calls.
    fn answer(&mut self, results: Vec<(&ToolCall, CallResult)>) {
        let messages = &mut self.conversation.messages;
        if self.session.text_tools {
            let all: Vec<(&ToolCall, &str, bool)> = results
                .iter()
                .map(|(call, result)| (*call, result.content.as_str(), result.is_error))
                .collect();
            messages.push(Message::user(text_tools::results(&all)));
        } else {
            for (call, result) in results {
                messages.push(Message::ToolResult {
                    call_id: call.id.clone(),
                    content: result.content,
                    is_error: result.is_error,
                });
            }
        }
    }
}

/// Identifies the candidate as it is: what changes from the base, and to what.
fn candidate_digest(tools: &Toolbox<'_>) -> u64 {
    let patch = tools.patch("");
    let changes = patch.iter().flat_map(|p| &p.changes);
    crate::hash::fnv1a_parts(changes.flat_map(|change| {
        [
            change.path.as_str().as_bytes(),
            change.after.as_deref().unwrap_or("\0deleted").as_bytes(),
        ]
    }))
}

/// Where compaction cuts: after the task, keeping the latest messages from an assistant turn on
/// (a tool result never loses its call). `None` when there is too little to drop.
fn cut_point(messages: &[Message]) -> Option<usize> {
    let mut cut = messages.len().checked_sub(KEEP_MESSAGES)?;
    while cut < messages.len() && !matches!(messages[cut], Message::Assistant { .. }) {
        cut += 1;
    }
    (cut > 2 && cut < messages.len()).then_some(cut)
}

/// How a reply without tool calls ends the agent's run: its `finish`, its answer, or (when a
/// plain answer is not an output of its kind) the corrective to send, unless that was its last
/// chance.
fn plain_answer(tools: &mut Toolbox<'_>, text: &str) -> Result<Ended, String> {
    if let Some(finish) = tools.finished() {
        return Ok(Ended::Finished(finish.text.clone()));
    }
    match tools.answer() {
        Ok(()) => Ok(Ended::Answered(text.trim().to_owned())),
        Err(corrective) => ended_by(tools).ok_or(corrective.content),
    }
}

/// How the agent's calls so far end its run, if they do: `finish`, a handoff, a change request to
/// another part's owner, or a second output
/// that does not match its schema.
fn ended_by(tools: &Toolbox<'_>) -> Option<Ended> {
    if let Some(finish) = tools.finished() {
        let mut text = finish.text.clone();
        for (n, step) in finish.steps.iter().enumerate() {
            text.push_str(&format!("\n{}. {step}", n + 1));
        }
        return Some(Ended::Finished(text));
    }
    if let Some(handoff) = tools.handed_off() {
        return Some(Ended::HandedOff(handoff.clone()));
    }
    if let Some(request) = tools.requested() {
        return Some(Ended::Requested(request.clone()));
    }
    match tools.invalid_outputs() {
        (count, Some(problem)) if count >= INVALID_OUTPUTS => Some(Ended::Invalid(format!(
            "its output did not match what a {} returns, twice: {problem}",
            tools.role()
        ))),
        _ => None,
    }
}

/// One model request, its text streamed as events; when `left` runs out first, what the cut turn
/// spent as counted here (the prompt the endpoint read, the text it streamed): budgets and reports
/// see it, though no reply came.
async fn ask_model(
    session: &Session<'_>,
    request: &ChatRequest,
    left: Duration,
    obs: &mut dyn Observer,
) -> Result<Result<crate::llm::Reply, Usage>, LlmError> {
    let mut streamed = String::new();
    let mut on_delta = |delta: &Delta| match delta {
        Delta::Text { text } => {
            streamed.push_str(text);
            obs.event(Event::AnswerDelta { text: text.clone() });
        }
        Delta::Retrying {
            attempt,
            reason,
            delay_ms,
        } => obs.event(Event::Retrying {
            attempt: *attempt,
            reason: reason.clone(),
            delay_ms: *delay_ms,
        }),
        Delta::ToolCall { .. } => {}
    };
    match tokio::time::timeout(left, session.provider.chat(request, &mut on_delta)).await {
        Ok(reply) => reply.map(Ok),
        Err(_) => Ok(Err(llm::counted_usage(request, &streamed, &[]))),
    }
}

/// Why the agent may not take another turn, if its budget is spent: turns, tokens or time.
fn over_budget(agent: &AgentDef, turn: u32, usage: Usage, deadline: Instant) -> Option<String> {
    let budget = agent.budget;
    let spent = usage.prompt_tokens + usage.completion_tokens;
    if turn >= budget.turns {
        Some(format!("its budget of {} turns ran out", budget.turns))
    } else if spent >= budget.tokens {
        Some(format!(
            "its budget of {} tokens ran out ({spent} spent)",
            budget.tokens
        ))
    } else if Instant::now() >= deadline {
        Some(format!("its budget of {} s ran out", budget.seconds))
    } else {
        None
    }
}

/// The calls in a reply: its native tool calls, or its fenced `tool` blocks.
fn calls_of(
    session: &Session<'_>,
    reply: &crate::llm::Reply,
) -> Result<Vec<ToolCall>, crate::llm::ToolCallError> {
    if session.text_tools {
        text_tools::parse(&reply.text)
    } else {
        Ok(reply.tool_calls.clone())
    }
}

fn guarded(agent: &AgentDef, stopped: bool, why: &str) -> Event {
    Event::AgentGuarded {
        agent: agent.name.clone(),
        stopped,
        why: why.to_owned(),
    }
}

fn called(agent: &AgentDef, call: &ToolCall, result: &CallResult) -> Event {
    let short = |text: &str| -> String {
        let line = text.lines().next().unwrap_or("");
        let mut short: String = line.chars().take(160).collect();
        if short.len() < text.len() && !short.ends_with('…') {
            short.push('…');
        }
        short
    };
    Event::ToolCalled {
        agent: agent.name.clone(),
        tool: call.name.clone(),
        arguments: short(&call.arguments.to_string()),
        ok: !result.is_error,
        refused: result.refused,
        result: short(&result.content),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compaction_keeps_the_task_and_never_splits_a_call_from_its_result() {
        let call = |id: &str| Message::Assistant {
            text: String::new(),
            tool_calls: vec![ToolCall {
                id: id.to_owned(),
                name: String::from("read_file"),
                arguments: serde_json::json!({}),
            }],
        };
        let result = |id: &str| Message::ToolResult {
            call_id: id.to_owned(),
            content: String::from("text"),
            is_error: false,
        };
        let mut messages = vec![Message::user("the task")];
        for n in 0..6 {
            let id = n.to_string();
            messages.push(call(&id));
            messages.push(result(&id));
        }
        let cut = cut_point(&messages).expect("enough to drop");
        assert!(matches!(messages[cut], Message::Assistant { .. }));
        assert_eq!(messages.len() - cut, KEEP_MESSAGES);
        assert_eq!(cut_point(&messages[..5]), None, "too little to drop");
    }
}
