//! `nova branches` and `nova undo` on review branches built by code: Nova's commits, a person's
//! commit on top, a pushed branch, a checked-out one.

use std::path::Path;

use git2::{Oid, Repository, Signature, Time};

use crate::common::{TestEnv, branches};

/// A commit on `parent` changing `file`, by Nova (with its trailer) or by a person.
pub fn nova_commit(repo: &Repository, parent: Oid, file: &str, by_nova: bool) -> Oid {
    let parent = repo.find_commit(parent).expect("parent");
    let blob = repo.blob(file.as_bytes()).expect("blob");
    let mut update = git2::build::TreeUpdateBuilder::new();
    update.upsert(file, blob, git2::FileMode::Blob);
    let tree_id = update
        .create_updated(repo, &parent.tree().expect("tree"))
        .expect("tree");
    let tree = repo.find_tree(tree_id).expect("tree");
    let (who, message) = if by_nova {
        (
            Signature::new("Nova", "nova@localhost", &Time::new(1_700_000_000, 0)),
            format!("Fix {file}\n\nNova-Agent: refactorer\nNova-Run: 20231114-221320\n"),
        )
    } else {
        (
            Signature::new("Ada", "ada@example.com", &Time::new(1_700_000_100, 0)),
            format!("Tweak {file}\n"),
        )
    };
    let who = who.expect("signature");
    repo.commit(None, &who, &who, &message, &tree, &[&parent])
        .expect("commit")
}

fn branch(repo: &Repository, name: &str, at: Oid) {
    repo.reference(&format!("refs/heads/{name}"), at, true, "test")
        .expect("branch");
}

fn setup(env: &TestEnv) -> (std::path::PathBuf, Oid) {
    let path = env.repo("branches");
    let repo = Repository::open(&path).expect("open");
    let head = repo.head().expect("head").peel_to_commit().expect("c").id();
    let one = nova_commit(&repo, head, "a.txt", true);
    let two = nova_commit(&repo, one, "b.txt", true);
    branch(&repo, "nova/improve/two", two);
    let pushed = nova_commit(&repo, head, "c.txt", true);
    branch(&repo, "nova/apply/pushed", pushed);
    repo.remote("origin", "https://example.invalid/repo.git")
        .expect("remote");
    repo.reference(
        "refs/remotes/origin/nova/apply/pushed",
        pushed,
        true,
        "test",
    )
    .expect("remote ref");
    let human = nova_commit(&repo, two, "d.txt", false);
    branch(&repo, "nova/improve/edited", human);
    branch(&repo, "feature", human);
    (path, head)
}

fn head_state(path: &Path) -> (String, Vec<u8>) {
    let repo = Repository::open(path).expect("open");
    let head = repo.head().expect("head").name().expect("name").to_owned();
    (
        head,
        std::fs::read(path.join(".git/index")).unwrap_or_default(),
    )
}

