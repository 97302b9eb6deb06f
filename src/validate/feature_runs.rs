//! The extra builds and test runs a candidate gets in the feature configurations its changed
//! lines are compiled under (`features::configs`): code under `#[cfg(feature = "x")]` is neither
//! built nor tested by the workspace's default build, so a change there is proved by building
//! the package with its features on and running its tests so. Any other change to a package
//! with such features is built with all of them on (not tested again): their code may use what
//! it touched.
//!
//! What fails on the candidate is tried on the tree before the change (the patch taken off for
//! it), so that a configuration or a test that never worked there does not reject the change;
//! when everything passes, the tree before is not run at all.

use std::collections::BTreeMap;

use super::features::{self, FeatureBuild, FeatureConfig, FeatureTests};
use super::report::{Step, ValidationReport};
use super::testing::{Scope, TestRun};
use super::{TestOutcome, ValidateError, Workspace, cargo_errors, parse_cargo_output, step};
use crate::edit::Patch;

/// The targets of a configuration built with fewer: the code, without its tests and examples.
const LIB_AND_BINS: &[&str] = &["--lib", "--bins"];

/// What a test's failure says in a reason: its first line, cut to this many characters.
const FIRST_LINE: usize = 160;

impl Workspace {
    /// Builds `patch` (applied in the worktree) in each feature configuration its changed lines
    /// are compiled under, and runs the package's tests in each that builds, leaving out `skip`.
    /// A configuration that fails to build is built on the tree before the patch too; tests that
    /// fail (or a run that does not finish) are run there too.
    pub(super) fn check_feature_configs(
        &self,
        patch: &Patch,
        base: &ValidationReport,
        report: &mut ValidationReport,
        skip: &[String],
    ) -> Result<(), ValidateError> {
        let docs = features::changes_docs(patch);
        for config in features::configs(patch, &|path| self.text(path)) {
            let built = self.build_feature_config(&config, patch, &mut report.steps)?;
            let tests = if built.ok && !config.build_only {
                let flaky = |key: &str| {
                    base.baseline.flaky.contains_key(key) || report.baseline.flaky.contains_key(key)
                };
                let scope = if built.lib_only {
                    Scope::Code(&config)
                } else {
                    Scope::Features(&config)
                };
                let (tests, steps) = self.test_config(scope, patch, skip, &flaky, docs)?;
                report.steps.extend(steps);
                Some(tests)
            } else {
                None
            };
            report.features.push(FeatureBuild { tests, ..built });
        }
        Ok(())
    }

    /// Builds `config` with the base's targets; where that fails on the tree before the patch
    /// too (an integration test or an example that needs the default features), with the
    /// libraries and binaries alone, as the base leaves out targets that do not build.
    fn build_feature_config(
        &self,
        config: &FeatureConfig,
        patch: &Patch,
        steps: &mut Vec<Step>,
    ) -> Result<FeatureBuild, ValidateError> {
        let mut built = FeatureBuild {
            config: config.clone(),
            ok: false,
            before_ok: None,
            error: None,
            tests: None,
            lib_only: false,
        };
        // Fewer targets only for what the change's lines need: `--all-features` failing on both
        // trees (exclusive features) is a note.
        let tries: &[bool] = if config.all_features() {
            &[false]
        } else {
            &[false, true]
        };
        for &lib_only in tries {
            let (step, error) = self.build_config(config, lib_only)?;
            let ok = step.ok;
            steps.push(step);
            let before_ok = if ok {
                None
            } else {
                let before = self.on_tree_before(patch, || self.build_config(config, lib_only))?;
                steps.push(before_step(before.0));
                Some(before.1.is_none())
            };
            // Where the library fails on both trees too, the whole build's failure is the one
            // to tell.
            if lib_only && before_ok == Some(false) {
                break;
            }
            built = FeatureBuild {
                ok,
                before_ok,
                error,
                lib_only,
                ..built
            };
            if before_ok != Some(false) {
                break;
            }
        }
        Ok(built)
    }

