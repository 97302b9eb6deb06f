//! Agreement of Nova's rules with the lint each one names (`lint = "clippy::..."`), on crates
//! from the registry: for every such rule, what both found, what only Nova found, what only the
//! lint found, and precision and recall against the lint.
//!
//! Each crate (the version in Nova's `Cargo.lock`, as unpacked in the cargo registry) is copied
//! to `target/agreement/`, its dev-dependencies and extra targets dropped, and linted with
//! `cargo clippy --lib` with every named lint enabled (thresholds from the rules' own limits, in
//! a `clippy.toml`); Nova's rules run over the same files. Both sides are held to what clippy
//! compiles: the library's files, not its tests, examples or binaries. A finding of each side
//! matches one of the other when their lines overlap.
//!
//! ```sh
//! cargo bench --bench agreement --no-run && cargo bench --bench agreement [-- CRATE...]
//! ```
//!
//! Without names, the crates of `CRATES`; with them, those crates (any in Nova's `Cargo.lock`).
//!
//! Results, with the disagreements explained, go in BENCHMARKS.md.

#![expect(
    clippy::print_stdout,
    reason = "a benchmark reports its results on stdout"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use nova::findings::Finding;
use nova::rules::RuleSet;

#[path = "common/corpus.rs"]
#[expect(
    dead_code,
    reason = "the corpus builder is the other benchmarks'; this one only finds crates"
)]
mod corpus;

/// Library crates of several authors and styles, all in Nova's lock (so offline builds work).
const CRATES: &[&str] = &[
    "memchr",
    "aho-corasick",
    "regex-syntax",
    "similar",
    "strsim",
    "smallvec",
    "itoa",
    "httparse",
    "walkdir",
    "semver",
    "bytes",
    "globset",
    // Library code that prints, exits and says `unimplemented!`: what the others never do.
    "cc",
    "anyhow",
];

/// Disagreements shown per rule.
const SHOWN: usize = 8;

/// Where a lint covers more kinds of item than the rule that names it (`missing_docs`: fields,
/// variants, modules...), the lint's messages for the kinds the rule covers.
const COVERS: &[(&str, &[&str])] = &[
    (
        "pub-fn-without-docs",
        &["a function", "a method", "an associated function"],
    ),
    (
        "pub-type-without-docs",
        &["a struct", "an enum", "a trait", "a type alias", "a union"],
    ),
];

/// One place a side found something: file, first and last line, first and last column (two
/// findings on one line are two; `v[i][j]` is two, one inside the other), and the lint's message.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Place {
    file: String,
    lines: (usize, usize),
    columns: (usize, usize),
    message: String,
}

