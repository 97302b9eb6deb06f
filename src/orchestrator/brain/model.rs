//! The review and refactor stages with a model. The reviewers with `report_finding` read the
//! tip with the model once, beside the rules. A finding with a machine-applicable fix still goes
//! to the builtin refactorer (deterministic, and free); any other finding the refactorer agent's
//! rules select goes to that agent, run with the model through the one agent runtime `nova ask`
//! uses, on the tree of the tip. A refused candidate goes to the validate stage's repair agent
//! (the fixer) with why it was refused, at most `attempts` times; an accepted one to the describe
//! stage's committer, whose message the commit carries. Every agent run shares one budget.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Instant;

use super::{
    BrainError, BuiltinRefactorer, BuiltinReviewer, Proposal, Refactorer, Reviewer, TipView,
};
use crate::agents::{AgentDef, AgentSet, Pipeline};
use crate::engine::Review;
use crate::findings::{Finding, Severity};
use crate::git::Oid;

use crate::llm::{Provider, Usage};
use crate::orchestrator::agent::RunLimits;
use crate::orchestrator::ask::{AskError, AskOutcome, AskRequest, OnTip, ask};
use crate::orchestrator::change::{AgentPolicy, Author, Candidate, Origin};
use crate::orchestrator::events::Event;
use crate::orchestrator::landing::{committer, planner, repairer};
use crate::validate::ValidationReport;

/// What the model brain needs: the agents, the provider, and the request every agent's run
/// starts from (the model, its window, prices and limits, the repository, `AGENTS.md`).
pub struct ModelBrain<'a> {
    pub set: &'a AgentSet,
    pub provider: &'a dyn Provider,
    pub template: AskRequest,
    /// The reviewers read the code with the model too (not with `--rules-only`).
    pub reviews: bool,
}

impl std::fmt::Debug for ModelBrain<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelBrain")
            .field("provider", &self.provider.describe())
            .field("model", &self.template.model)
            .finish_non_exhaustive()
    }
}

/// The agent runs of one improve run with the model: the runtime they run on, what they did
/// (for the run's record) and what they spent, against the run's one budget.
pub struct ModelRuns<'a> {
    brain: ModelBrain<'a>,
    runtime: tokio::runtime::Runtime,
    events: Vec<Event>,
    /// What the agents' turns used so far, over every agent run of the improve run.
    spent: Usage,
    started: Instant,
}

/// The runs, shared by the reviewer and the refactorer of one improve run (one thread).
pub type SharedRuns<'a> = Rc<RefCell<ModelRuns<'a>>>;

/// The refactorer agent with a model, its fixer and its committer; the builtin refactorer for
/// machine-applicable fixes.
pub struct ModelRefactorer<'a> {
    builtin: BuiltinRefactorer<'a>,
    runs: SharedRuns<'a>,
    refactorer: &'a AgentDef,
    fixer: Option<(&'a AgentDef, u32)>,
    committer: Option<&'a AgentDef>,
    /// The plan stage's planner, for a finding the refactorer cannot resolve in one change.
    planner: Option<&'a AgentDef>,
}

/// The builtin reviewers (rules with and without fix templates, the compiler, clippy, rustfmt),
/// and, on the first review of the run, the reviewers with `report_finding` reading the tip with
/// the model.
pub struct ModelReviewer<'a> {
    builtin: BuiltinReviewer<'a>,
    runs: SharedRuns<'a>,
    /// The reviewers that read with the model; emptied once they have.
    agents: Vec<&'a AgentDef>,
}

/// How an agent's run ended: its outcome, or why it was stopped.
type Ran = Result<AskOutcome, String>;

