//! The benchmarks' corpus: the `.rs` files of the packages in Nova's `Cargo.lock`, as unpacked in
//! the cargo registry, taken in name order until there are at least 150,000 lines, plus Nova's
//! own `src/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The least number of lines the corpus has.
pub const MIN_LINES: usize = 150_000;

/// The directories the cargo registry unpacks crates into (`$CARGO_HOME/registry/src/*`).
#[expect(
    clippy::disallowed_methods,
    reason = "the benchmark finds the cargo registry"
)]
pub fn registries() -> Vec<PathBuf> {
    let home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo")
        });
    std::fs::read_dir(home.join("registry/src"))
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default()
}

/// `name-version` of every package in Nova's `Cargo.lock`, sorted.
pub fn locked_packages(root: &Path) -> Vec<String> {
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).expect("Cargo.lock");
    let mut packages = Vec::new();
    let mut name = None;
    for line in lock.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"').to_owned());
        } else if let (Some(v), Some(n)) = (line.strip_prefix("version = "), name.take()) {
            packages.push(format!("{n}-{}", v.trim_matches('"')));
        }
    }
    packages.sort();
    packages
}

/// Copies `.rs` files of locked packages from the registry until there are `MIN_LINES` lines.
pub fn make_corpus(root: &Path, corpus: &Path) -> (Vec<String>, usize) {
    let packages = locked_packages(root);
    let registries = registries();
    let _ = std::fs::remove_dir_all(corpus);
    let mut lines = 0;
    let mut used = Vec::new();
    for package in packages {
        if lines >= MIN_LINES {
            break;
        }
        let Some(source) = registries
            .iter()
            .map(|r| r.join(&package))
            .find(|p| p.is_dir())
        else {
            continue;
        };
        lines += copy_rust(&source, &corpus.join(&package));
        used.push(package);
    }
    lines += copy_rust(&root.join("src"), &corpus.join("nova/src"));
    (used, lines)
}

fn copy_rust(from: &Path, to: &Path) -> usize {
    let mut lines = 0;
    let mut stack = vec![(from.to_owned(), to.to_owned())];
    let mut by_dir: BTreeMap<PathBuf, PathBuf> = BTreeMap::new();
    while let Some((dir, target)) = stack.pop() {
        by_dir.insert(dir.clone(), target.clone());
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                stack.push((path, target.join(entry.file_name())));
            } else if kind.is_file() && path.extension().is_some_and(|e| e == "rs") {
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                let _ = std::fs::create_dir_all(&target);
                if std::fs::write(target.join(entry.file_name()), &text).is_ok() {
                    lines += text.lines().count();
                }
            }
        }
    }
    lines
}
