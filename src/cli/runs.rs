//! `nova runs`: the run archive.

use clap::{Args, Subcommand};
use serde::Serialize;

use super::output::{BOLD, DIM, GREEN, RED, YELLOW};
use super::{CommandError, Context, Exit};
use crate::orchestrator::stamp;
use crate::store::{CandidateRow, FindingRow, RunRow, Store};

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
    /// Show one run: its findings, candidates, verdicts and commits
    Show {
        /// The run's id (like `20261126-123456`) or number [default: the newest]
        id: Option<String>,
        /// Include each candidate's diff
        #[arg(long)]
        diff: bool,
    },
}

pub fn run(cx: &Context<'_>, args: &RunsArgs) -> Result<Exit, CommandError> {
    let root = cx.require_repo()?;
    let store = Store::open_existing(&root).map_err(CommandError::environment)?;
    match &args.command {
        RunsCommand::List => list(cx, store),
        RunsCommand::Show { id, diff } => {
            let Some(store) = store else {
                return Err(CommandError::usage(anyhow::anyhow!(
                    "no runs yet: run `nova improve` first"
                )));
            };
            show(cx, &store, id.as_deref(), *diff)
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
        "running" | "skipped" => YELLOW,
        _ => RED,
    };
    cx.printer.paint(style, word)
}

#[derive(Serialize)]
struct RunDetail<'a> {
    run: &'a RunRow,
    findings: &'a [FindingRow],
    candidates: &'a [CandidateRow],
}

fn show(
    cx: &Context<'_>,
    store: &Store,
    id: Option<&str>,
    with_diff: bool,
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
    let p = &cx.printer;
    if p.json() {
        p.json_value(&RunDetail {
            run: &run,
            findings: &findings,
            candidates: &candidates,
        })?;
        return Ok(Exit::Success);
    }
    p.line(&format!(
        "{} {} ({}, {})",
        p.paint(BOLD, "run"),
        run.id,
        run.command,
        paint_status(cx, &run.status)
    ))?;
    p.line(&format!("started   {} UTC", stamp(run.started_at)))?;
    if let Some(base) = &run.base {
        p.line(&format!("base      {base}"))?;
    }
    if let Some(branch) = &run.branch {
        p.line(&format!("branch    {branch}"))?;
    }
    if let Some(summary) = &run.summary {
        p.line(&format!("result    {summary}"))?;
    }
    p.line("")?;
    p.line(&p.paint(BOLD, &format!("findings ({})", findings.len())))?;
    for f in &findings {
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
    p.line("")?;
    p.line(&p.paint(BOLD, &format!("candidates ({})", candidates.len())))?;
    for c in &candidates {
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
        if let Some(diff) = &c.diff {
            for line in diff.lines() {
                p.line(&format!("        {line}"))?;
            }
        }
    }
    Ok(Exit::Success)
}
