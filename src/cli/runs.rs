//! `nova runs`: the run archive.

use clap::{Args, Subcommand};
use serde::Serialize;

use super::output::{BOLD, DIM, GREEN, RED, YELLOW};
use super::{CommandError, Context, Exit};
use crate::orchestrator::stamp;
use crate::store::{CandidateRow, FindingRow, FlakyRow, RunRow, Store};
use crate::validate::{Baseline, ValidationReport};

/// Read the archive of past runs (`.nova/runs.sqlite`).
#[derive(Debug, Args)]
pub struct RunsArgs {
    #[command(subcommand)]
    command: RunsCommand,
}

#[derive(Debug, Subcommand)]
enum RunsCommand {
    /// List runs, newest first
    List,
    /// Show one run: its base's failing and flaky tests, its findings, candidates, verdicts and
    /// commits, and every test runs of this repository saw flaky
    Show {
        /// The run's id (like `20261126-123456`) or number [default: the newest]
        id: Option<String>,
        /// Include each candidate's diff
        #[arg(long)]
        diff: bool,
        /// Print the run as Markdown: a timeline, then each candidate with its finding, verdict,
        /// time and diff
        #[arg(long, conflicts_with = "html")]
        markdown: bool,
        /// Print the run as one static HTML page (no script, nothing fetched): a timeline, then
        /// each candidate with its finding, verdict, time and diff
        #[arg(long)]
        html: bool,
    },
}

pub fn run(cx: &Context<'_>, args: &RunsArgs) -> Result<Exit, CommandError> {
    let root = cx.require_repo()?;
    let store = Store::open_existing(&root).map_err(CommandError::environment)?;
    if let Some(kept) = store.as_ref().and_then(Store::recovered) {
        cx.printer
            .warn(&super::improve::recovered_note(&kept.display().to_string()));
    }
    match &args.command {
        RunsCommand::List => list(cx, store),
        RunsCommand::Show {
            id,
            diff,
            markdown,
            html,
        } => {
            let Some(store) = store else {
                return Err(CommandError::usage(anyhow::anyhow!(
                    "no runs yet: run `nova improve` first"
                )));
            };
            let format = if *html {
                Format::Html
            } else if *markdown {
                Format::Markdown
            } else {
                Format::Text
            };
            show(
                cx,
                &root,
                &store,
                id.as_deref(),
                *diff || *html || *markdown,
                format,
            )
        }
    }
}

fn list(cx: &Context<'_>, store: Option<Store>) -> Result<Exit, CommandError> {
    let runs = match store {
        Some(store) => store.runs().map_err(CommandError::environment)?,
        None => Vec::new(),
    };
    let p = &cx.printer;
    if p.json() {
        p.json_value(&runs)?;
        return Ok(Exit::Success);
    }
    if runs.is_empty() {
        p.note("no runs yet: run `nova improve` first");
        return Ok(Exit::Success);
    }
    for run in &runs {
        let status = paint_status(cx, &run.status);
        let branch = run.branch.as_deref().unwrap_or("-");
        let summary = run
            .summary
            .as_deref()
            .unwrap_or("(interrupted or still running)");
        p.line(&format!(
            "{:>4}  {}  {:8}  {status:11}  {branch}  {}",
            run.seq,
            run.id,
            run.command,
            p.paint(DIM, summary)
        ))?;
    }
    Ok(Exit::Success)
}

/// A run's status or a candidate's verdict, coloured by how it went.
fn paint_status(cx: &Context<'_>, word: &str) -> String {
    let style = match word {
        "done" | "accepted" => GREEN,
        "running" | "skipped" | "split" | "overtaken" => YELLOW,
        _ => RED,
    };
    cx.printer.paint(style, word)
}

#[derive(Serialize)]
pub(super) struct RunDetail<'a> {
    pub run: &'a RunRow,
    /// What the run's base showed: tests already failing, flaky tests.
    pub base: &'a Baseline,
    pub findings: &'a [FindingRow],
    pub candidates: &'a [CandidateRow],
    /// Every test a run of this repository saw flaky.
    pub flaky_tests: &'a [FlakyRow],
    /// Each candidate's number (1-based) and the commit its private ref
    /// (`refs/nova/runs/<run>/<n>`) keeps, accepted or not.
    pub checkpoints: &'a [(usize, String)],
}

/// A run for people: what it was, the base's failing tests, findings and candidates.
fn print_detail(cx: &Context<'_>, detail: &RunDetail<'_>) -> Result<(), CommandError> {
    let p = &cx.printer;
    p.line(&format!(
        "{} {} ({}, {})",
        p.paint(BOLD, "run"),
        detail.run.id,
        detail.run.command,
        paint_status(cx, &detail.run.status)
    ))?;
    p.line(&format!("started   {} UTC", stamp(detail.run.started_at)))?;
    if let Some(base) = &detail.run.base {
        p.line(&format!("base      {base}"))?;
    }
    if let Some(branch) = &detail.run.branch {
        p.line(&format!("branch    {branch}"))?;
    }
    if let Some(summary) = &detail.run.summary {
        p.line(&format!("result    {summary}"))?;
    }
    if !detail.base.failing.is_empty() {
        p.line("")?;
        p.line(&p.paint(
            BOLD,
            &format!(
                "already failing in the base ({})",
                detail.base.failing.len()
            ),
        ))?;
        for (test, failure) in &detail.base.failing {
            let first = failure.output.lines().find(|l| !l.trim().is_empty());
            p.line(&format!("  {test}  {}", p.paint(DIM, first.unwrap_or(""))))?;
        }
    }
    p.line("")?;
    p.line(&p.paint(BOLD, &format!("findings ({})", detail.findings.len())))?;
    for f in detail.findings {
        let symbol = f
            .symbol
            .as_deref()
            .map(|s| format!(" in `{s}`"))
            .unwrap_or_default();
        p.line(&format!(
            "  {}:{}{symbol}  {}  {}  [{}]",
            f.path, f.line, f.rule, f.message, f.agent
        ))?;
    }
    print_candidates(cx, detail)
}

