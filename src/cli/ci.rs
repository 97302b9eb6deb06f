//! `nova ci`: the non-interactive jobs a CI pipeline runs. `review` reports findings and fails
//! the job on them; `improve` commits what passed on a review branch, pushes it (never forced)
//! and, with a forge token, opens or updates its pull request. Both write a Markdown summary to
//! `$GITHUB_STEP_SUMMARY` when it is set, and prompt for nothing.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};

use super::improve::{self, Asked};
use super::review::{self, Level};
use super::validation::ValidationArgs;
use super::{CommandError, Context, Exit, report};
use crate::forge::{self, GitHub, Proposed};
use crate::git;
use crate::orchestrator::{ImproveOutcome, ReviewOutcome};

/// Run what a CI pipeline runs: `nova ci review` or `nova ci improve`.
///
/// Exit codes a pipeline can act on: 0 the job did what it was asked; 1 `review` found findings
/// at `--fail-on` or above, or `improve`'s base cannot judge a change (it does not build, its
/// tests do not run), or the push or the pull request was refused; 2 usage or configuration
/// (a remote that does not exist is found before any work); 3 the machine cannot run the job (no sandbox, the forge unreachable).
#[derive(Debug, Args)]
pub struct CiArgs {
    #[command(subcommand)]
    job: Job,
}

#[derive(Debug, Subcommand)]
enum Job {
    /// Review the repository (or what changed since `--base`) and fail on findings
    Review(ReviewJob),
    /// Improve the repository, push the review branch, and open or update its pull request
    Improve(ImproveJob),
}

#[derive(Debug, Args)]
struct ReviewJob {
    /// Review only the lines changed since REV (in a pull request: its base branch)
    #[arg(long, value_name = "REV")]
    base: Option<String>,
    /// Exit 1 when a finding is at least this severe
    #[arg(long, value_enum, value_name = "LEVEL", default_value = "warning")]
    fail_on: Level,
    /// In the summary, prefix links to lines with this URL (`https://github.com/o/r/blob/SHA`)
    #[arg(long, value_name = "URL")]
    link_base: Option<String>,
    /// Run the rule packs only, even with a language model configured
    #[arg(long)]
    rules_only: bool,
}

#[derive(Debug, Args)]
struct ImproveJob {
    /// Start no new candidate after this many minutes; what is left is listed
    #[arg(long, value_name = "N")]
    max_minutes: Option<u64>,
    /// With a model, review with the rule packs, the compiler and clippy only
    #[arg(long)]
    rules_only: bool,
    /// With a model: stop once its turns cost this many US dollars (at the prices the
    /// configuration gives the model) [default: `budget.cost_usd`]
    #[arg(long, value_name = "USD")]
    max_cost: Option<f64>,
    /// Stop after this many commits [default: `budget.max_changes`, else no limit]
    #[arg(long, value_name = "N")]
    max_changes: Option<usize>,
    /// The remote to push the review branch to
    #[arg(long, default_value = "origin")]
    remote: String,
    /// The branch the pull request goes into [default: the branch checked out]
    #[arg(long, value_name = "NAME")]
    into: Option<String>,
    /// Commit on the review branch, but push nothing and open no pull request
    #[arg(long)]
    no_push: bool,
    /// Prove all the machine fixes of a pass as one commit, those of one rule as one, or each on
    /// its own; a refused group is bisected
    #[arg(long, value_enum, value_name = "HOW", default_value = "pass")]
    group: improve::GroupBy,
    /// How many candidates may be proved side by side, each in a worktree and target dir of its
    /// own: when a group is refused, its halves are proved at once on the same tip
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=16))]
    jobs: u16,
    #[command(flatten)]
    validation: ValidationArgs,
}

pub fn run(cx: &Context<'_>, args: &CiArgs) -> Result<Exit, CommandError> {
    match &args.job {
        Job::Review(job) => review_job(cx, job),
        Job::Improve(job) => improve_job(cx, job),
    }
}

fn review_job(cx: &Context<'_>, job: &ReviewJob) -> Result<Exit, CommandError> {
    let root = cx.require_repo()?;
    let Some(outcome) = review::reviewed(cx, &root, job.base.clone(), job.rules_only)? else {
        return Ok(Exit::Interrupted);
    };
    review::text(cx, &root, &outcome.findings, false)?;
    review::summary(cx, &outcome, true);
    let exit = review::verdict(&outcome, Some(job.fail_on));
    step_summary(cx, &review_summary(&outcome, job, exit))?;
    Ok(exit)
}

/// The job summary of a review: the verdict, then the findings as a pull request comment.
fn review_summary(outcome: &ReviewOutcome, job: &ReviewJob, exit: Exit) -> String {
    let verdict = if exit == Exit::Success {
        "passed"
    } else {
        "failed"
    };
    let threshold = match job.fail_on {
        Level::Error => "error",
        Level::Warning => "warning",
        Level::Info => "info",
    };
    format!(
        "## Nova review: {verdict}\n\nFails on findings of severity `{threshold}` or above.\n\n{}",
        report::markdown(&outcome.findings, job.link_base.as_deref())
    )
}

