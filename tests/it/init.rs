//! `nova init`: a starting configuration that never overwrites anything.

use crate::common::{TestEnv, write};

#[test]
fn init_writes_config_and_gitignore() {
    let env = TestEnv::new();
    let repo = env.repo("r");
    let run = env.nova_in(&repo, ["init"]);
    assert_eq!(run.code, 0, "{}", run.both());
    insta::assert_snapshot!(run.stderr, @r"
    wrote `nova.toml`
    wrote `.nova/.gitignore`
    next: `nova agents list` shows the agents, `nova config show` the settings
    ");
    let written = std::fs::read_to_string(repo.join("nova.toml")).expect("nova.toml");
    assert!(written.starts_with("# Nova's configuration for this repository."));
    // The written config is valid as it stands.
    assert_eq!(env.nova_in(&repo, ["config", "show"]).code, 0);
}

#[test]
fn init_never_overwrites() {
    let env = TestEnv::new();
    let repo = env.repo("r");
    write(&repo, "nova.toml", "# mine\n");
    let run = env.nova_in(&repo, ["init"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert_eq!(
        std::fs::read_to_string(repo.join("nova.toml")).expect("read"),
        "# mine\n"
    );
    let again = env.nova_in(&repo, ["init"]);
    assert_eq!(again.code, 1);
    insta::assert_snapshot!(again.stderr, @r"
    `nova.toml` already exists; left as it is
    `.nova/.gitignore` already exists; left as it is
    nothing to do: Nova is already set up here
    ");
}

#[test]
fn init_respects_an_existing_nova_config_toml() {
    let env = TestEnv::new();
    let repo = env.repo("r");
    write(&repo, ".nova/config.toml", "[budget]\nmax_changes = 1\n");
    let run = env.nova_in(&repo, ["init"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        !repo.join("nova.toml").exists(),
        "two repository configs would be ambiguous"
    );
}

#[test]
fn the_gitignore_hides_run_state_but_keeps_agents_and_config() {
    let env = TestEnv::new();
    let repo = env.repo("r");
    assert_eq!(env.nova_in(&repo, ["init"]).code, 0);
    let git = git2::Repository::open(&repo).expect("open");
    for ignored in [
        ".nova/runs.sqlite",
        ".nova/worktree/src/lib.rs",
        ".nova/index/cache.bin",
    ] {
        assert!(
            git.is_path_ignored(ignored).expect("ignore check"),
            "{ignored} should be ignored"
        );
    }
    for kept in [
        ".nova/.gitignore",
        ".nova/config.toml",
        ".nova/agents/mine.md",
        ".nova/agents/pipelines/p.toml",
        "nova.toml",
    ] {
        assert!(
            !git.is_path_ignored(kept).expect("ignore check"),
            "{kept} should be kept"
        );
    }
}

#[test]
fn init_outside_a_repository_exits_3() {
    let env = TestEnv::new();
    let run = env.nova(["init"]);
    assert_eq!(run.code, 3);
    assert!(
        run.stderr.contains("not inside a git repository"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("git init"), "{}", run.stderr);
}
