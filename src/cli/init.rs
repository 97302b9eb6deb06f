//! `nova init`: a starting configuration for a repository.

use std::io::Write;
use std::path::Path;

use clap::Args;

use super::{CommandError, Context, Exit};

/// Write a commented `nova.toml` and `.nova/.gitignore` in the repository.
///
/// With `--ci`, also a GitHub Actions workflow, `.github/workflows/nova.yml`: `nova ci review` on
/// every pull request, `nova ci improve` once a week (and by hand) opening a pull request with
/// what passed. Never overwrites a file that exists. Exits 1 when there was nothing left to
/// write.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Also write the GitHub Actions workflow `.github/workflows/nova.yml`
    #[arg(long, requires = "nova_git")]
    ci: bool,
    /// With `--ci`: the git URL the workflow installs Nova from (`cargo install --git URL`)
    #[arg(long, value_name = "URL")]
    nova_git: Option<String>,
}

/// Where `nova init --ci` writes the workflow.
pub const WORKFLOW_PATH: &str = ".github/workflows/nova.yml";

/// The GitHub Actions workflow `nova init --ci` writes; `@NOVA_GIT@` is where Nova is installed
/// from. Actions are pinned to full commits; each job has only the permissions it needs.
pub const WORKFLOW: &str = r#"# Nova in CI, written by `nova init --ci`: edit it freely.
# Pull requests get `nova ci review` (the job fails on a warning or worse, and the findings are in
# the job summary). Once a week, and when run by hand, `nova ci improve` commits what it fixed and
# proved on a `nova/improve/...` branch, pushes it and opens a pull request.
name: nova

on:
  pull_request:
  schedule:
    - cron: "23 5 * * 1"
  workflow_dispatch:

permissions: {}

concurrency:
  group: nova-${{ github.workflow }}-${{ github.ref }}
  cancel-in-progress: true

env:
  CARGO_TERM_COLOR: never
  NOVA_GIT: "@NOVA_GIT@"

jobs:
  review:
    if: github.event_name == 'pull_request'
    runs-on: ubuntu-latest
    timeout-minutes: 30
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with:
          fetch-depth: 0
          persist-credentials: false
      - uses: actions/cache@1bd1e32a3bdc45362d1e726936510720a7c30a57 # v4.2.0
        with:
          path: |
            ~/.cargo/registry
            ~/.cargo/git
            ~/.cargo/bin/nova
            .nova/target
          key: nova-${{ runner.os }}-${{ hashFiles('**/Cargo.lock') }}
          restore-keys: nova-${{ runner.os }}-
      - name: Install Nova
        run: command -v nova || cargo install --locked --git "$NOVA_GIT" nova
      - name: Review what the pull request changed
        env:
          BASE_REF: ${{ github.base_ref }}
        run: nova ci review --base "origin/$BASE_REF"

  improve:
    if: github.event_name != 'pull_request'
    runs-on: ubuntu-latest
    timeout-minutes: 120
    permissions:
      contents: write
      pull-requests: write
    steps:
      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2
        with:
          persist-credentials: false
      - uses: actions/cache@1bd1e32a3bdc45362d1e726936510720a7c30a57 # v4.2.0
        with:
          path: |
            ~/.cargo/registry
            ~/.cargo/git
            ~/.cargo/bin/nova
            .nova/target
          key: nova-${{ runner.os }}-${{ hashFiles('**/Cargo.lock') }}
          restore-keys: nova-${{ runner.os }}-
      - name: Install Nova
        run: command -v nova || cargo install --locked --git "$NOVA_GIT" nova
      # Nova proves each change in a sandbox built on user namespaces, which Ubuntu 24.04 (the
      # runners' `ubuntu-latest`) lets only AppArmor-profiled programs make; `nova doctor` checks.
      - name: Let the sandbox use user namespaces
        run: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 && nova doctor
      - name: Improve, push the review branch, open its pull request
        env:
          GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}
        run: nova ci improve --max-minutes 90
"#;

/// The starting `nova.toml`: every key a repository may set, commented out at its default.
pub const NOVA_TOML: &str = r#"# Nova's configuration for this repository. Commit it with your code.
# Everything is optional: uncomment what you want to change.
# `nova config show` prints every value and where it came from.
#
# A repository's config may choose the provider, the model, the agents and the budgets.
# Where requests go (`provider.base_url`) and which variable holds the API key
# (`provider.api_key_env`) are yours alone to set: in ~/.config/nova/config.toml, in
# NOVA_BASE_URL / NOVA_API_KEY_ENV, or with --base-url / --api-key-env.

