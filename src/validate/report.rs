//! What a validation counted, and the rule that accepts or rejects a candidate against the base.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::CompileError;
use super::features::FeatureBuild;
use super::libtest::{TestOutcome, TestResults};
use super::testing::{Baseline, Rerun};
use crate::edit::guard::Silence;

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

/// Which targets of every workspace member are built and linted: all of them where the base
/// builds them all, else the most that build there (a crate whose benches need nightly).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Targets {
    /// Libraries, binaries, tests, examples and benches.
    #[default]
    All,
    /// Everything but the benches, which do not build in the base.
    NoBenches,
    /// Libraries, binaries and tests: neither the examples nor the benches build in the base.
    Core,
}

impl Targets {
    /// The order to try them in on a base.
    pub const ALL: [Targets; 3] = [Targets::All, Targets::NoBenches, Targets::Core];

    /// Cargo's target-selection flags.
    pub fn flags(self) -> &'static [&'static str] {
        match self {
            Targets::All => &["--all-targets"],
            Targets::NoBenches => &["--lib", "--bins", "--tests", "--examples"],
            Targets::Core => &["--lib", "--bins", "--tests"],
        }
    }

    /// What is left out, for reports.
    pub fn left_out(self) -> Option<&'static str> {
        match self {
            Targets::All => None,
            Targets::NoBenches => Some("benches (they do not build in the base)"),
            Targets::Core => Some("examples and benches (they do not build in the base)"),
        }
    }
}

/// Build, tests and lints of one tree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationReport {
    /// `cargo build --workspace` of the chosen targets succeeded.
    pub build_ok: bool,
    /// The targets built, tested and linted.
    #[serde(default)]
    pub targets: Targets,
    /// Compile errors, rendered, when the build failed.
    pub build_errors: Vec<String>,
    /// The first compile errors (at most ten), structured.
    #[serde(default)]
    pub first_errors: Vec<CompileError>,
    /// `cargo test` ran to completion (it may still have failing tests).
    pub tests_ran: bool,
    pub tests: TestResults,
    /// Warnings clippy (or `cargo check` without clippy) reported, denied lints included.
    pub lint_warnings: usize,
    /// The same warnings, counted by file and then by rule.
    #[serde(default)]
    pub warnings_by_file: BTreeMap<String, BTreeMap<String, usize>>,
    /// The linter compiled everything it was asked to (its warnings are then a true count).
    #[serde(default = "yes")]
    pub lint_ok: bool,
    /// Why it did not: its compile errors, rendered.
    #[serde(default)]
    pub lint_errors: Vec<String>,
    /// `clippy` or `check`.
    pub linter: String,
    /// Warnings compared with the base's (`+2`: two more), for a candidate judged against one.
    #[serde(default)]
    pub lint_delta: Option<i64>,
    pub steps: Vec<Step>,
    /// The extra builds in the feature configurations the change's lines are compiled under.
    #[serde(default)]
    pub features: Vec<FeatureBuild>,
    /// The `allow`/`expect` attributes the change adds: the warnings they hide still count.
    #[serde(default)]
    pub silenced: Vec<Silence>,
    /// Where the change lies in code no build on this machine compiles (under `cfg(windows)` on
    /// Linux, `cfg(not(debug_assertions))`): each place, for people. Such a change is not proved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uncompiled: Vec<String>,
    /// The `acceptance` commands of the agent that made the change, each of which must pass.
    #[serde(default)]
    pub acceptance: Vec<Step>,
    /// The isolation the commands ran under (`nova_sandbox::describe`).
    #[serde(default)]
    pub sandbox: String,
    /// Reused from an earlier run on the same commit (`Workspace::validate_base`).
    #[serde(default)]
    pub cached: bool,
    /// What the base's two test runs showed: tests already failing, flaky tests. A candidate's
    /// report carries its base's, so that the next candidate is judged the same way.
    #[serde(default)]
    pub baseline: Baseline,
    /// The tests that failed here and were run again, and how that went.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub reruns: BTreeMap<String, Rerun>,
    /// The tests `[validate] skip` leaves out of every run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<String>,
    /// Built with `--cap-lints warn`: the base denies lints (`#![deny(warnings)]`) that this
    /// compiler raises and the crate's did not, and builds only so. What they say still counts
    /// as warnings.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lints_capped: bool,
}

fn yes() -> bool {
    true
}

