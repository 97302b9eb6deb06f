//! Landing an agent's change from `nova ask`: the change path in the sandbox (off the async
//! threads, under the repository's lock), and, when the change is rejected, the pipeline's repair
//! step: the validate stage's `repair` agent gets the report as a typed handoff and works on the
//! same candidate, at most `attempts` times.

use std::path::Path;

use super::agent::{self, Ended, RunBudget, Session, Start};
use super::ask::{AskError, AskRequest, ChangeOutcome, GitTree, Recorder, RepoContext, prompt};
use super::blocking;
use super::change::{self, AgentPolicy, Author, Candidate, ChangePath, Landing, Origin, Target};
use super::clock::stamp;
use super::events::Event;
use super::memory::TaskMemory;
use super::prover::Prover;
use crate::agents::{AgentDef, AgentSet, Flow, Pipeline, Step};
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
    /// The agent that writes commit messages (the `describe` stage's), when enabled.
    pub committer: Option<&'a AgentDef>,
    /// When the run started, for its budget.
    pub started: std::time::Instant,
    /// What the run used so far; the repair and commit agents add theirs.
    pub used: std::sync::Mutex<crate::llm::Usage>,
    /// Domain agents whose changes, made at the agent's request, are in the candidate: the
    /// change is theirs too (`AgentPolicy::joint`).
    pub helpers: Vec<&'a AgentDef>,
}

/// Who wrote a candidate: `agent`, and with it the owners whose parts it asked for.
fn author(agent: &AgentDef, helpers: &[&AgentDef]) -> AgentPolicy {
    let policies: Vec<AgentPolicy> = std::iter::once(agent)
        .chain(helpers.iter().copied())
        .map(AgentPolicy::of)
        .collect();
    let all: Vec<&AgentPolicy> = policies.iter().collect();
    AgentPolicy::joint(&all).unwrap_or_else(|| AgentPolicy::of(agent))
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

/// The enabled agent of the stage that turns reports into a message: the committer.
pub(super) fn committer<'s>(
    pipeline: &Pipeline,
    set: &'s AgentSet,
    disabled: &[String],
) -> Option<&'s AgentDef> {
    first_agent(pipeline, set, disabled, |_, output| {
        output.contains(&Flow::Message)
    })
}

/// The enabled agent of the stage that turns findings into a plan: the planner.
pub(super) fn planner<'s>(
    pipeline: &Pipeline,
    set: &'s AgentSet,
    disabled: &[String],
) -> Option<&'s AgentDef> {
    first_agent(pipeline, set, disabled, |input, output| {
        input == Flow::Findings && output.contains(&Flow::Plan)
    })
}

/// The first enabled agent of the first stage whose input and outputs `stage` accepts.
fn first_agent<'s>(
    pipeline: &Pipeline,
    set: &'s AgentSet,
    disabled: &[String],
    stage: impl Fn(Flow, &[Flow]) -> bool,
) -> Option<&'s AgentDef> {
    pipeline
        .stages
        .iter()
        .filter(|s| stage(s.input, &s.output))
        .flat_map(|s| &s.agents)
        .filter(|name| !disabled.contains(name))
        .find_map(|name| set.agent(name))
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
            why: String::new(),
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
    let ended = run_agent(act, fixer, &mut tools, &task, rec).await?;
    let summary = match ended {
        Ended::Finished(text) | Ended::Answered(text) if !text.is_empty() => text,
        Ended::Finished(_) | Ended::Answered(_) => patch.summary.clone(),
        Ended::Stopped(_) | Ended::Invalid(_) | Ended::HandedOff(_) | Ended::Requested(_) => {
            return Ok(None);
        }
    };
    Ok(tools
        .patch(&summary)
        .filter(|repaired| repaired.changes != patch.changes))
}

/// Proves the candidate and commits it on the review branch, in the sandbox, holding the
/// repository's lock meanwhile (off the async threads: it builds and tests). Between the proof
/// and the commit, the pipeline's committer (when it has one) writes the message.
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
    let mut candidate = Candidate {
        patch,
        author: Author::Agent(author(agent, &act.helpers)),
        origin: Origin::Request {
            request: request.question.clone(),
            model: request.model.clone(),
            trailers: request.trailers.clone(),
        },
        message: None,
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
    let proving = candidate.clone();
    let proved = blocking(move || -> Result<Proved, AskError> {
        // The branch is named under the lock, so that no other run takes the same name.
        let lock = crate::state::Lock::acquire(&root, crate::state::Wait::Yes(&mut |_| {}))?;
        let branch = git::review_branch(&root, asked.as_deref(), "ask", &id, false)?;
        let target = Target {
            branch,
            dry_run: false,
            run: id,
            time,
        };
        let (mut path, base) =
            ChangePath::open(&root, base, options, target).map_err(change::CommitError::from)?;
        let proof = if change::base_can_judge(&base.report, false) {
            Some(path.prove(&proving).map_err(change::CommitError::from)?)
        } else {
            None
        };
        Ok(Proved {
            _lock: lock,
            path,
            base: base.report,
            proof,
        })
    })
    .await?;
    let veto = hooks_veto(act, &candidate, proved.proof.as_ref(), rec).await;
    let accepted = proved.proof.as_ref().is_some_and(|p| p.verdict.accepted) && veto.is_none();
    if accepted
        && let Some(committer) = act.committer
        && let Some(report) = proved.proof.as_ref().map(|p| p.report.clone())
    {
        // A proved change is never lost to its message: without one, its summary is used.
        match describe(act, committer, agent, &candidate, &report, rec).await {
            Ok(Some(message)) => candidate.patch.summary = message,
            Ok(None) => {}
            Err(error) => rec.emit(Event::AgentGuarded {
                agent: committer.name.clone(),
                stopped: true,
                why: format!("it wrote no message ({error}); the change's own summary is used"),
            }),
        }
    }
    let landing = blocking(move || -> Result<Landing, AskError> {
        let Proved {
            _lock,
            mut path,
            base,
            mut proof,
        } = proved;
        refuse(&mut path, &candidate, proof.as_mut(), veto)?;
        let committed = match &proof {
            Some(proof) if proof.verdict.accepted => Some(path.commit(&candidate, proof.clone())?),
            _ => None,
        };
        Ok(Landing {
            sandbox: path.workspace().sandbox().to_owned(),
            base,
            proof,
            committed,
        })
    })
    .await?;
    Ok(record_landing(landing, summary, diff, rec))
}

