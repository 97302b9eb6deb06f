//! `nova apply`: apply a reply's edits to HEAD, prove them, commit them on a review branch.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use clap::Args;
use serde_json::json;

use super::output::{BOLD, GREEN, RED};
use super::validation::{ValidationArgs, print_baseline};
use super::{CommandError, Context, Exit};
use crate::git::BranchError;
use crate::orchestrator::{self, ApplyError, ApplyOutcome, ApplyRequest};

/// Apply a reply's edits to HEAD, prove them in the sandbox, and commit them on a review branch.
///
/// The reply (from a model, a chat window or a colleague) may mix prose with SEARCH/REPLACE blocks
/// under a path line, unified diffs, `*** Begin Patch` blocks, or whole files in fences under their
/// path. Edits apply all or nothing onto the committed HEAD; a reply that does not apply, or that
/// leaves placeholders, deletes most of a file, breaks the syntax, or touches protected paths, is
/// turned away with every reason. The result is built, tested and linted in the validation
/// worktree and committed on `nova/apply/<date>` only if it passes. Exits 0 when committed (or
/// validated, with `--dry-run`), 1 when the reply does not apply, is turned away or fails
/// validation, 2 for bad arguments, 3 for environment problems.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The reply: a file, or `-` (the default) for standard input
    #[arg(value_name = "FILE|-")]
    reply: Option<PathBuf>,
    /// The review branch to create [default: nova/apply/<YYYYMMDD-HHMMSS>]
    #[arg(long, value_name = "NAME")]
    branch: Option<String>,
    /// Validate, but commit nothing and create no branch
    #[arg(long, conflicts_with = "to_worktree")]
    dry_run: bool,
    /// Also write the validated change into the working tree, if none of the files it touches has
    /// uncommitted changes
    #[arg(long)]
    to_worktree: bool,
    /// A whole-file rewrite is meant: do not refuse edits that delete most of a file
    #[arg(long)]
    rewrite: bool,
    #[command(flatten)]
    validation: ValidationArgs,
}

pub fn run(cx: &Context<'_>, args: &ApplyArgs) -> Result<Exit, CommandError> {
    let root = cx.require_repo()?;
    let reply = read_reply(cx, args.reply.as_deref())?;
    let config = cx.config(Some(&root))?;
    let (validation, require_green) = args.validation.options(cx, &config)?;
    let request = ApplyRequest {
        repo_root: root,
        reply,
        branch: args.branch.clone(),
        dry_run: args.dry_run,
        to_worktree: args.to_worktree,
        rewrite: args.rewrite,
        validation,
        require_green,
        time: cx.env.source_date_epoch().unwrap_or_else(orchestrator::now),
    };
    let prepared = match orchestrator::prepare(&request) {
        Ok(prepared) => prepared,
        Err(error) => return failed(cx, error),
    };
    let lock = cx.lock(&request.repo_root)?;
    let files = prepared.patch.changes.len();
    cx.printer.note(&format!(
        "apply: the reply changes {files} file{}; validating it in the sandbox…",
        if files == 1 { "" } else { "s" }
    ));
    match orchestrator::apply(&request, prepared, &lock) {
        Ok(outcome) => report(cx, &outcome, args.dry_run),
        Err(error) => failed(cx, error),
    }
}

/// How an apply that did not get to a verdict ends: a reply at fault is said on stderr with exit 1
/// (and, with `--json`, its document on stdout); bad arguments exit 2; the machine, 3.
fn failed(cx: &Context<'_>, error: ApplyError) -> Result<Exit, CommandError> {
    match error {
        error if error.is_reply() => {
            if cx.printer.json() {
                cx.printer
                    .json_value(&json!({ "applied": false, "error": error.to_string() }))?;
            }
            cx.printer.error(&anyhow::Error::new(error));
            Ok(Exit::Failure)
        }
        error @ ApplyError::Branch(BranchError::Invalid(_) | BranchError::Exists(_)) => {
            Err(CommandError::usage(error))
        }
        error => Err(CommandError::environment(error)),
    }
}

