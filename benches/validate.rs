//! Benchmark of validation: a one-line change validated warm in the sandbox, against what a person
//! runs by hand after the same edit: an in-place incremental `cargo test` followed by `cargo clippy
//! --all-targets` (the target: at most 1.15x), and `cargo test` alone; Nova's own work per
//! candidate (everything but the time cargo, rustc and the tests run); and whether any dependency
//! is rebuilt after warm-up.
//!
//! ```sh
//! cargo bench --bench validate --no-run && taskset -c 0 cargo bench --bench validate
//! ```
//!
//! The fixture is generated in `target/bench-validate/`: a crate of 24 modules (about 3,000
//! lines, with unit tests) depending on `anyhow` and `serde` with `derive`, so that dependencies,
//! a proc macro and a build of some size are involved. Results go in BENCHMARKS.md.

#![expect(
    clippy::print_stdout,
    reason = "a benchmark reports its results on stdout"
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use nova::config::ToolchainDirs;
use nova::edit::RepoPath;
use nova::edit::{FileChange, Patch};
use nova::validate::{Options, Workspace, judge};
use nova_sandbox::{Isolation, Limits};

const MODULES: usize = 24;
const RUNS: usize = 5;

fn main() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-validate");
    let _ = std::fs::remove_dir_all(&dir);
    let repo = dir.join("crate");
    let inplace = dir.join("inplace");
    make_crate(&repo);
    make_crate(&inplace);
    let head = commit_all(&repo);
    let original = std::fs::read_to_string(repo.join("src/m0.rs")).expect("m0");

    let mut workspace = Workspace::open(&repo, head, options(&dir)).expect("workspace");
    let fetch = workspace.fetch().expect("fetch");
    assert!(fetch.ok, "cargo fetch failed: is the registry cache warm?");
    let started = Instant::now();
    let (base, _) = workspace.validate_with_diagnostics().expect("base");
    assert!(base.is_green(), "{base:?}");
    println!(
        "cold validation of the base: {:.1} s",
        secs(started.elapsed())
    );

    // Warm-up: one candidate, so that the test binary's incremental state exists.
    run_candidate(&mut workspace, &base, &original, 0, head);
    let deps_before = dependency_mtimes(&repo.join(".nova/target/debug/deps"));

    let mut totals = Vec::new();
    let mut own = Vec::new();
    let mut build_and_test = Vec::new();
    for i in 1..=RUNS {
        let timing = run_candidate(&mut workspace, &base, &original, i, head);
        totals.push(timing.total);
        own.push(timing.total.saturating_sub(timing.cargo));
        build_and_test.push(timing.build_and_test);
    }
    let deps_after = dependency_mtimes(&repo.join(".nova/target/debug/deps"));
    let rebuilt = deps_before
        .iter()
        .filter(|(path, mtime)| deps_after.iter().any(|(p, m)| p == path && m != mtime))
        .count();

    // The same edits in place, with a plain incremental `cargo test`, then `cargo clippy
    // --all-targets` (warmed the same way).
    for edited in [false, true] {
        if edited {
            edit(&inplace, &original, 0);
        }
        cargo(&inplace, &["test"]);
        cargo(&inplace, &["clippy", "--all-targets"]);
    }
    let mut in_place = Vec::new();
    let mut by_hand = Vec::new();
    for i in 1..=RUNS {
        edit(&inplace, &original, i);
        let started = Instant::now();
        cargo(&inplace, &["test"]);
        in_place.push(started.elapsed());
        cargo(&inplace, &["clippy", "--all-targets"]);
        by_hand.push(started.elapsed());
    }

    let (total, own, in_place) = (median(totals), median(own), median(in_place));
    let by_hand = median(by_hand);
    let build_and_test = median(build_and_test);
    println!("median of {RUNS} one-line candidates, warm:");
    println!("| measure | time | target |");
    println!("| --- | --- | --- |");
    println!(
        "| validation in the sandbox (apply, build, test, clippy, judge, restore) | {:.2} s | |",
        secs(total)
    );
    println!(
        "| in-place incremental `cargo test` then `cargo clippy --all-targets`, same edit | {:.2} s | |",
        secs(by_hand)
    );
    println!(
        "| ratio | {:.2} | at most 1.15 |",
        secs(total) / secs(by_hand)
    );
    println!(
        "| in-place incremental `cargo test` alone | {:.2} s, ratio {:.2} | |",
        secs(in_place),
        secs(total) / secs(in_place)
    );
    println!(
        "| of which `cargo build --tests` + `cargo test`, against the same | {:.2} s, ratio {:.2} | |",
        secs(build_and_test),
        secs(build_and_test) / secs(in_place)
    );
    println!(
        "| Nova's own work per candidate (total minus the cargo steps' time) | {:.0} ms | at most 150 ms |",
        secs(own) * 1000.0
    );
    println!("| dependency artifacts rebuilt after warm-up | {rebuilt} | 0 |");
}

