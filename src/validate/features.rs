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
/// `--all-features`, or `--no-default-features` (with the features named around the lines).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FeatureConfig {
    pub package: String,
    /// Empty for `--all-features` (unless `no_default`).
    pub features: Vec<String>,
    /// The directory of the package's manifest (`""` at the root).
    #[serde(default)]
    pub dir: String,
    /// The package's default features off: the lines are compiled only so
    /// (`cfg(not(feature = "std"))` where `std` is a default).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub no_default: bool,
    /// Built, not tested: the change's lines are the default build's, which tested them; this
    /// build proves that the code under the other features still compiles with the change (an
    /// import only a feature's code uses, taken away as unused).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub build_only: bool,
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
        args.extend(self.feature_flags());
        args
    }

    /// `--features a,b`, `--all-features`, `--no-default-features --features a`.
    fn feature_flags(&self) -> Vec<String> {
        let mut flags = Vec::new();
        if self.no_default {
            flags.push(String::from("--no-default-features"));
        }
        if !self.features.is_empty() {
            flags.push(String::from("--features"));
            flags.push(self.features.join(","));
        } else if !self.no_default {
            flags.push(String::from("--all-features"));
        }
        flags
    }

    /// Every feature on: a build beyond what the change's lines need.
    pub fn all_features(&self) -> bool {
        self.features.is_empty() && !self.no_default
    }

    /// For people: "`core` with --features extra".
    pub fn describe(&self) -> String {
        format!("`{}` with {}", self.package, self.feature_flags().join(" "))
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
    /// Built and tested as its libraries and binaries alone: with the base's targets it builds
    /// on neither tree (an integration test that needs the default features).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lib_only: bool,
}

impl FeatureBuild {
    /// The changed lines need it (it is not `--all-features`) and it built on neither tree: nothing
    /// here compiles those lines, so nothing proves them. Any other change on this tree that
    /// needs the same configuration is unproved for the same reason.
    pub fn unbuildable(&self) -> bool {
        !self.ok && self.before_ok == Some(false) && !self.config.all_features()
    }
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
    // Per package: the features named around each changed line with the `cfg`s over it, and the
    // feature sets of the lines only a build without the defaults compiles.
    type Wanted = (Vec<Named>, BTreeSet<Vec<String>>);
    let mut by_package: BTreeMap<String, (package::Package, Wanted)> = BTreeMap::new();
    for change in &patch.changes {
        let path = change.path.as_str();
        if !path.ends_with(".rs") {
            continue;
        }
        let Some(package) = package::of(path, read) else {
            continue;
        };
        let (mut wanted, mut bare) = Wanted::default();
        let before = change.before.as_deref().unwrap_or("");
        let after = change.after.as_deref().unwrap_or("");
        let hunks = crate::edit::changed_lines(before, after);
        // The old side's lines in the old text, the new side's in the new.
        for (text, old) in [(before, true), (after, false)] {
            let Some(found) = attributes::for_file(path, text, read) else {
                continue;
            };
            for (removed, added) in &hunks {
                let Some(lines) = (if old { removed } else { added }) else {
                    continue;
                };
                let named: BTreeSet<String> = found
                    .features(lines)
                    .into_iter()
                    .filter(|f| package.features.contains(f))
                    .collect();
                let without_defaults = found.cfgs(lines).any(|predicate| {
                    compiling_build(predicate, Some(&package), &named) == Some(Build::NoDefault)
                });
                if without_defaults {
                    bare.insert(named.iter().cloned().collect());
                } else if !named.is_empty() {
                    let cfgs = found.cfgs(lines).map(str::to_owned).collect();
                    wanted.push((named, cfgs));
                }
            }
        }
        let entry = by_package
            .entry(package.name.clone())
            .or_insert_with(|| (package, Wanted::default()));
        entry.1.0.append(&mut wanted);
        entry.1.1.extend(bare);
    }
    by_package
        .into_iter()
        .flat_map(|(name, (package, (lines, bare)))| package_configs(&name, &package, &lines, bare))
        .collect()
}

/// The feature configurations `patch`'s changed lines are compiled only under (built and tested
/// for it; not the `--all-features` build every change to a package with features gets): what a
/// change needs to be proved at all.
pub fn needed(patch: &Patch, read: &dyn Fn(&str) -> Option<String>) -> Vec<FeatureConfig> {
    configs(patch, read)
        .into_iter()
        .filter(|config| !config.build_only && !config.all_features())
        .collect()
}

