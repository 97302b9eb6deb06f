//! Validation: the worktree where candidates are applied, and cargo build, test, clippy and fmt
//! run there through `nova-sandbox`.
//!
//! Owns: the validation worktree (outside the repository), its target dir `.nova/target` (per
//! repository, never shared with another checkout path), the spare worktrees beside it for
//! `--jobs` (`spare`, each with its own `.nova/target-N`), every cargo invocation, and
//! `ValidationReport`s.
//! Also: the user's own commands (hooks from their config), which are not repository code and run
//! as the user would run them; and another build of Nova under evaluation (`nova bench run
//! --nova`), which is, and runs in the sandbox on a scratch repository.
//! Never: touches the user's working tree, or runs repository code outside `nova-sandbox` (except
//! with `--unsafe-no-sandbox`, which the user must ask for).

mod base;
mod cache;
mod command;
mod diagnostics;
mod feature_runs;
mod features;
mod libtest;
mod nova_build;
mod report;
mod spare;
mod testing;

pub use command::{Ended, Ran, run_user_command, spawn_server};
pub use diagnostics::{CargoOutput, CompileError, Diagnostic, FormatDrift};
pub use features::{
    FeatureBuild, FeatureConfig, FeatureTests, needed as needed_features, never_compiled,
};
pub use libtest::{TestOutcome, TestResults, parse_test_output};
pub use nova_build::NovaBuild;
pub use nova_sandbox::Spawned;
pub use nova_sandbox::{Isolation, Limits, Unavailable, probe as probe_sandbox};
pub use report::{Step, Targets, ValidationReport, Verdict, judge, record_lint_delta};
pub use testing::{Baseline, Failing, Rerun, TestPolicy, Withheld};

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

use nova_sandbox::{Outcome, Spec, Status};

use crate::config::ToolchainDirs;

use crate::edit::RepoPath;
use crate::edit::{FileChange, Patch, guard};
use crate::findings::Severity;
use crate::git::{self, Oid};
use diagnostics::parse_cargo_output;
use testing::Scope;

use crate::state;

/// Why validation could not run at all (as opposed to a candidate failing it).
#[derive(Debug, thiserror::Error)]
pub enum ValidateError {
    #[error(transparent)]
    Sandbox(#[from] nova_sandbox::RunError),
    #[error(transparent)]
    Worktree(#[from] git::WorktreeError),
    #[error("cannot write `{}` in the validation worktree: {source}", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the validation worktree does not hold what the patch expects in `{0}`")]
    Diverged(RepoPath),
    #[error(
        "`{}` belongs to another user or is not a directory; remove it, or point `TMPDIR` \
         elsewhere",
        .0.display()
    )]
    Foreign(PathBuf),
}

/// How to run cargo.
#[derive(Debug, Clone)]
pub struct Options {
    pub isolation: Isolation,
    /// The environment cargo sees (an allowlist; see `config::Env::sandbox_vars`).
    pub env: Vec<(String, String)>,
    pub step_timeout: Duration,
    /// The system's temp directory. The validation worktree and the builds' private temp dir live
    /// inside it, outside the repository: cargo must not find the user's manifest above the
    /// worktree, and tests' temp files must not be inside any git repository.
    pub temp_root: PathBuf,
    /// Where cargo, rustc and their programs live: readable in the sandbox.
    pub toolchain: ToolchainDirs,
    pub limits: Limits,
    /// Builds and tests keep the host's network (`--allow-network`, the user's choice only).
    pub network: bool,
    /// Which tests are skipped, and how often a flaky one is run again.
    pub tests: TestPolicy,
    /// Told each step before it runs, for a live status line.
    pub observer: Option<StepObserver>,
}

/// Told the command of each sandboxed step just before it runs (`cargo test --workspace`).
#[derive(Clone)]
pub struct StepObserver(pub std::sync::Arc<dyn Fn(&str) + Send + Sync>);

impl std::fmt::Debug for StepObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StepObserver(..)")
    }
}

/// The validation worktree of one repository.
#[derive(Debug)]
pub struct Workspace {
    repo_root: PathBuf,
    worktree: PathBuf,
    target_dir: PathBuf,
    tmp_dir: PathBuf,
    options: Options,
    head: Oid,
    /// What isolation the commands get (`nova_sandbox::describe`).
    sandbox: String,
    /// The targets built, tested and linted: chosen on the base ([`Workspace::validate_base`]).
    targets: Targets,
    /// Every build runs with `--cap-lints warn`: the base builds only so (chosen there too).
    cap_lints: bool,
    /// Each clippy lint's group, asked of `clippy-driver` the first time a lint's note does not
    /// say it ([`CargoOutput::regroup`]).
    clippy_groups: OnceLock<BTreeMap<String, String>>,
}