fn read_reply(cx: &Context<'_>, path: Option<&std::path::Path>) -> Result<String, CommandError> {
    match path {
        Some(path) if path != std::path::Path::new("-") => {
            let path = cx.absolute(path);
            std::fs::read_to_string(&path).map_err(|error| {
                CommandError::usage(anyhow::anyhow!(
                    "cannot read the reply `{}`: {error}",
                    path.display()
                ))
            })
        }
        _ => {
            let mut stdin = std::io::stdin();
            if stdin.is_terminal() {
                return Err(CommandError::usage(anyhow::anyhow!(
                    "give the reply as a FILE, or pipe it in: `nova apply - < reply.md`"
                )));
            }
            let mut text = String::new();
            stdin.read_to_string(&mut text).map_err(|error| {
                CommandError::usage(anyhow::anyhow!(
                    "cannot read the reply from standard input: {error}"
                ))
            })?;
            Ok(text)
        }
    }
}

fn report(cx: &Context<'_>, outcome: &ApplyOutcome, dry_run: bool) -> Result<Exit, CommandError> {
    let p = &cx.printer;
    let accepted = outcome.verdict.as_ref().is_some_and(|v| v.accepted);
    if p.json() {
        p.json_value(&json!({
            "applied": accepted,
            "base_failed": outcome.base_failed,
            "branch": outcome.branch,
            "commit": outcome.commit,
            "files": outcome.patch.as_ref().map(|patch| patch
                .changes
                .iter()
                .map(|c| c.path.to_string())
                .collect::<Vec<_>>()),
            "public_changes": outcome.patch.as_ref().map(crate::edit::public_changes),
            "diff": outcome.patch.as_ref().map(crate::edit::Patch::diff),
            "reasons": outcome.verdict.as_ref().map(|v| v.reasons.clone()),
            "notes": outcome.verdict.as_ref().map(|v| v.notes.clone()),
            "validation": outcome.report,
            "written_to_worktree": outcome.written,
            "dirty": outcome.dirty,
        }))?;
        return Ok(if accepted {
            Exit::Success
        } else {
            Exit::Failure
        });
    }
    if outcome.base_failed {
        let why = if outcome.base.as_ref().is_some_and(|b| b.can_judge()) {
            "The base has failing or flaky tests and a green base is required (`--require-green`)"
        } else {
            "The base does not build or its tests do not run to the end"
        };
        p.line(&p.paint(RED, &format!("{why}; the reply was not tried.")))?;
        if let Some(base) = &outcome.base {
            print_baseline(p, base)?;
        }
        return Ok(Exit::Failure);
    }
    if let Some(base) = &outcome.base {
        print_baseline(p, base)?;
    }
    if let Some(patch) = &outcome.patch {
        p.patch(patch)?;
    }
    let validation = outcome
        .report
        .as_ref()
        .map(|r| r.summary())
        .unwrap_or_default();
    if !accepted {
        p.line(&p.paint(RED, "Rejected:"))?;
        for reason in outcome.verdict.iter().flat_map(|v| &v.reasons) {
            p.line(&format!("  {reason}"))?;
        }
        return Ok(Exit::Failure);
    }
    p.line(&format!("{} {validation}", p.paint(GREEN, "Validated:")))?;
    for note in outcome.verdict.iter().flat_map(|v| &v.notes) {
        p.line(&format!("  Note: {note}"))?;
    }
    if dry_run {
        p.line("Dry run: nothing committed.")?;
    }
    if let (Some(branch), Some(commit)) = (&outcome.branch, &outcome.commit) {
        p.line(&format!(
            "{} {branch} ({})",
            p.paint(BOLD, "Branch:"),
            &commit[..10]
        ))?;
    }
    if !outcome.written.is_empty() {
        p.line(&format!(
            "Written to your working tree: {}",
            outcome.written.join(", ")
        ))?;
    }
    if !outcome.dirty.is_empty() {
        p.line(&p.paint(
            RED,
            &format!(
                "Not written to your working tree: {} {} uncommitted changes. The change is on the branch.",
                outcome.dirty.join(", "),
                if outcome.dirty.len() == 1 { "has" } else { "have" }
            ),
        ))?;
        return Ok(Exit::Failure);
    }
    Ok(Exit::Success)
}
