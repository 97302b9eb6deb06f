//! `nova agents import` and `nova agents export`: agent files other tools write, to and from
//! Nova's. What each field became, or why it was not carried, is printed for every agent.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::output::{BOLD, DIM};
use super::{CommandError, Context, Exit};
use crate::agents::foreign::{self, ForeignError, Note, Translation};
use crate::agents::{self, AgentSet, Origin, REPO_AGENTS_DIR};

/// What one file became.
#[derive(Serialize)]
struct Done {
    from: String,
    to: String,
    name: String,
    carried: Vec<(String, String)>,
    not_carried: Vec<(String, String)>,
}

fn pairs(notes: &[Note]) -> Vec<(String, String)> {
    notes
        .iter()
        .map(|n| (n.field.clone(), n.what.clone()))
        .collect()
}

/// `nova agents import PATH`: Claude Code subagents (`*.md`) and Codex custom agents (`*.toml`),
/// one file or a directory of them, written as Nova agent files to `.nova/agents/`.
pub fn import(
    cx: &Context<'_>,
    path: &Path,
    force: bool,
    dry_run: bool,
) -> Result<Exit, CommandError> {
    let root = cx.require_repo()?;
    let files = sources(path)?;
    // Everything is read and translated before anything is written: one bad file writes nothing.
    let mut translated = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).map_err(|error| {
            CommandError::usage(anyhow::anyhow!("cannot read `{}`: {error}", file.display()))
        })?;
        let result = if file.extension().is_some_and(|e| e == "toml") {
            foreign::from_codex(&text)
        } else {
            foreign::from_claude(&text)
        };
        let translation = result.map_err(|error: ForeignError| {
            CommandError::usage(anyhow::anyhow!(
                "`{}` cannot be imported: {error}; fix it, or import the other files one by one",
                file.display()
            ))
        })?;
        translated.push((file.clone(), translation));
    }
    let dir = root.join(REPO_AGENTS_DIR);
    let mut names: Vec<&str> = Vec::new();
    for (file, t) in &translated {
        if names.contains(&t.name.as_str()) {
            return Err(CommandError::usage(anyhow::anyhow!(
                "two files define agent `{}` (the second is `{}`): import one of them",
                t.name,
                file.display()
            )));
        }
        names.push(&t.name);
        let target = dir.join(format!("{}.md", t.name));
        if target.exists() && !force && !dry_run {
            return Err(CommandError::usage(anyhow::anyhow!(
                "`{}` exists; nothing was written. Pass `--force` to replace it, or rename the \
                 agent in `{}`",
                shown(&root, &target),
                file.display()
            )));
        }
    }
    let mut done = Vec::new();
    for (file, t) in &translated {
        let target = dir.join(format!("{}.md", t.name));
        if !dry_run {
            write_file(&target, &t.text)?;
        }
        done.push(Done {
            from: file.display().to_string(),
            to: shown(&root, &target),
            name: t.name.clone(),
            carried: pairs(&t.carried),
            not_carried: pairs(&t.left),
        });
    }
    // The set with the new files must still be a valid one: say what is wrong if not.
    let problems = if dry_run {
        Vec::new()
    } else {
        let set = AgentSet::for_repo(Some(&root)).map_err(CommandError::usage)?;
        agents::check(&set)
    };
    report(cx, &done, dry_run, "imported")?;
    if !problems.is_empty() {
        cx.printer
            .problems(&problems, "the agent set has problems after the import")?;
        return Ok(Exit::Failure);
    }
    Ok(Exit::Success)
}

/// `nova agents export --claude`: the named agents (default: the repository's own) as Claude
/// Code subagents in `out` (default `.claude/agents/`).
pub fn export(
    cx: &Context<'_>,
    names: &[String],
    out: Option<&Path>,
    force: bool,
) -> Result<Exit, CommandError> {
    let root = cx.require_repo()?;
    let set = AgentSet::for_repo(Some(&root)).map_err(CommandError::usage)?;
    let chosen: Vec<&agents::AgentDef> = if names.is_empty() {
        set.agents()
            .filter(|a| matches!(a.origin, Origin::File(_)))
            .collect()
    } else {
        let mut chosen = Vec::new();
        for name in names {
            let agent = set.agent(name).ok_or_else(|| {
                CommandError::usage(anyhow::anyhow!(
                    "no agent `{name}`: `nova agents list` shows them"
                ))
            })?;
            chosen.push(agent);
        }
        chosen
    };
    if chosen.is_empty() {
        return Err(CommandError::usage(anyhow::anyhow!(
            "the repository has no agents of its own in `{REPO_AGENTS_DIR}`: name the ones to \
             export (`nova agents export --claude refactorer`)"
        )));
    }
    let dir = out.map_or_else(|| root.join(".claude/agents"), Path::to_owned);
    let translated: Vec<Translation> = chosen.into_iter().map(foreign::to_claude).collect();
    for t in &translated {
        let target = dir.join(format!("{}.md", t.name));
        if target.exists() && !force {
            return Err(CommandError::usage(anyhow::anyhow!(
                "`{}` exists; nothing was written. Pass `--force` to replace it",
                shown(&root, &target)
            )));
        }
    }
    let mut done = Vec::new();
    for t in &translated {
        let target = dir.join(format!("{}.md", t.name));
        write_file(&target, &t.text)?;
        done.push(Done {
            from: t.name.clone(),
            to: shown(&root, &target),
            name: t.name.clone(),
            carried: pairs(&t.carried),
            not_carried: pairs(&t.left),
        });
    }
    report(cx, &done, false, "exported")?;
    Ok(Exit::Success)
}

/// The files to import: `path` itself, or the `*.md` and `*.toml` files in it, by name.
fn sources(path: &Path) -> Result<Vec<PathBuf>, CommandError> {
    if path.is_file() {
        return Ok(vec![path.to_owned()]);
    }
    let entries = std::fs::read_dir(path).map_err(|error| {
        CommandError::usage(anyhow::anyhow!(
            "cannot read `{}`: {error}; give an agent file or a directory of them \
             (`.claude/agents/`, `.codex/agents/`)",
            path.display()
        ))
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "md" || e == "toml"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(CommandError::usage(anyhow::anyhow!(
            "`{}` has no `*.md` or `*.toml` agent files",
            path.display()
        )));
    }
    Ok(files)
}

/// Writes `text` to `path` whole or not at all.
fn write_file(path: &Path, text: &str) -> Result<(), CommandError> {
    let failed = |error: std::io::Error| {
        CommandError::environment(anyhow::anyhow!(
            "cannot write `{}`: {error}",
            path.display()
        ))
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(failed)?;
    }
    let partial = path.with_extension("md.partial");
    std::fs::write(&partial, text).map_err(failed)?;
    std::fs::rename(&partial, path).map_err(failed)
}

fn shown(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn report(cx: &Context<'_>, done: &[Done], dry_run: bool, verb: &str) -> Result<(), CommandError> {
    let p = &cx.printer;
    if p.json() {
        p.json_value(&done)?;
        return Ok(());
    }
    for d in done {
        let to = if dry_run {
            format!("{} (dry run: not written)", d.to)
        } else {
            d.to.clone()
        };
        p.line(&format!("{} {} -> {to}", p.paint(BOLD, &d.name), d.from))?;
        for (field, what) in &d.carried {
            p.line(&format!("  carried      {field}: {what}"))?;
        }
        for (field, why) in &d.not_carried {
            p.line(&p.paint(DIM, &format!("  not carried  {field}: {why}")))?;
        }
    }
    p.note(&format!("{} agent(s) {verb}", done.len()));
    Ok(())
}
