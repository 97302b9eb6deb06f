//! The files the index reads: a gitignore-aware walk that skips what is not source a person wrote.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::lang::Lang;

/// Files larger than this are skipped.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// Directories that hold other people's code or Nova's and git's own files.
const SKIPPED_DIRS: &[&str] = &["vendor", "node_modules", "third_party", ".nova", ".git"];

/// Whether `dir` is cargo's build output: a `target` directory beside a `Cargo.toml`, or one
/// cargo marked as a cache (`CACHEDIR.TAG`). A module directory named `target` (`cc`'s
/// `src/target/`) is code.
fn cargo_target(dir: &Path) -> bool {
    dir.file_name().is_some_and(|name| name == "target")
        && (dir.join("CACHEDIR.TAG").is_file()
            || dir
                .parent()
                .is_some_and(|parent| parent.join("Cargo.toml").is_file()))
}

/// A source file found by the walk.
#[derive(Debug, Clone)]
pub struct Found {
    /// `/`-separated, relative to the root.
    pub path: String,
    pub absolute: PathBuf,
    pub lang: Lang,
    pub size: u64,
    /// Modification time, nanoseconds since the epoch.
    pub mtime: i64,
}

/// The walk of the index and of [`named`]: gitignore-aware, no symlinks followed, vendored code,
/// Nova's and git's directories and cargo's output skipped.
fn walker(root: &Path) -> ignore::Walk {
    ignore::WalkBuilder::new(root)
        .follow_links(false)
        .require_git(false)
        // The root is a repository (or a worktree of one under `.nova/`): ignore files above it are
        // not its own.
        .parents(false)
        .filter_entry(|entry| {
            let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
            !(is_dir
                && (entry
                    .file_name()
                    .to_str()
                    .is_some_and(|n| SKIPPED_DIRS.contains(&n))
                    || cargo_target(entry.path())))
        })
        .build()
}

/// Every file called `name` under `root` (as the index walks it), as `/`-separated paths
/// relative to the root, in order.
pub fn named(root: &Path, name: &str) -> Vec<String> {
    let mut found: Vec<String> = walker(root)
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_some_and(|t| t.is_file()) && entry.file_name() == name)
        .filter_map(|entry| {
            let relative = entry.path().strip_prefix(root).ok()?;
            Some(relative.to_string_lossy().replace('\\', "/"))
        })
        .collect();
    found.sort();
    found
}

/// Walks `root`, honouring `.gitignore`, `.ignore` and git's excludes; never follows symlinks.
/// Files skipped for a reason (too large, a symlink, unreadable) are counted in `skipped`.
pub fn walk(root: &Path, skipped: &mut BTreeMap<String, usize>) -> Vec<Found> {
    let mut found = Vec::new();
    let walker = walker(root);
    for entry in walker {
        let Ok(entry) = entry else {
            *skipped.entry(String::from("unreadable")).or_default() += 1;
            continue;
        };
        let Some(file_type) = entry.file_type() else {
            continue;
        };
        let Ok(relative) = entry.path().strip_prefix(root) else {
            continue;
        };
        let Some(path) = relative.to_str().map(|p| p.replace('\\', "/")) else {
            *skipped
                .entry(String::from("path is not UTF-8"))
                .or_default() += 1;
            continue;
        };
        let Some(lang) = Lang::of(&path) else {
            continue;
        };
        if file_type.is_symlink() {
            *skipped.entry(String::from("symlink")).or_default() += 1;
            continue;
        }
        if !file_type.is_file() {
            continue;
        }
        let Ok(metadata) = entry.metadata() else {
            *skipped.entry(String::from("unreadable")).or_default() += 1;
            continue;
        };
        if metadata.len() > MAX_FILE_BYTES {
            *skipped
                .entry(String::from("larger than 1 MiB"))
                .or_default() += 1;
            continue;
        }
        let mtime = metadata
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as i64);
        found.push(Found {
            path,
            absolute: entry.path().to_owned(),
            lang,
            size: metadata.len(),
            mtime,
        });
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    found
}

/// The text of a source file, or why it is not indexed: binary, not UTF-8, or generated.
pub fn decode(bytes: &[u8]) -> Result<&str, &'static str> {
    if bytes[..bytes.len().min(8000)].contains(&0) {
        return Err("binary");
    }
    let text = std::str::from_utf8(bytes).map_err(|_| "not UTF-8")?;
    let generated = text.lines().take(5).any(|line| {
        line.contains("@generated")
            || line.contains("DO NOT EDIT")
            || line.contains("Code generated")
    });
    if generated {
        return Err("generated");
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cargo_output_is_skipped_and_a_module_named_target_is_not() {
        let dir = std::env::temp_dir().join(format!("nova-walk-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let write = |path: &str| {
            let path = dir.join(path);
            std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
            std::fs::write(path, "fn f() {}\n").expect("write");
        };
        for path in [
            "Cargo.toml",
            "src/lib.rs",
            "src/target/apple.rs",
            "target/debug/build/out.rs",
            "member/Cargo.toml",
            "member/src/lib.rs",
            "member/target/debug/gen.rs",
            "elsewhere/target/CACHEDIR.TAG",
            "elsewhere/target/release/gen.rs",
            "vendor/dep/src/lib.rs",
        ] {
            write(path);
        }
        let mut skipped = BTreeMap::new();
        let paths: Vec<String> = walk(&dir, &mut skipped)
            .into_iter()
            .map(|f| f.path)
            .filter(|p| p.ends_with(".rs"))
            .collect();
        std::fs::remove_dir_all(&dir).expect("clean up");
        assert_eq!(
            paths,
            ["member/src/lib.rs", "src/lib.rs", "src/target/apple.rs"]
        );
    }
}
