//! Layering: defaults, then the user's file, the repository's file, the environment and flags,
//! each value remembering the source that set it.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::env::{NOVA_API_KEY_ENV, NOVA_BASE_URL, NOVA_MODEL, NOVA_PROVIDER};
use toml::Spanned;

use super::file::{self, ConfigFile, ModelTable, Trust};
use super::{ConfigError, Env, Overrides, ProviderKind};

/// More runs a flaky test gets on a candidate when the config does not say.
pub const DEFAULT_FLAKY_RERUNS: u32 = 3;

/// Where a value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "at", rename_all = "kebab-case")]
pub enum Source {
    Default,
    /// The chosen provider's default.
    ProviderDefault(ProviderKind),
    UserFile(PathBuf),
    RepositoryFile(PathBuf),
    Env(String),
    Flag(&'static str),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::ProviderDefault(kind) => write!(f, "default for {kind}"),
            Source::UserFile(path) => write!(f, "user config `{}`", path.display()),
            Source::RepositoryFile(path) => write!(f, "repository config `{}`", path.display()),
            Source::Env(name) => write!(f, "env `{name}`"),
            Source::Flag(flag) => write!(f, "flag `{flag}`"),
        }
    }
}

/// A value and the source that set it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sourced<T> {
    pub value: T,
    pub source: Source,
}

impl<T> Sourced<T> {
    fn default(value: T) -> Self {
        Sourced {
            value,
            source: Source::Default,
        }
    }

    fn set(&mut self, value: Option<T>, source: &Source) {
        if let Some(value) = value {
            self.value = value;
            self.source = source.clone();
        }
    }
}

impl<T> Sourced<Option<T>> {
    fn set_some(&mut self, value: Option<T>, source: &Source) {
        self.set(value.map(Some), source);
    }
}

/// The resolved provider settings.
#[derive(Debug, Clone, Serialize)]
pub struct ProviderSettings {
    pub kind: Sourced<ProviderKind>,
    pub model: Sourced<Option<String>>,
    pub base_url: Sourced<Option<String>>,
    /// The NAME of the variable holding the key. The key itself is read only when a request is made.
    pub api_key_env: Sourced<Option<String>>,
    /// The longest wait for a response's headers or for the next piece of a stream.
    pub idle_timeout_secs: Sourced<u64>,
    pub connect_timeout_secs: Sourced<u64>,
    /// Tries after the first, for faults worth retrying.
    pub max_retries: Sourced<u32>,
    /// No retry starts this long after the first try.
    pub retry_deadline_secs: Sourced<u64>,
}

/// What is known about one model: its context window and prices in US dollars per million tokens.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelInfo {
    pub context_window: Sourced<Option<u64>>,
    pub input_usd_per_mtok: Sourced<Option<f64>>,
    pub output_usd_per_mtok: Sourced<Option<f64>>,
    pub cached_input_usd_per_mtok: Sourced<Option<f64>>,
    /// How the model calls tools.
    pub tool_calls: Sourced<super::ToolCalls>,
    /// A reasoning model (reply limit as `max_completion_tokens`, no temperature); `None`: known
    /// by its name (`llm::is_reasoning_model`).
    pub reasoning: Sourced<Option<bool>>,
}

impl Default for ModelInfo {
    fn default() -> Self {
        ModelInfo {
            context_window: Sourced::default(None),
            input_usd_per_mtok: Sourced::default(None),
            output_usd_per_mtok: Sourced::default(None),
            cached_input_usd_per_mtok: Sourced::default(None),
            tool_calls: Sourced::default(super::ToolCalls::Native),
            reasoning: Sourced::default(None),
        }
    }
}

/// Limits for one run.
#[derive(Debug, Clone, Serialize)]
pub struct Budget {
    pub max_changes: Sourced<Option<u32>>,
    pub seconds: Sourced<Option<u64>>,
    pub tokens: Sourced<Option<u64>>,
    pub cost_usd: Sourced<Option<f64>>,
}

