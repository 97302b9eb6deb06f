//! What a run reports as it goes: the events the command line renders and the archive keeps.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::llm::{StopReason, Usage};

/// One thing that happened in a run, in order.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    RunStarted {
        run: String,
        base: String,
        branch: String,
        dry_run: bool,
    },
    StageStarted {
        stage: String,
    },
    /// The run archive could not be read: it was kept at `kept` and a new one started.
    ArchiveRecovered {
        kept: String,
    },
    StageFinished {
        stage: String,
        seconds: f64,
    },
    /// A command of a stage finished (fetch, build, test, lint).
    StepFinished {
        command: String,
        ok: bool,
        seconds: f64,
    },
    BaseValidated {
        summary: String,
        passed: usize,
        failed: usize,
        warnings: usize,
        /// Tests that failed in both of the base's runs: kept out of the verdicts.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        already_failing: Vec<String>,
        /// Tests whose result differed between runs, or that earlier runs saw flaky.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        flaky: Vec<String>,
        /// Tests `[validate] skip` leaves out.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        skipped: Vec<String>,
    },
    BaseFailed {
        build_errors: Vec<String>,
        failing_tests: Vec<String>,
    },
    FindingsReady {
        /// 1 for the base; later passes lint the tip after accepted fixes.
        pass: usize,
        total: usize,
        fixable: usize,
        by_agent: BTreeMap<String, usize>,
        /// Rules no reviewer owns: seen, not reported.
        unowned: usize,
        /// Skipped because they failed in an earlier run.
        known_failures: usize,
        /// Fixable, but in files no change may touch (tests, benches, build scripts) or in test
        /// code.
        protected: usize,
    },
    CandidateStarted {
        index: usize,
        total: usize,
        rule: String,
        location: String,
        summary: String,
    },
    CandidateAccepted {
        index: usize,
        /// Candidates known so far in the run (later passes may add more).
        total: usize,
        commit: Option<String>,
        summary: String,
        validation: String,
        seconds: f64,
    },
    CandidateRejected {
        index: usize,
        total: usize,
        summary: String,
        reasons: Vec<String>,
        seconds: f64,
    },
    /// A group of fixes was refused as a whole: it is split (where its compile errors point, by
    /// the feature configurations its fixes need, or in halves), each part proved on its own.
    CandidateSplit {
        index: usize,
        total: usize,
        summary: String,
        reasons: Vec<String>,
        seconds: f64,
        /// How many fixes the group held.
        size: usize,
    },
    /// Proved side by side with a candidate that landed first (`--jobs`): it passed on a tip that
    /// is gone, and is proved again on the new one.
    CandidateOvertaken {
        index: usize,
        total: usize,
        summary: String,
        reason: String,
        seconds: f64,
    },
    CandidateSkipped {
        index: usize,
        total: usize,
        summary: String,
        reason: String,
    },
    /// `ask` chose its agent and is about to send the prompt.
    AskStarted {
        run: Option<String>,
        agent: String,
        provider: String,
        model: String,
        /// The prompt's estimated size.
        prompt_tokens: u64,
    },
    /// A piece of the answer, as it streamed.
    AnswerDelta {
        text: String,
    },
    /// A model request failed in a way worth retrying; what streamed before is void.
    Retrying {
        attempt: u32,
        reason: String,
        delay_ms: u64,
    },
    AskFinished {
        run: Option<String>,
        agent: String,
        answer: String,
        stop: StopReason,
        usage: Usage,
        /// From the price table in the configuration; `None` when the model has no prices there.
        cost_usd: Option<f64>,
        seconds: f64,
    },
    /// The router chose the agent that acts, and why.
    Routed {
        agent: String,
        why: String,
    },
    /// A model turn of an agent ended: how many tools it called, what it cost.
    AgentTurn {
        agent: String,
        turn: u32,
        tool_calls: usize,
        prompt_tokens: u64,
        completion_tokens: u64,
    },
    /// An agent called a tool: the call (cut short), and the first line of what it got back.
    ToolCalled {
        agent: String,
        tool: String,
        arguments: String,
        ok: bool,
        /// Refused before it ran: not the agent's tool, or outside its scope.
        refused: bool,
        result: String,
    },
    /// Work passed from one agent to another, as a typed message (`report`, `findings`, ...).
    Handoff {
        from: String,
        to: String,
        message: String,
        /// The repair attempt this starts (a pipeline's `repair` step); 0 for an agent's own
        /// handoff.
        attempt: u32,
        /// What the sender asked of the receiver, for an agent's own handoff.
        #[serde(skip_serializing_if = "String::is_empty")]
        why: String,
    },
    /// `nova ask --resume`: the run goes on from the last turn `agent` finished.
    Resumed {
        run: String,
        agent: String,
        turn: u32,
    },
    /// An agent's conversation neared the model's window: older turns were replaced by a note
    /// pointing at the task memory.
    Compacted {
        agent: String,
        dropped: usize,
        tokens_before: u64,
        tokens_after: u64,
    },
    /// The loop guard or a budget stopped an agent, or warned it first.
    /// A hook of the user's ran (`[[hooks]]`): `outcome` is `allowed`, `blocked`, `error` or
    /// `timed_out`.
    HookRan {
        on: String,
        command: String,
        outcome: String,
        reason: Option<String>,
        seconds: f64,
    },
    AgentGuarded {
        agent: String,
        stopped: bool,
        why: String,
    },
    RunFinished {
        run: String,
        branch: Option<String>,
        commits: usize,
        rejected: usize,
        skipped: usize,
        seconds: f64,
    },
}

impl Event {
    /// The event's name, as in its JSON `event` field.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::RunStarted { .. } => "run_started",
            Event::StageStarted { .. } => "stage_started",
            Event::StageFinished { .. } => "stage_finished",
            Event::StepFinished { .. } => "step_finished",
            Event::BaseValidated { .. } => "base_validated",
            Event::BaseFailed { .. } => "base_failed",
            Event::ArchiveRecovered { .. } => "archive_recovered",
            Event::FindingsReady { .. } => "findings_ready",
            Event::CandidateStarted { .. } => "candidate_started",
            Event::CandidateAccepted { .. } => "candidate_accepted",
            Event::CandidateRejected { .. } => "candidate_rejected",
            Event::CandidateSplit { .. } => "candidate_split",
            Event::CandidateOvertaken { .. } => "candidate_overtaken",
            Event::CandidateSkipped { .. } => "candidate_skipped",
            Event::AskStarted { .. } => "ask_started",
            Event::AnswerDelta { .. } => "answer_delta",
            Event::Retrying { .. } => "retrying",
            Event::AskFinished { .. } => "ask_finished",
            Event::Routed { .. } => "routed",
            Event::AgentTurn { .. } => "agent_turn",
            Event::ToolCalled { .. } => "tool_called",
            Event::AgentGuarded { .. } => "agent_guarded",
            Event::HookRan { .. } => "hook_ran",
            Event::Handoff { .. } => "handoff",
            Event::Compacted { .. } => "compacted",
            Event::Resumed { .. } => "resumed",
            Event::RunFinished { .. } => "run_finished",
        }
    }
}
