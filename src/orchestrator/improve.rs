//! `improve`: review a repository, turn fixable findings into patches, prove each one in the
//! validation worktree, and commit what passed on a review branch.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Instant;

use super::clock::stamp;
use super::events::Event;
use super::message::commit_message;
use crate::agents::{AgentDef, AgentSet, Flow, Pipeline, Role, Step as PipelineStep};
use crate::edit::RepoPath;
use crate::edit::{Patch, Rebase, guard};
use crate::engine::{self, NoPatch, RUSTFMT};
use crate::findings::{Finding, Fix};
use crate::git::{self, BranchError, CommitSpec, Oid};
use crate::index::Index;
use crate::store::{CandidateRecord, Store, StoreError};
use crate::validate::{
    Options, ValidateError, ValidationReport, Workspace, judge, record_lint_delta,
};

/// What to improve, and how.
#[derive(Debug, Clone)]
pub struct ImproveRequest {
    pub repo_root: PathBuf,
    /// The review branch; default `nova/improve/<YYYYMMDD-HHMMSS>`.
    pub branch: Option<String>,
    /// Review and validate, but commit nothing and create no branch.
    pub dry_run: bool,
    /// Stop after this many commits.
    pub max_changes: Option<usize>,
    /// Agents that must not run (`[agents] disabled`).
    pub disabled: Vec<String>,
    /// How candidates are validated. Flaky tests the archive remembers are added to its test
    /// policy.
    pub validation: Options,
    /// Refuse a base with any failing or flaky test (`--require-green`), as today's CI would.
    pub require_green: bool,
    /// The run's time, seconds since the epoch: the clock, or `SOURCE_DATE_EPOCH`.
    pub time: i64,
}

/// How a run ended.
#[derive(Debug, Clone, Default)]
pub struct ImproveOutcome {
    pub run: String,
    /// The review branch, when at least one commit landed on it.
    pub branch: Option<String>,
    pub commits: Vec<CommitInfo>,
    pub rejected: Vec<(String, Vec<String>)>,
    pub skipped: Vec<(String, String)>,
    /// Findings with a fix that no candidate tried, with why: no agent fixes the rule, it failed
    /// in an earlier run, the run's limits.
    pub left: Vec<(String, String)>,
    /// How many times the tip was linted for fixable findings (at most [`MAX_PASSES`]).
    pub passes: usize,
    pub findings: usize,
    /// The base cannot judge candidates (it does not build, or its tests do not run to the
    /// end), or it has failing or flaky tests and the run requires a green one: nothing was tried.
    pub base_failed: bool,
    /// Why the base failed: its compile errors, and its failing tests.
    pub base_build_errors: Vec<String>,
    pub base_failing_tests: Vec<String>,
    /// The base's report: its already-failing and flaky tests, and what `[validate] skip` left out.
    pub base: Option<ValidationReport>,
    pub stage_seconds: BTreeMap<String, f64>,
    /// The isolation repository code ran under (`nova_sandbox::describe`).
    pub sandbox: String,
}

/// One commit on the review branch.
#[derive(Debug, Clone)]
pub struct CommitInfo {
    pub commit: String,
    pub tree: String,
    pub summary: String,
}

