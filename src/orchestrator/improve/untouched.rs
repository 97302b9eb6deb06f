//! Findings no candidate may fix, known before one is made: those in files no change may touch
//! (tests, benches, build scripts: `guard::protected` on the path alone), and those whose
//! machine fix changes test code inside a source file (`#[cfg(test)]` modules, `#[test]`
//! functions), which the guard refuses all the same. They are counted once, not tried one by one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::edit::FileChange;
use crate::findings::{Finding, Fix};
use crate::git::{self, Oid};
use crate::index::attributes::{Attributes, for_file};

/// Why no change may fix `finding`, if none may.
pub(super) fn why(finding: &Finding, tests: &mut TestCode) -> Option<String> {
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
    let (text, attributes) = tests.of(path)?;
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

/// The tip's Rust files as the guard reads them, each parsed for its test code once.
pub(super) struct TestCode {
    root: PathBuf,
    tip: Oid,
    files: BTreeMap<String, Option<(String, Attributes)>>,
}

impl TestCode {
    pub(super) fn at(root: &Path, tip: Oid) -> TestCode {
        TestCode {
            root: root.to_owned(),
            tip,
            files: BTreeMap::new(),
        }
    }

    fn of(&mut self, path: &str) -> Option<(&str, &Attributes)> {
        if !self.files.contains_key(path) {
            let read = |file: &str| -> Option<String> {
                String::from_utf8(git::read_blob(&self.root, self.tip, file).ok()??).ok()
            };
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
