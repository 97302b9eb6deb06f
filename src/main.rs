//! The `nova` binary: parse the command line, run it, map the outcome to an exit code.

// The only unsafe code of the workspace lives in `nova-sandbox`.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use nova::cli::{self, Cli, Exit, Printer};
use nova::config::Env;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env = Env::capture();
    let printer = Printer::new(&cli.global, &env);
    let exit = match cli::run(&cli, &env, printer) {
        Ok(exit) => exit,
        Err(failure) if is_broken_pipe(&failure.error) => Exit::Success,
        Err(failure) => {
            printer.error(&failure.error);
            failure.exit
        }
    };
    ExitCode::from(exit as u8)
}

/// Output piped into `head` and cut short is not an error.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .downcast_ref::<std::io::Error>()
        .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}
