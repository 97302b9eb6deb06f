//! The resolved configuration as flat `key = value (source)` entries, with secrets redacted:
//! what `nova config show` prints.

use serde::Serialize;

use super::{Config, Env, Source, Sourced};

/// One configuration value, shown.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    pub key: String,
    /// The value as TOML would write it, or `(not set)`.
    pub value: String,
    pub source: Source,
}

fn entry<T>(key: &str, sourced: &Sourced<T>, show: impl Fn(&T) -> String) -> Entry {
    Entry {
        key: key.to_owned(),
        value: show(&sourced.value),
        source: sourced.source.clone(),
    }
}

fn quoted(value: &Option<String>) -> String {
    match value {
        Some(value) => format!("{value:?}"),
        None => String::from("(not set)"),
    }
}

fn number<T: ToString>(value: &Option<T>) -> String {
    value
        .as_ref()
        .map_or_else(|| String::from("(not set)"), ToString::to_string)
}

impl Config {
    /// Every value, in a fixed order. The API key is never shown: only whether its variable is set.
    pub fn entries(&self, env: &Env) -> Vec<Entry> {
        let p = &self.provider;
        let mut entries = vec![
            entry("provider.name", &p.kind, |kind| {
                format!("{:?}", kind.as_str())
            }),
            entry("provider.model", &p.model, quoted),
            entry("provider.base_url", &p.base_url, quoted),
            entry("provider.api_key_env", &p.api_key_env, quoted),
        ];
        if let Some(name) = &p.api_key_env.value {
            let value = if env.is_set(name) {
                "(set, redacted)"
            } else {
                "(not set)"
            };
            entries.push(Entry {
                key: String::from("provider.api_key"),
                value: value.to_owned(),
                source: Source::Env(name.clone()),
            });
        }
        entries.extend([
            entry(
                "provider.idle_timeout_secs",
                &p.idle_timeout_secs,
                u64::to_string,
            ),
            entry(
                "provider.connect_timeout_secs",
                &p.connect_timeout_secs,
                u64::to_string,
            ),
            entry("provider.max_retries", &p.max_retries, u32::to_string),
            entry(
                "provider.retry_deadline_secs",
                &p.retry_deadline_secs,
                u64::to_string,
            ),
        ]);
        for (name, info) in &self.models {
            let key = |field: &str| format!("models.{name:?}.{field}");
            entries.extend([
                entry(&key("context_window"), &info.context_window, number),
                entry(&key("input_usd_per_mtok"), &info.input_usd_per_mtok, number),
                entry(
                    &key("output_usd_per_mtok"),
                    &info.output_usd_per_mtok,
                    number,
                ),
                entry(
                    &key("cached_input_usd_per_mtok"),
                    &info.cached_input_usd_per_mtok,
                    number,
                ),
                entry(&key("tool_calls"), &info.tool_calls, |how| {
                    String::from(match how {
                        super::ToolCalls::Native => "native",
                        super::ToolCalls::Text => "text",
                    })
                }),
                entry(&key("reasoning"), &info.reasoning, |reasoning| {
                    reasoning.map_or_else(|| String::from("(by name)"), |r| r.to_string())
                }),
            ]);
        }
        entries.push(entry("agents.disabled", &self.disabled_agents, |names| {
            format!("{names:?}")
        }));
        entries.push(entry("agents.route", &self.route, |by| {
            String::from(match by {
                super::RouteBy::Offline => "offline",
                super::RouteBy::Model => "model",
            })
        }));
        let b = &self.budget;
        entries.extend([
            entry("budget.max_changes", &b.max_changes, number),
            entry("budget.seconds", &b.seconds, number),
            entry("budget.tokens", &b.tokens, number),
            entry("budget.cost_usd", &b.cost_usd, number),
        ]);
        let v = &self.validate;
        entries.extend([
            entry("validate.skip", &v.skip, |names| format!("{names:?}")),
            entry("validate.flaky_reruns", &v.flaky_reruns, u32::to_string),
            entry("validate.require_green", &v.require_green, bool::to_string),
            entry("validate.allow_network", &v.allow_network, bool::to_string),
        ]);
        entries.extend(self.hook_entries());
        entries
    }

    /// Each hook, as its event, command, matcher and time limit.
    fn hook_entries(&self) -> Vec<Entry> {
        let mut entries = Vec::new();
        for (n, hook) in self.hooks.iter().enumerate() {
            let matcher = hook
                .matcher
                .as_deref()
                .map(|m| format!(", matcher {m:?}"))
                .unwrap_or_default();
            entries.push(Entry {
                key: format!("hooks[{n}]"),
                value: format!(
                    "{} {:?}{matcher}, {} s",
                    hook.event.as_str(),
                    hook.command,
                    hook.timeout_secs
                ),
                source: hook.source.clone(),
            });
        }
        entries
    }
}
