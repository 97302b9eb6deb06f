//! `nova undo`: drop the last Nova commit of a review branch, or every commit after one of its
//! run's checkpoints.

use clap::Args;
use serde_json::json;

use super::{CommandError, Context, Exit};
use crate::git::{self, UndoError};

/// Drop the last commit of a review branch, or those after a checkpoint (`--to N`)
///
/// The branch defaults to the newest review branch; with `--to N`, every commit after checkpoint
/// N of the run that made it is dropped. Refuses when the branch was pushed, when it is checked
/// out, or when a commit to drop was not made by Nova. A branch left without Nova commits is
/// deleted. Your working tree is not touched.
#[derive(Debug, Args)]
pub struct UndoArgs {
    /// The review branch, like `nova/improve/20261126-120000`
    branch: Option<String>,
    /// Keep the branch up to checkpoint N of its run (`refs/nova/runs/<run>/<N>`, numbered as
    /// `nova runs show` numbers candidates) and drop the commits after it
    #[arg(long, value_name = "N")]
    to: Option<usize>,
}

pub fn run(cx: &Context<'_>, args: &UndoArgs) -> Result<Exit, CommandError> {
    let root = cx.require_repo()?;
    let undone = match git::undo(&root, args.branch.as_deref(), args.to) {
        Ok(undone) => undone,
        Err(error @ UndoError::Git(_)) => return Err(CommandError::environment(error)),
        Err(error) => return Err(CommandError::usage(error)),
    };
    let p = &cx.printer;
    if p.json() {
        p.json_value(&json!(undone))?;
        return Ok(Exit::Success);
    }
    for dropped in &undone.dropped {
        p.line(&format!(
            "Dropped {} {} from {}.",
            &dropped.commit[..10],
            dropped.subject,
            undone.branch
        ))?;
    }
    match &undone.tip {
        Some(tip) => p.line(&format!("{} is now at {}.", undone.branch, &tip[..10]))?,
        None => p.line(&format!(
            "{} had no other Nova commit and was deleted.",
            undone.branch
        ))?,
    }
    Ok(Exit::Success)
}
