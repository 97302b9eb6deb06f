//! `nova init`: a starting configuration for a repository.

use std::io::Write;
use std::path::Path;

use clap::Args;

use super::{CommandError, Context, Exit};

/// Write a commented `nova.toml` and `.nova/.gitignore` in the repository.
///
/// Never overwrites a file that exists. Exits 1 when there was nothing left to write.
#[derive(Debug, Args)]
pub struct InitArgs {}

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

pub fn run(cx: &Context<'_>, _args: &InitArgs) -> Result<Exit, CommandError> {
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
