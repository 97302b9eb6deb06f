//! Validation: the worktree where candidates are applied, and cargo build, test, clippy and fmt
//! run there through `nova-sandbox`.
//!
//! Owns: the validation worktree under `.nova/`, its target dir (per repository, never shared
//! with another checkout path), every cargo invocation, and `ValidationReport`s.
//! Never: touches the user's working tree, or runs repository code outside `nova-sandbox` (except
//! with `--unsafe-no-sandbox`, which the user must ask for).

mod cache;
mod libtest;
mod report;

pub use libtest::{TestOutcome, TestResults, parse_test_output};
pub use report::{Step, ValidationReport, Verdict, judge, record_lint_delta};

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use git2::Oid;
use nova_sandbox::{Isolation, Limits, Outcome, Spec, Status};

use crate::config::ToolchainDirs;

use crate::edit::Patch;
use crate::engine::{CargoOutput, FormatDrift, parse_cargo_output};
use crate::findings::RepoPath;
use crate::git;

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
}

/// How to run cargo.
#[derive(Debug, Clone)]
pub struct Options {
    pub isolation: Isolation,
    /// The environment cargo sees (an allowlist; see `config::Env::sandbox_vars`).
    pub env: Vec<(String, String)>,
    pub step_timeout: Duration,
    /// The system's temp directory. Builds get a private one inside it, outside the repository,
    /// so that their tests' temp files are not inside any git repository.
    pub temp_root: PathBuf,
    /// Where cargo, rustc and their programs live: readable in the sandbox.
    pub toolchain: ToolchainDirs,
    pub limits: Limits,
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
}

/// Clippy's default groups, named so that each warning says which group it belongs to.
const CLIPPY_GROUPS: &[&str] = &["correctness", "suspicious", "style", "complexity", "perf"];

impl Workspace {
    /// Prepares `.nova/worktree` detached at `commit`, with `.nova/target` as its target dir.
    pub fn open(repo_root: &Path, commit: Oid, options: Options) -> Result<Self, ValidateError> {
        let state = state::prepare(repo_root)
            .map_err(|(path, source)| ValidateError::Write { path, source })?;
        let worktree = state.join("worktree");
        git::ensure_worktree(repo_root, &worktree, "nova-validate", commit)?;
        let tmp_dir = private_tmp(&options.temp_root, repo_root);
        // Whatever an earlier run's tests left there goes.
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
        Ok(Workspace {
            repo_root: repo_root.to_owned(),
            worktree,
            target_dir,
            tmp_dir,
            sandbox: nova_sandbox::describe(options.isolation),
            options,
            head: commit,
        })
    }

    /// Changes how long each later step may run.
    pub fn set_step_timeout(&mut self, timeout: Duration) {
        self.options.step_timeout = timeout;
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
        let mut spec = self.spec("cargo", &["fetch"], self.options.isolation);
        spec.network = true;
        if let Some(cargo_home) = &self.options.toolchain.cargo_home {
            for cache in CARGO_DOWNLOAD_CACHES {
                let path = cargo_home.join(cache);
                if !cache.starts_with('.') {
                    let _ = std::fs::create_dir_all(&path);
                }
                spec.write.push(path);
            }
        }
        let outcome = nova_sandbox::run(&spec)?;
        Ok(step("cargo fetch", &outcome))
    }

    /// Clippy's diagnostics for the worktree as it is (`cargo check`'s if clippy is missing).
    pub fn lint(&self) -> Result<(CargoOutput, String, Step), ValidateError> {
        let (json, linter, step) = self.lint_json()?;
        Ok((parse_cargo_output(&json), linter, step))
    }

    /// The linter's JSON messages, which linter ran, and its step.
    fn lint_json(&self) -> Result<(String, String, Step), ValidateError> {
        let mut args = vec![
            "clippy",
            "--all-targets",
            "--message-format=json",
            "--offline",
            "--",
        ];
        for group in CLIPPY_GROUPS {
            args.push("-W");
            args.push(group_flag(group));
        }
        let outcome = self.cargo(&args, self.options.isolation)?;
        let stderr = String::from_utf8_lossy(&outcome.stderr);
        if stderr.contains("no such command: `clippy`") {
            let args = [
                "check",
                "--all-targets",
                "--message-format=json",
                "--offline",
            ];
            let outcome = self.cargo(&args, self.options.isolation)?;
            let json = String::from_utf8_lossy(&outcome.stdout).into_owned();
            return Ok((json, String::from("check"), step("cargo check", &outcome)));
        }
        let json = String::from_utf8_lossy(&outcome.stdout).into_owned();
        Ok((json, String::from("clippy"), step("cargo clippy", &outcome)))
    }

