//! The base: the tree every candidate is judged against, validated once per run (or its results
//! reused from `.nova/base/`). It chooses what every later build of the run does: the targets
//! that build there, and `--cap-lints warn` where only lints the crate denies stop it.

use super::report::{Step, Targets, ValidationReport};
use super::{CargoOutput, CompileError, REPORT_VERSION, ValidateError, Workspace, cache};
use crate::state;
use nova_sandbox::Outcome;

impl Workspace {
    /// [`Workspace::validate_with_diagnostics`] for the commit the worktree is at, which becomes
    /// the base later candidates are judged against. It chooses the targets: all of them where
    /// they build, else the most that do (benches that need nightly are common in old crates),
    /// and the report says what was left out.
    ///
    /// The tests run once; when one fails, they run again: a test that fails both times is
    /// already failing (the report keeps its output and what the sandbox withheld that it points
    /// at), one that fails once is flaky, as is one the policy remembers flaky from earlier runs.
    /// When all pass, the second run is left out (`Baseline::once`): a flaky test is then looked
    /// for on this tree when a candidate's test fails and passes when run again.
    ///
    /// Reuses the results of an earlier run on the same commit with the same toolchain, sandbox,
    /// skips and Nova (`.nova/base/`). Only results where every test passed both times are kept:
    /// a red base is always proved again, so that a flaky failure is not remembered as a failing
    /// test. A reused report says so (`cached`).
    pub fn validate_base(&mut self) -> Result<(ValidationReport, CargoOutput), ValidateError> {
        let key = self.base_key();
        let cache = cache::BaseCache::new(&self.repo_root.join(state::STATE_DIR).join("base"));
        if let Some((mut report, lint_json)) = cache.load(self.head, &key) {
            report.cached = true;
            self.targets = report.targets;
            self.cap_lints = report.lints_capped;
            self.remember_flaky(&mut report);
            return Ok((report, self.lint_output(&lint_json)));
        }
        let skip = self.policy_skips();
        let mut tried = Vec::new();
        let mut result = None;
        for targets in Targets::ALL {
            self.targets = targets;
            let (mut report, mut lint_json) = self.validate_json(&skip)?;
            if !report.build_ok && !self.cap_lints && only_denied_lints(&report) {
                // An old crate's `#![deny(warnings)]` meets lints its compiler did not have: the
                // same build with lints capped at warnings, which then count as warnings, and so
                // every later one (fewer targets for a bench that needs nightly, too).
                self.cap_lints = true;
                tried.push(report);
                (report, lint_json) = self.validate_json(&skip)?;
            }
            if report.build_ok {
                result = Some((report, lint_json));
                break;
            }
            // Fewer targets help only when an example or a bench is what fails.
            let optional = report.first_errors.iter().any(|error| {
                error.file.as_deref().is_some_and(|file| {
                    file.split('/')
                        .any(|part| part == "benches" || part == "examples")
                })
            });
            tried.push(report);
            if !optional {
                break;
            }
        }
        let (mut report, lint_json) = match result {
            Some(found) => found,
            // Nothing builds: the report of the whole build says why (with lints capped, when
            // that was tried: its errors are the ones left to fix).
            None => {
                self.targets = Targets::All;
                let whole = tried.iter().position(|r| r.lints_capped).unwrap_or(0);
                (tried.remove(whole), String::new())
            }
        };
        // The failed attempts ran too: their steps belong in the report.
        let mut steps: Vec<Step> = tried.into_iter().flat_map(|r| r.steps).collect();
        steps.append(&mut report.steps);
        report.steps = steps;
        if report.is_green() {
            // Every test passed: flakiness is looked for when a candidate meets it.
            report.baseline.once = true;
            cache.store(self.head, &key, &report, &lint_json);
        } else if report.build_ok && report.tests_ran {
            // A test failed: a second run says whether it is failing or flaky.
            let (second, baseline) = self.second_base_run(&report.tests, &skip)?;
            report.steps.extend(second.steps);
            report.tests_ran = second.ran;
            report.baseline = baseline;
            if report.is_green() && report.baseline.flaky.is_empty() {
                cache.store(self.head, &key, &report, &lint_json);
            }
        }
        self.remember_flaky(&mut report);
        Ok((report, self.lint_output(&lint_json)))
    }

    /// Marks flaky the base's tests that earlier runs saw flaky, unless they failed both times.
    fn remember_flaky(&self, report: &mut ValidationReport) {
        for key in &self.options.tests.known_flaky {
            let baseline = &mut report.baseline;
            if report.tests.tests.contains_key(key)
                && !baseline.failing.contains_key(key)
                && !baseline.flaky.contains_key(key)
            {
                let why = String::from("an earlier run of this repository saw it flaky");
                baseline.flaky.insert(key.clone(), why);
                baseline.remembered.insert(key.clone());
            }
        }
    }

    /// What a base's results depend on besides its commit: the toolchain as the worktree selects
    /// it (`rustc -vV`, `cargo -V`, run in the sandbox since `rust-toolchain.toml` chooses),
    /// the environment, the sandbox and its limits, and Nova's version.
    fn base_key(&self) -> String {
        let version = |program: &str, flag: &str| {
            let spec = self.spec(program, &[flag], self.options.isolation);
            nova_sandbox::run(&spec)
                .ok()
                .filter(Outcome::success)
                .map(|outcome| String::from_utf8_lossy(&outcome.stdout).into_owned())
                .unwrap_or_else(|| format!("{program}: unknown"))
        };
        format!(
            "nova {} (reports v{REPORT_VERSION})\n{}{}{:?}\n{}\n{:?}\nskip {:?}\n",
            env!("CARGO_PKG_VERSION"),
            version("rustc", "-vV"),
            version("cargo", "-V"),
            self.options.env,
            self.sandbox,
            self.options.limits,
            self.options.tests.skip,
        )
    }
}

/// Whether every error of a failed build is a lint the crate denies.
fn only_denied_lints(report: &ValidationReport) -> bool {
    !report.first_errors.is_empty() && report.first_errors.iter().all(CompileError::is_denied_lint)
}
