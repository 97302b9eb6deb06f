//! Changes made one after another on the same files, kept so that any subset of them can be
//! applied to the files as they were before the first: the candidates `nova improve` proves as one
//! group and, when the group is refused, bisects.
//!
//! Each member's change is stored in the coordinates of the files before the first member (the
//! stack's base), as the smallest replacements that make it, so members that touch different text
//! compose in any combination. A member that touches text an earlier member wrote, or that creates
//! or deletes a file another member touches, does not join.

use std::collections::{BTreeMap, BTreeSet};

use super::{FileChange, Patch, Replacement, RepoPath, apply_replacements, hunks};

/// The members so far, and the files as they were before them.
#[derive(Debug, Clone, Default)]
pub struct Stack {
    /// Each touched file's text before the first member that touched it; `None`: it did not exist.
    base: BTreeMap<RepoPath, Option<String>>,
    /// Each member's edits, per file, in base coordinates.
    members: Vec<BTreeMap<RepoPath, Edit>>,
}

/// One member's edit of one file.
#[derive(Debug, Clone)]
enum Edit {
    Replace(Vec<Replacement>),
    /// The file created, deleted or given whole (only when no other member touches it).
    Whole(Option<String>),
}

/// Why a change cannot join the stack.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StackError {
    #[error("`{0}` does not read as the changes before it left it")]
    Diverged(RepoPath),
    #[error("it touches text of `{0}` that an earlier change of its group wrote")]
    Touches(RepoPath),
}

impl Stack {
    /// How many members the stack holds.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Adds `patch`, made on the files as every member so far left them; its member number.
    pub fn push(&mut self, patch: &Patch) -> Result<usize, StackError> {
        let all: BTreeSet<usize> = (0..self.members.len()).collect();
        let mut edits = BTreeMap::new();
        for change in &patch.changes {
            let path = &change.path;
            let current = self.text(path, &all);
            let known = self.base.contains_key(path);
            if known && current != change.before {
                return Err(StackError::Diverged(path.clone()));
            }
            let earlier: Vec<&Edit> = self.members.iter().filter_map(|m| m.get(path)).collect();
            let edit = match (&change.before, &change.after) {
                (Some(before), Some(after)) if !earlier.iter().any(|e| is_whole(e)) => {
                    let base = match self.base.get(path) {
                        Some(Some(base)) => base.as_str(),
                        Some(None) => return Err(StackError::Touches(path.clone())),
                        None => before.as_str(),
                    };
                    let applied: Vec<&Replacement> = earlier
                        .iter()
                        .flat_map(|e| match e {
                            Edit::Replace(r) => r.iter(),
                            Edit::Whole(_) => [].iter(),
                        })
                        .collect();
                    let mut moved = Vec::new();
                    for r in smallest_replacements(before, after) {
                        let r = unmap(base, &applied, r)
                            .ok_or_else(|| StackError::Touches(path.clone()))?;
                        moved.push(r);
                    }
                    Edit::Replace(moved)
                }
                _ if earlier.is_empty() => Edit::Whole(change.after.clone()),
                _ => return Err(StackError::Touches(path.clone())),
            };
            edits.insert(path.clone(), edit);
        }
        for change in &patch.changes {
            self.base
                .entry(change.path.clone())
                .or_insert_with(|| change.before.clone());
        }
        self.members.push(edits);
        Ok(self.members.len() - 1)
    }

    /// The patch that takes the files from members `from` applied to members `from` and `add`
    /// applied (only the files `add` touches), with `summary`.
    pub fn patch(&self, summary: &str, from: &BTreeSet<usize>, add: &BTreeSet<usize>) -> Patch {
        let both: BTreeSet<usize> = from.union(add).copied().collect();
        let paths: BTreeSet<&RepoPath> = add
            .iter()
            .filter_map(|&m| self.members.get(m))
            .flat_map(|edits| edits.keys())
            .collect();
        let changes = paths
            .into_iter()
            .filter_map(|path| {
                let before = self.text(path, from);
                let after = self.text(path, &both);
                (before != after).then(|| FileChange {
                    path: path.clone(),
                    before,
                    after,
                })
            })
            .collect();
        Patch {
            summary: summary.to_owned(),
            changes,
        }
    }

    /// Whether member `member` changes `path`.
    pub fn touches(&self, member: usize, path: &RepoPath) -> bool {
        self.members
            .get(member)
            .is_some_and(|m| m.contains_key(path))
    }

