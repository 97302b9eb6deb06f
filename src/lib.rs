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
//! - [`domains`]: agents that own a part of the repository: the parts, their agent files
//!   (`nova agents scaffold`), owners, crossing uses, routing a task to its part.
//! - [`orchestrator`]: runs pipelines; `improve`, `apply` and `ask` end to end.
//! - [`evolve`]: task sets with hidden checks for `nova bench`, and what judges self-improvement.
//! - [`llm`]: language models over HTTP: OpenAI-compatible and Anthropic, streamed, retried,
//!   recorded and replayed.
//! - [`engine`]: the builtin brain: findings from rustc, clippy and rustfmt, and their fixes.
//! - [`rules`]: rule packs as data (tree-sitter queries with scope, thresholds and examples) and
//!   matching them.
//! - [`tools`]: what an agent may call (read, list, search, map, symbols, propose an edit,
//!   finish), each call checked against the agent's tools and scope.
//! - [`validate`]: the validation worktree; cargo build, test and clippy through `nova-sandbox`.
//! - [`edit`]: replacements and patches, applied all-or-nothing, rendered as diffs.
//! - [`findings`]: `Finding` and the types it is made of.
//! - [`git`]: every call into libgit2: worktrees, commits built in memory, branches.
//! - [`store`]: the run archive (SQLite under `.nova/`).
//! - [`state`]: the `.nova/` directory and the `.gitignore` that hides it.
//! - [`index`]: tree-sitter tags, the reference graph, ranking, the repo map, and its cache.
//! - [`diag`]: problems located by file and line, with "did you mean" hints.
//! - [`hash`]: a stable hash for cache keys and fingerprints.
//! - [`hooks`]: the user's commands on agent events (`[[hooks]]`): they may block, never approve.

// The only unsafe code of the workspace lives in `nova-sandbox`.
#![forbid(unsafe_code)]

pub mod agents;
pub mod cachefile;
pub mod cli;
pub mod config;
pub mod diag;
pub mod domains;
pub mod edit;
pub mod engine;
pub mod evolve;
pub mod findings;
pub mod forge;
pub mod git;
pub mod hash;
pub mod hooks;
pub mod index;
pub mod llm;
pub mod mcp;
pub mod orchestrator;
pub mod rules;
pub mod state;
pub mod store;
pub mod tools;
pub mod validate;