/// What both sides found for one rule, over all crates.
#[derive(Debug, Default)]
struct Tally {
    both: usize,
    only_nova: Vec<Place>,
    only_lint: Vec<Place>,
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let asked: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    // The crates named on the command line (any in the local registry), else the list.
    let crates: Vec<&str> = if asked.is_empty() {
        CRATES.to_vec()
    } else {
        asked.iter().map(String::as_str).collect()
    };
    let (rules, problems) = RuleSet::builtin();
    assert!(problems.is_empty(), "{problems:?}");
    let linted: BTreeMap<String, String> = rules
        .rules
        .iter()
        .filter_map(|r| Some((r.file.id.clone(), r.file.lint.clone()?)))
        .collect();
    let mut tallies: BTreeMap<String, Tally> = BTreeMap::new();
    let work = root.join("target/agreement");
    for name in crates {
        let Some(source) = registry_source(&root, name) else {
            println!("{name}: not in the cargo registry; skipped");
            continue;
        };
        let dir = work.join(name);
        let target = root.join("target/agreement-target");
        // With every feature, so that clippy compiles what Nova reads; failing that (optional
        // dependencies not in the local registry, nightly-only features), without the optional
        // dependencies, then with the default features only.
        let attempts = [(false, true), (true, true), (false, false), (true, false)];
        let linted_with = attempts.iter().find_map(|&(without_optional, all)| {
            prepare(&source, &dir, &rules, without_optional);
            let lint = clippy(&dir, &target, &linted, all)?;
            Some((lint, enabled_features(&dir, all)))
        });
        let Some((lint, enabled)) = linted_with else {
            println!("{name}: clippy did not run; skipped");
            continue;
        };
        let (_, found) = nova::orchestrator::scan_tree(&dir, &rules, None, None);
        let library = library_files(&dir);
        // A build script is linted too; it is not the library.
        let lint: BTreeMap<String, Vec<Place>> = lint
            .into_iter()
            .map(|(name, places)| {
                let kept = places
                    .into_iter()
                    .filter(|p| library.contains(&p.file))
                    .collect();
                (name, kept)
            })
            .collect();
        let set_by_build = build_script_cfgs(&dir, &target, name);
        let nova = by_rule(
            &dir,
            &found,
            &linted,
            &library,
            (&enabled, &set_by_build),
            name,
        );
        for (rule, lint_name) in &linted {
            let ours = nova.get(rule).cloned().unwrap_or_default();
            let mut theirs = lint.get(lint_name).cloned().unwrap_or_default();
            if let Some((_, kinds)) = COVERS.iter().find(|(id, _)| id == rule) {
                theirs.retain(|p| {
                    kinds
                        .iter()
                        .any(|k| p.message.ends_with(&format!("for {k}")))
                });
            }
            let tally = tallies.entry(rule.clone()).or_default();
            compare(ours, theirs, name, tally);
        }
        println!(
            "{name}: {} library files, {} lint findings, {} Nova findings",
            library.len(),
            lint.values().map(Vec::len).sum::<usize>(),
            nova.values().map(Vec::len).sum::<usize>()
        );
    }
    report(&linted, &tallies);
}

/// The unpacked source of the locked version of `name` (the first, if several are locked).
fn registry_source(root: &Path, name: &str) -> Option<PathBuf> {
    let package = corpus::locked_packages(root).into_iter().find(|p| {
        p.strip_prefix(name)
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|version| version.starts_with(|c: char| c.is_ascii_digit()))
    })?;
    corpus::registries()
        .into_iter()
        .map(|r| r.join(&package))
        .find(|p| p.is_dir())
}

/// Copies the crate, drops what `cargo clippy --lib` would need the network or other targets
/// for (and, when asked, its optional dependencies), makes it its own workspace, and sets
/// clippy's thresholds to the rules' limits.
fn prepare(source: &Path, dir: &Path, rules: &RuleSet, without_optional: bool) {
    let _ = std::fs::remove_dir_all(dir);
    copy_dir(source, dir);
    let manifest = dir.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).expect("Cargo.toml");
    let mut table: toml::Table = toml::from_str(&text).expect("a manifest");
    for key in [
        "dev-dependencies",
        "bench",
        "test",
        "example",
        "bin",
        "workspace",
    ] {
        table.remove(key);
    }
    if let Some(toml::Value::Table(targets)) = table.get_mut("target") {
        for (_, target) in targets.iter_mut() {
            if let toml::Value::Table(target) = target {
                target.remove("dev-dependencies");
            }
        }
    }
    if without_optional {
        drop_optional(&mut table);
    }
    table.insert("workspace".into(), toml::Value::Table(toml::Table::new()));
    std::fs::write(&manifest, toml::to_string(&table).expect("toml")).expect("write");
    let limit = |id: &str, pick: fn(&nova::rules::Limits) -> Option<usize>| {
        rules
            .rule(id)
            .and_then(|r| pick(&r.file.limits))
            .unwrap_or(0)
    };
    // The crate's own configuration is kept (clippy reads `.clippy.toml` before `clippy.toml`,
    // so there is one file), with the rules' thresholds over its.
    let mut config: toml::Table = [".clippy.toml", "clippy.toml"]
        .iter()
        .find_map(|name| {
            let text = std::fs::read_to_string(dir.join(name)).ok()?;
            let _ = std::fs::remove_file(dir.join(name));
            toml::from_str(&text).ok()
        })
        .unwrap_or_default();
    let threshold = |n: usize| toml::Value::Integer(i64::try_from(n).unwrap_or(i64::MAX));
    config.insert(
        "too-many-lines-threshold".into(),
        threshold(limit("long-function", |l| l.min_code_lines).saturating_sub(1)),
    );
    config.insert(
        "excessive-nesting-threshold".into(),
        threshold(limit("deep-nesting", |l| l.min_depth).saturating_sub(1)),
    );
    std::fs::write(
        dir.join("clippy.toml"),
        toml::to_string(&config).expect("toml"),
    )
    .expect("clippy.toml");
}