[provider]
# name = "builtin"            # builtin (offline, the default) | openai | anthropic | ollama
# model = "your-model"
# idle_timeout_secs = 60       # the longest silence from the provider before trying again
# connect_timeout_secs = 10
# max_retries = 4
# retry_deadline_secs = 300

# The context window and prices (US dollars per million tokens) of a model, for budgets:
# [models."your-model"]
# context_window = 128000
# input_usd_per_mtok = 1.0
# output_usd_per_mtok = 4.0
# cached_input_usd_per_mtok = 0.25

[agents]
# disabled = ["docs-reviewer"]  # agents that must not run here
# route = "offline"             # who routes `nova ask`: "offline" (the classifier) or "model"
# Add agents, or override built-in ones by name, with files in .nova/agents/ (`nova agents list`).

[budget]
# max_changes = 10              # commits per run
# seconds = 1800                # wall-clock time per run
# tokens = 2000000              # model tokens per run
# cost_usd = 5.0                # model spend per run
"#;

pub fn run(cx: &Context<'_>, args: &InitArgs) -> Result<Exit, CommandError> {
    let root = cx.require_repo()?;
    let p = &cx.printer;
    let mut written = 0;

    let existing_config = ["nova.toml", ".nova/config.toml"]
        .into_iter()
        .find(|relative| root.join(relative).exists());
    match existing_config {
        Some(relative) => p.note(&format!("`{relative}` already exists; left as it is")),
        None => {
            create_new(&root.join("nova.toml"), NOVA_TOML)?;
            p.note("wrote `nova.toml`");
            written += 1;
        }
    }

    let gitignore = root.join(".nova").join(".gitignore");
    if gitignore.exists() {
        p.note("`.nova/.gitignore` already exists; left as it is");
    } else {
        std::fs::create_dir_all(root.join(".nova"))?;
        create_new(&gitignore, crate::state::STATE_GITIGNORE)?;
        p.note("wrote `.nova/.gitignore`");
        written += 1;
    }

    if args.ci {
        let url = args.nova_git.as_deref().unwrap_or_default().trim();
        if url.is_empty() || url.contains(char::is_whitespace) || url.contains('"') {
            return Err(CommandError::usage(anyhow::anyhow!(
                "`--nova-git` wants the git URL CI installs Nova from, like \
                 `https://github.com/OWNER/nova`"
            )));
        }
        let workflow = root.join(WORKFLOW_PATH);
        if workflow.exists() {
            p.note(&format!("`{WORKFLOW_PATH}` already exists; left as it is"));
        } else {
            if let Some(dir) = workflow.parent() {
                std::fs::create_dir_all(dir)?;
            }
            create_new(&workflow, &WORKFLOW.replace("@NOVA_GIT@", url))?;
            p.note(&format!(
                "wrote `{WORKFLOW_PATH}`: commit it, and pull requests get `nova ci review`"
            ));
            written += 1;
        }
    }

    if written == 0 {
        p.note("nothing to do: Nova is already set up here");
        return Ok(Exit::Failure);
    }
    p.note("next: `nova agents list` shows the agents, `nova config show` the settings");
    Ok(Exit::Success)
}

/// Writes a file that must not exist yet; a file created since we looked is never overwritten.
fn create_new(path: &Path, text: &str) -> Result<(), CommandError> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|error| {
            CommandError::environment(
                anyhow::Error::new(error).context(format!("cannot create `{}`", path.display())),
            )
        })?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_is_a_valid_repository_config() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("nova.toml"), NOVA_TOML).expect("write");
        let env = crate::config::Env::default();
        crate::config::load(&env, Some(dir.path()), &Default::default()).expect("template parses");
        // Every commented key, uncommented, still parses and passes the trust rule.
        let uncommented: String = NOVA_TOML
            .lines()
            .map(|line| match line.strip_prefix("# ") {
                Some(rest) if rest.contains(" = ") || rest.starts_with("[models") => rest,
                _ => line,
            })
            .map(|line| format!("{line}\n"))
            .collect();
        std::fs::write(dir.path().join("nova.toml"), uncommented).expect("write");
        let config = crate::config::load(&env, Some(dir.path()), &Default::default())
            .expect("uncommented parses");
        assert_eq!(config.budget.max_changes.value, Some(10));
        assert_eq!(
            config.models["your-model"].context_window.value,
            Some(128_000)
        );
    }
}
