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
}

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
    for line in output.lines() {
        let trimmed = line.trim();
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
    results
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
}