/// The features a build of the package in `dir` enables: all it declares (optional
/// dependencies are features too), or the default ones and what they enable in turn.
fn enabled_features(dir: &Path, all: bool) -> BTreeSet<String> {
    let read = |path: &str| std::fs::read_to_string(dir.join(path)).ok();
    let package = nova::index::package::of("src/lib.rs", &read).expect("the package's manifest");
    let on = if all {
        package.features
    } else {
        package.default_features
    };
    on.into_iter().collect()
}

/// Drops optional dependencies (a build with default features does not need them, and offline
/// they may not be in the local registry), and what the features say of them.
fn drop_optional(table: &mut toml::Table) {
    let mut dropped = Vec::new();
    if let Some(toml::Value::Table(deps)) = table.get_mut("dependencies") {
        let optional: Vec<String> = deps
            .iter()
            .filter(|(_, spec)| spec.get("optional").and_then(toml::Value::as_bool) == Some(true))
            .map(|(name, _)| name.clone())
            .collect();
        for name in optional {
            deps.remove(&name);
            dropped.push(name);
        }
    }
    let names = |entry: &str| {
        let entry = entry.strip_prefix("dep:").unwrap_or(entry);
        let name = entry.split(['/', '?']).next().unwrap_or(entry);
        dropped.iter().any(|d| d == name)
    };
    if let Some(toml::Value::Table(features)) = table.get_mut("features") {
        for (_, list) in features.iter_mut() {
            if let toml::Value::Array(items) = list {
                items.retain(|item| item.as_str().is_none_or(|s| !names(s)));
            }
        }
        for name in &dropped {
            features.remove(name);
        }
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir").flatten() {
        let path = entry.path();
        let target = to.join(entry.file_name());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            let _ = std::fs::copy(&path, &target);
        }
    }
}