/// The candidates with their verdicts, and the tests runs of this repository saw flaky.
fn print_candidates(cx: &Context<'_>, detail: &RunDetail<'_>) -> Result<(), CommandError> {
    let p = &cx.printer;
    p.line("")?;
    p.line(&p.paint(BOLD, &format!("candidates ({})", detail.candidates.len())))?;
    for c in detail.candidates {
        let commit = c
            .commit
            .as_deref()
            .map(|c| format!(" {}", &c[..c.len().min(10)]))
            .unwrap_or_default();
        p.line(&format!(
            "  [{}] {}{commit}  {}",
            c.idx + 1,
            paint_status(cx, &c.verdict),
            c.summary
        ))?;
        for reason in &c.reasons {
            p.line(&format!("        {reason}"))?;
        }
        let n = usize::try_from(c.idx).unwrap_or(0) + 1;
        if detail.checkpoints.iter().any(|(kept, _)| *kept == n) {
            let name = crate::git::checkpoint_ref(&detail.run.id, n);
            let mut hint = format!("git show {name}");
            if let (Some(branch), "accepted") = (&detail.run.branch, c.verdict.as_str()) {
                hint.push_str(&format!("; back to here: nova undo {branch} --to {n}"));
            }
            p.line(&format!("        {}", p.paint(DIM, &hint)))?;
        }
        if let Some(diff) = &c.diff {
            for line in diff.lines() {
                p.line(&format!("        {line}"))?;
            }
        }
    }
    p.line("")?;
    p.line(&p.paint(
        BOLD,
        &format!(
            "flaky tests, as runs of this repository saw them ({})",
            detail.flaky_tests.len()
        ),
    ))?;
    for row in detail.flaky_tests {
        let this_run = if detail.base.flaky.contains_key(&row.test) {
            p.paint(YELLOW, "  (flaky in this run's base)")
        } else {
            String::new()
        };
        let times = if row.times == 1 { "once" } else { "times" };
        let seen = if row.times == 1 {
            format!("seen {times}, in run {}", row.last_run)
        } else {
            format!("seen {} {times}, last in run {}", row.times, row.last_run)
        };
        p.line(&format!(
            "  {}  {}{this_run}",
            row.test,
            p.paint(DIM, &seen)
        ))?;
    }
    Ok(())
}

/// How `nova runs show` prints a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Text,
    Markdown,
    Html,
}

fn show(
    cx: &Context<'_>,
    root: &std::path::Path,
    store: &Store,
    id: Option<&str>,
    with_diff: bool,
    format: Format,
) -> Result<Exit, CommandError> {
    let run = match id {
        Some(id) => store.run(id).map_err(CommandError::environment)?,
        None => store
            .runs()
            .map_err(CommandError::environment)?
            .into_iter()
            .next(),
    };
    let Some(run) = run else {
        let id = id.unwrap_or("");
        return Err(CommandError::usage(anyhow::anyhow!(
            "no run `{id}` in the archive; `nova runs list` shows them"
        )));
    };
    let findings = store.findings(run.seq).map_err(CommandError::environment)?;
    let mut candidates = store
        .candidates(run.seq)
        .map_err(CommandError::environment)?;
    if !with_diff {
        for candidate in &mut candidates {
            candidate.diff = None;
        }
    }
    let base: Baseline = store
        .base_report(run.seq)
        .map_err(CommandError::environment)?
        .and_then(|json| serde_json::from_str::<ValidationReport>(&json).ok())
        .map(|report| report.baseline)
        .unwrap_or_default();
    let flaky = store.flaky_tests().map_err(CommandError::environment)?;
    // A repository whose refs cannot be read still shows its run, without them.
    let checkpoints = crate::git::checkpoints(root, &run.id).unwrap_or_default();
    let detail = RunDetail {
        checkpoints: &checkpoints,
        run: &run,
        base: &base,
        findings: &findings,
        candidates: &candidates,
        flaky_tests: &flaky,
    };
    match format {
        Format::Markdown => cx
            .printer
            .line(super::runs_report::markdown(&detail).trim_end())?,
        Format::Html => cx
            .printer
            .line(super::runs_report::html(&detail).trim_end())?,
        Format::Text if cx.printer.json() => cx.printer.json_value(&detail)?,
        Format::Text => print_detail(cx, &detail)?,
    }
    Ok(Exit::Success)
}
