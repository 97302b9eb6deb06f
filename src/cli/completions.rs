//! `nova completions`: shell completion scripts.

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::{Cli, CommandError, Context, Exit};

/// Print a completion script for your shell.
///
/// For example, for bash: `nova completions bash > ~/.local/share/bash-completion/completions/nova`
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in
    #[arg(value_enum)]
    shell: Shell,
}

pub fn run(cx: &Context<'_>, args: &CompletionsArgs) -> Result<Exit, CommandError> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "nova", &mut script);
    cx.printer.raw(&script)?;
    Ok(Exit::Success)
}
