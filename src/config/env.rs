//! The process environment, read once, in one place.
//!
//! Every other module is handed an [`Env`] instead of calling `std::env`: this keeps tests hermetic
//! and makes every variable Nova honours visible here. `clippy.toml` forbids `std::env::var` elsewhere.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};

/// The variables Nova reads itself. Provider keys are read by the name the configuration gives.
pub const NOVA_PROVIDER: &str = "NOVA_PROVIDER";
pub const NOVA_MODEL: &str = "NOVA_MODEL";
pub const NOVA_BASE_URL: &str = "NOVA_BASE_URL";
pub const NOVA_API_KEY_ENV: &str = "NOVA_API_KEY_ENV";
pub const NO_COLOR: &str = "NO_COLOR";

/// Passed through to sandboxed commands. Everything else, API keys included, is left behind.
const SANDBOX_VARS: &[&str] = &[
    "PATH",
    "HOME",
    "CARGO_HOME",
    "RUSTUP_HOME",
    "RUSTUP_TOOLCHAIN",
    "LANG",
    "LC_ALL",
];

/// Where the Rust toolchain lives: `CARGO_HOME` (else `~/.cargo`), `RUSTUP_HOME` (else
/// `~/.rustup`) and the absolute directories of `PATH` (but never `$HOME` itself).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolchainDirs {
    pub cargo_home: Option<PathBuf>,
    pub rustup_home: Option<PathBuf>,
    pub path: Vec<PathBuf>,
}

/// A snapshot of the environment. Its `Debug` output names variables but never shows values,
/// since some of them are secrets.
#[derive(Clone, Default)]
pub struct Env {
    vars: BTreeMap<OsString, OsString>,
    current_dir: Option<PathBuf>,
}

