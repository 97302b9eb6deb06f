//! Landing an agent's change from `nova ask`: the change path in the sandbox (off the async
//! threads, under the repository's lock), and, when the change is rejected, the pipeline's repair
//! step: the validate stage's `repair` agent gets the report as a typed handoff and works on the
//! same candidate, at most `attempts` times.

use std::path::Path;

use super::agent::{self, Ended, Session};
use super::ask::{AskError, AskRequest, ChangeOutcome, GitTree, Recorder, RepoContext, prompt};
use super::change::{self, AgentPolicy, Author, Candidate, Landing, Origin, Target};
use super::clock::stamp;
use super::events::Event;
use crate::agents::{AgentDef, AgentSet, Pipeline, Step};
use crate::edit::Patch;
use crate::git::{self, Oid};
use crate::llm::Provider;
use crate::tools::Toolbox;
use crate::validate::ValidationReport;

/// What landing a change needs: the request, where it lands, and who can repair it.
pub(super) struct Act<'a> {
    pub request: &'a AskRequest,
    pub root: &'a Path,
    pub base: Oid,
    pub provider: &'a dyn Provider,
    pub context: Option<&'a RepoContext>,
    pub tree: &'a GitTree,
    /// The validate stage's repair agent and how many attempts it has.
    pub repair: Option<(&'a AgentDef, u32)>,
}

/// The validate stage's `repair` agent, when it is enabled, with its attempts.
pub(super) fn repairer<'s>(
    pipeline: &Pipeline,
    set: &'s AgentSet,
    disabled: &[String],
) -> Option<(&'s AgentDef, u32)> {
    let stage = pipeline
        .stages
        .iter()
        .find(|stage| stage.step == Some(Step::Validate))?;
    let name = stage
        .repair
        .as_ref()
        .filter(|name| !disabled.contains(name))?;
    Some((set.agent(name)?, stage.attempts))
}

/// Proves `patch` (made by `agent`) and commits it; a rejected change goes to the repair agent
/// with its report, and its repair is proved again, at most `attempts` times.
pub(super) async fn land(
    act: &Act<'_>,
    agent: &AgentDef,
    patch: Patch,
    rec: &mut Recorder<'_>,
) -> Result<ChangeOutcome, AskError> {
    let mut author = agent;
    let mut patch = patch;
    let mut attempt = 0;
    loop {
        let outcome = prove(act, author, patch.clone(), rec).await?;
        let rejected = outcome.commit.is_none() && !outcome.base_failed;
        let Some((fixer, attempts)) = act.repair.filter(|_| rejected) else {
            return Ok(outcome);
        };
        if attempt >= attempts {
            return Ok(outcome);
        }
        attempt += 1;
        let reasons = outcome
            .verdict
            .as_ref()
            .map(|v| v.reasons.clone())
            .unwrap_or_default();
        rec.emit(Event::Handoff {
            from: author.name.clone(),
            to: fixer.name.clone(),
            message: String::from("report"),
            attempt,
        });
        match repair(act, fixer, &patch, &reasons, rec).await? {
            Some(repaired) => {
                patch = repaired;
                author = fixer;
            }
            None => return Ok(outcome),
        }
    }
}

/// The repair agent's turn: it starts from the rejected candidate, reads why it was rejected,
/// and edits it. Its candidate, or `None` when it changed nothing or was stopped.
async fn repair(
    act: &Act<'_>,
    fixer: &AgentDef,
    patch: &Patch,
    reasons: &[String],
    rec: &mut Recorder<'_>,
) -> Result<Option<Patch>, AskError> {
    let index = act.context.map(|context| &context.index);
    let mut tools = Toolbox::new(fixer, act.tree, index);
    tools.seed(patch);
    let names: Vec<String> = tools.specs().into_iter().map(|s| s.name).collect();
    let agents_md = std::fs::read_to_string(act.root.join("AGENTS.md")).ok();
    let chat = prompt(
        act.request,
        fixer,
        act.context,
        &names,
        agents_md.as_deref(),
    )?;
    let session = Session {
        agent: fixer,
        provider: act.provider,
        model: chat.model.clone(),
        system: chat.system,
        max_tokens: act.request.max_tokens,
        text_tools: act.request.text_tools,
    };
    let task = format!(
        "This change was asked for: {}\n\nIt was made, and validation rejected it:\n{}\n\nThe \
         change, already in your candidate (read the files to see it):\n\n{}\nRepair it so that \
         it builds, its tests pass and it adds no warning, keeping what it was for; then call \
         `finish` with one line saying what the change does.",
        act.request.question,
        reasons
            .iter()
            .map(|r| format!("- {r}"))
            .collect::<Vec<_>>()
            .join("\n"),
        patch.diff()
    );
    let mut emit = |event: Event| rec.emit(event);
    let outcome = agent::run(&session, &mut tools, &task, &mut emit).await?;
    let summary = match outcome.ended {
        Ended::Finished(text) | Ended::Answered(text) if !text.is_empty() => text,
        Ended::Finished(_) | Ended::Answered(_) => patch.summary.clone(),
        Ended::Stopped(_) => return Ok(None),
    };
    Ok(tools
        .patch(&summary)
        .filter(|repaired| repaired.changes != patch.changes))
}

