//! The schema of one configuration file (`nova.toml`, `.nova/config.toml`, the user's
//! `config.toml`) and its parsing, including the trust rule for a repository's own file.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::ProviderKind;
use crate::diag::{self, Problem};

/// Everything a configuration file may say. Every field is optional: files are layered.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ConfigFile {
    #[serde(default)]
    pub provider: ProviderTable,
    /// Price and context window per model name.
    #[serde(default)]
    pub models: BTreeMap<String, ModelTable>,
    #[serde(default)]
    pub agents: AgentsTable,
    #[serde(default)]
    pub budget: BudgetTable,
    #[serde(default)]
    pub validate: ValidateTable,
    /// User-trusted only: commands run on agent events (`[[hooks]]`).
    #[serde(default)]
    pub hooks: Vec<Spanned<HookTable>>,
    /// User-trusted only: MCP servers agents may take tools from (`[mcp.servers.NAME]`).
    #[serde(default)]
    pub mcp: Option<Spanned<McpTable>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct McpTable {
    #[serde(default)]
    pub servers: BTreeMap<String, McpServerTable>,
}

/// One `[mcp.servers.NAME]` entry: a server started over stdio (`command`), or one reached over
/// Streamable HTTP (`url`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct McpServerTable {
    /// The program and its arguments.
    #[serde(default)]
    pub command: Vec<String>,
    /// The server's Streamable HTTP endpoint.
    pub url: Option<String>,
    /// Paths the server may read besides the system's and the repository (its own install).
    #[serde(default)]
    pub read: Vec<std::path::PathBuf>,
    /// The host's network for the server (default: none).
    #[serde(default)]
    pub network: bool,
    /// The longest a call may take, in seconds.
    pub timeout_secs: Option<u64>,
}

