//! `nova improve`: review, fix, prove, commit on a review branch, report.

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::output::{BOLD, DIM, GREEN, RED, YELLOW};
use super::validation::{ValidationArgs, print_baseline};
use super::{CommandError, Context, Exit};
use crate::agents::{self, AgentSet};
use crate::config::ProviderKind;
use crate::orchestrator::{self, Event, ImproveError, ImproveOutcome, ImproveRequest};

/// Review the repository, fix what can be fixed, prove each fix, and commit it on a review branch.
///
/// Works on the committed state of HEAD: your working tree, index, HEAD and current branch are
/// never touched. Each candidate is built (every workspace member, every target), tested and
/// linted in a validation worktree inside a sandbox (no network), and committed only if it
/// builds, every test that passed still passes, no test disappeared, and the warning count did
/// not grow. Test code, tests and build scripts are never changed. Exits 0 when the run
/// completed (even with nothing to improve), 1 when the base itself does not build or pass its
/// tests, 3 when the repository is not git or not a Cargo project.
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
    #[command(flatten)]
    validation: ValidationArgs,
}

pub fn run(cx: &Context<'_>, args: &ImproveArgs) -> Result<Exit, CommandError> {
    let root = cx.require_repo()?;
    let config = cx.config(Some(&root))?;
    let provider = config.provider.kind.value;
    if provider != ProviderKind::Builtin {
        return Err(CommandError::usage(anyhow::anyhow!(
            "provider `{provider}` cannot run `nova improve` yet: only the builtin engine can. \
             Use `--provider builtin`"
        )));
    }
    let set = AgentSet::for_repo(Some(&root)).map_err(CommandError::usage)?;
    let problems = agents::check(&set);
    if let Some(first) = problems.first() {
        return Err(CommandError::usage(anyhow::anyhow!(
            "the agent set has {} problem(s), the first: {first}. Run `nova agents check` to see them all",
            problems.len()
        )));
    }

    let (validation, require_green) = args.validation.options(cx, &config)?;
    let request = ImproveRequest {
        repo_root: root,
        branch: args.branch.clone(),
        dry_run: args.dry_run,
        max_changes: args
            .max_changes
            .or(config.budget.max_changes.value.map(|n| n as usize)),
        disabled: config.disabled_agents.value.clone(),
        validation,
        require_green,
        time: cx.env.source_date_epoch().unwrap_or_else(orchestrator::now),
    };

    let lock = cx.lock(&request.repo_root)?;
    let mut view = View::new(cx);
    let result = orchestrator::improve(&request, &set, &lock, &mut |event| view.show(event));
    view.finish();
    let outcome = result?;
    if cx.printer.json() {
        return Ok(if outcome.base_failed {
            Exit::Failure
        } else {
            Exit::Success
        });
    }
    report(cx, &outcome, args.dry_run)
}

/// Renders events: JSON lines on stdout with `--json`, else progress on stderr.
struct View<'a> {
    cx: &'a Context<'a>,
    bar: Option<ProgressBar>,
}

impl<'a> View<'a> {
    fn new(cx: &'a Context<'a>) -> Self {
        View { cx, bar: None }
    }

    fn note(&self, text: &str) {
        match &self.bar {
            Some(bar) => bar.suspend(|| self.cx.printer.note(text)),
            None => self.cx.printer.note(text),
        }
    }

    fn show(&mut self, event: &Event) {
        let p = &self.cx.printer;
        if p.json() {
            // A closed stdout ends the output, not the run.
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
            Event::ArchiveRecovered { kept } => p.warn(&recovered_note(kept)),
            Event::StageStarted { .. } | Event::StageFinished { .. } => {}
            Event::StepFinished {
                command,
                ok,
                seconds,
            } => {
                p.info(&format!(
                    "  {command}: {} in {seconds:.1} s",
                    if *ok { "ok" } else { "failed" }
                ));
            }
            Event::BaseValidated { summary, .. } => self.note(&format!("base: {summary}")),
            Event::BaseFailed { .. } => self.note("base: refused; nothing will be tried"),
            Event::FindingsReady {
                pass,
                total,
                fixable,
                by_agent,
                unowned,
                known_failures,
            } => {
                self.finish();
                let agents: Vec<String> =
                    by_agent.iter().map(|(a, n)| format!("{a} {n}")).collect();
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
                if *unowned > 0 {
                    p.info(&format!(
                        "  {unowned} diagnostics belong to no reviewer and are not reported"
                    ));
                }
                self.note(&line);
                if *fixable > 0 && !p.quiet() {
                    let bar = ProgressBar::with_draw_target(
                        Some(*fixable as u64),
                        ProgressDrawTarget::stderr(),
                    );
                    let style =
                        ProgressStyle::with_template("validate [{bar:30}] {pos}/{len} {wide_msg}")
                            .map(|s| s.progress_chars("=> "));
                    if let Ok(style) = style {
                        bar.set_style(style);
                    }
                    self.bar = Some(bar);
                }
            }
            Event::CandidateStarted { summary, .. } => {
                if let Some(bar) = &self.bar {
                    bar.set_message(summary.clone());
                }
            }
            Event::CandidateAccepted {
                index,
                commit,
                summary,
                seconds,
                ..
            } => {
                let id = commit
                    .as_deref()
                    .map(|c| format!(" {}", &c[..c.len().min(10)]))
                    .unwrap_or_default();
                self.note(&format!(
                    "{} [{}]{id} {summary} ({seconds:.1} s)",
                    p.paint_err(GREEN, "accepted"),
                    index + 1
                ));
                self.advance();
            }
            Event::CandidateRejected {
                index,
                summary,
                reasons,
                seconds,
            } => {
                self.note(&format!(
                    "{} [{}] {summary} ({seconds:.1} s)",
                    p.paint_err(RED, "rejected"),
                    index + 1
                ));
                for reason in reasons {
                    self.note(&format!("    {reason}"));
                }
                self.advance();
            }
            Event::CandidateSkipped {
                index,
                summary,
                reason,
            } => {
                self.note(&format!(
                    "{} [{}] {summary}: {reason}",
                    p.paint_err(YELLOW, "skipped"),
                    index + 1
                ));
                self.advance();
            }
            Event::RunFinished { .. } => {}
            // `ask`'s events: an improve run has none.
            Event::AskStarted { .. }
            | Event::AnswerDelta { .. }
            | Event::Retrying { .. }
            | Event::AskFinished { .. } => {}
        }
    }

    fn advance(&self) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
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
fn report(cx: &Context<'_>, outcome: &ImproveOutcome, dry_run: bool) -> Result<Exit, CommandError> {
    let p = &cx.printer;
    let can_judge = outcome.base.as_ref().is_some_and(|b| b.can_judge());
    if outcome.base_failed && can_judge {
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
        return Ok(Exit::Failure);
    }
    if outcome.base_failed {
        p.line(&p.paint(
            RED,
            "The base does not build or its tests do not run to the end; nothing was tried.",
        ))?;
        for error in &outcome.base_build_errors {
            for line in error.lines().take(12) {
                p.line(&format!("  {line}"))?;
            }
        }
        if !outcome.base_failing_tests.is_empty() {
            p.line("Failing tests:")?;
            for test in &outcome.base_failing_tests {
                p.line(&format!("  {test}"))?;
            }
        }
        p.line(
            "Fix it first: Nova only proposes changes it can prove against a base that builds.",
        )?;
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

impl From<ImproveError> for CommandError {
    fn from(error: ImproveError) -> Self {
        if error.is_environment() {
            CommandError::environment(error)
        } else {
            CommandError::usage(error)
        }
    }
}