    /// Which of members `ids` wrote text on line `line` (1-based) of `path` as they leave it: the
    /// member a compile error there points at. `None` when none of them did (the line is the
    /// base's own, or another member's outside `ids`).
    pub fn blame(&self, ids: &BTreeSet<usize>, path: &RepoPath, line: usize) -> Option<usize> {
        let mut edits: Vec<(usize, &Replacement)> = Vec::new();
        for &id in ids {
            match self.members.get(id).and_then(|m| m.get(path)) {
                Some(Edit::Whole(_)) => return Some(id),
                Some(Edit::Replace(replacements)) => {
                    edits.extend(replacements.iter().map(|r| (id, r)));
                }
                None => {}
            }
        }
        edits.sort_by_key(|(_, r)| (r.start, r.end));
        let text = self.text(path, ids)?;
        let starts = line_starts(&text);
        let (from, to) = (*starts.get(line.checked_sub(1)?)?, *starts.get(line)?);
        // Each edit's place in the text as the members leave it: moved by the edits before it.
        let mut shift: isize = 0;
        for (id, r) in edits {
            let start = r.start.checked_add_signed(shift)?;
            let end = start + r.text.len();
            // An edit that wrote on the line, or took text out at a place on it.
            if start < to && (end > from || (r.text.is_empty() && start >= from)) {
                return Some(id);
            }
            shift += r.text.len() as isize - (r.end - r.start) as isize;
        }
        None
    }

    /// `path`'s text with members `ids` applied; `None` when it does not exist then.
    fn text(&self, path: &RepoPath, ids: &BTreeSet<usize>) -> Option<String> {
        let base = self.base.get(path)?;
        let mut replacements = Vec::new();
        for id in ids {
            match self.members.get(*id).and_then(|m| m.get(path)) {
                Some(Edit::Whole(text)) => return text.clone(),
                Some(Edit::Replace(r)) => replacements.extend(r.iter().cloned()),
                None => {}
            }
        }
        let base = base.as_deref()?;
        // Members are disjoint by construction (`push` refuses the rest), so this applies.
        apply_replacements(base, &replacements).ok()
    }
}

fn is_whole(edit: &Edit) -> bool {
    matches!(edit, Edit::Whole(_))
}

/// The change from `before` to `after` as replacements on `before`: one per changed run of
/// lines, cut down to the bytes that differ, so that two changes on one line stay apart.
fn smallest_replacements(before: &str, after: &str) -> Vec<Replacement> {
    let old_starts = line_starts(before);
    let new_starts = line_starts(after);
    hunks(before, after)
        .into_iter()
        .map(|(old, new)| {
            let (mut start, mut end) = (old_starts[old.start], old_starts[old.end]);
            let (mut new_start, mut new_end) = (new_starts[new.start], new_starts[new.end]);
            let common_prefix = common_prefix(&before[start..end], &after[new_start..new_end]);
            start += common_prefix;
            new_start += common_prefix;
            let common_suffix = common_suffix(&before[start..end], &after[new_start..new_end]);
            end -= common_suffix;
            new_end -= common_suffix;
            Replacement::new(start, end, &before[start..end], &after[new_start..new_end])
        })
        .collect()
}

/// The byte offset where each line starts, and the text's length at the end.
fn line_starts(text: &str) -> Vec<usize> {
    let mut starts = vec![0];
    starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    if starts.last() != Some(&text.len()) {
        starts.push(text.len());
    }
    starts
}

/// The bytes of the longest common prefix, on a character boundary.
fn common_prefix(a: &str, b: &str) -> usize {
    a.char_indices()
        .zip(b.chars())
        .find(|((_, x), y)| x != y)
        .map_or(a.len().min(b.len()), |((i, _), _)| i)
}

/// The bytes of the longest common suffix, on a character boundary.
fn common_suffix(a: &str, b: &str) -> usize {
    a.chars()
        .rev()
        .zip(b.chars().rev())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x.len_utf8())
        .sum()
}

