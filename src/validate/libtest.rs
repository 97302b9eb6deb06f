//! Reading libtest's output from `cargo test`: which test of which binary passed, failed or was
//! ignored.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// How one test ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TestOutcome {
    Passed,
    Failed,
    Ignored,
}

/// Every test of a `cargo test` run, keyed `binary::test` (the binary as cargo names it in its
/// `Running` line, like `unittests src/lib.rs`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestResults {
    pub tests: BTreeMap<String, TestOutcome>,
    /// What each failing test printed (libtest's `---- name stdout ----` section), keyed like
    /// `tests`, cut to 4 KiB.
    #[serde(default)]
    pub output: BTreeMap<String, String>,
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
}

/// Parses the merged stdout and stderr of `cargo test`.
pub fn parse_test_output(output: &str) -> TestResults {
    let mut results = TestResults::default();
    let mut binary = String::from("?");
    // The failing test whose output is being read, and that output.
    let mut capture: Option<(String, String)> = None;
    for line in output.lines() {
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
            results.output.insert(name, cut(text.trim()));
        }
        if let Some(name) = section {
            capture = Some((format!("{binary}::{name}"), String::new()));
            continue;
        }
        if let Some((_, text)) = &mut capture {
            text.push_str(line);
            text.push('\n');
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix("Running ") {
            // `Running unittests src/lib.rs (target/debug/deps/x-1234)`
            binary = rest.split(" (").next().unwrap_or(rest).to_owned();
            continue;
        }
        if let Some(rest) = trimmed.strip_prefix("Doc-tests ") {
            binary = format!("doc {rest}");
            continue;
        }
        let Some(rest) = line.strip_prefix("test ") else {
            continue;
        };
        let Some((name, status)) = rest.rsplit_once(" ... ") else {
            continue;
        };
        let outcome = match status.trim() {
            "ok" => TestOutcome::Passed,
            "FAILED" => TestOutcome::Failed,
            s if s.starts_with("ignored") => TestOutcome::Ignored,
            _ => continue,
        };
        results.tests.insert(format!("{binary}::{name}"), outcome);
    }
    if let Some((name, text)) = capture {
        results.output.insert(name, cut(text.trim()));
    }
    results
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

    #[test]
    fn attributes_tests_to_binaries() {
        let output = "   Compiling x v0.1.0\n     Running unittests src/lib.rs (target/debug/deps/x-abc)\n\nrunning 2 tests\ntest tests::a ... ok\ntest tests::b ... FAILED\n\n     Running tests/it.rs (target/debug/deps/it-def)\ntest a ... ok\ntest slow ... ignored, needs a server\n   Doc-tests x\ntest src/lib.rs - add (line 3) ... ok\n";
        let results = parse_test_output(output);
        assert_eq!(results.tests.len(), 5);
        assert_eq!(
            results.tests["unittests src/lib.rs::tests::b"],
            TestOutcome::Failed
        );
        assert_eq!(results.tests["tests/it.rs::a"], TestOutcome::Passed);
        assert_eq!(results.tests["tests/it.rs::slow"], TestOutcome::Ignored);
        assert_eq!(
            results.tests["doc x::src/lib.rs - add (line 3)"],
            TestOutcome::Passed
        );
        assert_eq!(
            results.failed().collect::<Vec<_>>(),
            ["unittests src/lib.rs::tests::b"]
        );
    }

    #[test]
    fn keeps_what_failing_tests_printed() {
        let output = "     Running unittests src/lib.rs (target/debug/deps/x-abc)\n\nrunning 2 tests\n\
                      test tests::a ... ok\ntest tests::b ... FAILED\n\nfailures:\n\n\
                      ---- tests::b stdout ----\n\nthread 'tests::b' panicked at src/lib.rs:9:9:\n\
                      assertion failed: 1 == 2\n\nfailures:\n    tests::b\n\n\
                      test result: FAILED. 1 passed; 1 failed\n";
        let results = parse_test_output(output);
        assert_eq!(
            results.output["unittests src/lib.rs::tests::b"],
            "thread 'tests::b' panicked at src/lib.rs:9:9:\nassertion failed: 1 == 2"
        );
        assert_eq!(results.output.len(), 1);
        assert_eq!(results.tests.len(), 2);
    }
}
