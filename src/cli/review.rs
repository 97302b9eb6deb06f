//! `nova review`: findings only, for people or machines.

use std::path::Path;

use clap::{Args, ValueEnum};

use super::ask::{agent_template, ask_error, connect};
use super::output::{BOLD, CYAN, DIM, RED, YELLOW};
use super::{CommandError, Context, Exit, report};
use crate::agents::AgentSet;
use crate::config::{Config, ProviderKind};
use crate::findings::{Finding, Severity};
use crate::orchestrator::{self, ReviewError, ReviewRequest};

/// Review the repository and report findings, changing nothing.
///
/// The reviewers of the `review` pipeline read every Rust file through their rule packs
/// (tree-sitter queries kept as data: `nova rules list`), offline. Findings are grouped by file,
/// most severe first. A finding is silenced in the code with `// nova:allow(rule-id): reason`
/// on its line or the line above (the reason is required), or accepted with the others in
/// `nova-baseline.json` (`--write-baseline --reason "..."`). `--json` prints one finding per
/// line, `--sarif` a SARIF 2.1.0 log (GitHub code scanning), `--markdown` a pull request comment.
///
/// With a language model configured (`--provider openai`, `anthropic` or `ollama`), the same
/// reviewers also read the code with the model, one after another, each with its own
/// instructions and tools; their findings join the rules', deduplicated and ranked with them.
/// `--rules-only` leaves the model out.
#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// Review only the lines changed since REV (a branch, a tag, a commit), the working tree
    /// included
    #[arg(long, value_name = "REV")]
    base: Option<String>,
    /// Print a SARIF 2.1.0 log instead of the text
    #[arg(long, conflicts_with = "markdown")]
    sarif: bool,
    /// Print a Markdown report (a pull request comment) instead of the text
    #[arg(long)]
    markdown: bool,
    /// In `--markdown`, prefix links to lines with this URL (`https://github.com/o/r/blob/SHA`)
    #[arg(long, value_name = "URL", requires = "markdown")]
    link_base: Option<String>,
    /// Accept every finding of this review: write them to `nova-baseline.json`, which later
    /// reviews leave out (needs `--reason`)
    #[arg(long, requires = "reason")]
    write_baseline: bool,
    /// Why the baseline's findings are accepted
    #[arg(long, value_name = "TEXT")]
    reason: Option<String>,
    /// Show `info` findings too (they are counted, and always in `--json`)
    #[arg(long)]
    all: bool,
    /// Exit 1 when a finding is at least this severe
    #[arg(long, value_enum, value_name = "LEVEL")]
    fail_on: Option<Level>,
    /// Run the rule packs only, even with a language model configured
    #[arg(long)]
    rules_only: bool,
}

/// A severity threshold (`note` is SARIF's word for `info`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(super) enum Level {
    Error,
    Warning,
    #[value(alias = "note")]
    Info,
}

impl Level {
    fn severity(self) -> Severity {
        match self {
            Level::Error => Severity::Error,
            Level::Warning => Severity::Warning,
            Level::Info => Severity::Info,
        }
    }
}

pub fn run(cx: &Context<'_>, args: &ReviewArgs) -> Result<Exit, CommandError> {
    let root = cx.require_repo()?;
    let Some(outcome) = reviewed(cx, &root, args.base.clone(), args.rules_only)? else {
        return Ok(Exit::Interrupted);
    };
    let p = &cx.printer;
    if args.write_baseline {
        let reason = args.reason.as_deref().unwrap_or("").trim();
        if reason.is_empty() {
            return Err(CommandError::usage(anyhow::anyhow!(
                "`--reason` is empty: say why these findings are accepted"
            )));
        }
        let count =
            orchestrator::write_baseline(&root, &outcome.findings, reason).map_err(review_error)?;
        p.note(&format!(
            "{count} finding(s) accepted in `{}`; commit it, and later reviews leave them out",
            orchestrator::BASELINE_FILE
        ));
        return Ok(Exit::Success);
    }
    if args.sarif {
        p.json_value(&report::sarif(&outcome.findings, &outcome.rules))?;
    } else if args.markdown {
        p.line(report::markdown(&outcome.findings, args.link_base.as_deref()).trim_end())?;
    } else if p.json() {
        for finding in &outcome.findings {
            p.json_line(finding)?;
        }
    } else {
        text(cx, &root, &outcome.findings, args.all)?;
    }
    let text = !(p.json() || args.sarif || args.markdown);
    summary(cx, &outcome, text && !args.all);
    Ok(verdict(&outcome, args.fail_on))
}

/// Runs the review of the repository at `root` (only what changed since `base`, if given), with
/// the model reviewers when a model is configured and not `rules_only`; `None` when Ctrl-C
/// stopped them.
pub(super) fn reviewed(
    cx: &Context<'_>,
    root: &std::path::Path,
    base: Option<String>,
    rules_only: bool,
) -> Result<Option<orchestrator::ReviewOutcome>, CommandError> {
    let config = cx.config(Some(root))?;
    let set = AgentSet::for_repo(Some(root)).map_err(CommandError::usage)?;
    let request = ReviewRequest {
        repo_root: root.to_path_buf(),
        disabled: config.disabled_agents.value.clone(),
        base,
    };
    let mut review = orchestrator::Review::start(&request, &set).map_err(review_error)?;
    if !rules_only && config.provider.kind.value != ProviderKind::Builtin {
        let finished = model_reviews(cx, &config, &set, root, &mut review)?;
        if !finished {
            cx.printer.warn("interrupted: the review was cancelled");
            return Ok(None);
        }
    }
    review.finish().map(Some).map_err(review_error)
}

