//! `improve`: review a repository, turn fixable findings into patches, prove each one in the
//! validation worktree, and commit what passed on a review branch.

mod group;
mod plan;
mod untouched;

pub use group::Grouping;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Instant;

use super::brain::{
    BrainError, BuiltinRefactorer, BuiltinReviewer, ByPart, ModelBrain, ModelRefactorer,
    ModelReviewer, ModelRuns, Refactorer, Reviewer, TipView,
};
use super::change::{self, Base, Candidate, ChangePath, CommitError, Target};
use super::clock::stamp;
use super::events::Event;
use crate::agents::{AgentDef, AgentSet, Flow, Pipeline, Role, Step as PipelineStep};
use crate::findings::Finding;
use crate::git::{self, BranchError, Oid};
use crate::index::Index;
use crate::rules::RuleSet;
use crate::store::{CandidateRecord, Store, StoreError};
use crate::validate::{FeatureBuild, FeatureConfig, Options, ValidateError, ValidationReport};

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
    /// How fixes are gathered into validated commits: by rule (bisected when refused), or one
    /// by one.
    pub grouping: Grouping,
    /// How many candidates may be proved side by side (`--jobs`): the halves of a refused group.
    pub jobs: usize,
    /// Start no candidate after this instant (`nova ci --max-minutes`): what is left is listed.
    pub deadline: Option<Instant>,
    /// Agents that must not run (`[agents] disabled`).
    pub disabled: Vec<String>,
    /// How candidates are validated. Flaky tests the archive remembers are added to its test
    /// policy.
    pub validation: Options,
    /// Refuse a base with any failing or flaky test (`--require-green`), as today's CI would.
    pub require_green: bool,
    /// The run's time, seconds since the epoch: the clock, or `SOURCE_DATE_EPOCH`.
    pub time: i64,
    /// The user's hooks: `candidate_validated` and `commit` may refuse an accepted candidate.
    pub hooks: crate::hooks::Hooks,
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
    /// Fixable findings in files no change may touch (tests, benches, build scripts: the guard's
    /// `protected`) or whose fix changes test code, never tried: per file, how many and why.
    pub protected: BTreeMap<String, (usize, String)>,
    /// How many times the tip was linted for fixable findings (at most [`MAX_PASSES`]).
    pub passes: usize,
    /// The time cap stopped the run before every candidate was tried.
    pub capped: bool,
    /// The model's budget (`[budget]`, `nova ci --max-cost`) stopped the run: why.
    pub spent: Option<String>,
    /// Candidates validated (a group counts once, each half of a split group once more).
    pub validations: usize,
    /// Groups refused as a whole and split to find what broke them.
    pub splits: usize,
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
    #[error(transparent)]
    Git(#[from] git::Error),
    #[error(transparent)]
    Validate(#[from] ValidateError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the `improve` pipeline cannot run: {0}")]
    Pipeline(String),
    #[error("the rules have problems; the first: {0}. `nova rules test` lists them all")]
    Rules(String),
    #[error("{0}")]
    Model(String),
}

impl From<BrainError> for ImproveError {
    fn from(error: BrainError) -> Self {
        match error {
            BrainError::Validate(error) => ImproveError::Validate(error),
            BrainError::Model(_) => ImproveError::Model(error.to_string()),
        }
    }
}

impl From<CommitError> for ImproveError {
    fn from(error: CommitError) -> Self {
        match error {
            CommitError::Git(error) => ImproveError::Git(error),
            CommitError::Branch(error) => ImproveError::Branch(error),
            CommitError::Validate(error) => ImproveError::Validate(error),
        }
    }
}

impl ImproveError {
    /// Whether the error is about the machine or the repository (exit 3) rather than what the
    /// user asked for (exit 2).
    pub fn is_environment(&self) -> bool {
        !matches!(
            self,
            ImproveError::Branch(BranchError::Invalid(_) | BranchError::Exists(_))
                | ImproveError::Pipeline(_)
                | ImproveError::Rules(_)
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

/// Builds the refactorer of one agent.
type MakeRefactorer<'a> = dyn Fn(&'a AgentDef) -> Box<dyn Refactorer + 'a> + 'a;

/// Runs `improve` on the request's repository with the agents of `set`, sending every event to
/// `sink` as it happens: with the builtin brain, or with `model` (the refactorer, its fixer and
/// its committer then work with the model on what has no machine fix).
/// `lock` is this repository's: the caller takes it first, since `.nova/` is used from the start.
pub fn improve(
    request: &ImproveRequest,
    set: &AgentSet,
    lock: &crate::state::Lock,
    model: Option<ModelBrain<'_>>,
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
    let (rules, problems) = RuleSet::for_repo(Some(root));
    if let Some(first) = problems.first() {
        return Err(ImproveError::Rules(first.to_string()));
    }
    let builtin = BuiltinReviewer::new(cast.reviewers.clone(), rules);
    // Each agent's refactorer works the same way: with the model, or builtin.
    let (mut reviewer, make): (Box<dyn Reviewer + '_>, Box<MakeRefactorer<'_>>) = match model {
        Some(brain) => {
            let runs = ModelRuns::new(brain)?;
            let reviewer = ModelReviewer::new(builtin, &cast.reviewers, runs.clone());
            let disabled = request.disabled.clone();
            let make: Box<MakeRefactorer<'_>> = Box::new(move |agent| {
                Box::new(ModelRefactorer::new(
                    agent,
                    runs.clone(),
                    pipeline,
                    &disabled,
                ))
            });
            (Box::new(reviewer), make)
        }
        None => {
            let make: Box<MakeRefactorer<'_>> =
                Box::new(|agent| Box::new(BuiltinRefactorer::new(agent)));
            (Box::new(builtin), make)
        }
    };
    // A repository with domain agents has each finding fixed by the owner of its file.
    let owners = crate::domains::Owners::domains(set, &request.disabled);
    let mut refactorer: Box<dyn Refactorer + '_> = if owners.is_empty() {
        make(cast.refactorer)
    } else {
        Box::new(ByPart::new(owners, make(cast.refactorer), &*make))
    };
    let base = git::head_commit(root)?;
    let run_id = stamp(request.time);
    let branch = git::review_branch(
        root,
        request.branch.as_deref(),
        "improve",
        &run_id,
        request.dry_run,
    )?;
    let (mut run, known_flaky) = start(request, base, &branch, sink)?;
    let mut options = request.validation.clone();
    options.tests.known_flaky.extend(known_flaky);
    let target = Target {
        branch,
        dry_run: request.dry_run,
        run: run_id,
        time: request.time,
    };
    run.formats = reviewer.formats() && refactorer.formats();
    let brains = Brains {
        reviewer: reviewer.as_mut(),
        refactorer: refactorer.as_mut(),
    };
    let result = drive(&mut run, brains, base, options, target);
    finish(run, result, started)
}

