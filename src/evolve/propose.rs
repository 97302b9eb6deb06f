//! The agents' own proposer: the `evolver` agent gets the parent's agent files (under
//! `variant/`), its rule files (under `variant/rules/`: the built-in pack with the parent's over
//! it) and the tasks the parent failed (`FAILURES.md`: each request, the agent that ended
//! its run, what went wrong) in a scratch repository of their own, and proposes a change to the
//! files; the change comes back unproved (there is nothing to build), becomes the variant's
//! files, and meets the variant guard like any other. The evolver is always the built-in one: a
//! variant cannot change who proposes the next.

use std::fmt::Write as _;
use std::path::Path;

use super::variant::{Files, Proposal, SETTINGS};
use crate::agents::AgentSet;
use crate::edit::RepoPath;
use crate::git;
use crate::llm::Provider;
use crate::orchestrator::{self, AgentsMd, AskError, AskRequest, OnTip};

/// The proposing agent.
pub const EVOLVER: &str = "evolver";

/// A task the parent did not solve, as the evolver is told it.
#[derive(Debug, Clone, Default)]
pub struct Failure {
    pub task: String,
    pub statement: String,
    /// The agent that ended the run, if one ran.
    pub agent: Option<String>,
    /// What stopped it, or why its change was not kept.
    pub note: Option<String>,
    /// The checks still failing on what it left.
    pub broken: Vec<String>,
}

/// `FAILURES.md`: every failure, its request cut to `LINES` lines.
pub fn failures_md(failures: &[Failure]) -> String {
    const LINES: usize = 16;
    let mut out = String::from("# Tasks the agents did not solve\n");
    for failure in failures {
        let _ = write!(
            out,
            "\n## {}\n\nAgent: {}\n",
            failure.task,
            failure.agent.as_deref().unwrap_or("none (no agent ran)")
        );
        if let Some(note) = &failure.note {
            let _ = writeln!(out, "What happened: {note}");
        }
        if !failure.broken.is_empty() {
            let _ = writeln!(out, "Tests still failing: {}", failure.broken.join(", "));
        }
        out.push_str("\nRequest:\n\n");
        for line in failure.statement.lines().take(LINES) {
            let _ = writeln!(out, "> {line}");
        }
    }
    out
}

/// Why the model proposer could not run.
#[derive(Debug, thiserror::Error)]
pub enum ProposeError {
    #[error(transparent)]
    Git(#[from] git::WorktreeError),
    #[error(transparent)]
    Ask(#[from] AskError),
    #[error("cannot start the async runtime: {0}")]
    Runtime(std::io::Error),
}

/// The evolver's proposal for `parent` (its files over `set`, the agent set they give), told
/// `failures`; `None` when it proposed nothing, or only what the parent already is. `scratch`
/// holds its repository; `template` gives the model and budgets.
pub fn by_model(
    template: &AskRequest,
    provider: &dyn Provider,
    scratch: &Path,
    parent: &Files,
    set: &AgentSet,
    failures: &[Failure],
) -> Result<Option<Proposal>, ProposeError> {
    let files = evolver_files(parent, set, failures);
    let commit = git::scratch::put_files(scratch, &files, "The parent's agent files\n")?;
    let request = AskRequest {
        question: format!(
            "Improve the agents in `variant/` so that they solve more of the {} tasks in \
             `FAILURES.md`, which they failed.",
            failures.len()
        ),
        repo_root: Some(scratch.to_owned()),
        agent: Some(String::from(EVOLVER)),
        validation: None,
        branch: None,
        agents_md: AgentsMd::default(),
        works_on: None,
        resume: None,
        explain_route: false,
        on_tip: Some(OnTip {
            commit,
            seed: None,
            files: scratch.to_owned(),
            file: None,
        }),
        ..template.clone()
    };
    let Some(patch) = proposed(&request, provider)? else {
        return Ok(None);
    };
    let variant = mapped(parent, &patch);
    if &variant == parent {
        return Ok(None);
    }
    let summary = patch.summary.lines().next().unwrap_or_default().trim();
    Ok(Some(Proposal {
        files: variant,
        change: format!(
            "{EVOLVER}: {}",
            if summary.is_empty() {
                "a change to agent files"
            } else {
                summary
            }
        ),
    }))
}

/// The change the built-in agents propose for `request` (which works on a tip: unproved), if any:
/// `None` when they propose nothing, or a budget or the loop guard stops them first.
pub fn proposed(
    request: &AskRequest,
    provider: &dyn Provider,
) -> Result<Option<crate::edit::Patch>, ProposeError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ProposeError::Runtime)?;
    let builtin = AgentSet::builtin();
    let asked = runtime.block_on(orchestrator::ask(request, &builtin, provider, &mut |_| {}));
    let outcome = match asked {
        Ok(outcome) => outcome,
        Err(AskError::Stopped { .. } | AskError::OutOfTime { .. }) => return Ok(None),
        Err(error) => return Err(error.into()),
    };
    Ok(outcome.proposal.filter(|p| !p.changes.is_empty()))
}

