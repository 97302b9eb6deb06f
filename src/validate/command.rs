//! A command of the user's own (a hook from their config): run as they would run it, with their
//! environment, no sandbox (it is not repository code), a time limit and input on stdin.

use std::ffi::OsString;
use std::path::Path;
use std::time::Duration;

use nova_sandbox::{Isolation, Spec, Status};

/// How a user's command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    Exited(i32),
    /// Killed by a signal.
    Signaled(i32),
    TimedOut,
}

/// What a user's command did.
#[derive(Debug, Clone)]
pub struct Ran {
    pub ended: Ended,
    pub stdout: String,
    pub stderr: String,
    pub seconds: f64,
}

/// The most bytes kept of each of a user's command's outputs.
const OUTPUT_LIMIT: usize = 64 << 10;

/// Runs `command` (a program and its arguments) in `cwd` with `env` and `input` on stdin, killed
/// at `timeout`. `Err` when it cannot be started.
pub fn run_user_command(
    command: &[String],
    cwd: &Path,
    env: &[(OsString, OsString)],
    input: &[u8],
    timeout: Duration,
) -> Result<Ran, String> {
    let Some((program, args)) = command.split_first() else {
        return Err(String::from("the command is empty"));
    };
    let mut spec = Spec::new(program, cwd).args(args);
    spec.env = env.to_vec();
    spec.isolation = Isolation::None;
    spec.timeout = timeout;
    spec.output_limit = OUTPUT_LIMIT;
    spec.stdin = input.to_vec();
    let outcome = nova_sandbox::run(&spec).map_err(|error| error.to_string())?;
    Ok(ended(&outcome))
}

/// What a command that ran did.
pub(super) fn ended(outcome: &nova_sandbox::Outcome) -> Ran {
    Ran {
        ended: match outcome.status {
            Status::Exited(code) => Ended::Exited(code),
            Status::Signaled(signal) => Ended::Signaled(signal),
            Status::TimedOut => Ended::TimedOut,
        },
        stdout: String::from_utf8_lossy(&outcome.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&outcome.stderr).into_owned(),
        seconds: outcome.elapsed.as_secs_f64(),
    }
}

/// Starts an MCP server the user declared (`command`) in the sandbox, left running with its stdin
/// and stdout open: it may read `read` and the repository at `root` (where it starts), write
/// nothing, and reach the network only with `network`.
pub fn spawn_server(
    command: &[String],
    root: &Path,
    env: &[(OsString, OsString)],
    read: &[std::path::PathBuf],
    network: bool,
) -> Result<nova_sandbox::Spawned, String> {
    let Some((program, args)) = command.split_first() else {
        return Err(String::from("the command is empty"));
    };
    let mut spec = Spec::new(program, root).args(args);
    spec.env = env.to_vec();
    spec.network = network;
    spec.read = read.to_vec();
    spec.read.push(root.to_owned());
    nova_sandbox::spawn(&spec).map_err(|error| error.to_string())
}
