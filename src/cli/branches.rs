//! `nova branches`: Nova's review branches, with where each starts and whether it was pushed.

use clap::Args;

use super::output::DIM;
use super::{CommandError, Context, Exit};
use crate::git;

/// List Nova's review branches (`nova/...`): base, number of Nova commits, and whether pushed.
#[derive(Debug, Args)]
pub struct BranchesArgs {}

pub fn run(cx: &Context<'_>, _args: &BranchesArgs) -> Result<Exit, CommandError> {
    let root = cx.require_repo()?;
    let branches = git::review_branches(&root).map_err(CommandError::environment)?;
    let p = &cx.printer;
    if p.json() {
        p.json_value(&branches)?;
        return Ok(Exit::Success);
    }
    if branches.is_empty() {
        p.line("No review branches. `nova improve` or `nova apply` makes them.")?;
        return Ok(Exit::Success);
    }
    let width = branches.iter().map(|b| b.name.len()).max().unwrap_or(0);
    for branch in &branches {
        let base = branch
            .base
            .as_deref()
            .map_or(String::from("(no base)"), |base| base[..10].to_owned());
        let commits = match branch.commits {
            1 => String::from("1 commit"),
            n => format!("{n} commits"),
        };
        let pushed = if branch.pushed.is_empty() {
            String::from("not pushed")
        } else {
            branch
                .pushed
                .iter()
                .map(|p| {
                    let state = if p.up_to_date { "" } else { ", behind" };
                    format!("pushed to {}{state}", p.remote)
                })
                .collect::<Vec<_>>()
                .join("; ")
        };
        p.line(&format!(
            "{:width$}  {commits:>10} on {}  {pushed}",
            branch.name,
            p.paint(DIM, &base),
        ))?;
    }
    Ok(Exit::Success)
}
