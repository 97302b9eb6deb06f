//! Edits: replacements, patches, applying them all-or-nothing, and rendering them as diffs.
//!
//! Owns: `Replacement`, `Patch`, `FileChange`, the rebasing of replacements made against one
//! version of a file onto a later one, stacks of changes any subset of which applies, the guards
//! on paths, and diff rendering with `similar`.
//! Never: does IO beyond the text it is given. Writing files is the caller's job.

pub mod apply;
pub mod guard;
mod path;
mod rebase;
mod render;
pub mod reply;
mod stack;

pub use path::RepoPath;
pub use rebase::Rebase;
pub use render::{Line, lines, public_changes};
pub use stack::{Stack, StackError};

use std::ops::Range;

use serde::{Deserialize, Serialize};

/// Replace the bytes `start..end` of a file, which must read `expected`, with `text`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Replacement {
    pub start: usize,
    pub end: usize,
    pub expected: String,
    pub text: String,
}

impl Replacement {
    pub fn new(
        start: usize,
        end: usize,
        expected: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        Replacement {
            start,
            end,
            expected: expected.into(),
            text: text.into(),
        }
    }
}

/// Why an edit cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error("replacements overlap at bytes {0}..{1}")]
    Overlap(usize, usize),
    #[error(
        "bytes {start}..{end} no longer read `{expected}`; the file changed since the fix was made"
    )]
    Mismatch {
        start: usize,
        end: usize,
        expected: String,
    },
    #[error("bytes {0}..{1} are outside the file or split a character")]
    OutOfBounds(usize, usize),
    #[error("`{0}` changed since the patch was made")]
    Stale(RepoPath),
}