/// The shape of a cached base report: raised when what a report means changes (how tests are
/// named, which targets are built), so that an older one is proved again.
const REPORT_VERSION: u32 = 3;

/// Clippy's default groups, named so that each warning says which group it belongs to.
const CLIPPY_GROUPS: &[&str] = &["correctness", "suspicious", "style", "complexity", "perf"];

impl Workspace {
    /// Prepares the validation worktree detached at `commit`, with `.nova/target` as its target
    /// dir.
    ///
    /// The worktree lives outside the repository, in `<temp>/nova-validate-<hash of the
    /// repository's path>/worktree`: cargo looks for a workspace root in every directory above a
    /// package, so a worktree inside the repository would make it parse the user's own
    /// `Cargo.toml`, whose targets name files of the user's checkout.
    pub fn open(repo_root: &Path, commit: Oid, options: Options) -> Result<Self, ValidateError> {
        let state = state::prepare(repo_root)
            .map_err(|(path, source)| ValidateError::Write { path, source })?;
        let home = validation_home(&options.temp_root, repo_root, &state)?;
        let worktree = home.join("worktree");
        git::ensure_worktree(repo_root, &worktree, "nova-validate", commit)?;
        let tmp_dir = home.join("tmp");
        // nova:allow(ignored-result): whatever an earlier run's tests left there goes
        let _ = std::fs::remove_dir_all(&tmp_dir);
        std::fs::create_dir_all(tmp_dir.join("home")).map_err(|source| ValidateError::Write {
            path: tmp_dir.clone(),
            source,
        })?;
        // Made here: cargo makes a missing target dir beside it and renames it into place, and
        // the sandbox may write only inside it.
        let target_dir = state.join("target");
        std::fs::create_dir_all(&target_dir).map_err(|source| ValidateError::Write {
            path: target_dir.clone(),
            source,
        })?;
        let mut sandbox = nova_sandbox::describe(options.isolation);
        if options.network && options.isolation != Isolation::None {
            sandbox.push_str("; with the network (--allow-network)");
        }
        Ok(Workspace {
            repo_root: repo_root.to_owned(),
            worktree,
            target_dir,
            tmp_dir,
            sandbox,
            options,
            head: commit,
            targets: Targets::All,
            cap_lints: false,
            clippy_groups: OnceLock::new(),
        })
    }

    /// Changes how long each later step may run.
    pub fn set_step_timeout(&mut self, timeout: Duration) {
        self.options.step_timeout = timeout;
    }

    /// Ends a test run at its first timeout, unfinished ([`TestPolicy::stop_at_hang`]).
    pub fn stop_at_hang(&mut self) {
        self.options.tests.stop_at_hang = true;
    }

    /// The isolation its commands run under, in one line.
    pub fn sandbox(&self) -> &str {
        &self.sandbox
    }

    pub fn path(&self) -> &Path {
        &self.worktree
    }

    /// Resets the worktree to `commit`, discarding anything applied.
    pub fn checkout(&mut self, commit: Oid) -> Result<(), ValidateError> {
        git::checkout_detached(&self.worktree, commit)?;
        self.head = commit;
        Ok(())
    }

    /// Downloads dependencies before any build. `cargo fetch` builds nothing, but it reads the
    /// repository's `.cargo/config.toml`, which can name programs to run (credential providers),
    /// so it runs in the sandbox too: with the network, and writing only the cargo home's
    /// download caches.
    pub fn fetch(&self) -> Result<Step, ValidateError> {
        Ok(self.fetch_outcome()?.0)
    }

    /// [`Workspace::fetch`], and cargo's `error:` lines when it failed.
    fn fetch_outcome(&self) -> Result<(Step, Option<String>), ValidateError> {
        let mut spec = self.spec("cargo", &["fetch"], self.options.isolation);
        spec.network = true;
        if let Some(cargo_home) = &self.options.toolchain.cargo_home {
            for cache in CARGO_DOWNLOAD_CACHES {
                let path = cargo_home.join(cache);
                if !cache.starts_with('.') {
                    // nova:allow(ignored-result): a cache that cannot be made is cargo's own error when it fetches
                    let _ = std::fs::create_dir_all(&path);
                }
                spec.write.push(path);
            }
        }
        self.observe("cargo fetch");
        let outcome = nova_sandbox::run(&spec)?;
        let error = (!outcome.success()).then(|| cargo_errors(&outcome.stderr));
        Ok((step("cargo fetch", &outcome), error))
    }