fn improve_job(cx: &Context<'_>, job: &ImproveJob) -> Result<Exit, CommandError> {
    let root = cx.require_repo()?;
    let into = job.into.clone().or_else(|| git::checked_out_branch(&root));
    if let Some(why) = cannot_publish(cx, &root, job, into.as_deref()) {
        step_summary(cx, &format!("## Nova improve: not run\n\n{why}\n"))?;
        return Err(CommandError::usage(anyhow::anyhow!("{why}")));
    }
    let asked = Asked {
        branch: None,
        dry_run: false,
        max_changes: job.max_changes,
        deadline: job
            .max_minutes
            .map(|minutes| Instant::now() + Duration::from_secs(minutes.saturating_mul(60))),
        grouping: job.group.grouping(),
        jobs: usize::from(job.jobs),
        rules_only: job.rules_only,
        max_cost: job.max_cost,
    };
    let outcome = improve::improved(cx, root.clone(), &asked, &job.validation)?;
    let mut exit = improve::report(cx, &outcome, false)?;
    let mut proposed = None;
    let mut problem = None;
    if let (Some(branch), false) = (&outcome.branch, job.no_push) {
        match publish(cx, &root, job, branch, into.as_deref(), &outcome) {
            Ok(done) => proposed = done,
            Err(error) => {
                exit = error.exit;
                problem = Some(error.error);
            }
        }
    }
    let said = problem.as_ref().map(|error| format!("{error:#}"));
    step_summary(
        cx,
        &improve_summary(&outcome, proposed.as_ref(), said.as_deref()),
    )?;
    if let Some(problem) = &problem {
        cx.printer.error(problem);
    }
    Ok(exit)
}

/// Why the job could not publish what it commits, found before any work: no such remote, or a
/// pull request to open with no branch for it to go into. `None` with `--no-push`.
fn cannot_publish(
    cx: &Context<'_>,
    root: &std::path::Path,
    job: &ImproveJob,
    into: Option<&str>,
) -> Option<String> {
    if job.no_push {
        return None;
    }
    let remote = &job.remote;
    if git::remote_url(root, remote).is_none() {
        return Some(format!(
            "there is no remote `{remote}` to push the review branch to: add one with `git remote \
             add {remote} URL`, name another with `--remote`, or commit locally with `--no-push`"
        ));
    }
    (cx.env.forge_token().is_some() && into.is_none()).then(|| String::from(DETACHED))
}

/// A pull request to open from a detached HEAD, with no `--into`.
const DETACHED: &str = "the checkout is on no branch (a detached HEAD): say which branch the pull \
                        request goes into with `--into NAME`";

/// Pushes the review branch and, with a forge token, opens or updates its pull request.
fn publish(
    cx: &Context<'_>,
    root: &std::path::Path,
    job: &ImproveJob,
    branch: &str,
    into: Option<&str>,
    outcome: &ImproveOutcome,
) -> Result<Option<Proposed>, CommandError> {
    let refused = |error: anyhow::Error| CommandError {
        exit: Exit::Failure,
        error,
    };
    git::push(root, branch, &job.remote, cx.env.git_token())
        .map_err(|error| refused(error.into()))?;
    cx.printer
        .note(&format!("pushed {branch} to {}", job.remote));
    let Some(token) = cx.env.forge_token() else {
        cx.printer
            .note("no forge token (`GITHUB_TOKEN`): no pull request opened");
        return Ok(None);
    };
    let repository = cx
        .env
        .github_repository()
        .map(str::to_owned)
        .or_else(|| git::remote_url(root, &job.remote).and_then(|url| forge::repository_of(&url)))
        .ok_or_else(|| CommandError::usage(forge::ForgeError::NoRepository))?;
    let into = into.ok_or_else(|| CommandError::usage(anyhow::anyhow!(DETACHED)))?;
    let github = GitHub::new(cx.env.github_api_url(), &repository, token)
        .map_err(CommandError::environment)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CommandError::environment)?;
    let title = pull_request_title(outcome);
    let body = improve_summary(outcome, None, None);
    let proposed = runtime
        .block_on(github.propose(branch, into, &title, &body))
        .map_err(|error| match error {
            forge::ForgeError::Unreachable { .. } => CommandError::environment(error),
            forge::ForgeError::NoRepository => CommandError::usage(error),
            _ => refused(error.into()),
        })?;
    let (verb, pr) = match &proposed {
        Proposed::Opened(pr) => ("opened", pr),
        Proposed::Updated(pr) => ("updated", pr),
    };
    cx.printer.line(&format!(
        "Pull request #{} {verb}: {}",
        pr.number, pr.html_url
    ))?;
    Ok(Some(proposed))
}

/// `Nova: 3 improvements`, or the one commit's summary.
fn pull_request_title(outcome: &ImproveOutcome) -> String {
    match outcome.commits.as_slice() {
        [one] => format!("Nova: {}", one.summary),
        commits => format!("Nova: {} improvements", commits.len()),
    }
}

