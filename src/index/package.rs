//! The Cargo package a file belongs to: the nearest manifest above it with a `[package]`, its
//! name, the features it declares and the oldest Rust it says it builds with (clippy's `msrv`
//! where its configuration says one, as clippy reads it first; else `rust-version`, its own or
//! the workspace's).
//!
//! Sans-IO: manifests are read through a closure, by path from the repository root.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

/// What a source file is by its place in Cargo's layout: library code, a binary's (`src/main.rs`,
/// `src/bin/`, an example, a build script), or tests (`tests/`, `benches/`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Library,
    Binary,
    Tests,
}

pub fn file_kind(path: &str) -> FileKind {
    let parts: Vec<&str> = path.split('/').collect();
    let under = |dir: &str| parts.iter().rev().skip(1).any(|p| *p == dir);
    if under("tests") || under("benches") {
        FileKind::Tests
    } else if under("examples")
        || under("bin")
        || path.ends_with("src/main.rs")
        || path == "main.rs"
        || parts.last() == Some(&"build.rs")
    {
        FileKind::Binary
    } else {
        FileKind::Library
    }
}

/// A package, as its manifest declares it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    /// The directory of its manifest, relative to the repository (`""` at the root).
    pub dir: String,
    /// Its `[features]` and its optional dependencies (each one is a feature too).
    pub features: Vec<String>,
    /// What a build without `--features` has on: `default`, and what it enables in turn.
    pub default_features: Vec<String>,
    /// What each feature turns on of the package's own features (`std = ["alloc"]`; an optional
    /// dependency's feature `serde/std` turns on `serde`).
    pub enables: BTreeMap<String, Vec<String>>,
    /// `rust-version`, where it says one (or inherits the workspace's).
    pub rust_version: Option<RustVersion>,
}

/// A Rust release: `1.81`, `1.60.0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RustVersion {
    pub major: u64,
    pub minor: u64,
    pub patch: u64,
}

