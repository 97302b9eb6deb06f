//! Hooks: commands the user's configuration attaches to agent events (`[[hooks]]`).
//!
//! The event goes to the command as one JSON object on its stdin. Exit 0 goes on; exit 2 blocks
//! the action, and the command's stderr is the reason (the model sees it when the action was a
//! tool call); anything else (another exit code, a signal, its time limit, a command that cannot
//! start) is a hook error: reported as an event, never blocking. A hook can only stop an action:
//! it never makes a refused change accepted, so it cannot loosen what judges a change. A
//! repository cannot add hooks (the configuration's trust rule).
//!
//! Owns: choosing the hooks for an event, running them (through `validate`), their verdict.
//! Never: runs a hook from a repository's file, or lets one approve what a check refused.

use std::ffi::OsString;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::config::{Hook, HookEvent};
use crate::validate::{Ended, run_user_command};

/// The exit code with which a hook blocks the action.
pub const BLOCK: i32 = 2;

/// The most characters of a blocking hook's stderr that are kept as its reason.
const REASON_CHARS: usize = 2_000;

/// The hooks of a run: cheap to clone, shared by its agents.
#[derive(Clone, Default)]
pub struct Hooks {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    hooks: Vec<Hook>,
    /// Where hooks run: the repository's root.
    cwd: PathBuf,
    /// The user's environment: a hook is their own command.
    env: Vec<(OsString, OsString)>,
}

impl fmt::Debug for Hooks {
    // The environment may hold secrets: only the commands are shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("hooks", &self.inner.hooks)
            .field("cwd", &self.inner.cwd)
            .finish_non_exhaustive()
    }
}

/// One hook's run, as the events report it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HookRun {
    pub on: &'static str,
    pub command: String,
    /// `allowed`, `blocked`, `error` or `timed_out`.
    pub outcome: &'static str,
    /// Why it blocked (its stderr), or what went wrong.
    pub reason: Option<String>,
    pub seconds: f64,
}

/// A proved candidate, as the `candidate_validated` and `commit` hooks are told of it.
#[derive(Debug, Clone)]
pub struct Proved {
    pub agent: String,
    pub summary: String,
    pub files: Vec<String>,
    pub accepted: bool,
    /// The validation's one-line summary.
    pub validation: String,
    pub reasons: Vec<String>,
}

/// What the hooks of one event said: the first block's reason, and every hook's run.
#[derive(Debug, Clone, Default)]
pub struct Fired {
    pub blocked: Option<String>,
    pub runs: Vec<HookRun>,
}

impl Hooks {
    /// The user's `hooks`, run in `cwd` with `env`.
    pub fn new(hooks: Vec<Hook>, cwd: PathBuf, env: Vec<(OsString, OsString)>) -> Hooks {
        Hooks {
            inner: Arc::new(Inner { hooks, cwd, env }),
        }
    }

    /// Whether any hook runs on `event` (for `tool`, on a tool event).
    pub fn wants(&self, event: HookEvent, tool: Option<&str>) -> bool {
        self.inner
            .hooks
            .iter()
            .any(|hook| hook.event == event && matches(hook.matcher.as_deref(), tool))
    }

    /// Whether any hook judges proved candidates (`candidate_validated` or `commit`).
    pub fn judges(&self) -> bool {
        self.wants(HookEvent::CandidateValidated, None) || self.wants(HookEvent::Commit, None)
    }

    /// Runs the hooks of `event` in order with `payload` (the event's fields; `event` is added).
    /// Blocking: call it off the async threads. After a hook blocks, the rest do not run.
    pub fn fire(&self, event: HookEvent, tool: Option<&str>, payload: &Value) -> Fired {
        let mut fired = Fired::default();
        let mut input = payload.clone();
        if let Value::Object(fields) = &mut input {
            fields.insert(String::from("event"), Value::from(event.as_str()));
        }
        let input = input.to_string().into_bytes();
        for hook in &self.inner.hooks {
            if hook.event != event || !matches(hook.matcher.as_deref(), tool) {
                continue;
            }
            let run = self.run(hook, &input);
            let blocked =
                (run.outcome == "blocked").then(|| run.reason.clone().unwrap_or_default());
            fired.runs.push(run);
            if let Some(reason) = blocked {
                fired.blocked = Some(reason);
                break;
            }
        }
        fired
    }

