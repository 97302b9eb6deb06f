//! `nova bench make`: task sets from seeded defects on a fixture crate, the same for the same
//! seed, every kept defect failing a hidden check that the original code passes.

use std::path::Path;
use std::time::Duration;

use nova::edit::{FileChange, Patch, RepoPath};
use nova::evolve::{Checker, Source, Split, TaskSet, check::task_text};

use crate::common::{TestEnv, validation_options};

const MANIFEST: &str = "[package]\nname = \"ranges\"\nversion = \"0.1.0\"\nedition = \"2021\"\n";

/// Functions with unit tests, one checked only by an integration test, and one no test calls
/// (its defects are caught by nothing and never make a task).
pub(crate) const LIB: &str = r#"pub mod clamp;

/// Sums `v[lo..hi]`.
pub fn sum(v: &[i64], lo: usize, hi: usize) -> i64 {
    let mut total = 0;
    for i in lo..hi {
        total += v[i];
    }
    total
}

/// The larger of two.
pub fn larger(a: i64, b: i64) -> i64 {
    if a > b {
        a
    } else {
        b
    }
}

/// Nobody tests this one.
pub fn untested(a: i64, b: i64) -> i64 {
    if a == b {
        return a * 2;
    }
    a - b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_a_range() {
        assert_eq!(sum(&[1, 2, 3, 4], 1, 3), 5);
    }

    #[test]
    fn picks_the_larger() {
        assert_eq!(larger(3, 7), 7);
        assert_eq!(larger(7, 3), 7);
    }
}
"#;

pub(crate) const CLAMP: &str = r#"/// `a - b`, never below zero.
pub fn sub_floor(a: i64, b: i64) -> i64 {
    if a < b {
        return 0;
    }
    a - b
}
"#;

const INTEGRATION: &str = r#"#[test]
fn floors_at_zero() {
    assert_eq!(ranges::clamp::sub_floor(2, 5), 0);
    assert_eq!(ranges::clamp::sub_floor(5, 2), 3);
}
"#;

pub(crate) fn fixture(env: &TestEnv) -> std::path::PathBuf {
    env.repo_with(
        "ranges",
        &[
            ("Cargo.toml", MANIFEST),
            ("src/lib.rs", LIB),
            ("src/clamp.rs", CLAMP),
            ("tests/floor.rs", INTEGRATION),
        ],
    )
}

