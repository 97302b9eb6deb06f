//! `nova agents scaffold` and `nova agents boundaries`: the repository's domain agents, written
//! from its structure, and who owns which files.

use std::collections::BTreeMap;

use serde::Serialize;

use super::output::{BOLD, DIM};
use super::{CommandError, Context, Exit};
use crate::agents::AgentSet;
use crate::domains::scaffold::{self, Action};
use crate::domains::{Crossing, Owners, crossings};
use crate::index::Index;

/// `nova agents scaffold`: one domain agent per part of the repository in
/// `.nova/agents/domains/`, updated where it is as scaffold wrote it, a person's edits kept.
pub fn scaffold(cx: &Context<'_>, dry_run: bool) -> Result<Exit, CommandError> {
    let root = cx.require_repo()?;
    let index = Index::build(&root);
    let plan = scaffold::plan(&root, &index);
    if plan.agents.is_empty() {
        return Err(CommandError::usage(anyhow::anyhow!(
            "found no crate in `{}` (no `Cargo.toml` with a `[package]` above any Rust file): \
             there is nothing to scaffold",
            root.display()
        )));
    }
    if !dry_run {
        scaffold::write(&root, &plan).map_err(|error| {
            CommandError::failure(anyhow::anyhow!(
                "cannot write `{}`: {error}",
                scaffold::dir().display()
            ))
        })?;
    }
    let p = &cx.printer;
    if p.json() {
        p.json_value(&plan)?;
        return Ok(Exit::Success);
    }
    for agent in &plan.agents {
        let action = match agent.action {
            Action::Create => "created",
            Action::Update => "updated",
            Action::Unchanged => "unchanged",
            Action::KeptEdits {
                front: true,
                block: true,
            } => "kept: you edited it",
            Action::KeptEdits { front: true, .. } => "updated the prompt; kept your front matter",
            Action::KeptEdits { .. } => "updated the front matter; kept your prompt",
            Action::NotGenerated => "left alone: it has no scaffold marker",
        };
        let dry = if dry_run && agent.text.is_some() {
            " (dry run: not written)"
        } else {
            ""
        };
        p.line(&format!(
            "{}  {}  {} files, {} lines  {action}{dry}",
            p.paint(BOLD, &agent.name),
            agent.part,
            agent.files,
            agent.lines
        ))?;
        p.line(&p.paint(DIM, &format!("  writes {}", agent.write.join(", "))))?;
    }
    for file in &plan.stale {
        p.line(&format!(
            "{file}: its part is gone; delete it, or give it a part that exists"
        ))?;
    }
    p.note(&format!(
        "{} domain agent(s) in {}; `nova agents boundaries` checks who owns what",
        plan.agents.len(),
        scaffold::dir().display()
    ));
    Ok(Exit::Success)
}

/// What `nova agents boundaries` found.
#[derive(Serialize, Default)]
struct Boundaries {
    /// The repository's own agents that may write, with their write scopes.
    owners: Vec<(String, Vec<String>)>,
    /// Files two or more of them may write, with who.
    overlaps: Vec<(String, Vec<String>)>,
    /// Source files none of them may write.
    orphans: Vec<String>,
    /// Names one owner's files use that another owner's files define.
    crossings: Vec<Crossing>,
}

/// `nova agents boundaries`: every source file against the write scopes of the repository's own
/// agents (the built-in ones are scoped by job, not by part, and are left out). Exit 1 when a
/// file has two owners.
pub fn boundaries(cx: &Context<'_>) -> Result<Exit, CommandError> {
    let root = cx.require_repo()?;
    let set = AgentSet::for_repo(Some(&root)).map_err(CommandError::usage)?;
    let owners = Owners::of_repo(&set);
    let index = Index::build(&root);
    let mut found = Boundaries {
        owners: owners
            .agents()
            .map(|a| (a.name.clone(), a.scope.write.clone()))
            .collect(),
        ..Boundaries::default()
    };
    let mut owner_of: BTreeMap<String, String> = BTreeMap::new();
    for path in index.paths() {
        match owners.owners_of(path).as_slice() {
            [] => found.orphans.push(path.to_owned()),
            [one] => {
                owner_of.insert(path.to_owned(), one.name.clone());
            }
            many => found.overlaps.push((
                path.to_owned(),
                many.iter().map(|a| a.name.clone()).collect(),
            )),
        }
    }
    found.crossings = crossings(&index, &owner_of);
    print_boundaries(cx, &found)?;
    Ok(if found.overlaps.is_empty() {
        Exit::Success
    } else {
        Exit::Failure
    })
}

fn print_boundaries(cx: &Context<'_>, found: &Boundaries) -> Result<(), CommandError> {
    let p = &cx.printer;
    if p.json() {
        p.json_value(found)?;
        return Ok(());
    }
    if found.owners.is_empty() {
        p.line(
            "no agent of the repository's own (`.nova/agents/`) may write: no one owns anything; \
             `nova agents scaffold` writes one per part",
        )?;
    }
    for (name, globs) in &found.owners {
        p.line(&format!(
            "{}  writes {}",
            p.paint(BOLD, name),
            globs.join(", ")
        ))?;
    }
    p.line(&format!("overlaps: {}", found.overlaps.len()))?;
    for (path, who) in &found.overlaps {
        p.line(&format!("  {path}: {}", who.join(", ")))?;
    }
    p.line(&format!("orphans: {}", found.orphans.len()))?;
    for path in &found.orphans {
        p.line(&p.paint(DIM, &format!("  {path}")))?;
    }
    p.line(&format!("crossing uses: {}", found.crossings.len()))?;
    for c in &found.crossings {
        p.line(&format!(
            "  {} -> {}: {} ({})",
            c.from,
            c.to,
            c.uses,
            c.names.join(", ")
        ))?;
    }
    Ok(())
}
