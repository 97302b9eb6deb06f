//! Configuration: `nova.toml`, the user's config, `NOVA_*` environment variables and flags,
//! resolved into one [`Config`] whose every value remembers where it came from.
//!
//! Owns: the configuration schema, the layering of sources, the trust rule, and all reading of
//! the process environment ([`Env`]).
//! Never: is bypassed. No other module reads environment variables or configuration files.
//!
//! Sources, strongest first: flags, environment, the repository's `nova.toml` (or
//! `.nova/config.toml`), the user's `config.toml` (or the file given with `--config`), defaults.
//! A repository's file may choose the provider, model, agents and budgets, but not `base_url`,
//! `api_key_env`, or anything Nova will execute.

mod entries;
mod env;
mod file;
mod resolve;

pub use entries::Entry;
pub use env::{
    Env, NO_COLOR, NOVA_API_KEY_ENV, NOVA_BASE_URL, NOVA_MODEL, NOVA_PROVIDER, ToolchainDirs,
};
pub use resolve::{
    Budget, Config, DEFAULT_FLAKY_RERUNS, ModelInfo, ProviderSettings, Source, Sourced,
    ValidateSettings, load,
};

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::diag::Problem;

/// How a model calls tools: in the API's own tool calls, or in fenced `tool` blocks of its text
/// (for local models without native tool calls).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ToolCalls {
    #[default]
    Native,
    Text,
}

/// When a hook runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HookEvent {
    /// A run starts (`nova ask`, `nova improve` with a model).
    SessionStart,
    /// Before a tool call (edits included); exit 2 blocks it.
    PreToolUse,
    /// After a tool call that succeeded.
    PostToolUse,
    /// After a tool call that failed or was refused.
    PostToolFailure,
    /// An agent starts its part of a run (the first, or one handed to).
    SubagentStart,
    /// An agent's part of a run ends.
    SubagentStop,
    /// Before a conversation is compacted to fit the model's window.
    PreCompact,
    /// A candidate was proved (accepted or not); exit 2 refuses an accepted one.
    CandidateValidated,
    /// Before a proved change is committed; exit 2 blocks the commit.
    Commit,
}

impl HookEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            HookEvent::SessionStart => "session_start",
            HookEvent::PreToolUse => "pre_tool_use",
            HookEvent::PostToolUse => "post_tool_use",
            HookEvent::PostToolFailure => "post_tool_failure",
            HookEvent::SubagentStart => "subagent_start",
            HookEvent::SubagentStop => "subagent_stop",
            HookEvent::PreCompact => "pre_compact",
            HookEvent::CandidateValidated => "candidate_validated",
            HookEvent::Commit => "commit",
        }
    }
}

/// A command the user's config attaches to an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hook {
    pub event: HookEvent,
    pub command: Vec<String>,
    pub matcher: Option<String>,
    pub timeout_secs: u64,
    /// The file it was read from (the user's).
    pub source: Source,
}

/// An MCP server the user's config declares (`[mcp.servers.NAME]`), started over stdio inside
/// the sandbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct McpServer {
    /// Started over stdio, in the sandbox; empty for a server reached at `url`.
    pub command: Vec<String>,
    /// A Streamable HTTP endpoint, reached from Nova itself (no process is started).
    pub url: Option<String>,
    pub read: Vec<PathBuf>,
    pub network: bool,
    pub timeout_secs: u64,
    pub source: Source,
}

/// An MCP call's time limit when the server's entry sets none.
pub const MCP_TIMEOUT_SECS: u64 = 30;

/// A hook's time limit when its entry sets none.
pub const HOOK_TIMEOUT_SECS: u64 = 30;

/// Who routes a `nova ask` request to its agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum RouteBy {
    /// The offline classifier over the agents' descriptions: instant, no tokens.
    #[default]
    Offline,
    /// The `router` agent, one short model call with the agent list; the classifier is its
    /// fallback.
    Model,
}

/// Which brain answers the agents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    /// The offline, deterministic engine: no network, no key.
    #[default]
    Builtin,
    /// Any OpenAI-compatible chat completions endpoint.
    Openai,
    /// The Anthropic Messages API.
    Anthropic,
    /// A local Ollama server, through its OpenAI-compatible API.
    Ollama,
}

impl ProviderKind {
    pub const ALL: [ProviderKind; 4] = [
        ProviderKind::Builtin,
        ProviderKind::Openai,
        ProviderKind::Anthropic,
        ProviderKind::Ollama,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ProviderKind::Builtin => "builtin",
            ProviderKind::Openai => "openai",
            ProviderKind::Anthropic => "anthropic",
            ProviderKind::Ollama => "ollama",
        }
    }

    /// The endpoint used when none is configured.
    pub fn default_base_url(self) -> Option<&'static str> {
        match self {
            ProviderKind::Builtin => None,
            ProviderKind::Openai => Some("https://api.openai.com/v1"),
            ProviderKind::Anthropic => Some("https://api.anthropic.com"),
            ProviderKind::Ollama => Some("http://127.0.0.1:11434/v1"),
        }
    }

    /// The variable that holds the key when none is configured; Ollama needs no key.
    pub fn default_api_key_env(self) -> Option<&'static str> {
        match self {
            ProviderKind::Openai => Some("OPENAI_API_KEY"),
            ProviderKind::Anthropic => Some("ANTHROPIC_API_KEY"),
            ProviderKind::Builtin | ProviderKind::Ollama => None,
        }
    }

    fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.as_str() == value)
    }
}

impl fmt::Display for ProviderKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the command line says, before the configuration is resolved. Flags beat everything.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--config FILE`: read this file instead of the user's `config.toml`.
    pub config_file: Option<PathBuf>,
    pub provider: Option<ProviderKind>,
    pub model: Option<String>,
    pub base_url: Option<String>,
    pub api_key_env: Option<String>,
}

/// Why the configuration could not be resolved. Every variant is a usage or configuration error
/// (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}", render_problems(.0))]
    Invalid(Vec<Problem>),
    #[error("cannot read `{}`: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the config file given with `--config` does not exist: `{}`", .0.display())]
    MissingExplicit(PathBuf),
    #[error("{0}")]
    Value(String),
}

fn render_problems(problems: &[Problem]) -> String {
    let mut out = match problems.len() {
        1 => String::from("invalid configuration:"),
        n => format!("invalid configuration ({n} problems):"),
    };
    for problem in problems {
        out.push_str("\n  ");
        out.push_str(&problem.to_string());
    }
    out
}