/// Why a run could not happen at all.
#[derive(Debug, thiserror::Error)]
pub enum ImproveError {
    #[error("`{}` is not a Cargo project: there is no `Cargo.toml` at the repository root", .0.display())]
    NotCargo(PathBuf),
    #[error(transparent)]
    Worktree(#[from] git::WorktreeError),
    #[error(transparent)]
    Branch(#[from] BranchError),
    #[error("git: {0}")]
    Git(#[from] git::Error),
    #[error(transparent)]
    Validate(#[from] ValidateError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the `improve` pipeline cannot run: {0}")]
    Pipeline(String),
}

impl ImproveError {
    /// Whether the error is about the machine or the repository (exit 3) rather than what the
    /// user asked for (exit 2).
    pub fn is_environment(&self) -> bool {
        !matches!(
            self,
            ImproveError::Branch(BranchError::Invalid(_) | BranchError::Exists(_))
                | ImproveError::Pipeline(_)
        )
    }
}

/// The agents the `improve` pipeline names for each of its stages.
struct Cast<'a> {
    reviewers: Vec<&'a AgentDef>,
    refactorer: &'a AgentDef,
}

/// Reads the pipeline: a review stage producing findings, a refactor stage turning findings into
/// patches, the validate step and the commit step. (With the builtin brain, the describing agent's
/// work is `message::commit_message`.)
fn cast<'a>(
    set: &'a AgentSet,
    pipeline: &Pipeline,
    disabled: &[String],
) -> Result<Cast<'a>, ImproveError> {
    let agents_of = |flow_in: Flow, flow_out: Flow| -> Vec<&'a AgentDef> {
        pipeline
            .stages
            .iter()
            .filter(|s| s.step.is_none() && s.input == flow_in && s.output.contains(&flow_out))
            .flat_map(|s| s.agents.iter())
            .filter(|name| !disabled.contains(name))
            .filter_map(|name| set.agent(name))
            .collect()
    };
    let reviewers: Vec<&AgentDef> = agents_of(Flow::Task, Flow::Findings)
        .into_iter()
        .filter(|a| a.role == Role::Reviewer)
        .collect();
    if reviewers.is_empty() {
        return Err(ImproveError::Pipeline(String::from(
            "no enabled reviewer reads the task and returns findings",
        )));
    }
    let refactorer = agents_of(Flow::Findings, Flow::Patches)
        .into_iter()
        .next()
        .ok_or_else(|| {
            ImproveError::Pipeline(String::from("no enabled agent turns findings into patches"))
        })?;
    for step in [PipelineStep::Validate, PipelineStep::Commit] {
        if !pipeline.stages.iter().any(|s| s.step == Some(step)) {
            return Err(ImproveError::Pipeline(format!(
                "it has no `{}` step",
                format!("{step:?}").to_lowercase()
            )));
        }
    }
    Ok(Cast {
        reviewers,
        refactorer,
    })
}

/// Everything the run writes goes through here: the caller's sink and the archive.
struct Recorder<'a> {
    sink: &'a mut dyn FnMut(&Event),
    store: Store,
    run: i64,
    seq: usize,
}

impl Recorder<'_> {
    fn emit(&mut self, event: Event) -> Result<(), StoreError> {
        let data = serde_json::to_string(&event).unwrap_or_default();
        self.store.event(self.run, self.seq, event.kind(), &data)?;
        self.seq += 1;
        (self.sink)(&event);
        Ok(())
    }
}

/// A timer per stage.
#[derive(Default)]
struct Stages {
    seconds: BTreeMap<String, f64>,
}

impl Stages {
    fn add(&mut self, stage: &str, started: Instant) {
        *self.seconds.entry(stage.to_owned()).or_default() += started.elapsed().as_secs_f64();
    }

    /// Seconds per stage, rounded for reports.
    fn rounded(self) -> BTreeMap<String, f64> {
        self.seconds
            .into_iter()
            .map(|(k, v)| (k, round(v)))
            .collect()
    }
}

fn round(seconds: f64) -> f64 {
    (seconds * 100.0).round() / 100.0
}

