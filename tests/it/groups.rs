//! `nova improve` proves the fixes of one rule as one commit, and bisects a refused group: a
//! planted bad fix is found and dropped, and every commit on the branch passes on its own tree.

use std::path::Path;

use crate::common::{Run, TestEnv, branch_file};
use crate::improve::{branch_commits, commit_passes_its_tests};

const MANIFEST: &str =
    "[package]\nname = \"fixture\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n";

/// Five functions with a `return` clippy removes; the middle one is pinned by a test.
const LIB: &str = r#"pub fn one() -> i32 {
    return 1;
}

pub fn two() -> i32 {
    return 2;
}

pub fn three() -> i32 {
    return 3;
}

pub fn four() -> i32 {
    return 4;
}

pub fn five() -> i32 {
    return 5;
}
"#;

/// A test that insists on the very `return` clippy wants to remove from `three`.
const PINNED: &str = r#"#[test]
fn three_keeps_its_return() {
    assert_eq!(fixture::one() + fixture::five(), 6);
    let source = include_str!("../src/lib.rs");
    assert!(source.contains("return 3;"), "the explicit return is part of the contract");
}
"#;

fn events(run: &Run) -> Vec<serde_json::Value> {
    run.stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn of_kind<'a>(events: &'a [serde_json::Value], kind: &str) -> Vec<&'a serde_json::Value> {
    events.iter().filter(|e| e["event"] == kind).collect()
}