/// Opens the archive and records the run's start: the run, and the tests earlier runs saw flaky.
fn start<'a>(
    request: &'a ImproveRequest,
    base: Oid,
    branch: &str,
    sink: &'a mut dyn FnMut(&Event),
) -> Result<(Run<'a>, Vec<String>), ImproveError> {
    let root = &request.repo_root;
    let run_id = stamp(request.time);
    let store = Store::open(root)?;
    let known_failures = store.rejected_fingerprints()?;
    let known_flaky = store
        .flaky_tests()?
        .into_iter()
        .map(|row| row.test)
        .collect();
    let recorded_branch = (!request.dry_run).then_some(branch);
    let id = store.start_run(
        &run_id,
        "improve",
        &base.to_string(),
        recorded_branch,
        request.time,
    )?;
    let mut run = Run {
        request,
        known_failures,
        rec: Recorder {
            sink,
            store,
            run: id,
            seq: 0,
        },
        outcome: ImproveOutcome {
            run: run_id.clone(),
            ..ImproveOutcome::default()
        },
        stages: Stages::default(),
        counts: Counts::default(),
        formats: false,
        drifted: BTreeSet::new(),
        unbuildable: BTreeSet::new(),
    };
    run.rec.emit(Event::RunStarted {
        run: run_id,
        base: base.to_string(),
        branch: branch.to_owned(),
        dry_run: request.dry_run,
    })?;
    if let Some(kept) = run.rec.store.recovered() {
        let kept = kept.display().to_string();
        run.rec.emit(Event::ArchiveRecovered { kept })?;
    }
    Ok((run, known_flaky))
}