/// `r`, made on `base` with `applied` (in base coordinates) applied, moved back onto `base`; `None`
/// when it touches or borders text one of them wrote.
fn unmap(base: &str, applied: &[&Replacement], r: Replacement) -> Option<Replacement> {
    let mut sorted = applied.to_vec();
    sorted.sort_by_key(|a| (a.start, a.end));
    let mut shift: isize = 0;
    for a in sorted {
        let written_start = a.start.checked_add_signed(shift)?;
        let written_end = written_start + a.text.len();
        if r.start <= written_end && written_start <= r.end {
            return None;
        }
        if written_end <= r.start {
            shift += a.text.len() as isize - (a.end - a.start) as isize;
        }
    }
    let start = r.start.checked_add_signed(-shift)?;
    let end = r.end.checked_add_signed(-shift)?;
    let expected = base.get(start..end)?;
    (expected == r.expected).then(|| Replacement::new(start, end, expected, r.text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(name: &str) -> RepoPath {
        RepoPath::new(name).expect("path")
    }

    fn modify(name: &str, before: &str, after: &str) -> Patch {
        Patch {
            summary: String::new(),
            changes: vec![FileChange::modify(path(name), before, after)],
        }
    }

    fn set(ids: &[usize]) -> BTreeSet<usize> {
        ids.iter().copied().collect()
    }

    /// The file `name` after members `ids`.
    fn after(stack: &Stack, name: &str, ids: &[usize]) -> Option<String> {
        stack.text(&path(name), &set(ids))
    }

    const BASE: &str = "fn a() {\n    return 1;\n}\n\nfn b() {\n    return 2;\n}\n";

    #[test]
    fn any_subset_of_disjoint_changes_applies_to_the_base() {
        let mut stack = Stack::default();
        let one = BASE.replace("return 1;", "1");
        let both = one.replace("return 2;", "2");
        stack.push(&modify("a.rs", BASE, &one)).expect("first");
        stack.push(&modify("a.rs", &one, &both)).expect("second");
        let other = modify("b.rs", "x\n", "y\n");
        stack.push(&other).expect("another file");
        assert_eq!(
            after(&stack, "a.rs", &[0, 1]).as_deref(),
            Some(both.as_str())
        );
        assert_eq!(after(&stack, "a.rs", &[0]).as_deref(), Some(one.as_str()));
        assert_eq!(
            after(&stack, "a.rs", &[1]).as_deref(),
            Some(BASE.replace("return 2;", "2").as_str()),
            "the second change alone, moved back onto the base"
        );
        assert_eq!(after(&stack, "a.rs", &[]).as_deref(), Some(BASE));

        // From the first member landed, the rest: the patch's before is the file as it landed.
        let rest = stack.patch("rest", &set(&[0]), &set(&[1, 2]));
        let changes: Vec<(&str, Option<&str>, Option<&str>)> = rest
            .changes
            .iter()
            .map(|c| (c.path.as_str(), c.before.as_deref(), c.after.as_deref()))
            .collect();
        assert_eq!(
            changes,
            [
                ("a.rs", Some(one.as_str()), Some(both.as_str())),
                ("b.rs", Some("x\n"), Some("y\n")),
            ]
        );
        assert!(
            stack
                .patch("", &set(&[0, 1]), &set(&[0]))
                .changes
                .is_empty(),
            "nothing left to add"
        );
    }

    #[test]
    fn a_line_is_blamed_on_the_member_that_wrote_it() {
        let one = BASE.replace("    return 1;\n", "    1\n    // one\n");
        let both = one.replace("return 2;", "2");
        let mut stack = Stack::default();
        stack.push(&modify("a.rs", BASE, &one)).expect("first");
        stack.push(&modify("a.rs", &one, &both)).expect("second");
        stack
            .push(&modify("b.rs", "x\ny\n", "y\n"))
            .expect("a line taken out");
        let a = path("a.rs");
        let all = set(&[0, 1, 2]);
        // `both`: fn a() {, 1, // one, }, (blank), fn b() {, 2, }
        assert_eq!(stack.blame(&all, &a, 2), Some(0));
        assert_eq!(stack.blame(&all, &a, 3), Some(0), "a line it added");
        assert_eq!(stack.blame(&all, &a, 7), Some(1), "moved down by the first");
        assert_eq!(stack.blame(&all, &a, 1), None, "the base's own line");
        assert_eq!(stack.blame(&all, &a, 6), None);
        assert_eq!(
            stack.blame(&set(&[1]), &a, 6),
            Some(1),
            "without the first, one line up"
        );
        assert_eq!(
            stack.blame(&set(&[0]), &a, 7),
            None,
            "the second not among them"
        );
        assert_eq!(stack.blame(&all, &a, 99), None, "past the end");
        assert_eq!(stack.blame(&all, &a, 0), None);
        assert_eq!(
            stack.blame(&all, &path("b.rs"), 1),
            Some(2),
            "text taken out"
        );
    }

    #[test]
    fn two_changes_on_one_line_stay_apart() {
        let base = "let v = f(&a, &b);\n";
        let one = "let v = f(a, &b);\n";
        let both = "let v = f(a, b);\n";
        let mut stack = Stack::default();
        stack.push(&modify("a.rs", base, one)).expect("first");
        stack.push(&modify("a.rs", one, both)).expect("second");
        assert_eq!(
            after(&stack, "a.rs", &[1]).as_deref(),
            Some("let v = f(&a, b);\n")
        );
    }

    #[test]
    fn a_change_to_text_an_earlier_one_wrote_does_not_join() {
        let mut stack = Stack::default();
        stack
            .push(&modify("a.rs", "x = 1;\n", "x = 22;\n"))
            .expect("first");
        assert_eq!(
            stack.push(&modify("a.rs", "x = 22;\n", "x = 23;\n")),
            Err(StackError::Touches(path("a.rs")))
        );
        assert_eq!(
            stack.push(&modify("a.rs", "x = 1;\n", "y = 1;\n")),
            Err(StackError::Diverged(path("a.rs"))),
            "made on the file before the first change"
        );
        assert_eq!(stack.len(), 1, "refused changes leave no trace");
    }

    #[test]
    fn created_files_and_whole_rewrites_stand_alone() {
        let mut stack = Stack::default();
        let created = Patch {
            summary: String::new(),
            changes: vec![FileChange {
                path: path("new.rs"),
                before: None,
                after: Some("fn n() {}\n".into()),
            }],
        };
        stack.push(&created).expect("a new file");
        assert_eq!(
            stack.push(&modify("new.rs", "fn n() {}\n", "fn m() {}\n")),
            Err(StackError::Touches(path("new.rs")))
        );
        assert_eq!(after(&stack, "new.rs", &[]), None);
        assert_eq!(
            after(&stack, "new.rs", &[0]).as_deref(),
            Some("fn n() {}\n")
        );
        let undo = stack.patch("", &set(&[0]), &set(&[0]));
        assert!(undo.changes.is_empty());
        let create = stack.patch("", &set(&[]), &set(&[0]));
        assert_eq!(create.changes, created.changes);
    }

    /// Members that each rewrite, delete or add after their own line, far enough apart not to
    /// border: every subset gives what applying just those edits to the base gives.
    #[test]
    fn every_subset_matches_the_edits_applied_alone() {
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move |n: u64| {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (seed >> 33) % n
        };
        for _ in 0..40 {
            let lines: Vec<String> = (0..30).map(|i| format!("line {i};")).collect();
            let edit = |line: &str, op: u64, k: usize| match op {
                0 => format!("changed {k};\n"),
                1 => String::new(),
                _ => format!("{line}\nadded {k};\n"),
            };
            let render = |ops: &BTreeMap<usize, (u64, usize)>| -> String {
                let mut text = String::new();
                for (i, line) in lines.iter().enumerate() {
                    match ops.get(&i) {
                        Some(&(op, k)) => text.push_str(&edit(line, op, k)),
                        None => text.push_str(&format!("{line}\n")),
                    }
                }
                text
            };
            let mut ops: Vec<(usize, (u64, usize))> = Vec::new();
            for k in 0..6 {
                let at = 3 * next(10) as usize;
                if ops.iter().all(|(line, _)| *line != at) {
                    ops.push((at, (next(3), k)));
                }
            }
            let mut stack = Stack::default();
            let mut applied = BTreeMap::new();
            for &(line, op) in &ops {
                let before = render(&applied);
                applied.insert(line, op);
                stack
                    .push(&modify("a.rs", &before, &render(&applied)))
                    .expect("lines apart never touch");
            }
            for mask in 0..(1u32 << ops.len()) {
                let ids: Vec<usize> = (0..ops.len()).filter(|i| mask & (1 << i) != 0).collect();
                let alone: BTreeMap<usize, (u64, usize)> = ids.iter().map(|&i| ops[i]).collect();
                assert_eq!(
                    after(&stack, "a.rs", &ids),
                    Some(render(&alone)),
                    "{ops:?} {ids:?}"
                );
            }
        }
    }

    #[test]
    fn insertions_and_multibyte_text() {
        let base = "é = 1;\nb = 2;\n";
        let one = "é = 1;\nc = 3;\nb = 2;\n";
        let both = "é = 1;\nc = 3;\nb = 2;\nd = 4;\n";
        let mut stack = Stack::default();
        stack.push(&modify("a.rs", base, one)).expect("insert");
        stack.push(&modify("a.rs", one, both)).expect("append");
        assert_eq!(
            after(&stack, "a.rs", &[1]).as_deref(),
            Some("é = 1;\nb = 2;\nd = 4;\n")
        );
        assert_eq!(common_prefix("éa", "éb"), 2);
        assert_eq!(common_prefix("ab", "ab"), 2);
        assert_eq!(common_suffix("aé", "bé"), 2);
    }
}
