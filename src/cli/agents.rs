//! `nova agents`: the agent set, its definitions, and checking it.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde::Serialize;

use super::output::{BOLD, DIM};
use super::{CommandError, Context, Exit};
use crate::agents::{self, AgentDef, AgentSet, Pipeline};
use crate::config::{Config, Source};
use crate::diag::{self, Problem};

/// List, show and check the agents and pipelines Nova runs.
///
/// The built-in set ships inside Nova; a repository adds agents, or overrides built-in ones by
/// name, with files in `.nova/agents/` (pipelines in `.nova/agents/pipelines/`).
#[derive(Debug, Args)]
pub struct AgentsArgs {
    #[command(subcommand)]
    command: AgentsCommand,
}

#[derive(Debug, Subcommand)]
enum AgentsCommand {
    /// List every agent and pipeline with its role, description and where it comes from
    List,
    /// Print the resolved definition of one agent or pipeline
    Show {
        /// The agent's (or pipeline's) name
        name: String,
    },
    /// Validate an agent set and list every problem with file and line (exit 1 if any)
    Check {
        /// A directory of agent files (with `pipelines/`), or one file, checked on top of the
        /// built-in set [default: the repository's set]
        path: Option<PathBuf>,
    },
    /// Write other tools' agents as Nova agent files in `.nova/agents/`: Claude Code subagents
    /// (`.claude/agents/*.md`) and Codex custom agents (`.codex/agents/*.toml`); every field is
    /// carried over or listed with why not
    Import {
        /// One agent file, or a directory of them
        path: PathBuf,
        /// Replace agent files that exist
        #[arg(long)]
        force: bool,
        /// Say what would be written, and write nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Who owns which files: each source file against the write scopes of the repository's own
    /// agents; files two of them may write (exit 1), files none owns, and the uses that cross
    /// from one owner's files to another's
    Boundaries,
    /// Write one domain agent per part of the repository to `.nova/agents/domains/`: per crate,
    /// and per top-level module of a crate over 6,000 lines (modules of 1,000 lines or more). Run
    /// again, it updates what it wrote and keeps what you edited
    Scaffold {
        /// Say what would be written, and write nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Write Nova agents as Claude Code subagents (`.claude/agents/NAME.md`)
    Export {
        /// Claude Code's subagent format (the one format there is to export to)
        #[arg(long, required = true)]
        claude: bool,
        /// The agents to export [default: the repository's own, in `.nova/agents/`]
        names: Vec<String>,
        /// Where to write them [default: `.claude/agents/`]
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// Replace files that exist
        #[arg(long)]
        force: bool,
    },
}

pub fn run(cx: &Context<'_>, args: &AgentsArgs) -> Result<Exit, CommandError> {
    let repo = cx.repo()?;
    let config = cx.config(repo.as_deref())?;
    match &args.command {
        AgentsCommand::List => list(cx, repo.as_deref(), &config),
        AgentsCommand::Show { name } => show(cx, repo.as_deref(), name),
        AgentsCommand::Check { path } => check(cx, repo.as_deref(), &config, path.as_deref()),
        AgentsCommand::Import {
            path,
            force,
            dry_run,
        } => super::agents_io::import(cx, path, *force, *dry_run),
        AgentsCommand::Export {
            claude: _,
            names,
            out,
            force,
        } => super::agents_io::export(cx, names, out.as_deref(), *force),
        AgentsCommand::Boundaries => super::domains::boundaries(cx),
        AgentsCommand::Scaffold { dry_run } => super::domains::scaffold(cx, *dry_run),
    }
}

fn load(repo: Option<&Path>) -> Result<AgentSet, CommandError> {
    AgentSet::for_repo(repo).map_err(CommandError::usage)
}

#[derive(Serialize)]
struct AgentRow<'a> {
    name: &'a str,
    role: &'a str,
    description: &'a str,
    source: String,
    overrides: Option<String>,
    disabled: bool,
}

#[derive(Serialize)]
struct PipelineRow<'a> {
    name: &'a str,
    description: &'a str,
    stages: Vec<&'a str>,
    source: String,
}

#[derive(Serialize)]
struct Listing<'a> {
    agents: Vec<AgentRow<'a>>,
    pipelines: Vec<PipelineRow<'a>>,
}

