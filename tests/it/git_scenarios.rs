//! `nova improve` in the repositories people really have, built by code: a detached HEAD, a
//! linked worktree, a submodule, a shallow clone, and locks other programs hold.

use std::path::Path;

use git2::Repository;

use crate::common::{TestEnv, branches, files_under};

const MANIFEST: &str = "[package]\nname = \"scenario\"\nversion = \"0.1.0\"\nedition = \"2021\"\n";
const LIB: &str = "pub fn add(a: i32, b: i32) -> i32 {\n    return a + b;\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn adds() {\n        assert_eq!(super::add(2, 3), 5);\n    }\n}\n";

fn crate_repo(env: &TestEnv, name: &str) -> std::path::PathBuf {
    env.repo_with(name, &[("Cargo.toml", MANIFEST), ("src/lib.rs", LIB)])
}

fn head_of(repo: &Path) -> (bool, git2::Oid) {
    let git = Repository::open(repo).expect("open");
    let detached = git.head_detached().expect("detached?");
    (
        detached,
        git.head().expect("head").peel_to_commit().expect("c").id(),
    )
}

#[test]
fn a_detached_head_stays_detached() {
    let env = TestEnv::new();
    let repo = crate_repo(&env, "detached");
    let (_, commit) = head_of(&repo);
    Repository::open(&repo)
        .expect("open")
        .set_head_detached(commit)
        .expect("detach");
    let run = env.nova_in(&repo, ["improve", "--branch", "nova/detached"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.stdout.contains("Branch: nova/detached"),
        "{}",
        run.stdout
    );
    assert_eq!(head_of(&repo), (true, commit));
}

#[test]
fn a_linked_worktree_gets_its_review_branch_in_the_shared_repository() {
    let env = TestEnv::new();
    let repo = crate_repo(&env, "main");
    let linked = env.outside().join("linked");
    Repository::open(&repo)
        .expect("open")
        .worktree("linked", &linked, None)
        .expect("linked worktree");
    let before = files_under(&linked, &[".nova", ".git"]);
    let run = env.nova_in(&linked, ["improve", "--branch", "nova/linked"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert_eq!(files_under(&linked, &[".nova", ".git"]), before);
    assert!(branches(&repo).contains(&String::from("nova/linked")));
}

#[test]
fn a_submodule_that_is_not_checked_out_does_not_stop_a_run() {
    let env = TestEnv::new();
    let repo = crate_repo(&env, "with-submodule");
    let git = Repository::open(&repo).expect("open");
    let head = git.head().expect("head").peel_to_commit().expect("c");
    // A gitlink to a commit this repository does not have, and its `.gitmodules` entry.
    let modules = git
        .blob(b"[submodule \"vendor/lib\"]\n\tpath = vendor/lib\n\turl = https://example.invalid/lib.git\n")
        .expect("blob");
    let mut update = git2::build::TreeUpdateBuilder::new();
    update.upsert(".gitmodules", modules, git2::FileMode::Blob);
    update.upsert("vendor/lib", head.id(), git2::FileMode::Commit);
    let tree = update
        .create_updated(&git, &head.tree().expect("tree"))
        .expect("tree");
    let tree = git.find_tree(tree).expect("tree");
    let who = git2::Signature::now("Ada", "ada@example.com").expect("sig");
    git.commit(Some("HEAD"), &who, &who, "Add a submodule", &tree, &[&head])
        .expect("commit");
    let run = env.nova_in(&repo, ["improve", "--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(run.stdout.contains("Would commit:"), "{}", run.stdout);
}

#[test]
fn locks_other_programs_hold_are_waited_on_then_reported_and_never_deleted() {
    let env = TestEnv::new();
    let repo = crate_repo(&env, "locked");
    // The user's index is locked: Nova never needs it.
    let index_lock = repo.join(".git/index.lock");
    std::fs::write(&index_lock, "held").expect("index.lock");
    let run = env.nova_in(&repo, ["improve", "--branch", "nova/free"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert_eq!(std::fs::read_to_string(&index_lock).expect("kept"), "held");

    // The review branch's ref is locked: Nova waits, then says so, and leaves the lock.
    let ref_lock = repo.join(".git/refs/heads/nova/held.lock");
    std::fs::create_dir_all(ref_lock.parent().expect("dir")).expect("mkdir");
    std::fs::write(&ref_lock, "held").expect("ref lock");
    let run = env.nova_in(&repo, ["improve", "--branch", "nova/held"]);
    assert_eq!(run.code, 3, "{}", run.both());
    assert!(
        run.stderr.contains("another program holds a git lock"),
        "{}",
        run.stderr
    );
    assert_eq!(std::fs::read_to_string(&ref_lock).expect("kept"), "held");
}

#[test]
#[expect(
    clippy::disallowed_methods,
    reason = "a shallow clone is made with git itself"
)]
fn a_shallow_clone_can_be_improved_and_listed() {
    let env = TestEnv::new();
    let origin = crate_repo(&env, "origin");
    let shallow = env.outside().join("shallow");
    let cloned = std::process::Command::new("git")
        .args(["clone", "--quiet", "--depth", "1"])
        .arg(format!("file://{}", origin.display()))
        .arg(&shallow)
        .env("HOME", env.home())
        .status();
    let Ok(status) = cloned else {
        crate::common::skip(
            "the whole test",
            "`git` is not installed, so no shallow clone",
        );
        return;
    };
    assert!(status.success());
    let run = env.nova_in(&shallow, ["improve", "--branch", "nova/shallow"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let listed = env.nova_in(&shallow, ["branches"]);
    assert_eq!(listed.code, 0, "{}", listed.both());
    assert!(listed.stdout.contains("nova/shallow"), "{}", listed.stdout);
}

#[test]
fn an_unborn_branch_and_a_bare_repository_get_clear_errors() {
    let env = TestEnv::new();
    let unborn = env.outside().join("unborn");
    Repository::init(&unborn).expect("init");
    crate::common::write(&unborn, "Cargo.toml", MANIFEST);
    crate::common::write(&unborn, "src/lib.rs", LIB);
    let run = env.nova_in(&unborn, ["improve"]);
    assert_eq!(run.code, 3, "{}", run.both());
    assert!(
        run.stderr
            .contains("no commits yet; commit something first"),
        "{}",
        run.stderr
    );

    let bare = env.outside().join("bare.git");
    Repository::init_bare(&bare).expect("bare");
    for args in [["improve"].as_slice(), ["branches"].as_slice()] {
        let run = env.nova_in(&bare, args);
        assert_eq!(run.code, 3, "{}", run.both());
        assert!(
            run.stderr.contains("is a bare repository"),
            "{}",
            run.stderr
        );
    }
}
