//! The parts of a repository, from its own structure: one per crate (a directory whose
//! `Cargo.toml` has a `[package]`), and inside a large crate one per large top-level module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::index::Index;

/// A crate with more lines of Rust than this is split: each of its top-level modules of at least
/// [`MODULE_LINES`] gets an owner of its own, and the crate's owner keeps the rest. Below it, one
/// agent can hold the crate's API in its head.
pub const SPLIT_LINES: usize = 6_000;
/// A top-level module of a split crate with at least this many lines gets its own owner; smaller
/// ones stay with the crate's owner.
pub const MODULE_LINES: usize = 1_000;

/// What a part is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// A whole crate, or what is left of a split one.
    Crate,
    /// A top-level module of a split crate.
    Module,
}

/// One part of a repository and the files it holds.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Part {
    /// Its owner's name: the crate's (`nova-sandbox`), or the crate's and the module's
    /// (`nova-index`), kebab-case.
    pub name: String,
    pub kind: Kind,
    /// Its path: the crate's directory (`.` for the root), or the module's path without `.rs`.
    pub path: String,
    /// The crate it is of, as its `Cargo.toml` names it.
    pub krate: String,
    /// The crate's directory, `""` for the root.
    pub crate_dir: String,
    /// The globs of the files it owns, none of which any other part's match.
    pub write: Vec<String>,
    /// Its indexed files.
    pub files: Vec<String>,
    pub lines: usize,
    /// The file whose `//!` comment documents it (`src/lib.rs`, `src/index/mod.rs`), if any.
    pub entry: Option<String>,
    /// The `description` of its crate's `Cargo.toml`, if any.
    pub crate_description: Option<String>,
}

/// One crate as its manifest and the index see it.
struct Crate {
    name: String,
    dir: String,
    description: Option<String>,
    files: Vec<(String, usize)>,
}

/// The parts of the repository at `root`, whose files `index` holds, ordered by path. Files of no
/// crate belong to no part.
pub fn derive(root: &Path, index: &Index) -> Vec<Part> {
    let crates = crates(root, index);
    let crate_dirs: Vec<&str> = crates.iter().map(|c| c.dir.as_str()).collect();
    let mut parts = Vec::new();
    for krate in &crates {
        let total: usize = krate.files.iter().map(|(_, n)| n).sum();
        let split = if total > SPLIT_LINES {
            large_modules(krate)
        } else {
            BTreeMap::new()
        };
        for (module, files) in &split {
            parts.push(module_part(krate, module, files));
        }
        let rest: Vec<&(String, usize)> = krate
            .files
            .iter()
            .filter(|(path, _)| !split.values().any(|files| files.contains(path)))
            .collect();
        if !rest.is_empty() {
            parts.push(crate_part(krate, &rest, &split, &crate_dirs));
        }
    }
    unique_names(&mut parts);
    // A domain agent named as a built-in one would replace it.
    let builtin = crate::agents::AgentSet::builtin();
    for part in &mut parts {
        if builtin.agent(&part.name).is_some() {
            part.name.push_str("-part");
        }
    }
    parts.sort_by(|a, b| a.path.cmp(&b.path));
    parts
}

/// Every crate of the repository with its indexed Rust files (each file goes to the nearest
/// crate above it) and their line counts.
fn crates(root: &Path, index: &Index) -> Vec<Crate> {
    let mut found: BTreeMap<String, Option<Crate>> = BTreeMap::new();
    for path in index.paths().filter(|p| p.ends_with(".rs")) {
        let Some(dir) = nearest_crate(root, path, &mut found) else {
            continue;
        };
        let lines = index.lines(path).unwrap_or(0) as usize;
        if let Some(Some(krate)) = found.get_mut(&dir) {
            krate.files.push((path.to_owned(), lines));
        }
    }
    found
        .into_values()
        .flatten()
        .filter(|c| !c.files.is_empty())
        .collect()
}