impl<'a> ModelRuns<'a> {
    pub fn new(brain: ModelBrain<'a>) -> Result<SharedRuns<'a>, BrainError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| BrainError::Model(format!("no async runtime: {error}")))?;
        Ok(Rc::new(RefCell::new(ModelRuns {
            brain,
            runtime,
            events: Vec::new(),
            spent: Usage::default(),
            started: Instant::now(),
        })))
    }

    /// Runs `agent` alone (no one to hand work to) on `task`, on `on`'s commit, within what is
    /// left of the run's budget.
    fn run(&mut self, agent: &AgentDef, task: String, on: OnTip) -> Result<Ran, BrainError> {
        if let Some(why) = self.exhausted() {
            return Ok(Err(why));
        }
        let set = self.brain.set;
        let limits = self.left();
        let request = AskRequest {
            question: task,
            agent: Some(agent.name.clone()),
            // Nothing is handed on; a domain agent may still ask the other parts' owners.
            disabled: set
                .agents()
                .filter(|other| other.name != agent.name)
                .filter(|other| {
                    other.part.is_none() || !agent.tools.iter().any(|t| t == "request_change")
                })
                .map(|other| other.name.clone())
                .collect(),
            validation: None,
            resume: None,
            explain_route: false,
            works_on: on.file.clone(),
            on_tip: Some(on),
            limits,
            ..self.brain.template.clone()
        };
        let provider = self.brain.provider;
        let events = &mut self.events;
        let spent = &mut self.spent;
        let result = self.runtime.block_on(async {
            let mut sink = |event: &Event| {
                if let Event::AgentTurn {
                    prompt_tokens,
                    completion_tokens,
                    ..
                } = event
                {
                    *spent = spent.plus(Usage {
                        prompt_tokens: *prompt_tokens,
                        completion_tokens: *completion_tokens,
                        ..Usage::default()
                    });
                }
                events.push(event.clone());
            };
            ask(&request, set, provider, &mut sink).await
        });
        match result {
            Ok(outcome) => Ok(Ok(outcome)),
            Err(AskError::Stopped { why, .. }) => Ok(Err(why)),
            Err(error @ AskError::OutOfTime { .. }) => Ok(Err(error.to_string())),
            Err(error) => Err(BrainError::Model(error.to_string())),
        }
    }

    /// Why no agent may run any more: the run's budget is spent.
    pub fn exhausted(&self) -> Option<String> {
        let limits = self.brain.template.limits;
        let tokens = self.spent.prompt_tokens + self.spent.completion_tokens;
        if let Some(max) = limits.tokens.filter(|max| tokens >= *max) {
            return Some(format!(
                "the run's budget of {max} tokens for its model ran out ({tokens} spent)"
            ));
        }
        let cost = self.cost();
        if let Some(max) = limits.cost_usd.filter(|max| cost >= *max) {
            return Some(format!(
                "the run's budget of ${max:.4} for its model ran out (${cost:.4} spent)"
            ));
        }
        let seconds = self.started.elapsed().as_secs();
        limits
            .seconds
            .filter(|max| seconds >= *max)
            .map(|max| format!("the run's budget of {max} s for its model ran out"))
    }

    /// The run's limits less what its agents spent so far: each agent run gets what is left.
    fn left(&self) -> RunLimits {
        let limits = self.brain.template.limits;
        let tokens = self.spent.prompt_tokens + self.spent.completion_tokens;
        let cost = self.cost();
        RunLimits {
            tokens: limits.tokens.map(|max| max.saturating_sub(tokens)),
            cost_usd: limits.cost_usd.map(|max| (max - cost).max(0.0)),
            seconds: limits
                .seconds
                .map(|max| max.saturating_sub(self.started.elapsed().as_secs())),
        }
    }

    /// What the agents' turns cost so far, at the model's prices (0 without them).
    fn cost(&self) -> f64 {
        self.brain
            .template
            .prices
            .map_or(0.0, |prices| prices.cost(&self.spent))
    }
}

impl<'a> ModelRefactorer<'a> {
    /// The refactorer `refactorer`, with the repair, describe and plan agents `pipeline` names
    /// and `disabled` leaves enabled, running on `runs`.
    pub fn new(
        refactorer: &'a AgentDef,
        runs: SharedRuns<'a>,
        pipeline: &Pipeline,
        disabled: &[String],
    ) -> Self {
        let set = runs.borrow().brain.set;
        ModelRefactorer {
            builtin: BuiltinRefactorer::new(refactorer),
            fixer: repairer(pipeline, set, disabled),
            committer: committer(pipeline, set, disabled),
            planner: planner(pipeline, set, disabled),
            runs,
            refactorer,
        }
    }

    /// Runs `agent` on `task` on `on`'s commit.
    fn run(&self, agent: &AgentDef, task: String, on: OnTip) -> Result<Ran, BrainError> {
        self.runs.borrow_mut().run(agent, task, on)
    }