impl FromStr for RustVersion {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{text}` is not a Rust version: write it as `1.81` or `1.81.0`");
        let mut parts = text.trim().split('.');
        let mut next = |required: bool| -> Result<u64, String> {
            match parts.next() {
                Some(part) => part.parse().map_err(|_| bad()),
                None if required => Err(bad()),
                None => Ok(0),
            }
        };
        let version = RustVersion {
            major: next(true)?,
            minor: next(true)?,
            patch: next(false)?,
        };
        if parts.next().is_some() {
            return Err(bad());
        }
        Ok(version)
    }
}

impl fmt::Display for RustVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// The package of the file at `path`: the nearest manifest above it that has a `[package]`.
pub fn of(path: &str, read: &dyn Fn(&str) -> Option<String>) -> Option<Package> {
    let mut dir = path;
    while let Some((up, _)) = dir.rsplit_once('/') {
        dir = up;
        if let Some(found) = manifest(dir, read) {
            return Some(found);
        }
    }
    manifest("", read)
}

/// `dir/Cargo.toml`, if it declares a package.
fn manifest(dir: &str, read: &dyn Fn(&str) -> Option<String>) -> Option<Package> {
    let table: toml::Table = read(&join(dir, "Cargo.toml"))?.parse().ok()?;
    let package = table.get("package")?;
    let name = package.get("name")?.as_str()?.to_owned();
    let mut features: Vec<String> = table
        .get("features")
        .and_then(toml::Value::as_table)
        .map(|features| features.keys().cloned().collect())
        .unwrap_or_default();
    if let Some(deps) = table.get("dependencies").and_then(toml::Value::as_table) {
        for (dep, spec) in deps {
            if spec.get("optional").and_then(toml::Value::as_bool) == Some(true) {
                features.push(dep.clone());
            }
        }
    }
    let enables = own_enables(
        table.get("features").and_then(toml::Value::as_table),
        &features,
    );
    let default_features = if features.iter().any(|f| f == "default") {
        closure(&enables, ["default"])
    } else {
        Vec::new()
    };
    let rust_version = match package.get("rust-version") {
        Some(toml::Value::String(text)) => text.parse().ok(),
        Some(inherited)
            if inherited.get("workspace").and_then(toml::Value::as_bool) == Some(true) =>
        {
            workspace_rust_version(dir, read)
        }
        _ => None,
    };
    // Clippy reads its configuration's `msrv` before the manifest's `rust-version`.
    let rust_version = clippy_msrv(dir, read).or(rust_version);
    Some(Package {
        name,
        dir: dir.to_owned(),
        features,
        default_features,
        enables,
        rust_version,
    })
}

impl Package {
    /// What a build with `features` on and the defaults off has on: those, and what they enable
    /// in turn.
    pub fn closure_of<'a>(&self, features: impl IntoIterator<Item = &'a str>) -> Vec<String> {
        closure(&self.enables, features)
    }
}

/// The `msrv` of the clippy configuration clippy finds for a package at `dir`: `.clippy.toml`
/// or `clippy.toml` in it or the nearest directory above that has one.
fn clippy_msrv(dir: &str, read: &dyn Fn(&str) -> Option<String>) -> Option<RustVersion> {
    let mut dir = Some(dir);
    while let Some(at) = dir {
        let config = [".clippy.toml", "clippy.toml"]
            .iter()
            .find_map(|name| read(&join(at, name)));
        if let Some(config) = config {
            let table = config.parse::<toml::Table>().ok()?;
            return table.get("msrv")?.as_str()?.parse().ok();
        }
        dir = match at.rsplit_once('/') {
            Some((up, _)) => Some(up),
            None if at.is_empty() => None,
            None => Some(""),
        };
    }
    None
}

/// Each declared feature's own features it turns on: `x` and `x/y` (an optional dependency
/// `x`, unless written `x?/y`) when `x` is declared; never `dep:x`, which turns on no feature.
fn own_enables(
    features: Option<&toml::Table>,
    declared: &[String],
) -> BTreeMap<String, Vec<String>> {
    let Some(features) = features else {
        return BTreeMap::new();
    };
    features
        .iter()
        .map(|(feature, items)| {
            let items = items.as_array().into_iter().flatten();
            let own = items
                .filter_map(toml::Value::as_str)
                .filter(|item| !item.starts_with("dep:"))
                .filter_map(|item| match item.split_once('/') {
                    Some((dep, _)) if dep.ends_with('?') => None,
                    Some((dep, _)) => Some(dep),
                    None => Some(item),
                })
                .filter(|item| declared.iter().any(|d| d == item))
                .map(str::to_owned)
                .collect();
            (feature.clone(), own)
        })
        .collect()
}

/// `start` and every feature they enable, transitively, sorted.
fn closure<'a>(
    enables: &BTreeMap<String, Vec<String>>,
    start: impl IntoIterator<Item = &'a str>,
) -> Vec<String> {
    let mut on: BTreeSet<String> = BTreeSet::new();
    let mut pending: Vec<String> = start.into_iter().map(str::to_owned).collect();
    while let Some(feature) = pending.pop() {
        if !on.insert(feature.clone()) {
            continue;
        }
        pending.extend(enables.get(&feature).into_iter().flatten().cloned());
    }
    on.into_iter().collect()
}

/// `[workspace.package] rust-version` of the nearest workspace manifest at or above `dir`.
fn workspace_rust_version(dir: &str, read: &dyn Fn(&str) -> Option<String>) -> Option<RustVersion> {
    let mut dir = Some(dir);
    while let Some(at) = dir {
        let table = read(&join(at, "Cargo.toml")).and_then(|text| text.parse::<toml::Table>().ok());
        if let Some(workspace) = table.as_ref().and_then(|t| t.get("workspace")) {
            let version = workspace.get("package")?.get("rust-version")?.as_str()?;
            return version.parse().ok();
        }
        dir = match at.rsplit_once('/') {
            Some((up, _)) => Some(up),
            None if at.is_empty() => None,
            None => Some(""),
        };
    }
    None
}

fn join(dir: &str, file: &str) -> String {
    if dir.is_empty() {
        file.to_owned()
    } else {
        format!("{dir}/{file}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_library_binary_or_tests() {
        assert_eq!(file_kind("src/lib.rs"), FileKind::Library);
        assert_eq!(file_kind("crates/core/src/config.rs"), FileKind::Library);
        assert_eq!(file_kind("src/main.rs"), FileKind::Binary);
        assert_eq!(file_kind("src/bin/tool.rs"), FileKind::Binary);
        assert_eq!(file_kind("examples/demo.rs"), FileKind::Binary);
        assert_eq!(file_kind("build.rs"), FileKind::Binary);
        assert_eq!(file_kind("tests/it/main.rs"), FileKind::Tests);
        assert_eq!(file_kind("crates/core/benches/speed.rs"), FileKind::Tests);
    }

    fn reader(files: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let files: Vec<(String, String)> = files
            .iter()
            .map(|(p, t)| ((*p).to_owned(), (*t).to_owned()))
            .collect();
        move |path| {
            files
                .iter()
                .find(|(p, _)| p == path)
                .map(|(_, t)| t.clone())
        }
    }

    #[test]
    fn versions_read_as_cargo_writes_them() {
        let v = |s: &str| s.parse::<RustVersion>();
        assert_eq!(v("1.81").map(|v| v.to_string()), Ok(String::from("1.81.0")));
        assert!(v("1.60.1") > v("1.60"));
        assert!(v("1.9") < v("1.10"));
        assert!(v("1").is_err());
        assert!(v("1.x").is_err());
        assert!(v("1.2.3.4").is_err());
    }

    #[test]
    fn the_nearest_package_and_its_own_or_its_workspace_rust_version() {
        let read = reader(&[
            (
                "Cargo.toml",
                "[workspace]\nmembers = [\"a\", \"b\"]\n[workspace.package]\nrust-version = \"1.70\"\n",
            ),
            (
                "a/Cargo.toml",
                "[package]\nname = \"a\"\nrust-version.workspace = true\n[features]\ndefault = [\"std\", \"serde\"]\nstd = [\"alloc\", \"serde?/std\"]\nalloc = []\nextra = []\n[dependencies]\nserde = { version = \"1\", optional = true }\n",
            ),
            (
                "b/Cargo.toml",
                "[package]\nname = \"b\"\nrust-version = \"1.60\"\n",
            ),
            ("c/Cargo.toml", "[package]\nname = \"c\"\n"),
        ]);
        let a = of("a/src/deep/x.rs", &read).expect("a");
        assert_eq!(a.name, "a");
        assert_eq!(a.features, ["alloc", "default", "extra", "std", "serde"]);
        assert_eq!(a.default_features, ["alloc", "default", "serde", "std"]);
        // Without the defaults: `serde?/std` does not turn `serde` on.
        assert_eq!(a.closure_of(["std"]), ["alloc", "std"]);
        assert_eq!(a.closure_of(["extra"]), ["extra"]);
        assert!(a.closure_of([]).is_empty());
        assert_eq!(a.rust_version, "1.70".parse().ok());
        assert_eq!(
            of("b/src/lib.rs", &read).and_then(|p| p.rust_version),
            "1.60".parse().ok()
        );
        assert_eq!(of("c/src/lib.rs", &read).and_then(|p| p.rust_version), None);
        // The virtual workspace root is no package.
        assert_eq!(of("src/lib.rs", &read), None);
        // Clippy's configuration says it first (`httparse` keeps its MSRV there).
        let files = [
            (
                "Cargo.toml",
                "[package]\nname = \"h\"\nrust-version = \"1.70\"\n",
            ),
            (
                "clippy.toml",
                "msrv = \"1.47\"\ntoo-many-lines-threshold = 80\n",
            ),
        ];
        let read = |path: &str| {
            files
                .iter()
                .find(|(p, _)| *p == path)
                .map(|(_, text)| (*text).to_owned())
        };
        assert_eq!(
            of("src/lib.rs", &read).and_then(|p| p.rust_version),
            "1.47".parse().ok()
        );
    }
}