/// The directory of the nearest crate above `path`, reading (and remembering) manifests on the way.
fn nearest_crate(
    root: &Path,
    path: &str,
    found: &mut BTreeMap<String, Option<Crate>>,
) -> Option<String> {
    let mut dir = parent(path);
    loop {
        let known = found
            .entry(dir.to_owned())
            .or_insert_with(|| manifest(root, dir));
        if known.is_some() {
            return Some(dir.to_owned());
        }
        if dir.is_empty() {
            return None;
        }
        dir = parent(dir);
    }
}

fn parent(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

/// The crate whose manifest is `dir/Cargo.toml`, if it is a package's.
fn manifest(root: &Path, dir: &str) -> Option<Crate> {
    let text = std::fs::read_to_string(root.join(dir).join("Cargo.toml")).ok()?;
    let value: toml::Table = toml::from_str(&text).ok()?;
    let package = value.get("package")?.as_table()?;
    let name = package.get("name")?.as_str()?.to_owned();
    let description = package
        .get("description")
        .and_then(toml::Value::as_str)
        .map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "));
    Some(Crate {
        name,
        dir: dir.to_owned(),
        description,
        files: Vec::new(),
    })
}

/// `path` relative to `dir` (`""` for the root).
fn under<'p>(dir: &str, path: &'p str) -> Option<&'p str> {
    if dir.is_empty() {
        return Some(path);
    }
    path.strip_prefix(dir)?.strip_prefix('/')
}

fn join(dir: &str, rest: &str) -> String {
    if dir.is_empty() {
        rest.to_owned()
    } else {
        format!("{dir}/{rest}")
    }
}

/// The top-level modules of `krate`'s `src/` with at least [`MODULE_LINES`] lines, with their files.
fn large_modules(krate: &Crate) -> BTreeMap<String, Vec<String>> {
    let mut modules: BTreeMap<String, (usize, Vec<String>)> = BTreeMap::new();
    for (path, lines) in &krate.files {
        let Some(inside) = under(&krate.dir, path).and_then(|p| p.strip_prefix("src/")) else {
            continue;
        };
        let module = match inside.split_once('/') {
            Some((dir, _)) => dir,
            None => inside.strip_suffix(".rs").unwrap_or(inside),
        };
        // The crate's roots and its binaries are the crate's own.
        if matches!(module, "lib" | "main" | "bin") {
            continue;
        }
        let entry = modules.entry(module.to_owned()).or_default();
        entry.0 += lines;
        entry.1.push(path.clone());
    }
    modules
        .into_iter()
        .filter(|(_, (lines, _))| *lines >= MODULE_LINES)
        .map(|(module, (_, files))| (module, files))
        .collect()
}

fn kebab(name: &str) -> String {
    name.to_lowercase().replace('_', "-")
}

fn module_part(krate: &Crate, module: &str, files: &[String]) -> Part {
    let src = join(&krate.dir, "src");
    let file = format!("{src}/{module}.rs");
    let dir = format!("{src}/{module}/");
    let mut write = Vec::new();
    if files.contains(&file) {
        write.push(file.clone());
    }
    if files.iter().any(|f| f.starts_with(&dir)) {
        write.push(format!("{dir}**"));
    }
    let mod_rs = format!("{dir}mod.rs");
    let entry = [file, mod_rs].into_iter().find(|f| files.contains(f));
    Part {
        name: format!("{}-{}", kebab(&krate.name), kebab(module)),
        kind: Kind::Module,
        path: format!("{src}/{module}"),
        krate: krate.name.clone(),
        crate_dir: krate.dir.clone(),
        write,
        files: files.to_vec(),
        lines: krate
            .files
            .iter()
            .filter(|(p, _)| files.contains(p))
            .map(|(_, n)| n)
            .sum(),
        entry,
        crate_description: krate.description.clone(),
    }
}