fn make(env: &TestEnv, repo: &Path, seed: &str, out: &str) -> TaskSet {
    let run = env.nova_in(
        repo,
        [
            "bench", "make", "--seed", seed, "--count", "4", "--tries", "30", "--out", out,
        ],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(run.stdout.contains("Made 4 tasks"), "{}", run.both());
    TaskSet::load(&repo.join(out)).expect("the set is written")
}

#[test]
fn a_task_set_is_the_same_for_a_seed_and_every_defect_fails_a_check_the_code_passes() {
    let env = TestEnv::new();
    let repo = fixture(&env);
    let set = make(&env, &repo, "5", "a.json");
    let again = make(&env, &repo, "5", "b.json");
    assert_eq!(set.tasks, again.tasks);
    assert_eq!(
        std::fs::read(repo.join("a.json")).expect("a"),
        std::fs::read(repo.join("b.json")).expect("b"),
        "the same seed, the same file"
    );
    let other = make(&env, &repo, "6", "c.json");
    assert_ne!(set.tasks, other.tasks, "another seed, other tasks");
    assert_eq!(set.tasks.len(), 4);
    assert_eq!(
        set.split(Split::HeldOut).count(),
        1,
        "20% of 4, at least one"
    );
    let passing = &set.passing.values().next().expect("one reference");
    assert_eq!(passing.len(), 3, "{passing:?}");
    assert!(
        passing
            .iter()
            .any(|t| t.contains("(test \"floor\")") || t.contains("floor"))
    );

    let options = validation_options(
        &env,
        Duration::from_secs(300),
        nova_sandbox::Limits::default(),
    );
    let reference = set.tasks[0].reference.clone();
    let mut checker = Checker::open(&set, &reference, options).expect("the reference proves");
    for task in &set.tasks {
        let Source::Mutant { path, .. } = &task.source else {
            panic!("only mutants: {task:?}");
        };
        assert!(
            !path.contains("tests/"),
            "defects are never in tests: {path}"
        );
        assert!(!task.statement.contains(&task.id));
        assert!(
            task.fail_to_pass
                .iter()
                .all(|t| task.statement.contains(t.rsplit(' ').next().expect("name"))),
            "the statement names the failing tests: {}",
            task.statement
        );
        // Untouched, the defect fails exactly the task's failing tests.
        let left = checker
            .check(&set, task, &Patch::default())
            .expect("checked");
        assert!(!left.solved, "{task:?}: {left:?}");
        assert!(left.builds);
        assert_eq!(left.broken, task.fail_to_pass, "{}", left.summary);
        assert!(left.fixed.is_empty());
        // Put back as it was, it is solved.
        let seeded = task_text(&set, task, path).expect("text").expect("a file");
        let original = std::fs::read_to_string(repo.join(path)).expect("original");
        assert_ne!(seeded, original);
        let fix = Patch {
            summary: String::from("fix"),
            changes: vec![FileChange::modify(
                RepoPath::new(path).expect("path"),
                seeded,
                original,
            )],
        };
        let fixed = checker.check(&set, task, &fix).expect("checked");
        assert!(fixed.solved, "{fixed:?}");
        assert_eq!(fixed.fixed, task.fail_to_pass);
    }
    fixes_that_break_or_do_not_apply(&mut checker, &set, &repo);
}

/// A change that fixes the defect and breaks another test does not solve it; one made on another
/// tree is refused, not scored.
fn fixes_that_break_or_do_not_apply(checker: &mut Checker, set: &TaskSet, repo: &Path) {
    // A change that fixes the defect and breaks another test does not solve it.
    let task = &set.tasks[0];
    let Source::Mutant { path, .. } = &task.source else {
        unreachable!()
    };
    let seeded = task_text(set, task, path).expect("text").expect("a file");
    let original = std::fs::read_to_string(repo.join(path)).expect("original");
    let (other, text) = if path == "src/clamp.rs" {
        ("src/lib.rs", LIB)
    } else {
        ("src/clamp.rs", CLAMP)
    };
    let broken = text.replacen("if a ", "if !true && a ", 1);
    assert_ne!(broken, text);
    let change = Patch {
        summary: String::from("fix one, break another"),
        changes: vec![
            FileChange::modify(RepoPath::new(path).expect("path"), seeded, original),
            FileChange::modify(RepoPath::new(other).expect("path"), text, broken),
        ],
    };
    let score = checker.check(set, task, &change).expect("checked");
    assert!(!score.solved && !score.broken.is_empty(), "{score:?}");
    assert_eq!(score.fixed, task.fail_to_pass);
    // A change made on another tree is refused, not scored.
    let stale = Patch {
        summary: String::from("stale"),
        changes: vec![FileChange::modify(
            RepoPath::new(path).expect("path"),
            "nothing like it",
            "x",
        )],
    };
    assert!(checker.check(set, task, &stale).is_err());
}

#[test]
fn a_crate_whose_tests_catch_nothing_makes_no_set_and_says_why() {
    let env = TestEnv::new();
    let repo = env.repo_with(
        "uncaught",
        &[
            ("Cargo.toml", MANIFEST),
            ("src/lib.rs", "pub fn f(a: i64) -> i64 {\n    if a > 1 {\n        a + 1\n    } else {\n        a\n    }\n}\n\n#[test]\nfn nothing() {}\n"),
        ],
    );
    let run = env.nova_in(&repo, ["bench", "make", "--count", "2"]);
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(
        run.stderr.contains("no task made: none of the 3 mutants"),
        "{}",
        run.stderr
    );
    assert!(!repo.join(".nova/bench/tasks-1.json").exists());
    let run = env.nova_in(&repo, ["bench", "make", "--rev", "no-such-branch"]);
    assert_eq!(run.code, 2, "{}", run.both());
    assert!(run.stderr.contains("names no commit"), "{}", run.stderr);
}

/// Commits `files` (`None` deletes) on `HEAD` of `repo` with `message`; the new commit.
pub(crate) fn commit(repo: &Path, files: &[(&str, &str)], message: &str) -> git2::Oid {
    let git = git2::Repository::open(repo).expect("open");
    for (file, text) in files {
        crate::common::write(repo, file, text);
    }
    let mut index = git.index().expect("index");
    for (file, _) in files {
        index.add_path(Path::new(file)).expect("add");
    }
    index.write().expect("write index");
    let tree = git
        .find_tree(index.write_tree().expect("tree"))
        .expect("tree");
    let parent = git.head().expect("head").peel_to_commit().expect("commit");
    let sig =
        git2::Signature::new("Test", "test@example.com", &git2::Time::new(0, 0)).expect("sig");
    git.commit(Some("HEAD"), &sig, &sig, message, &tree, &[&parent])
        .expect("commit")
}

const BUGGY: &str = "/// The index of the last item.\npub fn last_index(v: &[i64]) -> usize {\n    v.len()\n}\n\n#[test]\nfn empty_is_fine() {\n    let _ = last_index(&[]);\n}\n";
const FIXED: &str = "/// The index of the last item.\npub fn last_index(v: &[i64]) -> usize {\n    v.len().saturating_sub(1)\n}\n\n#[test]\nfn empty_is_fine() {\n    let _ = last_index(&[]);\n}\n";

#[test]
fn a_fix_from_history_is_a_task_whose_checks_are_its_tests() {
    let env = TestEnv::new();
    let repo = env.repo_with(
        "history",
        &[("Cargo.toml", MANIFEST), ("src/lib.rs", BUGGY)],
    );
    let fix = commit(
        &repo,
        &[
            ("src/lib.rs", FIXED),
            (
                "tests/last.rs",
                "#[test]\nfn points_at_the_last_item() {\n    assert_eq!(ranges::last_index(&[4, 5, 6]), 2);\n}\n",
            ),
        ],
        "Fix last_index: it pointed one past the end\n\nlast_index(&[4, 5, 6]) gave 3.\n",
    );
    // Its test cannot even build before it: no task.
    let with_double = format!("{FIXED}\npub fn double(x: i64) -> i64 {{\n    x * 2\n}}\n");
    commit(
        &repo,
        &[
            ("src/lib.rs", &with_double),
            (
                "tests/double.rs",
                "#[test]\nfn doubles() {\n    assert_eq!(ranges::double(2), 4);\n}\n",
            ),
        ],
        "Add double",
    );
    commit(
        &repo,
        &[("README.md", "# ranges\n")],
        "Say what the crate is",
    );

    let run = env.nova_in(
        &repo,
        [
            "bench",
            "make",
            "--count",
            "0",
            "--history",
            "2",
            "--out",
            "h.json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.stderr.contains("2 of the last 200 commits"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("Add double: dropped: it does not build"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("1 of the 2 tasks from history"),
        "{}",
        run.stderr
    );
    let set = TaskSet::load(&repo.join("h.json")).expect("the set");
    let [task] = &set.tasks[..] else {
        panic!("one task: {set:?}");
    };
    assert_eq!(task.reference, fix.to_string());
    assert!(
        task.statement
            .starts_with("Fix last_index: it pointed one past the end")
    );
    assert_eq!(
        task.fail_to_pass,
        ["ranges (test last) points_at_the_last_item"]
    );

    let options = validation_options(
        &env,
        Duration::from_secs(300),
        nova_sandbox::Limits::default(),
    );
    let mut checker = Checker::open(&set, &task.reference, options).expect("the fix proves");
    let left = checker
        .check(&set, task, &Patch::default())
        .expect("checked");
    assert!(!left.solved && left.broken == task.fail_to_pass, "{left:?}");
    // The agents' tree has no `tests/last.rs`: the checks bring it.
    assert_eq!(task_text(&set, task, "tests/last.rs").expect("read"), None);
    let redo = Patch {
        summary: String::from("fix"),
        changes: vec![FileChange::modify(
            RepoPath::new("src/lib.rs").expect("path"),
            BUGGY,
            BUGGY.replace("v.len()\n", "v.len().max(1) - 1\n"),
        )],
    };
    let solved = checker.check(&set, task, &redo).expect("checked");
    assert!(solved.solved, "{solved:?}");
}

#[test]
fn a_defect_that_hangs_a_test_is_dropped_at_its_first_timeout() {
    let env = TestEnv::new();
    let repo = env.repo_with(
        "counter",
        &[
            ("Cargo.toml", MANIFEST),
            (
                "src/lib.rs",
                "/// Counts up to `n`.\npub fn count_up(n: u32) -> u32 {\n    let mut i = 0;\n    while i < n {\n        i += 1;\n    }\n    i\n}\n\n#[test]\nfn counts() {\n    assert_eq!(count_up(3), 3);\n}\n",
            ),
        ],
    );
    let run = env.nova_in(&repo, ["bench", "make", "--count", "10", "--tries", "10"]);
    assert_eq!(run.code, 0, "{}", run.both());
    // Without the increment the loop never ends: the test is stopped once, and the defect dropped.
    let hang = run
        .stderr
        .lines()
        .find(|line| line.contains("drop-statement"))
        .expect("the increment was dropped");
    assert!(
        hang.ends_with(" s)") && hang.contains("dropped: a test hangs"),
        "{}",
        run.stderr
    );
    let set = TaskSet::load(&repo.join(".nova/bench/tasks-1.json")).expect("the set");
    assert!(!set.tasks.is_empty());
    assert!(
        set.tasks
            .iter()
            .all(|t| !matches!(&t.source, Source::Mutant { operator, .. } if operator == "drop-statement")),
        "{set:?}"
    );
}

#[test]
fn a_test_that_fails_on_the_commit_is_named_and_never_a_check() {
    let env = TestEnv::new();
    let lib = format!("{LIB}\n#[test]\nfn already_broken() {{\n    assert_eq!(1 + 1, 3);\n}}\n");
    let repo = env.repo_with(
        "red",
        &[
            ("Cargo.toml", MANIFEST),
            ("src/lib.rs", &lib),
            ("src/clamp.rs", CLAMP),
            ("tests/floor.rs", INTEGRATION),
        ],
    );
    let run = env.nova_in(&repo, ["bench", "make", "--count", "2", "--seed", "5"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.stderr.contains(
            "already failing on the commit (1), so never a check: ranges (lib) already_broken"
        ),
        "{}",
        run.stderr
    );
    let set = TaskSet::load(&repo.join(".nova/bench/tasks-5.json")).expect("the set");
    assert!(
        set.passing
            .values()
            .flatten()
            .all(|test| !test.contains("already_broken"))
    );
}
