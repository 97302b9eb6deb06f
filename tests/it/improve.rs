//! `nova improve` end to end on crates built by code: branches, commits, rejections, a failing
//! base, a clean crate, determinism, and a user's checkout left exactly as it was.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{
    Run, TestEnv, branch_file, branch_log, branches, files_under, toolchain_env, write,
};

const MANIFEST: &str =
    "[package]\nname = \"fixture\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n";

/// A library with fixable compiler and clippy warnings, a warning without a safe fix, and tests.
const LIB: &str = r#"use std::collections::HashMap;

pub fn add(a: i32, b: i32) -> i32 {
    return a + b;
}

pub fn none_left(items: &Vec<i32>) -> bool {
    items.len() == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds() {
        assert_eq!(add(2, 3), 5);
    }

    #[test]
    fn empty() {
        assert!(none_left(&vec![]));
    }
}
"#;

/// A test that reads the source and insists on the very `return` clippy wants to remove.
const PINNED_TEST: &str = r#"#[test]
fn keeps_its_explicit_return() {
    let source = include_str!("../src/lib.rs");
    assert!(source.contains("return a + b;"), "the explicit return is part of the contract");
}
"#;

/// A crate with nothing to improve, whose tests also check that the sandbox gives them a temp dir
/// outside any git repository.
const CLEAN_LIB: &str = r#"/// Adds two numbers.
pub fn add(a: i32, b: i32) -> i32 {
    a + b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds() {
        assert_eq!(add(2, 3), 5);
    }

    #[test]
    fn temp_dir_is_outside_any_repository() {
        let tmp = std::env::temp_dir();
        let inside = tmp.ancestors().any(|dir| dir.join(".git").exists());
        assert!(!inside, "{}", tmp.display());
    }
}
"#;

pub fn fixture(env: &TestEnv, name: &str, extra: &[(&str, &str)]) -> PathBuf {
    let mut files = vec![("Cargo.toml", MANIFEST), ("src/lib.rs", LIB)];
    files.extend_from_slice(extra);
    env.repo_with(name, &files)
}

fn improve(env: &TestEnv, repo: &Path, args: &[&str]) -> Run {
    let mut all = vec!["improve"];
    all.extend_from_slice(args);
    env.nova_in(repo, all)
}

/// `(commit, tree, subject)` of each commit on `branch` after `HEAD`, oldest first.
pub fn branch_commits(repo: &Path, branch: &str) -> Vec<(String, String, String)> {
    let git = git2::Repository::open(repo).expect("open");
    branch_log(repo, branch)
        .into_iter()
        .map(|oid| {
            let commit = git.find_commit(oid).expect("commit");
            let subject = commit.summary().ok().flatten().unwrap_or_default();
            (
                commit.id().to_string(),
                commit.tree_id().to_string(),
                subject.to_owned(),
            )
        })
        .collect()
}

/// Every file under `dir` (outside `.git`, `.nova` and `target`) with its bytes.
fn snapshot_tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    files_under(dir, &[".git", ".nova", "target"])
}

fn status(repo: &Path) -> Vec<(String, u32)> {
    let git = git2::Repository::open(repo).expect("open");
    let mut options = git2::StatusOptions::new();
    options.include_untracked(true);
    let statuses = git.statuses(Some(&mut options)).expect("status");
    statuses
        .iter()
        .map(|s| (s.path().expect("utf-8").to_owned(), s.status().bits()))
        .collect()
}

/// Checks out `commit` of `repo` into a fresh directory and runs its tests there.
#[expect(
    clippy::disallowed_methods,
    reason = "the test proves each commit by running cargo itself"
)]
pub fn commit_passes_its_tests(env: &TestEnv, repo: &Path, commit: &str) -> bool {
    let git = git2::Repository::open(repo).expect("open");
    let tree = git
        .find_commit(git2::Oid::from_str(commit).expect("oid"))
        .expect("commit")
        .tree()
        .expect("tree");
    let dir = env.root().join("checkouts").join(commit);
    std::fs::create_dir_all(&dir).expect("mkdir");
    let mut checkout = git2::build::CheckoutBuilder::new();
    checkout.target_dir(&dir).force().update_index(false);
    git.checkout_tree(tree.as_object(), Some(&mut checkout))
        .expect("checkout");
    let status = Command::new("cargo")
        .args(["test", "--offline", "--quiet"])
        .current_dir(&dir)
        .env_clear()
        .envs(toolchain_env())
        .env("CARGO_TARGET_DIR", env.root().join("checkouts-target"))
        .output()
        .expect("cargo test");
    status.status.success()
}