/// The part that owns what the crate's modules' parts do not: `rest`, covered by globs that
/// match no split module's files and no other crate's.
fn crate_part(
    krate: &Crate,
    rest: &[&(String, usize)],
    split: &BTreeMap<String, Vec<String>>,
    crate_dirs: &[&str],
) -> Part {
    let files: Vec<String> = rest.iter().map(|(p, _)| p.clone()).collect();
    // Directories whose files are someone else's: other crates inside this one, split modules.
    let mut taken: BTreeSet<String> = crate_dirs
        .iter()
        .filter(|d| **d != krate.dir && under(&krate.dir, d).is_some())
        .map(|d| (*d).to_owned())
        .collect();
    let src = join(&krate.dir, "src");
    taken.extend(split.keys().map(|m| format!("{src}/{m}")));
    let mut write = Vec::new();
    if taken.is_empty() {
        // Nothing inside is anyone else's: the whole directory, manifest and docs included.
        write.push(join(&krate.dir, "**"));
    } else {
        cover(&krate.dir, &files, &taken, &mut write);
    }
    let entry = ["src/lib.rs", "src/main.rs"]
        .into_iter()
        .map(|f| join(&krate.dir, f))
        .find(|f| files.contains(f));
    Part {
        name: kebab(&krate.name),
        kind: Kind::Crate,
        path: if krate.dir.is_empty() {
            String::from(".")
        } else {
            krate.dir.clone()
        },
        krate: krate.name.clone(),
        crate_dir: krate.dir.clone(),
        write,
        files,
        lines: rest.iter().map(|(_, n)| n).sum(),
        entry,
        crate_description: krate.description.clone(),
    }
}

/// Globs under `dir` that match every one of `files` and nothing under a `taken` directory: a
/// directory none of whose subdirectories is taken is covered by `dir/**`, a file by its path.
fn cover(dir: &str, files: &[String], taken: &BTreeSet<String>, globs: &mut Vec<String>) {
    let mut children: BTreeMap<&str, bool> = BTreeMap::new();
    for file in files {
        let Some(inside) = under(dir, file) else {
            continue;
        };
        match inside.split_once('/') {
            Some((child, _)) => children.insert(child, true),
            None => children.insert(inside, false),
        };
    }
    for (child, is_dir) in children {
        let path = join(dir, child);
        if !is_dir {
            globs.push(path);
            continue;
        }
        let prefix = format!("{path}/");
        let inside_taken = taken.iter().any(|t| *t == path || t.starts_with(&prefix));
        if inside_taken {
            let within: Vec<String> = files
                .iter()
                .filter(|f| f.starts_with(&prefix))
                .cloned()
                .collect();
            cover(&path, &within, taken, globs);
        } else {
            globs.push(format!("{path}/**"));
        }
    }
}

/// Parts whose names clash: a module's owner takes a `-module` suffix (crate `foo-bar` keeps its
/// name beside the module `bar` of crate `foo`); two that still clash (two crates `foo` in
/// different directories) get their path's words instead.
fn unique_names(parts: &mut [Part]) {
    let clashing = |parts: &[Part]| {
        let mut count: BTreeMap<String, usize> = BTreeMap::new();
        for part in parts {
            *count.entry(part.name.clone()).or_default() += 1;
        }
        count
            .into_iter()
            .filter(|(_, n)| *n > 1)
            .map(|(name, _)| name)
            .collect::<BTreeSet<String>>()
    };
    let clash = clashing(parts);
    for part in parts.iter_mut() {
        if part.kind == Kind::Module && clash.contains(&part.name) {
            part.name.push_str("-module");
        }
    }
    let clash = clashing(parts);
    for part in parts.iter_mut() {
        if clash.contains(&part.name) {
            let words: Vec<String> = part
                .path
                .split(['/', '.', '_', '-'])
                .filter(|w| !w.is_empty())
                .map(kebab)
                .collect();
            part.name = format!("{}-{}", kebab(&part.krate), words.join("-"));
        }
    }
}
