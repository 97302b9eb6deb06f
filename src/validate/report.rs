//! What a validation counted, and the rule that accepts or rejects a candidate against the base.

use serde::{Deserialize, Serialize};

use super::libtest::{TestOutcome, TestResults};
use crate::engine::CompileError;

/// How many compile errors a report keeps structured.
pub const FIRST_ERRORS: usize = 10;

/// One command that ran, and how long it took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Step {
    pub command: String,
    pub ok: bool,
    pub seconds: f64,
    /// Why the sandbox stopped it, if it did: "timed out after 600 s", "hit the process limit".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
}

/// Build, tests and lints of one tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationReport {
    /// `cargo build --tests` succeeded.
    pub build_ok: bool,
    /// Compile errors, rendered, when the build failed.
    pub build_errors: Vec<String>,
    /// The first compile errors (at most ten), structured.
    #[serde(default)]
    pub first_errors: Vec<CompileError>,
    /// `cargo test` ran to completion (it may still have failing tests).
    pub tests_ran: bool,
    pub tests: TestResults,
    /// Warnings clippy (or `cargo check` without clippy) reported.
    pub lint_warnings: usize,
    /// `clippy` or `check`.
    pub linter: String,
    /// Warnings compared with the base's (`+2`: two more), for a candidate judged against one.
    #[serde(default)]
    pub lint_delta: Option<i64>,
    pub steps: Vec<Step>,
    /// The `acceptance` commands of the agent that made the change, each of which must pass.
    #[serde(default)]
    pub acceptance: Vec<Step>,
    /// The isolation the commands ran under (`nova_sandbox::describe`).
    #[serde(default)]
    pub sandbox: String,
    /// Reused from an earlier run on the same commit (`Workspace::validate_base`).
    #[serde(default)]
    pub cached: bool,
}

impl ValidationReport {
    pub fn passed(&self) -> usize {
        self.tests.count(TestOutcome::Passed)
    }

    pub fn failed(&self) -> usize {
        self.tests.count(TestOutcome::Failed)
    }

    /// Whether this tree is a sound base: it builds and every test passes.
    pub fn is_green(&self) -> bool {
        self.build_ok && self.tests_ran && self.failed() == 0
    }

    /// What ran and what it counted, in one line: the `Nova-Validation` trailer.
    pub fn summary(&self) -> String {
        if !self.build_ok {
            return String::from("cargo build --tests failed");
        }
        let cached = if self.cached {
            " (results of an earlier run on this commit)"
        } else {
            ""
        };
        format!(
            "cargo build --tests ok; cargo test {} passed, {} failed, {} ignored; {} {} warnings{cached}",
            self.passed(),
            self.failed(),
            self.tests.count(TestOutcome::Ignored),
            self.linter,
            self.lint_warnings
        )
    }
}

/// Accept or reject, with every reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub accepted: bool,
    pub reasons: Vec<String>,
}

/// Records in `candidate` how its warnings compare with the base's.
pub fn record_lint_delta(base: &ValidationReport, candidate: &mut ValidationReport) {
    if candidate.build_ok {
        let delta = candidate.lint_warnings as i64 - base.lint_warnings as i64;
        candidate.lint_delta = Some(delta);
    }
}

/// A candidate is accepted when it builds, every test that passed on the base still passes, no
/// test disappeared, and the warning count did not grow.
pub fn judge(base: &ValidationReport, candidate: &ValidationReport) -> Verdict {
    let mut reasons: Vec<String> = candidate
        .steps
        .iter()
        .chain(&candidate.acceptance)
        .filter_map(|step| Some(format!("`{}` {}", step.command, step.stopped.as_deref()?)))
        .collect();
    if !candidate.build_ok {
        let first = candidate
            .build_errors
            .first()
            .map(|e| first_line(e))
            .unwrap_or_default();
        reasons.push(format!("the build fails: {first}"));
    } else if !candidate.tests_ran {
        reasons.push(String::from("`cargo test` did not run to completion"));
    } else {
        for (name, outcome) in &base.tests.tests {
            if *outcome != TestOutcome::Passed {
                continue;
            }
            match candidate.tests.tests.get(name) {
                Some(TestOutcome::Passed) => {}
                Some(TestOutcome::Failed) => reasons.push(format!("test `{name}` fails")),
                Some(TestOutcome::Ignored) => reasons.push(format!("test `{name}` is now ignored")),
                None => reasons.push(format!("test `{name}` disappeared")),
            }
        }
        for step in candidate.acceptance.iter().filter(|s| !s.ok) {
            reasons.push(format!("acceptance command `{}` failed", step.command));
        }
        if candidate.lint_warnings > base.lint_warnings {
            reasons.push(format!(
                "{} warnings grew from {} to {}",
                candidate.linter, base.lint_warnings, candidate.lint_warnings
            ));
        }
    }
    Verdict {
        accepted: reasons.is_empty(),
        reasons,
    }
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("").trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(tests: &[(&str, TestOutcome)], warnings: usize) -> ValidationReport {
        ValidationReport {
            build_ok: true,
            build_errors: Vec::new(),
            tests_ran: true,
            tests: TestResults {
                tests: tests.iter().map(|(n, o)| ((*n).to_owned(), *o)).collect(),
                ..TestResults::default()
            },
            lint_warnings: warnings,
            linter: String::from("clippy"),
            steps: Vec::new(),
            acceptance: Vec::new(),
            sandbox: String::new(),
            first_errors: Vec::new(),
            lint_delta: None,
            cached: false,
        }
    }

    use TestOutcome::*;

    #[test]
    fn accepts_fewer_warnings_and_the_same_tests() {
        let base = report(&[("a", Passed), ("b", Failed)], 4);
        let candidate = report(&[("a", Passed), ("b", Passed), ("c", Passed)], 3);
        assert_eq!(
            judge(&base, &candidate),
            Verdict {
                accepted: true,
                reasons: vec![]
            }
        );
    }

    #[test]
    fn rejects_with_every_reason() {
        let base = report(&[("a", Passed), ("b", Passed), ("c", Passed)], 1);
        let candidate = report(&[("a", Failed), ("c", Ignored)], 2);
        let verdict = judge(&base, &candidate);
        assert!(!verdict.accepted);
        assert_eq!(
            verdict.reasons,
            [
                "test `a` fails",
                "test `b` disappeared",
                "test `c` is now ignored",
                "clippy warnings grew from 1 to 2"
            ]
        );
    }

    #[test]
    fn a_broken_build_is_named() {
        let base = report(&[("a", Passed)], 0);
        let mut candidate = report(&[], 0);
        candidate.build_ok = false;
        candidate.build_errors = vec![String::from(
            "error[E0308]: mismatched types\n --> src/lib.rs:1:1",
        )];
        let verdict = judge(&base, &candidate);
        assert_eq!(
            verdict.reasons,
            ["the build fails: error[E0308]: mismatched types"]
        );
    }
}
