//! `nova push`: push a review branch, for CI. Never forced.

use clap::Args;
use serde_json::json;

use super::{CommandError, Context, Exit};
use crate::git::{self, PushError};

/// Push a review branch to a remote [default: the newest review branch, to `origin`].
///
/// Never forced: a remote that already has a different branch of that name refuses, and Nova says
/// so. Over HTTPS, a token in `NOVA_GIT_TOKEN` (or `GITHUB_TOKEN`) is used first, then git's
/// credential helpers; over SSH, the ssh agent.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// The review branch, like `nova/improve/20261126-120000`
    branch: Option<String>,
    /// The remote to push to
    #[arg(long, default_value = "origin")]
    remote: String,
}

pub fn run(cx: &Context<'_>, args: &PushArgs) -> Result<Exit, CommandError> {
    let root = cx.require_repo()?;
    let branch = match &args.branch {
        Some(branch) => branch.clone(),
        None => git::review_branches(&root)
            .map_err(CommandError::environment)?
            .into_iter()
            .next()
            .map(|branch| branch.name)
            .ok_or_else(|| {
                CommandError::usage(anyhow::anyhow!(
                    "there are no review branches to push; `nova improve` or `nova apply` makes them"
                ))
            })?,
    };
    match git::push(&root, &branch, &args.remote, cx.env.git_token()) {
        Ok(()) => {}
        Err(
            error @ (PushError::Rejected { .. } | PushError::Auth { .. } | PushError::Git { .. }),
        ) => {
            return Err(CommandError {
                exit: Exit::Failure,
                error: error.into(),
            });
        }
        Err(error) => return Err(CommandError::usage(error)),
    }
    if cx.printer.json() {
        cx.printer
            .json_value(&json!({ "pushed": branch, "remote": args.remote }))?;
    } else {
        cx.printer
            .line(&format!("Pushed {branch} to {}.", args.remote))?;
    }
    Ok(Exit::Success)
}