fn improved(env: &TestEnv, repo: &Path, branch: &str, group: &str) -> Vec<serde_json::Value> {
    let run = env.nova_in(
        repo,
        ["improve", "--branch", branch, "--group", group, "--json"],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    events(&run)
}

/// Every commit of `commits` passes its tests on its own tree.
fn every_commit_passes(env: &TestEnv, repo: &Path, commits: &[(String, String, String)]) {
    for (commit, _, subject) in commits {
        assert!(
            commit_passes_its_tests(env, repo, commit),
            "`{subject}` ({commit}) must pass its own tests"
        );
    }
}

/// The commits of `branch`: the planted fixture's two pairs of fixes, each passing its tests.
fn two_pairs_each_passing(
    env: &TestEnv,
    repo: &Path,
    branch: &str,
) -> Vec<(String, String, String)> {
    let commits = branch_commits(repo, branch);
    let subjects: Vec<&str> = commits.iter().map(|c| c.2.as_str()).collect();
    assert_eq!(
        subjects,
        [
            "Fix `clippy::needless_return` in 2 places (src/lib.rs)",
            "Fix `clippy::needless_return` in 2 places (src/lib.rs)",
        ]
    );
    every_commit_passes(env, repo, &commits);
    commits
}

#[test]
fn a_planted_bad_fix_is_found_by_bisection_and_every_commit_passes() {
    let env = TestEnv::new();
    let repo = env.repo_with(
        "grouped",
        &[
            ("Cargo.toml", MANIFEST),
            ("src/lib.rs", LIB),
            ("tests/pinned.rs", PINNED),
        ],
    );
    let events = improved(&env, &repo, "nova/grouped", "rule");

    // All five together fail; then [one, two] pass, [three, four, five] fail, [three] fails on
    // its own and [four, five] pass.
    let splits = of_kind(&events, "candidate_split");
    let sizes: Vec<u64> = splits.iter().filter_map(|e| e["size"].as_u64()).collect();
    assert_eq!(sizes, [5, 3], "{events:#?}");
    assert_eq!(
        splits[0]["summary"],
        "Fix `clippy::needless_return` in 5 places (src/lib.rs)"
    );
    assert_eq!(
        splits[0]["reasons"][0],
        "test `fixture (test pinned) three_keeps_its_return` fails"
    );
    let rejected = of_kind(&events, "candidate_rejected");
    assert_eq!(rejected.len(), 1, "{events:#?}");
    assert_eq!(
        rejected[0]["summary"],
        "Fix `clippy::needless_return` in `three` (src/lib.rs)"
    );
    assert_eq!(of_kind(&events, "candidate_accepted").len(), 2);

    let commits = two_pairs_each_passing(&env, &repo, "nova/grouped");
    let lib = branch_file(&repo, "nova/grouped", "src/lib.rs");
    assert_eq!(lib.matches("return").count(), 1, "{lib}");
    assert!(lib.contains("return 3;"), "{lib}");

    let git = git2::Repository::open(&repo).expect("open");
    let first = git
        .find_commit(git2::Oid::from_str(&commits[0].0).expect("oid"))
        .expect("commit");
    let message = first.message().expect("utf-8");
    assert!(
        message
            .replace('\n', " ")
            .contains("2 places proved together as one change")
            && message.contains("- src/lib.rs:2 in `one`")
            && message.contains("- src/lib.rs:6 in `two`")
            && message.contains("\nNova-Run: "),
        "{message}"
    );
    // Every validation is kept under the run's private refs, the refused groups included.
    let checkpoints = git
        .references_glob("refs/nova/runs/*")
        .expect("refs")
        .count();
    assert_eq!(checkpoints, 5);
}

#[test]
fn one_by_one_gives_a_commit_per_fix_and_the_same_tree() {
    let env = TestEnv::new();
    let files = [
        ("Cargo.toml", MANIFEST),
        ("src/lib.rs", LIB),
        ("tests/pinned.rs", PINNED),
    ];
    let repo = env.repo_with("single", &files);
    let events = improved(&env, &repo, "nova/single", "single");
    assert!(of_kind(&events, "candidate_split").is_empty());
    assert_eq!(of_kind(&events, "candidate_rejected").len(), 1);
    let commits = branch_commits(&repo, "nova/single");
    assert_eq!(commits.len(), 4, "{commits:?}");
    let grouped = env.repo_with("grouped", &files);
    improved(&env, &grouped, "nova/grouped", "rule");
    assert_eq!(
        branch_file(&repo, "nova/single", "src/lib.rs"),
        branch_file(&grouped, "nova/grouped", "src/lib.rs"),
        "grouping changes how many commits, not what lands"
    );
}

/// A module that was never formatted: `rustfmt` drift from before Nova ran.
const MESSY: &str = "pub fn six( )->i32 { 6 }\n";

fn with_messy_module(env: &TestEnv, name: &str, pinned: bool) -> std::path::PathBuf {
    let lib = format!("pub mod messy;\n\n{LIB}");
    let mut files = vec![
        ("Cargo.toml", MANIFEST),
        ("src/lib.rs", lib.as_str()),
        ("src/messy.rs", MESSY),
    ];
    if pinned {
        files.push(("tests/pinned.rs", PINNED));
    }
    env.repo_with(name, &files)
}

#[test]
fn one_commit_a_pass_carries_the_formatting_of_what_was_unformatted_before() {
    let env = TestEnv::new();
    let repo = with_messy_module(&env, "folded", false);
    let events = improved(&env, &repo, "nova/folded", "pass");
    let started = of_kind(&events, "candidate_started");
    assert_eq!(started.len(), 1, "one validation: {events:#?}");
    // The formatting group rode on the pass's commit: the run counts one candidate, not two.
    let accepted = of_kind(&events, "candidate_accepted");
    assert_eq!(
        (accepted[0]["index"].as_u64(), accepted[0]["total"].as_u64()),
        (Some(0), Some(1))
    );
    let commits = branch_commits(&repo, "nova/folded");
    let subjects: Vec<&str> = commits.iter().map(|c| c.2.as_str()).collect();
    assert_eq!(
        subjects,
        ["Fix 6 findings of 2 rules (src/lib.rs, src/messy.rs)"]
    );
    assert_eq!(
        branch_file(&repo, "nova/folded", "src/messy.rs"),
        "pub fn six() -> i32 {\n    6\n}\n"
    );
    assert!(!branch_file(&repo, "nova/folded", "src/lib.rs").contains("return"));
    assert!(commit_passes_its_tests(&env, &repo, &commits[0].0));
}

#[test]
fn a_refused_pass_proves_its_formatting_apart() {
    let env = TestEnv::new();
    let repo = with_messy_module(&env, "unfolded", true);
    let events = improved(&env, &repo, "nova/unfolded", "pass");
    let splits = of_kind(&events, "candidate_split");
    assert_eq!(
        splits[0]["summary"], "Fix 6 findings of 2 rules (src/lib.rs, src/messy.rs)",
        "{events:#?}"
    );
    let commits = branch_commits(&repo, "nova/unfolded");
    let subjects: Vec<&str> = commits.iter().map(|c| c.2.as_str()).collect();
    assert_eq!(
        subjects.last().copied(),
        Some("Format src/messy.rs with rustfmt"),
        "{subjects:?}"
    );
    let lib = branch_file(&repo, "nova/unfolded", "src/lib.rs");
    assert!(lib.contains("return 3;"), "{lib}");
    every_commit_passes(&env, &repo, &commits);
    // Refused, the pass carried nothing: its formatting counts as a candidate again, and the
    // run's count ends where its candidates do.
    let last = events
        .iter()
        .rfind(|e| {
            e["event"]
                .as_str()
                .is_some_and(|k| k.starts_with("candidate_"))
        })
        .expect("candidate events");
    assert_eq!(
        last["total"].as_u64(),
        last["index"].as_u64().map(|i| i + 1),
        "{events:#?}"
    );
}

/// The candidate events of a run, in order, by kind.
fn candidate_kinds(events: &[serde_json::Value]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| e["event"].as_str())
        .filter(|kind| kind.starts_with("candidate_"))
        .map(|kind| kind.trim_start_matches("candidate_").to_owned())
        .collect()
}