/// Records how the run ended, whatever `result` says, then reports it.
fn finish(
    run: Run<'_>,
    result: Result<(), ImproveError>,
    started: Instant,
) -> Result<ImproveOutcome, ImproveError> {
    let Run {
        request,
        mut rec,
        mut outcome,
        stages,
        ..
    } = run;
    outcome.stage_seconds = stages.rounded();
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
    let finished = request.time + started.elapsed().as_secs() as i64;
    rec.store.finish_run(rec.run, status, &summary, finished)?;
    result?;
    rec.emit(Event::RunFinished {
        run: outcome.run.clone(),
        branch: outcome.branch.clone(),
        commits: outcome.commits.len(),
        rejected: outcome.rejected.len(),
        skipped: outcome.skipped.len(),
        seconds: round(started.elapsed().as_secs_f64()),
    })?;
    Ok(outcome)
}

/// Why the candidates left were not tried when the time cap stopped the run.
const TIME_CAP: &str = "the run's time cap (`--max-minutes`) was reached";

/// A run in progress: what it was asked, what it has recorded and found so far.
struct Run<'a> {
    request: &'a ImproveRequest,
    /// Fingerprints of findings whose fixes earlier runs rejected.
    known_failures: BTreeSet<String>,
    rec: Recorder<'a>,
    outcome: ImproveOutcome,
    stages: Stages,
    counts: Counts,
    /// A machine fix's candidate carries the formatting of the files it touches (the reviewer
    /// reports drift and the refactorer formats).
    formats: bool,
    /// The files rustfmt would change at the start of this pass: their formatting is a change of
    /// its own, never folded into a fix.
    drifted: BTreeSet<String>,
    /// The feature configurations that built on neither tree of a candidate this run: a fix
    /// whose lines need one is refused unproved before it is built (Nova's own commits since
    /// left such code alone: a change under it is never accepted).
    unbuildable: BTreeSet<FeatureConfig>,
}

/// Findings and candidates numbered so far, across passes, and what earlier passes handled.
#[derive(Default)]
struct Counts {
    findings: usize,
    candidates: usize,
    /// Candidates known so far: the groups planned, the skips, the halves of split groups.
    expected: usize,
    /// Fingerprints of the findings earlier passes handled and did not fix: a later pass reports
    /// and tries only the others (a fix that could not be placed is tried again, and a fixed
    /// finding's fingerprint may return on another line).
    seen: BTreeSet<String>,
}

impl Run<'_> {
    /// The next candidate's place, `adds` more candidates now being known (a skip is one the
    /// plan did not count).
    fn next_place(&mut self, finding: usize, adds: usize) -> Place {
        self.counts.expected += adds;
        let index = self.counts.candidates;
        self.counts.candidates += 1;
        Place {
            index,
            total: self.counts.expected.max(index + 1),
            finding,
        }
    }

    /// Records what the refactorer's agents did since the last call.
    fn relay(&mut self, refactorer: &mut dyn Refactorer) -> Result<(), ImproveError> {
        for event in refactorer.take_events() {
            self.rec.emit(event)?;
        }
        Ok(())
    }

    fn limit_reached(&self) -> bool {
        self.stop_reason().is_some()
    }

    /// Why no further candidate may start: the limit on changes, or the time cap.
    fn stop_reason(&self) -> Option<&'static str> {
        if self
            .request
            .max_changes
            .is_some_and(|max| self.outcome.commits.len() >= max)
        {
            return Some("the run's limit on changes (`--max-changes`) was reached");
        }
        self.request
            .deadline
            .is_some_and(|deadline| Instant::now() >= deadline)
            .then_some(TIME_CAP)
    }
}

/// The reviewer and the refactorer the run works with.
struct Brains<'b> {
    reviewer: &'b mut dyn Reviewer,
    refactorer: &'b mut dyn Refactorer,
}