/// The lint findings in the crate's own files, by lint name.
fn clippy(
    dir: &Path,
    target: &Path,
    linted: &BTreeMap<String, String>,
    all_features: bool,
) -> Option<BTreeMap<String, Vec<Place>>> {
    let mut lints: Vec<&String> = linted.values().collect();
    lints.sort();
    lints.dedup();
    let mut args: Vec<String> = [
        "clippy",
        "--lib",
        "--offline",
        "--quiet",
        "--message-format=json",
        "--",
        "-A",
        "clippy::all",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    if all_features {
        args.insert(2, String::from("--all-features"));
    }
    for lint in lints {
        args.push(String::from("-W"));
        args.push(lint.trim_start_matches("rustc::").to_owned());
    }
    #[expect(
        clippy::disallowed_methods,
        reason = "the benchmark runs clippy, the tool it compares with"
    )]
    let output = std::process::Command::new("cargo")
        .args(&args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .output()
        .ok()?;
    if !output.status.success() {
        let said = String::from_utf8_lossy(&output.stderr);
        let first = said
            .lines()
            .find(|l| l.starts_with("error"))
            .unwrap_or_default();
        println!("  clippy failed (all features: {all_features}): {first}");
        return None;
    }
    let mut found: BTreeMap<String, Vec<Place>> = BTreeMap::new();
    let dir_text = std::fs::canonicalize(dir).ok()?;
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        let message = &message["message"];
        let Some(code) = message["code"]["code"].as_str() else {
            continue;
        };
        let code = if code.contains("::") {
            code.to_owned()
        } else {
            format!("rustc::{code}")
        };
        let Some(span) = message["spans"]
            .as_array()
            .and_then(|spans| spans.iter().find(|s| s["is_primary"] == true))
        else {
            continue;
        };
        let file = span["file_name"].as_str().unwrap_or_default();
        let file = Path::new(file);
        let relative = if file.is_absolute() {
            match file.strip_prefix(&dir_text) {
                Ok(relative) => relative.to_path_buf(),
                Err(_) => continue,
            }
        } else {
            file.to_path_buf()
        };
        let lines = (
            span["line_start"].as_u64().unwrap_or(0) as usize,
            span["line_end"].as_u64().unwrap_or(0) as usize,
        );
        found.entry(code).or_default().push(Place {
            file: relative.to_string_lossy().into_owned(),
            lines,
            columns: (
                span["column_start"].as_u64().unwrap_or(0) as usize,
                span["column_end"].as_u64().unwrap_or(0) as usize,
            ),
            message: message["message"].as_str().unwrap_or_default().to_owned(),
        });
    }
    for places in found.values_mut() {
        places.sort();
        places.dedup();
    }
    Some(found)
}

/// The files of the library target: `src/` but binaries (`src/main.rs`, `src/bin/`).
fn library_files(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut stack = vec![dir.join("src")];
    while let Some(at) = stack.pop() {
        for entry in std::fs::read_dir(&at).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path
                    .strip_prefix(dir)
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if relative != "src/main.rs" && !relative.starts_with("src/bin/") {
                    files.push(relative);
                }
            }
        }
    }
    files
}

/// Nova's findings of the rules that name a lint, in what `clippy --lib` compiled (library
/// code, not test code, not under a feature the build left off nor a `cfg` false on this
/// machine), by rule.
fn by_rule(
    dir: &Path,
    found: &[Finding],
    linted: &BTreeMap<String, String>,
    library: &[String],
    (enabled, set_by_build): (&BTreeSet<String>, &Option<BTreeSet<String>>),
    krate: &str,
) -> BTreeMap<String, Vec<Place>> {
    let read = |path: &str| std::fs::read_to_string(dir.join(path)).ok();
    let parents = nova::index::attributes::Parents::new(&read);
    let mut attributes = BTreeMap::new();
    let mut out: BTreeMap<String, Vec<Place>> = BTreeMap::new();
    for finding in found {
        let path = finding.path.as_str();
        // A file no `mod` declares is compiled by nothing.
        if !linted.contains_key(&finding.rule)
            || !library.iter().any(|f| f == path)
            || !parents.declared(path)
        {
            continue;
        }
        let lines = (finding.span.line_start, finding.span.line_end);
        let attrs = attributes.entry(path.to_owned()).or_insert_with(|| {
            read(path).and_then(|text| nova::index::attributes::for_file(path, &text, &read))
        });
        let compiled = attrs.as_ref().is_none_or(|a| {
            // Where it starts: a long function holds code under other `cfg`s and is compiled.
            let range = lines.0..=lines.0;
            let on = |feature: &str| Some(enabled.contains(feature));
            let named = |name: &str| set_by_build.as_ref().map(|set| set.contains(name));
            !a.touches_test(&range)
                && a.cfgs(&range)
                    .all(|p| nova::index::cfg::holds_given(p, &on, &named) != Some(false))
        });
        if !compiled {
            continue;
        }
        out.entry(finding.rule.clone()).or_default().push(Place {
            file: format!("{krate}/{path}"),
            lines,
            columns: (finding.span.column_start, finding.span.column_end),
            message: String::new(),
        });
    }
    out
}

