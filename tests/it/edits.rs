//! Replies applied to trees: every fixture in `tests/fixtures/edits/NNN_name/` holds an `input/`
//! tree, a `reply`, and either the `expected/` tree or an `error` the reply must fail with
//! (nothing applied). Trees are compared whole.

use std::collections::BTreeMap;
use std::path::Path;

use nova::edit::{Patch, apply, guard, reply};

use crate::common::{Rng, files_under, source_root};

/// Every file under `dir`, keyed by its path relative to `dir`, with `/` separators.
fn tree(dir: &Path) -> BTreeMap<String, String> {
    files_under(dir, &[])
        .into_iter()
        .map(|(path, bytes)| {
            let key = path.to_string_lossy().replace('\\', "/");
            (key, String::from_utf8(bytes).expect("utf-8 fixture"))
        })
        .collect()
}

/// The first leading part of `path` under `root` that is a symbolic link on disk.
fn symlink_on_path(root: &Path, path: &str) -> Option<String> {
    let mut current = root.to_owned();
    let mut walked = Vec::new();
    for part in path.split('/') {
        current.push(part);
        walked.push(part);
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => return Some(walked.join("/")),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    None
}

/// The tree after applying `reply` to `input` (whose files are under `root`), or the error: from
/// parsing, applying, or the guards.
fn run(
    root: &Path,
    input: &BTreeMap<String, String>,
    text: &str,
) -> Result<BTreeMap<String, String>, String> {
    let edits = reply::parse(text).map_err(|error| error.to_string())?;
    let changes = apply::apply(&edits, &|path| input.get(path).cloned())
        .map_err(|error| error.to_string())?;
    let patch = Patch {
        summary: String::new(),
        changes,
    };
    // A person's reply, as `nova apply` guards it; links are looked up in the fixture's tree.
    let links = |path: &str| symlink_on_path(root, path);
    let read = |path: &str| input.get(path).cloned();
    let policy = guard::Policy {
        scope: None,
        may_silence: true,
        may_add_dependencies: true,
        may_change_api: true,
        rewrite: false,
        read: &read,
        symlink: &links,
    };
    let rejections = guard::review(&patch, &policy);
    if !rejections.is_empty() {
        let all: Vec<String> = rejections
            .iter()
            .map(|r| format!("{} ({:?}): {}", r.path, r.rule, r.message))
            .collect();
        return Err(all.join("\n"));
    }
    let mut out = input.clone();
    for change in patch.changes {
        let path = change.path.to_string();
        match change.after {
            Some(text) => out.insert(path, text),
            None => out.remove(&path),
        };
    }
    Ok(out)
}

#[test]
fn every_fixture_gives_its_expected_tree_or_error() {
    let root = source_root().join("tests/fixtures/edits");
    let mut cases: Vec<_> = std::fs::read_dir(&root)
        .expect("fixtures")
        .map(|entry| entry.expect("entry").path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 16, "{} fixtures", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let name = case
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let input = tree(&case.join("input"));
        let text = std::fs::read_to_string(case.join("reply")).expect("reply");
        let outcome = run(&case.join("input"), &input, &text);
        let error = std::fs::read_to_string(case.join("error")).ok();
        match (outcome, error) {
            (Ok(after), None) => {
                let expected = tree(&case.join("expected"));
                if after != expected {
                    failures.push(format!("{name}: got {after:#?}\nexpected {expected:#?}"));
                }
            }
            (Err(got), Some(wanted)) => {
                if !got.contains(wanted.trim_end()) {
                    failures.push(format!(
                        "{name}: error `{got}`, expected `{}`",
                        wanted.trim_end()
                    ));
                }
            }
            (Ok(after), Some(wanted)) => {
                failures.push(format!(
                    "{name}: applied ({after:#?}), expected the error `{wanted}`"
                ));
            }
            (Err(got), None) => failures.push(format!("{name}: failed: {got}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// What the fuzz targets in `fuzz/` check, on seeded mutations of every fixture's reply (so that
/// the stable test suite covers them too): parsing and applying never panic, and a reply that
/// applies changes only files it names.
#[test]
fn mutated_replies_never_panic_and_touch_only_named_files() {
    let root = source_root().join("tests/fixtures/edits");
    let mut fixtures: Vec<(BTreeMap<String, String>, String)> = std::fs::read_dir(&root)
        .expect("fixtures")
        .map(|entry| {
            let case = entry.expect("entry").path();
            let input = tree(&case.join("input"));
            let reply = std::fs::read_to_string(case.join("reply")).expect("reply");
            (input, reply)
        })
        .collect();
    fixtures.sort();
    let mut rng = Rng(0x1234_5678_9ABC_DEF1);
    for round in 0..3000 {
        let (input, reply) = &fixtures[rng.below(fixtures.len())];
        let mut lines: Vec<String> = reply.split('\n').map(str::to_owned).collect();
        for _ in 0..=rng.below(4) {
            let at = rng.below(lines.len());
            match rng.below(5) {
                0 => {
                    lines.remove(at);
                }
                1 => {
                    let copy = lines[rng.below(lines.len())].clone();
                    lines.insert(at, copy);
                }
                2 => lines[at] = lines[at].chars().rev().collect(),
                3 => {
                    let cut = lines[at].char_indices().nth(rng.below(lines[at].len() + 1));
                    if let Some((index, _)) = cut {
                        lines[at].truncate(index);
                    }
                }
                _ => lines.insert(
                    at,
                    String::from(
                        ["```", "=======", "@@", "*** End Patch", "--- a/x"][rng.below(5)],
                    ),
                ),
            }
            if lines.is_empty() {
                lines.push(String::new());
            }
        }
        let mutated = lines.join("\n");
        let Ok(edits) = reply::parse(&mutated) else {
            continue;
        };
        let Ok(results) = apply::apply(&edits, &|path| input.get(path).cloned()) else {
            continue;
        };
        for result in &results {
            let named = edits.iter().any(|edit| {
                edit.path() == result.path.as_str()
                    || matches!(edit, reply::Edit::Hunks { move_to: Some(to), .. } if to == result.path.as_str())
            });
            assert!(
                named,
                "round {round}: {} changed but not named\n{mutated}",
                result.path
            );
        }
    }
}
