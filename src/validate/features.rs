//! Which feature configurations a change must also build in: the features named by the `cfg`
//! attributes around each changed line, for the package the file belongs to, and all of that
//! package's features. A change outside any feature `cfg` needs none.
//!
//! Sans-IO: files are read through a closure (the worktree's text).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::RangeInclusive;

use serde::{Deserialize, Serialize};

use crate::edit::Patch;
use crate::index::attributes::{self, Attributes};
use crate::index::{cfg, package};

/// One extra build a change needs: `cargo build --manifest-path <dir>/Cargo.toml --features a,b`,
/// or `--all-features`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FeatureConfig {
    pub package: String,
    /// Empty for `--all-features`.
    pub features: Vec<String>,
    /// The directory of the package's manifest (`""` at the root).
    #[serde(default)]
    pub dir: String,
}

impl FeatureConfig {
    /// `--manifest-path core/Cargo.toml --features extra`, `--manifest-path Cargo.toml
    /// --all-features`. The package is chosen by its manifest, not by `-p core --features
    /// core/extra`: cargo reads `core/extra` as a dependency's feature when `core` is the package
    /// of the manifest it runs on (a single crate, a workspace's root package), and refuses the
    /// build on every tree, so the change under the feature would never be built.
    pub fn args(&self) -> Vec<String> {
        let manifest = if self.dir.is_empty() {
            String::from("Cargo.toml")
        } else {
            format!("{}/Cargo.toml", self.dir)
        };
        let mut args = vec![String::from("--manifest-path"), manifest];
        if self.features.is_empty() {
            args.push(String::from("--all-features"));
        } else {
            args.push(String::from("--features"));
            args.push(self.features.join(","));
        }
        args
    }

    /// For people: `--features extra of core`.
    pub fn describe(&self) -> String {
        if self.features.is_empty() {
            format!("`{}` with --all-features", self.package)
        } else {
            format!(
                "`{}` with --features {}",
                self.package,
                self.features.join(",")
            )
        }
    }
}

/// How one extra build went, on the candidate and (when it failed there) on the tree before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureBuild {
    pub config: FeatureConfig,
    pub ok: bool,
    /// Whether the same configuration built before the change: asked only when it fails now.
    #[serde(default)]
    pub before_ok: Option<bool>,
    /// The first compile error, when it failed.
    #[serde(default)]
    pub error: Option<String>,
    /// The package's tests in this configuration, run when it built.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tests: Option<FeatureTests>,
}

/// The tests of one feature configuration: run on the candidate, and on the tree before the
/// change only when some failed or did not finish on the candidate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeatureTests {
    pub passed: usize,
    pub failed: usize,
    /// Every test command ran to completion on the candidate.
    pub ran: bool,
    /// Whether they ran to completion on the tree before the change: asked only when needed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ran_before: Option<bool>,
    /// Tests that passed before the change and fail with it: the first line each printed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub broken: BTreeMap<String, String>,
    /// Tests that fail with the change and did not pass before it (failing, or not there).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failing_before: Vec<String>,
    /// Tests that passed before the change and are not there with it (looked for when the tree
    /// before ran: something failed, or the change touched a doc comment).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gone: Vec<String>,
    /// Tests flaky in the base that failed here and passed when run again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flaky: Vec<String>,
}

impl FeatureTests {
    /// For the trailer: `3 passed`, `3 passed, 1 failed`.
    pub fn describe(&self) -> String {
        match self.failed {
            0 => format!("tests {} passed", self.passed),
            failed => format!("tests {} passed, {failed} failed", self.passed),
        }
    }
}