/// The stages of the run, after the archive is open: prove the base, then review, propose,
/// validate and commit, pass after pass.
fn drive(
    run: &mut Run<'_>,
    brains: Brains<'_>,
    base: Oid,
    options: Options,
    target: Target,
) -> Result<(), ImproveError> {
    let Some(mut path) = prove_base(run, base, options, target)? else {
        return Ok(());
    };
    let Brains {
        reviewer,
        refactorer,
    } = brains;
    for pass in 1..=MAX_PASSES {
        let stage = Instant::now();
        // Symbols come from the index of the worktree, which holds the tip right now.
        let index = Index::build_with_cache(
            path.workspace().path(),
            Some(&run.request.repo_root.join(crate::index::WORKTREE_CACHE)),
        );
        let candidates = review(run, &mut path, reviewer, refactorer, &index, pass)?;
        run.stages.add("review", stage);
        let Some(candidates) = candidates else {
            break;
        };
        let committed = run.outcome.commits.len();
        refactorer.next_pass();
        group::try_groups(run, &mut path, refactorer, &index, candidates)?;
        run.outcome.passes = pass;
        // Fixes can leave new warnings (an import a fix left unused): lint the tip again, which
        // the last accepted candidate's validation did, while this pass changed something.
        if run.outcome.commits.len() == committed || run.limit_reached() {
            break;
        }
        if pass == MAX_PASSES {
            let mut view = TipView::of(&mut path, &index);
            let left = reviewer.review(&mut view, false)?;
            for finding in left.findings.iter().filter(|f| {
                f.fix.is_some() && refactorer.fixes(f) && !run.counts.seen.contains(&f.fingerprint)
            }) {
                run.outcome.left.push((
                    format!("`{}` at {}", finding.rule, finding.location()),
                    format!("found after the last pass ({MAX_PASSES} passes at most)"),
                ));
            }
        }
    }
    Ok(())
}

/// Makes the validation worktree and proves the base, reporting each step: the change path
/// candidates go through, or `None` when the base cannot judge them (the outcome says why).
fn prove_base(
    run: &mut Run<'_>,
    base: Oid,
    options: Options,
    target: Target,
) -> Result<Option<ChangePath>, ImproveError> {
    let stage = Instant::now();
    run.rec.emit(Event::StageStarted {
        stage: "review".into(),
    })?;
    let root = &run.request.repo_root;
    let (mut path, Base { fetch, report }) = ChangePath::open(root, base, options, target)?;
    path.set_jobs(run.request.jobs);
    run.outcome.sandbox = path.workspace().sandbox().to_owned();
    run.rec.emit(Event::StepFinished {
        command: fetch.command,
        ok: fetch.ok,
        seconds: fetch.seconds,
    })?;
    emit_steps(&report, &mut run.rec)?;
    let json = serde_json::to_string(&report).unwrap_or_default();
    run.rec.store.validation(run.rec.run, None, &json)?;
    for test in report.baseline.seen_flaky() {
        run.rec
            .store
            .flaky_test(test, &run.outcome.run, run.request.time)?;
    }
    run.outcome.base = Some(report.clone());
    if change::base_can_judge(&report, run.request.require_green) {
        run.rec.emit(Event::BaseValidated {
            summary: report.summary(),
            passed: report.passed(),
            failed: report.failed(),
            warnings: report.lint_warnings,
            already_failing: report.baseline.failing.keys().cloned().collect(),
            flaky: report.baseline.flaky.keys().cloned().collect(),
            skipped: report.skipped.clone(),
        })?;
        return Ok(Some(path));
    }
    let outcome = &mut run.outcome;
    outcome.base_failed = true;
    outcome.base_build_errors = report.build_errors.clone();
    outcome.base_failing_tests = report.tests.failed().map(str::to_owned).collect();
    for test in report.baseline.flaky.keys() {
        if !outcome.base_failing_tests.contains(test) {
            outcome.base_failing_tests.push(test.clone());
        }
    }
    if report.build_ok && !report.tests_ran {
        outcome
            .base_build_errors
            .push(String::from("`cargo test` did not run to completion"));
    }
    let event = Event::BaseFailed {
        build_errors: outcome.base_build_errors.clone(),
        failing_tests: outcome.base_failing_tests.clone(),
    };
    run.rec.emit(event)?;
    run.stages.add("review", stage);
    Ok(None)
}

