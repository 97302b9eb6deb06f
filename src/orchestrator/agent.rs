//! The agent loop: an agent's prompt, its task and its tools go to the model; the tools it calls
//! run (each checked by `tools` against its file) and their results go back, turn after turn,
//! until it calls `finish` or answers without a call. Its budget (turns, tokens, seconds) bounds
//! the loop, never exceeded by more than the turn in flight, and a loop guard stops an agent that
//! repeats itself: first a nudge that names the pattern, then a stop with the reason.

use std::time::{Duration, Instant};

use super::events::Event;
use crate::agents::AgentDef;
use crate::llm::{ChatRequest, Delta, LlmError, Message, Provider, ToolCall, Usage, text_tools};
use crate::tools::{CallResult, Handoff, Toolbox};

/// How many outputs that do not match their schema an agent may give: the first is answered with
/// what was wrong (its corrective turn), the next ends its run.
pub const INVALID_OUTPUTS: usize = 2;

/// How many identical calls in a row (same tool, same arguments) the guard lets pass; the next
/// is answered with a nudge, and one more stops the agent.
pub const REPEATS: usize = 3;

/// How an agent's loop ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Ended {
    /// It called `finish` with this text.
    Finished(String),
    /// It answered without calling a tool (a chat agent's plain answer).
    Answered(String),
    /// It passed the work on.
    HandedOff(Handoff),
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
}

/// One agent's conversation with its model.
pub struct Session<'a> {
    pub agent: &'a AgentDef,
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
}

/// Runs `session` on `task` with `tools` until the agent finishes, answers, or is stopped.
/// Every turn, tool call and guard's word is an event.
pub async fn run(
    session: &Session<'_>,
    tools: &mut Toolbox<'_>,
    task: &str,
    emit: &mut (dyn FnMut(Event) + Send),
) -> Result<AgentOutcome, LlmError> {
    let agent = session.agent;
    let budget = agent.budget;
    let deadline = Instant::now() + Duration::from_secs(budget.seconds);
    let mut messages = vec![Message::user(task)];
    let mut usage = Usage::default();
    let mut guard = LoopGuard::default();
    let mut turn = 0;
    let system = if session.text_tools {
        format!(
            "{}\n\n{}",
            session.system,
            text_tools::instructions(&tools.specs())
        )
    } else {
        session.system.clone()
    };
    let stop = |why: String, usage| AgentOutcome {
        ended: Ended::Stopped(why),
        usage,
    };
    loop {
        if let Some(why) = over_budget(agent, turn, usage, deadline) {
            emit(guarded(agent, true, &why));
            return Ok(stop(why, usage));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        turn += 1;
        let mut request = ChatRequest::new(&session.model, &system, messages.clone());
        if !session.text_tools {
            request.tools = tools.specs();
        }
        request.max_tokens = session.max_tokens;
        request.reasoning = session.reasoning;
        let Some(reply) = ask_model(session, &request, left, emit).await? else {
            let why = format!("its budget of {} s ran out mid-turn", budget.seconds);
            emit(guarded(agent, true, &why));
            return Ok(stop(why, usage));
        };
        usage = usage.plus(reply.usage);
        emit(Event::AgentTurn {
            agent: agent.name.clone(),
            turn,
            tool_calls: calls_of(session, &reply).map_or(0, |calls| calls.len()),
            prompt_tokens: reply.usage.prompt_tokens,
            completion_tokens: reply.usage.completion_tokens,
        });
        let calls = match calls_of(session, &reply) {
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
                continue;
            }
        };
        messages.push(Message::Assistant {
            text: reply.text.clone(),
            tool_calls: if session.text_tools {
                Vec::new()
            } else {
                calls.clone()
            },
        });
        if calls.is_empty() {
            match plain_answer(tools, &reply.text) {
                Ok(ended) => return Ok(AgentOutcome { ended, usage }),
                Err(corrective) => {
                    messages.push(Message::user(corrective));
                    continue;
                }
            }
        }
        let mut turn_calls = Calls {
            tools,
            guard: &mut guard,
            messages: &mut messages,
            text: session.text_tools,
        };
        if let Some(why) = turn_calls.run(agent, &calls, emit) {
            return Ok(stop(why, usage));
        }
        if let Some(ended) = ended_by(tools) {
            return Ok(AgentOutcome { ended, usage });
        }
    }
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

/// How the agent's calls so far end its run, if they do: `finish`, a handoff, or a second output
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
    match tools.invalid_outputs() {
        (count, Some(problem)) if count >= INVALID_OUTPUTS => Some(Ended::Invalid(format!(
            "its output did not match what a {} returns, twice: {problem}",
            tools.role()
        ))),
        _ => None,
    }
}