    /// Builds the binary target `bin` of `commit` (its dependencies fetched first) in the
    /// sandbox, as any repository code is built, and copies the executable to `to`: another
    /// version of the repository's own program (`nova bench run --nova-rev`). `Ok(Err(why))`
    /// when it does not build.
    pub fn build_program(
        &mut self,
        commit: Oid,
        bin: &str,
        to: &Path,
    ) -> Result<Result<(), String>, ValidateError> {
        self.checkout(commit)?;
        let (fetched, error) = self.fetch_outcome()?;
        if !fetched.ok {
            return Ok(Err(
                error.unwrap_or_else(|| String::from("`cargo fetch` failed"))
            ));
        }
        let outcome = self.cargo(
            &["build", "--bin", bin, "--offline"],
            self.options.isolation,
        )?;
        if !outcome.success() {
            return Ok(Err(cargo_errors(&outcome.stderr)));
        }
        let built = self.target_dir.join("debug").join(bin);
        let write = |source| ValidateError::Write {
            path: to.to_owned(),
            source,
        };
        if let Some(dir) = to.parent() {
            std::fs::create_dir_all(dir).map_err(write)?;
        }
        // Beside, then renamed: a copy cut short is never taken for the program.
        let partial = to.with_extension("partial");
        std::fs::copy(&built, &partial).map_err(write)?;
        std::fs::rename(&partial, to).map_err(write)?;
        Ok(Ok(()))
    }

    /// Clippy's diagnostics for the worktree as it is (`cargo check`'s if clippy is missing).
    pub fn lint(&self) -> Result<(CargoOutput, String, Step), ValidateError> {
        let (json, linter, step) = self.lint_json()?;
        Ok((self.lint_output(&json), linter, step))
    }

    /// The linter's JSON messages read, each clippy lint with its group: where a crate's
    /// `#![deny(warnings)]` or `#![warn(clippy::all)]` hides it, from `clippy-driver -W help`
    /// (asked once, in the sandbox, since the worktree's toolchain answers).
    fn lint_output(&self, json: &str) -> CargoOutput {
        let mut output = parse_cargo_output(json);
        if output.needs_groups() {
            let groups = self.clippy_groups.get_or_init(|| {
                let spec = self.spec("clippy-driver", &["-W", "help"], self.options.isolation);
                nova_sandbox::run(&spec)
                    .ok()
                    .filter(Outcome::success)
                    .map(|outcome| {
                        diagnostics::clippy_groups(&String::from_utf8_lossy(&outcome.stdout))
                    })
                    .unwrap_or_default()
            });
            output.regroup(groups);
        }
        output
    }

    /// The linter's JSON messages, which linter ran, and its step, over every workspace member
    /// and the targets the base builds.
    fn lint_json(&self) -> Result<(String, String, Step), ValidateError> {
        let mut args = vec!["clippy", "--workspace"];
        args.extend(self.targets.flags());
        args.extend(["--message-format=json", "--offline", "--"]);
        for group in CLIPPY_GROUPS {
            args.push("-W");
            args.push(group_flag(group));
        }
        let outcome = self.cargo(&args, self.options.isolation)?;
        let stderr = String::from_utf8_lossy(&outcome.stderr);
        let (outcome, linter) = if stderr.contains("no such command: `clippy`") {
            let mut args = vec!["check", "--workspace"];
            args.extend(self.targets.flags());
            args.extend(["--message-format=json", "--offline"]);
            (self.cargo(&args, self.options.isolation)?, "check")
        } else {
            (outcome, "clippy")
        };
        let json = String::from_utf8_lossy(&outcome.stdout).into_owned();
        let command = format!(
            "cargo {linter} --workspace {}",
            self.targets.flags().join(" ")
        );
        Ok((json, linter.to_owned(), step(&command, &outcome)))
    }

    /// The files `cargo fmt` would change, with their text before and after. Leaves the worktree
    /// as it found it. Empty when rustfmt is not installed.
    pub fn format_drift(&mut self) -> Result<Vec<FormatDrift>, ValidateError> {
        let outcome = self.cargo(&["fmt", "--all"], self.options.isolation)?;
        let mut drift = Vec::new();
        if outcome.success() {
            for path in git::modified_files(&self.worktree)? {
                let Some(repo_path) = RepoPath::new(&path) else {
                    continue;
                };
                let before = git::read_blob(&self.repo_root, self.head, &path)?;
                let after = std::fs::read(self.worktree.join(&path)).ok();
                if let (Some(before), Some(after)) = (before, after)
                    && let (Ok(before), Ok(after)) =
                        (String::from_utf8(before), String::from_utf8(after))
                    && before != after
                {
                    drift.push(FormatDrift {
                        path: repo_path,
                        before,
                        after,
                    });
                }
            }
        }
        let head = self.head;
        self.checkout(head)?;
        Ok(drift)
    }