/// The evolver's repository: each agent of `set` (but the evolver) as `variant/<name>.md`, each
/// rule (the built-in pack, the parent's over it) as `variant/rules/<id>.toml`, the parent's
/// settings as `variant/settings.toml`, and `FAILURES.md`.
fn evolver_files(
    parent: &Files,
    set: &AgentSet,
    failures: &[Failure],
) -> Vec<(RepoPath, Option<String>)> {
    let mut files = Vec::new();
    for agent in set.agents().filter(|agent| agent.name != EVOLVER) {
        let overlay = format!("agents/{}.md", agent.name);
        let text = parent.get(&overlay).cloned().or_else(|| {
            crate::agents::builtin_agent(&format!("{}.md", agent.name)).map(str::to_owned)
        });
        if let (Some(text), Some(path)) =
            (text, RepoPath::new(&format!("variant/{}.md", agent.name)))
        {
            files.push((path, Some(text)));
        }
    }
    let mut rules: std::collections::BTreeMap<String, String> = crate::rules::builtin_files()
        .map(|(name, text)| (name.to_owned(), text.to_owned()))
        .collect();
    for (path, text) in parent {
        if let Some(name) = path.strip_prefix("rules/") {
            rules.insert(name.to_owned(), text.clone());
        }
    }
    for (name, text) in rules {
        if let Some(path) = RepoPath::new(&format!("variant/rules/{name}")) {
            files.push((path, Some(text)));
        }
    }
    if let Some(path) = RepoPath::new("variant/settings.toml") {
        let settings = parent.get(SETTINGS).cloned().unwrap_or_else(|| {
            String::from(
                "# How the agents are run: `route` (\"offline\" or \"model\"), `map_tokens`, \
                 `max_tokens`.\n",
            )
        });
        files.push((path, Some(settings)));
    }
    if let Some(path) = RepoPath::new("FAILURES.md") {
        files.push((path, Some(failures_md(failures))));
    }
    files
}

/// The variant the evolver's `patch` of the parent's files makes: `variant/<name>.md` back to
/// `agents/<name>.md` and `variant/rules/<id>.toml` to `rules/<id>.toml` (each left out where it
/// is the built-in text), `variant/settings.toml` to `settings.toml`; anything else is not the
/// variant's.
fn mapped(parent: &Files, patch: &crate::edit::Patch) -> Files {
    let mut variant = parent.clone();
    for change in &patch.changes {
        if change.path.as_str() == "variant/settings.toml" {
            match &change.after {
                Some(text) => variant.insert(String::from(SETTINGS), text.clone()),
                None => variant.remove(SETTINGS),
            };
            continue;
        }
        if let Some(name) = change
            .path
            .as_str()
            .strip_prefix("variant/rules/")
            .filter(|name| !name.contains('/'))
        {
            let builtin = crate::rules::builtin_files().find(|(n, _)| *n == name);
            let path = format!("rules/{name}");
            match &change.after {
                Some(text) if builtin.is_none_or(|(_, b)| b != text) => {
                    variant.insert(path, text.clone());
                }
                _ => {
                    variant.remove(&path);
                }
            }
            continue;
        }
        let Some(name) = change
            .path
            .as_str()
            .strip_prefix("variant/")
            .and_then(|file| file.strip_suffix(".md"))
            .filter(|name| *name != EVOLVER && !name.contains('/'))
        else {
            continue;
        };
        let path = format!("agents/{name}.md");
        match &change.after {
            Some(text)
                if Some(text.as_str()) == crate::agents::builtin_agent(&format!("{name}.md")) =>
            {
                variant.remove(&path);
            }
            Some(text) => {
                variant.insert(path, text.clone());
            }
            None => {
                variant.remove(&path);
            }
        }
    }
    variant
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::edit::{FileChange, Patch};

    fn change(path: &str, after: Option<&str>) -> FileChange {
        FileChange {
            path: RepoPath::new(path).expect("a path"),
            before: None,
            after: after.map(str::to_owned),
        }
    }

    #[test]
    fn the_evolver_sees_every_rule_and_its_edits_come_back_as_the_variant_s_rule_files() {
        let mut parent = Files::new();
        parent.insert(String::from("rules/len-zero.toml"), String::from("mine"));
        let files = evolver_files(&parent, &AgentSet::builtin(), &[]);
        let rules: Vec<&str> = files
            .iter()
            .filter_map(|(path, _)| path.as_str().strip_prefix("variant/rules/"))
            .collect();
        assert_eq!(rules.len(), crate::rules::builtin_files().count() + 1);
        assert!(rules.contains(&"unwrap-in-lib.toml") && rules.contains(&"len-zero.toml"));
        let (_, builtin) = crate::rules::builtin_files()
            .find(|(name, _)| *name == "unwrap-in-lib.toml")
            .expect("a built-in rule");
        let sharper = builtin.replace("severity = \"warning\"", "severity = \"error\"");
        assert_ne!(sharper, builtin);
        let patch = Patch {
            summary: String::from("Sharper rules"),
            changes: vec![
                change("variant/rules/unwrap-in-lib.toml", Some(&sharper)),
                change("variant/rules/len-zero.toml", None),
                change(
                    "variant/rules/dbg-macro.toml",
                    Some(
                        crate::rules::builtin_files()
                            .find(|(name, _)| *name == "dbg-macro.toml")
                            .map(|(_, text)| text)
                            .expect("a built-in rule"),
                    ),
                ),
                change("FAILURES.md", Some("not the variant's")),
            ],
        };
        let variant = mapped(&parent, &patch);
        assert_eq!(
            variant.keys().collect::<Vec<_>>(),
            ["rules/unwrap-in-lib.toml"],
            "a rule back at its built-in text, or deleted, is no file of the variant"
        );
        assert_eq!(variant["rules/unwrap-in-lib.toml"], sharper);
    }
}