/// Runs `improve` on the request's repository with the agents of `set`, sending every event to
/// `sink` as it happens.
/// `lock` is this repository's: the caller takes it first, since `.nova/` is used from the start.
pub fn improve(
    request: &ImproveRequest,
    set: &AgentSet,
    lock: &crate::state::Lock,
    sink: &mut dyn FnMut(&Event),
) -> Result<ImproveOutcome, ImproveError> {
    debug_assert_eq!(lock.root(), request.repo_root.as_path());
    let started = Instant::now();
    let root = &request.repo_root;
    if !root.join("Cargo.toml").is_file() {
        return Err(ImproveError::NotCargo(root.clone()));
    }
    let pipeline = set
        .pipeline("improve")
        .ok_or_else(|| ImproveError::Pipeline(String::from("there is no `improve` pipeline")))?;
    let cast = cast(set, pipeline, &request.disabled)?;
    let base = git::head_commit(root)?;

    let run_id = stamp(request.time);
    let branch = git::review_branch(
        root,
        request.branch.as_deref(),
        "improve",
        &run_id,
        request.dry_run,
    )?;

    let store = Store::open(root)?;
    let known_failures = store.rejected_fingerprints()?;
    let known_flaky = store.flaky_tests()?;
    let recorded_branch = (!request.dry_run).then_some(branch.as_str());
    let run = store.start_run(
        &run_id,
        "improve",
        &base.to_string(),
        recorded_branch,
        request.time,
    )?;
    let mut rec = Recorder {
        sink,
        store,
        run,
        seq: 0,
    };
    let mut outcome = ImproveOutcome {
        run: run_id.clone(),
        ..ImproveOutcome::default()
    };
    rec.emit(Event::RunStarted {
        run: run_id.clone(),
        base: base.to_string(),
        branch: branch.clone(),
        dry_run: request.dry_run,
    })?;
    if let Some(kept) = rec.store.recovered() {
        let kept = kept.display().to_string();
        rec.emit(Event::ArchiveRecovered { kept })?;
    }

    let mut options = request.validation.clone();
    options
        .tests
        .known_flaky
        .extend(known_flaky.into_iter().map(|row| row.test));
    let result = drive(
        request,
        options,
        &cast,
        base,
        &branch,
        &known_failures,
        &mut rec,
        &mut outcome,
    );
    let status = match &result {
        Ok(()) if outcome.base_failed => "base-failed",
        Ok(()) => "done",
        Err(_) => "failed",
    };
    let summary = format!(
        "{} accepted, {} rejected, {} skipped, {} findings",
        outcome.commits.len(),
        outcome.rejected.len(),
        outcome.skipped.len(),
        outcome.findings
    );
    rec.store.finish_run(
        run,
        status,
        &summary,
        request.time + started.elapsed().as_secs() as i64,
    )?;
    result?;
    rec.emit(Event::RunFinished {
        run: run_id,
        branch: outcome.branch.clone(),
        commits: outcome.commits.len(),
        rejected: outcome.rejected.len(),
        skipped: outcome.skipped.len(),
        seconds: round(started.elapsed().as_secs_f64()),
    })?;
    Ok(outcome)
}