/// One pass's review of the tip: the findings this pass tries, numbered, fixable by the
/// refactorer and not tried in an earlier run, formatting last; `None` when a later pass finds
/// nothing new to try.
fn review(
    run: &mut Run<'_>,
    path: &mut ChangePath,
    reviewer: &mut dyn Reviewer,
    refactorer: &mut dyn Refactorer,
    index: &Index,
    pass: usize,
) -> Result<Option<Vec<(usize, Finding)>>, ImproveError> {
    let mut view = TipView::of(path, index);
    let review = reviewer.review(&mut view, true);
    run.relay(refactorer)?;
    let review = review?;
    if pass == 1 {
        run.outcome.findings = review.findings.len();
    }
    run.drifted = review
        .findings
        .iter()
        .filter(|f| f.rule == crate::engine::RUSTFMT)
        .map(|f| f.path.as_str().to_owned())
        .collect();
    let mut by_agent: BTreeMap<String, usize> = BTreeMap::new();
    let mut candidates: Vec<(usize, Finding)> = Vec::new();
    let mut seen_fixes = BTreeSet::new();
    let mut skipped_known = 0;
    let mut protected = 0;
    let mut tests = untouched::TestCode::of(path.workspace());
    // Fingerprints are not unique (two `a.len() == 0` in one function): within a pass every
    // finding counts, and earlier passes' are skipped only once this pass is read.
    let mut handled = Vec::new();
    for finding in review.findings.iter() {
        let idx = run.counts.findings;
        run.counts.findings += 1;
        if run.counts.seen.contains(&finding.fingerprint) {
            continue;
        }
        handled.push(finding.fingerprint.clone());
        run.rec.store.finding(run.rec.run, idx, finding)?;
        *by_agent.entry(finding.agent.clone()).or_default() += 1;
        // Without a fix, a finding is only reported, unless a refactorer with a model takes it.
        if finding.fix.is_none() && !refactorer.fixes(finding) {
            continue;
        }
        let what = format!("`{}` at {}", finding.rule, finding.location());
        if !refactorer.fixes(finding) {
            run.outcome.left.push((
                what,
                format!(
                    "the refactorer `{}` does not fix `{}` (its `builtin` rules do not select it)",
                    refactorer.name(),
                    finding.rule
                ),
            ));
            continue;
        }
        if run.known_failures.contains(&finding.fingerprint) {
            skipped_known += 1;
            run.outcome
                .left
                .push((what, String::from("its fix was rejected in an earlier run")));
            continue;
        }
        // A file no change may touch: said once per file, not tried finding by finding.
        if let Some(why) = untouched::why(finding, &mut tests) {
            protected += 1;
            let file = finding.path.as_str().to_owned();
            run.outcome
                .protected
                .entry(file)
                .or_insert_with(|| (0, why))
                .0 += 1;
            continue;
        }
        // The same fix reported twice (by two lints, or twice by one) is one candidate.
        let key = match &finding.fix {
            Some(fix) => format!("{fix:?}"),
            None => format!("{} {:?}", finding.rule, finding.span),
        };
        if seen_fixes.insert((finding.path.clone(), key)) {
            candidates.push((idx, finding.clone()));
        }
    }
    run.counts.seen.extend(handled);
    if pass > 1 && candidates.is_empty() {
        return Ok(None);
    }
    // Formatting last: it rewrites whole files, which would leave later fixes nothing to apply to.
    candidates.sort_by_key(|(_, f)| f.rule == crate::engine::RUSTFMT);
    run.rec.emit(Event::FindingsReady {
        pass,
        total: review.findings.len(),
        fixable: candidates.len(),
        by_agent,
        unowned: review.unowned.values().sum(),
        known_failures: skipped_known,
        protected,
    })?;
    Ok(Some(candidates))
}

/// How many times the tip is linted for new fixable findings (the base counts as the first).
pub const MAX_PASSES: usize = 3;

