//! What reviewers return: typed findings, located in the repository, with their fix when one is
//! known.
//!
//! Owns: `Finding`, `Severity`, `Span`, `Fix` and the fingerprint that identifies a finding
//! across runs.
//! Never: does IO. Findings are plain data that flow from reviewers to refactorers, to the run
//! archive and to the report.

use serde::{Deserialize, Serialize};

use crate::edit::{Replacement, RepoPath};

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// Where in a file: 1-based lines and columns, and the byte range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Span {
    pub line_start: usize,
    pub column_start: usize,
    pub line_end: usize,
    pub column_end: usize,
    pub byte_start: usize,
    pub byte_end: usize,
}

/// One problem a reviewer found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule that found it: `clippy::needless_return`, `rustc::unused_imports`, `rustfmt`.
    pub rule: String,
    /// The group the rule belongs to, when known: `clippy::style`, `rustc::unused`.
    pub group: Option<String>,
    /// The reviewer agent that owns the rule.
    pub agent: String,
    pub path: RepoPath,
    pub span: Span,
    /// The function, method or item that encloses the span, like `Config::load`.
    pub symbol: Option<String>,
    pub severity: Severity,
    pub message: String,
    /// The fix, when the tool that found it offers one it is sure of.
    pub fix: Option<Fix>,
    /// Identifies the finding across runs (see [`fingerprint`]).
    pub fingerprint: String,
}

/// Identifies a finding across runs and across unrelated edits elsewhere in its file: the rule,
/// the path, the enclosing symbol and the text at the span, not its position.
pub fn fingerprint(
    rule: &str,
    path: &RepoPath,
    symbol: Option<&str>,
    text_at_span: &str,
) -> String {
    let parts = [
        rule,
        path.as_str(),
        symbol.unwrap_or(""),
        text_at_span.trim(),
    ];
    let hash = crate::hash::fnv1a_parts(parts.iter().map(|p| p.as_bytes()));
    format!("{hash:016x}")
}

/// A machine-applicable fix: replacements in one file, against the text the finding was made on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Fix {
    /// Exact replacements of byte ranges.
    Replace(Vec<Replacement>),
    /// The whole file formatted by rustfmt; its text is computed when the fix is applied.
    Format,
}

impl Finding {
    /// `path:line` for messages.
    pub fn location(&self) -> String {
        format!("{}:{}", self.path, self.span.line_start)
    }
}