/// Exit 1 when a finding is at least as severe as `fail_on`.
pub(super) fn verdict(outcome: &orchestrator::ReviewOutcome, fail_on: Option<Level>) -> Exit {
    let failing = fail_on.is_some_and(|level| {
        outcome
            .findings
            .iter()
            .any(|f| f.severity >= level.severity())
    });
    if failing {
        Exit::Failure
    } else {
        Exit::Success
    }
}

/// Runs the reviewers with the configured model; `false` when Ctrl-C stopped them.
fn model_reviews(
    cx: &Context<'_>,
    config: &Config,
    set: &AgentSet,
    root: &Path,
    review: &mut orchestrator::Review,
) -> Result<bool, CommandError> {
    let connected = connect(cx, config, None, None, None)?;
    let template = agent_template(cx, config, root, &connected, 4096);
    let client = connected.client;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CommandError::environment)?;
    let outcome = runtime.block_on(async {
        let mut sink = |_: &orchestrator::Event| {};
        let reviewed = review.models(set, &template, &client, &mut sink);
        tokio::select! {
            biased;
            _ = tokio::signal::ctrl_c() => None,
            outcome = reviewed => Some(outcome),
        }
    });
    match outcome {
        None => Ok(false),
        Some(Err(error)) => Err(ask_error(error)),
        Some(Ok(())) => Ok(true),
    }
}

/// For people: by file, the files in the order of their first finding (most severe, most
/// central first), each file's findings by line; `info` ones only with `all`.
pub(super) fn text(
    cx: &Context<'_>,
    root: &std::path::Path,
    findings: &[Finding],
    all: bool,
) -> Result<(), CommandError> {
    let p = &cx.printer;
    let mut files: Vec<(&str, Vec<&Finding>)> = Vec::new();
    for finding in findings
        .iter()
        .filter(|f| all || f.severity > Severity::Info)
    {
        match files
            .iter_mut()
            .find(|(path, _)| *path == finding.path.as_str())
        {
            Some((_, group)) => group.push(finding),
            None => files.push((finding.path.as_str(), vec![finding])),
        }
    }
    for (n, (path, mut group)) in files.into_iter().enumerate() {
        if n > 0 {
            p.line("")?;
        }
        p.line(&p.paint(BOLD, path))?;
        group.sort_by_key(|f| (f.span.line_start, f.span.column_start));
        // The file is read once for the lines of all its findings.
        let text = std::fs::read_to_string(root.join(path)).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        for finding in group {
            let line = finding
                .span
                .line_start
                .checked_sub(1)
                .and_then(|n| lines.get(n));
            show(cx, finding, line.copied())?;
        }
    }
    Ok(())
}

/// The counts on stderr: what was left out and why, and what was found.
/// What the review left out and found, on stderr; `hidden_info` says the text left out the
/// info findings.
pub(super) fn summary(cx: &Context<'_>, outcome: &orchestrator::ReviewOutcome, hidden_info: bool) {
    let p = &cx.printer;
    let count = |severity| {
        outcome
            .findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    };
    if outcome.duplicates > 0 {
        p.note(&format!(
            "{} finding(s) left out: a more severe one of another rule is at the same code",
            outcome.duplicates
        ));
    }
    if outcome.baselined > 0 {
        p.note(&format!(
            "{} finding(s) left out: `{}` accepts them",
            outcome.baselined,
            orchestrator::BASELINE_FILE
        ));
    }
    if hidden_info && count(Severity::Info) > 0 {
        p.note(&format!(
            "{} info finding(s) not shown: `nova review --all` shows them",
            count(Severity::Info)
        ));
    }
    for model in &outcome.models {
        let run = model
            .run
            .as_ref()
            .map(|run| format!(", run {run}"))
            .unwrap_or_default();
        let cost = model
            .cost_usd
            .map(|cost| format!(", ${cost:.4}"))
            .unwrap_or_default();
        let tokens = model.usage.prompt_tokens + model.usage.completion_tokens;
        match &model.stopped {
            None => p.note(&format!(
                "{} with the model: {} finding(s), {tokens} tokens{cost}{run}",
                model.agent, model.findings
            )),
            Some(why) => p.warn(&format!(
                "{} with the model stopped: {why}{run}; its findings are not in this review",
                model.agent
            )),
        }
    }
    p.note(&format!(
        "{} finding(s): {} error, {} warning, {} info; {} rules of {} reviewers over {} files in {:.2} s",
        outcome.findings.len(),
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
        outcome.rules.rules.len(),
        outcome.reviewers.len(),
        outcome.files,
        outcome.seconds
    ));
}

fn review_error(error: ReviewError) -> CommandError {
    match error {
        ReviewError::Git(_) | ReviewError::WriteBaseline(_) => CommandError::environment(error),
        ReviewError::NoPipeline
        | ReviewError::Rules(_)
        | ReviewError::UnknownBase(_)
        | ReviewError::Baseline(_) => CommandError::usage(error),
    }
}

/// One finding: where, how bad, what, and its line of code.
fn show(cx: &Context<'_>, finding: &Finding, line: Option<&str>) -> Result<(), CommandError> {
    let p = &cx.printer;
    let (style, word) = match finding.severity {
        Severity::Error => (RED, "error"),
        Severity::Warning => (YELLOW, "warning"),
        Severity::Info => (CYAN, "info"),
    };
    let within = finding
        .symbol
        .as_deref()
        .map(|s| format!(" in `{s}`"))
        .unwrap_or_default();
    p.line(&format!(
        "  {}:{} {} [{}]{within} {}",
        finding.span.line_start,
        finding.span.column_start,
        p.paint(style, word),
        finding.rule,
        finding.message
    ))?;
    if let Some(line) = line {
        p.line(&p.paint(DIM, &format!("      {}", line.trim())))?;
    }
    Ok(())
}