fn list(cx: &Context<'_>, repo: Option<&Path>, config: &Config) -> Result<Exit, CommandError> {
    let set = load(repo)?;
    let disabled = &config.disabled_agents.value;
    let agents: Vec<AgentRow<'_>> = set
        .agents()
        .map(|agent| AgentRow {
            name: &agent.name,
            role: agent.role.as_str(),
            description: &agent.description,
            source: agent.origin.to_string(),
            overrides: agent.overrides.as_ref().map(ToString::to_string),
            disabled: disabled.contains(&agent.name),
        })
        .collect();
    let pipelines: Vec<PipelineRow<'_>> = set
        .pipelines()
        .map(|pipeline| PipelineRow {
            name: &pipeline.name,
            description: &pipeline.description,
            stages: pipeline.stages.iter().map(|s| s.name.as_str()).collect(),
            source: pipeline.origin.to_string(),
        })
        .collect();

    let problems = agents::check(&set).len();
    if problems > 0 {
        cx.printer.warn(&format!(
            "this agent set has {problems} problem(s); run `nova agents check` to see them"
        ));
    }
    if cx.printer.json() {
        cx.printer.json_value(&Listing { agents, pipelines })?;
        return Ok(Exit::Success);
    }

    let p = &cx.printer;
    let sources: Vec<String> = agents
        .iter()
        .map(|row| match &row.overrides {
            Some(_) => format!("{} (overrides built-in)", row.source),
            None => row.source.clone(),
        })
        .collect();
    let width = |items: &mut dyn Iterator<Item = usize>, header: &str| {
        items.max().unwrap_or(0).max(header.len())
    };
    let name_width = width(&mut agents.iter().map(|a| a.name.len()), "PIPELINE");
    let role_width = width(&mut agents.iter().map(|a| a.role.len()), "ROLE");
    let source_width = width(&mut sources.iter().map(String::len), "SOURCE");
    let header = format!(
        "{:name_width$}  {:role_width$}  {:source_width$}  DESCRIPTION",
        "AGENT", "ROLE", "SOURCE"
    );
    p.line(&p.paint(BOLD, &header))?;
    for (row, source) in agents.iter().zip(&sources) {
        let mut description = row.description.to_owned();
        if row.disabled {
            description = format!("{} {description}", p.paint(DIM, "[disabled]"));
        }
        p.line(&format!(
            "{:name_width$}  {:role_width$}  {source:source_width$}  {description}",
            row.name, row.role
        ))?;
    }
    p.line("")?;
    p.line(&p.paint(BOLD, &format!("{:name_width$}  STAGES", "PIPELINE")))?;
    for row in &pipelines {
        let stages = row.stages.join(" -> ");
        p.line(&format!(
            "{:name_width$}  {stages}  {}",
            row.name,
            p.paint(DIM, &format!("({})", row.source))
        ))?;
    }
    Ok(Exit::Success)
}

fn show(cx: &Context<'_>, repo: Option<&Path>, name: &str) -> Result<Exit, CommandError> {
    let set = load(repo)?;
    if let Some(agent) = set.agent(name) {
        if cx.printer.json() {
            cx.printer.json_value(agent)?;
        } else {
            show_agent(cx, agent)?;
        }
        return Ok(Exit::Success);
    }
    if let Some(pipeline) = set.pipeline(name) {
        if cx.printer.json() {
            cx.printer.json_value(pipeline)?;
        } else {
            show_pipeline(cx, pipeline)?;
        }
        return Ok(Exit::Success);
    }
    let names = set
        .agents()
        .map(|a| a.name.as_str())
        .chain(set.pipelines().map(|p| p.name.as_str()));
    let hint = match diag::closest(name, names) {
        Some(best) => format!("; did you mean `{best}`?"),
        None => String::from("; `nova agents list` shows them all"),
    };
    Err(CommandError::usage(anyhow::anyhow!(
        "no agent or pipeline is named `{name}`{hint}"
    )))
}

fn or_none(items: &[String]) -> String {
    if items.is_empty() {
        String::from("(none)")
    } else {
        items.join(", ")
    }
}

fn show_agent(cx: &Context<'_>, agent: &AgentDef) -> Result<(), CommandError> {
    let p = &cx.printer;
    let mut source = format!("{} ({})", agent.origin, agent.origin.path().display());
    if let Some(overridden) = &agent.overrides {
        source.push_str(&format!(", overrides {}", overridden.path().display()));
    }
    let budget = agent.budget;
    let rows = [
        ("name", agent.name.clone()),
        ("role", agent.role.to_string()),
        ("description", agent.description.clone()),
        ("source", source),
        ("output", agent.output.as_str().to_owned()),
        (
            "model",
            agent
                .model
                .clone()
                .unwrap_or_else(|| String::from("(the configured model)")),
        ),
        ("tools", or_none(&agent.tools)),
        ("scope.read", or_none(&agent.scope.read)),
        ("scope.write", or_none(&agent.scope.write)),
        ("handoff", or_none(&agent.handoff)),
        (
            "budget",
            format!(
                "{} turns, {} tokens, {} s",
                budget.turns, budget.tokens, budget.seconds
            ),
        ),
        ("builtin", or_none(&agent.builtin)),
        ("acceptance", or_none(&agent.acceptance)),
    ];
    for (key, value) in rows {
        p.line(&format!("{}  {value}", p.paint(BOLD, &format!("{key:12}"))))?;
    }
    p.line("")?;
    p.line(&p.paint(BOLD, "prompt"))?;
    for line in agent.prompt.lines() {
        p.line(format!("  {line}").trim_end())?;
    }
    Ok(())
}