    fn candidate(
        &self,
        agent: &AgentDef,
        outcome: &AskOutcome,
        origin: Origin,
    ) -> Option<Candidate> {
        let patch = outcome.proposal.clone()?;
        // The owners it asked for a part wrote the candidate with it.
        let set = self.runs.borrow().brain.set;
        let policies: Vec<AgentPolicy> = std::iter::once(agent)
            .chain(outcome.helpers.iter().filter_map(|name| set.agent(name)))
            .map(AgentPolicy::of)
            .collect();
        let all: Vec<&AgentPolicy> = policies.iter().collect();
        let author = AgentPolicy::joint(&all).unwrap_or_else(|| AgentPolicy::of(agent));
        Some(Candidate {
            patch,
            author: Author::Agent(author),
            origin,
            message: None,
        })
    }
}

impl<'a> ModelReviewer<'a> {
    /// `builtin`, and `agents` (those with `report_finding`) reading with the model when
    /// `runs`' brain reviews.
    pub fn new(
        builtin: BuiltinReviewer<'a>,
        agents: &[&'a AgentDef],
        runs: SharedRuns<'a>,
    ) -> Self {
        let reviews = runs.borrow().brain.reviews;
        let agents = agents
            .iter()
            .copied()
            .filter(|agent| reviews && agent.tools.iter().any(|t| t == "report_finding"))
            .collect();
        ModelReviewer {
            builtin: builtin.with_unfixed(),
            runs,
            agents,
        }
    }
}

impl Reviewer for ModelReviewer<'_> {
    fn formats(&self) -> bool {
        self.builtin.formats()
    }

    fn review(&mut self, tip: &mut TipView<'_>, formatting: bool) -> Result<Review, BrainError> {
        let mut review = self.builtin.review(tip, formatting)?;
        let task = crate::orchestrator::review::model_review_task(None, None);
        for agent in std::mem::take(&mut self.agents) {
            let on = on_tip(tip, None, None);
            // A reviewer stopped by its budget or the loop guard reports nothing; the others
            // still read (the archive has why).
            let Ok(outcome) = self.runs.borrow_mut().run(agent, task.clone(), on)? else {
                continue;
            };
            let reported: Vec<Finding> = outcome
                .findings
                .into_iter()
                .filter(|f| f.severity >= Severity::Warning)
                .collect();
            // What a rule or a lint already found there is not worked on twice.
            let new = crate::orchestrator::review::not_said_again(reported, &review.findings);
            review.findings.extend(new);
        }
        super::in_file_order(&mut review.findings);
        Ok(review)
    }
}