/// The stages of the run, after the archive is open.
#[expect(
    clippy::too_many_arguments,
    reason = "the run's parts, passed apart so that each is borrowed as it must be"
)]
fn drive(
    request: &ImproveRequest,
    options: Options,
    cast: &Cast<'_>,
    base: Oid,
    branch: &str,
    known_failures: &BTreeSet<String>,
    rec: &mut Recorder<'_>,
    outcome: &mut ImproveOutcome,
) -> Result<(), ImproveError> {
    let root = &request.repo_root;
    let mut stages = Stages::default();

    // Review: fetch, prove the base, and read its diagnostics and formatting drift.
    let stage = Instant::now();
    rec.emit(Event::StageStarted {
        stage: "review".into(),
    })?;
    let mut workspace = Workspace::open(root, base, options)?;
    outcome.sandbox = workspace.sandbox().to_owned();
    let fetch = workspace.fetch()?;
    rec.emit(Event::StepFinished {
        command: fetch.command,
        ok: fetch.ok,
        seconds: fetch.seconds,
    })?;
    let (base_report, diagnostics) = workspace.validate_base()?;
    emit_steps(&base_report, rec)?;
    rec.store.validation(
        rec.run,
        None,
        &serde_json::to_string(&base_report).unwrap_or_default(),
    )?;
    let flaky: Vec<(String, String)> = base_report
        .baseline
        .flaky
        .iter()
        .map(|(test, why)| (test.clone(), why.clone()))
        .collect();
    for test in base_report.baseline.seen_flaky() {
        rec.store.flaky_test(test, &outcome.run, request.time)?;
    }
    outcome.base = Some(base_report.clone());
    let red = !base_report.is_green() || !flaky.is_empty();
    if !base_report.can_judge() || request.require_green && red {
        outcome.base_failed = true;
        outcome.base_build_errors = base_report.build_errors.clone();
        outcome.base_failing_tests = base_report.tests.failed().map(str::to_owned).collect();
        for (test, _) in flaky {
            if !outcome.base_failing_tests.contains(&test) {
                outcome.base_failing_tests.push(test);
            }
        }
        if base_report.build_ok && !base_report.tests_ran {
            outcome
                .base_build_errors
                .push(String::from("`cargo test` did not run to completion"));
        }
        rec.emit(Event::BaseFailed {
            build_errors: outcome.base_build_errors.clone(),
            failing_tests: outcome.base_failing_tests.clone(),
        })?;
        stages.add("review", stage);
        outcome.stage_seconds = stages.rounded();
        return Ok(());
    }
    rec.emit(Event::BaseValidated {
        summary: base_report.summary(),
        passed: base_report.passed(),
        failed: base_report.failed(),
        warnings: base_report.lint_warnings,
        already_failing: base_report.baseline.failing.keys().cloned().collect(),
        flaky: base_report.baseline.flaky.keys().cloned().collect(),
        skipped: base_report.skipped.clone(),
    })?;
    let formats = cast
        .reviewers
        .iter()
        .any(|r| engine::owner(&[*r], RUSTFMT, None).is_some());
    let write_scope = guard::Scope::new(&cast.refactorer.scope.write);
    let mut state = Tip {
        commit: base,
        report: base_report,
        lint: diagnostics,
        seen: BTreeSet::new(),
        findings: 0,
        candidates: 0,
    };
    for pass in 1..=MAX_PASSES {
        let stage = Instant::now();
        let drift = if formats {
            workspace.format_drift()?
        } else {
            Vec::new()
        };
        // Symbols come from the index of the worktree, which holds the tip right now.
        let index = Index::build_with_cache(
            workspace.path(),
            Some(&root.join(".nova/index/worktree.bin")),
        );
        let source = WorktreeSource {
            workspace: &workspace,
            index: &index,
        };
        let review = engine::review(&state.lint.diagnostics, &drift, &cast.reviewers, &source);
        if pass == 1 {
            outcome.findings = review.findings.len();
        }

        let mut by_agent: BTreeMap<String, usize> = BTreeMap::new();
        let mut candidates: Vec<(usize, &Finding)> = Vec::new();
        let mut seen_fixes = BTreeSet::new();
        let mut skipped_known = 0;
        // Fingerprints are not unique (two `a.len() == 0` in one function): within a pass
        // every finding counts, and earlier passes' are skipped only once this pass is read.
        let mut handled = Vec::new();
        for finding in &review.findings {
            let idx = state.findings;
            state.findings += 1;
            if state.seen.contains(&finding.fingerprint) {
                continue;
            }
            handled.push(finding.fingerprint.clone());
            rec.store.finding(rec.run, idx, finding)?;
            *by_agent.entry(finding.agent.clone()).or_default() += 1;
            if finding.fix.is_none() {
                continue;
            }
            let what = format!("`{}` at {}", finding.rule, finding.location());
            if !engine::fixes(cast.refactorer, finding) {
                outcome.left.push((
                    what,
                    format!(
                        "the refactorer `{}` does not fix `{}` (its `builtin` rules do not select it)",
                        cast.refactorer.name, finding.rule
                    ),
                ));
                continue;
            }
            if known_failures.contains(&finding.fingerprint) {
                skipped_known += 1;
                outcome
                    .left
                    .push((what, String::from("its fix was rejected in an earlier run")));
                continue;
            }
            // The same fix reported twice (by two lints, or twice by one) is one candidate.
            if seen_fixes.insert((finding.path.clone(), format!("{:?}", finding.fix))) {
                candidates.push((idx, finding));
            }
        }
        state.seen.extend(handled);
        if pass > 1 && candidates.is_empty() {
            stages.add("review", stage);
            break;
        }
        // Formatting last: it rewrites whole files, which would leave later fixes nothing to
        // apply to.
        candidates.sort_by_key(|(_, f)| f.rule == RUSTFMT);
        rec.emit(Event::FindingsReady {
            pass,
            total: review.findings.len(),
            fixable: candidates.len(),
            by_agent,
            unowned: review.unowned.values().sum(),
            known_failures: skipped_known,
        })?;
        stages.add("review", stage);
        let committed = outcome.commits.len();
        try_candidates(
            request,
            cast,
            branch,
            &write_scope,
            candidates,
            &mut workspace,
            &mut state,
            rec,
            outcome,
            &mut stages,
        )?;
        outcome.passes = pass;
        let limited = request
            .max_changes
            .is_some_and(|max| outcome.commits.len() >= max);
        // Fixes can leave new warnings (an import a fix left unused): lint the tip again, which
        // the last accepted candidate's validation did, while this pass changed something.
        if outcome.commits.len() == committed || limited {
            break;
        }
        if pass == MAX_PASSES {
            let source = WorktreeSource {
                workspace: &workspace,
                index: &index,
            };
            let left = engine::review(&state.lint.diagnostics, &[], &cast.reviewers, &source);
            for finding in left.findings.iter().filter(|f| {
                f.fix.is_some()
                    && engine::fixes(cast.refactorer, f)
                    && !state.seen.contains(&f.fingerprint)
            }) {
                outcome.left.push((
                    format!("`{}` at {}", finding.rule, finding.location()),
                    format!("found after the last pass ({MAX_PASSES} passes at most)"),
                ));
            }
        }
    }
    outcome.stage_seconds = stages.rounded();
    Ok(())
}

