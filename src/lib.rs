//! Nova: a multi-agent code agent for Rust repositories.
//!
//! Small agents, each declared in a file, review a repository, propose changes as diffs, prove
//! each change by building and testing it in a sandbox, and commit only what passed onto a review
//! branch. See `ARCHITECTURE.md` for the map and the invariants.
//!
//! Modules, one concept each:
//! - [`cli`]: the `nova` command line; start reading here to follow a command.
//! - [`config`]: `nova.toml`, the user's config, environment variables, the trust rule.
//! - [`agents`]: the agent file format, pipelines, the registry and its checks.
//! - [`git`]: every call into libgit2.
//! - [`diag`]: problems located by file and line, with "did you mean" hints.

pub mod agents;
pub mod cli;
pub mod config;
pub mod diag;
pub mod git;