impl ValidationReport {
    /// The report of a tree whose build failed: nothing else ran.
    pub fn build_failed(targets: Targets, errors: Vec<String>, first: Vec<CompileError>) -> Self {
        ValidationReport {
            build_ok: false,
            targets,
            build_errors: errors,
            first_errors: first,
            tests_ran: false,
            tests: TestResults::default(),
            lint_warnings: 0,
            warnings_by_file: BTreeMap::new(),
            lint_ok: false,
            lint_errors: Vec::new(),
            linter: String::new(),
            lint_delta: None,
            steps: Vec::new(),
            features: Vec::new(),
            silenced: Vec::new(),
            uncompiled: Vec::new(),
            acceptance: Vec::new(),
            sandbox: String::new(),
            cached: false,
            baseline: Baseline::default(),
            reruns: BTreeMap::new(),
            skipped: Vec::new(),
            lints_capped: false,
        }
    }

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

    /// Whether this tree can judge candidates: it builds and its tests ran to completion (some
    /// may fail: they are the baseline's already-failing tests).
    pub fn can_judge(&self) -> bool {
        self.build_ok && self.tests_ran
    }

    /// Whether a candidate judged against this base must pass test `key`: it passed here, or it
    /// is flaky here (and must pass within its reruns).
    pub fn expects_pass(&self, key: &str) -> bool {
        !self.baseline.failing.contains_key(key)
            && (self.tests.tests.get(key) == Some(&TestOutcome::Passed)
                || self.baseline.flaky.contains_key(key))
    }

    /// `cargo build --workspace --all-targets`, as the build step ran.
    pub fn build_command(&self) -> String {
        format!("cargo build --workspace {}", self.targets.flags().join(" "))
    }

    /// What ran and what it counted, in one line: the `Nova-Validation` trailer.
    pub fn summary(&self) -> String {
        if !self.build_ok {
            return format!("{} failed", self.build_command());
        }
        let cached = if self.cached {
            " (results of an earlier run on this commit)"
        } else {
            ""
        };
        let lint = if self.lint_ok {
            format!("{} {} warnings", self.linter, self.lint_warnings)
        } else {
            format!("{} does not compile", self.linter)
        };
        let features: String = self
            .features
            .iter()
            .map(|build| {
                let how = match (build.ok, build.lib_only) {
                    (true, false) => "ok",
                    (true, true) => "ok (lib and bins: its other targets build on neither tree)",
                    (false, _) => "failed",
                };
                let tests = build
                    .tests
                    .as_ref()
                    .map(|tests| format!(", {}", tests.describe()))
                    .unwrap_or_default();
                format!(
                    "; {} {how}{tests}",
                    build.config.describe().replace('`', "")
                )
            })
            .collect();
        let mut left_out = self
            .targets
            .left_out()
            .map(|what| format!(" (left out: {what})"))
            .unwrap_or_default();
        if self.lints_capped {
            left_out.push_str(
                " (with --cap-lints warn: the crate denies warnings this compiler raises and its \
                 own did not)",
            );
        }
        let mut known = Vec::new();
        if !self.baseline.failing.is_empty() {
            known.push(format!("{} already failing", self.baseline.failing.len()));
        }
        if !self.baseline.flaky.is_empty() {
            known.push(format!("{} flaky", self.baseline.flaky.len()));
        }
        if !self.skipped.is_empty() {
            known.push(format!("{} skipped by [validate] skip", self.skipped.len()));
        }
        let known = if known.is_empty() {
            String::new()
        } else {
            format!(" ({})", known.join(", "))
        };
        format!(
            "{} ok{left_out}{features}; cargo test {} passed, {} failed, {} ignored{known}; \
             {lint}{cached}",
            self.build_command(),
            self.passed(),
            self.failed(),
            self.tests.count(TestOutcome::Ignored),
        )
    }
}

/// Accept or reject, with every reason, and what else a reader should know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub accepted: bool,
    pub reasons: Vec<String>,
    /// Facts that do not reject: a doctest that moved to another line, a lint silenced.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Records in `candidate` how its warnings compare with the base's.
pub fn record_lint_delta(base: &ValidationReport, candidate: &mut ValidationReport) {
    if candidate.build_ok {
        let delta = candidate.lint_warnings as i64 - base.lint_warnings as i64;
        candidate.lint_delta = Some(delta);
    }
}