    /// The tests of `config`'s package with its features, on the candidate, and on the tree
    /// before when some fail, the run does not finish or `always` (the change touched a doc
    /// comment): which the change broke or took away. A test `flaky` says the base saw flaky is
    /// run again, up to the policy's reruns, before it counts broken.
    fn test_config(
        &self,
        scope: Scope,
        patch: &Patch,
        skip: &[String],
        flaky: &dyn Fn(&str) -> bool,
        always: bool,
    ) -> Result<(FeatureTests, Vec<Step>), ValidateError> {
        let run = self.run_tests(scope, skip)?;
        let mut steps = run.steps;
        let results = run.results;
        let mut tests = FeatureTests {
            passed: results.count(TestOutcome::Passed),
            failed: results.count(TestOutcome::Failed),
            ran: run.ran,
            ..FeatureTests::default()
        };
        if tests.failed == 0 && tests.ran && !always {
            return Ok((tests, steps));
        }
        let before: TestRun = self.on_tree_before(patch, || self.run_tests(scope, skip))?;
        steps.extend(before.steps.into_iter().map(before_step));
        tests.ran_before = Some(before.ran);
        // A run cut short leaves out what it did not reach: that is said of it already.
        tests.gone = before
            .results
            .names(TestOutcome::Passed)
            .filter(|key| tests.ran && !results.tests.contains_key(*key))
            .map(str::to_owned)
            .collect();
        let mut again = BTreeMap::new();
        for key in results.failed() {
            if before.results.tests.get(key) != Some(&TestOutcome::Passed) {
                tests.failing_before.push(key.to_owned());
            } else if flaky(key) && !results.hung.contains(key) {
                again.insert(key.to_owned(), self.options.tests.flaky_reruns);
            } else {
                let output = results.output.get(key).map_or("", String::as_str);
                tests.broken.insert(key.to_owned(), first_line(output));
            }
        }
        again.retain(|_, times| *times > 0);
        if !again.is_empty() {
            let (reruns, rerun_steps) = self.rerun(scope, &again, &results, skip)?;
            steps.extend(rerun_steps);
            for (key, rerun) in reruns {
                if rerun.passed_on.is_some() {
                    tests.flaky.push(key);
                } else {
                    let line = format!("flaky, it failed in all {} runs", rerun.runs);
                    tests.broken.insert(key, line);
                }
            }
        }
        Ok((tests, steps))
    }

    /// `cargo build` of one package in one feature configuration, with the targets of the base
    /// (or its libraries and binaries alone); the first compile error when it fails.
    fn build_config(
        &self,
        config: &FeatureConfig,
        lib_only: bool,
    ) -> Result<(Step, Option<String>), ValidateError> {
        let extra = config.args();
        let targets = if lib_only {
            LIB_AND_BINS
        } else {
            self.targets.flags()
        };
        let mut args = vec!["build"];
        args.extend(extra.iter().map(String::as_str));
        args.extend(targets);
        args.extend(["--message-format=json", "--offline"]);
        let outcome = self.cargo(&args, self.options.isolation)?;
        let command = format!("cargo build {} {}", extra.join(" "), targets.join(" "));
        let step = step(&command, &outcome);
        let error = (!step.ok).then(|| {
            let output = parse_cargo_output(&String::from_utf8_lossy(&outcome.stdout));
            output
                .compile_errors()
                .into_iter()
                .next()
                .unwrap_or_else(|| cargo_errors(&outcome.stderr))
        });
        Ok((step, error))
    }
}

/// A step run on the tree before the change, said so. What stopped it is part of its command,
/// not a reason to reject the candidate: the candidate's own steps say that.
fn before_step(step: Step) -> Step {
    let stopped = step
        .stopped
        .map(|why| format!(": {why}"))
        .unwrap_or_default();
    Step {
        command: format!("{} (on the tree before the change{stopped})", step.command),
        stopped: None,
        ..step
    }
}

/// What a failing test printed, in a line: where it panicked and the message after that, else
/// its first non-empty line; cut to [`FIRST_LINE`] characters.
fn first_line(output: &str) -> String {
    let lines: Vec<&str> = output
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let line = match lines.iter().position(|l| l.contains(" panicked at ")) {
        Some(at) => lines[at..]
            .iter()
            .take(2)
            .copied()
            .collect::<Vec<_>>()
            .join(" "),
        None => lines.first().copied().unwrap_or("").to_owned(),
    };
    match line.char_indices().nth(FIRST_LINE) {
        Some((at, _)) => format!("{}...", &line[..at]),
        None => line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_on_the_tree_before_does_not_stop_the_candidate() {
        let step = Step {
            command: String::from("cargo test --features x"),
            ok: false,
            seconds: 1.0,
            stopped: Some(String::from("timed out after 600 s")),
        };
        let before = before_step(step);
        assert_eq!(before.stopped, None);
        assert_eq!(
            before.command,
            "cargo test --features x (on the tree before the change: timed out after 600 s)"
        );
    }

    #[test]
    fn a_failure_is_named_by_its_first_line() {
        let output = "Test executable failed (exit status: 101).\n\nstderr:\n\
                      thread 'main' panicked at src/lib.rs:9:5:\nassertion failed\nnote: ...\n";
        assert_eq!(
            first_line(output),
            "thread 'main' panicked at src/lib.rs:9:5: assertion failed"
        );
        assert_eq!(first_line("\nkilled\nlater"), "killed");
        assert_eq!(first_line(&"x".repeat(200)).len(), FIRST_LINE + 3);
        assert_eq!(first_line(""), "");
    }
}