/// A run as Markdown: what landed, what was refused and why, what is left.
fn improve_summary(
    outcome: &ImproveOutcome,
    proposed: Option<&Proposed>,
    problem: Option<&str>,
) -> String {
    let mut out = String::from("## Nova improve\n\n");
    if outcome.base_failed {
        out.push_str(
            "The base cannot judge a change (it does not build, or its tests do not run to the \
             end, or a green base was required): nothing was tried.\n",
        );
        for error in &outcome.base_build_errors {
            let _ = writeln!(out, "\n```\n{}\n```", error.trim_end());
        }
        return out;
    }
    match &outcome.branch {
        Some(branch) => {
            let _ = writeln!(
                out,
                "{} commit(s) on `{branch}`, each built and tested on its own tree:\n",
                outcome.commits.len()
            );
            for commit in &outcome.commits {
                let short = commit.commit.get(..10).unwrap_or(&commit.commit);
                let _ = writeln!(out, "- `{short}` {}", commit.summary);
            }
        }
        None if outcome.rejected.is_empty() => {
            let _ = writeln!(
                out,
                "Nothing to improve: {} finding(s), none with a fix that applies; no branch was \
                 created.",
                outcome.findings
            );
        }
        None => out.push_str("No change passed validation; no branch was created.\n"),
    }
    if let Some(proposed) = proposed {
        let pr = proposed.pull_request();
        let verb = match proposed {
            Proposed::Opened(_) => "opened",
            Proposed::Updated(_) => "updated",
        };
        let _ = writeln!(
            out,
            "\nPull request [#{}]({}) {verb}.",
            pr.number, pr.html_url
        );
    }
    if let Some(problem) = problem {
        let _ = writeln!(out, "\n**Not published:** {problem}");
    }
    if !outcome.rejected.is_empty() {
        out.push_str("\n### Refused\n\n| candidate | why |\n| --- | --- |\n");
        for (candidate, reasons) in &outcome.rejected {
            let _ = writeln!(
                out,
                "| {} | {} |",
                report::table_cell(candidate),
                report::table_cell(&reasons.join("; "))
            );
        }
    }
    if !outcome.left.is_empty() {
        out.push_str("\n### Not tried\n\n| finding | why |\n| --- | --- |\n");
        for (finding, why) in &outcome.left {
            let _ = writeln!(
                out,
                "| {} | {} |",
                report::table_cell(finding),
                report::table_cell(why)
            );
        }
    }
    if outcome.capped {
        out.push_str("\nThe time cap (`--max-minutes`) ended the run early.\n");
    }
    if let Some(why) = &outcome.spent {
        let _ = writeln!(out, "\nThe model's budget ended the run early: {why}.");
    }
    out
}

/// Appends `markdown` to `$GITHUB_STEP_SUMMARY` when it is set.
fn step_summary(cx: &Context<'_>, markdown: &str) -> Result<(), CommandError> {
    let Some(path) = cx.env.step_summary() else {
        return Ok(());
    };
    use std::io::Write as _;
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| writeln!(file, "{markdown}"))
        .map_err(|error| {
            CommandError::environment(anyhow::anyhow!(
                "cannot write the job summary to `{}`: {error}",
                path.display()
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forge::PullRequest;
    use crate::orchestrator::CommitInfo;

    #[test]
    fn the_summary_says_what_landed_what_was_refused_and_what_is_left() {
        let empty = improve_summary(&ImproveOutcome::default(), None, None);
        assert!(
            empty.contains("Nothing to improve: 0 finding(s)"),
            "{empty}"
        );

        let outcome = ImproveOutcome {
            branch: Some(String::from("nova/improve/1")),
            commits: vec![CommitInfo {
                commit: String::from("0123456789abcdef"),
                tree: String::new(),
                summary: String::from("Fix `clippy::len_zero` in `f` (src/lib.rs)"),
            }],
            rejected: vec![(
                String::from("Fix a | b"),
                vec![String::from("test `t` fails")],
            )],
            left: vec![(
                String::from("`dbg-macro` at src/lib.rs:3"),
                String::from("the run's time cap (`--max-minutes`) was reached"),
            )],
            capped: true,
            findings: 3,
            ..ImproveOutcome::default()
        };
        let opened = Proposed::Opened(PullRequest {
            number: 7,
            html_url: String::from("https://github.com/o/r/pull/7"),
        });
        let said = improve_summary(&outcome, Some(&opened), Some("the remote refused"));
        for part in [
            "1 commit(s) on `nova/improve/1`",
            "- `0123456789` Fix `clippy::len_zero` in `f` (src/lib.rs)",
            "Pull request [#7](https://github.com/o/r/pull/7) opened.",
            "**Not published:** the remote refused",
            "| Fix a \\| b | test `t` fails |",
            "### Not tried",
            "The time cap (`--max-minutes`) ended the run early.",
        ] {
            assert!(said.contains(part), "{part}\n---\n{said}");
        }
        assert_eq!(
            pull_request_title(&outcome),
            "Nova: Fix `clippy::len_zero` in `f` (src/lib.rs)"
        );
    }
}