    /// `patch` (made on the commit the worktree is at) with the files it changes formatted by
    /// `cargo fmt`, but those in `skip`, and the files in `also` formatted too, changed by the
    /// patch or not; `None` when formatting changes nothing, or rustfmt is not installed or
    /// fails. The worktree is back at its commit after.
    pub fn format_patch(
        &mut self,
        patch: &Patch,
        skip: &BTreeSet<String>,
        also: &BTreeSet<RepoPath>,
    ) -> Result<Option<Patch>, ValidateError> {
        self.apply(patch)?;
        let mut changes = patch.changes.clone();
        let changed = changes.len();
        for path in also {
            if !changes.iter().any(|c| &c.path == path)
                && let Some(text) = self.read(path)
            {
                changes.push(FileChange::modify(path.clone(), text.clone(), text));
            }
        }
        let outcome = self.cargo(&["fmt", "--all"], self.options.isolation);
        let mut formatted = false;
        if outcome.as_ref().is_ok_and(Outcome::success) {
            for change in &mut changes {
                let path = change.path.as_str();
                if change.after.is_none() || (skip.contains(path) && !also.contains(&change.path)) {
                    continue;
                }
                let now = self.read(&change.path);
                if now.is_some() && now != change.after {
                    change.after = now;
                    formatted = true;
                }
            }
        }
        // A file only `also` named that was formatted already is no change.
        let mut at = 0;
        changes.retain(|c| {
            at += 1;
            at <= changed || c.before != c.after
        });
        let head = self.head;
        self.checkout(head)?;
        outcome?;
        Ok(formatted.then(|| Patch {
            summary: patch.summary.clone(),
            changes,
        }))
    }

    /// The current text of a file in the worktree.
    pub fn read(&self, path: &RepoPath) -> Option<String> {
        self.text(path.as_str())
    }

    /// A file's text in the worktree, by its path from the root (what the sans-IO readers of
    /// manifests and `cfg`s are handed).
    fn text(&self, path: &str) -> Option<String> {
        std::fs::read_to_string(self.worktree.join(path)).ok()
    }

    /// Writes `patch` into the worktree (creating and deleting files as it says), after checking
    /// every file holds what the patch expects.
    pub fn apply(&self, patch: &Patch) -> Result<(), ValidateError> {
        for change in &patch.changes {
            if self.read(&change.path) != change.before {
                return Err(ValidateError::Diverged(change.path.clone()));
            }
        }
        for change in &patch.changes {
            write_change(&self.worktree, change)
                .map_err(|(path, source)| ValidateError::Write { path, source })?;
        }
        Ok(())
    }

    /// Runs `what` with `patch` taken off the worktree, and puts it back whatever `what` gave.
    fn on_tree_before<T>(
        &self,
        patch: &Patch,
        what: impl FnOnce() -> Result<T, ValidateError>,
    ) -> Result<T, ValidateError> {
        self.apply(&patch.reversed())?;
        let result = what();
        self.apply(patch)?;
        result
    }

    /// Builds, tests and lints the worktree as it is; returns the report and the linter's
    /// diagnostics (empty when the build failed).
    pub fn validate_with_diagnostics(
        &self,
    ) -> Result<(ValidationReport, CargoOutput), ValidateError> {
        let (report, lint_json) = self.validate_json(&self.policy_skips())?;
        Ok((report, self.lint_output(&lint_json)))
    }

    /// The libtest names `[validate] skip` gives (a full key `pkg (lib) tests::t` gives its name).
    fn policy_skips(&self) -> Vec<String> {
        self.options
            .tests
            .skip
            .iter()
            .map(|entry| match entry.split_once(") ") {
                Some((prefix, name)) if prefix.contains(" (") => name.to_owned(),
                _ => entry.clone(),
            })
            .collect()
    }

    /// What a tree judged against `base` leaves out: the policy's skips, and the tests that hung
    /// on the base (already failing: running them again would only wait out the timeout again).
    fn skips(&self, base: &ValidationReport) -> Vec<String> {
        let mut skip = self.policy_skips();
        let hung = base.tests.hung.iter();
        skip.extend(hung.map(|key| base.tests.libtest_name(key).to_owned()));
        skip
    }