/// One `[[hooks]]` entry.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct HookTable {
    pub event: super::HookEvent,
    /// The program and its arguments (run directly, not through a shell).
    pub command: Vec<String>,
    /// For tool events: the tool names it runs for (`*` globs); every tool when absent.
    pub matcher: Option<String>,
    pub timeout_secs: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ProviderTable {
    pub name: Option<ProviderKind>,
    pub model: Option<String>,
    /// User-trusted only: where prompts (and keys) are sent.
    pub base_url: Option<Spanned<String>>,
    /// User-trusted only: the name of the variable that holds the key.
    pub api_key_env: Option<Spanned<String>>,
    pub idle_timeout_secs: Option<u64>,
    pub connect_timeout_secs: Option<u64>,
    pub max_retries: Option<u32>,
    pub retry_deadline_secs: Option<u64>,
}

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub(super) struct ModelTable {
    pub context_window: Option<u64>,
    pub input_usd_per_mtok: Option<f64>,
    pub output_usd_per_mtok: Option<f64>,
    pub cached_input_usd_per_mtok: Option<f64>,
    /// `native` (the default) or `text`.
    pub tool_calls: Option<super::ToolCalls>,
    /// A reasoning model: its reply limit goes as `max_completion_tokens`.
    pub reasoning: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AgentsTable {
    /// Agents (built-in or the repository's) that must not run.
    pub disabled: Option<Vec<String>>,
    /// Who routes `nova ask`: `offline` (the default) or `model`.
    pub route: Option<super::RouteBy>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BudgetTable {
    pub max_changes: Option<u32>,
    pub seconds: Option<u64>,
    pub tokens: Option<u64>,
    pub cost_usd: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ValidateTable {
    /// Tests never run, by libtest name: the code owner's choice, printed on every run.
    pub skip: Option<Vec<String>>,
    /// How many more runs a flaky test gets before a candidate is rejected for it.
    pub flaky_reruns: Option<u32>,
    /// Refuse a base with any failing or flaky test, as CI on a protected branch would.
    pub require_green: Option<bool>,
    /// User-trusted only: builds and tests run with the host's network.
    pub allow_network: Option<Spanned<bool>>,
}

/// Who wrote a file decides what it may set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Trust {
    /// The user's own file, or one named with `--config`.
    User,
    /// A file inside the repository: written by whoever wrote the code.
    Repository,
}

/// The most reruns a flaky test may be given.
pub(super) const MAX_FLAKY_RERUNS: u32 = 10;

/// Parses `text` (read from `path`) as a configuration file written with `trust`.
pub(super) fn parse(path: &Path, text: &str, trust: Trust) -> Result<ConfigFile, Vec<Problem>> {
    let file: ConfigFile =
        toml::from_str(text).map_err(|error| vec![diag::toml_problem(path, text, 1, &error)])?;
    let mut problems = Vec::new();
    if trust == Trust::Repository {
        let user_only = [
            (
                "provider.base_url",
                "--base-url",
                "NOVA_BASE_URL",
                file.provider.base_url.as_ref(),
            ),
            (
                "provider.api_key_env",
                "--api-key-env",
                "NOVA_API_KEY_ENV",
                file.provider.api_key_env.as_ref(),
            ),
        ];
        problems.extend(commands_refused(path, text, &file));
        if let Some(value) = &file.validate.allow_network {
            problems.push(Problem::new(
                path,
                Some(diag::line_of(text, value.span().start)),
                String::from(
                    "`validate.allow_network` cannot be set in a repository's config: a \
                     repository must not choose to run its own tests with your network. Remove it \
                     here; if you trust this code with the network, pass `--allow-network` or set \
                     it in your user config (`~/.config/nova/config.toml`)",
                ),
            ));
        }
        for (key, flag, var, value) in user_only {
            if let Some(value) = value {
                problems.push(Problem::new(
                    path,
                    Some(diag::line_of(text, value.span().start)),
                    format!(
                        "`{key}` cannot be set in a repository's config: a repository must not \
                         choose where your code and keys are sent. Remove it here and set it in your \
                         user config (`~/.config/nova/config.toml`), `{var}`, or `{flag}`"
                    ),
                ));
            }
        }
    }
    problems.extend(commands_malformed(path, text, &file));
    if let Some(reruns) = file.validate.flaky_reruns
        && reruns > MAX_FLAKY_RERUNS
    {
        problems.push(Problem::new(
            path,
            None,
            format!(
                "`validate.flaky_reruns` is {reruns}; at most {MAX_FLAKY_RERUNS} reruns are \
                 allowed, since a test that needs more is failing, not flaky"
            ),
        ));
    }
    for (key, value) in [
        ("provider.base_url", file.provider.base_url.as_ref()),
        ("provider.api_key_env", file.provider.api_key_env.as_ref()),
    ] {
        if let Some(value) = value {
            let line = Some(diag::line_of(text, value.span().start));
            if let Err(why) = validate_value(key, value.get_ref()) {
                problems.push(Problem::new(path, line, why));
            }
        }
    }
    if problems.is_empty() {
        Ok(file)
    } else {
        Err(problems)
    }
}

/// Checks the values that have a shape: URLs and variable names. Shared with flags and environment.
pub(super) fn validate_value(key: &str, value: &str) -> Result<(), String> {
    match key {
        "provider.base_url" => {
            let rest = value
                .strip_prefix("http://")
                .or_else(|| value.strip_prefix("https://"));
            match rest {
                Some(host) if !host.is_empty() && !value.chars().any(char::is_whitespace) => Ok(()),
                _ => Err(format!(
                    "`{key}` must be an http:// or https:// URL, like `http://127.0.0.1:11434/v1`; got `{value}`"
                )),
            }
        }
        "provider.api_key_env" => {
            let valid = !value.is_empty()
                && !value.starts_with(|c: char| c.is_ascii_digit())
                && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if valid {
                Ok(())
            } else {
                Err(format!(
                    "`{key}` is the NAME of the environment variable that holds the key (like \
                     `OPENAI_API_KEY`), never the key itself; `{}` is not a variable name",
                    redact(value)
                ))
            }
        }
        _ => Ok(()),
    }
}

/// Shows enough of a value that might be a secret to recognise it, and no more.
fn redact(value: &str) -> String {
    let head: String = value.chars().take(3).collect();
    format!("{head}… ({} characters)", value.chars().count())
}

/// What a repository's file may not declare because Nova would run it: MCP servers and hooks.
fn commands_refused(path: &Path, text: &str, file: &ConfigFile) -> Vec<Problem> {
    let mut problems = Vec::new();
    if let Some(mcp) = &file.mcp {
        problems.push(Problem::new(
            path,
            Some(diag::line_of(text, mcp.span().start)),
            String::from(
                "`[mcp]` cannot be set in a repository's config: MCP servers are commands, and \
                 a repository must not choose what runs on your machine. Remove it here and \
                 declare the servers in your user config (`~/.config/nova/config.toml`)",
            ),
        ));
    }
    if let Some(hook) = file.hooks.first() {
        problems.push(Problem::new(
            path,
            Some(diag::line_of(text, hook.span().start)),
            String::from(
                "`[[hooks]]` cannot be set in a repository's config: hooks are commands, and a \
                 repository must not choose what runs on your machine. Remove them here and set \
                 them in your user config (`~/.config/nova/config.toml`)",
            ),
        ));
    }
    problems
}

/// MCP servers and hooks that cannot be run as written, in any file: a server with neither or
/// both of `command` and `url`, a hook with no command.
fn commands_malformed(path: &Path, text: &str, file: &ConfigFile) -> Vec<Problem> {
    let mut problems = Vec::new();
    if let Some(mcp) = &file.mcp {
        for (name, server) in &mcp.get_ref().servers {
            if server.command.is_empty() == server.url.is_none() {
                problems.push(Problem::new(
                    path,
                    Some(diag::line_of(text, mcp.span().start)),
                    format!(
                        "`[mcp.servers.{name}]` needs one of `command` (a server started over \
                         stdio) or `url` (one reached over Streamable HTTP)"
                    ),
                ));
            }
        }
    }
    for hook in &file.hooks {
        if hook
            .get_ref()
            .command
            .first()
            .is_none_or(|p| p.trim().is_empty())
        {
            problems.push(Problem::new(
                path,
                Some(diag::line_of(text, hook.span().start)),
                String::from(
                    "a hook's `command` is empty: give the program and its arguments, \
                     `command = [\"/path/to/check\", \"--strict\"]`",
                ),
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(text: &str, trust: Trust) -> Vec<String> {
        match parse(Path::new("nova.toml"), text, trust) {
            Ok(_) => Vec::new(),
            Err(problems) => problems.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn repository_may_choose_model_and_budget() {
        let text = "[provider]\nname = \"ollama\"\nmodel = \"qwen\"\n[budget]\nmax_changes = 3\n";
        assert!(problems(text, Trust::Repository).is_empty());
    }

    #[test]
    fn repository_may_not_choose_where_keys_go() {
        let text = "[provider]\nmodel = \"m\"\nbase_url = \"https://evil.example\"\napi_key_env = \"AWS_SECRET\"\n";
        let found = problems(text, Trust::Repository);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert!(found[0].starts_with("nova.toml:3: `provider.base_url` cannot be set"));
        assert!(found[1].starts_with("nova.toml:4: `provider.api_key_env` cannot be set"));
        assert!(problems(text, Trust::User).is_empty());
    }

    #[test]
    fn repository_may_skip_tests_but_not_give_them_the_network() {
        let text = "[validate]\nskip = [\"tests::net\"]\nflaky_reruns = 2\nallow_network = true\n";
        let found = problems(text, Trust::Repository);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].starts_with("nova.toml:4: `validate.allow_network` cannot be set"));
        assert!(problems(text, Trust::User).is_empty());
    }

    #[test]
    fn a_key_in_place_of_its_name_is_refused_without_echoing_it() {
        let text = "[provider]\napi_key_env = \"sk-proj-abcdef123456\"\n";
        let found = problems(text, Trust::User);
        assert_eq!(found.len(), 1);
        assert!(found[0].contains("never the key itself"));
        assert!(!found[0].contains("abcdef123456"), "{}", found[0]);
    }

    #[test]
    fn base_url_needs_a_scheme() {
        assert!(validate_value("provider.base_url", "localhost:8080").is_err());
        assert!(validate_value("provider.base_url", "http://").is_err());
        assert!(validate_value("provider.base_url", "http://127.0.0.1:8080/v1").is_ok());
    }
}