impl Refactorer for ModelRefactorer<'_> {
    fn name(&self) -> &str {
        &self.refactorer.name
    }

    fn formats(&self) -> bool {
        self.builtin.formats()
    }

    fn fixes(&self, finding: &Finding) -> bool {
        // What its `builtin` selectors own, and what a reviewer reported with the model (its
        // rules are named after the reviewer: `correctness-reviewer::doc-mismatch`).
        let reported = finding
            .rule
            .strip_prefix(finding.agent.as_str())
            .is_some_and(|rest| rest.starts_with("::"));
        reported || crate::engine::fixes(self.refactorer, finding)
    }

    fn propose(
        &mut self,
        finding: &Finding,
        tip: &mut TipView<'_>,
    ) -> Result<Proposal, BrainError> {
        if self.builtin.fixes(finding) {
            return self.builtin.propose(finding, tip);
        }
        let agent = self.refactorer;
        let on = on_tip(tip, None, Some(finding.path.as_str()));
        let outcome = match self.run(agent, refactor_task(finding), on)? {
            Ok(outcome) => outcome,
            Err(why) => {
                return Ok(Proposal::Nothing {
                    reason: format!("`{}` was stopped: {why}", agent.name),
                    later: false,
                });
            }
        };
        let origin = Origin::Finding(Box::new(finding.clone()));
        if let Some(candidate) = self.candidate(agent, &outcome, origin) {
            return Ok(Proposal::Candidate(Box::new(candidate)));
        }
        let why = first_line(&outcome.answer).to_owned();
        let no_change = || Proposal::Nothing {
            reason: format!("`{}` made no change: {why}", agent.name),
            later: false,
        };
        // No change in one go: the planner splits the work into steps, when there is one.
        let Some(planner) = self.planner else {
            return Ok(no_change());
        };
        self.runs.borrow_mut().events.push(Event::Handoff {
            from: agent.name.clone(),
            to: planner.name.clone(),
            message: String::from("findings"),
            attempt: 0,
            why: why.clone(),
        });
        let on = on_tip(tip, None, Some(finding.path.as_str()));
        Ok(match self.run(planner, plan_task(finding, &why), on)? {
            Ok(plan) if !plan.steps.is_empty() => Proposal::Plan {
                goal: plan.answer.trim().to_owned(),
                steps: plan.steps,
            },
            Ok(_) | Err(_) => no_change(),
        })
    }

    fn propose_step(
        &mut self,
        finding: &Finding,
        plan: &[String],
        n: usize,
        tip: &mut TipView<'_>,
    ) -> Result<Proposal, BrainError> {
        let agent = self.refactorer;
        let on = on_tip(tip, None, Some(finding.path.as_str()));
        let outcome = match self.run(agent, step_task(finding, plan, n), on)? {
            Ok(outcome) => outcome,
            Err(why) => {
                return Ok(Proposal::Nothing {
                    reason: format!("`{}` was stopped on step {n}: {why}", agent.name),
                    later: false,
                });
            }
        };
        let origin = Origin::Finding(Box::new(finding.clone()));
        Ok(match self.candidate(agent, &outcome, origin) {
            Some(candidate) => Proposal::Candidate(Box::new(candidate)),
            None => Proposal::Nothing {
                reason: format!(
                    "`{}` made no change for step {n}: {}",
                    agent.name,
                    first_line(&outcome.answer)
                ),
                later: false,
            },
        })
    }

    fn attempts(&self) -> u32 {
        self.fixer.map_or(0, |(_, attempts)| attempts)
    }

    fn repair(
        &mut self,
        candidate: &Candidate,
        reasons: &[String],
        tip: &mut TipView<'_>,
    ) -> Result<Option<Candidate>, BrainError> {
        let Some((fixer, _)) = self.fixer else {
            return Ok(None);
        };
        let first = candidate.patch.changes.first().map(|c| c.path.as_str());
        let on = on_tip(tip, Some(candidate.patch.clone()), first);
        let task = repair_task(candidate, reasons);
        let Ok(outcome) = self.run(fixer, task, on)? else {
            return Ok(None);
        };
        Ok(self
            .candidate(fixer, &outcome, candidate.origin.clone())
            .filter(|repaired| repaired.patch.changes != candidate.patch.changes))
    }

    fn describe(
        &mut self,
        candidate: &Candidate,
        report: &ValidationReport,
        tip: (Oid, &std::path::Path),
    ) -> Result<Option<String>, BrainError> {
        let Some(committer) = self.committer else {
            return Ok(None);
        };
        // A builtin fix keeps its builtin message: no model time for what a template says.
        if self.builtin_made(candidate) {
            return Ok(None);
        }
        let (commit, files) = tip;
        let on = OnTip {
            commit,
            seed: Some(candidate.patch.clone()),
            files: files.to_owned(),
            file: candidate
                .patch
                .changes
                .first()
                .map(|c| c.path.as_str().to_owned()),
        };
        let task = describe_task(candidate, report);
        Ok(match self.run(committer, task, on)? {
            Ok(outcome) if !outcome.answer.trim().is_empty() => {
                Some(outcome.answer.trim().to_owned())
            }
            _ => None,
        })
    }

    fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.runs.borrow_mut().events)
    }

    fn exhausted(&self) -> Option<String> {
        self.runs.borrow().exhausted()
    }

    fn accepted(&mut self, candidate: &Candidate) {
        self.builtin.accepted(candidate);
    }

    fn dropped(&mut self, candidate: &Candidate) {
        self.builtin.dropped(candidate);
    }

    fn next_pass(&mut self) {
        self.builtin.next_pass();
    }
}

impl ModelRefactorer<'_> {
    /// Whether the builtin refactorer made `candidate` (its finding has a machine fix).
    fn builtin_made(&self, candidate: &Candidate) -> bool {
        match &candidate.origin {
            Origin::Finding(finding) => self.builtin.fixes(finding),
            Origin::Findings(_) => true,
            Origin::Reply | Origin::Request { .. } => false,
        }
    }
}

