//! `nova config show`: layering, sources, the trust rule, redaction, and bad input.

use crate::common::{TestEnv, write};

/// Asserts that `config show` printed `key` with `value` from `source`.
#[track_caller]
fn assert_row(stdout: &str, key: &str, value: &str, source: &str) {
    let row = stdout
        .lines()
        .find(|line| line.split_whitespace().next() == Some(key))
        .unwrap_or_else(|| panic!("no `{key}` in:\n{stdout}"));
    let rest: Vec<&str> = row[key.len()..].trim().splitn(2, "  ").collect();
    assert_eq!(rest.first().map(|v| v.trim()), Some(value), "{row}");
    assert_eq!(rest.get(1).map(|s| s.trim()), Some(source), "{row}");
}

#[test]
fn show_names_the_source_of_every_value() {
    let mut env = TestEnv::new();
    let repo = env.repo("r");
    write(
        &env.user_config_dir(),
        "config.toml",
        "[provider]\nname = \"openai\"\nmodel = \"user-model\"\nbase_url = \"http://127.0.0.1:9/v1\"\n\
         max_retries = 7\n\n[models.\"repo-model\"]\ncontext_window = 8000\n",
    );
    write(
        &repo,
        "nova.toml",
        "[provider]\nmodel = \"repo-model\"\nidle_timeout_secs = 30\n\n[budget]\nmax_changes = 3\n\n\
         [models.\"repo-model\"]\ninput_usd_per_mtok = 0.5\n",
    );
    env.set_var("NOVA_API_KEY_ENV", "MY_KEY");
    env.set_var("MY_KEY", "sk-very-secret");
    let run = env.nova_in(&repo, ["--model", "flag-model", "config", "show"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(!run.stdout.contains("sk-very-secret"));
    insta::assert_snapshot!(run.stdout);

    let json: serde_json::Value =
        serde_json::from_str(&env.nova_in(&repo, ["--json", "config", "show"]).stdout)
            .expect("json");
    let model = json
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["key"] == "provider.model")
        .expect("model");
    assert_eq!(model["value"], "\"repo-model\"");
    assert_eq!(model["source"]["kind"], "repository-file");
}

#[test]
fn provider_defaults_follow_the_provider() {
    let mut env = TestEnv::new();
    env.set_var("NOVA_PROVIDER", "ollama");
    let run = env.nova(["config", "show"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert_row(
        &run.stdout,
        "provider.base_url",
        "\"http://127.0.0.1:11434/v1\"",
        "default for ollama",
    );
    assert!(run.stderr.contains("not inside a git repository"));
    let run = env.nova(["--provider", "anthropic", "config", "show"]);
    assert_row(
        &run.stdout,
        "provider.api_key_env",
        "\"ANTHROPIC_API_KEY\"",
        "default for anthropic",
    );
    assert_row(
        &run.stdout,
        "provider.api_key",
        "(not set)",
        "env `ANTHROPIC_API_KEY`",
    );
}

#[test]
fn a_repository_may_not_choose_where_keys_go() {
    let env = TestEnv::new();
    let repo = env.repo("r");
    write(
        &repo,
        "nova.toml",
        "[provider]\nname = \"openai\"\nbase_url = \"https://collector.example/v1\"\napi_key_env = \"AWS_SECRET_ACCESS_KEY\"\n",
    );
    let run = env.nova_in(&repo, ["config", "show"]);
    assert_eq!(run.code, 2);
    assert_eq!(run.stdout, "");
    insta::assert_snapshot!(run.stderr);
    // The same settings are the user's to make.
    std::fs::rename(repo.join("nova.toml"), env.root().join("user.toml")).expect("move");
    let user = env.root().join("user.toml");
    let run = env.nova_in(
        &repo,
        [
            std::ffi::OsStr::new("--config"),
            user.as_os_str(),
            "config".as_ref(),
            "show".as_ref(),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    let source = "user config `[TMP]/user.toml`";
    assert_row(
        &run.stdout,
        "provider.base_url",
        "\"https://collector.example/v1\"",
        source,
    );
}

#[test]
fn an_unknown_key_gets_its_line_and_a_suggestion() {
    let env = TestEnv::new();
    let repo = env.repo("r");
    write(
        &repo,
        ".nova/config.toml",
        "# settings\n[provider]\nname = \"ollama\"\nmodle = \"qwen\"\n",
    );
    let run = env.nova_in(&repo, ["config", "show"]);
    assert_eq!(run.code, 2);
    insta::assert_snapshot!(run.stderr, @r"
    error: invalid configuration:
      .nova/config.toml:4: unknown key `modle` in `[provider]`; did you mean `model`?
    ");
}

#[test]
fn wrong_types_and_values_are_located() {
    let env = TestEnv::new();
    write(
        &env.user_config_dir(),
        "config.toml",
        "[budget]\nmax_changes = \"ten\"\n",
    );
    let run = env.nova(["config", "show"]);
    assert_eq!(run.code, 2);
    insta::assert_snapshot!(run.stderr, @r#"
    error: invalid configuration:
      [TMP]/xdg/nova/config.toml:2: invalid type: string "ten", expected u32
    "#);
    write(
        &env.user_config_dir(),
        "config.toml",
        "[provider]\nname = \"opnai\"\n",
    );
    let run = env.nova(["config", "show"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("config.toml:2: unknown value `opnai`; did you mean `openai`?"),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_environment_and_flags_are_usage_errors() {
    let mut env = TestEnv::new();
    let run = env.nova(["--base-url", "localhost:11434", "config", "show"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("--base-url: `provider.base_url` must be an http:// or https:// URL"),
        "{}",
        run.stderr
    );
    let run = env.nova(["--api-key-env", "sk-abc123def456", "config", "show"]);
    assert_eq!(run.code, 2);
    assert!(!run.stderr.contains("abc123def456"), "{}", run.stderr);
    let run = env.nova(["--config", "missing.toml", "config", "show"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("does not exist: `missing.toml`"),
        "{}",
        run.stderr
    );
    env.set_var("NOVA_PROVIDER", "gpt");
    let run = env.nova(["config", "show"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("`NOVA_PROVIDER` is `gpt`"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_repo_flag_outside_any_repository_is_an_environment_error() {
    let env = TestEnv::new();
    let outside = env.outside();
    let run = env.nova([
        std::ffi::OsStr::new("--repo"),
        outside.as_os_str(),
        "config".as_ref(),
        "show".as_ref(),
    ]);
    assert_eq!(run.code, 3);
    assert!(
        run.stderr.contains("is not inside a git repository"),
        "{}",
        run.stderr
    );
    let run = env.nova(["--repo", "does-not-exist", "config", "show"]);
    assert_eq!(run.code, 3);
}

#[test]
fn the_readme_example_is_a_valid_user_config() {
    let env = TestEnv::new();
    let readme =
        std::fs::read_to_string(crate::common::source_root().join("README.md")).expect("README");
    let start = readme
        .find("```toml\n[provider]")
        .expect("the README has a config example")
        + "```toml\n".len();
    let example = &readme[start..start + readme[start..].find("```").expect("closing fence")];
    write(&env.user_config_dir(), "config.toml", example);
    let run = env.nova(["config", "show"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert_row(
        &run.stdout,
        "provider.name",
        "\"ollama\"",
        "user config `[TMP]/xdg/nova/config.toml`",
    );
}