    /// `candidate_validated` hears every verdict, and `commit` the change about to be committed:
    /// either refuses an accepted candidate with exit 2 (the reason, first). A hook never accepts
    /// what the checks refused. Blocking.
    pub fn veto(&self, proved: &Proved) -> (Option<String>, Vec<HookRun>) {
        let mut runs = Vec::new();
        if !self.judges() {
            return (None, runs);
        }
        let validated = serde_json::json!({
            "agent": proved.agent,
            "accepted": proved.accepted,
            "validation": proved.validation,
            "reasons": proved.reasons,
            "files": proved.files,
        });
        let mut steps = vec![(HookEvent::CandidateValidated, validated)];
        if proved.accepted {
            let commit = serde_json::json!({
                "agent": proved.agent,
                "summary": proved.summary,
                "files": proved.files,
                "validation": proved.validation,
            });
            steps.push((HookEvent::Commit, commit));
        }
        for (event, payload) in steps {
            let fired = self.fire(event, None, &payload);
            runs.extend(fired.runs);
            if let Some(why) = fired.blocked.filter(|_| proved.accepted) {
                let why = format!("a `{}` hook refused it: {why}", event.as_str());
                return (Some(why), runs);
            }
        }
        (None, runs)
    }

    fn run(&self, hook: &Hook, input: &[u8]) -> HookRun {
        let command = hook.command.join(" ");
        let ran = run_user_command(
            &hook.command,
            &self.inner.cwd,
            &self.inner.env,
            input,
            Duration::from_secs(hook.timeout_secs.max(1)),
        );
        let (outcome, reason, seconds) = match ran {
            Err(why) => ("error", Some(format!("it could not start: {why}")), 0.0),
            Ok(ran) => {
                let said = || {
                    let text: String = ran.stderr.trim().chars().take(REASON_CHARS).collect();
                    (!text.is_empty()).then_some(text)
                };
                match ran.ended {
                    Ended::Exited(0) => ("allowed", None, ran.seconds),
                    Ended::Exited(BLOCK) => (
                        "blocked",
                        Some(said().unwrap_or_else(|| String::from("a hook blocked it"))),
                        ran.seconds,
                    ),
                    Ended::Exited(code) => (
                        "error",
                        Some(format!(
                            "it exited with {code}{}",
                            said().map(|s| format!(": {s}")).unwrap_or_default()
                        )),
                        ran.seconds,
                    ),
                    Ended::Signaled(signal) => (
                        "error",
                        Some(format!("it was killed by signal {signal}")),
                        ran.seconds,
                    ),
                    Ended::TimedOut => (
                        "timed_out",
                        Some(format!("it ran past its {} s", hook.timeout_secs)),
                        ran.seconds,
                    ),
                }
            }
        };
        HookRun {
            on: hook.event.as_str(),
            command,
            outcome,
            reason,
            seconds: (seconds * 1000.0).round() / 1000.0,
        }
    }
}

/// Whether a hook's `matcher` (tool names, `|`-separated, `*` as a wildcard) takes `tool`; no
/// matcher, or an event with no tool, takes everything.
fn matches(matcher: Option<&str>, tool: Option<&str>) -> bool {
    let (Some(matcher), Some(tool)) = (matcher, tool) else {
        return true;
    };
    matcher
        .split('|')
        .map(str::trim)
        .any(|pattern| wildcard(pattern, tool))
}

fn wildcard(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            let Some(tail) = text.strip_prefix(head) else {
                return false;
            };
            (0..=tail.len())
                .filter(|&i| tail.is_char_boundary(i))
                .any(|i| wildcard(rest, &tail[i..]))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matchers_take_tool_names() {
        assert!(matches(None, Some("shell")));
        assert!(matches(Some("shell|propose_edit"), Some("propose_edit")));
        assert!(matches(Some("read_*"), Some("read_file")));
        assert!(!matches(Some("read_*"), Some("search")));
        assert!(matches(Some("shell"), None));
    }
}