#[test]
fn branches_lists_review_branches_with_base_count_and_push_state() {
    let env = TestEnv::new();
    let (path, head) = setup(&env);
    let run = env.nova_in(&path, ["--json", "branches"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let list: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let rows: Vec<(String, usize, Option<String>, usize)> = list
        .as_array()
        .expect("array")
        .iter()
        .map(|b| {
            (
                b["name"].as_str().expect("name").to_owned(),
                b["commits"].as_u64().expect("commits") as usize,
                b["base"].as_str().map(str::to_owned),
                b["pushed"].as_array().expect("pushed").len(),
            )
        })
        .collect();
    let head = head.to_string();
    assert!(
        rows.contains(&(String::from("nova/improve/two"), 2, Some(head.clone()), 0)),
        "{rows:?}"
    );
    assert!(
        rows.contains(&(String::from("nova/apply/pushed"), 1, Some(head), 1)),
        "{rows:?}"
    );
    // A person's commit on top: no Nova commit leads to the tip.
    assert!(
        rows.iter()
            .any(|r| r.0 == "nova/improve/edited" && r.1 == 0),
        "{rows:?}"
    );
    assert!(!rows.iter().any(|r| r.0 == "feature"), "{rows:?}");

    let text = env.nova_in(&path, ["branches"]);
    assert!(text.stdout.contains("pushed to origin"), "{}", text.stdout);
    assert!(text.stdout.contains("2 commits on "), "{}", text.stdout);
}

#[test]
fn undo_drops_nova_commits_one_at_a_time_then_the_branch() {
    let env = TestEnv::new();
    let (path, _) = setup(&env);
    let before = head_state(&path);
    let first = env.nova_in(&path, ["undo", "nova/improve/two"]);
    assert_eq!(first.code, 0, "{}", first.both());
    assert!(first.stdout.contains("Fix b.txt"), "{}", first.stdout);
    assert!(
        first.stdout.contains("nova/improve/two is now at"),
        "{}",
        first.stdout
    );
    let second = env.nova_in(&path, ["undo", "nova/improve/two"]);
    assert_eq!(second.code, 0, "{}", second.both());
    assert!(second.stdout.contains("was deleted"), "{}", second.stdout);
    assert!(!branches(&path).contains(&String::from("nova/improve/two")));
    assert_eq!(
        head_state(&path),
        before,
        "HEAD and the index are untouched"
    );
}

#[test]
fn undo_refuses_pushed_edited_checked_out_and_unknown_branches() {
    let env = TestEnv::new();
    let (path, _) = setup(&env);
    let cases = [
        ("nova/apply/pushed", "was pushed to `origin`"),
        ("nova/improve/edited", "was not made by Nova"),
        ("nova/improve/none", "there is no review branch"),
    ];
    for (name, expected) in cases {
        let run = env.nova_in(&path, ["undo", name]);
        assert_eq!(run.code, 2, "{name}: {}", run.both());
        assert!(run.stderr.contains(expected), "{name}: {}", run.stderr);
    }
    let repo = Repository::open(&path).expect("open");
    repo.set_head("refs/heads/nova/improve/two")
        .expect("checkout");
    let run = env.nova_in(&path, ["undo", "nova/improve/two"]);
    assert_eq!(run.code, 2, "{}", run.both());
    assert!(run.stderr.contains("is checked out"), "{}", run.stderr);
}

#[test]
fn undo_to_a_checkpoint_drops_the_commits_after_it() {
    let env = TestEnv::new();
    let (path, head) = setup(&env);
    let repo = Repository::open(&path).expect("open");
    let two = repo
        .revparse_single("refs/heads/nova/improve/two")
        .expect("branch")
        .id();
    let one = repo
        .find_commit(two)
        .expect("c")
        .parent_id(0)
        .expect("parent");
    // The run's candidates: 1 landed as `one`, 2 was refused (a commit off the branch), 3 is `two`,
    // and a third commit on top of `two` that is candidate 4.
    let refused = nova_commit(&repo, one, "refused.txt", true);
    let three = nova_commit(&repo, two, "e.txt", true);
    branch(&repo, "nova/improve/two", three);
    for (n, commit) in [(1, one), (2, refused), (3, two), (4, three)] {
        repo.reference(
            &format!("refs/nova/runs/20231114-221320/{n}"),
            commit,
            true,
            "test",
        )
        .expect("checkpoint");
    }
    let refusals = [
        ("2", "holds no accepted checkpoint 2 of run 20231114-221320"),
        ("4", "is already at checkpoint 4"),
        ("9", "its commits are checkpoints 1, 3, 4"),
    ];
    for (n, expected) in refusals {
        let run = env.nova_in(&path, ["undo", "nova/improve/two", "--to", n]);
        assert_eq!(run.code, 2, "{n}: {}", run.both());
        assert!(run.stderr.contains(expected), "{n}: {}", run.stderr);
    }

    let run = env.nova_in(&path, ["--json", "undo", "nova/improve/two", "--to", "1"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let undone: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let dropped: Vec<&str> = undone["dropped"]
        .as_array()
        .expect("dropped")
        .iter()
        .map(|d| d["subject"].as_str().expect("subject"))
        .collect();
    assert_eq!(dropped, ["Fix e.txt", "Fix b.txt"]);
    assert_eq!(undone["tip"], one.to_string());
    let now = repo
        .revparse_single("refs/heads/nova/improve/two")
        .expect("branch")
        .id();
    assert_eq!(now, one);
    assert_ne!(one, head);
}
