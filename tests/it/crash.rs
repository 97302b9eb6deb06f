//! Crash safety: `nova improve` and `nova apply` killed with SIGKILL at random points (during
//! validation, branch creation and commits), on a repository with modified, staged and untracked
//! files. Afterwards the working tree, index and HEAD are byte-identical, no lock is left behind,
//! every review branch is unchanged or at a complete commit, and the next run works.
//!
//! The suite runs a few rounds; the full count is a documented command (`BENCHMARKS.md`):
//! `NOVA_CRASH_ROUNDS=200 cargo test --test it crash -- --nocapture`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::{Rng, TestEnv, files_under, write};

const MANIFEST: &str = "[package]\nname = \"crash\"\nversion = \"0.1.0\"\nedition = \"2021\"\n";

/// Three fixes for `nova improve` to make, one commit each.
const LIB: &str = "use std::collections::HashMap;\n\npub fn add(a: i32, b: i32) -> i32 {\n    return a + b;\n}\n\npub fn none_left(items: &Vec<i32>) -> bool {\n    items.len() == 0\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn adds() {\n        assert_eq!(super::add(2, 3), 5);\n    }\n}\n";

const REPLY: &str = "src/lib.rs\n<<<<<<< SEARCH\npub fn add(a: i32, b: i32) -> i32 {\n=======\n/// Adds.\npub fn add(a: i32, b: i32) -> i32 {\n>>>>>>> REPLACE\n";

/// Every file under `dir` except `.nova/` and git's object, ref and log stores (which a run may
/// add to), with its bytes.
fn user_state(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    files_under(
        dir,
        &[
            ".nova",
            ".git/objects",
            ".git/refs",
            ".git/logs",
            ".git/worktrees",
        ],
    )
}

/// Git lock files anywhere under `.git`.
fn git_locks(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.join(".git")];
    while let Some(current) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "lock") {
                out.push(path);
            }
        }
    }
    out
}

/// Every review branch's tip, after checking that its whole tree can be read.
fn review_branches(dir: &Path) -> BTreeMap<String, String> {
    let repo = git2::Repository::open(dir).expect("open");
    let mut out = BTreeMap::new();
    for branch in repo
        .branches(Some(git2::BranchType::Local))
        .expect("branches")
    {
        let (branch, _) = branch.expect("branch");
        let name = branch.name().expect("name").expect("utf-8").to_owned();
        if !name.starts_with("nova/") {
            continue;
        }
        let commit = branch.get().peel_to_commit().expect("a complete commit");
        let tree = commit.tree().expect("its tree");
        tree.walk(git2::TreeWalkMode::PreOrder, |_, entry| {
            entry.to_object(&repo).expect("every object of the tree");
            git2::TreeWalkResult::Ok
        })
        .expect("walk");
        out.insert(name, commit.id().to_string());
    }
    out
}

#[expect(
    clippy::disallowed_methods,
    reason = "the count of rounds is the test's own knob"
)]
fn rounds() -> usize {
    std::env::var("NOVA_CRASH_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(6)
}

#[test]
fn killing_nova_at_random_points_leaves_the_repository_as_it_was() {
    let env = TestEnv::new();
    let repo = env.repo_with(
        "crash",
        &[
            ("Cargo.toml", MANIFEST),
            ("src/lib.rs", LIB),
            ("notes.txt", "one\n"),
        ],
    );
    // A dirty tree: a modified file, a staged one, an untracked one.
    write(&repo, "notes.txt", "one\ntwo\n");
    write(&repo, "staged.txt", "staged\n");
    let git = git2::Repository::open(&repo).expect("open");
    let mut index = git.index().expect("index");
    index.add_path(Path::new("staged.txt")).expect("stage");
    index.write().expect("write index");
    write(&repo, "untracked.rs", "fn main() {}\n");
    let reply = env.root().join("reply.md");
    std::fs::write(&reply, REPLY).expect("reply");

    // One run to completion first: it warms the target dir, and says how long a run takes.
    let started = Instant::now();
    let first = env.nova_in(&repo, ["improve", "--branch", "nova/first"]);
    assert_eq!(first.code, 0, "{}", first.both());
    let span = started.elapsed().as_millis() as usize + 500;

    let before = user_state(&repo);
    let mut rng = Rng(0xC0FF_EE00_D15E_A5E5);
    let mut branches = review_branches(&repo);
    for round in 0..rounds() {
        let branch = format!("nova/round-{round}");
        let args: Vec<String> = if round % 3 == 2 {
            vec![
                "apply".into(),
                reply.to_string_lossy().into_owned(),
                "--branch".into(),
                branch.clone(),
            ]
        } else {
            vec!["improve".into(), "--branch".into(), branch.clone()]
        };
        let mut child = env
            .nova_command(&repo, &args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("nova");
        std::thread::sleep(Duration::from_millis(rng.below(span) as u64));
        let _ = child.kill();
        let _ = child.wait();

        assert_eq!(
            user_state(&repo),
            before,
            "round {round}: the working tree, index or HEAD changed"
        );
        // A kill while libgit2 writes the validation worktree's `HEAD` leaves its lock in the
        // worktree's own admin directory: Nova's, cleared by the next run (checked below).
        let own = repo.join(".git/worktrees/nova-validate");
        let locks: Vec<PathBuf> = git_locks(&repo)
            .into_iter()
            .filter(|lock| !lock.starts_with(&own))
            .collect();
        assert!(locks.is_empty(), "round {round}: locks left: {locks:?}");
        let now = review_branches(&repo);
        for (name, tip) in &branches {
            assert_eq!(
                now.get(name),
                Some(tip),
                "round {round}: `{name}` moved or vanished"
            );
        }
        branches = now;
    }

    // The next run works, and clears what a killed run left in its worktree's admin directory.
    let planted = repo.join(".git/worktrees/nova-validate/HEAD.lock");
    std::fs::write(&planted, "").expect("a killed run's lock");
    let after = env.nova_in(&repo, ["improve", "--branch", "nova/after"]);
    assert_eq!(after.code, 0, "{}", after.both());
    assert_eq!(
        git_locks(&repo),
        Vec::<PathBuf>::new(),
        "locks left after the next run"
    );
    assert!(
        after.stdout.contains("Branch: nova/after"),
        "{}",
        after.stdout
    );
    assert_eq!(user_state(&repo), before);
}