    /// The files `cargo fmt` would change, with their text before and after. Leaves the worktree
    /// as it found it. Empty when rustfmt is not installed.
    pub fn format_drift(&mut self) -> Result<Vec<FormatDrift>, ValidateError> {
        let outcome = self.cargo(&["fmt", "--all"], self.options.isolation)?;
        let mut drift = Vec::new();
        if outcome.success() {
            for path in changed_files(&self.worktree)? {
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

    /// The current text of a file in the worktree.
    pub fn read(&self, path: &RepoPath) -> Option<String> {
        std::fs::read_to_string(self.worktree.join(path.as_str())).ok()
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

    /// Builds, tests and lints the worktree as it is; returns the report and the linter's
    /// diagnostics (empty when the build failed).
    pub fn validate_with_diagnostics(
        &self,
    ) -> Result<(ValidationReport, CargoOutput), ValidateError> {
        let (report, lint_json) = self.validate_json()?;
        Ok((report, parse_cargo_output(&lint_json)))
    }

    /// [`Workspace::validate_with_diagnostics`] for the commit the worktree is at, reusing the
    /// results of an earlier run on the same commit with the same toolchain, sandbox and Nova
    /// (`.nova/base/`). Only green results are kept: a red base is always proved again, so that a
    /// flaky failure is not remembered. A reused report says so (`cached`).
    pub fn validate_base(&self) -> Result<(ValidationReport, CargoOutput), ValidateError> {
        let key = self.base_key();
        let cache = cache::BaseCache::new(&self.repo_root.join(state::STATE_DIR).join("base"));
        if let Some((mut report, lint_json)) = cache.load(self.head, &key) {
            report.cached = true;
            return Ok((report, parse_cargo_output(&lint_json)));
        }
        let (report, lint_json) = self.validate_json()?;
        if report.is_green() {
            cache.store(self.head, &key, &report, &lint_json);
        }
        Ok((report, parse_cargo_output(&lint_json)))
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
            "nova {}\n{}{}{:?}\n{}\n{:?}\n",
            env!("CARGO_PKG_VERSION"),
            version("rustc", "-vV"),
            version("cargo", "-V"),
            self.options.env,
            self.sandbox,
            self.options.limits,
        )
    }

    /// Builds, tests and lints; returns the report and the linter's JSON messages.
    fn validate_json(&self) -> Result<(ValidationReport, String), ValidateError> {
        let mut steps = Vec::new();
        let build = self.cargo(
            &["build", "--tests", "--message-format=json", "--offline"],
            self.options.isolation,
        )?;
        steps.push(step("cargo build --tests", &build));
        let build_output = parse_cargo_output(&String::from_utf8_lossy(&build.stdout));
        if !build.success() {
            let mut errors = build_output.errors;
            if errors.is_empty() {
                errors.push(tail(&build.stderr, 20));
            }
            let mut first_errors = build_output.error_details;
            first_errors.truncate(report::FIRST_ERRORS);
            let report = ValidationReport {
                build_ok: false,
                build_errors: errors,
                first_errors,
                lint_delta: None,
                tests_ran: false,
                tests: TestResults::default(),
                lint_warnings: 0,
                linter: String::new(),
                steps,
                acceptance: Vec::new(),
                sandbox: self.sandbox.clone(),
                cached: false,
            };
            return Ok((report, String::new()));
        }

        let test = self.run_merged("cargo test --offline --no-fail-fast --color never 2>&1")?;
        steps.push(step("cargo test", &test));
        let tests = parse_test_output(&String::from_utf8_lossy(&test.stdout));
        // libtest exits 101 when tests fail; anything else (a timeout, a crash) means it did not finish.
        let tests_ran = matches!(test.status, Status::Exited(0) | Status::Exited(101));

        let (lint_json, linter, lint_step) = self.lint_json()?;
        let lint = parse_cargo_output(&lint_json);
        steps.push(lint_step);
        let report = ValidationReport {
            build_ok: true,
            build_errors: Vec::new(),
            first_errors: Vec::new(),
            lint_delta: None,
            tests_ran,
            tests,
            lint_warnings: lint.warning_count(),
            linter,
            steps,
            acceptance: Vec::new(),
            sandbox: self.sandbox.clone(),
            cached: false,
        };
        Ok((report, lint_json))
    }

    /// Runs each command with `sh -c` in the worktree, in the sandbox: an agent's `acceptance`
    /// commands, which come from agent files and so run with no more trust than the tests.
    pub fn acceptance(&self, commands: &[String]) -> Result<Vec<Step>, ValidateError> {
        let mut steps = Vec::new();
        for command in commands {
            let spec = self.spec("/bin/sh", &["-c", command], self.options.isolation);
            let outcome = nova_sandbox::run(&spec)?;
            steps.push(step(command, &outcome));
        }
        Ok(steps)
    }

    /// The environment of every command: the allowlist, with `HOME` replaced by an empty private
    /// home (so that nothing reads the user's dotfiles, and tests that write to `HOME` have
    /// somewhere to write) and the toolchain's homes named explicitly, since cargo and rustup
    /// would otherwise look for them under `HOME`.
    fn env(&self) -> Vec<(OsString, OsString)> {
        const REPLACED: &[&str] = &["HOME", "CARGO_HOME", "RUSTUP_HOME", "TMPDIR"];
        let mut env: Vec<(OsString, OsString)> = self
            .options
            .env
            .iter()
            .filter(|(k, _)| !REPLACED.contains(&k.as_str()))
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        env.push(("HOME".into(), self.tmp_dir.join("home").into()));
        let toolchain = &self.options.toolchain;
        if let Some(cargo_home) = &toolchain.cargo_home {
            env.push(("CARGO_HOME".into(), cargo_home.clone().into()));
        }
        if let Some(rustup_home) = &toolchain.rustup_home {
            env.push(("RUSTUP_HOME".into(), rustup_home.clone().into()));
        }
        env.push(("CARGO_TARGET_DIR".into(), self.target_dir.clone().into()));
        env.push(("CARGO_TERM_COLOR".into(), "never".into()));
        env.push(("TMPDIR".into(), self.tmp_dir.clone().into()));
        env.push(("NOVA_VALIDATION".into(), "1".into()));
        env
    }

    fn cargo(&self, args: &[&str], isolation: Isolation) -> Result<Outcome, ValidateError> {
        let spec = self.spec("cargo", args, isolation);
        Ok(nova_sandbox::run(&spec)?)
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
        spec.write = vec![
            self.worktree.clone(),
            self.target_dir.clone(),
            self.tmp_dir.clone(),
        ];
        let toolchain = &self.options.toolchain;
        spec.read.extend(toolchain.rustup_home.iter().cloned());
        spec.read.extend(toolchain.path.iter().cloned());
        if let Some(cargo_home) = &toolchain.cargo_home {
            spec.read
                .extend(CARGO_HOME_READ.iter().map(|entry| cargo_home.join(entry)));
        }
        // Cargo reads the manifests and configuration of every directory above the worktree, to
        // find a workspace root and merge configuration: those files, and nothing else there.
        for dir in self.worktree.ancestors().skip(1) {
            spec.read.extend(
                ["Cargo.toml", ".cargo/config.toml", ".cargo/config"]
                    .iter()
                    .map(|file| dir.join(file)),
            );
        }
        spec
    }

    /// Runs a shell command line with stderr merged into stdout, so that cargo's `Running` lines
    /// stay in order with the tests they announce.
    fn run_merged(&self, command: &str) -> Result<Outcome, ValidateError> {
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

/// `<temp>/nova-<hash of the repository path>`: one private temp dir per repository.
fn private_tmp(temp_root: &Path, repo_root: &Path) -> PathBuf {
    let hash = crate::hash::fnv1a(repo_root.as_os_str().as_encoded_bytes());
    temp_root.join(format!("nova-{hash:016x}"))
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

fn tail(bytes: &[u8], lines: usize) -> String {
    let text = String::from_utf8_lossy(bytes);
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

/// Tracked files that differ between the worktree and its HEAD.
fn changed_files(worktree: &Path) -> Result<Vec<String>, ValidateError> {
    let repo = git2::Repository::open(worktree).map_err(git::WorktreeError::from)?;
    let mut options = git2::StatusOptions::new();
    options.include_untracked(false).include_ignored(false);
    let statuses = repo
        .statuses(Some(&mut options))
        .map_err(git::WorktreeError::from)?;
    let mut files: Vec<String> = statuses
        .iter()
        .filter(|entry| entry.status().contains(git2::Status::WT_MODIFIED))
        .filter_map(|entry| entry.path().ok().map(str::to_owned))
        .collect();
    files.sort();
    Ok(files)
}
