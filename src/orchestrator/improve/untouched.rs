//! Findings no candidate may fix, known before one is made: those in files no change may touch
//! (tests, benches, build scripts: `guard::protected` on the path alone), and those whose
//! machine fix changes test code inside a source file (`#[cfg(test)]` modules, `#[test]`
//! functions), which the guard refuses all the same. They are counted once, not tried one by one.

use std::collections::BTreeMap;

use crate::edit::{FileChange, RepoPath};
use crate::findings::{Finding, Fix};
use crate::index::attributes::{Attributes, for_file};
use crate::validate::Workspace;

/// Why no change may fix `finding`, if none may.
pub(super) fn why(finding: &Finding, tests: &mut TestCode<'_>) -> Option<String> {
    let whole = FileChange {
        path: finding.path.clone(),
        before: None,
        after: None,
    };
    if let Some(why) = crate::edit::guard::protected(&whole) {
        return Some(why.to_owned());
    }
    let Some(Fix::Replace(edits)) = &finding.fix else {
        return None;
    };
    let path = finding.path.as_str();
    let (text, attributes) = tests.file(path)?;
    let line = |byte: usize| {
        text.get(..byte)
            .map_or(1, |before| before.matches('\n').count() + 1)
    };
    edits
        .iter()
        .any(|edit| {
            attributes.touches_test(&(line(edit.start)..=line(edit.end.max(edit.start + 1) - 1)))
        })
        .then(|| {
            String::from(
                "its fix changes test code: test items (`#[cfg(test)]` modules, `#[test]` \
                 functions) judge every change, so Nova does not change them",
            )
        })
}

/// The tip's Rust files, as the worktree that holds the tip has them, each parsed for its test
/// code once.
pub(super) struct TestCode<'a> {
    tip: &'a Workspace,
    files: BTreeMap<String, Option<(String, Attributes)>>,
}

impl<'a> TestCode<'a> {
    pub(super) fn of(tip: &'a Workspace) -> TestCode<'a> {
        TestCode {
            tip,
            files: BTreeMap::new(),
        }
    }

    fn file(&mut self, path: &str) -> Option<(&str, &Attributes)> {
        if !self.files.contains_key(path) {
            let read = |file: &str| RepoPath::new(file).and_then(|file| self.tip.read(&file));
            let parsed = read(path).and_then(|text| {
                let attributes = for_file(path, &text, &read)?;
                Some((text, attributes))
            });
            self.files.insert(path.to_owned(), parsed);
        }
        self.files
            .get(path)?
            .as_ref()
            .map(|(text, attributes)| (text.as_str(), attributes))
    }
}