    /// Validates `patch`, which is applied in the worktree, against `base` (the report of the tree
    /// it applies to): builds, tests and lints it, runs again each test that passed on the base
    /// and fails here (a flaky one up to the policy's bound, a stable one once, to say whether the
    /// change made it flaky), then, if it builds, builds and tests it again in each feature
    /// configuration its changed lines are compiled under (`validate::features`); what fails there
    /// is tried on the tree before the patch too, so that the verdict knows what the change broke.
    pub fn validate_patch(
        &self,
        patch: &Patch,
        base: &ValidationReport,
    ) -> Result<(ValidationReport, CargoOutput), ValidateError> {
        // A new dependency must be downloaded before the offline build can find it.
        let mut fetched = Vec::new();
        if let Some((step, error)) = self.fetch_for(patch)? {
            if let Some(error) = error {
                let report = ValidationReport {
                    steps: vec![step],
                    sandbox: self.sandbox.clone(),
                    ..ValidationReport::build_failed(self.targets, vec![error], Vec::new())
                };
                return Ok((report, CargoOutput::default()));
            }
            fetched.push(step);
        }
        let skip = self.skips(base);
        let (mut report, lint_json) = self.validate_json(&skip)?;
        report.uncompiled = features::uncompiled(patch, &|path| self.text(path));
        fetched.append(&mut report.steps);
        report.steps = fetched;
        let lint = self.lint_output(&lint_json);
        report.baseline = base.baseline.clone();
        carry_hung(base, &mut report);
        report.silenced = patch
            .changes
            .iter()
            .flat_map(|change| {
                guard::silences(
                    change.path.as_str(),
                    change.before.as_deref(),
                    change.after.as_deref(),
                )
            })
            .collect();
        if !report.build_ok {
            return Ok((report, lint));
        }
        self.rerun_failing(base, &mut report, &skip)?;
        self.check_on_base(patch, base, &mut report, &skip)?;
        self.check_feature_configs(patch, base, &mut report, &skip)?;
        Ok((report, lint))
    }

    /// `cargo fetch` when `patch` changes a manifest or the lock file: its step, and cargo's error
    /// when it failed; `None` when nothing needs fetching.
    fn fetch_for(&self, patch: &Patch) -> Result<Option<(Step, Option<String>)>, ValidateError> {
        let manifests = patch.changes.iter().any(|change| {
            let file = change.path.as_str().rsplit('/').next().unwrap_or("");
            file == "Cargo.toml" || file == "Cargo.lock"
        });
        if !manifests {
            return Ok(None);
        }
        let (step, error) = self.fetch_outcome()?;
        let step = Step {
            command: String::from("cargo fetch (the change touches Cargo.toml or Cargo.lock)"),
            ..step
        };
        Ok(Some((step, error)))
    }

    /// Runs again each test that passed on `base` and failed in `report`: a flaky one up to the
    /// policy's bound, a stable one once (to say whether the change made it flaky).
    fn rerun_failing(
        &self,
        base: &ValidationReport,
        report: &mut ValidationReport,
        skip: &[String],
    ) -> Result<(), ValidateError> {
        let again: BTreeMap<String, u32> = report
            .tests
            .failed()
            .filter(|key| !report.tests.hung.contains(*key))
            .filter(|key| base.expects_pass(key))
            .map(|key| {
                let times = if base.baseline.flaky.contains_key(key) {
                    self.options.tests.flaky_reruns
                } else {
                    1
                };
                (key.to_owned(), times)
            })
            .filter(|(_, times)| *times > 0)
            .collect();
        if again.is_empty() {
            return Ok(());
        }
        let (reruns, steps) = self.rerun(Scope::Workspace, &again, &report.tests, skip)?;
        report.steps.extend(steps);
        for (key, rerun) in &reruns {
            if rerun.passed_on.is_some() && base.baseline.flaky.contains_key(key) {
                report.tests.tests.insert(key.clone(), TestOutcome::Passed);
            }
        }
        report.reruns = reruns;
        Ok(())
    }

    /// Runs each test that was stable in the base, failed on the candidate and passed when run
    /// again, on the base itself (the patch taken off for it), up to the policy's reruns: one
    /// that fails there too was flaky before the change, and the report's baseline says so; one
    /// that passes every time stays a test the change may have made flaky. Where the base ran
    /// its tests once (`Baseline::once`), this is where its flaky tests are found.
    fn check_on_base(
        &self,
        patch: &Patch,
        base: &ValidationReport,
        report: &mut ValidationReport,
        skip: &[String],
    ) -> Result<(), ValidateError> {
        let times = self.options.tests.flaky_reruns.max(1);
        let again: BTreeMap<String, u32> = report
            .reruns
            .iter()
            .filter(|(key, rerun)| {
                rerun.passed_on.is_some() && !base.baseline.flaky.contains_key(*key)
            })
            .map(|(key, _)| (key.clone(), times))
            .collect();
        if again.is_empty() {
            return Ok(());
        }
        // By the base's own names: a doctest's name carries its line, which the patch may move.
        let (failed_on, steps) =
            self.on_tree_before(patch, || self.fails_again(&again, &base.tests, skip))?;
        report.steps.extend(steps);
        for (key, failed_on) in failed_on {
            if let Some(run) = failed_on {
                let why = format!(
                    "it passed in the base's run, then failed on the base in run {run} of at most \
                     {times} when a candidate's run of it failed and its rerun passed"
                );
                report.baseline.flaky.insert(key.clone(), why);
                report.baseline.found.insert(key.clone());
                report.tests.tests.insert(key, TestOutcome::Passed);
            }
        }
        Ok(())
    }