/// How candidates are validated.
#[derive(Debug, Clone, Serialize)]
pub struct ValidateSettings {
    /// Tests never run (libtest names), printed on every run.
    pub skip: Sourced<Vec<String>>,
    /// More runs a flaky test gets on a candidate before the candidate is rejected for it.
    pub flaky_reruns: Sourced<u32>,
    /// Refuse a base with a failing or flaky test.
    pub require_green: Sourced<bool>,
    /// Builds and tests keep the host's network: from the user's own config only.
    pub allow_network: Sourced<bool>,
}

/// The whole resolved configuration.
#[derive(Debug, Clone, Serialize)]
pub struct Config {
    pub provider: ProviderSettings,
    pub models: BTreeMap<String, ModelInfo>,
    pub disabled_agents: Sourced<Vec<String>>,
    /// Who routes `nova ask` requests.
    pub route: Sourced<super::RouteBy>,
    pub budget: Budget,
    pub validate: ValidateSettings,
    /// Commands run on agent events: from the user's config only (the parser refuses them in a
    /// repository's).
    pub hooks: Vec<super::Hook>,
    /// MCP servers by name: from the user's config only (the parser refuses them elsewhere).
    pub mcp_servers: BTreeMap<String, super::McpServer>,
    /// The files that were read, weakest first.
    pub files: Vec<Source>,
}

impl Config {
    fn defaults() -> Self {
        Config {
            provider: ProviderSettings {
                kind: Sourced::default(ProviderKind::Builtin),
                model: Sourced::default(None),
                base_url: Sourced::default(None),
                api_key_env: Sourced::default(None),
                idle_timeout_secs: Sourced::default(60),
                connect_timeout_secs: Sourced::default(10),
                max_retries: Sourced::default(4),
                retry_deadline_secs: Sourced::default(300),
            },
            models: BTreeMap::new(),
            disabled_agents: Sourced::default(Vec::new()),
            route: Sourced::default(super::RouteBy::Offline),
            budget: Budget {
                max_changes: Sourced::default(None),
                seconds: Sourced::default(None),
                tokens: Sourced::default(None),
                cost_usd: Sourced::default(None),
            },
            validate: ValidateSettings {
                skip: Sourced::default(Vec::new()),
                flaky_reruns: Sourced::default(DEFAULT_FLAKY_RERUNS),
                require_green: Sourced::default(false),
                allow_network: Sourced::default(false),
            },
            hooks: Vec::new(),
            mcp_servers: BTreeMap::new(),
            files: Vec::new(),
        }
    }