/// A candidate is accepted when it builds (every target the base builds), every test that passed
/// on the base still passes, no test disappeared or became ignored, each feature configuration its
/// change is compiled under builds and keeps passing the tests that passed there before the
/// change, the linter still compiles everything, and the warning count did not grow.
pub fn judge(base: &ValidationReport, candidate: &ValidationReport) -> Verdict {
    let mut reasons: Vec<String> = candidate
        .steps
        .iter()
        .chain(&candidate.acceptance)
        .filter_map(|step| Some(format!("`{}` {}", step.command, step.stopped.as_deref()?)))
        .collect();
    let mut notes = Vec::new();
    for place in &candidate.uncompiled {
        reasons.push(format!(
            "{place}: no build here compiles it, so nothing proves it"
        ));
    }
    if !candidate.build_ok {
        let first = candidate
            .build_errors
            .first()
            .map(|e| first_line(e))
            .unwrap_or_default();
        // The step that failed: the build, or the fetch of a changed manifest before it.
        let failed = candidate
            .steps
            .iter()
            .find(|step| !step.ok && step.stopped.is_none())
            .map_or_else(|| candidate.build_command(), |step| step.command.clone());
        reasons.push(format!("`{failed}` fails: {first}"));
    } else if !candidate.tests_ran {
        reasons.push(String::from("`cargo test` did not run to completion"));
    } else {
        judge_tests(base, candidate, &mut reasons, &mut notes);
        for build in &candidate.features {
            judge_feature_build(build, &mut reasons, &mut notes);
        }
        for step in candidate.acceptance.iter().filter(|s| !s.ok) {
            reasons.push(format!("acceptance command `{}` failed", step.command));
        }
        if base.lint_ok && !candidate.lint_ok {
            let first = candidate
                .lint_errors
                .first()
                .map(|e| first_line(e))
                .unwrap_or_default();
            reasons.push(format!(
                "{} does not compile every target: {first}",
                candidate.linter
            ));
        } else {
            let hidden = hidden_warnings(base, candidate);
            let counted = candidate.lint_warnings + hidden;
            if counted > base.lint_warnings {
                let silenced = if hidden > 0 {
                    format!(" ({hidden} of them silenced by the change, not fixed)")
                } else {
                    String::new()
                };
                reasons.push(format!(
                    "{} warnings grew from {} to {counted}{silenced}",
                    candidate.linter, base.lint_warnings
                ));
            }
        }
        for silence in &candidate.silenced {
            notes.push(format!(
                "the change silences a lint with {silence}; what it hides still counts as warnings"
            ));
        }
    }
    Verdict {
        accepted: reasons.is_empty(),
        reasons,
        notes,
    }
}

/// One feature configuration's part of [`judge`]: it builds, and no test that passed in it before
/// the change fails with it. The features the changed lines are under must build on this machine
/// (on neither tree, as a nightly-only feature, nothing here compiles those lines: they are
/// refused as `cfg(windows)` code is); `--all-features` may fail where it failed before.
fn judge_feature_build(build: &FeatureBuild, reasons: &mut Vec<String>, notes: &mut Vec<String>) {
    let config = build.config.describe();
    let error = || build.error.as_deref().map(first_line).unwrap_or_default();
    if !build.ok && build.before_ok != Some(false) {
        reasons.push(format!("{config} does not build: {}", error()));
    } else if build.unbuildable() {
        reasons.push(format!(
            "{config} did not build before the change either ({}): nothing here compiles the \
             changed lines that need it, so nothing proves them",
            error()
        ));
    } else if !build.ok {
        notes.push(format!("{config} did not build before the change either"));
    }
    let Some(tests) = &build.tests else {
        return;
    };
    for (key, line) in &tests.broken {
        let line = if line.is_empty() {
            String::new()
        } else {
            format!(": {line}")
        };
        reasons.push(format!("test `{key}` fails in {config}{line}"));
    }
    for key in &tests.gone {
        reasons.push(format!("test `{key}` disappeared from {config}"));
    }
    if !tests.ran && tests.ran_before != Some(false) {
        reasons.push(format!(
            "the tests of {config} did not run to completion, though they did before the change"
        ));
    }
    if !tests.failing_before.is_empty() {
        notes.push(format!(
            "tests of {config} that fail and did not pass before the change either: {}",
            tests.failing_before.join(", ")
        ));
    }
    for key in &tests.flaky {
        notes.push(format!(
            "flaky test `{key}` failed in {config}, then passed when run again"
        ));
    }
}

