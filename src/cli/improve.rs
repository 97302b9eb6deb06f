//! `nova improve`: review, fix, prove, commit on a review branch, report.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::ask::{agent_template, connect};
use super::output::{BOLD, DIM, GREEN, RED, YELLOW};
use super::validation::{ValidationArgs, print_baseline};
use super::{CommandError, Context, Exit};
use crate::agents::{self, AgentSet};
use crate::config::ProviderKind;
use crate::orchestrator::{
    self, AskRequest, Event, Grouping, ImproveError, ImproveOutcome, ImproveRequest, ModelBrain,
};
use crate::validate::StepObserver;

/// Review the repository, fix what can be fixed, prove each fix, and commit it on a review branch.
///
/// Works on the committed state of HEAD: your working tree, index, HEAD and current branch are
/// never touched. Each candidate is built (every workspace member, every target), tested and
/// linted in a validation worktree inside a sandbox (no network), and committed only if it
/// builds, every test that passed still passes, no test disappeared, and the warning count did
/// not grow. Test code, tests and build scripts are never changed. The fixes of one rule are
/// proved together and bisected when refused (`--group`). With a model (`--provider`), the
/// reviewers also read the code with it, and what has no machine fix goes to the refactorer
/// agent, its fixer when refused and its committer when proved. Exits 0 when the run completed
/// (even with nothing to improve), 1 when the base itself does not build or pass its tests, 3
/// when the repository is not git or not a Cargo project.
#[derive(Debug, Args)]
pub struct ImproveArgs {
    /// The review branch to create [default: nova/improve/<YYYYMMDD-HHMMSS>]
    #[arg(long, value_name = "NAME")]
    branch: Option<String>,
    /// Review and validate, but commit nothing and create no branch
    #[arg(long)]
    dry_run: bool,
    /// Stop after this many commits [default: `budget.max_changes`, else no limit]
    #[arg(long, value_name = "N")]
    max_changes: Option<usize>,
    /// Prove all the machine fixes of a pass as one commit, those of one rule as one, or each on
    /// its own; a refused group is bisected
    #[arg(long, value_enum, value_name = "HOW", default_value = "pass")]
    group: GroupBy,
    /// How many candidates may be proved side by side, each in a worktree and target dir of its
    /// own: when a group is refused, its halves are proved at once on the same tip
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=16))]
    jobs: u16,
    /// With a model, review with the rule packs, the compiler and clippy only; the model still
    /// fixes what has no machine fix
    #[arg(long)]
    rules_only: bool,
    #[command(flatten)]
    validation: ValidationArgs,
}

/// How `--group` gathers fixes into validated commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(super) enum GroupBy {
    /// One commit per rule and pass; a refused group is bisected to drop what broke it
    Rule,
    /// One commit per pass, bisected when refused: the fewest validations (formatting what was
    /// unformatted before rides along when the whole pass passes, else is its own commit)
    Pass,
    /// One commit per fix
    Single,
}

impl GroupBy {
    pub(super) fn grouping(self) -> Grouping {
        match self {
            GroupBy::Rule => Grouping::Rule,
            GroupBy::Pass => Grouping::Pass,
            GroupBy::Single => Grouping::Single,
        }
    }
}

pub fn run(cx: &Context<'_>, args: &ImproveArgs) -> Result<Exit, CommandError> {
    let root = cx.require_repo()?;
    let asked = Asked {
        branch: args.branch.clone(),
        dry_run: args.dry_run,
        max_changes: args.max_changes,
        deadline: None,
        grouping: args.group.grouping(),
        jobs: usize::from(args.jobs),
        rules_only: args.rules_only,
        max_cost: None,
    };
    let outcome = improved(cx, root, &asked, &args.validation)?;
    if cx.printer.json() {
        return Ok(if outcome.base_failed {
            Exit::Failure
        } else {
            Exit::Success
        });
    }
    report(cx, &outcome, args.dry_run)
}