#[test]
fn with_two_jobs_the_halves_of_a_refused_group_are_proved_side_by_side() {
    let env = TestEnv::new();
    let files = [
        ("Cargo.toml", MANIFEST),
        ("src/lib.rs", LIB),
        ("tests/pinned.rs", PINNED),
    ];
    let repo = env.repo_with("beside", &files);
    let run = env.nova_in(
        &repo,
        [
            "improve",
            "--branch",
            "nova/beside",
            "--group",
            "rule",
            "--jobs",
            "2",
            "--json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    let events = events(&run);
    // The five fail together; [one, two] and [three, four, five] are proved at once on the same
    // tip; [one, two] lands, the three split; [three] and [four, five] at once on the new tip.
    // (The test file's formatting is never tried: tests are protected.)
    assert_eq!(
        candidate_kinds(&events),
        [
            "started", "split", "started", "started", "split", "accepted", "started", "started",
            "rejected", "accepted",
        ],
        "{events:#?}"
    );
    two_pairs_each_passing(&env, &repo, "nova/beside");
    let grouped = env.repo_with("one-at-a-time", &files);
    improved(&env, &grouped, "nova/grouped", "rule");
    assert_eq!(
        branch_file(&repo, "nova/beside", "src/lib.rs"),
        branch_file(&grouped, "nova/grouped", "src/lib.rs"),
        "proving side by side changes when, not what lands"
    );
}

/// Two fixes each fine alone, not together: the test wants one of the two `return`s kept.
const EITHER: &str = r#"#[test]
fn one_return_stays() {
    let source = include_str!("../src/lib.rs");
    assert!(source.contains("return 1;") || source.contains("return 2;"));
}
"#;

#[test]
fn a_half_that_passed_beside_one_that_landed_is_proved_again() {
    let env = TestEnv::new();
    let lib =
        "pub fn one() -> i32 {\n    return 1;\n}\n\npub fn two() -> i32 {\n    return 2;\n}\n";
    let repo = env.repo_with(
        "overtaken",
        &[
            ("Cargo.toml", MANIFEST),
            ("src/lib.rs", lib),
            ("tests/either.rs", EITHER),
        ],
    );
    let run = env.nova_in(
        &repo,
        ["improve", "--branch", "nova/again", "--jobs", "2", "--json"],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    let events = events(&run);
    // Both fixes fail together; alone, side by side on the base, both pass: `one`'s lands, and
    // `two`'s, proved on a tip that is gone, is proved again on the new one, where it fails.
    assert_eq!(
        candidate_kinds(&events),
        [
            "started",
            "split",
            "started",
            "started",
            "accepted",
            "overtaken",
            "started",
            "rejected"
        ],
        "{events:#?}"
    );
    let overtaken = of_kind(&events, "candidate_overtaken");
    assert_eq!(
        overtaken[0]["summary"],
        "Fix `clippy::needless_return` in `two` (src/lib.rs)"
    );
    let lib = branch_file(&repo, "nova/again", "src/lib.rs");
    assert!(
        !lib.contains("return 1;") && lib.contains("return 2;"),
        "{lib}"
    );
    assert_eq!(branch_commits(&repo, "nova/again").len(), 1);
}