/// How many times the tip is linted for new fixable findings (the base counts as the first).
pub const MAX_PASSES: usize = 3;

/// The tip of the review branch as a pass leaves it: its commit, report and lint, and what this
/// run has tried.
struct Tip {
    commit: Oid,
    report: ValidationReport,
    lint: crate::validate::CargoOutput,
    /// Fingerprints of the findings earlier passes handled and did not fix: a later pass reports
    /// and tries only the others (a fix that could not be placed is tried again, and a fixed
    /// finding's fingerprint may return on another line).
    seen: BTreeSet<String>,
    /// Findings and candidates numbered so far, across passes.
    findings: usize,
    candidates: usize,
}

/// Refactor, validate, describe, commit: one candidate at a time, each from the new tip.
#[expect(
    clippy::too_many_arguments,
    reason = "the run's parts, passed apart so that each is borrowed as it must be"
)]
fn try_candidates(
    request: &ImproveRequest,
    cast: &Cast<'_>,
    branch: &str,
    write_scope: &guard::Scope,
    candidates: Vec<(usize, &Finding)>,
    workspace: &mut Workspace,
    state: &mut Tip,
    rec: &mut Recorder<'_>,
    outcome: &mut ImproveOutcome,
    stages: &mut Stages,
) -> Result<(), ImproveError> {
    let root = &request.repo_root;
    let mut rebase = Rebase::default();
    let mut formatted: Option<BTreeMap<RepoPath, String>> = None;
    let total = state.candidates + candidates.len();
    let mut remaining = candidates.into_iter();
    while let Some((finding_idx, finding)) = remaining.next() {
        if request
            .max_changes
            .is_some_and(|max| outcome.commits.len() >= max)
        {
            for (_, finding) in std::iter::once((finding_idx, finding)).chain(remaining) {
                outcome.left.push((
                    format!("`{}` at {}", finding.rule, finding.location()),
                    String::from("the run's limit on changes (`--max-changes`) was reached"),
                ));
            }
            break;
        }
        let index = state.candidates;
        state.candidates += 1;
        let stage = Instant::now();
        let current = workspace.read(&finding.path).unwrap_or_default();
        if matches!(finding.fix, Some(Fix::Format)) && formatted.is_none() {
            let drift = workspace.format_drift()?;
            formatted = Some(drift.into_iter().map(|d| (d.path, d.after)).collect());
        }
        let formatted_text = formatted
            .as_ref()
            .and_then(|f| f.get(&finding.path))
            .map(String::as_str);
        let proposal = engine::propose(finding, &current, &rebase, formatted_text);
        stages.add("refactor", stage);
        if let Err(NoPatch::Overlaps | NoPatch::Stale(_)) = &proposal {
            // Placed against this pass's lint, it collides with an accepted fix; the next pass
            // lints the tip again and may place it.
            state.seen.remove(&finding.fingerprint);
        }
        let patch = match proposal.map_err(|e| e.to_string()).and_then(|patch| {
            let read = |path: &str| RepoPath::new(path).and_then(|path| workspace.read(&path));
            let policy = guard::Policy {
                scope: write_scope,
                may_silence: cast.refactorer.may_silence,
                may_add_dependencies: cast.refactorer.may_add_dependencies,
                read: &read,
            };
            guard::check(&patch, &policy)?;
            Ok(patch)
        }) {
            Ok(patch) => patch,
            Err(why) => {
                skip(rec, outcome, (index, total), finding_idx, finding, why)?;
                continue;
            }
        };
        rec.emit(Event::CandidateStarted {
            index,
            total,
            rule: finding.rule.clone(),
            location: finding.location(),
            summary: patch.summary.clone(),
        })?;

        let stage = Instant::now();
        workspace.apply(&patch)?;
        let (mut report, lint) = workspace_validate(workspace, &patch, &state.report, rec)?;
        if report.build_ok && !cast.refactorer.acceptance.is_empty() {
            report.acceptance = workspace.acceptance(&cast.refactorer.acceptance)?;
        }
        record_lint_delta(&state.report, &mut report);
        rec.store.validation(
            rec.run,
            Some(index),
            &serde_json::to_string(&report).unwrap_or_default(),
        )?;
        let verdict = judge(&state.report, &report);
        // A flaky test of the base that failed here and passed when run again flaked once more.
        for (test, rerun) in &report.reruns {
            if rerun.passed_on.is_some() && state.report.baseline.flaky.contains_key(test) {
                rec.store.flaky_test(test, &outcome.run, request.time)?;
            }
        }
        stages.add("validate", stage);
        let diff = patch.diff();
        let seconds = round(stage.elapsed().as_secs_f64());

        let record = CandidateRecord {
            idx: index,
            finding: finding_idx,
            summary: &patch.summary,
            diff: Some(&diff),
            verdict: "rejected",
            reasons: &verdict.reasons,
            commit: None,
            seconds,
        };
        if !verdict.accepted {
            revert(workspace, &patch)?;
            rec.store.candidate(rec.run, &record)?;
            outcome
                .rejected
                .push((patch.summary.clone(), verdict.reasons.clone()));
            rec.emit(Event::CandidateRejected {
                index,
                total,
                summary: patch.summary,
                reasons: verdict.reasons,
                seconds,
            })?;
            continue;
        }

        let stage = Instant::now();
        // The commit is made in a dry run too, so that the worktree, the next candidate and the
        // next pass's lint all start from it; only the branch is left unmade.
        let agent = cast.refactorer.name.as_str();
        let message = commit_message(finding, &patch.summary, agent, &outcome.run, &report);
        let spec = CommitSpec {
            parent: state.commit,
            message: &message,
            time: request.time,
        };
        let (made, tree) = git::commit_patch(root, &spec, &patch)?;
        workspace.checkout(made)?;
        state.commit = made;
        let commit = if request.dry_run {
            outcome.commits.push(CommitInfo {
                commit: String::new(),
                tree: String::new(),
                summary: patch.summary.clone(),
            });
            None
        } else {
            git::set_branch(root, branch, made)?;
            outcome.branch = Some(branch.to_owned());
            outcome.commits.push(CommitInfo {
                commit: made.to_string(),
                tree: tree.to_string(),
                summary: patch.summary.clone(),
            });
            Some(made.to_string())
        };
        match &finding.fix {
            Some(Fix::Replace(replacements)) => rebase.record(&finding.path, replacements),
            Some(Fix::Format) | None => rebase.record_rewrite(&finding.path),
        }
        state.report = report;
        state.lint = lint;
        state.seen.remove(&finding.fingerprint);
        stages.add("commit", stage);
        let accepted = CandidateRecord {
            verdict: "accepted",
            reasons: &[],
            commit: commit.as_deref(),
            ..record
        };
        rec.store.candidate(rec.run, &accepted)?;
        rec.emit(Event::CandidateAccepted {
            index,
            total,
            commit,
            summary: patch.summary,
            validation: state.report.summary(),
            seconds,
        })?;
    }
    Ok(())
}