/// Applies `replacements` to `text`, all or nothing. Overlapping replacements are an error: they
/// are never combined.
pub fn apply_replacements(text: &str, replacements: &[Replacement]) -> Result<String, EditError> {
    let mut sorted: Vec<&Replacement> = replacements.iter().collect();
    sorted.sort_by_key(|r| (r.start, r.end));
    for pair in sorted.windows(2) {
        let (a, b) = (pair[0], pair[1]);
        // Two insertions at one point, or a range that runs into the next, cannot both apply.
        if b.start < a.end || (a.start == a.end && b.start == b.end && a.start == b.start) {
            return Err(EditError::Overlap(b.start, a.end.max(b.end)));
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut cursor = 0;
    for r in sorted {
        let current = text
            .get(r.start..r.end)
            .ok_or(EditError::OutOfBounds(r.start, r.end))?;
        if current != r.expected {
            return Err(EditError::Mismatch {
                start: r.start,
                end: r.end,
                expected: r.expected.clone(),
            });
        }
        out.push_str(&text[cursor..r.start]);
        out.push_str(&r.text);
        cursor = r.end;
    }
    out.push_str(&text[cursor..]);
    Ok(out)
}

/// One file's text before and after a change; `None` when the file does not exist (it is
/// created, or deleted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileChange {
    pub path: RepoPath,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl FileChange {
    /// A change to a file that exists before and after.
    pub fn modify(path: RepoPath, before: impl Into<String>, after: impl Into<String>) -> Self {
        FileChange {
            path,
            before: Some(before.into()),
            after: Some(after.into()),
        }
    }

    /// The change that undoes this one.
    pub fn reversed(&self) -> Self {
        FileChange {
            path: self.path.clone(),
            before: self.after.clone(),
            after: self.before.clone(),
        }
    }

    fn texts(&self) -> (&str, &str) {
        (
            self.before.as_deref().unwrap_or(""),
            self.after.as_deref().unwrap_or(""),
        )
    }
}

/// A proposed change: whole new contents for one or more files, with the contents they must have
/// for the change to apply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Patch {
    /// One line: what the change does.
    pub summary: String,
    pub changes: Vec<FileChange>,
}

impl Patch {
    /// The patch that undoes this one.
    pub fn reversed(&self) -> Patch {
        Patch {
            summary: String::new(),
            changes: self.changes.iter().map(FileChange::reversed).collect(),
        }
    }

    /// The unified diff of the whole patch, paths prefixed `a/` and `b/` as git does.
    pub fn diff(&self) -> String {
        let mut out = String::new();
        for change in &self.changes {
            let path = change.path.as_str();
            let (before, after) = change.texts();
            let old = match change.before {
                Some(_) => format!("a/{path}"),
                None => String::from("/dev/null"),
            };
            let new = match change.after {
                Some(_) => format!("b/{path}"),
                None => String::from("/dev/null"),
            };
            let diff = similar::TextDiff::from_lines(before, after);
            let body = diff
                .unified_diff()
                .context_radius(3)
                .header(&old, &new)
                .to_string();
            out.push_str(&body);
        }
        out
    }

    /// Lines added and removed, for reports.
    pub fn stats(&self) -> (usize, usize) {
        let mut added = 0;
        let mut removed = 0;
        for change in &self.changes {
            let (before, after) = change.texts();
            let diff = similar::TextDiff::from_lines(before, after);
            for op in diff.iter_all_changes() {
                match op.tag() {
                    similar::ChangeTag::Insert => added += 1,
                    similar::ChangeTag::Delete => removed += 1,
                    similar::ChangeTag::Equal => {}
                }
            }
        }
        (added, removed)
    }
}

/// The hunks of the change from `before` to `after`: for each, the 0-based, end-exclusive line
/// ranges it replaces in `before` and puts in `after` (an insertion replaces an empty range).
pub fn hunks(before: &str, after: &str) -> Vec<(Range<usize>, Range<usize>)> {
    let diff = similar::TextDiff::from_lines(before, after);
    diff.ops()
        .iter()
        .filter(|op| op.tag() != similar::DiffTag::Equal)
        .map(|op| (op.old_range(), op.new_range()))
        .collect()
}

/// The lines each hunk of the change from `before` to `after` removes (in `before`) and adds (in
/// `after`), 1-based; `None` on a side that has no lines (a pure insertion or deletion).
pub fn changed_lines(before: &str, after: &str) -> Vec<(Option<LineRange>, Option<LineRange>)> {
    let lines = |range: Range<usize>| (!range.is_empty()).then(|| range.start + 1..=range.end);
    hunks(before, after)
        .into_iter()
        .map(|(old, new)| (lines(old), lines(new)))
        .collect()
}

/// 1-based lines, both ends included.
pub type LineRange = std::ops::RangeInclusive<usize>;

#[cfg(test)]
mod tests {
    use super::*;

    fn rep(start: usize, end: usize, expected: &str, text: &str) -> Replacement {
        Replacement::new(start, end, expected, text)
    }

    #[track_caller]
    fn check(text: &str, replacements: &[Replacement], expected: Result<&str, EditError>) {
        let got = apply_replacements(text, replacements);
        assert_eq!(got.as_deref().map_err(Clone::clone), expected);
    }

    #[test]
    fn applies_in_any_order() {
        let text = "return a + b;";
        check(
            text,
            &[rep(12, 13, ";", ""), rep(0, 12, "return a + b", "a + b")],
            Ok("a + b"),
        );
    }

    #[test]
    fn refuses_overlap_and_stale_text() {
        check(
            "abcdef",
            &[rep(0, 3, "abc", "x"), rep(2, 4, "cd", "y")],
            Err(EditError::Overlap(2, 4)),
        );
        check(
            "abcdef",
            &[rep(1, 1, "", "x"), rep(1, 1, "", "y")],
            Err(EditError::Overlap(1, 1)),
        );
        let stale = EditError::Mismatch {
            start: 0,
            end: 3,
            expected: "xyz".into(),
        };
        check("abcdef", &[rep(0, 3, "xyz", "q")], Err(stale));
        check(
            "abc",
            &[rep(2, 9, "c", "q")],
            Err(EditError::OutOfBounds(2, 9)),
        );
        check(
            "é",
            &[rep(1, 2, "", "q")],
            Err(EditError::OutOfBounds(1, 2)),
        );
    }

    #[test]
    fn diff_has_git_headers() {
        let patch = Patch {
            summary: "s".into(),
            changes: vec![FileChange::modify(
                RepoPath::new("src/lib.rs").expect("path"),
                "a\nb\n",
                "a\nc\n",
            )],
        };
        let diff = patch.diff();
        assert!(
            diff.starts_with("--- a/src/lib.rs\n+++ b/src/lib.rs\n"),
            "{diff}"
        );
        assert!(diff.contains("-b\n+c\n"), "{diff}");
        assert_eq!(patch.stats(), (1, 1));
    }
}