/// One model request, its text streamed as events; `None` when `left` ran out first.
async fn ask_model(
    session: &Session<'_>,
    request: &ChatRequest,
    left: Duration,
    emit: &mut (dyn FnMut(Event) + Send),
) -> Result<Option<crate::llm::Reply>, LlmError> {
    let mut on_delta = |delta: &Delta| match delta {
        Delta::Text { text } => emit(Event::AnswerDelta { text: text.clone() }),
        Delta::Retrying {
            attempt,
            reason,
            delay_ms,
        } => emit(Event::Retrying {
            attempt: *attempt,
            reason: reason.clone(),
            delay_ms: *delay_ms,
        }),
        Delta::ToolCall { .. } => {}
    };
    match tokio::time::timeout(left, session.provider.chat(request, &mut on_delta)).await {
        Ok(reply) => reply.map(Some),
        Err(_) => Ok(None),
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

/// What running one turn's calls needs: the tools, the guard, and the conversation the results
/// go into (tool results, or one user message for text calls).
struct Calls<'t, 'a> {
    tools: &'t mut Toolbox<'a>,
    guard: &'t mut LoopGuard,
    messages: &'t mut Vec<Message>,
    text: bool,
}

impl Calls<'_, '_> {
    /// Runs the calls in order through the loop guard; why the agent must stop, if the guard
    /// says so.
    fn run(
        &mut self,
        agent: &AgentDef,
        calls: &[ToolCall],
        emit: &mut (dyn FnMut(Event) + Send),
    ) -> Option<String> {
        let mut results = Vec::new();
        for call in calls {
            let result = match self.guard.check(call) {
                Verdict::Pass => self.tools.call(call),
                Verdict::Nudge(why) => {
                    emit(guarded(agent, false, &why));
                    CallResult {
                        content: format!(
                            "{why}. Not run again: change your approach, or call `finish`."
                        ),
                        is_error: true,
                        refused: true,
                    }
                }
                Verdict::Stop(why) => {
                    emit(guarded(agent, true, &why));
                    return Some(why);
                }
            };
            emit(called(agent, call, &result));
            results.push((call, result));
        }
        if self.text {
            let all: Vec<(&ToolCall, &str, bool)> = results
                .iter()
                .map(|(call, result)| (*call, result.content.as_str(), result.is_error))
                .collect();
            self.messages.push(Message::user(text_tools::results(&all)));
        } else {
            for (call, result) in results {
                self.messages.push(Message::ToolResult {
                    call_id: call.id.clone(),
                    content: result.content,
                    is_error: result.is_error,
                });
            }
        }
        None
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

/// What the loop guard says of the next call.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    Pass,
    /// Answer with this instead of running it.
    Nudge(String),
    /// Stop the agent: why.
    Stop(String),
}

/// Watches for an agent repeating one call with the same arguments.
#[derive(Debug, Default)]
struct LoopGuard {
    last: Option<(String, String)>,
    repeats: usize,
    nudged: bool,
}

impl LoopGuard {
    fn check(&mut self, call: &ToolCall) -> Verdict {
        let key = (call.name.clone(), call.arguments.to_string());
        if self.last.as_ref() == Some(&key) {
            self.repeats += 1;
        } else {
            self.last = Some(key);
            self.repeats = 1;
            self.nudged = false;
        }
        if self.repeats <= REPEATS {
            return Verdict::Pass;
        }
        let why = format!(
            "`{}` was called {} times in a row with the same arguments",
            call.name, self.repeats
        );
        if self.nudged {
            Verdict::Stop(format!("stopped by the loop guard: {why}"))
        } else {
            self.nudged = true;
            Verdict::Nudge(why)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, args: serde_json::Value) -> ToolCall {
        ToolCall {
            id: String::from("c"),
            name: name.to_owned(),
            arguments: args,
        }
    }

    #[test]
    fn the_guard_nudges_then_stops_a_repeated_call() {
        let mut guard = LoopGuard::default();
        let same = call("read_file", serde_json::json!({"path": "src/lib.rs"}));
        for _ in 0..REPEATS {
            assert_eq!(guard.check(&same), Verdict::Pass);
        }
        assert!(matches!(guard.check(&same), Verdict::Nudge(why) if why.contains("4 times")));
        assert!(matches!(guard.check(&same), Verdict::Stop(why) if why.contains("loop guard")));
        // Another call resets it.
        let other = call("read_file", serde_json::json!({"path": "src/main.rs"}));
        assert_eq!(guard.check(&other), Verdict::Pass);
        assert_eq!(guard.check(&same), Verdict::Pass);
    }
}