/// The feature builds `patch` needs. `read` gives a file's text in the worktree (the manifests
/// and the parents that declare a changed module).
pub fn configs(patch: &Patch, read: &dyn Fn(&str) -> Option<String>) -> Vec<FeatureConfig> {
    let mut by_package: BTreeMap<String, (package::Package, BTreeSet<String>)> = BTreeMap::new();
    for change in &patch.changes {
        let path = change.path.as_str();
        if !path.ends_with(".rs") {
            continue;
        }
        let mut wanted = BTreeSet::new();
        let before = change.before.as_deref().unwrap_or("");
        let after = change.after.as_deref().unwrap_or("");
        let hunks = crate::edit::changed_lines(before, after);
        // The old side's lines in the old text, the new side's in the new.
        for (text, old) in [(before, true), (after, false)] {
            let Some(found) = attributes::for_file(path, text, read) else {
                continue;
            };
            for (removed, added) in &hunks {
                if let Some(lines) = if old { removed } else { added } {
                    wanted.extend(found.features(lines));
                }
            }
        }
        if wanted.is_empty() {
            continue;
        }
        let Some(package) = package::of(path, read) else {
            continue;
        };
        let wanted: Vec<String> = wanted
            .into_iter()
            .filter(|f| package.features.contains(f))
            .collect();
        by_package
            .entry(package.name.clone())
            .or_insert_with(|| (package, BTreeSet::new()))
            .1
            .extend(wanted);
    }
    let mut configs = Vec::new();
    for (name, (package, features)) in by_package {
        if features.is_empty() {
            continue;
        }
        // `--all-features` turns on nothing more where the features named are all there are
        // (besides the defaults, which are on anyway): one build and test run saved.
        let more = package.features.iter().any(|feature| {
            feature != "default"
                && !features.contains(feature)
                && !package.default_features.contains(feature)
        });
        configs.push(FeatureConfig {
            package: name.clone(),
            features: features.into_iter().collect(),
            dir: package.dir.clone(),
        });
        if more {
            configs.push(FeatureConfig {
                package: name,
                features: Vec::new(),
                dir: package.dir,
            });
        }
    }
    configs
}

/// Whether `patch` changes or removes a line of a doc comment (`///`, `//!`, `/**`, `#[doc`), where
/// a doctest may live: a feature configuration's tests are then compared with the tree before's
/// even when they all pass, so that a doctest the change took away is seen.
pub fn changes_docs(patch: &Patch) -> bool {
    let is_doc = |line: &str| {
        let line = line.trim_start();
        ["///", "//!", "/**", "/*!", "#[doc", "#![doc"]
            .iter()
            .any(|start| line.starts_with(start))
    };
    patch
        .changes
        .iter()
        .filter(|change| change.path.as_str().ends_with(".rs"))
        .any(|change| {
            let before = change.before.as_deref().unwrap_or("");
            let after = change.after.as_deref().unwrap_or("");
            let lines: Vec<&str> = before.lines().collect();
            crate::edit::changed_lines(before, after)
                .into_iter()
                .filter_map(|(removed, _)| removed)
                .flatten()
                .any(|line| lines.get(line - 1).is_some_and(|text| is_doc(text)))
        })
}

/// The places `patch` changes that no build on this machine compiles: a `cfg` on a changed line
/// (or on the `mod` that declares its file) that holds neither here with the package's default
/// features, nor with the features named around the line on, nor with all of them
/// (`cfg(windows)` on Linux; `cfg(not(feature = "std"))` where `std` is a default). One sentence
/// each, at most one a file.
pub fn uncompiled(patch: &Patch, read: &dyn Fn(&str) -> Option<String>) -> Vec<String> {
    let mut places = Vec::new();
    for change in &patch.changes {
        let path = change.path.as_str();
        if !path.ends_with(".rs") {
            continue;
        }
        let before = change.before.as_deref().unwrap_or("");
        let after = change.after.as_deref().unwrap_or("");
        let hunks = crate::edit::changed_lines(before, after);
        let found = [(before, true), (after, false)]
            .into_iter()
            .find_map(|(text, old)| {
                let attributes = attributes::for_file(path, text, read)?;
                let package = package::of(path, read);
                hunks.iter().find_map(|(removed, added)| {
                    let lines = if old { removed } else { added }.as_ref()?;
                    let cfg = never_compiled(&attributes, package.as_ref(), lines)?;
                    Some(format!(
                        "`{path}` line {} is under `cfg({cfg})`",
                        (*lines.start()).max(1)
                    ))
                })
            });
        places.extend(found);
    }
    places
}