/// The extra builds one package's changed lines need: with the features named around them (and
/// all features, where that is more) when some are not defaults, each built and tested; without
/// the defaults where only that compiles a line; else, where the package has features the
/// default build leaves off, `--all-features` built only.
fn package_configs(
    name: &str,
    package: &package::Package,
    lines: &[Named],
    bare: BTreeSet<Vec<String>>,
) -> Vec<FeatureConfig> {
    let config = |features: Vec<String>, no_default: bool| FeatureConfig {
        package: name.to_owned(),
        features,
        dir: package.dir.clone(),
        no_default,
        build_only: false,
    };
    // Features the defaults turn on are the workspace's own build, built and tested already.
    let defaults = |named: &[String]| {
        named
            .iter()
            .all(|feature| package.default_features.contains(feature))
    };
    let features: BTreeSet<String> = lines.iter().flat_map(|(named, _)| named).cloned().collect();
    // A line the build with every named feature does not compile (`all(feature = "a",
    // not(feature = "b"))` beside a change under `b`) gets a build of its own features.
    let apart: BTreeSet<Vec<String>> = {
        let union = compiling_build_with(package, &features);
        lines
            .iter()
            .filter(|(_, cfgs)| !cfgs.iter().all(|predicate| union(predicate)))
            .map(|(named, _)| named.iter().cloned().collect())
            .collect()
    };
    // `--all-features` turns on nothing more where the features named are all there are
    // (besides the defaults, which are on anyway).
    let more = package.features.iter().any(|feature| {
        feature != "default"
            && !features.contains(feature)
            && !package.default_features.contains(feature)
    });
    let named: Vec<String> = features.into_iter().collect();
    let mut configs = Vec::new();
    if !defaults(&named) {
        configs.push(config(named, false));
        if more {
            configs.push(config(Vec::new(), false));
        }
    } else if more {
        configs.push(FeatureConfig {
            build_only: true,
            ..config(Vec::new(), false)
        });
    }
    let apart = apart.into_iter().filter(|named| !defaults(named));
    configs.extend(apart.map(|features| config(features, false)));
    configs.extend(bare.into_iter().map(|features| config(features, true)));
    configs
}

/// The features named around one changed line, and the `cfg`s over it.
type Named = (BTreeSet<String>, Vec<String>);

/// Whether a predicate holds with the package's defaults and `features` on.
fn compiling_build_with<'a>(
    package: &'a package::Package,
    features: &'a BTreeSet<String>,
) -> impl Fn(&str) -> bool + 'a {
    move |predicate| {
        let on = |feature: &str| {
            package.default_features.iter().any(|f| f == feature) || features.contains(feature)
        };
        cfg::holds_with(predicate, &|f| Some(on(f))) != Some(false)
    }
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
/// features, nor with the features named around the line on, nor with all of them, nor with the
/// defaults off (`cfg(windows)` on Linux; `cfg(all(feature = "std", not(feature = "std")))`).
/// One sentence each, at most one a file.
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
        .find(|p| compiling_build(p, package, &named).is_none())
}

/// The builds validation runs for a package's changed lines, in the order it prefers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Build {
    /// The workspace's own build: the default features.
    Default,
    /// The defaults and the features named around the lines.
    Named,
    /// `--all-features`.
    All,
    /// `--no-default-features` with the features named around the lines, and what they enable.
    NoDefault,
}