/// The worktree's files, where the linter read them, and the index of the worktree.
struct WorktreeSource<'a> {
    workspace: &'a Workspace,
    index: &'a Index,
}

impl engine::Source for WorktreeSource<'_> {
    fn text(&self, path: &RepoPath) -> Option<String> {
        self.workspace.read(path)
    }

    fn symbol(&self, path: &RepoPath, line: usize) -> Option<String> {
        let line = u32::try_from(line).ok()?;
        let def = self.index.enclosing(path.as_str(), line, line)?;
        Some(match &def.scope {
            Some(scope) if def.kind != crate::index::Kind::Impl => format!("{scope}::{}", def.name),
            _ => def.name.clone(),
        })
    }
}

/// Validates the worktree and reports each step as it finishes.
fn workspace_validate(
    workspace: &Workspace,
    patch: &Patch,
    base: &ValidationReport,
    rec: &mut Recorder<'_>,
) -> Result<(ValidationReport, crate::validate::CargoOutput), ImproveError> {
    let (report, diagnostics) = workspace.validate_patch(patch, base)?;
    emit_steps(&report, rec)?;
    Ok((report, diagnostics))
}

fn emit_steps(report: &ValidationReport, rec: &mut Recorder<'_>) -> Result<(), ImproveError> {
    for step in &report.steps {
        rec.emit(Event::StepFinished {
            command: step.command.clone(),
            ok: step.ok,
            seconds: step.seconds,
        })?;
    }
    Ok(())
}

/// Puts the files a rejected patch changed back as they were.
fn revert(workspace: &Workspace, patch: &Patch) -> Result<(), ImproveError> {
    workspace.apply(&patch.reversed())?;
    Ok(())
}

fn skip(
    rec: &mut Recorder<'_>,
    outcome: &mut ImproveOutcome,
    (index, total): (usize, usize),
    finding_idx: usize,
    finding: &Finding,
    reason: String,
) -> Result<(), ImproveError> {
    let summary = format!("`{}` at {}", finding.rule, finding.location());
    rec.store.candidate(
        rec.run,
        &CandidateRecord {
            idx: index,
            finding: finding_idx,
            summary: &summary,
            diff: None,
            verdict: "skipped",
            reasons: std::slice::from_ref(&reason),
            commit: None,
            seconds: 0.0,
        },
    )?;
    outcome.skipped.push((summary.clone(), reason.clone()));
    rec.emit(Event::CandidateSkipped {
        index,
        total,
        summary,
        reason,
    })?;
    Ok(())
}