/// The tests' part of [`judge`]: every test the base expects to pass passes (a flaky one within
/// its reruns), no test disappeared or became ignored, and an already-failing test may be fixed
/// but not removed.
fn judge_tests(
    base: &ValidationReport,
    candidate: &ValidationReport,
    reasons: &mut Vec<String>,
    notes: &mut Vec<String>,
) {
    let timeout = |key: &str| {
        candidate
            .tests
            .output
            .get(key)
            .map(|text| first_line(text).to_owned())
            .unwrap_or_default()
    };
    for name in base.tests.tests.keys() {
        let now = candidate.tests.tests.get(name);
        if base.baseline.failing.contains_key(name) {
            match now {
                Some(TestOutcome::Passed) => {
                    notes.push(format!(
                        "the change fixes `{name}`, which failed in the base"
                    ));
                }
                Some(TestOutcome::Failed) => {}
                // A test that hung in the base is not run again.
                None if base.tests.hung.contains(name) => {}
                None => reasons.push(format!(
                    "test `{name}` disappeared (it fails in the base, but may not be removed)"
                )),
                Some(TestOutcome::Ignored) => reasons.push(format!(
                    "test `{name}` is now ignored (it fails in the base, but may not be ignored)"
                )),
            }
            continue;
        }
        if !base.expects_pass(name) {
            continue;
        }
        // Flaky in the base, or found so on the base while judging this candidate.
        let found =
            candidate.baseline.found.contains(name) && !base.baseline.flaky.contains_key(name);
        let flaky = base.baseline.flaky.contains_key(name) || found;
        let rerun = candidate.reruns.get(name);
        match now {
            Some(TestOutcome::Passed) => {
                if let (true, Some(rerun)) = (flaky, rerun)
                    && let Some(run) = rerun.passed_on
                {
                    notes.push(format!(
                        "flaky test `{name}` failed, then passed on run {run} of at most {}",
                        rerun.allowed
                    ));
                }
                if found {
                    notes.push(format!(
                        "`{name}` also failed on the base when run again there: it was flaky \
                         before the change"
                    ));
                }
            }
            Some(TestOutcome::Failed) if candidate.tests.hung.contains(name) => {
                reasons.push(format!("test `{name}` {}", timeout(name)));
            }
            Some(TestOutcome::Failed) if flaky => {
                let runs = rerun.map_or(1, |r| r.runs);
                reasons.push(format!(
                    "flaky test `{name}` fails: it failed in all {runs} runs"
                ));
            }
            Some(TestOutcome::Failed) => match rerun.and_then(|r| r.passed_on) {
                Some(_) => reasons.push(format!(
                    "test `{name}` fails; it passed when run again, but it was stable in the \
                     base: the change may have made it flaky"
                )),
                None => reasons.push(format!("test `{name}` fails")),
            },
            Some(TestOutcome::Ignored) => reasons.push(format!("test `{name}` is now ignored")),
            None => reasons.push(format!("test `{name}` disappeared")),
        }
        let lines = (
            base.tests.doc_lines.get(name),
            candidate.tests.doc_lines.get(name),
        );
        if let (Some(was), Some(now)) = lines
            && was != now
        {
            notes.push(format!(
                "doctest `{name}` moved from line {was} to line {now}"
            ));
        }
    }
}

/// The warnings of the base that the candidate's new `allow`/`expect` attributes hide: in each
/// file with one, for each rule it covers, how many fewer the candidate reports there.
fn hidden_warnings(base: &ValidationReport, candidate: &ValidationReport) -> usize {
    let mut hidden = 0;
    for (file, rules) in &base.warnings_by_file {
        let silences: Vec<&Silence> = candidate
            .silenced
            .iter()
            .filter(|s| &s.path == file)
            .collect();
        if silences.is_empty() {
            continue;
        }
        let now = candidate.warnings_by_file.get(file);
        for (rule, count) in rules {
            if silences.iter().any(|s| covers(&s.lint, rule)) {
                let left = now.and_then(|n| n.get(rule)).copied().unwrap_or(0);
                hidden += count.saturating_sub(left);
            }
        }
    }
    hidden
}

const CLIPPY_GROUPS: &[&str] = &[
    "clippy::all",
    "clippy::correctness",
    "clippy::suspicious",
    "clippy::style",
    "clippy::complexity",
    "clippy::perf",
    "clippy::pedantic",
    "clippy::restriction",
    "clippy::nursery",
    "clippy::cargo",
];

/// Whether `allow(lint)` silences warnings of `rule` (`clippy::needless_return`,
/// `rustc::unused_imports`): the lint itself, its group, `warnings`, or clippy's groups.
fn covers(lint: &str, rule: &str) -> bool {
    let lint = if lint.contains("::") {
        lint.to_owned()
    } else {
        format!("rustc::{lint}")
    };
    lint == rule
        || lint == "rustc::warnings"
        || CLIPPY_GROUPS.contains(&lint.as_str()) && rule.starts_with("clippy::")
        || rule.starts_with(&format!("{lint}_"))
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or("").trim()
}