    /// The API key, read from the variable the configuration names. `None` when no variable is
    /// configured or it is unset. Callers must never log, store or forward it anywhere but the
    /// provider's own endpoint.
    pub fn api_key<'e>(&self, env: &'e Env) -> Option<&'e str> {
        env.get(self.provider.api_key_env.value.as_deref()?)
    }

    fn apply(&mut self, layer: ConfigFile, source: &Source) {
        let provider = &mut self.provider;
        provider.kind.set(layer.provider.name, source);
        provider.model.set_some(layer.provider.model, source);
        let base_url = layer.provider.base_url.map(|v| v.into_inner());
        provider.base_url.set_some(base_url, source);
        let key_env = layer.provider.api_key_env.map(|v| v.into_inner());
        provider.api_key_env.set_some(key_env, source);
        provider
            .idle_timeout_secs
            .set(layer.provider.idle_timeout_secs, source);
        let connect = layer.provider.connect_timeout_secs;
        provider.connect_timeout_secs.set(connect, source);
        provider.max_retries.set(layer.provider.max_retries, source);
        let deadline = layer.provider.retry_deadline_secs;
        provider.retry_deadline_secs.set(deadline, source);

        for (name, table) in layer.models {
            let info = self.models.entry(name).or_default();
            let ModelTable {
                context_window,
                input_usd_per_mtok,
                output_usd_per_mtok,
                cached_input_usd_per_mtok,
                tool_calls,
                reasoning,
            } = table;
            info.tool_calls.set(tool_calls, source);
            info.reasoning.set_some(reasoning, source);
            info.context_window.set_some(context_window, source);
            info.input_usd_per_mtok.set_some(input_usd_per_mtok, source);
            info.output_usd_per_mtok
                .set_some(output_usd_per_mtok, source);
            info.cached_input_usd_per_mtok
                .set_some(cached_input_usd_per_mtok, source);
        }

        self.disabled_agents.set(layer.agents.disabled, source);
        self.route.set(layer.agents.route, source);
        let budget = &mut self.budget;
        budget
            .max_changes
            .set_some(layer.budget.max_changes, source);
        budget.seconds.set_some(layer.budget.seconds, source);
        budget.tokens.set_some(layer.budget.tokens, source);
        budget.cost_usd.set_some(layer.budget.cost_usd, source);
        let validate = &mut self.validate;
        validate.skip.set(layer.validate.skip, source);
        validate
            .flaky_reruns
            .set(layer.validate.flaky_reruns, source);
        validate
            .require_green
            .set(layer.validate.require_green, source);
        // The parser refuses it in a repository's file.
        let network = layer.validate.allow_network.map(Spanned::into_inner);
        validate.allow_network.set(network, source);
        // The parser refuses them in a repository's file: these are the user's.
        self.hooks.extend(layer.hooks.into_iter().map(|hook| {
            let hook = hook.into_inner();
            super::Hook {
                event: hook.event,
                command: hook.command,
                matcher: hook.matcher,
                timeout_secs: hook.timeout_secs.unwrap_or(super::HOOK_TIMEOUT_SECS),
                source: source.clone(),
            }
        }));
        if let Some(mcp) = layer.mcp {
            for (name, server) in mcp.into_inner().servers {
                let server = super::McpServer {
                    command: server.command,
                    url: server.url,
                    read: server.read,
                    network: server.network,
                    timeout_secs: server.timeout_secs.unwrap_or(super::MCP_TIMEOUT_SECS),
                    source: source.clone(),
                };
                self.mcp_servers.insert(name, server);
            }
        }
        self.files.push(source.clone());
    }

    fn apply_env(&mut self, env: &Env) -> Result<(), ConfigError> {
        if let Some(value) = env.get(NOVA_PROVIDER) {
            let kind = ProviderKind::parse(value).ok_or_else(|| {
                ConfigError::Value(format!(
                    "`{NOVA_PROVIDER}` is `{value}`, which is not a provider; use one of {}",
                    provider_names()
                ))
            })?;
            self.provider
                .kind
                .set(Some(kind), &Source::Env(NOVA_PROVIDER.into()));
        }
        let model = env.get(NOVA_MODEL).map(str::to_owned);
        self.provider
            .model
            .set_some(model, &Source::Env(NOVA_MODEL.into()));
        let url = checked(env.get(NOVA_BASE_URL), "provider.base_url", NOVA_BASE_URL)?;
        self.provider
            .base_url
            .set_some(url, &Source::Env(NOVA_BASE_URL.into()));
        let key_env = checked(
            env.get(NOVA_API_KEY_ENV),
            "provider.api_key_env",
            NOVA_API_KEY_ENV,
        )?;
        self.provider
            .api_key_env
            .set_some(key_env, &Source::Env(NOVA_API_KEY_ENV.into()));
        Ok(())
    }

    fn apply_flags(&mut self, flags: &Overrides) -> Result<(), ConfigError> {
        self.provider
            .kind
            .set(flags.provider, &Source::Flag("--provider"));
        let model = flags.model.clone();
        self.provider
            .model
            .set_some(model, &Source::Flag("--model"));
        let url = checked(flags.base_url.as_deref(), "provider.base_url", "--base-url")?;
        self.provider
            .base_url
            .set_some(url, &Source::Flag("--base-url"));
        let key_env = checked(
            flags.api_key_env.as_deref(),
            "provider.api_key_env",
            "--api-key-env",
        )?;
        self.provider
            .api_key_env
            .set_some(key_env, &Source::Flag("--api-key-env"));
        Ok(())
    }

    /// Fills in what the chosen provider implies when nothing set it.
    fn apply_provider_defaults(&mut self) {
        let kind = self.provider.kind.value;
        let source = Source::ProviderDefault(kind);
        if self.provider.base_url.value.is_none() {
            let url = kind.default_base_url().map(str::to_owned);
            self.provider.base_url.set_some(url, &source);
        }
        if self.provider.api_key_env.value.is_none() {
            let name = kind.default_api_key_env().map(str::to_owned);
            self.provider.api_key_env.set_some(name, &source);
        }
    }
}

