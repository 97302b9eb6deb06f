//! Reading `cargo test --message-format=json` with libtest's output merged in: which test of which
//! target of which package passed, failed or was ignored.
//!
//! A test is named `package (target) name`: `core (lib) tests::one`, `rg (test integration)
//! feature::f1`, `bit-vec (doc) src/lib.rs - BitVec #2`. The package and target come from cargo's
//! `compiler-artifact` messages, matched to the executable each `Running` line names, so that two
//! members' `tests::t` are two tests. A doctest is named by its file and item and its place among
//! that item's doctests, not by its line: adding a line above it does not rename it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// How one test ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TestOutcome {
    Passed,
    Failed,
    Ignored,
}

/// Every test of a `cargo test` run, keyed `package (target) name`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestResults {
    pub tests: BTreeMap<String, TestOutcome>,
    /// What each failing test printed (libtest's `---- name stdout ----` section), keyed like
    /// `tests`, cut to 4 KiB.
    #[serde(default)]
    pub output: BTreeMap<String, String>,
    /// The line each doctest starts on, keyed like `tests`: to say that a doctest moved.
    #[serde(default)]
    pub doc_lines: BTreeMap<String, u32>,
    /// Each doctest's name as libtest gives it (`src/lib.rs - f (line 5)`), keyed like `tests`:
    /// to run it again by name.
    #[serde(default)]
    pub doc_names: BTreeMap<String, String>,
    /// Tests that did not finish within the step's timeout and were killed (counted as failed).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub hung: BTreeSet<String>,
}

/// Bytes kept of each failing test's output.
pub const OUTPUT_LIMIT: usize = 4096;

impl TestResults {
    pub fn count(&self, outcome: TestOutcome) -> usize {
        self.tests.values().filter(|&&o| o == outcome).count()
    }

    pub fn failed(&self) -> impl Iterator<Item = &str> {
        self.names(TestOutcome::Failed)
    }

    pub fn names(&self, outcome: TestOutcome) -> impl Iterator<Item = &str> {
        self.tests
            .iter()
            .filter(move |(_, o)| **o == outcome)
            .map(|(name, _)| name.as_str())
    }

    /// The packages that have tests here.
    pub fn packages(&self) -> BTreeSet<&str> {
        self.tests.keys().map(|key| package_of(key)).collect()
    }

    /// The name libtest knows a test by, to select or skip it: `tests::one`, or a doctest's
    /// `src/lib.rs - f (line 5)`.
    pub fn libtest_name<'a>(&'a self, key: &'a str) -> &'a str {
        match self.doc_names.get(key) {
            Some(raw) => raw,
            None => key.split_once(") ").map_or(key, |(_, name)| name),
        }
    }

    /// Adds `other`'s results, which win where both have a test.
    pub fn merge(&mut self, other: TestResults) {
        self.tests.extend(other.tests);
        self.output.extend(other.output);
        self.doc_lines.extend(other.doc_lines);
        self.doc_names.extend(other.doc_names);
        self.hung.extend(other.hung);
    }
}

/// The test binary a run was in when its output ends, and how far it got there: what a run that
/// was killed at its timeout leaves to name the test that hung.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LastBinary {
    /// `package (target)`, the prefix of its tests' keys.
    pub prefix: String,
    pub package: String,
    /// `lib`, `bin x`, `test x`, `bench x`, `example x` or `doc`.
    pub target: String,
    /// Tests that had finished (libtest's names).
    pub finished: Vec<String>,
    /// Tests libtest said were still running after 60 seconds, and had not finished.
    pub slow: Vec<String>,
    /// The test started last without a result: with one test thread, the one that hung.
    pub started: Option<String>,
}

/// The package part of a test's key.
pub fn package_of(key: &str) -> &str {
    key.split_once(" (").map_or(key, |(package, _)| package)
}

/// A test binary cargo built: whose it is, and which target.
#[derive(Debug, Clone)]
struct Binary {
    package: String,
    target: String,
}

#[derive(Deserialize)]
struct Artifact {
    reason: String,
    package_id: Option<String>,
    target: Option<ArtifactTarget>,
    executable: Option<String>,
    #[serde(default)]
    profile: Option<Profile>,
}

#[derive(Deserialize)]
struct ArtifactTarget {
    name: String,
    kind: Vec<String>,
}

#[derive(Deserialize)]
struct Profile {
    #[serde(default)]
    test: bool,
}

