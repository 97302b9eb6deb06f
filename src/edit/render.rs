//! A patch for people: its unified diff with each hunk naming the symbols it changes, and the
//! public items it changes. Symbols come from the index's tree-sitter tags of each side.

use similar::{ChangeTag, TextDiff};

use super::{FileChange, Patch};
use crate::index::{Def, FileTags, Lang, extract_tags};

/// One line of a rendered diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// `--- a/x` and `+++ b/x`.
    FileHeader(String),
    /// `@@ -1,3 +1,4 @@`, with the symbols the hunk changes.
    HunkHeader {
        range: String,
        symbols: Vec<String>,
    },
    Context(String),
    Removed(String),
    Added(String),
}

/// The diff of `patch`, line by line, with symbols per hunk.
pub fn lines(patch: &Patch) -> Vec<Line> {
    let mut out = Vec::new();
    for change in &patch.changes {
        file_lines(change, &mut out);
    }
    out
}

fn tags(path: &str, text: Option<&str>) -> Option<FileTags> {
    Some(extract_tags(Lang::of(path)?, text?))
}

/// The innermost definitions of `tags` overlapping lines `first..=last` (1-based), qualified by
/// their scope.
fn symbols_in(tags: Option<&FileTags>, first: usize, last: usize, into: &mut Vec<String>) {
    let Some(tags) = tags else { return };
    let overlapping: Vec<&Def> = tags
        .defs
        .iter()
        .filter(|d| (d.line as usize) <= last && (d.end_line as usize) >= first)
        .collect();
    for def in &overlapping {
        // Innermost: no other overlapping definition lies inside this one.
        let inner = overlapping.iter().any(|other| {
            !std::ptr::eq(*other, *def)
                && other.line >= def.line
                && other.end_line <= def.end_line
                && (other.line, other.end_line) != (def.line, def.end_line)
        });
        if inner {
            continue;
        }
        let name = match &def.scope {
            Some(scope) => format!("{scope}::{}", def.name),
            None => def.name.clone(),
        };
        if !into.contains(&name) {
            into.push(name);
        }
    }
}

fn file_lines(change: &FileChange, out: &mut Vec<Line>) {
    let path = change.path.as_str();
    let before = change.before.as_deref().unwrap_or("");
    let after = change.after.as_deref().unwrap_or("");
    out.push(Line::FileHeader(match change.before {
        Some(_) => format!("--- a/{path}"),
        None => String::from("--- /dev/null"),
    }));
    out.push(Line::FileHeader(match change.after {
        Some(_) => format!("+++ b/{path}"),
        None => String::from("+++ /dev/null"),
    }));
    let old_tags = tags(path, change.before.as_deref());
    let new_tags = tags(path, change.after.as_deref());
    let diff = TextDiff::from_lines(before, after);
    for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
        let mut symbols = Vec::new();
        let mut body = Vec::new();
        for op in hunk.ops() {
            let (old, new) = (op.old_range(), op.new_range());
            if op.tag() != similar::DiffTag::Equal {
                if !old.is_empty() {
                    symbols_in(old_tags.as_ref(), old.start + 1, old.end, &mut symbols);
                }
                if !new.is_empty() {
                    symbols_in(new_tags.as_ref(), new.start + 1, new.end, &mut symbols);
                }
            }
        }
        for change in hunk.iter_changes() {
            let text = change.value().trim_end_matches('\n').to_owned();
            body.push(match change.tag() {
                ChangeTag::Equal => Line::Context(text),
                ChangeTag::Delete => Line::Removed(text),
                ChangeTag::Insert => Line::Added(text),
            });
        }
        out.push(Line::HunkHeader {
            range: hunk.header().to_string().trim_end().to_owned(),
            symbols,
        });
        out.extend(body);
    }
}

/// The public items `patch` adds, removes or changes the signature of, as `path: signature`
/// (`-` removed or changed from, `+` added or changed to): what an API check looks at.
pub fn public_changes(patch: &Patch) -> Vec<String> {
    let mut out = Vec::new();
    for change in &patch.changes {
        let path = change.path.as_str();
        let surface = |text: Option<&str>| -> Vec<String> {
            let mut items: Vec<String> = tags(path, text)
                .map(|tags| {
                    tags.defs
                        .into_iter()
                        .filter(|d| d.public)
                        .map(|d| d.signature)
                        .collect()
                })
                .unwrap_or_default();
            items.sort();
            items.dedup();
            items
        };
        let (before, after) = (
            surface(change.before.as_deref()),
            surface(change.after.as_deref()),
        );
        for gone in before.iter().filter(|s| !after.contains(s)) {
            out.push(format!("{path}: - {gone}"));
        }
        for new in after.iter().filter(|s| !before.contains(s)) {
            out.push(format!("{path}: + {new}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::RepoPath;

    const BEFORE: &str = "pub struct Calc;\n\nimpl Calc {\n    pub fn add(&self, a: i32) -> i32 {\n        a + 1\n    }\n\n    fn helper(&self) -> i32 {\n        2\n    }\n}\n\nfn private() {}\n";

    fn patch(after: &str) -> Patch {
        Patch {
            summary: String::from("s"),
            changes: vec![FileChange::modify(
                RepoPath::new("src/lib.rs").expect("path"),
                BEFORE,
                after,
            )],
        }
    }

    #[test]
    fn each_hunk_names_the_innermost_symbols_it_changes() {
        let after = BEFORE.replace("a + 1", "a + 2");
        let headers: Vec<Vec<String>> = lines(&patch(&after))
            .into_iter()
            .filter_map(|line| match line {
                Line::HunkHeader { symbols, .. } => Some(symbols),
                _ => None,
            })
            .collect();
        assert_eq!(headers, [vec![String::from("Calc::add")]]);
    }

    #[test]
    fn public_changes_list_signatures_but_not_bodies_or_private_items() {
        assert!(public_changes(&patch(&BEFORE.replace("a + 1", "a + 2"))).is_empty());
        assert!(
            public_changes(&patch(
                &BEFORE.replace("fn private() {}", "fn private(x: u8) {}")
            ))
            .is_empty()
        );
        let changed = public_changes(&patch(&BEFORE.replace("a: i32) -> i32", "a: i64) -> i64")));
        assert_eq!(
            changed,
            [
                "src/lib.rs: - pub fn add(&self, a: i32) -> i32",
                "src/lib.rs: + pub fn add(&self, a: i64) -> i64"
            ]
        );
    }
}