/// Where a candidate stands in the run: its number, of how many, and its finding's number.
#[derive(Debug, Clone, Copy)]
struct Place {
    index: usize,
    total: usize,
    finding: usize,
}

/// What became of a candidate that was tried.
enum Tried {
    Accepted,
    Refused(Refusal),
}

/// Why a candidate was refused: the verdict's reasons, where its build failed (each compile
/// error's file and line), and whether a feature configuration it needs built on neither tree:
/// what a refused group is split by.
struct Refusal {
    reasons: Vec<String>,
    errors: Vec<(String, usize)>,
    unbuildable: bool,
}

/// Validates, judges and (if accepted) commits one guarded candidate of `size` fixes, recording
/// each step. A refused group of more than one fix is recorded as split, not rejected: its
/// halves are tried next.
fn try_one(
    run: &mut Run<'_>,
    path: &mut ChangePath,
    refactorer: &mut dyn Refactorer,
    candidate: &Candidate,
    place: Place,
    size: usize,
) -> Result<Tried, ImproveError> {
    started(run, candidate, place)?;
    let stage = Instant::now();
    let proof = path.prove(candidate)?;
    let seconds = stage.elapsed().as_secs_f64();
    run.stages.add("validate", stage);
    settle(
        run,
        path,
        refactorer,
        (candidate, place, size),
        (proof, seconds),
    )
}

/// As [`try_one`], for candidates proved side by side on the same tip (`--jobs`), each with its
/// place and size: the refused are recorded first, on the tip they were proved against; then
/// the first accepted lands, and any other accepted one is overtaken (its tip moved under it):
/// `None`, to be proved again on the new tip.
fn try_beside(
    run: &mut Run<'_>,
    path: &mut ChangePath,
    refactorer: &mut dyn Refactorer,
    tries: &[(Candidate, Place, usize)],
) -> Result<Vec<Option<Tried>>, ImproveError> {
    for (candidate, place, _) in tries {
        started(run, candidate, *place)?;
    }
    let stage = Instant::now();
    let candidates: Vec<&Candidate> = tries.iter().map(|(c, _, _)| c).collect();
    let proofs = path.prove_beside(&candidates)?;
    let seconds = stage.elapsed().as_secs_f64();
    run.stages.add("validate", stage);
    let mut tried: Vec<Option<Tried>> = Vec::new();
    let mut accepted = Vec::new();
    for (at, ((candidate, place, size), proof)) in tries.iter().zip(proofs).enumerate() {
        if proof.verdict.accepted {
            accepted.push((at, proof));
            tried.push(None);
        } else {
            let one = (candidate, *place, *size);
            tried.push(Some(settle(run, path, refactorer, one, (proof, seconds))?));
        }
    }
    for (nth, (at, proof)) in accepted.into_iter().enumerate() {
        let (candidate, place, size) = &tries[at];
        if nth == 0 {
            let one = (candidate, *place, *size);
            tried[at] = Some(settle(run, path, refactorer, one, (proof, seconds))?);
        } else {
            overtaken(run, path, candidate, *place, (proof, seconds))?;
        }
    }
    Ok(tried)
}

fn started(run: &mut Run<'_>, candidate: &Candidate, place: Place) -> Result<(), ImproveError> {
    run.rec.emit(Event::CandidateStarted {
        index: place.index,
        total: place.total,
        rule: finding_of(candidate)
            .map(|f| f.rule.clone())
            .unwrap_or_default(),
        location: finding_of(candidate)
            .map(Finding::location)
            .unwrap_or_default(),
        summary: candidate.patch.summary.clone(),
    })?;
    Ok(())
}