/// What a run is asked beside its validation: `nova improve`'s flags, and `nova ci`'s time cap.
pub(super) struct Asked {
    pub branch: Option<String>,
    pub dry_run: bool,
    pub max_changes: Option<usize>,
    pub deadline: Option<Instant>,
    pub grouping: Grouping,
    /// How many candidates may be proved side by side (`--jobs`).
    pub jobs: usize,
    /// With a model, the reviewers still read with the rules only (the model fixes).
    pub rules_only: bool,
    /// The most the model may cost over the run, in US dollars (`nova ci --max-cost`), over the
    /// configuration's `budget.cost_usd`.
    pub max_cost: Option<f64>,
}

/// Runs `improve` on the repository at `root`, showing its events as they come.
pub(super) fn improved(
    cx: &Context<'_>,
    root: std::path::PathBuf,
    asked: &Asked,
    validation_args: &ValidationArgs,
) -> Result<ImproveOutcome, CommandError> {
    let config = cx.config(Some(&root))?;
    // With a model, what has no machine fix goes to the refactorer agent with the model.
    let model = match config.provider.kind.value {
        ProviderKind::Builtin => None,
        _ => {
            let (client, mut template) = model_template(cx, &config, &root)?;
            if let Some(max) = asked.max_cost {
                template.limits.cost_usd = Some(max);
            }
            Some((client, template))
        }
    };
    let set = AgentSet::for_repo(Some(&root)).map_err(CommandError::usage)?;
    let problems = agents::check(&set);
    if let Some(first) = problems.first() {
        return Err(CommandError::usage(anyhow::anyhow!(
            "the agent set has {} problem(s), the first: {first}. Run `nova agents check` to see them all",
            problems.len()
        )));
    }

    let (mut validation, require_green) = validation_args.options(cx, &config)?;
    let mut view = View::new(cx);
    validation.observer = view.observer();
    let hooks = super::ask::hooks_of(cx, &config, Some(&root));
    let request = ImproveRequest {
        repo_root: root,
        branch: asked.branch.clone(),
        dry_run: asked.dry_run,
        max_changes: asked
            .max_changes
            .or(config.budget.max_changes.value.map(|n| n as usize)),
        deadline: asked.deadline,
        grouping: asked.grouping,
        jobs: asked.jobs,
        disabled: config.disabled_agents.value.clone(),
        validation,
        require_green,
        time: cx.env.source_date_epoch().unwrap_or_else(orchestrator::now),
        hooks,
    };

    let lock = cx.lock(&request.repo_root)?;
    let brain = model.as_ref().map(|(client, template)| ModelBrain {
        set: &set,
        provider: client,
        template: template.clone(),
        reviews: !asked.rules_only,
    });
    let result = orchestrator::improve(&request, &set, &lock, brain, &mut |event| view.show(event));
    view.finish();
    Ok(result?)
}

/// The configured model's client, and the request its agents' runs in `improve` start from.
fn model_template(
    cx: &Context<'_>,
    config: &crate::config::Config,
    root: &std::path::Path,
) -> Result<(crate::llm::Client, AskRequest), CommandError> {
    let connected = connect(cx, config, None, None, None)?;
    let template = agent_template(cx, config, root, &connected, 2048);
    Ok((connected.client, template))
}

/// Renders events: JSON lines on stdout with `--json`, else progress on stderr. On a terminal
/// (without `-q`), one live status line: candidates done of all known, accepted, rejected,
/// skipped, elapsed, the time left, and the step running now. Elsewhere, each finished
/// candidate's line carries the same counts and times.
struct View<'a> {
    cx: &'a Context<'a>,
    live: Option<ProgressBar>,
    tally: Tally,
}

/// How the candidates went so far.
#[derive(Default)]
struct Tally {
    accepted: usize,
    rejected: usize,
    skipped: usize,
    /// Groups refused and split, and halves overtaken: tried, and tried again in parts.
    again: usize,
    /// Candidates known so far (a later pass may add more).
    total: usize,
    /// When the first candidate started: for the estimate of the time left.
    first: Option<Instant>,
}

impl Tally {
    fn done(&self) -> usize {
        self.accepted + self.rejected + self.skipped + self.again
    }

    /// `3 accepted, 1 rejected, 0 skipped`.
    fn counts(&self) -> String {
        format!(
            "{} accepted, {} rejected, {} skipped",
            self.accepted, self.rejected, self.skipped
        )
    }

