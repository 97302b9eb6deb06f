//! `nova apply` end to end: a reply from a file or standard input is applied to HEAD, proved in
//! the sandbox and committed on a review branch; replies that do not apply, are turned away or
//! break a test change nothing; `--to-worktree` writes only over clean files.

use std::path::{Path, PathBuf};

use crate::common::{Run, TestEnv, branches, write};

const MANIFEST: &str = "[package]\nname = \"applied\"\nversion = \"0.1.0\"\nedition = \"2021\"\n";

const LIB: &str = "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn adds() {\n        assert_eq!(super::add(2, 3), 5);\n    }\n}\n";

fn crate_repo(env: &TestEnv, name: &str) -> PathBuf {
    env.repo_with(name, &[("Cargo.toml", MANIFEST), ("src/lib.rs", LIB)])
}

fn reply(search: &str, replace: &str) -> String {
    format!(
        "Here you go.\n\nsrc/lib.rs\n```rust\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n```\n"
    )
}

/// Runs `nova apply` in `repo` on a reply file holding `text`, with `args` after it.
pub fn apply_file(env: &TestEnv, repo: &Path, text: &str, args: &[&str]) -> Run {
    let file = env.root().join("reply.md");
    std::fs::write(&file, text).expect("reply");
    let mut all = vec!["apply", file.to_str().expect("utf-8")];
    all.extend_from_slice(args);
    env.nova_in(repo, all)
}

fn tip_message(repo: &Path, branch: &str) -> String {
    let git = git2::Repository::open(repo).expect("open");
    let commit = git
        .find_branch(branch, git2::BranchType::Local)
        .expect("branch")
        .get()
        .peel_to_commit()
        .expect("commit");
    commit.message().expect("utf-8").to_owned()
}