#[test]
fn improves_a_crate_on_a_branch_and_leaves_the_checkout_alone() {
    let env = TestEnv::new();
    let repo = fixture(
        &env,
        "crate",
        &[("README.md", "# fixture\n"), ("notes.txt", "staged\n")],
    );
    // A modified file, a staged file and an untracked file.
    write(&repo, "README.md", "# fixture, edited\n");
    write(&repo, "notes.txt", "staged, then edited\n");
    let git = git2::Repository::open(&repo).expect("open");
    let mut index = git.index().expect("index");
    index.add_path(Path::new("notes.txt")).expect("stage");
    index.write().expect("write index");
    write(&repo, "untracked.rs", "fn main() {}\n");
    let index_bytes = std::fs::read(repo.join(".git/index")).expect("index bytes");
    let head = std::fs::read(repo.join(".git/HEAD")).expect("HEAD");
    let tree_before = snapshot_tree(&repo);
    let status_before = status(&repo);

    // One commit per rule, to read each fix's own message.
    let run = improve(&env, &repo, &["--branch", "nova/test", "--group", "rule"]);
    assert_eq!(run.code, 0, "{}", run.both());

    assert_eq!(
        snapshot_tree(&repo),
        tree_before,
        "the working tree is untouched"
    );
    assert_eq!(
        status(&repo),
        status_before,
        "git status is unchanged, `.nova/` included"
    );
    assert_eq!(
        std::fs::read(repo.join(".git/index")).expect("index"),
        index_bytes
    );
    assert_eq!(std::fs::read(repo.join(".git/HEAD")).expect("HEAD"), head);

    let commits = branch_commits(&repo, "nova/test");
    let subjects: Vec<&str> = commits.iter().map(|c| c.2.as_str()).collect();
    assert_eq!(
        subjects,
        [
            "Fix `rustc::unused_imports` in src/lib.rs",
            "Fix `clippy::needless_return` in `add` (src/lib.rs)",
            // Removing the import left a blank line: the last fix of the pass in the file
            // carries its formatting.
            "Fix `clippy::len_zero` in `none_left` (src/lib.rs)",
        ]
    );
    let lib = crate::common::branch_file(&repo, "nova/test", "src/lib.rs");
    assert!(lib.starts_with("pub fn add"), "{lib}");
    for (commit, _, _) in &commits {
        assert!(
            commit_passes_its_tests(&env, &repo, commit),
            "{commit} builds and passes its tests"
        );
    }
    let message = git
        .find_commit(git2::Oid::from_str(&commits[1].0).expect("oid"))
        .expect("commit")
        .message()
        .expect("utf-8")
        .to_owned();
    assert!(message.contains("\nNova-Agent: refactorer\n"), "{message}");
    assert!(message.contains("\nNova-Run: "), "{message}");
    assert!(
        message
            .contains("\nNova-Validation: cargo build --workspace --all-targets ok; cargo test 2 passed, 0 failed"),
        "{message}"
    );
    assert!(
        message.contains("Found by correctness-reviewer at src/lib.rs:4 in `add`"),
        "{message}"
    );
    // Nested inside Nova's own sandbox (Nova validating Nova), there is no user namespace.
    let sandboxed = |text: &str, prefix: &str| {
        text.split(prefix).nth(1).is_some_and(|rest| {
            rest.contains("mount, PID and network namespaces") && rest.contains("; Landlock ABI ")
        })
    };
    assert!(sandboxed(&message, "\nNova-Sandbox: "), "{message}");
    assert!(sandboxed(&run.stdout, "\nSandbox: "), "{}", run.stdout);

    assert!(
        run.stdout.starts_with("Branch: nova/test\n"),
        "{}",
        run.stdout
    );
    assert!(run.stderr.contains("review: "), "{}", run.stderr);

    archive_has_the_run(&env, &repo);
}