#[cfg(test)]
mod tests {
    use super::super::{FeatureConfig, FeatureTests};
    use super::*;

    fn report(tests: &[(&str, TestOutcome)], warnings: usize) -> ValidationReport {
        ValidationReport {
            build_ok: true,
            tests_ran: true,
            tests: TestResults {
                tests: tests.iter().map(|(n, o)| ((*n).to_owned(), *o)).collect(),
                ..TestResults::default()
            },
            lint_warnings: warnings,
            lint_ok: true,
            linter: String::from("clippy"),
            ..ValidationReport::build_failed(Targets::All, Vec::new(), Vec::new())
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
                reasons: vec![],
                notes: vec![],
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
            ["`cargo build --workspace --all-targets` fails: error[E0308]: mismatched types"]
        );
    }

    /// A candidate whose one feature configuration built, and whose tests there went as `tests`.
    fn with_feature_tests(tests: FeatureTests) -> ValidationReport {
        let mut candidate = report(&[("a", Passed)], 0);
        candidate.features.push(FeatureBuild {
            config: FeatureConfig {
                package: String::from("p"),
                features: vec![String::from("x")],
                dir: String::new(),
                no_default: false,
                build_only: false,
            },
            ok: true,
            before_ok: None,
            error: None,
            tests: Some(tests),
            lib_only: false,
        });
        candidate
    }

    #[test]
    fn a_test_a_feature_configuration_broke_rejects_one_that_failed_before_does_not() {
        let base = report(&[("a", Passed)], 0);
        let broken = with_feature_tests(FeatureTests {
            passed: 1,
            failed: 2,
            ran: true,
            ran_before: Some(true),
            broken: [(String::from("p (lib) t"), String::from("panicked"))].into(),
            failing_before: vec![String::from("p (lib) old")],
            ..FeatureTests::default()
        });
        let verdict = judge(&base, &broken);
        assert_eq!(
            verdict.reasons,
            ["test `p (lib) t` fails in `p` with --features x: panicked"]
        );
        assert_eq!(
            verdict.notes,
            [
                "tests of `p` with --features x that fail and did not pass before the change \
                 either: p (lib) old"
            ]
        );
        assert!(
            broken
                .summary()
                .contains("p with --features x ok, tests 1 passed, 2 failed")
        );

        let red_before = with_feature_tests(FeatureTests {
            failed: 1,
            ran: true,
            ran_before: Some(true),
            failing_before: vec![String::from("p (lib) old")],
            ..FeatureTests::default()
        });
        assert!(judge(&base, &red_before).accepted);
    }

    #[test]
    fn feature_tests_that_stop_reject_unless_they_stopped_before_too() {
        let base = report(&[("a", Passed)], 0);
        let stopped = FeatureTests {
            ran: false,
            ran_before: Some(true),
            ..FeatureTests::default()
        };
        let verdict = judge(&base, &with_feature_tests(stopped.clone()));
        assert_eq!(
            verdict.reasons,
            [
                "the tests of `p` with --features x did not run to completion, though they did \
                 before the change"
            ]
        );
        let always = FeatureTests {
            ran_before: Some(false),
            ..stopped
        };
        assert!(judge(&base, &with_feature_tests(always)).accepted);
    }

    #[test]
    fn features_that_build_on_no_tree_leave_the_change_under_them_unproved() {
        let base = report(&[("a", Passed)], 0);
        let mut candidate = with_feature_tests(FeatureTests::default());
        let build = &mut candidate.features[0];
        build.ok = false;
        build.before_ok = Some(false);
        build.error = Some(String::from("error[E0554]: `#![feature]` may not be used"));
        build.tests = None;
        let mut all = build.clone();
        all.config.features.clear();
        let verdict = judge(&base, &candidate);
        assert_eq!(
            verdict.reasons,
            [
                "`p` with --features x did not build before the change either (error[E0554]: \
                 `#![feature]` may not be used): nothing here compiles the changed lines that \
                 need it, so nothing proves them"
            ]
        );
        // `--all-features` is more than the change needs: failing on both trees, it is a note.
        candidate.features = vec![all];
        let verdict = judge(&base, &candidate);
        assert!(verdict.accepted, "{verdict:?}");
        assert_eq!(
            verdict.notes,
            ["`p` with --all-features did not build before the change either"]
        );
    }
}
