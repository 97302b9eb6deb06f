//! Agents are files: the agent file format, pipelines, loading the built-in set and a
//! repository's own, and checking a set as a whole.
//!
//! Owns: parsing and validating `agents/*.md` and `agents/pipelines/*.toml`, and the registry that
//! resolves built-in definitions against a repository's `.nova/agents/`.
//! Also: translating other tools' agent files (Claude Code subagents, Codex custom agents) to and
//! from Nova's, as text.
//! Never: runs an agent, talks to a model or touches a repository's files beyond reading its
//! agent directory.

mod builtin;
mod check;
mod definition;
pub mod foreign;
mod pipeline;
mod registry;

pub use builtin::{REQUIRED_PIPELINES, agent as builtin_agent};
pub use check::check;
pub use definition::{
    AgentDef, Budget, Origin, Output, Role, Scope, TOOLS, ToolInfo, front_matter, parse_agent,
};
pub use pipeline::{Flow, MAX_ATTEMPTS, Mode, Pipeline, Stage, Step, parse_pipeline};
pub use registry::{AgentSet, DOMAINS_DIR, LoadError, REPO_AGENTS_DIR};