/// The archive of `repo` has its last run (on `nova/test`), its findings and its verdicts.
fn archive_has_the_run(env: &TestEnv, repo: &Path) {
    // The archive has the run, its findings and verdicts.
    let listed = env.nova_in(repo, ["runs", "list"]);
    assert_eq!(listed.code, 0, "{}", listed.both());
    assert!(
        listed.stdout.contains("improve   done"),
        "{}",
        listed.stdout
    );
    let shown = env.nova_in(repo, ["--json", "runs", "show"]);
    let detail: serde_json::Value = serde_json::from_str(&shown.stdout).expect("json");
    assert_eq!(detail["run"]["status"], "done");
    assert_eq!(detail["run"]["branch"], "nova/test");
    let verdicts: Vec<&str> = detail["candidates"]
        .as_array()
        .expect("candidates")
        .iter()
        .map(|c| c["verdict"].as_str().expect("verdict"))
        .collect();
    assert_eq!(verdicts, ["accepted", "accepted", "accepted"]);
    let rules: Vec<&str> = detail["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| f["rule"].as_str().expect("rule"))
        .collect();
    assert!(
        rules.contains(&"clippy::ptr_arg"),
        "a finding without a safe fix is still recorded: {rules:?}"
    );
}

#[test]
fn a_fix_that_breaks_a_test_is_rejected() {
    let env = TestEnv::new();
    let repo = fixture(&env, "pinned", &[("tests/source.rs", PINNED_TEST)]);
    let run = improve(
        &env,
        &repo,
        &["--branch", "nova/pinned", "--json", "--group", "rule"],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    let events: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    assert_eq!(events.first().expect("events")["event"], "run_started");
    assert_eq!(events.last().expect("events")["event"], "run_finished");
    let rejected: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["event"] == "candidate_rejected")
        .collect();
    assert_eq!(rejected.len(), 1, "{}", run.stdout);
    assert_eq!(
        rejected[0]["summary"],
        "Fix `clippy::needless_return` in `add` (src/lib.rs)"
    );
    assert_eq!(
        rejected[0]["reasons"][0],
        "test `fixture (test source) keeps_its_explicit_return` fails"
    );

    let commits = branch_commits(&repo, "nova/pinned");
    let subjects: Vec<&str> = commits.iter().map(|c| c.2.as_str()).collect();
    assert_eq!(
        subjects,
        [
            "Fix `rustc::unused_imports` in src/lib.rs",
            "Fix `clippy::len_zero` in `none_left` (src/lib.rs)",
        ]
    );
    // The test file needs formatting, but tests judge every change: Nova leaves them alone,
    // counted, never a candidate.
    assert!(
        events.iter().all(|e| e["event"] != "candidate_skipped"),
        "{}",
        run.stdout
    );
    let ready = events
        .iter()
        .find(|e| e["event"] == "findings_ready")
        .expect("the findings");
    assert_eq!(ready["protected"], 1, "{ready}");
    let lib = branch_file(&repo, "nova/pinned", "src/lib.rs");
    assert!(
        lib.contains("return a + b;"),
        "nothing of the rejected candidate is committed"
    );
    assert!(!lib.contains("HashMap"), "the other fixes are");

    // Every candidate is kept under the run's private refs, the refused one too (on the tip it
    // was proved against, its message saying why), and none of them is a branch.
    let git = git2::Repository::open(&repo).expect("open");
    let run_id = events.first().expect("events")["run"]
        .as_str()
        .expect("the run's id")
        .to_owned();
    let kept: Vec<String> = git
        .references_glob(&format!("refs/nova/runs/{run_id}/*"))
        .expect("refs")
        .flatten()
        .filter_map(|r| r.name().ok().map(str::to_owned))
        .collect();
    assert_eq!(kept.len(), 3, "two accepted and one refused: {kept:?}");
    let refused = kept
        .iter()
        .map(|name| {
            git.find_reference(name)
                .expect("ref")
                .peel_to_commit()
                .expect("commit")
        })
        .find(|c| c.message().is_ok_and(|m| m.starts_with("Refused: ")))
        .expect("the refused candidate's checkpoint");
    let message = refused.message().expect("utf-8");
    assert!(message.contains("keeps_its_explicit_return"), "{message}");
    let blob = refused
        .tree()
        .expect("tree")
        .get_path(Path::new("src/lib.rs"))
        .expect("src/lib.rs")
        .to_object(&git)
        .expect("blob");
    let fixed = String::from_utf8_lossy(blob.as_blob().expect("a blob").content()).into_owned();
    assert!(
        !fixed.contains("return a + b;"),
        "the refused fix is in it: {fixed}"
    );
    let shown = env.nova_in(&repo, ["runs", "show", &run_id]);
    assert!(
        shown
            .stdout
            .contains(&format!("git show refs/nova/runs/{run_id}/")),
        "{}",
        shown.both()
    );
    assert!(
        shown
            .stdout
            .contains("back to here: nova undo nova/pinned --to 1"),
        "an accepted checkpoint says how to go back to it: {}",
        shown.stdout
    );

    let text = improve(&env, &repo, &["--branch", "nova/pinned-2"]);
    assert_eq!(text.code, 0, "{}", text.both());
    assert!(
        !text.stdout.contains("Rejected:"),
        "a candidate rejected before is not tried again:\n{}",
        text.stdout
    );
}

#[test]
fn require_green_refuses_a_base_with_a_failing_test() {
    let env = TestEnv::new();
    let failing = LIB.replace("assert_eq!(add(2, 3), 5);", "assert_eq!(add(2, 3), 6);");
    let repo = env.repo_with(
        "failing",
        &[("Cargo.toml", MANIFEST), ("src/lib.rs", &failing)],
    );
    let run = improve(&env, &repo, &["--require-green"]);
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(
        run.stdout
            .contains("The base has failing or flaky tests and a green base is required"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("Already failing in the base (1 test)")
            && run.stdout.contains("  fixture (lib) tests::adds\n"),
        "{}",
        run.stdout
    );
    assert_eq!(branches(&repo), ["master"]);
    // `validate.require_green` in the repository's config asks the same.
    write(&repo, "nova.toml", "[validate]\nrequire_green = true\n");
    let json = improve(&env, &repo, &["--json"]);
    assert_eq!(json.code, 1);
    let failed = json
        .stdout
        .lines()
        .find(|l| l.contains("\"base_failed\""))
        .expect("a base_failed event");
    assert!(failed.contains("fixture (lib) tests::adds"), "{failed}");
}

#[test]
fn a_clean_crate_has_nothing_to_improve() {
    let env = TestEnv::new();
    let repo = env.repo_with(
        "clean",
        &[("Cargo.toml", MANIFEST), ("src/lib.rs", CLEAN_LIB)],
    );
    let run = improve(&env, &repo, &[]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.stdout
            .starts_with("Nothing to improve: no findings.\nNo branch was created.\n"),
        "{}",
        run.stdout
    );
    assert_eq!(branches(&repo), ["master"]);
}

#[test]
fn a_run_without_the_sandbox_says_so_in_its_report_and_commits() {
    let env = TestEnv::new();
    let repo = fixture(&env, "bare", &[]);
    let run = improve(
        &env,
        &repo,
        &["--unsafe-no-sandbox", "--max-changes", "1", "--branch", "b"],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(run.stderr.contains("--unsafe-no-sandbox"), "{}", run.stderr);
    assert!(run.stdout.contains("\nSandbox: none. "), "{}", run.stdout);
    let commits = branch_commits(&repo, "b");
    assert_eq!(commits.len(), 1);
    let git = git2::Repository::open(&repo).expect("repo");
    let message = git
        .find_commit(git2::Oid::from_str(&commits[0].0).expect("oid"))
        .expect("commit")
        .message()
        .expect("utf-8")
        .to_owned();
    assert!(
        message.ends_with("\nNova-Sandbox: none (--unsafe-no-sandbox)\n"),
        "{message}"
    );
}

#[test]
fn a_green_base_is_proved_once_per_commit() {
    let env = TestEnv::new();
    let repo = fixture(&env, "cached", &[]);
    let first = improve(&env, &repo, &["--dry-run"]);
    assert_eq!(first.code, 0, "{}", first.both());
    assert!(!first.stderr.contains("earlier run"), "{}", first.stderr);
    let second = improve(&env, &repo, &["--dry-run"]);
    assert_eq!(second.code, 0, "{}", second.both());
    assert!(
        second
            .stderr
            .contains("clippy 4 warnings (results of an earlier run on this commit)"),
        "{}",
        second.stderr
    );
    let proposals = |stdout: &str| stdout.split("Time:").next().unwrap_or("").to_owned();
    assert_eq!(proposals(&first.stdout), proposals(&second.stdout));

    // A damaged entry is proved again, and replaced.
    let entries: Vec<_> = std::fs::read_dir(repo.join(".nova/base"))
        .expect("cache dir")
        .map(|entry| entry.expect("entry").path())
        .collect();
    assert_eq!(entries.len(), 1);
    std::fs::write(&entries[0], "{ not json").expect("damage");
    let third = improve(&env, &repo, &["--dry-run"]);
    assert_eq!(third.code, 0, "{}", third.both());
    assert!(!third.stderr.contains("earlier run"), "{}", third.stderr);
    assert!(
        std::fs::read_to_string(&entries[0])
            .expect("rewritten")
            .starts_with('{')
    );
}

#[test]
fn two_runs_make_the_same_commits() {
    let mut env = TestEnv::new();
    env.set_var("SOURCE_DATE_EPOCH", "1700000000");
    let repo = fixture(&env, "twice", &[]);
    assert_eq!(
        improve(&env, &repo, &["--branch", "one", "--group", "rule"]).code,
        0
    );
    assert_eq!(
        improve(&env, &repo, &["--branch", "two", "--group", "rule"]).code,
        0
    );
    let one = branch_commits(&repo, "one");
    let two = branch_commits(&repo, "two");
    assert_eq!(one.len(), 3);
    assert_eq!(
        one, two,
        "same trees, and with a fixed date the same commits"
    );
}

#[test]
fn dry_run_and_max_changes() {
    let env = TestEnv::new();
    let repo = fixture(&env, "dry", &[]);
    let run = improve(&env, &repo, &["--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.stdout
            .starts_with("Would commit: (dry run: nothing committed)\n"),
        "{}",
        run.stdout
    );
    // The pass's three fixes, proved together: one commit would be made.
    assert!(
        run.stdout
            .contains("\n  Fix 3 findings of 3 rules (src/lib.rs)\n"),
        "{}",
        run.stdout
    );
    assert_eq!(branches(&repo), ["master"]);

    let run = improve(
        &env,
        &repo,
        &[
            "--max-changes",
            "1",
            "--branch",
            "one-change",
            "--group",
            "rule",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    assert_eq!(branch_commits(&repo, "one-change").len(), 1);
}

#[test]
fn not_git_or_not_cargo_exits_3() {
    let env = TestEnv::new();
    let run = env.nova(["improve"]);
    assert_eq!(run.code, 3, "{}", run.both());
    assert!(
        run.stderr.contains("not inside a git repository"),
        "{}",
        run.stderr
    );
    let repo = env.repo("no-cargo");
    let run = improve(&env, &repo, &[]);
    assert_eq!(run.code, 3, "{}", run.both());
    assert!(
        run.stderr.contains("is not a Cargo project"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_existing_branch_is_not_overwritten() {
    let env = TestEnv::new();
    let repo = fixture(&env, "taken", &[]);
    let run = improve(&env, &repo, &["--branch", "master"]);
    assert_eq!(run.code, 2, "{}", run.both());
    assert!(
        run.stderr.contains("branch `master` already exists"),
        "{}",
        run.stderr
    );
    let run = improve(&env, &repo, &["--branch", "bad..name"]);
    assert_eq!(run.code, 2, "{}", run.both());
}

#[test]
fn a_copied_repository_gets_its_own_worktree() {
    let env = TestEnv::new();
    let repo = fixture(&env, "original", &[]);
    assert_eq!(improve(&env, &repo, &["--dry-run"]).code, 0);
    let copy = env.outside().join("copy");
    copy_dir(&repo, &copy);
    let run = improve(&env, &copy, &["--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let git = git2::Repository::open(&copy).expect("open");
    let worktree = git.find_worktree("nova-validate").expect("worktree");
    let original = git2::Repository::open(&repo).expect("open");
    let theirs = original.find_worktree("nova-validate").expect("worktree");
    assert_ne!(worktree.path(), theirs.path());
    assert!(
        !worktree.path().starts_with(&copy),
        "the worktree lives outside the repository: {}",
        worktree.path().display()
    );
    assert!(
        theirs.path().join("src/lib.rs").is_file(),
        "the original's worktree is left alone"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else if entry.file_type().expect("type").is_file() {
            std::fs::copy(entry.path(), target).expect("copy");
        }
    }
}

#[test]
fn a_repository_refactorer_with_an_acceptance_command() {
    let env = TestEnv::new();
    // The repository's own refactorer insists that `src/lib.rs` keeps mentioning `HashMap`.
    let builtin =
        std::fs::read_to_string(crate::common::source_root().join("agents/refactorer.md"))
            .expect("built-in refactorer");
    let custom = builtin.replace(
        "output = \"patch\"",
        "acceptance = [\"grep -q HashMap src/lib.rs\"]\noutput = \"patch\"",
    );
    assert_ne!(custom, builtin);
    let repo = fixture(&env, "accept", &[(".nova/agents/refactorer.md", &custom)]);
    let run = improve(&env, &repo, &["--branch", "nova/accept", "--group", "rule"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.stdout.contains(
            "Rejected:\n  Fix `rustc::unused_imports` in src/lib.rs: acceptance command `grep -q HashMap src/lib.rs` failed\n"
        ),
        "{}",
        run.stdout
    );
    let subjects: Vec<String> = branch_commits(&repo, "nova/accept")
        .into_iter()
        .map(|c| c.2)
        .collect();
    assert_eq!(
        subjects,
        [
            "Fix `clippy::needless_return` in `add` (src/lib.rs)",
            "Fix `clippy::len_zero` in `none_left` (src/lib.rs)",
        ]
    );
}

#[test]
fn an_unreadable_archive_is_kept_aside_and_the_run_goes_on() {
    let env = TestEnv::new();
    let repo = env.repo_with(
        "archive",
        &[("Cargo.toml", MANIFEST), ("src/lib.rs", CLEAN_LIB)],
    );
    let archive = repo.join(".nova/runs.sqlite");
    std::fs::create_dir_all(archive.parent().expect("dir")).expect(".nova");
    let said = |run: &Run| run.stderr.matches("could not be read").count();

    std::fs::write(&archive, "this is not a database\n".repeat(50)).expect("garbage");
    let listed = env.nova_in(&repo, ["runs", "list"]);
    assert_eq!(listed.code, 0, "{}", listed.both());
    assert_eq!(said(&listed), 1, "said once: {}", listed.stderr);
    assert!(
        listed.stderr.contains("runs.sqlite.unreadable-"),
        "{}",
        listed.stderr
    );

    std::fs::write(&archive, "this is not a database\n".repeat(50)).expect("garbage");
    let run = improve(&env, &repo, &[]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert_eq!(said(&run), 1, "said once: {}", run.stderr);

    // A real archive cut in half (as a full disk or a crash in a copy leaves it).
    let whole = std::fs::read(&archive).expect("the new archive");
    std::fs::write(&archive, &whole[..whole.len() / 2]).expect("truncate");
    let listed = env.nova_in(&repo, ["runs", "list"]);
    assert_eq!(listed.code, 0, "{}", listed.both());
    assert_eq!(said(&listed), 1, "{}", listed.stderr);
    let kept: Vec<_> = std::fs::read_dir(repo.join(".nova"))
        .expect(".nova")
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("runs.sqlite.unreadable-")
        })
        .collect();
    assert!(!kept.is_empty(), "the unreadable archives are kept");
}

#[test]
fn findings_in_files_no_change_may_touch_are_counted_once_not_tried_one_by_one() {
    let env = TestEnv::new();
    let drift = "#[test]\nfn a() {   assert_eq!(1,1); }\n";
    let repo = fixture(
        &env,
        "protected-findings",
        &[("tests/a.rs", drift), ("tests/b.rs", drift)],
    );
    let run = improve(&env, &repo, &["--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.stderr
            .contains("; 2 in tests or test code, which Nova does not change"),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("at tests/"),
        "never tried: {}",
        run.stderr
    );
    assert!(
        run.stdout.contains(
            "Not tried: 2 fixable findings in tests or test code, which Nova does not change, in 2 \
             files (`nova review` lists them):"
        ) && run
            .stdout
            .contains("  tests/a.rs: 1, tests judge every change"),
        "{}",
        run.stdout
    );
    // The fixes of the library's own findings still land.
    assert!(run.stderr.contains("accepted [1/1]"), "{}", run.stderr);
    let json = improve(&env, &repo, &["--dry-run", "--json"]);
    let ready = json
        .stdout
        .lines()
        .find(|l| l.contains("\"findings_ready\""))
        .expect("the findings");
    let event: serde_json::Value = serde_json::from_str(ready).expect("json");
    assert_eq!(event["protected"], 2, "{ready}");
}

#[test]
fn progress_says_how_far_the_run_is() {
    let env = TestEnv::new();
    // Two modules whose test code's formatting drifts: skips no plan counted, found as the run
    // goes.
    let lib = format!("{LIB}mod more;\nmod most;\n");
    let drift = "pub fn one() -> i32 {\n    1\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    \
                 fn one() {   assert_eq!(super::one(),1); }\n}\n";
    let repo = fixture(
        &env,
        "progress",
        &[
            ("src/lib.rs", &lib),
            ("src/more.rs", drift),
            ("src/most.rs", drift),
        ],
    );
    let run = improve(&env, &repo, &["--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.both());
    // Not on a terminal: no live line; each finished candidate says where the run is.
    let finished: Vec<&str> = run
        .stderr
        .lines()
        .filter(|l| {
            l.starts_with("accepted [") || l.starts_with("rejected [") || l.starts_with("skipped [")
        })
        .collect();
    assert!(!finished.is_empty(), "{}", run.stderr);
    let total = finished.len();
    assert!(
        finished
            .iter()
            .filter(|l| l.starts_with("skipped ["))
            .count()
            >= 2,
        "{}",
        run.stderr
    );
    for (n, line) in finished.iter().enumerate() {
        assert!(line.contains(&format!(" [{}/", n + 1)), "{line}");
        // Never more done than known.
        let known: usize = line
            .split(&format!(" · {} of ", n + 1))
            .nth(1)
            .and_then(|rest| rest.split(':').next())
            .and_then(|m| m.parse().ok())
            .expect("a count");
        assert!(known > n, "{line}");
        assert!(
            line.contains(&format!(" · {} of ", n + 1))
                && line.contains(" accepted, ")
                && line.contains(" left"),
            "{line}"
        );
    }
    assert!(
        finished[total - 1].contains(&format!("{total} of {total}")),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains('\r'), "no live line off a terminal");

    // `--json`: the events carry the same counts.
    let json = improve(&env, &repo, &["--dry-run", "--json"]);
    let accepted = json
        .stdout
        .lines()
        .find(|l| l.contains("\"candidate_accepted\""))
        .expect("an accepted candidate");
    let event: serde_json::Value = serde_json::from_str(accepted).expect("json");
    assert!(
        event["total"].as_u64().is_some_and(|t| t >= 1),
        "{accepted}"
    );
}

#[test]
fn on_a_terminal_one_live_line_shows_the_step_running_now() {
    let env = TestEnv::new();
    let repo = fixture(&env, "live", &[]);
    // `script` gives the run a pseudo-terminal, as a person's shell would.
    let Ok(script) = which("script") else {
        crate::common::skip(
            "the whole test",
            "`script` (util-linux) is not installed, so no pseudo-terminal",
        );
        return;
    };
    let nova = env!("CARGO_BIN_EXE_nova");
    let mut command = env.nova_command(&repo, ["improve", "--dry-run"]);
    let args: Vec<String> = std::iter::once(nova.to_owned())
        .chain(command.get_args().map(|a| a.to_string_lossy().into_owned()))
        .collect();
    let run = command_via(&mut command, &script, &args.join(" "));
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stdout)
    );
    let screen = String::from_utf8_lossy(&run.stdout);
    // The live line redraws in place, names the step, and counts the candidates.
    assert!(
        screen.contains('\r') || screen.contains("\u{1b}["),
        "{screen}"
    );
    assert!(screen.contains("cargo "), "the step running now: {screen}");
    assert!(screen.contains(" accepted, "), "{screen}");
}

/// `path` of the program `name` on `PATH`.
fn which(name: &str) -> Result<PathBuf, ()> {
    let path = toolchain_env()
        .into_iter()
        .find(|(key, _)| key == "PATH")
        .map(|(_, value)| value)
        .unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
        .ok_or(())
}

/// Runs `line` under `script` with `command`'s environment and directory, on a pseudo-terminal.
#[expect(
    clippy::disallowed_methods,
    reason = "the test runs nova under `script`"
)]
fn command_via(command: &mut Command, script: &Path, line: &str) -> std::process::Output {
    let mut wrapped = Command::new(script);
    wrapped.args(["-qec", line, "/dev/null"]).env_clear();
    for (key, value) in command.get_envs() {
        if let Some(value) = value {
            wrapped.env(key, value);
        }
    }
    if let Some(dir) = command.get_current_dir() {
        wrapped.current_dir(dir);
    }
    // A person's terminal says what it is.
    wrapped.env("TERM", "xterm");
    wrapped.output().expect("script")
}
