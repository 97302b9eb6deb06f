//! The `nova` command line: clap definitions, one file per subcommand, and rendering for people
//! and for machines (`--json`).
//!
//! Owns: arguments, exit codes, what goes to stdout (results) and stderr (progress, notes, errors).
//! Never: holds logic a library caller would need; each subcommand loads its context and calls
//! into the library.

mod agents;
mod agents_io;
mod apply;
mod ask;
mod bench;
mod branches;
mod ci;
mod completions;
mod config;
mod doctor;
mod domains;
mod evolve;
mod improve;
mod init;
mod map;
mod mcp;
mod output;
mod push;
mod report;
mod review;
mod rules;
mod runs;
mod runs_report;
mod undo;
mod validation;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

pub use output::{ColorChoice, Printer};

use crate::config::{Config, ConfigError, Env, Overrides, ProviderKind};
use crate::git::{self, GitError};

const AFTER_HELP: &str = "\
Exit codes:
  0  success
  1  the command ran and reports a failure (for example, `nova agents check` found problems)
  2  usage or configuration error
  3  environment problem (not a git repository, sandbox unavailable, provider unreachable or
     refusing the request)
  130  interrupted by Ctrl-C

Environment:
  NOVA_PROVIDER, NOVA_MODEL, NOVA_BASE_URL, NOVA_API_KEY_ENV  override the configuration
  NO_COLOR  turns colour off
  XDG_CONFIG_HOME  where the user config lives (default ~/.config/nova/config.toml)";

/// Nova: a multi-agent code agent for Rust repositories.
///
/// Small agents, each declared in a file, review a repository, propose changes, prove each one by
/// building and testing it in a sandbox, and commit only what passed onto a review branch. Nova
/// never touches your checkout.
#[derive(Debug, Parser)]
#[command(name = "nova", version, about, long_about, after_help = AFTER_HELP)]
#[command(propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every subcommand takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The repository to work on [default: the git repository that holds the current directory]
    #[arg(long, global = true, value_name = "PATH")]
    pub repo: Option<PathBuf>,
    /// Which brain answers the agents [env: NOVA_PROVIDER]
    #[arg(long, global = true, value_enum)]
    pub provider: Option<ProviderKind>,
    /// The model to ask, for providers that have models [env: NOVA_MODEL]
    #[arg(long, global = true, value_name = "NAME")]
    pub model: Option<String>,
    /// The provider's endpoint, like `http://127.0.0.1:11434/v1` [env: NOVA_BASE_URL]
    #[arg(long, global = true, value_name = "URL")]
    pub base_url: Option<String>,
    /// The NAME of the environment variable that holds the API key [env: NOVA_API_KEY_ENV]
    #[arg(long, global = true, value_name = "NAME")]
    pub api_key_env: Option<String>,
    /// Read this file instead of the user config
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Print results as JSON on stdout
    #[arg(long, global = true)]
    pub json: bool,
    /// When another Nova run holds this repository's `.nova/`, refuse at once (exit 3) instead of
    /// waiting for it
    #[arg(long, global = true)]
    pub no_wait: bool,
    /// Say more on stderr (repeat for more)
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Say only what went wrong on stderr
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// When to use colour [honours NO_COLOR]
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    Improve(improve::ImproveArgs),
    Ask(ask::AskArgs),
    Apply(apply::ApplyArgs),
    Bench(bench::BenchArgs),
    Evolve(evolve::EvolveArgs),
    Branches(branches::BranchesArgs),
    Undo(undo::UndoArgs),
    Push(push::PushArgs),
    Ci(ci::CiArgs),
    Runs(runs::RunsArgs),
    Review(review::ReviewArgs),
    Map(map::MapArgs),
    Mcp(mcp::McpArgs),
    Agents(agents::AgentsArgs),
    Rules(rules::RulesArgs),
    Init(init::InitArgs),
    Config(config::ConfigArgs),
    Doctor(doctor::DoctorArgs),
    Completions(completions::CompletionsArgs),
}

/// How a command ended, as the process exit code documented in `--help`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Success = 0,
    /// The command ran and reports a failure.
    Failure = 1,
    /// Usage or configuration error.
    Usage = 2,
    /// Environment problem.
    Environment = 3,
    /// Stopped by Ctrl-C.
    Interrupted = 130,
}

/// An error that ends a command, with the exit code it maps to.
#[derive(Debug)]
pub struct CommandError {
    pub exit: Exit,
    pub error: anyhow::Error,
}

impl CommandError {
    pub fn usage(error: impl Into<anyhow::Error>) -> Self {
        CommandError {
            exit: Exit::Usage,
            error: error.into(),
        }
    }

    pub fn environment(error: impl Into<anyhow::Error>) -> Self {
        CommandError {
            exit: Exit::Environment,
            error: error.into(),
        }
    }

    /// The work was done and did not succeed (exit 1): a change refused, an agent stopped.
    pub fn failure(error: impl Into<anyhow::Error>) -> Self {
        CommandError {
            exit: Exit::Failure,
            error: error.into(),
        }
    }
}