/// What the refactorer is asked for one finding.
fn refactor_task(finding: &Finding) -> String {
    let symbol = finding
        .symbol
        .as_deref()
        .map(|s| format!(" in `{s}`"))
        .unwrap_or_default();
    format!(
        "Resolve this finding with the smallest change that fixes it:\n\n`{}` ({}) at {}{symbol}: \
         {}\n\nRead the code first. Make the change with `propose_edit`, then call `finish` with \
         one line saying what it changes. After you finish, the change is built, tested and \
         linted in a sandbox: one that breaks a test, adds a warning, touches test code or \
         changes the public API is refused. If the finding is wrong, or needs a larger design \
         change, make no change and say why.",
        finding.rule,
        finding.severity.as_str(),
        finding.location(),
        finding.message.trim()
    )
}

/// What the planner is asked for a finding the refactorer could not resolve in one change.
fn plan_task(finding: &Finding, why: &str) -> String {
    format!(
        "The refactorer could not resolve this finding in one change ({why}):\n\n`{}` ({}) at \
         {}: {}\n\nRead the code, then plan the work as small steps, each one change that leaves \
         the crate building with its tests passing, in order; the refactorer makes them one at a \
         time, and each is proved and committed before the next. Call `finish` with the goal \
         and the steps.",
        finding.rule,
        finding.severity.as_str(),
        finding.location(),
        finding.message.trim()
    )
}

/// What the refactorer is asked for step `n` (1-based) of `plan`.
fn step_task(finding: &Finding, plan: &[String], n: usize) -> String {
    let steps: Vec<String> = plan
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let done = match (i + 1).cmp(&n) {
                std::cmp::Ordering::Less => " (done)",
                std::cmp::Ordering::Equal => " (this one)",
                std::cmp::Ordering::Greater => "",
            };
            format!("{}. {step}{done}", i + 1)
        })
        .collect();
    format!(
        "Make step {n} of this plan for `{}` at {} ({}), and only that step:\n\n{}\n\nThe \
         steps before it are committed. Make the change with `propose_edit`, then call `finish` \
         with one line saying what it changes; it is built, tested and linted before the next \
         step starts.",
        finding.rule,
        finding.location(),
        finding.message.trim(),
        steps.join("\n")
    )
}

/// What the fixer is asked for a refused candidate.
fn repair_task(candidate: &Candidate, reasons: &[String]) -> String {
    let why = match &candidate.origin {
        Origin::Finding(finding) => format!(
            "to resolve `{}` at {}: {}",
            finding.rule,
            finding.location(),
            finding.message.trim()
        ),
        _ => String::from("as its summary says"),
    };
    format!(
        "This change was made {why}\n\nIts summary: {}\n\nValidation refused it:\n{}\n\nThe \
         change, already in your candidate (read the files to see it):\n\n{}\nRepair it so that \
         it builds, its tests pass and it adds no warning, still resolving the finding; then \
         call `finish` with one line saying what the change does.",
        candidate.patch.summary.trim(),
        reasons
            .iter()
            .map(|r| format!("- {r}"))
            .collect::<Vec<_>>()
            .join("\n"),
        candidate.patch.diff()
    )
}

/// What the committer is asked for a proved candidate.
fn describe_task(candidate: &Candidate, report: &ValidationReport) -> String {
    let finding = match &candidate.origin {
        Origin::Finding(finding) => format!(
            "It resolves `{}` ({}) at {}: {}",
            finding.rule,
            finding.agent,
            finding.location(),
            finding.message.trim()
        ),
        _ => String::new(),
    };
    format!(
        "Write the commit message for this change, which passed validation ({}).\n\n{finding}\n\
         Its author, `{}`, said: {}\n\nThe diff (also from `git_diff`):\n\n{}",
        report.summary(),
        candidate.author_name(),
        candidate.patch.summary.trim(),
        candidate.patch.diff()
    )
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("").trim()
}

/// Where an agent works for `improve`: on the tip `tip` shows, its map drawn from the worktree
/// that holds it, starting from `seed` when given.
fn on_tip(tip: &TipView<'_>, seed: Option<crate::edit::Patch>, file: Option<&str>) -> OnTip {
    OnTip {
        commit: tip.commit,
        seed,
        files: tip.workspace.path().to_owned(),
        file: file.map(str::to_owned),
    }
}