/// Records a validation: its steps, its report, flaky tests met.
fn recorded(
    run: &mut Run<'_>,
    path: &ChangePath,
    place: Place,
    proof: &change::Proof,
) -> Result<(), ImproveError> {
    run.outcome.validations += 1;
    let unbuildable = proof.report.features.iter().filter(|b| b.unbuildable());
    run.unbuildable
        .extend(unbuildable.map(|build| build.config.clone()));
    emit_steps(&proof.report, &mut run.rec)?;
    let json = serde_json::to_string(&proof.report).unwrap_or_default();
    run.rec
        .store
        .validation(run.rec.run, Some(place.index), &json)?;
    // A flaky test of the base that failed here and passed when run again flaked once more.
    for (test, rerun) in &proof.report.reruns {
        if rerun.passed_on.is_some() && path.tip().report.baseline.flaky.contains_key(test) {
            run.rec
                .store
                .flaky_test(test, &run.outcome.run, run.request.time)?;
        }
    }
    Ok(())
}

/// What a candidate of `size` fixes proved: refused (recorded, kept under the run's refs), or
/// described and committed.
fn settle(
    run: &mut Run<'_>,
    path: &mut ChangePath,
    refactorer: &mut dyn Refactorer,
    (candidate, place, size): (&Candidate, Place, usize),
    (mut proof, seconds): (change::Proof, f64),
) -> Result<Tried, ImproveError> {
    recorded(run, path, place, &proof)?;
    if let Some(why) = hooks_veto(run, candidate, &proof)?
        && proof.verdict.accepted
    {
        // A hook of the user's stopped it: the worktree gives the candidate back.
        path.put_back(candidate)?;
        proof.verdict.accepted = false;
        proof.verdict.reasons.push(why);
    }
    let patch = &candidate.patch;
    let diff = patch.diff();
    let seconds = round(seconds);
    let reasons = proof.verdict.reasons.clone();
    let record = CandidateRecord {
        idx: place.index,
        finding: place.finding,
        summary: &patch.summary,
        diff: Some(&diff),
        verdict: if size > 1 { "split" } else { "rejected" },
        reasons: &reasons,
        commit: None,
        seconds,
    };
    if !proof.verdict.accepted {
        path.checkpoint(candidate, place.index + 1, None, &reasons)?;
        run.rec.store.candidate(run.rec.run, &record)?;
        let summary = patch.summary.clone();
        let event = if size > 1 {
            run.outcome.splits += 1;
            Event::CandidateSplit {
                index: place.index,
                total: place.total,
                summary,
                reasons,
                seconds,
                size,
            }
        } else {
            run.outcome
                .rejected
                .push((summary.clone(), reasons.clone()));
            Event::CandidateRejected {
                index: place.index,
                total: place.total,
                summary,
                reasons,
                seconds,
            }
        };
        run.rec.emit(event)?;
        let errors = proof.report.first_errors.iter();
        let errors = errors
            .filter_map(|error| Some((error.file.clone()?, error.line?)))
            .collect();
        return Ok(Tried::Refused(Refusal {
            reasons: proof.verdict.reasons,
            errors,
            unbuildable: proof.report.features.iter().any(FeatureBuild::unbuildable),
        }));
    }
    let described = describe(run, path, refactorer, candidate, &proof.report)?;
    let candidate = &Candidate {
        message: described,
        ..candidate.clone()
    };
    accept(run, path, candidate, proof, (place, record))
}

/// Records a candidate whose proof a candidate beside it overtook: accepted on a tip that is no
/// longer the tip.
fn overtaken(
    run: &mut Run<'_>,
    path: &ChangePath,
    candidate: &Candidate,
    place: Place,
    (proof, seconds): (change::Proof, f64),
) -> Result<(), ImproveError> {
    recorded(run, path, place, &proof)?;
    let why = String::from(
        "passed beside a change that landed first: proved again on the tip that change made",
    );
    let diff = candidate.patch.diff();
    run.rec.store.candidate(
        run.rec.run,
        &CandidateRecord {
            idx: place.index,
            finding: place.finding,
            summary: &candidate.patch.summary,
            diff: Some(&diff),
            verdict: "overtaken",
            reasons: std::slice::from_ref(&why),
            commit: None,
            seconds: round(seconds),
        },
    )?;
    run.rec.emit(Event::CandidateOvertaken {
        index: place.index,
        total: place.total,
        summary: candidate.patch.summary.clone(),
        reason: why,
        seconds: round(seconds),
    })?;
    Ok(())
}