impl Config {
    /// A zero timeout would fail every request: refuse it where it was set.
    fn check_timeouts(&self) -> Result<(), ConfigError> {
        let p = &self.provider;
        for (key, value) in [
            ("provider.idle_timeout_secs", &p.idle_timeout_secs),
            ("provider.connect_timeout_secs", &p.connect_timeout_secs),
            ("provider.retry_deadline_secs", &p.retry_deadline_secs),
        ] {
            if value.value == 0 {
                return Err(ConfigError::Value(format!(
                    "`{key}` is 0 (set by {}): it must be at least 1 second",
                    value.source
                )));
            }
        }
        Ok(())
    }
}

fn checked(value: Option<&str>, key: &str, origin: &str) -> Result<Option<String>, ConfigError> {
    let Some(value) = value else { return Ok(None) };
    file::validate_value(key, value)
        .map_err(|why| ConfigError::Value(format!("{origin}: {why}")))?;
    Ok(Some(value.to_owned()))
}

fn provider_names() -> String {
    ProviderKind::ALL.map(ProviderKind::as_str).join(", ")
}

/// Resolves the configuration for a repository (or for no repository, outside one).
pub fn load(
    env: &Env,
    repo_root: Option<&Path>,
    overrides: &Overrides,
) -> Result<Config, ConfigError> {
    let mut config = Config::defaults();

    let user_file = match &overrides.config_file {
        Some(path) if !path.is_file() => return Err(ConfigError::MissingExplicit(path.clone())),
        Some(path) => Some(path.clone()),
        None => env
            .user_config_dir()
            .map(|dir| dir.join("config.toml"))
            .filter(|path| path.is_file()),
    };
    if let Some(path) = user_file {
        let layer = read(&path, &path, Trust::User)?;
        config.apply(layer, &Source::UserFile(path));
    }

    if let Some(root) = repo_root
        && let Some(relative) = repo_config_path(root)?
    {
        let layer = read(&root.join(&relative), &relative, Trust::Repository)?;
        config.apply(layer, &Source::RepositoryFile(relative));
    }

    config.apply_env(env)?;
    config.apply_flags(overrides)?;
    config.apply_provider_defaults();
    config.check_timeouts()?;
    Ok(config)
}

/// `nova.toml`, else `.nova/config.toml`, relative to the repository root; both is an error.
fn repo_config_path(root: &Path) -> Result<Option<PathBuf>, ConfigError> {
    let candidates = [
        PathBuf::from("nova.toml"),
        Path::new(".nova").join("config.toml"),
    ];
    let present: Vec<PathBuf> = candidates
        .into_iter()
        .filter(|relative| root.join(relative).is_file())
        .collect();
    match present.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one.clone())),
        _ => Err(ConfigError::Value(String::from(
            "both `nova.toml` and `.nova/config.toml` exist in this repository; keep one and \
             move its settings into it",
        ))),
    }
}