impl Env {
    /// Reads the real process environment and working directory.
    #[expect(
        clippy::disallowed_methods,
        reason = "the one place Nova reads its environment"
    )]
    pub fn capture() -> Self {
        Env {
            vars: std::env::vars_os().collect(),
            current_dir: std::env::current_dir().ok(),
        }
    }

    /// An environment made of exactly these variables, for tests and embedding.
    pub fn from_vars<K, V>(
        vars: impl IntoIterator<Item = (K, V)>,
        current_dir: Option<PathBuf>,
    ) -> Self
    where
        K: Into<OsString>,
        V: Into<OsString>,
    {
        Env {
            vars: vars
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
            current_dir,
        }
    }

    /// The value of `name`, when it is set and valid UTF-8. An empty value counts as unset.
    pub(in crate::config) fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(OsStr::new(name))
            .and_then(|value| value.to_str())
            .filter(|value| !value.is_empty())
    }

    /// The whole environment, for the user's own commands (their hooks), which run as they would
    /// run them.
    pub fn user_vars(&self) -> Vec<(OsString, OsString)> {
        self.vars
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    /// Whether `name` is set to anything non-empty (its value stays private).
    pub fn is_set(&self, name: &str) -> bool {
        self.vars
            .get(OsStr::new(name))
            .is_some_and(|value| !value.is_empty())
    }

    pub fn current_dir(&self) -> Option<&Path> {
        self.current_dir.as_deref()
    }

    /// The variables a sandboxed build may see: what cargo and rustup need to find the toolchain and
    /// the registry cache, and nothing that could hold a secret.
    pub fn sandbox_vars(&self) -> Vec<(String, String)> {
        SANDBOX_VARS
            .iter()
            .filter_map(|name| Some(((*name).to_owned(), self.get(name)?.to_owned())))
            .collect()
    }

    /// A token for pushing review branches over HTTPS: `NOVA_GIT_TOKEN`, else `GITHUB_TOKEN`.
    pub fn git_token(&self) -> Option<&str> {
        ["NOVA_GIT_TOKEN", "GITHUB_TOKEN"]
            .iter()
            .find_map(|name| self.get(name).filter(|value| !value.is_empty()))
    }

    /// A token for the forge's API (opening pull requests): `NOVA_FORGE_TOKEN`, else
    /// `GITHUB_TOKEN`.
    pub fn forge_token(&self) -> Option<&str> {
        ["NOVA_FORGE_TOKEN", "GITHUB_TOKEN"]
            .iter()
            .find_map(|name| self.get(name))
    }

    /// The repository on GitHub, `owner/name`, as GitHub Actions says it (`GITHUB_REPOSITORY`).
    pub fn github_repository(&self) -> Option<&str> {
        self.get("GITHUB_REPOSITORY")
    }

    /// GitHub's REST API: `GITHUB_API_URL` (GitHub Enterprise, a test server), else the public
    /// one.
    pub fn github_api_url(&self) -> &str {
        self.get("GITHUB_API_URL")
            .unwrap_or("https://api.github.com")
    }

    /// The file GitHub Actions shows as the job's summary (`GITHUB_STEP_SUMMARY`).
    pub fn step_summary(&self) -> Option<PathBuf> {
        self.get("GITHUB_STEP_SUMMARY").map(PathBuf::from)
    }

    /// Where the Rust toolchain lives, for the sandbox's read rules.
    pub fn toolchain_dirs(&self) -> ToolchainDirs {
        let home = self.get("HOME").map(PathBuf::from);
        let absolute = |name: &str, default: &str| match self.get(name) {
            Some(dir) if Path::new(dir).is_absolute() => Some(PathBuf::from(dir)),
            _ => home.as_ref().map(|home| home.join(default)),
        };
        let path = self
            .get("PATH")
            .map(|path| {
                std::env::split_paths(path)
                    .filter(|dir| dir.is_absolute() && dir.parent().is_some())
                    .filter(|dir| Some(dir) != home.as_ref())
                    .collect()
            })
            .unwrap_or_default();
        ToolchainDirs {
            cargo_home: absolute("CARGO_HOME", ".cargo"),
            rustup_home: absolute("RUSTUP_HOME", ".rustup"),
            path,
        }
    }

    /// The proxy for requests to `url`, as curl reads it: `HTTPS_PROXY` for https:// URLs,
    /// `HTTP_PROXY` for http:// ones, else `ALL_PROXY` (lower case first, then upper).
    pub fn proxy_for(&self, url: &str) -> Option<&str> {
        let scheme = if url.starts_with("https://") {
            "https_proxy"
        } else {
            "http_proxy"
        };
        let upper = scheme.to_ascii_uppercase();
        [scheme, &upper, "all_proxy", "ALL_PROXY"]
            .into_iter()
            .find_map(|name| self.get(name))
    }

    /// `NO_PROXY`: the hosts requests reach directly, whatever the proxy.
    pub fn no_proxy(&self) -> Option<&str> {
        self.get("no_proxy").or_else(|| self.get("NO_PROXY"))
    }

    /// The system's temp directory: `TMPDIR`, else `/tmp`.
    pub fn temp_dir(&self) -> PathBuf {
        match self.get("TMPDIR") {
            Some(dir) if Path::new(dir).is_absolute() => PathBuf::from(dir),
            _ => PathBuf::from("/tmp"),
        }
    }

    /// `SOURCE_DATE_EPOCH`: a fixed time for commits, so that runs are reproducible byte for byte.
    pub fn source_date_epoch(&self) -> Option<i64> {
        self.get("SOURCE_DATE_EPOCH")?.trim().parse().ok()
    }

    /// `NO_COLOR` set to anything non-empty turns colour off (<https://no-color.org>).
    pub fn no_color(&self) -> bool {
        self.is_set(NO_COLOR)
    }

    /// The directory of the user's Nova configuration: `$XDG_CONFIG_HOME/nova`, else
    /// `$HOME/.config/nova`.
    pub fn user_config_dir(&self) -> Option<PathBuf> {
        let base = match self.get("XDG_CONFIG_HOME") {
            Some(dir) if Path::new(dir).is_absolute() => PathBuf::from(dir),
            _ => Path::new(self.get("HOME")?).join(".config"),
        };
        Some(base.join("nova"))
    }
}

impl fmt::Debug for Env {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Env")
            .field("vars", &self.vars.keys().collect::<Vec<_>>())
            .field("current_dir", &self.current_dir)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_values() {
        let env = Env::from_vars([("OPENAI_API_KEY", "sk-secret")], None);
        let shown = format!("{env:?}");
        assert!(shown.contains("OPENAI_API_KEY"));
        assert!(!shown.contains("sk-secret"));
    }

    #[test]
    fn user_config_dir_prefers_xdg() {
        let env = Env::from_vars([("HOME", "/home/u"), ("XDG_CONFIG_HOME", "/xdg")], None);
        assert_eq!(env.user_config_dir(), Some(PathBuf::from("/xdg/nova")));
        let env = Env::from_vars([("HOME", "/home/u"), ("XDG_CONFIG_HOME", "relative")], None);
        assert_eq!(
            env.user_config_dir(),
            Some(PathBuf::from("/home/u/.config/nova"))
        );
        assert_eq!(Env::default().user_config_dir(), None);
    }

    #[test]
    fn empty_counts_as_unset() {
        let env = Env::from_vars([("NO_COLOR", "")], None);
        assert!(!env.no_color());
    }
}