/// Where one candidate's time went.
struct Timing {
    total: Duration,
    /// Every cargo step.
    cargo: Duration,
    /// The build and test steps only (not the linter).
    build_and_test: Duration,
}

/// Applies the `i`th one-line edit, validates, judges and restores.
fn run_candidate(
    workspace: &mut Workspace,
    base: &nova::validate::ValidationReport,
    original: &str,
    i: usize,
    head: git2::Oid,
) -> Timing {
    let patch = Patch {
        summary: format!("edit {i}"),
        changes: vec![FileChange::modify(
            RepoPath::new("src/m0.rs").expect("path"),
            original.to_owned(),
            edited(original, i),
        )],
    };
    let started = Instant::now();
    workspace.apply(&patch).expect("apply");
    let (report, _) = workspace.validate_with_diagnostics().expect("validate");
    let verdict = judge(base, &report);
    workspace.checkout(head).expect("restore");
    let total = started.elapsed();
    assert!(verdict.accepted, "{:?}", verdict.reasons);
    let cargo: f64 = report.steps.iter().map(|step| step.seconds).sum();
    let build_and_test: f64 = report
        .steps
        .iter()
        .filter(|step| step.command.starts_with("cargo build") || step.command == "cargo test")
        .map(|step| step.seconds)
        .sum();
    let steps: Vec<String> = report
        .steps
        .iter()
        .map(|step| format!("{} {:.2} s", step.command, step.seconds))
        .collect();
    println!("candidate {i}: {:.2} s: {}", secs(total), steps.join(", "));
    Timing {
        total,
        cargo: Duration::from_secs_f64(cargo),
        build_and_test: Duration::from_secs_f64(build_and_test),
    }
}

fn edited(original: &str, i: usize) -> String {
    original.replacen("\"label 0\"", &format!("\"label {i}\""), 1)
}

fn edit(dir: &Path, original: &str, i: usize) {
    std::fs::write(dir.join("src/m0.rs"), edited(original, i)).expect("edit");
}

/// Runs `cargo ARGS --offline --quiet` in `dir`, as a person would by hand.
#[expect(clippy::disallowed_methods, reason = "the baseline runs cargo itself")]
fn cargo(dir: &Path, args: &[&str]) {
    let status = Command::new("cargo")
        .args(args)
        .args(["--offline", "--quiet"])
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("cargo");
    assert!(status.success(), "cargo {args:?}");
}

#[expect(
    clippy::disallowed_methods,
    reason = "the benchmark hands its own toolchain to the sandbox"
)]
fn options(dir: &Path) -> Options {
    let vars: Vec<(String, String)> = [
        "PATH",
        "HOME",
        "CARGO_HOME",
        "RUSTUP_HOME",
        "RUSTUP_TOOLCHAIN",
    ]
    .iter()
    .filter_map(|name| Some(((*name).to_owned(), std::env::var(name).ok()?)))
    .collect();
    let home = std::env::var("HOME").map(PathBuf::from).ok();
    let var = |name: &str, default: &str| {
        std::env::var(name)
            .map(PathBuf::from)
            .ok()
            .or_else(|| home.as_ref().map(|h| h.join(default)))
    };
    let temp = dir.join("tmp");
    std::fs::create_dir_all(&temp).expect("tmp");
    Options {
        isolation: Isolation::Sandbox,
        env: vars,
        step_timeout: Duration::from_secs(900),
        temp_root: temp,
        toolchain: ToolchainDirs {
            cargo_home: var("CARGO_HOME", ".cargo"),
            rustup_home: var("RUSTUP_HOME", ".rustup"),
            path: std::env::var("PATH")
                .map(|p| std::env::split_paths(&p).collect())
                .unwrap_or_default(),
        },
        limits: Limits::default(),
        network: false,
        observer: None,
        tests: nova::validate::TestPolicy::default(),
    }
}