    /// `1 min 20 s in, about 3 min left`, from the pace of the candidates so far.
    fn times(&self) -> String {
        let Some(first) = self.first else {
            return String::new();
        };
        let elapsed = first.elapsed().as_secs_f64();
        let done = self.done().max(1) as f64;
        let left = elapsed / done * self.total.saturating_sub(self.done()) as f64;
        format!("{} in, about {} left", duration(elapsed), duration(left))
    }
}

/// A duration for people: `45 s`, `3 min 20 s`, `1 h 5 min`.
fn duration(seconds: f64) -> String {
    let seconds = seconds.round() as u64;
    match seconds {
        0..60 => format!("{seconds} s"),
        60..3600 => format!("{} min {} s", seconds / 60, seconds % 60),
        _ => format!("{} h {} min", seconds / 3600, seconds % 3600 / 60),
    }
}

impl<'a> View<'a> {
    fn new(cx: &'a Context<'a>) -> Self {
        let p = &cx.printer;
        let live = (!p.json() && !p.quiet() && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template("{spinner} {elapsed} {wide_msg}") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        View {
            cx,
            live,
            tally: Tally::default(),
        }
    }

    /// Tells the live line which step runs now.
    fn observer(&self) -> Option<StepObserver> {
        let bar = self.live.clone()?;
        Some(StepObserver(Arc::new(move |step: &str| {
            bar.set_message(step.to_owned());
        })))
    }

    fn note(&self, text: &str) {
        match &self.live {
            Some(bar) => bar.suspend(|| self.cx.printer.note(text)),
            None => self.cx.printer.note(text),
        }
    }

    fn show(&mut self, event: &Event) {
        let p = &self.cx.printer;
        if p.json() {
            // nova:allow(ignored-result): a closed stdout ends the output, not the run
            let _ = p.json_line(event);
            return;
        }
        match event {
            Event::RunStarted {
                run,
                base,
                branch,
                dry_run,
            } => {
                let target = if *dry_run {
                    String::from("dry run, no branch")
                } else {
                    format!("branch `{branch}`")
                };
                self.note(&format!(
                    "nova improve: run {run} on {} ({target})",
                    &base[..base.len().min(10)]
                ));
            }
            Event::StageStarted { stage } if stage == "review" => {
                self.note(
                    "review: fetching dependencies, then building, testing and linting the base…",
                );
            }
            Event::ArchiveRecovered { kept } => self.note(&format!(
                "{} {}",
                p.paint_err(YELLOW, "warning:"),
                recovered_note(kept)
            )),
            Event::StageStarted { .. } | Event::StageFinished { .. } => {}
            Event::StepFinished {
                command,
                ok,
                seconds,
            } => {
                let line = format!(
                    "  {command}: {} in {seconds:.1} s",
                    if *ok { "ok" } else { "failed" }
                );
                match &self.live {
                    Some(bar) => bar.suspend(|| p.info(&line)),
                    None => p.info(&line),
                }
            }
            Event::BaseValidated { summary, .. } => self.note(&format!("base: {summary}")),
            Event::BaseFailed { .. } => self.note("base: refused; nothing will be tried"),
            Event::FindingsReady { .. } => self.findings(event),
            Event::CandidateStarted { .. }
            | Event::CandidateAccepted { .. }
            | Event::CandidateRejected { .. }
            | Event::CandidateSplit { .. }
            | Event::CandidateOvertaken { .. }
            | Event::CandidateSkipped { .. } => self.candidate(event),
            Event::RunFinished { .. } => {}
            // `ask`'s events: an improve run has none.
            Event::AskStarted { .. }
            | Event::AnswerDelta { .. }
            | Event::Retrying { .. }
            | Event::AskFinished { .. }
            | Event::Routed { .. }
            | Event::AgentTurn { .. }
            | Event::ToolCalled { .. }
            | Event::AgentGuarded { .. }
            | Event::HookRan { .. }
            | Event::Resumed { .. }
            | Event::Compacted { .. }
            | Event::Handoff { .. } => {}
        }
    }

    /// A pass's findings: how many, by whom, what is tried; the live line learns its length.
    fn findings(&mut self, event: &Event) {
        let p = &self.cx.printer;
        let Event::FindingsReady {
            pass,
            total,
            fixable,
            by_agent,
            unowned,
            known_failures,
            protected,
        } = event
        else {
            return;
        };
        let agents: Vec<String> = by_agent.iter().map(|(a, n)| format!("{a} {n}")).collect();
        let stage = if *pass == 1 {
            String::from("review")
        } else {
            format!("review of the tip (pass {pass})")
        };
        let mut line = format!("{stage}: {total} findings, {fixable} with a fix to try");
        if !agents.is_empty() {
            line.push_str(&format!(" ({})", agents.join(", ")));
        }
        if *known_failures > 0 {
            line.push_str(&format!(
                "; {known_failures} skipped, rejected in earlier runs"
            ));
        }
        if *protected > 0 {
            line.push_str(&format!(
                "; {protected} in tests or test code, which Nova does not change (listed at the end)"
            ));
        }
        if *unowned > 0 {
            let line =
                format!("  {unowned} diagnostics belong to no reviewer and are not reported");
            match &self.live {
                Some(bar) => bar.suspend(|| p.info(&line)),
                None => p.info(&line),
            }
        }
        self.note(&line);
        // A pass's findings are tried in groups: how many, the candidates' events say.
        self.tally.total = self
            .tally
            .total
            .max(self.tally.done() + usize::from(*fixable > 0));
        if let Some(bar) = &self.live {
            let template = "[{bar:20}] {pos}/{len} · {elapsed} in, ~{eta} left · \
                            {prefix} · {wide_msg}";
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_length(self.tally.total as u64);
            bar.set_position(self.tally.done() as u64);
            bar.set_prefix(self.tally.counts());
        }
    }

    /// A candidate started or finished: the live line, or a line of its own.
    fn candidate(&mut self, event: &Event) {
        let p = &self.cx.printer;
        // The run's own count: it grows with a skip or a half of a split group, and shrinks when
        // a formatting group rides on the commit before it.
        if let Event::CandidateStarted { index, total, .. }
        | Event::CandidateAccepted { index, total, .. }
        | Event::CandidateRejected { index, total, .. }
        | Event::CandidateSplit { index, total, .. }
        | Event::CandidateOvertaken { index, total, .. }
        | Event::CandidateSkipped { index, total, .. } = event
        {
            self.tally.total = (*total).max(index + 1);
        }
        match event {
            Event::CandidateStarted {
                index,
                total,
                summary,
                ..
            } => {
                self.tally.first.get_or_insert_with(Instant::now);
                if let Some(bar) = &self.live {
                    bar.set_length(self.tally.total as u64);
                    bar.set_prefix(format!(
                        "{} · [{}/{total}] {summary}",
                        self.tally.counts(),
                        index + 1
                    ));
                }
            }
            Event::CandidateAccepted {
                index,
                total,
                commit,
                summary,
                seconds,
                ..
            } => {
                self.tally.accepted += 1;
                let id = commit
                    .as_deref()
                    .map(|c| format!(" {}", &c[..c.len().min(10)]))
                    .unwrap_or_default();
                let head = p.paint_err(GREEN, "accepted");
                self.finished(&format!(
                    "{head} [{}/{total}]{id} {summary} ({seconds:.1} s)",
                    index + 1
                ));
            }
            Event::CandidateRejected {
                index,
                total,
                summary,
                reasons,
                seconds,
            } => {
                self.tally.rejected += 1;
                let head = p.paint_err(RED, "rejected");
                let mut text = format!("{head} [{}/{total}] {summary} ({seconds:.1} s)", index + 1);
                for reason in reasons {
                    text.push_str(&format!("\n    {reason}"));
                }
                self.finished(&text);
            }
            Event::CandidateSplit {
                index,
                total,
                summary,
                reasons,
                seconds,
                size,
            } => {
                let why = format!("refused as a whole; its {size} fixes are split up");
                self.again("split", (*index, *total, summary, *seconds), &why, reasons);
            }
            Event::CandidateOvertaken {
                index,
                total,
                summary,
                reason,
                seconds,
            } => self.again("again", (*index, *total, summary, *seconds), reason, &[]),
            Event::CandidateSkipped {
                index,
                total,
                summary,
                reason,
            } => {
                self.tally.skipped += 1;
                let head = p.paint_err(YELLOW, "skipped");
                self.finished(&format!(
                    "{head} [{}/{total}] {summary}: {reason}",
                    index + 1
                ));
            }
            _ => {}
        }
    }

    /// A candidate tried, to be tried again in parts (`split`) or on a newer tip (`again`).
    fn again(
        &mut self,
        word: &str,
        (index, total, summary, seconds): (usize, usize, &str, f64),
        why: &str,
        reasons: &[String],
    ) {
        self.tally.again += 1;
        let head = self.cx.printer.paint_err(YELLOW, word);
        let mut text = format!(
            "{head} [{}/{total}] {summary} ({seconds:.1} s): {why}",
            index + 1
        );
        for reason in reasons {
            text.push_str(&format!("\n    {reason}"));
        }
        self.finished(&text);
    }

    /// A finished candidate's line; without a live line, it carries the counts and times too.
    fn finished(&self, text: &str) {
        match &self.live {
            Some(bar) => {
                bar.suspend(|| self.cx.printer.note(text));
                bar.set_position(self.tally.done() as u64);
                bar.set_prefix(self.tally.counts());
            }
            None => {
                let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
                let mut line = format!(
                    "{first} · {} of {}: {}",
                    self.tally.done(),
                    self.tally.total,
                    self.tally.counts(),
                );
                // Before any candidate started (a skip), there is no pace to tell.
                let times = self.tally.times();
                if !times.is_empty() {
                    line.push_str("; ");
                    line.push_str(&times);
                }
                if !rest.is_empty() {
                    line.push('\n');
                    line.push_str(rest);
                }
                self.cx.printer.note(&line);
            }
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.live.take() {
            bar.finish_and_clear();
        }
    }
}

/// What a run says when the archive it found could not be read.
pub(super) fn recovered_note(kept: &str) -> String {
    format!(
        "the run archive `.nova/runs.sqlite` could not be read (not a database, or corrupt); it is \
         kept as `{kept}`, and a new archive was started"
    )
}

/// The final report, on stdout.
pub(super) fn report(
    cx: &Context<'_>,
    outcome: &ImproveOutcome,
    dry_run: bool,
) -> Result<Exit, CommandError> {
    let p = &cx.printer;
    if outcome.base_failed {
        report_base_failed(cx, outcome)?;
        return Ok(Exit::Failure);
    }
    if let Some(base) = &outcome.base {
        print_baseline(p, base)?;
    }
    if outcome.commits.is_empty() && outcome.rejected.is_empty() {
        let mut line = format!(
            "Nothing to improve: {} findings, none with a fix that applies.",
            outcome.findings
        );
        if outcome.findings == 0 {
            line = String::from("Nothing to improve: no findings.");
        }
        p.line(&line)?;
        p.line("No branch was created.")?;
    } else if dry_run {
        p.line(&format!(
            "{} (dry run: nothing committed)",
            p.paint(BOLD, "Would commit:")
        ))?;
        for commit in &outcome.commits {
            p.line(&format!("  {}", commit.summary))?;
        }
    } else if let Some(branch) = &outcome.branch {
        p.line(&format!("{} {branch}", p.paint(BOLD, "Branch:")))?;
        for commit in &outcome.commits {
            p.line(&format!(
                "  {} {}",
                p.paint(DIM, &commit.commit[..10]),
                commit.summary
            ))?;
        }
    } else {
        p.line("No change passed validation; no branch was created.")?;
    }
    report_lists(p, outcome)?;
    if let Some(why) = &outcome.spent {
        p.line(&format!(
            "{} {why}: the findings left are listed above.",
            p.paint(BOLD, "Stopped:")
        ))?;
    }
    if outcome.splits > 0 {
        p.line(&format!(
            "Bisected: {} group(s) refused as a whole were split until each commit passed; {} \
             validations in all.",
            outcome.splits, outcome.validations
        ))?;
    }
    if outcome.passes > 1 {
        p.line(&format!(
            "Linted the tip again after accepted fixes: {} passes (at most {}).",
            outcome.passes,
            orchestrator::MAX_PASSES
        ))?;
    }
    let times: Vec<String> = ["review", "refactor", "validate", "commit"]
        .iter()
        .filter_map(|stage| {
            Some(format!(
                "{stage} {:.1} s",
                outcome.stage_seconds.get(*stage)?
            ))
        })
        .collect();
    p.line(&format!("{} {}", p.paint(BOLD, "Time:"), times.join(", ")))?;
    if outcome.sandbox.starts_with("none") {
        p.line(&p.paint(
            RED,
            "Sandbox: none. The repository's code ran with your full access (--unsafe-no-sandbox).",
        ))?;
    } else if !outcome.sandbox.is_empty() {
        p.line(&format!(
            "{} {}",
            p.paint(BOLD, "Sandbox:"),
            outcome.sandbox
        ))?;
    }
    if let Some(branch) = &outcome.branch {
        p.line(&format!(
            "Review it with `git log -p HEAD..{branch}`; merge what you like."
        ))?;
    }
    Ok(Exit::Success)
}

/// Why nothing was tried: the base cannot judge candidates, or a green one was required.
fn report_base_failed(cx: &Context<'_>, outcome: &ImproveOutcome) -> Result<(), CommandError> {
    let p = &cx.printer;
    let can_judge = outcome.base.as_ref().is_some_and(|b| b.can_judge());
    if can_judge {
        // Only `--require-green` refuses a base that builds and runs its tests.
        p.line(&p.paint(
            RED,
            "The base has failing or flaky tests and a green base is required \
             (`--require-green`); nothing was tried.",
        ))?;
        if let Some(base) = &outcome.base {
            print_baseline(p, base)?;
        }
        p.line(
            "Fix them first, or run without `--require-green`: failing tests are then kept out \
             of the verdicts, and flaky ones are run again.",
        )?;
        return Ok(());
    }
    p.line(&p.paint(
        RED,
        "The base does not build or its tests do not run to the end; nothing was tried.",
    ))?;
    for error in &outcome.base_build_errors {
        // Cargo says a package's requirement once per target: once is enough.
        let mut shown = std::collections::BTreeSet::new();
        let lines = error.lines().filter(|line| shown.insert(*line));
        for line in lines.take(12) {
            p.line(&format!("  {line}"))?;
        }
    }
    if !outcome.base_failing_tests.is_empty() {
        p.line("Failing tests:")?;
        for test in &outcome.base_failing_tests {
            p.line(&format!("  {test}"))?;
        }
    }
    p.line(&base_hint(&outcome.base_build_errors))?;
    Ok(())
}

/// What to do about a base that does not build, from what cargo said.
fn base_hint(errors: &[String]) -> String {
    let said = |what: &str| errors.iter().any(|error| error.contains(what));
    if said("is not supported by the following package") {
        String::from(
            "The code needs a newer Rust than this machine's: update the toolchain (`rustup \
             update`), or run Nova on an older commit.",
        )
    } else if said("failed to select a version") && said("is yanked") {
        String::from(
            "Every version of a dependency that its requirement allows is yanked, and no \
             `Cargo.lock` pins one (an old crate's, often a dev-dependency's): loosen the \
             requirement in `Cargo.toml`, or commit a `Cargo.lock`, then run again.",
        )
    } else if let Some(dependency) = errors.iter().find_map(|error| registry_crate(error)) {
        format!(
            "The error is in a dependency, `{dependency}`, which this Rust no longer compiles (an \
             old crate's, often a dev-dependency's): move to a newer version of it in \
             `Cargo.toml` (or `cargo update` it), or pin the Rust it was written for in \
             `rust-toolchain.toml`, then run again."
        )
    } else {
        String::from(
            "Fix it first: Nova only proposes changes it can prove against a base that builds.",
        )
    }
}

/// The `name-version` of the registry crate an error is in: where its first `-->` points
/// (`--> ~/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/rustc-test-0.3.1/src/lib.rs`),
/// not a note's (an error in the crate's own code may point into a dependency after it).
fn registry_crate(error: &str) -> Option<&str> {
    let at = error
        .lines()
        .find_map(|line| line.trim_start().strip_prefix("--> "))?;
    let (_, rest) = at.split_once("/registry/src/")?;
    let mut parts = rest.split('/');
    let _index = parts.next()?;
    parts.next().filter(|name| !name.is_empty())
}

/// What was rejected, skipped and not tried, each with why.
fn report_lists(p: &super::output::Printer, outcome: &ImproveOutcome) -> Result<(), CommandError> {
    if !outcome.rejected.is_empty() {
        p.line(&p.paint(BOLD, "Rejected:"))?;
        for (summary, reasons) in &outcome.rejected {
            p.line(&format!("  {summary}: {}", reasons.join("; ")))?;
        }
    }
    if !outcome.skipped.is_empty() {
        p.line(&p.paint(BOLD, "Skipped:"))?;
        for (summary, reason) in &outcome.skipped {
            p.line(&format!("  {summary}: {reason}"))?;
        }
    }
    if !outcome.left.is_empty() {
        p.line(&p.paint(BOLD, "Not tried:"))?;
        for (summary, reason) in &outcome.left {
            p.line(&format!("  {summary}: {reason}"))?;
        }
    }
    protected_files(p, outcome)
}

/// The most files named, with how many findings each has, where no change may go.
const PROTECTED_FILES: usize = 8;

/// Fixable findings in files no change may touch, or in test code: one line per file (the most first), then one
/// for the rest; `nova review` lists the findings themselves.
fn protected_files(
    p: &super::output::Printer,
    outcome: &ImproveOutcome,
) -> Result<(), CommandError> {
    if outcome.protected.is_empty() {
        return Ok(());
    }
    let total: usize = outcome.protected.values().map(|(n, _)| n).sum();
    p.line(&format!(
        "{} {total} fixable findings in tests or test code, which Nova does not change, in {} \
         files (`nova review` lists them):",
        p.paint(BOLD, "Not tried:"),
        outcome.protected.len()
    ))?;
    let mut files: Vec<(&String, &(usize, String))> = outcome.protected.iter().collect();
    files.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(b.0)));
    for (file, (count, why)) in files.iter().take(PROTECTED_FILES) {
        p.line(&format!("  {file}: {count}, {why}"))?;
    }
    if files.len() > PROTECTED_FILES {
        let rest: usize = files[PROTECTED_FILES..].iter().map(|(_, (n, _))| n).sum();
        p.line(&format!(
            "  and {rest} in {} more files",
            files.len() - PROTECTED_FILES
        ))?;
    }
    Ok(())
}