    /// Builds, tests (leaving out `skip`) and lints every workspace member; returns the report and
    /// the linter's JSON messages.
    fn validate_json(&self, skip: &[String]) -> Result<(ValidationReport, String), ValidateError> {
        let targets = self.targets;
        let mut args = vec!["build", "--workspace"];
        args.extend(targets.flags());
        args.extend(["--message-format=json", "--offline"]);
        let build = self.cargo(&args, self.options.isolation)?;
        let build_step = step(
            &format!("cargo build --workspace {}", targets.flags().join(" ")),
            &build,
        );
        let build_output = parse_cargo_output(&String::from_utf8_lossy(&build.stdout));
        if !build.success() {
            let mut errors = build_output.errors;
            if errors.is_empty() {
                errors.push(cargo_errors(&build.stderr));
            }
            let mut first_errors = build_output.error_details;
            first_errors.truncate(report::FIRST_ERRORS);
            let report = ValidationReport {
                steps: vec![build_step],
                sandbox: self.sandbox.clone(),
                lints_capped: self.cap_lints,
                ..ValidationReport::build_failed(targets, errors, first_errors)
            };
            return Ok((report, String::new()));
        }
        let mut steps = vec![build_step];
        let run = self.run_tests(Scope::Workspace, skip)?;
        steps.extend(run.steps);
        let (tests, tests_ran) = (run.results, run.ran);

        let (lint_json, linter, lint_step) = self.lint_json()?;
        let lint = parse_cargo_output(&lint_json);
        let lint_errors = lint.compile_errors();
        // A linter that stopped for anything but a denied lint did not count every warning.
        let lint_ok = lint_step.ok
            || lint_errors.is_empty() && lint.lints().any(|d| d.severity == Severity::Error);
        let lint_errors = if lint_ok || !lint_errors.is_empty() {
            lint_errors
        } else {
            vec![
                lint_step
                    .stopped
                    .clone()
                    .unwrap_or_else(|| String::from("it failed")),
            ]
        };
        steps.push(lint_step);
        let mut warnings_by_file: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
        for diagnostic in lint.lints() {
            *warnings_by_file
                .entry(diagnostic.file.clone())
                .or_default()
                .entry(diagnostic.rule.clone())
                .or_default() += 1;
        }
        let report = ValidationReport {
            build_ok: true,
            tests_ran,
            tests,
            skipped: self.options.tests.skip.clone(),
            lint_warnings: lint.warning_count(),
            warnings_by_file,
            lint_ok,
            lint_errors,
            linter,
            steps,
            sandbox: self.sandbox.clone(),
            lints_capped: self.cap_lints,
            ..ValidationReport::build_failed(targets, Vec::new(), Vec::new())
        };
        Ok((report, lint_json))
    }

    /// Runs each command with `sh -c` in the worktree, in the sandbox: an agent's `acceptance`
    /// commands, which come from agent files and so run with no more trust than the tests.
    pub fn acceptance(&self, commands: &[String]) -> Result<Vec<Step>, ValidateError> {
        let mut steps = Vec::new();
        for command in commands {
            let spec = self.spec("/bin/sh", &["-c", command], self.options.isolation);
            self.observe(command);
            let outcome = nova_sandbox::run(&spec)?;
            steps.push(step(command, &outcome));
        }
        Ok(steps)
    }

    /// Runs an agent's `shell` command with `sh -c` in the worktree, in the sandbox, never with
    /// the network (whatever `--allow-network` says) and for at most `timeout`: its step, and its
    /// output (stderr merged into stdout), the end kept when it is longer than `chars`.
    pub fn shell(
        &self,
        command: &str,
        timeout: Duration,
        chars: usize,
    ) -> Result<(Step, String), ValidateError> {
        let mut spec = self.spec(
            "/bin/sh",
            &["-c", &format!("exec 2>&1\n{command}")],
            self.options.isolation,
        );
        spec.network = false;
        spec.timeout = spec.timeout.min(timeout);
        self.observe(command);
        let outcome = nova_sandbox::run(&spec)?;
        let text = String::from_utf8_lossy(&outcome.stdout);
        let mut start = text.len().saturating_sub(chars);
        while !text.is_char_boundary(start) {
            start += 1;
        }
        let output = if start > 0 {
            format!("[… the first {start} bytes cut]\n{}", &text[start..])
        } else {
            text.into_owned()
        };
        Ok((step(command, &outcome), output))
    }