impl From<ConfigError> for CommandError {
    fn from(error: ConfigError) -> Self {
        CommandError::usage(error)
    }
}

impl From<GitError> for CommandError {
    fn from(error: GitError) -> Self {
        CommandError::environment(error)
    }
}

impl From<std::io::Error> for CommandError {
    fn from(error: std::io::Error) -> Self {
        CommandError::environment(error)
    }
}

/// Everything a subcommand may need, resolved once.
#[derive(Debug)]
pub struct Context<'a> {
    pub env: &'a Env,
    pub global: &'a GlobalArgs,
    pub printer: Printer,
}

impl Context<'_> {
    /// `path` as the user meant it: a relative one from the directory the command runs in.
    pub fn absolute(&self, path: &std::path::Path) -> PathBuf {
        match self.env.current_dir() {
            Some(here) if path.is_relative() => here.join(path),
            _ => path.to_path_buf(),
        }
    }

    /// The repository root: `--repo`, else the one holding the current directory. `None` when
    /// there is none and `--repo` was not given.
    pub fn repo(&self) -> Result<Option<PathBuf>, CommandError> {
        match &self.global.repo {
            Some(path) => {
                if !path.exists() {
                    let message = format!("`--repo {}` does not exist", path.display());
                    return Err(CommandError::environment(anyhow::anyhow!(message)));
                }
                Ok(Some(git::discover_root(path)?))
            }
            None => match self.env.current_dir() {
                Some(dir) => match git::discover_root(dir) {
                    Ok(root) => Ok(Some(root)),
                    Err(GitError::NotARepository(_)) => Ok(None),
                    Err(error) => Err(error.into()),
                },
                None => Ok(None),
            },
        }
    }

    /// The repository root, for commands that cannot work without one.
    pub fn require_repo(&self) -> Result<PathBuf, CommandError> {
        match self.repo()? {
            Some(root) => Ok(root),
            None => {
                let here = self.env.current_dir().unwrap_or(std::path::Path::new("."));
                Err(GitError::NotARepository(here.to_owned()).into())
            }
        }
    }

    /// Takes the lock of `repo`'s `.nova/`: at once, or after waiting for the run that holds it
    /// (said once on stderr), or not at all with `--no-wait` (exit 3).
    pub fn lock(&self, repo: &std::path::Path) -> Result<crate::state::Lock, CommandError> {
        use crate::state::{Lock, Wait};
        let wait = if self.global.no_wait {
            Wait::No
        } else {
            let mut notice = |pid: Option<u32>| {
                let who = pid.map_or_else(
                    || String::from("another Nova run"),
                    |pid| format!("another Nova run (process {pid})"),
                );
                self.printer.note(&format!(
                    "waiting for {who}, which is using this repository's `.nova/` \
                     (`--no-wait` refuses instead)…"
                ));
            };
            return Lock::acquire(repo, Wait::Yes(&mut notice)).map_err(CommandError::environment);
        };
        Lock::acquire(repo, wait).map_err(CommandError::environment)
    }

    /// The configuration for `repo`, with the command line's overrides.
    pub fn config(&self, repo: Option<&std::path::Path>) -> Result<Config, CommandError> {
        let overrides = Overrides {
            config_file: self.global.config.clone(),
            provider: self.global.provider,
            model: self.global.model.clone(),
            base_url: self.global.base_url.clone(),
            api_key_env: self.global.api_key_env.clone(),
        };
        let config = crate::config::load(self.env, repo, &overrides)?;
        for source in &config.files {
            self.printer.info(&format!("read {source}"));
        }
        Ok(config)
    }
}

/// Runs a parsed command line.
pub fn run(cli: &Cli, env: &Env, printer: Printer) -> Result<Exit, CommandError> {
    let cx = Context {
        env,
        global: &cli.global,
        printer,
    };
    match &cli.command {
        Command::Improve(args) => improve::run(&cx, args),
        Command::Ask(args) => ask::run(&cx, args),
        Command::Apply(args) => apply::run(&cx, args),
        Command::Bench(args) => bench::run(&cx, args),
        Command::Evolve(args) => evolve::run(&cx, args),
        Command::Branches(args) => branches::run(&cx, args),
        Command::Undo(args) => undo::run(&cx, args),
        Command::Push(args) => push::run(&cx, args),
        Command::Ci(args) => ci::run(&cx, args),
        Command::Runs(args) => runs::run(&cx, args),
        Command::Review(args) => review::run(&cx, args),
        Command::Map(args) => map::run(&cx, args),
        Command::Mcp(args) => mcp::run(&cx, args),
        Command::Agents(args) => agents::run(&cx, args),
        Command::Rules(args) => rules::run(&cx, args),
        Command::Init(args) => init::run(&cx, args),
        Command::Config(args) => config::run(&cx, args),
        Command::Doctor(args) => doctor::run(&cx, args),
        Command::Completions(args) => completions::run(&cx, args),
    }
}