/// The committer's message for a proved candidate, when the refactorer has one; a message that
/// could not be written leaves the builtin one (a proved change is never lost to its message).
fn describe(
    run: &mut Run<'_>,
    path: &ChangePath,
    refactorer: &mut dyn Refactorer,
    candidate: &Candidate,
    report: &ValidationReport,
) -> Result<Option<String>, ImproveError> {
    let tip = (path.tip().commit, path.workspace().path());
    let described = refactorer.describe(candidate, report, tip);
    run.relay(refactorer)?;
    match described {
        Ok(message) => Ok(message),
        Err(BrainError::Validate(error)) => Err(error.into()),
        Err(error @ BrainError::Model(_)) => {
            run.rec.emit(Event::AgentGuarded {
                agent: String::from("committer"),
                stopped: true,
                why: format!("it wrote no message ({error}); the builtin message is used"),
            })?;
            Ok(None)
        }
    }
}

/// What the user's `candidate_validated` and `commit` hooks say of a proved candidate: why they
/// refuse it, if they do; each hook's run is an event.
fn hooks_veto(
    run: &mut Run<'_>,
    candidate: &Candidate,
    proof: &change::Proof,
) -> Result<Option<String>, ImproveError> {
    if !run.request.hooks.judges() {
        return Ok(None);
    }
    let (why, runs) = run.request.hooks.veto(&change::proved(candidate, proof));
    for ran in runs {
        run.rec.emit(super::agent::hook_ran(ran))?;
    }
    Ok(why)
}

/// Commits an accepted candidate and records it.
fn accept(
    run: &mut Run<'_>,
    path: &mut ChangePath,
    candidate: &Candidate,
    proof: change::Proof,
    (place, record): (Place, CandidateRecord<'_>),
) -> Result<Tried, ImproveError> {
    let patch = &candidate.patch;
    let seconds = record.seconds;
    let stage = Instant::now();
    // The commit is made in a dry run too, so that the worktree, the next candidate and the next
    // pass's lint all start from it; only the branch is left unmade.
    let committed = path.commit(candidate, proof)?;
    path.checkpoint(candidate, place.index + 1, Some(committed.commit), &[])?;
    let commit = committed
        .branch
        .as_ref()
        .map(|_| committed.commit.to_string());
    run.outcome.commits.push(CommitInfo {
        commit: commit.clone().unwrap_or_default(),
        tree: commit
            .as_ref()
            .map(|_| committed.tree.to_string())
            .unwrap_or_default(),
        summary: patch.summary.clone(),
    });
    if committed.branch.is_some() {
        run.outcome.branch = committed.branch;
    }
    run.stages.add("commit", stage);
    let accepted = CandidateRecord {
        verdict: "accepted",
        reasons: &[],
        commit: commit.as_deref(),
        ..record
    };
    run.rec.store.candidate(run.rec.run, &accepted)?;
    run.rec.emit(Event::CandidateAccepted {
        index: place.index,
        total: place.total,
        commit,
        summary: patch.summary.clone(),
        validation: path.tip().report.summary(),
        seconds,
    })?;
    Ok(Tried::Accepted)
}

fn finding_of(candidate: &Candidate) -> Option<&Finding> {
    match &candidate.origin {
        super::change::Origin::Finding(finding) => Some(finding),
        super::change::Origin::Findings(findings) => findings.first(),
        super::change::Origin::Reply | super::change::Origin::Request { .. } => None,
    }
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

fn skip(
    run: &mut Run<'_>,
    place: Place,
    finding: &Finding,
    reason: String,
) -> Result<(), ImproveError> {
    let summary = format!("`{}` at {}", finding.rule, finding.location());
    run.rec.store.candidate(
        run.rec.run,
        &CandidateRecord {
            idx: place.index,
            finding: place.finding,
            summary: &summary,
            diff: None,
            verdict: "skipped",
            reasons: std::slice::from_ref(&reason),
            commit: None,
            seconds: 0.0,
        },
    )?;
    run.outcome.skipped.push((summary.clone(), reason.clone()));
    run.rec.emit(Event::CandidateSkipped {
        index: place.index,
        total: place.total,
        summary,
        reason,
    })?;
    Ok(())
}
