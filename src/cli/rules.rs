//! `nova rules`: the rule packs the reviewers read code with.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde::Serialize;

use super::output::BOLD;
use super::{CommandError, Context, Exit};
use crate::diag::Problem;
use crate::rules::{self, Origin, RuleSet};

/// List and test the rules reviewers read code with.
///
/// Each rule is a tree-sitter query kept as data, with its scope, severity, owner agent, the
/// equivalent lint, and its own examples that must match and must not.
/// The built-in pack ships inside Nova (`rules/` in its source); a repository adds rules, or
/// overrides built-in ones by id, with TOML files in `.nova/rules/`.
#[derive(Debug, Args)]
pub struct RulesArgs {
    #[command(subcommand)]
    command: RulesCommand,
}

#[derive(Debug, Subcommand)]
enum RulesCommand {
    /// List every rule with its severity, owner agent, equivalent lint and where it comes from
    List,
    /// Run every rule's examples and list each failure (exit 1 if any)
    Test {
        /// A directory of rule files, tested on top of the built-in pack [default: the
        /// repository's rules]
        path: Option<PathBuf>,
    },
}

pub fn run(cx: &Context<'_>, args: &RulesArgs) -> Result<Exit, CommandError> {
    let repo = cx.repo()?;
    match &args.command {
        RulesCommand::List => list(cx, repo.as_deref()),
        RulesCommand::Test { path } => test(cx, repo.as_deref(), path.as_deref()),
    }
}

#[derive(Serialize)]
struct RuleRow<'a> {
    id: &'a str,
    severity: &'a str,
    agent: &'a str,
    lint: Option<&'a str>,
    message: &'a str,
    source: String,
}

fn source(origin: &Origin) -> String {
    match origin {
        Origin::Builtin(path) => format!("built-in ({path})"),
        Origin::File(path) => path.display().to_string(),
    }
}

fn list(cx: &Context<'_>, repo: Option<&Path>) -> Result<Exit, CommandError> {
    let (set, problems) = RuleSet::for_repo(repo);
    if !problems.is_empty() {
        cx.printer.warn(&format!(
            "{} rule file(s) could not be loaded; `nova rules test` says why",
            problems.len()
        ));
    }
    let rows: Vec<RuleRow<'_>> = set
        .rules
        .iter()
        .map(|rule| RuleRow {
            id: &rule.file.id,
            severity: rule.file.severity.as_str(),
            agent: &rule.file.agent,
            lint: rule.file.lint.as_deref(),
            message: &rule.file.message,
            source: source(&rule.origin),
        })
        .collect();
    let p = &cx.printer;
    if p.json() {
        p.json_value(&rows)?;
        return Ok(Exit::Success);
    }
    let id_width = rows.iter().map(|r| r.id.len()).max().unwrap_or(0).max(4);
    let agent_width = rows.iter().map(|r| r.agent.len()).max().unwrap_or(0).max(5);
    p.line(&p.paint(
        BOLD,
        &format!(
            "{:id_width$}  {:8}  {:agent_width$}  LINT",
            "RULE", "SEVERITY", "AGENT"
        ),
    ))?;
    for row in &rows {
        p.line(&format!(
            "{:id_width$}  {:8}  {:agent_width$}  {}",
            row.id,
            row.severity,
            row.agent,
            row.lint.unwrap_or("-")
        ))?;
    }
    Ok(Exit::Success)
}

#[derive(Serialize)]
struct TestReport<'a> {
    rules: usize,
    examples: usize,
    problems: &'a [Problem],
}

fn test(cx: &Context<'_>, repo: Option<&Path>, path: Option<&Path>) -> Result<Exit, CommandError> {
    let (set, mut problems) = match path {
        Some(path) => {
            if !path.is_dir() {
                let message = format!("`{}` is not a directory of rule files", path.display());
                return Err(CommandError::usage(anyhow::anyhow!(message)));
            }
            let (mut set, mut problems) = RuleSet::builtin();
            let (extra, more) = rules::load_dir(path);
            problems.extend(more);
            set.extend(extra);
            (set, problems)
        }
        None => RuleSet::for_repo(repo),
    };
    problems.extend(rules::check(&set));
    let examples: usize = set.rules.iter().map(|r| r.file.examples.len()).sum();
    let p = &cx.printer;
    if p.json() {
        p.json_value(&TestReport {
            rules: set.rules.len(),
            examples,
            problems: &problems,
        })?;
    } else {
        let summary = format!("{} rules and {examples} examples tested", set.rules.len());
        p.problems(&problems, &summary)?;
    }
    Ok(if problems.is_empty() {
        Exit::Success
    } else {
        Exit::Failure
    })
}