/// The `cfg` (as written) over some line of `lines` that none of the builds validation runs
/// satisfies, given the file's attributes and its package (`None`: only what this machine
/// decides alone counts).
pub fn never_compiled<'a>(
    attributes: &'a Attributes,
    package: Option<&package::Package>,
    lines: &RangeInclusive<usize>,
) -> Option<&'a str> {
    let named = attributes.features(lines);
    attributes
        .cfgs(lines)
        .find(|p| !compiled_by_some_build(p, package, &named))
}

/// Whether one of the builds validation runs satisfies `predicate`: the default features, the
/// default ones and `named` (the features named around the change), or all of them. Without a
/// package to read, only what this machine decides alone counts.
fn compiled_by_some_build(
    predicate: &str,
    package: Option<&package::Package>,
    named: &BTreeSet<String>,
) -> bool {
    let Some(package) = package else {
        return cfg::holds(predicate) != Some(false);
    };
    let default: BTreeSet<&str> = package
        .default_features
        .iter()
        .map(String::as_str)
        .collect();
    let with_named: BTreeSet<&str> = default
        .iter()
        .copied()
        .chain(named.iter().map(String::as_str))
        .collect();
    let all: BTreeSet<&str> = package.features.iter().map(String::as_str).collect();
    [default, with_named, all]
        .iter()
        .any(|on| cfg::holds_with(predicate, &|f| Some(on.contains(f))) != Some(false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::FileChange;
    use crate::edit::RepoPath;

    const MANIFEST: &str = "[package]\nname = \"feat\"\nversion = \"0.1.0\"\n\n[features]\n\
                            default = [\"std\"]\nstd = []\nextra = []\nmore = []\n";
    const LIB: &str = "pub fn one() -> i32 {\n    1\n}\n\n#[cfg(feature = \"extra\")]\npub fn extra() -> i32 {\n    one() + 1\n}\n\n#[cfg(feature = \"undeclared\")]\npub fn other() {}\n";

    fn configs_for(after: &str) -> Vec<FeatureConfig> {
        configs_with(MANIFEST, after)
    }

    fn configs_with(manifest: &str, after: &str) -> Vec<FeatureConfig> {
        let read = |path: &str| (path == "crates/feat/Cargo.toml").then(|| manifest.to_owned());
        let patch = Patch {
            summary: String::new(),
            changes: vec![FileChange::modify(
                RepoPath::new("crates/feat/src/lib.rs").expect("path"),
                LIB,
                after,
            )],
        };
        configs(&patch, &read)
    }

    #[test]
    fn a_change_under_a_feature_builds_with_it_and_with_all_features() {
        let configs = configs_for(&LIB.replace("one() + 1", "one() + 2"));
        assert_eq!(
            configs
                .iter()
                .map(|c| c.args().join(" "))
                .collect::<Vec<_>>(),
            [
                "--manifest-path crates/feat/Cargo.toml --features extra",
                "--manifest-path crates/feat/Cargo.toml --all-features"
            ]
        );
    }

    #[test]
    fn a_change_to_a_doc_comment_is_told_from_one_to_code() {
        let documented = LIB.replace(
            "#[cfg(feature = \"extra\")]\npub fn extra",
            "#[cfg(feature = \"extra\")]\n/// ```\n/// assert!(true);\n/// ```\npub fn extra",
        );
        let patch = |before: &str, after: &str| Patch {
            summary: String::new(),
            changes: vec![FileChange::modify(
                RepoPath::new("src/lib.rs").expect("path"),
                before,
                after,
            )],
        };
        let code = patch(&documented, &documented.replace("one() + 1", "one() + 2"));
        assert!(!changes_docs(&code));
        let docs = patch(
            &documented,
            &documented.replace("/// ```\n/// assert!(true);\n/// ```\n", ""),
        );
        assert!(changes_docs(&docs));
        let added = patch(LIB, &documented);
        assert!(
            !changes_docs(&added),
            "a doc line added takes no doctest away"
        );
    }

    #[test]
    fn all_features_is_left_out_where_the_named_ones_are_all_there_are() {
        let manifest = MANIFEST.replace("more = []\n", "");
        let configs = configs_with(&manifest, &LIB.replace("one() + 1", "one() + 2"));
        assert_eq!(
            configs
                .iter()
                .map(|c| c.args().join(" "))
                .collect::<Vec<_>>(),
            ["--manifest-path crates/feat/Cargo.toml --features extra"],
            "`std` is on by default"
        );
    }

    #[test]
    #[cfg(not(windows))]
    fn a_change_in_code_no_build_here_compiles_is_named() {
        let lib = "pub fn a() -> u8 {\n    1\n}\n#[cfg(windows)]\npub fn b() -> u8 {\n    2\n}\n";
        let root = "#[cfg(all(\n    windows,\n    feature = \"x\",\n))]\nmod win;\nmod both;\n";
        let read = |path: &str| (path == "src/lib.rs").then(|| root.to_owned());
        let change = |path: &str, before: &str, after: &str| Patch {
            summary: String::new(),
            changes: vec![FileChange::modify(
                RepoPath::new(path).expect("path"),
                before,
                after,
            )],
        };
        let places = |patch: &Patch| uncompiled(patch, &read);
        assert_eq!(
            places(&change("src/lib.rs", lib, &lib.replace("2\n", "3\n"))),
            ["`src/lib.rs` line 6 is under `cfg(windows)`"]
        );
        assert!(places(&change("src/lib.rs", lib, &lib.replace("1\n", "3\n"))).is_empty());
        assert_eq!(
            places(&change("src/win.rs", "fn w() {}\n", "fn w() { }\n")),
            ["`src/win.rs` line 1 is under `cfg(all(windows, feature = \"x\"))`"],
            "declared under it"
        );
        assert!(places(&change("src/both.rs", "fn w() {}\n", "fn w() { }\n")).is_empty());
    }

    #[test]
    fn a_change_only_a_build_without_a_default_feature_compiles_is_named() {
        let manifest = "[package]\nname = \"p\"\nversion = \"0.1.0\"\n\
                        [features]\ndefault = [\"std\"]\nstd = []\nextra = []\n";
        let lib = "#[cfg(not(feature = \"std\"))]\nfn a() -> u8 {\n    1\n}\n\
                   #[cfg(feature = \"extra\")]\nfn b() -> u8 {\n    2\n}\n\
                   #[cfg(not(feature = \"extra\"))]\nfn c() -> u8 {\n    3\n}\n\
                   #[cfg(any(unix, windows))]\nfn d() -> u8 {\n    4\n}\n";
        let read = |path: &str| (path == "Cargo.toml").then(|| manifest.to_owned());
        let places = |from: &str, to: &str| {
            let patch = Patch {
                summary: String::new(),
                changes: vec![FileChange::modify(
                    RepoPath::new("src/lib.rs").expect("path"),
                    lib,
                    lib.replace(from, to),
                )],
            };
            uncompiled(&patch, &read)
        };
        assert_eq!(
            places("    1\n", "    9\n"),
            ["`src/lib.rs` line 3 is under `cfg(not(feature = \"std\"))`"],
            "std is on in every build"
        );
        assert!(
            places("    2\n", "    9\n").is_empty(),
            "built with --features extra"
        );
        assert!(places("    3\n", "    9\n").is_empty(), "the default build");
        assert!(places("    4\n", "    9\n").is_empty(), "true here");
    }

    #[test]
    fn a_change_outside_any_feature_needs_no_extra_build() {
        assert!(configs_for(&LIB.replace("    1\n", "    2 - 1\n")).is_empty());
        assert!(
            configs_for(&LIB.replace("pub fn other() {}", "pub fn other() { }")).is_empty(),
            "a feature the package does not declare is not built"
        );
    }
}
