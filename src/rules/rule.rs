//! One rule file: TOML with the rule's id, its owner agent, severity, message, why, the
//! equivalent compiler or clippy lint, where it applies, the tree-sitter query that finds it
//! (the `@match` capture is what is reported), optional thresholds, and its own examples.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::findings::Severity;

/// A rule as its file says it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    /// Kebab-case, unique in the set: `unwrap-in-lib`.
    pub id: String,
    /// `rust` (the only language rules are written for yet).
    #[serde(default = "rust")]
    pub language: String,
    /// The reviewer agent that owns it.
    pub agent: String,
    pub severity: Severity,
    /// What is wrong, and what to do, in one sentence.
    pub message: String,
    /// Why it matters: shown with `nova rules list --long`, SARIF's help.
    pub why: String,
    /// The compiler or clippy lint that finds the same thing, where there is one.
    #[serde(default)]
    pub lint: Option<String>,
    #[serde(default)]
    pub scope: Scope,
    /// A tree-sitter query; `@match` marks the node reported (else the whole pattern's first
    /// capture). Text predicates (`#eq?`, `#match?`, `#any-of?`) are applied. A rule gives this
    /// or `pattern`.
    #[serde(default)]
    pub query: String,
    /// Rust code with metavariables (`$X.unwrap()`), compiled to `query` (see `rules::pattern`).
    #[serde(default)]
    pub pattern: Option<String>,
    #[serde(default)]
    pub limits: Limits,
    /// The deterministic rewrite, where one is safe by construction.
    #[serde(default)]
    pub fix: Option<FixFile>,
    #[serde(default, rename = "example")]
    pub examples: Vec<Example>,
}

fn rust() -> String {
    String::from("rust")
}

fn yes() -> bool {
    true
}

/// Where a rule applies.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// In test code (`#[cfg(test)]` items, `#[test]` functions, `tests/`, `benches/`).
    #[serde(default = "yes")]
    pub tests: bool,
    /// In binaries and examples (`src/main.rs`, `src/bin/`, `examples/`, `build.rs`), not only in
    /// library code.
    #[serde(default = "yes")]
    pub binaries: bool,
    /// Only in test code.
    #[serde(default)]
    pub only_tests: bool,
    /// Paths (globs) left out.
    #[serde(default)]
    pub skip: Vec<String>,
    /// Only in packages whose `rust-version` is at least this (`"1.81"`), or that declare none:
    /// where the rule's advice needs a newer compiler than the package promises to build with.
    #[serde(default)]
    pub min_rust_version: Option<String>,
}

impl Default for Scope {
    fn default() -> Self {
        Scope {
            tests: true,
            binaries: true,
            only_tests: false,
            skip: Vec::new(),
            min_rust_version: None,
        }
    }
}

/// Thresholds on the matched node.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// It spans at least this many lines.
    #[serde(default)]
    pub min_lines: Option<usize>,
    /// Its body (between its braces) has at least this many lines of code: not blank, not only
    /// a comment (as `clippy::too_many_lines` counts).
    #[serde(default)]
    pub min_code_lines: Option<usize>,
    /// It is the outermost node nested at least this deep, counting itself (every `{ }` block,
    /// `impl`, `trait` and inline `mod` from the top of the file, as `clippy::excessive_nesting`
    /// counts): one finding where nesting goes too deep, not one for each block inside.
    #[serde(default)]
    pub min_depth: Option<usize>,
    /// It has no descendant of these kinds (`macro_invocation` for a test without `assert!`).
    #[serde(default)]
    pub without: Vec<String>,
    /// Nor a macro call of these names (`assert_eq`).
    #[serde(default)]
    pub without_macros: Vec<String>,
    /// Nor a method call of these names (`unwrap`).
    #[serde(default)]
    pub without_methods: Vec<String>,
    /// No comment containing this text (in any case) just above it (or above the statement it
    /// is in), past its attributes: `SAFETY:` over an `unsafe` block, `///` over a public item
    /// (a `#[doc = ...]` attribute counts as one).
    #[serde(default)]
    pub without_comment_above: Option<String>,
    /// Nor a call of a function or method whose name starts with one of these (`assert`, a
    /// test's helper `assert_fixed`).
    #[serde(default)]
    pub without_calls: Vec<String>,
    /// It is not inside a node of one of these kinds (a `sleep` in a polling loop).
    #[serde(default)]
    pub not_inside: Vec<String>,
    /// A later statement of the same block holds a node of one of these kinds (`await_expression`
    /// after a lock is taken).
    #[serde(default)]
    pub followed_by: Vec<String>,
    /// It is inside a node of one of these kinds (`async` functions: `async_block` or a function
    /// with `async`).
    #[serde(default)]
    pub inside: Vec<String>,
    /// It is an `as` cast that can truncate, as far as the code around it says the operand's
    /// type (see `rules::types`): an operand of a type the code does not say is left alone.
    #[serde(default)]
    pub may_truncate: bool,
    /// It is an index that can panic (see `rules::types`): on a slice, a `Vec` or an array (or
    /// what the code does not type), not `[..]`, not an array at constant places; indexing a
    /// string or a map is their `Index` impl's.
    #[serde(default)]
    pub may_panic_index: bool,
    /// It can be reached from outside the crate, as `missing_docs` asks: every module around it
    /// (inline, and the files that declare its file up to the crate root) is `pub` or
    /// re-exported, an inherent `impl` is of a type that is not private, it is not inside a
    /// function, and nothing on the way is `#[doc(hidden)]`.
    #[serde(default)]
    pub exported: bool,
}

/// A rule's fix: new text for some of its query's captures (see `rules::fix`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixFile {
    /// What the fix does, in a few words: "call `unwrap_or_else` with a closure".
    pub summary: String,
    /// Capture name -> regex: no fix is offered where the capture's text matches.
    #[serde(default)]
    pub unless: BTreeMap<String, String>,
    #[serde(rename = "edit")]
    pub edits: Vec<EditFile>,
}

/// One capture's new text: `{name}` is a capture's text, `{name:inner}` without its brackets.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EditFile {
    pub capture: String,
    pub with: String,
}

/// Code the rule must find `matches` times in (at `path`, by default `src/lib.rs`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Example {
    pub matches: usize,
    #[serde(default = "lib_rs")]
    pub path: String,
    pub code: String,
    /// The code once every match's fix is applied (for a rule with a fix).
    #[serde(default)]
    pub fixed: Option<String>,
    /// The `rust-version` the example's package declares.
    #[serde(default)]
    pub rust_version: Option<String>,
}

fn lib_rs() -> String {
    String::from("src/lib.rs")
}