/// Reads and parses one file; `shown` is the path used in messages.
fn read(path: &Path, shown: &Path, trust: Trust) -> Result<ConfigFile, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    file::parse(shown, &text, trust).map_err(ConfigError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, relative: &str, text: &str) {
        let path = dir.join(relative);
        std::fs::create_dir_all(path.parent().expect("a file has a parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    #[test]
    fn each_layer_beats_the_one_below() {
        let home = tempfile::tempdir().expect("tempdir");
        let repo = tempfile::tempdir().expect("tempdir");
        write(
            home.path(),
            ".config/nova/config.toml",
            "[provider]\nname = \"openai\"\nmodel = \"from-user\"\nidle_timeout_secs = 5\nmax_retries = 1\n",
        );
        write(
            repo.path(),
            "nova.toml",
            "[provider]\nmodel = \"from-repo\"\nidle_timeout_secs = 6\n",
        );
        let home_dir = home.path().to_str().expect("utf-8 temp path");
        let env = Env::from_vars([("HOME", home_dir), ("NOVA_MODEL", "from-env")], None);
        let flags = Overrides {
            provider: Some(ProviderKind::Ollama),
            ..Overrides::default()
        };
        let config = load(&env, Some(repo.path()), &flags).expect("valid config");
        let provider = &config.provider;
        assert_eq!(provider.kind.value, ProviderKind::Ollama);
        assert_eq!(provider.kind.source, Source::Flag("--provider"));
        assert_eq!(provider.model.value.as_deref(), Some("from-env"));
        assert_eq!(provider.idle_timeout_secs.value, 6);
        assert_eq!(
            provider.idle_timeout_secs.source,
            Source::RepositoryFile("nova.toml".into())
        );
        assert_eq!(provider.max_retries.value, 1);
        assert!(matches!(provider.max_retries.source, Source::UserFile(_)));
        assert_eq!(provider.connect_timeout_secs.source, Source::Default);
        assert_eq!(
            provider.base_url.value.as_deref(),
            Some("http://127.0.0.1:11434/v1")
        );
        assert_eq!(
            provider.base_url.source,
            Source::ProviderDefault(ProviderKind::Ollama)
        );
        assert_eq!(provider.api_key_env.value, None);
    }

    #[test]
    fn model_tables_merge_field_by_field() {
        let repo = tempfile::tempdir().expect("tempdir");
        let user = repo.path().join("user.toml");
        std::fs::write(
            &user,
            "[models.m]\ncontext_window = 1000\ninput_usd_per_mtok = 1.0\n",
        )
        .expect("write");
        write(
            repo.path(),
            ".nova/config.toml",
            "[models.m]\ninput_usd_per_mtok = 2.0\n",
        );
        let flags = Overrides {
            config_file: Some(user),
            ..Overrides::default()
        };
        let config = load(&Env::default(), Some(repo.path()), &flags).expect("valid config");
        let model = &config.models["m"];
        assert_eq!(model.context_window.value, Some(1000));
        assert!(matches!(model.context_window.source, Source::UserFile(_)));
        assert_eq!(model.input_usd_per_mtok.value, Some(2.0));
        assert!(matches!(
            model.input_usd_per_mtok.source,
            Source::RepositoryFile(_)
        ));
    }

    #[test]
    fn bad_environment_values_are_named() {
        let env = Env::from_vars([("NOVA_PROVIDER", "gpt")], None);
        let error = load(&env, None, &Overrides::default()).expect_err("invalid provider");
        assert_eq!(
            error.to_string(),
            "`NOVA_PROVIDER` is `gpt`, which is not a provider; use one of builtin, openai, anthropic, ollama"
        );
    }

    #[test]
    fn api_key_is_read_by_name() {
        let env = Env::from_vars([("MY_KEY", "secret")], None);
        let flags = Overrides {
            provider: Some(ProviderKind::Openai),
            api_key_env: Some("MY_KEY".into()),
            ..Overrides::default()
        };
        let config = load(&env, None, &flags).expect("valid config");
        assert_eq!(config.api_key(&env), Some("secret"));
    }

    #[test]
    fn two_repository_files_is_an_error() {
        let repo = tempfile::tempdir().expect("tempdir");
        write(repo.path(), "nova.toml", "");
        write(repo.path(), ".nova/config.toml", "");
        let error = load(&Env::default(), Some(repo.path()), &Overrides::default());
        assert!(
            error
                .expect_err("ambiguous")
                .to_string()
                .contains("keep one")
        );
    }
}