/// A hook of the user's stopped an accepted candidate: the worktree gives it back, and its verdict
/// says why.
fn refuse(
    path: &mut ChangePath,
    candidate: &Candidate,
    proof: Option<&mut change::Proof>,
    veto: Option<String>,
) -> Result<(), AskError> {
    if let (Some(why), Some(proof)) = (veto, proof)
        && proof.verdict.accepted
    {
        path.put_back(candidate)
            .map_err(change::CommitError::from)?;
        proof.verdict.accepted = false;
        proof.verdict.reasons.push(why);
    }
    Ok(())
}

/// What the user's `candidate_validated` and `commit` hooks say of a proved candidate (off the
/// async threads): why they refuse it, if they do; each hook's run is an event.
async fn hooks_veto(
    act: &Act<'_>,
    candidate: &Candidate,
    proof: Option<&change::Proof>,
    rec: &mut Recorder<'_>,
) -> Option<String> {
    let hooks = act.request.hooks.clone();
    if !hooks.judges() {
        return None;
    }
    let proved = change::proved(candidate, proof?);
    let (why, runs) = blocking(move || hooks.veto(&proved)).await;
    for ran in runs {
        rec.emit(super::agent::hook_ran(ran));
    }
    why
}

/// A proved candidate waiting for its message: the lock is held, the worktree holds it.
struct Proved {
    _lock: crate::state::Lock,
    path: ChangePath,
    base: ValidationReport,
    proof: Option<change::Proof>,
}

/// The committer's message for a proved candidate: it reads the diff and the request, and
/// returns the message with `finish`. `None` when it gave none (the change's own summary is
/// used).
async fn describe(
    act: &Act<'_>,
    committer: &AgentDef,
    author: &AgentDef,
    candidate: &Candidate,
    report: &ValidationReport,
    rec: &mut Recorder<'_>,
) -> Result<Option<String>, AskError> {
    let index = act.context.map(|context| &context.index);
    let mut tools = Toolbox::new(committer, act.tree, index);
    tools.seed(&candidate.patch);
    rec.emit(Event::Handoff {
        from: author.name.clone(),
        to: committer.name.clone(),
        message: String::from("report"),
        attempt: 0,
        why: String::from("write the commit message"),
    });
    let task = format!(
        "Write the commit message for this change, which passed validation ({}).\n\nIt was \
         asked for: {}\nIts author, `{}`, said: {}\n\nThe diff (also from `git_diff`):\n\n{}",
        report.summary(),
        act.request.question,
        author.name,
        candidate.patch.summary,
        candidate.patch.diff()
    );
    let outcome = run_agent(act, committer, &mut tools, &task, rec).await?;
    Ok(match outcome {
        Ended::Finished(text) | Ended::Answered(text) if !text.trim().is_empty() => {
            Some(text.trim().to_owned())
        }
        _ => None,
    })
}

/// Runs `agent` with `tools` on `task`, with the request's model settings.
async fn run_agent(
    act: &Act<'_>,
    agent: &AgentDef,
    tools: &mut Toolbox<'_>,
    task: &str,
    rec: &mut Recorder<'_>,
) -> Result<Ended, AskError> {
    let names: Vec<String> = tools.specs().into_iter().map(|s| s.name).collect();
    let chat = prompt(
        act.request,
        agent,
        act.context,
        &names,
        act.request.nearest_agents_md(),
    )?;
    let prover =
        Prover::new(act.request, act.root, act.base, agent).ok_or(AskError::CannotProve)?;
    let spent = *act.used.lock().expect("no panic while held");
    let session = Session {
        agent,
        hooks: &act.request.hooks,
        mcp: None,
        provider: act.provider,
        model: chat.model.clone(),
        system: chat.system,
        max_tokens: act.request.max_tokens,
        text_tools: act.request.text_tools,
        reasoning: act.request.reasoning,
        window: act.request.context_window,
        run: RunBudget {
            limits: act.request.limits,
            prices: act.request.prices,
            started: act.started,
            spent,
        },
        checks: Some(&prover),
    };
    let mut memory = TaskMemory::new(task);
    let outcome = agent::run(&session, tools, Start::Task(task), &mut memory, rec).await?;
    let mut used = act.used.lock().expect("no panic while held");
    *used = used.plus(outcome.usage);
    Ok(outcome.ended)
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