/// Proves the candidate and commits it on the review branch, in the sandbox, holding the
/// repository's lock meanwhile (off the async threads: it builds and tests).
async fn prove(
    act: &Act<'_>,
    agent: &AgentDef,
    patch: Patch,
    rec: &mut Recorder<'_>,
) -> Result<ChangeOutcome, AskError> {
    let request = act.request;
    let id = stamp(request.time);
    let summary = patch.summary.clone();
    let diff = patch.diff();
    let candidate = Candidate {
        patch,
        author: Author::Agent(AgentPolicy::of(agent)),
        origin: Origin::Request {
            request: request.question.clone(),
            model: request.model.clone(),
        },
    };
    rec.emit(Event::CandidateStarted {
        index: 0,
        total: 1,
        rule: String::new(),
        location: String::new(),
        summary: summary.clone(),
    });
    let Some(options) = request.validation.clone() else {
        return Err(AskError::CannotProve);
    };
    let (root, asked, time, base) = (
        act.root.to_owned(),
        request.branch.clone(),
        request.time,
        act.base,
    );
    let landed = tokio::task::spawn_blocking(move || -> Result<Landing, AskError> {
        // The branch is named under the lock, so that no other run takes the same name.
        let _lock = crate::state::Lock::acquire(&root, crate::state::Wait::Yes(&mut |_| {}))?;
        let branch = git::review_branch(&root, asked.as_deref(), "ask", &id, false)?;
        let target = Target {
            branch,
            dry_run: false,
            run: id,
            time,
        };
        Ok(change::land(
            &root, base, &candidate, options, target, false,
        )?)
    })
    .await;
    let landing = match landed {
        Ok(landing) => landing?,
        Err(panic) => std::panic::resume_unwind(panic.into_panic()),
    };
    Ok(record_landing(landing, summary, diff, rec))
}

/// The events and outcome of a landed (or refused) change.
fn record_landing(
    landing: Landing,
    summary: String,
    diff: String,
    rec: &mut Recorder<'_>,
) -> ChangeOutcome {
    let steps = landing.base.steps.iter().chain(
        landing
            .proof
            .as_ref()
            .map(|p| p.report.steps.as_slice())
            .unwrap_or_default(),
    );
    for step in steps {
        rec.emit(Event::StepFinished {
            command: step.command.clone(),
            ok: step.ok,
            seconds: step.seconds,
        });
    }
    let committed = landing.committed.as_ref();
    let outcome = ChangeOutcome {
        summary: summary.clone(),
        diff,
        base_failed: landing.proof.is_none(),
        base: landing.base.clone(),
        verdict: landing.proof.as_ref().map(|p| p.verdict.clone()),
        report: landing.proof.as_ref().map(|p| p.report.clone()),
        branch: committed.and_then(|c| c.branch.clone()),
        commit: committed.map(|c| c.commit.to_string()),
        sandbox: landing.sandbox.clone(),
    };
    match (&outcome.verdict, &outcome.commit) {
        (Some(_), Some(commit)) => rec.emit(Event::CandidateAccepted {
            index: 0,
            total: 1,
            commit: Some(commit.clone()),
            summary,
            validation: outcome
                .report
                .as_ref()
                .map(ValidationReport::summary)
                .unwrap_or_default(),
            seconds: 0.0,
        }),
        (Some(verdict), None) => rec.emit(Event::CandidateRejected {
            index: 0,
            total: 1,
            summary,
            reasons: verdict.reasons.clone(),
            seconds: 0.0,
        }),
        (None, _) => rec.emit(Event::BaseFailed {
            build_errors: landing.base.build_errors.clone(),
            failing_tests: landing.base.tests.failed().map(str::to_owned).collect(),
        }),
    }
    outcome
}