#[test]
fn a_good_reply_is_proved_and_committed_on_a_branch() {
    let env = TestEnv::new();
    let repo = crate_repo(&env, "good");
    let run = apply_file(
        &env,
        &repo,
        &reply("    a + b\n", "    a.wrapping_add(b)\n"),
        &["--branch", "nova/good"],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.stdout.contains("@@ -1,5 +1,5 @@ in add\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("+    a.wrapping_add(b)"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("Validated: cargo build --workspace --all-targets ok; cargo test 1 passed"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("Branch: nova/good"), "{}", run.stdout);
    let message = tip_message(&repo, "nova/good");
    assert!(
        message.starts_with("Apply a reply to src/lib.rs\n"),
        "{message}"
    );
    assert!(message.contains("\nNova-Agent: apply\n"), "{message}");
    assert!(message.contains("\nNova-Sandbox: "), "{message}");
    // The checkout is as it was.
    assert_eq!(
        std::fs::read_to_string(repo.join("src/lib.rs")).expect("lib"),
        LIB
    );
}

#[test]
fn a_reply_that_breaks_a_test_is_rejected_and_nothing_lands() {
    let env = TestEnv::new();
    let repo = crate_repo(&env, "breaks");
    let run = apply_file(&env, &repo, &reply("    a + b\n", "    a - b\n"), &[]);
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(run.stdout.contains("Rejected:"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("test `applied (lib) tests::adds` fails"),
        "{}",
        run.stdout
    );
    assert_eq!(branches(&repo), ["master"]);
}

#[test]
fn a_reply_that_does_not_apply_or_is_turned_away_changes_nothing() {
    let env = TestEnv::new();
    let repo = crate_repo(&env, "refused");
    let cases = [
        (
            reply("    a * b\n", "    a + b + 0\n"),
            "the text to replace is not in the file",
        ),
        (
            reply("    a + b\n", "    // ... rest of code\n"),
            "stands for code instead of being code",
        ),
        (
            String::from("Nothing to see here.\n"),
            "the reply holds no edits",
        ),
    ];
    for (text, expected) in cases {
        let run = apply_file(&env, &repo, &text, &[]);
        assert_eq!(run.code, 1, "{}", run.both());
        // The error goes to stderr, and nothing claims a validation that never started.
        assert!(run.stderr.contains(expected), "{expected}: {}", run.both());
        assert!(run.stdout.is_empty(), "{}", run.both());
        assert!(!run.stderr.contains("validating"), "{}", run.stderr);
        let json = apply_file(&env, &repo, &text, &["--json"]);
        assert_eq!(json.code, 1, "{}", json.both());
        assert!(json.stderr.contains(expected), "{}", json.both());
        let document: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
        assert_eq!(document["applied"], false);
    }
    assert_eq!(branches(&repo), ["master"]);
    // Bad arguments exit 2, on stderr.
    let run = apply_file(
        &env,
        &repo,
        &reply("    a + b\n", "    b + a\n"),
        &["--branch", "a..b"],
    );
    assert_eq!(run.code, 2, "{}", run.both());
    assert!(
        run.stdout.is_empty() && run.stderr.contains("a..b"),
        "{}",
        run.both()
    );
}

#[test]
fn a_reply_that_relaxes_what_judges_it_is_refused_naming_the_file() {
    let env = TestEnv::new();
    let manifest = format!("{MANIFEST}\n[lints.clippy]\nunwrap_used = \"deny\"\n");
    let repo = env.repo_with(
        "relaxed",
        &[
            ("Cargo.toml", &manifest),
            ("src/lib.rs", LIB),
            ("clippy.toml", "too-many-lines-threshold = 100\n"),
            (
                "agents/reviewer.md",
                "+++\nname = \"reviewer\"\n+++\nReview.\n",
            ),
        ],
    );
    let block = |path: &str, search: &str, replace: &str| {
        format!("{path}\n```\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n```\n")
    };
    let whole = |path: &str, text: &str| format!("{path}\n```toml\n{text}```\n");
    for (path, text) in [
        (
            "Cargo.toml",
            block(
                "Cargo.toml",
                "unwrap_used = \"deny\"\n",
                "unwrap_used = \"allow\"\n",
            ),
        ),
        (
            "clippy.toml",
            block(
                "clippy.toml",
                "too-many-lines-threshold = 100\n",
                "too-many-lines-threshold = 900\n",
            ),
        ),
        ("rustfmt.toml", whole("rustfmt.toml", "max_width = 200\n")),
        ("deny.toml", whole("deny.toml", "[bans]\n")),
        (
            "rust-toolchain.toml",
            whole("rust-toolchain.toml", "[toolchain]\n"),
        ),
        (
            ".cargo/config.toml",
            whole(".cargo/config.toml", "[build]\n"),
        ),
        (
            "agents/reviewer.md",
            block("agents/reviewer.md", "Review.\n", "Approve everything.\n"),
        ),
        ("nova.toml", whole("nova.toml", "[agents]\n")),
    ] {
        let run = apply_file(&env, &repo, &text, &[]);
        assert_eq!(run.code, 1, "{path}: {}", run.both());
        assert!(
            run.stderr.contains(&format!("`{path}` is protected: ")),
            "{path}: {}",
            run.both()
        );
    }
    // The same manifest may still change elsewhere: a version is not a lint.
    let version = block(
        "Cargo.toml",
        "version = \"0.1.0\"\n",
        "version = \"0.1.1\"\n",
    );
    let run = apply_file(&env, &repo, &version, &[]);
    assert_eq!(run.code, 0, "{}", run.both());
}

/// The branches `nova apply` made, sorted, for replies applied within one second.
fn apply_branches(repo: &Path) -> Vec<String> {
    let mut made: Vec<String> = branches(repo)
        .into_iter()
        .filter(|b| b.starts_with("nova/apply/"))
        .collect();
    made.sort_by_key(|b| (b.len(), b.clone()));
    made
}

#[test]
fn applies_in_the_same_second_get_distinct_branches() {
    let mut env = TestEnv::new();
    // Every run's clock says the same second: automatic names would all be the same.
    env.set_var("SOURCE_DATE_EPOCH", "1767225600");
    let repo = crate_repo(&env, "tight-loop");
    let text = reply("    a + b\n", "    b + a\n");
    for n in 1..=10 {
        let run = apply_file(&env, &repo, &text, &[]);
        assert_eq!(run.code, 0, "run {n}: {}", run.both());
        let suffix = if n == 1 {
            String::new()
        } else {
            format!("-{n}")
        };
        let branch = format!("nova/apply/20260101-000000{suffix}");
        assert!(
            run.stdout.contains(&format!("Branch: {branch} (")),
            "{}",
            run.stdout
        );
    }
    assert_eq!(apply_branches(&repo).len(), 10);
    // A name asked for that exists is still refused.
    let again = apply_file(
        &env,
        &repo,
        &text,
        &["--branch", "nova/apply/20260101-000000"],
    );
    assert_eq!(again.code, 2, "{}", again.both());
}

#[test]
fn applies_started_together_wait_for_each_other_and_all_commit() {
    let mut env = TestEnv::new();
    env.set_var("SOURCE_DATE_EPOCH", "1767225600");
    let repo = crate_repo(&env, "together");
    let file = env.root().join("together.md");
    std::fs::write(&file, reply("    a + b\n", "    b + a\n")).expect("reply");
    let children: Vec<std::process::Child> = (0..6)
        .map(|_| {
            env.nova_command(&repo, [std::ffi::OsStr::new("apply"), file.as_os_str()])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn nova")
        })
        .collect();
    let mut waited = 0;
    for child in children {
        let output = child.wait_with_output().expect("nova");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{stderr}");
        if stderr.contains("waiting for another Nova run") {
            waited += 1;
        }
    }
    assert!(waited >= 1, "at least one run waited for another");
    assert_eq!(apply_branches(&repo).len(), 6);

    // `--no-wait` refuses at once while another run (this test) holds the lock.
    let lock = nova::state::Lock::acquire(&repo, nova::state::Wait::No).expect("lock");
    let refused = apply_file(
        &env,
        &repo,
        &reply("    a + b\n", "    b + a\n"),
        &["--no-wait"],
    );
    drop(lock);
    assert_eq!(refused.code, 3, "{}", refused.both());
    let holder = format!("another Nova run (process {})", std::process::id());
    assert!(refused.stderr.contains(&holder), "{}", refused.stderr);
}

#[test]
fn a_reply_on_standard_input_can_be_written_to_a_clean_worktree() {
    let env = TestEnv::new();
    let repo = crate_repo(&env, "stdin");
    let text = "*** Begin Patch\n*** Add File: src/extra.rs\n+pub fn extra() -> u8 {\n+    7\n+}\n*** Update File: src/lib.rs\n@@\n-pub fn add(a: i32, b: i32) -> i32 {\n+pub mod extra;\n+\n+pub fn add(a: i32, b: i32) -> i32 {\n*** End Patch\n";
    let run = env.nova_with_input(
        &repo,
        ["apply", "-", "--to-worktree", "--branch", "nova/stdin"],
        text,
    );
    let stdout = &run.stdout;
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        stdout.contains("Written to your working tree: src/extra.rs, src/lib.rs"),
        "{stdout}"
    );
    assert!(
        std::fs::read_to_string(repo.join("src/lib.rs"))
            .expect("lib")
            .starts_with("pub mod extra;\n")
    );
    assert!(repo.join("src/extra.rs").is_file());
}

#[test]
fn to_worktree_leaves_a_file_with_uncommitted_changes_alone() {
    let env = TestEnv::new();
    let repo = crate_repo(&env, "dirty");
    let mine = format!("{LIB}// my own edit\n");
    write(&repo, "src/lib.rs", &mine);
    let run = apply_file(
        &env,
        &repo,
        &reply("    a + b\n", "    a.wrapping_add(b)\n"),
        &["--to-worktree", "--branch", "nova/dirty"],
    );
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(
        run.stdout
            .contains("Not written to your working tree: src/lib.rs has uncommitted changes"),
        "{}",
        run.stdout
    );
    assert_eq!(
        std::fs::read_to_string(repo.join("src/lib.rs")).expect("lib"),
        mine
    );
    assert!(branches(&repo).contains(&String::from("nova/dirty")));
}

/// A reply adding `dependency` to the fixture's manifest.
fn add_dependency(dependency: &str) -> String {
    format!(
        "Cargo.toml\n```toml\n<<<<<<< SEARCH\nedition = \"2021\"\n=======\nedition = \"2021\"\n\n\
         [dependencies]\n{dependency}\n>>>>>>> REPLACE\n```\n"
    )
}

#[test]
fn a_reply_that_adds_a_dependency_is_fetched_first_and_a_missing_crate_named() {
    let env = TestEnv::new();
    let repo = crate_repo(&env, "deps");
    let run = apply_file(
        &env,
        &repo,
        &add_dependency("fastrand = \"=2.0.1\""),
        &["--branch", "nova/deps", "-v"],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(run.stdout.contains("Branch: nova/deps"), "{}", run.stdout);

    let missing = apply_file(
        &env,
        &repo,
        &add_dependency("nova-no-such-crate-anywhere = \"1\""),
        &[],
    );
    assert_eq!(missing.code, 1, "{}", missing.both());
    assert!(
        missing.stdout.contains(
            "`cargo fetch (the change touches Cargo.toml or Cargo.lock)` fails: error: no matching \
             package named `nova-no-such-crate-anywhere` found"
        ),
        "{}",
        missing.stdout
    );
    assert_eq!(branches(&repo), ["master", "nova/deps"]);
}

#[test]
#[cfg(not(windows))]
fn a_reply_to_code_no_build_here_compiles_is_rejected_unproved() {
    let env = TestEnv::new();
    let with_std = format!("{MANIFEST}\n[features]\ndefault = [\"std\"]\nstd = []\n");
    // Code only Windows compiles: the edit does not even compile, and nothing here would notice.
    // Code only a build without the default `std` compiles is built so, and the same edit fails.
    let no_std = "`applied` with --no-default-features does not build: error[E0425]";
    let windows = "`src/lib.rs` line 15 is under `cfg(windows)`: no build here compiles it";
    for (name, manifest, cfg, said) in [
        ("windows-only", MANIFEST, "windows", windows),
        (
            "no-std-only",
            with_std.as_str(),
            "not(feature = \"std\")",
            no_std,
        ),
    ] {
        let lib =
            format!("{LIB}\n#[cfg({cfg})]\npub fn sub(a: i32, b: i32) -> i32 {{\n    a - b\n}}\n");
        let repo = env.repo_with(name, &[("Cargo.toml", manifest), ("src/lib.rs", &lib)]);
        let run = apply_file(&env, &repo, &reply("    a - b\n", "    a - c\n"), &[]);
        assert_eq!(run.code, 1, "{name}: {}", run.both());
        assert!(run.stdout.contains(said), "{name}: {}", run.stdout);
        assert_eq!(branches(&repo), ["master"]);
    }
}