    /// The environment of every command: the allowlist, with `HOME` replaced by an empty private
    /// home (so that nothing reads the user's dotfiles, and tests that write to `HOME` have
    /// somewhere to write) and the toolchain's homes named explicitly, since cargo and rustup
    /// would otherwise look for them under `HOME`.
    fn env(&self) -> Vec<(OsString, OsString)> {
        let mut env = private_env(
            self.options.env.iter(),
            &self.options.toolchain,
            &self.tmp_dir.join("home"),
            &self.tmp_dir,
        );
        env.push(("CARGO_TARGET_DIR".into(), self.target_dir.clone().into()));
        env.push(("CARGO_TERM_COLOR".into(), "never".into()));
        env.push(("NOVA_VALIDATION".into(), "1".into()));
        if self.cap_lints {
            env.push(("RUSTFLAGS".into(), "--cap-lints=warn".into()));
            env.push(("RUSTDOCFLAGS".into(), "--cap-lints=warn".into()));
        }
        env
    }

    fn cargo(&self, args: &[&str], isolation: Isolation) -> Result<Outcome, ValidateError> {
        let spec = self.spec("cargo", args, isolation);
        let label: Vec<&str> = std::iter::once("cargo")
            .chain(
                args.iter()
                    .copied()
                    .take_while(|a| !a.starts_with("--message")),
            )
            .collect();
        self.observe(&label.join(" "));
        Ok(nova_sandbox::run(&spec)?)
    }

    /// Tells the observer, if there is one, that `step` is about to run.
    fn observe(&self, step: &str) {
        if let Some(observer) = &self.options.observer {
            (observer.0)(step);
        }
    }

    /// A command in the worktree. It may change only the worktree, its target dir and its
    /// private temp dir, and read only those and the toolchain (see `sandbox/README.md`): not the
    /// user's checkout, its `.git`, or anything else in the home directory.
    fn spec(&self, program: &str, args: &[&str], isolation: Isolation) -> Spec {
        let mut spec = Spec::new(program, &self.worktree).args(args.iter().copied());
        spec.env = self.env();
        spec.isolation = isolation;
        spec.timeout = self.options.step_timeout;
        spec.limits = self.options.limits;
        spec.network = self.options.network;
        spec.write = vec![
            self.worktree.clone(),
            self.target_dir.clone(),
            self.tmp_dir.clone(),
        ];
        spec.read.extend(toolchain_read(&self.options.toolchain));
        spec
    }

    /// Runs a shell command line with stderr merged into stdout, so that cargo's `Running` lines
    /// stay in order with the tests they announce.
    fn run_merged(&self, command: &str) -> Result<Outcome, ValidateError> {
        let shown: Vec<&str> = command
            .split_whitespace()
            .filter(|word| !word.starts_with("--message") && *word != "--offline")
            .filter(|word| !["--no-fail-fast", "--color", "never", "2>&1"].contains(word))
            .collect();
        self.observe(&shown.join(" "));
        let spec = self.spec(
            "/bin/sh",
            &["-c", &format!("exec {command}")],
            self.options.isolation,
        );
        Ok(nova_sandbox::run(&spec)?)
    }
}

/// What sandboxed commands may read of the cargo home: programs, downloaded sources and the
/// configuration. Not `credentials.toml` (registry tokens), nor anything else there.
const CARGO_HOME_READ: &[&str] = &["bin", "registry", "git", "config.toml", "config"];

/// `vars` (an allowlist), with `home` as `HOME`, `tmp` as `TMPDIR` and the toolchain's homes
/// named, since cargo and rustup would otherwise look for them under `HOME`.
fn private_env<'a>(
    vars: impl Iterator<Item = &'a (String, String)>,
    toolchain: &ToolchainDirs,
    home: &Path,
    tmp: &Path,
) -> Vec<(OsString, OsString)> {
    const REPLACED: &[&str] = &["HOME", "CARGO_HOME", "RUSTUP_HOME", "TMPDIR"];
    let mut env: Vec<(OsString, OsString)> = vars
        .filter(|(k, _)| !REPLACED.contains(&k.as_str()))
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
    env.push(("HOME".into(), home.into()));
    env.push(("TMPDIR".into(), tmp.into()));
    if let Some(cargo_home) = &toolchain.cargo_home {
        env.push(("CARGO_HOME".into(), cargo_home.into()));
    }
    if let Some(rustup_home) = &toolchain.rustup_home {
        env.push(("RUSTUP_HOME".into(), rustup_home.into()));
    }
    env
}

