//! Carrying fixes made against one version of a file onto a later version.
//!
//! Every fix of a run is computed against the base commit. As accepted changes land, a later fix
//! in the same file must move by the bytes the earlier ones added or removed, and must be dropped
//! if it touches anything they changed.

use std::collections::{BTreeMap, BTreeSet};

use super::Replacement;
use crate::edit::RepoPath;

/// The changes accepted so far, in base coordinates.
#[derive(Debug, Clone, Default)]
pub struct Rebase {
    /// Per file: applied base ranges and how many bytes each added (negative: removed).
    applied: BTreeMap<RepoPath, Vec<(usize, usize, isize)>>,
    /// Files rewritten as a whole (formatted): base offsets mean nothing there any more.
    rewritten: BTreeSet<RepoPath>,
}

impl Rebase {
    /// `replacements` (in base coordinates) moved onto the current file, or `None` when one of
    /// them touches or borders a range an accepted change already rewrote.
    pub fn map(&self, path: &RepoPath, replacements: &[Replacement]) -> Option<Vec<Replacement>> {
        if self.rewritten.contains(path) {
            return None;
        }
        let applied = self.applied.get(path).map(Vec::as_slice).unwrap_or(&[]);
        replacements
            .iter()
            .map(|r| {
                let mut shift: isize = 0;
                for &(start, end, delta) in applied {
                    if r.start <= end && start <= r.end {
                        return None;
                    }
                    if end <= r.start {
                        shift += delta;
                    }
                }
                let start = r.start.checked_add_signed(shift)?;
                let end = r.end.checked_add_signed(shift)?;
                Some(Replacement {
                    start,
                    end,
                    ..r.clone()
                })
            })
            .collect()
    }

    /// Records replacements (in base coordinates) as applied.
    pub fn record(&mut self, path: &RepoPath, replacements: &[Replacement]) {
        let entry = self.applied.entry(path.clone()).or_default();
        for r in replacements {
            let delta = r.text.len() as isize - (r.end - r.start) as isize;
            entry.push((r.start, r.end, delta));
        }
    }

    /// Records that `path` was rewritten as a whole.
    pub fn record_rewrite(&mut self, path: &RepoPath) {
        self.rewritten.insert(path.clone());
    }

    /// Forgets replacements [`Rebase::record`] recorded: the change did not land after all.
    pub fn forget(&mut self, path: &RepoPath, replacements: &[Replacement]) {
        let Some(entry) = self.applied.get_mut(path) else {
            return;
        };
        for r in replacements {
            let delta = r.text.len() as isize - (r.end - r.start) as isize;
            if let Some(at) = entry.iter().position(|&e| e == (r.start, r.end, delta)) {
                entry.remove(at);
            }
        }
    }

    /// Forgets that `path` was rewritten as a whole.
    pub fn forget_rewrite(&mut self, path: &RepoPath) {
        self.rewritten.remove(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::apply_replacements;

    use crate::edit::Replacement as R;

    fn rep(start: usize, end: usize, expected: &str, text: &str) -> Replacement {
        R::new(start, end, expected, text)
    }

    #[test]
    fn later_fixes_move_with_earlier_ones() {
        let path = RepoPath::new("a.rs").expect("path");
        let base = "let a = 1; let b = 2; let c = 3;";
        let first = [rep(4, 5, "a", "alpha")];
        let second = [rep(26, 27, "c", "gamma")];
        let mut rebase = Rebase::default();
        let now = apply_replacements(base, &first).expect("first applies");
        rebase.record(&path, &first);
        let moved = rebase.map(&path, &second).expect("no overlap");
        assert_eq!(
            apply_replacements(&now, &moved).expect("second applies"),
            "let alpha = 1; let b = 2; let gamma = 3;"
        );
    }

    #[test]
    fn fixes_touching_an_accepted_change_are_dropped() {
        let path = RepoPath::new("a.rs").expect("path");
        let mut rebase = Rebase::default();
        rebase.record(&path, &[rep(10, 20, "", "")]);
        assert!(rebase.map(&path, &[rep(15, 25, "", "")]).is_none());
        assert!(
            rebase.map(&path, &[rep(20, 21, "", "")]).is_none(),
            "bordering counts"
        );
        assert!(rebase.map(&path, &[rep(0, 9, "", "")]).is_some());
        rebase.forget(&path, &[rep(10, 20, "", "")]);
        assert!(
            rebase.map(&path, &[rep(15, 25, "", "")]).is_some(),
            "a forgotten change no longer holds its place"
        );
        let other = RepoPath::new("b.rs").expect("path");
        rebase.record_rewrite(&other);
        assert!(rebase.map(&other, &[rep(0, 1, "", "")]).is_none());
    }
}