/// The first of the builds validation runs that satisfies `predicate` ([`Build`]). Without a
/// package to read, only what this machine decides alone counts.
fn compiling_build(
    predicate: &str,
    package: Option<&package::Package>,
    named: &BTreeSet<String>,
) -> Option<Build> {
    let Some(package) = package else {
        return (cfg::holds(predicate) != Some(false)).then_some(Build::Default);
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
    let bare = package.closure_of(named.iter().map(String::as_str));
    let bare: BTreeSet<&str> = bare.iter().map(String::as_str).collect();
    [
        (Build::Default, default),
        (Build::Named, with_named),
        (Build::All, all),
        (Build::NoDefault, bare),
    ]
    .into_iter()
    .find(|(_, on)| cfg::holds_with(predicate, &|f| Some(on.contains(f))) != Some(false))
    .map(|(build, _)| build)
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
    fn a_change_only_a_build_without_the_defaults_compiles_is_built_so() {
        let manifest = "[package]\nname = \"p\"\nversion = \"0.1.0\"\n\
                        [features]\ndefault = [\"std\"]\nstd = [\"alloc\"]\nalloc = []\nextra = []\n";
        let lib = "#[cfg(not(feature = \"std\"))]\nfn a() -> u8 {\n    1\n}\n\
                   #[cfg(feature = \"extra\")]\nfn b() -> u8 {\n    2\n}\n\
                   #[cfg(not(feature = \"extra\"))]\nfn c() -> u8 {\n    3\n}\n\
                   #[cfg(any(unix, windows))]\nfn d() -> u8 {\n    4\n}\n\
                   #[cfg(all(feature = \"alloc\", not(feature = \"std\")))]\nfn e() -> u8 {\n    5\n}\n\
                   #[cfg(all(windows, not(feature = \"std\")))]\nfn f() -> u8 {\n    6\n}\n";
        let read = |path: &str| (path == "Cargo.toml").then(|| manifest.to_owned());
        let patch = |from: &str, to: &str| Patch {
            summary: String::new(),
            changes: vec![FileChange::modify(
                RepoPath::new("src/lib.rs").expect("path"),
                lib,
                lib.replace(from, to),
            )],
        };
        let places = |from: &str, to: &str| uncompiled(&patch(from, to), &read);
        let builds = |from: &str, to: &str| -> Vec<String> {
            configs(&patch(from, to), &read)
                .iter()
                .map(|c| c.args().join(" "))
                .collect()
        };
        assert!(
            places("    1\n", "    9\n").is_empty(),
            "built without the defaults"
        );
        assert_eq!(
            builds("    1\n", "    9\n"),
            [
                "--manifest-path Cargo.toml --all-features",
                "--manifest-path Cargo.toml --no-default-features"
            ]
        );
        assert!(places("    5\n", "    9\n").is_empty());
        assert_eq!(
            builds("    5\n", "    9\n"),
            [
                "--manifest-path Cargo.toml --all-features",
                "--manifest-path Cargo.toml --no-default-features --features alloc"
            ]
        );
        assert_eq!(
            places("    6\n", "    9\n"),
            ["`src/lib.rs` line 23 is under `cfg(all(windows, not(feature = \"std\")))`"],
        );
        assert!(
            places("    2\n", "    9\n").is_empty(),
            "built with --features extra"
        );
        assert!(places("    3\n", "    9\n").is_empty(), "the default build");
        assert_eq!(
            builds("    3\n", "    9\n"),
            ["--manifest-path Cargo.toml --all-features"],
            "built only"
        );
        assert!(places("    4\n", "    9\n").is_empty(), "true here");
    }

    /// The extra builds of a change from `before` to `after` in a root package's `src/lib.rs`
    /// ([`MANIFEST`]'s).
    fn root_builds(before: &str, after: &str) -> Vec<String> {
        let read = |path: &str| (path == "Cargo.toml").then(|| MANIFEST.to_owned());
        let patch = Patch {
            summary: String::new(),
            changes: vec![FileChange::modify(
                RepoPath::new("src/lib.rs").expect("path"),
                before,
                after,
            )],
        };
        configs(&patch, &read)
            .iter()
            .map(|c| c.args().join(" "))
            .collect()
    }

    #[test]
    fn the_default_features_are_not_built_again() {
        let lib = LIB.replace("feature = \"extra\"", "feature = \"std\"");
        assert_eq!(
            root_builds(&lib, &lib.replace("one() + 1", "one() + 2")),
            ["--manifest-path Cargo.toml --all-features"],
            "`std` is a default: the workspace's build has it"
        );
    }

    #[test]
    fn a_line_the_build_with_every_named_feature_leaves_out_gets_its_own() {
        let lib = "#[cfg(all(feature = \"extra\", not(feature = \"more\")))]\nfn a() -> u8 {\n    1\n}\n\
                   #[cfg(feature = \"more\")]\nfn b() -> u8 {\n    2\n}\n";
        let changed = lib
            .replace("    1\n", "    3\n")
            .replace("    2\n", "    4\n");
        assert_eq!(
            root_builds(lib, &changed),
            [
                "--manifest-path Cargo.toml --features extra,more",
                "--manifest-path Cargo.toml --features extra"
            ],
            "`extra` and `more` are all the features besides the defaults"
        );
    }

    #[test]
    fn a_change_outside_any_feature_is_built_with_all_features_not_tested() {
        let configs = configs_for(&LIB.replace("    1\n", "    2 - 1\n"));
        let built: Vec<(String, bool)> = configs
            .iter()
            .map(|c| (c.args().join(" "), c.build_only))
            .collect();
        assert_eq!(
            built,
            [(
                String::from("--manifest-path crates/feat/Cargo.toml --all-features"),
                true
            )],
            "the code under `extra` may use what the change touched"
        );
        let undeclared = configs_for(&LIB.replace("pub fn other() {}", "pub fn other() { }"));
        assert_eq!(
            undeclared, configs,
            "a feature the package does not declare is not built"
        );
        let plain = "[package]\nname = \"feat\"\nversion = \"0.1.0\"\n\n[features]\n\
                     default = [\"std\"]\nstd = []\n";
        assert!(
            configs_with(plain, &LIB.replace("    1\n", "    2 - 1\n")).is_empty(),
            "no feature the default build leaves off"
        );
    }
}
