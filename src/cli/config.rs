//! `nova config`: the resolved configuration.

use clap::{Args, Subcommand};

use super::output::{BOLD, DIM};
use super::{CommandError, Context, Exit};

/// Inspect Nova's configuration.
#[derive(Debug, Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    command: ConfigCommand,
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Print every setting, its value and where it came from (secrets are never shown)
    Show,
}

pub fn run(cx: &Context<'_>, args: &ConfigArgs) -> Result<Exit, CommandError> {
    match args.command {
        ConfigCommand::Show => show(cx),
    }
}

fn show(cx: &Context<'_>) -> Result<Exit, CommandError> {
    let repo = cx.repo()?;
    let config = cx.config(repo.as_deref())?;
    let entries = config.entries(cx.env);
    let p = &cx.printer;
    if p.json() {
        p.json_value(&entries)?;
        return Ok(Exit::Success);
    }
    let key_width = entries.iter().map(|e| e.key.len()).max().unwrap_or(0);
    let value_width = entries.iter().map(|e| e.value.len()).max().unwrap_or(0);
    for entry in &entries {
        let key = p.paint(BOLD, &format!("{:key_width$}", entry.key));
        let source = p.paint(DIM, &entry.source.to_string());
        p.line(&format!("{key}  {:value_width$}  {source}", entry.value))?;
    }
    if repo.is_none() {
        p.note("not inside a git repository: no repository config was read");
    }
    Ok(Exit::Success)
}