fn show_pipeline(cx: &Context<'_>, pipeline: &Pipeline) -> Result<(), CommandError> {
    let p = &cx.printer;
    p.line(&format!("{}  {}", p.paint(BOLD, "pipeline"), pipeline.name))?;
    p.line(&format!(
        "{}  {}",
        p.paint(BOLD, "about   "),
        pipeline.description
    ))?;
    p.line(&format!(
        "{}  {} ({})",
        p.paint(BOLD, "source  "),
        pipeline.origin,
        pipeline.origin.path().display()
    ))?;
    let name_width = pipeline
        .stages
        .iter()
        .map(|s| s.name.len())
        .max()
        .unwrap_or(0);
    let flows: Vec<String> = pipeline
        .stages
        .iter()
        .map(|stage| {
            let outputs: Vec<&str> = stage.output.iter().map(|f| f.as_str()).collect();
            format!("{} -> {}", stage.input, outputs.join(" | "))
        })
        .collect();
    let flow_width = flows.iter().map(String::len).max().unwrap_or(0);
    for (index, (stage, flow)) in pipeline.stages.iter().zip(&flows).enumerate() {
        let what = match stage.step {
            Some(step) => {
                let mut what = format!("step {step:?}").to_lowercase();
                if let Some(repair) = &stage.repair {
                    what.push_str(&format!(
                        ", repaired by {repair} (up to {} attempts)",
                        stage.attempts
                    ));
                }
                what
            }
            None => format!("{:?}: {}", stage.mode, stage.agents.join(", ")).to_lowercase(),
        };
        let name = p.paint(BOLD, &format!("{:name_width$}", stage.name));
        p.line(&format!(
            "  {}. {name}  {flow:flow_width$}  {what}",
            index + 1
        ))?;
    }
    Ok(())
}

#[derive(Serialize)]
struct CheckReport<'a> {
    agents: usize,
    pipelines: usize,
    problems: &'a [Problem],
}

fn check(
    cx: &Context<'_>,
    repo: Option<&Path>,
    config: &Config,
    path: Option<&Path>,
) -> Result<Exit, CommandError> {
    let set = match path {
        Some(path) => {
            if !path.exists() {
                let message = format!(
                    "`{}` does not exist; give a directory of agent files or one file",
                    path.display()
                );
                return Err(CommandError::usage(anyhow::anyhow!(message)));
            }
            let mut set = AgentSet::builtin();
            set.overlay(path, path).map_err(CommandError::usage)?;
            set
        }
        None => load(repo)?,
    };
    let mut problems = agents::check(&set);
    if path.is_none() {
        problems.extend(unknown_disabled(&set, config));
    }
    let counts = (set.agents().count(), set.pipelines().count());

    if cx.printer.json() {
        let report = CheckReport {
            agents: counts.0,
            pipelines: counts.1,
            problems: &problems,
        };
        cx.printer.json_value(&report)?;
    } else {
        let p = &cx.printer;
        let summary = format!("{} agents and {} pipelines checked", counts.0, counts.1);
        p.problems(&problems, &summary)?;
    }
    Ok(if problems.is_empty() {
        Exit::Success
    } else {
        Exit::Failure
    })
}

/// Names in `[agents] disabled` that match no agent: almost certainly a typo.
fn unknown_disabled(set: &AgentSet, config: &Config) -> Vec<Problem> {
    let path = match &config.disabled_agents.source {
        Source::UserFile(path) | Source::RepositoryFile(path) => path.clone(),
        _ => return Vec::new(),
    };
    let names: Vec<&str> = set.agents().map(|a| a.name.as_str()).collect();
    config
        .disabled_agents
        .value
        .iter()
        .filter(|name| set.agent(name).is_none())
        .map(|name| {
            let hint = diag::closest(name, names.iter().copied())
                .map(|best| format!("; did you mean `{best}`?"))
                .unwrap_or_default();
            Problem::new(
                &path,
                None,
                format!("`agents.disabled` names unknown agent `{name}`{hint}"),
            )
        })
        .collect()
}
