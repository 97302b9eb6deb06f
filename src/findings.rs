//! What reviewers return: typed findings, located in the repository, with their fix when one is
//! known.
//!
//! Owns: `Finding`, `Severity`, `Span`, `RepoPath` and the fingerprint that identifies a finding
//! across runs.
//! Never: does IO. Findings are plain data that flow from reviewers to refactorers, to the run
//! archive and to the report.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::edit::Replacement;

/// A path inside the repository: relative, `/`-separated, never `..` or absolute.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RepoPath(String);

impl RepoPath {
    /// Accepts `path` if it stays inside the repository.
    pub fn new(path: &str) -> Option<Self> {
        let path = path.strip_prefix("./").unwrap_or(path);
        let valid = !path.is_empty()
            && !path.starts_with('/')
            && !path.contains('\\')
            && path
                .split('/')
                .all(|part| !part.is_empty() && part != "." && part != "..");
        valid.then(|| RepoPath(path.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for RepoPath {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        RepoPath::new(&value)
            .ok_or_else(|| format!("`{value}` is not a path inside the repository"))
    }
}

impl From<RepoPath> for String {
    fn from(path: RepoPath) -> Self {
        path.0
    }
}

impl fmt::Display for RepoPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_paths_stay_inside() {
        assert!(RepoPath::new("src/lib.rs").is_some());
        assert_eq!(
            RepoPath::new("./src/lib.rs").map(|p| p.0),
            Some("src/lib.rs".into())
        );
        for bad in [
            "",
            "/etc/passwd",
            "../x",
            "src/../../x",
            "src//lib.rs",
            "a\\b",
        ] {
            assert!(RepoPath::new(bad).is_none(), "{bad}");
        }
    }
}