/// The `cfg` names the crate's build had set (`cargo:rustc-cfg=name` from its build script, as
/// cargo kept its output under `target`), none without a build script; `None` when a build
/// script ran but its output is not found.
fn build_script_cfgs(dir: &Path, target: &Path, krate: &str) -> Option<BTreeSet<String>> {
    if !dir.join("build.rs").is_file() {
        return Some(BTreeSet::new());
    }
    let builds = std::fs::read_dir(target.join("debug/build")).ok()?;
    let output = builds
        .flatten()
        .filter(|entry| {
            entry
                .file_name()
                .to_str()
                .and_then(|n| n.strip_prefix(krate))
                .and_then(|rest| rest.strip_prefix('-'))
                .is_some_and(|hash| hash.chars().all(|c| c.is_ascii_hexdigit()))
        })
        .map(|entry| entry.path().join("output"))
        .filter(|output| output.is_file())
        .max_by_key(|output| std::fs::metadata(output).and_then(|m| m.modified()).ok())?;
    let text = std::fs::read_to_string(output).ok()?;
    Some(
        text.lines()
            .filter_map(|line| {
                line.strip_prefix("cargo::rustc-cfg=")
                    .or_else(|| line.strip_prefix("cargo:rustc-cfg="))
            })
            .filter(|cfg| !cfg.contains('='))
            .map(str::to_owned)
            .collect(),
    )
}

/// Matches each of Nova's places to one of the lint's whose lines overlap it.
fn compare(ours: Vec<Place>, theirs: Vec<Place>, krate: &str, tally: &mut Tally) {
    let mut theirs: Vec<Option<Place>> = theirs
        .into_iter()
        .map(|p| {
            Some(Place {
                file: format!("{krate}/{}", p.file),
                ..p
            })
        })
        .collect();
    for place in ours {
        // The one with the same span, else one whose lines overlap.
        let overlaps = |t: &Place| {
            t.file == place.file && t.lines.0 <= place.lines.1 && place.lines.0 <= t.lines.1
        };
        let exact = theirs.iter().position(|t| {
            t.as_ref().is_some_and(|t| {
                overlaps(t) && (t.lines, t.columns) == (place.lines, place.columns)
            })
        });
        let at = exact.or_else(|| theirs.iter().position(|t| t.as_ref().is_some_and(overlaps)));
        let matched = at.and_then(|at| theirs.get_mut(at));
        match matched {
            Some(slot) => {
                *slot = None;
                tally.both += 1;
            }
            None => tally.only_nova.push(place),
        }
    }
    tally.only_lint.extend(theirs.into_iter().flatten());
}

fn report(linted: &BTreeMap<String, String>, tallies: &BTreeMap<String, Tally>) {
    println!();
    println!("| rule | lint | both | only Nova | only the lint | precision | recall |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    let ratio = |a: usize, b: usize| {
        if b == 0 {
            String::from("-")
        } else {
            format!("{:.2}", a as f64 / b as f64)
        }
    };
    for (rule, lint) in linted {
        let Some(t) = tallies.get(rule) else {
            continue;
        };
        let (ours, theirs) = (t.both + t.only_nova.len(), t.both + t.only_lint.len());
        println!(
            "| `{rule}` | `{lint}` | {} | {} | {} | {} | {} |",
            t.both,
            t.only_nova.len(),
            t.only_lint.len(),
            ratio(t.both, ours),
            ratio(t.both, theirs)
        );
    }
    println!();
    for (rule, t) in tallies {
        if t.only_nova.is_empty() && t.only_lint.is_empty() {
            continue;
        }
        println!("{rule}:");
        for place in t.only_nova.iter().take(SHOWN) {
            println!("  only Nova: {}:{}", place.file, place.lines.0);
        }
        for place in t.only_lint.iter().take(SHOWN) {
            println!("  only the lint: {}:{}", place.file, place.lines.0);
        }
    }
}