/// The package name in a package id: `path+file:///w/crates/core#0.1.0` (the directory's name),
/// `path+file:///w#core@0.1.0`, `registry+https://...#serde@1.0.0`, or the old
/// `core 0.1.0 (path+file:///w/crates/core)`.
pub fn package_name(id: &str) -> String {
    if let Some((url, fragment)) = id.rsplit_once('#') {
        if let Some((name, _version)) = fragment.split_once('@') {
            return name.to_owned();
        }
        let path = url.split('?').next().unwrap_or(url);
        return path.rsplit('/').next().unwrap_or(path).to_owned();
    }
    id.split_whitespace().next().unwrap_or(id).to_owned()
}

/// `lib`, `bin nova`, `test it`, `bench speed`, `example demo`.
fn target_label(target: &ArtifactTarget) -> String {
    let kind = target.kind.first().map_or("lib", String::as_str);
    match kind {
        "bin" | "test" | "bench" | "example" => format!("{kind} {}", target.name),
        _ => String::from("lib"),
    }
}

/// What the artifact messages say: test executables by file name, and libraries (for doctests)
/// by crate name.
#[derive(Default)]
struct Artifacts {
    executables: BTreeMap<String, Binary>,
    libraries: BTreeMap<String, String>,
}

impl Artifacts {
    fn read(&mut self, line: &str) -> bool {
        if !line.starts_with('{') {
            return false;
        }
        let Ok(artifact) = serde_json::from_str::<Artifact>(line) else {
            return false;
        };
        if artifact.reason != "compiler-artifact" {
            return true;
        }
        let (Some(id), Some(target)) = (artifact.package_id, artifact.target) else {
            return true;
        };
        let package = package_name(&id);
        let is_lib = target
            .kind
            .iter()
            .any(|k| k.contains("lib") || k == "proc-macro");
        if is_lib && !artifact.profile.as_ref().is_some_and(|p| p.test) {
            self.libraries
                .insert(target.name.replace('-', "_"), package.clone());
        }
        if let Some(executable) = artifact.executable {
            let file = file_name(&executable).to_owned();
            let target = target_label(&target);
            self.executables.insert(file, Binary { package, target });
        }
        true
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Parses the merged stdout and stderr of `cargo test --message-format=json` (plain `cargo test`
/// output works too: its binaries are then named as cargo's `Running` lines name them).
pub fn parse_test_output(output: &str) -> TestResults {
    parse_with_last(output).0
}

/// [`parse_test_output`], and the binary the output ends in.
pub fn parse_with_last(output: &str) -> (TestResults, Option<LastBinary>) {
    let mut last: Option<LastBinary> = None;
    let mut results = TestResults::default();
    let mut artifacts = Artifacts::default();
    let mut binary = String::from("? (?)");
    let mut doc_binary = false;
    // The failing test whose output is being read, and that output.
    let mut capture: Option<(String, String)> = None;
    // Doctests seen, before they are numbered: (key prefix, item, line, raw name, outcome).
    let mut doctests: Vec<(String, String, u32, String, TestOutcome)> = Vec::new();
    let mut doc_output: BTreeMap<String, String> = BTreeMap::new();
    for line in output.lines() {
        if artifacts.read(line) {
            continue;
        }
        let trimmed = line.trim();
        let section = trimmed
            .strip_prefix("---- ")
            .and_then(|rest| rest.strip_suffix(" stdout ----"));
        let ends_section = section.is_some()
            || trimmed == "failures:"
            || trimmed.starts_with("test result:")
            || trimmed.starts_with("Running ")
            || trimmed.starts_with("Doc-tests ");
        if ends_section && let Some((name, text)) = capture.take() {
            if doc_binary {
                doc_output.insert(name, cut(text.trim()));
            } else {
                results.output.insert(name, cut(text.trim()));
            }
        }
        if let Some(name) = section {
            let key = if doc_binary {
                format!("{binary}\u{0}{name}")
            } else {
                format!("{binary} {name}")
            };
            capture = Some((key, String::new()));
            continue;
        }
        if let Some((_, text)) = &mut capture {
            text.push_str(line);
            text.push('\n');
            continue;
        }
        if let Some(header) = binary_header(trimmed, &artifacts) {
            binary = header.prefix.clone();
            doc_binary = trimmed.starts_with("Doc-tests ");
            last = Some(header);
            continue;
        }
        let Some(rest) = line.strip_prefix("test ") else {
            continue;
        };
        if let Some(name) = rest.strip_suffix(" has been running for over 60 seconds") {
            if let Some(last) = &mut last {
                last.slow.push(name.to_owned());
            }
            continue;
        }
        // With one test thread, libtest names a test before it runs it.
        if let Some(name) = rest.trim_end().strip_suffix(" ...") {
            if let Some(last) = &mut last {
                last.started = Some(name.to_owned());
            }
            continue;
        }
        let Some((name, status)) = rest.rsplit_once(" ... ") else {
            continue;
        };
        let outcome = match status.trim() {
            "ok" => TestOutcome::Passed,
            "FAILED" => TestOutcome::Failed,
            s if s.starts_with("ignored") => TestOutcome::Ignored,
            _ => continue,
        };
        if let Some(last) = &mut last {
            last.finished.push(name.to_owned());
            last.slow.retain(|slow| slow != name);
            if last.started.as_deref() == Some(name) {
                last.started = None;
            }
        }
        if doc_binary && let Some((item, line)) = doctest_item(name) {
            doctests.push((binary.clone(), item, line, name.to_owned(), outcome));
            continue;
        }
        results.tests.insert(format!("{binary} {name}"), outcome);
    }
    if let Some((name, text)) = capture {
        if doc_binary {
            doc_output.insert(name, cut(text.trim()));
        } else {
            results.output.insert(name, cut(text.trim()));
        }
    }
    number_doctests(doctests, &doc_output, &mut results);
    (results, last)
}

/// The test binary a `Running ...` or `Doc-tests ...` line starts, named from cargo's artifacts.
fn binary_header(line: &str, artifacts: &Artifacts) -> Option<LastBinary> {
    let (package, target) = if let Some(rest) = line.strip_prefix("Running ") {
        // `Running unittests src/lib.rs (/t/debug/deps/x-1234)`
        let (label, executable) = match rest.rsplit_once(" (") {
            Some((label, path)) => (label, path.trim_end_matches(')')),
            None => (rest, ""),
        };
        match artifacts.executables.get(file_name(executable)) {
            Some(found) => (found.package.clone(), found.target.clone()),
            None => (String::from("?"), label.to_owned()),
        }
    } else {
        let krate = line.strip_prefix("Doc-tests ")?;
        let package = artifacts
            .libraries
            .get(krate)
            .cloned()
            .unwrap_or_else(|| krate.to_owned());
        (package, String::from("doc"))
    };
    Some(LastBinary {
        prefix: format!("{package} ({target})"),
        package,
        target,
        ..LastBinary::default()
    })
}

/// A doctest's name without its line, and the line: `src/lib.rs - BitVec (line 192)` gives
/// (`src/lib.rs - BitVec`, 192); `src/lib.rs - f (line 5) - compile fail` gives
/// (`src/lib.rs - f - compile fail`, 5).
fn doctest_item(name: &str) -> Option<(String, u32)> {
    let start = name.rfind(" (line ")?;
    let rest = &name[start + " (line ".len()..];
    let end = rest.find(')')?;
    let line = rest[..end].parse().ok()?;
    Some((format!("{}{}", &name[..start], &rest[end + 1..]), line))
}

/// Names each doctest by its item and its place among that item's doctests, in line order.
fn number_doctests(
    mut doctests: Vec<(String, String, u32, String, TestOutcome)>,
    output: &BTreeMap<String, String>,
    results: &mut TestResults,
) {
    doctests.sort_by(|a, b| (&a.0, &a.1, a.2).cmp(&(&b.0, &b.1, b.2)));
    let mut ordinal = 0;
    let mut previous: Option<(String, String)> = None;
    for (binary, item, line, raw, outcome) in doctests {
        let group = (binary.clone(), item.clone());
        ordinal = if previous.as_ref() == Some(&group) {
            ordinal + 1
        } else {
            1
        };
        previous = Some(group);
        let key = format!("{binary} {item} #{ordinal}");
        if let Some(text) = output.get(&format!("{binary}\u{0}{raw}")) {
            results.output.insert(key.clone(), text.clone());
        }
        results.doc_lines.insert(key.clone(), line);
        results.doc_names.insert(key.clone(), raw);
        results.tests.insert(key, outcome);
    }
}

/// `text` cut to at most [`OUTPUT_LIMIT`] bytes, on a character boundary.
fn cut(text: &str) -> String {
    let mut end = text.len().min(OUTPUT_LIMIT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn artifact(package_id: &str, name: &str, kind: &str, test: bool, exe: Option<&str>) -> String {
        serde_json::json!({
            "reason": "compiler-artifact",
            "package_id": package_id,
            "target": {"name": name, "kind": [kind]},
            "profile": {"test": test},
            "executable": exe,
        })
        .to_string()
    }

    #[test]
    fn package_names_from_ids() {
        for (id, name) in [
            ("path+file:///w/crates/core#0.1.0", "core"),
            ("path+file:///w#grep-core@0.1.0", "grep-core"),
            (
                "registry+https://github.com/rust-lang/crates.io-index#serde@1.0.0",
                "serde",
            ),
            ("core 0.1.0 (path+file:///w/crates/core)", "core"),
        ] {
            assert_eq!(package_name(id), name, "{id}");
        }
    }

    #[test]
    fn attributes_tests_to_packages_and_targets() {
        let output = [
            artifact("path+file:///w/a#0.1.0", "a", "lib", false, None),
            artifact(
                "path+file:///w/a#0.1.0",
                "a",
                "lib",
                true,
                Some("/t/debug/deps/a-111"),
            ),
            artifact(
                "path+file:///w/b#0.1.0",
                "b",
                "lib",
                true,
                Some("/t/debug/deps/b-222"),
            ),
            artifact(
                "path+file:///w/b#0.1.0",
                "it",
                "test",
                true,
                Some("/t/debug/deps/it-333"),
            ),
            String::from("     Running unittests src/lib.rs (/t/debug/deps/a-111)"),
            String::from("test t ... ok"),
            String::from("     Running unittests src/lib.rs (/t/debug/deps/b-222)"),
            String::from("test t ... FAILED"),
            String::from("     Running tests/it.rs (/t/debug/deps/it-333)"),
            String::from("test slow ... ignored, needs a server"),
            String::from("   Doc-tests a"),
            String::from("test src/lib.rs - add (line 3) ... ok"),
        ]
        .join("\n");
        let results = parse_test_output(&output);
        assert_eq!(
            results.tests.keys().collect::<Vec<_>>(),
            [
                "a (doc) src/lib.rs - add #1",
                "a (lib) t",
                "b (lib) t",
                "b (test it) slow"
            ]
        );
        assert_eq!(results.tests["b (lib) t"], TestOutcome::Failed);
        assert_eq!(results.tests["b (test it) slow"], TestOutcome::Ignored);
        assert_eq!(results.doc_lines["a (doc) src/lib.rs - add #1"], 3);
        assert_eq!(
            results.packages().into_iter().collect::<Vec<_>>(),
            ["a", "b"]
        );
    }

    #[test]
    fn doctests_are_named_by_item_not_line() {
        let run = |first: u32, second: u32, third: u32| {
            let output = format!(
                "   Doc-tests bit_vec\n\
                 test src/lib.rs - BitVec (line {second}) ... ok\n\
                 test src/lib.rs - BitVec (line {first}) ... ok\n\
                 test src/lib.rs - BitVec::new (line {third}) - compile fail ... ok\n"
            );
            parse_test_output(&output)
        };
        let before = run(10, 20, 30);
        let after = run(11, 21, 31);
        assert_eq!(
            before.tests.keys().collect::<Vec<_>>(),
            after.tests.keys().collect::<Vec<_>>()
        );
        assert_eq!(
            before.tests.keys().collect::<Vec<_>>(),
            [
                "bit_vec (doc) src/lib.rs - BitVec #1",
                "bit_vec (doc) src/lib.rs - BitVec #2",
                "bit_vec (doc) src/lib.rs - BitVec::new - compile fail #1"
            ]
        );
        assert_eq!(after.doc_lines["bit_vec (doc) src/lib.rs - BitVec #2"], 21);
    }

    #[test]
    fn keeps_what_failing_tests_printed() {
        let output = "     Running unittests src/lib.rs (target/debug/deps/x-abc)\n\nrunning 2 tests\n\
                      test tests::a ... ok\ntest tests::b ... FAILED\n\nfailures:\n\n\
                      ---- tests::b stdout ----\n\nthread 'tests::b' panicked at src/lib.rs:9:9:\n\
                      assertion failed: 1 == 2\n\nfailures:\n    tests::b\n\n\
                      test result: FAILED. 1 passed; 1 failed\n\
                      Doc-tests x\ntest src/lib.rs - f (line 4) ... FAILED\n\nfailures:\n\n\
                      ---- src/lib.rs - f (line 4) stdout ----\nboom\n\ntest result: FAILED.\n";
        let results = parse_test_output(output);
        let unit = "? (unittests src/lib.rs) tests::b";
        assert_eq!(
            results.output[unit],
            "thread 'tests::b' panicked at src/lib.rs:9:9:\nassertion failed: 1 == 2"
        );
        assert_eq!(results.output["x (doc) src/lib.rs - f #1"], "boom");
        assert_eq!(results.output.len(), 2);
        assert_eq!(results.tests.len(), 3);
    }
}