/// Modification times of the dependencies' artifacts (everything not of the fixture itself).
fn dependency_mtimes(deps: &Path) -> Vec<(PathBuf, SystemTime)> {
    let mut out: Vec<(PathBuf, SystemTime)> = std::fs::read_dir(deps)
        .expect("deps")
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let name = path.file_name()?.to_string_lossy().into_owned();
            if name.starts_with("fixture") || name.starts_with("libfixture") {
                return None;
            }
            Some((
                path.clone(),
                std::fs::metadata(&path).ok()?.modified().ok()?,
            ))
        })
        .collect();
    out.sort();
    out
}

fn make_crate(dir: &Path) {
    std::fs::create_dir_all(dir.join("src")).expect("mkdir");
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"fixture\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
         [workspace]\n\n[dependencies]\nanyhow = \"1\"\nserde = { version = \"1\", features = [\"derive\"] }\n",
    )
    .expect("manifest");
    let mut lib = String::new();
    for m in 0..MODULES {
        lib.push_str(&format!("pub mod m{m};\n"));
        std::fs::write(dir.join(format!("src/m{m}.rs")), module(m)).expect("module");
    }
    std::fs::write(dir.join("src/lib.rs"), lib).expect("lib");
    // Reuse Nova's lock file, so that the same (cached) versions resolve offline.
    let lock = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("Cargo.lock");
    std::fs::copy(lock, dir.join("Cargo.lock")).expect("lock");
}

fn module(m: usize) -> String {
    let mut text = format!(
        "use serde::{{Deserialize, Serialize}};\n\n/// A label nobody tests.\npub fn label() -> &'static str {{\n    \"label 0\"\n}}\n\n\
         #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]\npub struct Record{m} {{\n    \
         pub id: u64,\n    pub name: String,\n    pub values: Vec<i64>,\n}}\n\n"
    );
    for f in 0..8 {
        text.push_str(&format!(
            "pub fn compute_{f}(input: &[i64]) -> anyhow::Result<i64> {{\n    \
             let mut total = 0i64;\n    for (i, value) in input.iter().enumerate() {{\n        \
             total = total.checked_add(value * (i as i64 + {f})).ok_or_else(|| anyhow::anyhow!(\"overflow\"))?;\n    \
             }}\n    if total < 0 {{\n        return Ok(-total);\n    }}\n    Ok(total)\n}}\n\n"
        ));
    }
    text.push_str("#[cfg(test)]\nmod tests {\n    use super::*;\n\n");
    for f in 0..8 {
        text.push_str(&format!(
            "    #[test]\n    fn compute_{f}_sums() {{\n        \
             assert_eq!(compute_{f}(&[1, 2, 3]).unwrap(), {});\n    }}\n\n",
            (0..3i64).map(|i| (i + 1) * (i + f as i64)).sum::<i64>()
        ));
    }
    text.push_str(&format!(
        "    #[test]\n    fn record_round_trips() {{\n        let record = Record{m} {{ id: 1, name: \"a\".into(), values: vec![1] }};\n        \
         assert_eq!(record.clone(), record);\n    }}\n}}\n"
    ));
    text
}

fn commit_all(dir: &Path) -> git2::Oid {
    let repo = git2::Repository::init(dir).expect("init");
    let mut index = repo.index().expect("index");
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .expect("add");
    index.write().expect("write index");
    let tree = repo
        .find_tree(index.write_tree().expect("tree"))
        .expect("tree");
    let who = git2::Signature::new("bench", "bench@example.com", &git2::Time::new(0, 0))
        .expect("signature");
    repo.commit(Some("HEAD"), &who, &who, "fixture", &tree, &[])
        .expect("commit")
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}