impl From<ImproveError> for CommandError {
    fn from(error: ImproveError) -> Self {
        if error.is_environment() {
            CommandError::environment(error)
        } else {
            CommandError::usage(error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::base_hint;

    #[test]
    fn a_base_that_does_not_build_says_what_to_do_about_why() {
        let yanked = String::from(
            "error: failed to select a version for the requirement `crates-index = \"^0.5.0\"`\n  \
             version 0.5.0 is yanked\n  version 0.5.1 is yanked",
        );
        assert!(base_hint(&[yanked]).contains("loosen the requirement"));
        let too_new = String::from(
            "error: rustc 1.60 is not supported by the following package:\n  x@1.0 requires rustc 1.70",
        );
        assert!(base_hint(&[too_new]).contains("newer Rust"));
        let dependency = String::from(
            "error: cannot find derive macro `RustcEncodable` in this scope\n   --> \
             /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/rustc-test-0.3.1/src/\
             lib.rs:227:17",
        );
        assert!(
            base_hint(&[dependency])
                .starts_with("The error is in a dependency, `rustc-test-0.3.1`")
        );
        // An error in the crate's own code, with a note that points into a dependency.
        let own = String::from(
            "error[E0433]: cannot find `Serialize` in `serde`\n    --> src/lib.rs:1721:26\n\
             note: found an item that was configured out\n   --> \
             /root/.cargo/registry/src/index.crates.io-1949cf8c6b5b557f/serde-1.0.229/src/lib.rs:1",
        );
        assert!(base_hint(&[own]).starts_with("Fix it first"));
        let other = String::from("error[E0425]: cannot find value `x` in this scope");
        assert!(base_hint(&[other]).starts_with("Fix it first"));
    }
}