/// What sandboxed commands may read of the toolchain: `RUSTUP_HOME`, the directories of `PATH`,
/// and [`CARGO_HOME_READ`] of the cargo home.
fn toolchain_read(toolchain: &ToolchainDirs) -> Vec<PathBuf> {
    let mut read: Vec<PathBuf> = toolchain.rustup_home.iter().cloned().collect();
    read.extend(toolchain.path.iter().cloned());
    if let Some(cargo_home) = &toolchain.cargo_home {
        read.extend(CARGO_HOME_READ.iter().map(|entry| cargo_home.join(entry)));
    }
    read
}

/// What `cargo fetch` may write in the cargo home: its download caches and their locks. Never the
/// cargo home itself, where a new `config.toml` could make the user's next cargo run anything.
const CARGO_DOWNLOAD_CACHES: &[&str] = &[
    "registry",
    "git",
    ".package-cache",
    ".package-cache-mutate",
    ".global-cache",
];

/// Writes `change` under `root`: the new text (making directories), or the file's removal.
pub fn write_change(
    root: &Path,
    change: &crate::edit::FileChange,
) -> Result<(), (PathBuf, std::io::Error)> {
    let path = root.join(change.path.as_str());
    let written = match &change.after {
        Some(text) => path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(&path, text)),
        None => std::fs::remove_file(&path),
    };
    written.map_err(|source| (path, source))
}

/// `<temp>/nova-validate-<hash of the repository path>`: the validation worktree and the private
/// temp dir of one repository. Made private to this user (mode 0700); one that another user owns
/// (a shared `/tmp`) is refused rather than used.
fn validation_home(
    temp_root: &Path,
    repo_root: &Path,
    state: &Path,
) -> Result<PathBuf, ValidateError> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    let hash = crate::hash::fnv1a(repo_root.as_os_str().as_encoded_bytes());
    let home = temp_root.join(format!("nova-validate-{hash:016x}"));
    let write_error = |source| ValidateError::Write {
        path: home.clone(),
        source,
    };
    match std::fs::DirBuilder::new().mode(0o700).create(&home) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(error) => return Err(write_error(error)),
    }
    let owner = |path: &Path| std::fs::symlink_metadata(path).map(|meta| meta.uid());
    let ours = owner(state).map_err(write_error)?;
    let meta = std::fs::symlink_metadata(&home).map_err(write_error)?;
    if !meta.is_dir() || meta.uid() != ours {
        return Err(ValidateError::Foreign(home));
    }
    Ok(home)
}

fn group_flag(group: &str) -> &'static str {
    match group {
        "correctness" => "clippy::correctness",
        "suspicious" => "clippy::suspicious",
        "style" => "clippy::style",
        "complexity" => "clippy::complexity",
        _ => "clippy::perf",
    }
}

fn step(command: &str, outcome: &Outcome) -> Step {
    let seconds = outcome.elapsed.as_secs();
    let stopped = match (outcome.status, outcome.limit_hit) {
        (Status::TimedOut, Some(limit)) => {
            Some(format!("hit {limit}, then timed out after {seconds} s"))
        }
        (Status::TimedOut, None) => Some(format!("timed out after {seconds} s")),
        (_, Some(limit)) => Some(format!("hit {limit}")),
        _ => None,
    };
    Step {
        stopped,
        command: command.to_owned(),
        ok: outcome.success(),
        seconds: (outcome.elapsed.as_secs_f64() * 100.0).round() / 100.0,
    }
}

/// Cargo's own `error:` lines and what follows them (its progress lines left out); the last
/// lines of its output when it printed none.
fn cargo_errors(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.lines().collect();
    match lines.iter().position(|line| line.starts_with("error")) {
        Some(first) => lines[first..]
            .iter()
            .take(20)
            .copied()
            .collect::<Vec<_>>()
            .join("\n"),
        None => lines[lines.len().saturating_sub(20)..].join("\n"),
    }
}

/// The base's hung tests were not run on a candidate: they stay what they were (failed, with
/// their output and names), for the next candidate.
fn carry_hung(base: &ValidationReport, report: &mut ValidationReport) {
    let tests = &mut report.tests;
    for key in &base.tests.hung {
        tests.hung.insert(key.clone());
        tests
            .tests
            .entry(key.clone())
            .or_insert(TestOutcome::Failed);
        if let Some(output) = base.tests.output.get(key) {
            tests
                .output
                .entry(key.clone())
                .or_insert_with(|| output.clone());
        }
        if let Some(name) = base.tests.doc_names.get(key) {
            tests
                .doc_names
                .entry(key.clone())
                .or_insert_with(|| name.clone());
        }
    }
}
