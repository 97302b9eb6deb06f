//! The `review` tool: the rule packs' findings on the Rust files an agent may read, as its
//! candidate has them, so that a model sees what the deterministic reviewers see (and whether its
//! own edits added a finding) before it reports or finishes.
//!
//! The rules are the run's (the built-in pack, the repository's `.nova/rules/`, and a variant's
//! `rules/` in a bench run): what agents consult, never what judges a change.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{CallResult, Toolbox};
use crate::findings::Severity;

/// The most findings one call lists; a count says how many more there are.
pub const REVIEW_FINDINGS: usize = 100;

pub(super) fn catalog() -> Vec<(&'static str, &'static str, Value)> {
    vec![(
        "review",
        "The findings of Nova's rule packs (offline, deterministic) on the Rust files you may read, \
         your edits included: file, line, severity, rule and message.",
        json!({"type": "object", "properties": {
            "glob": {"type": "string", "description": "only files matching this glob, e.g. `src/cache/**`"},
            "severity": {"type": "string", "enum": ["info", "warning", "error"], "description": "the least severe finding shown (default info)"}
        }}),
    )]
}

impl Toolbox<'_> {
    pub(super) fn review(&self, args: &Value) -> CallResult {
        let rules = match self.rules {
            Some(Ok(rules)) => rules,
            Some(Err(problem)) => {
                return CallResult::failed(format!(
                    "the rule packs do not load ({problem}); review the code by reading it"
                ));
            }
            None => {
                return CallResult::failed(String::from("there are no rule packs in this run"));
            }
        };
        let least = match args["severity"].as_str().unwrap_or("info") {
            "info" => Severity::Info,
            "warning" => Severity::Warning,
            "error" => Severity::Error,
            other => {
                return CallResult::failed(format!(
                    "`severity` is `{other}`: give info, warning or error"
                ));
            }
        };
        let mut files = match self.globbed(args) {
            Ok(files) => files,
            Err(failed) => return failed,
        };
        files.retain(|file| file.ends_with(".rs"));
        if files.is_empty() {
            return CallResult::failed(String::from(
                "no Rust file you may read matches; `list_files` shows what there is",
            ));
        }
        let read = |path: &str| {
            crate::edit::RepoPath::new(path)
                .filter(|p| self.read_scope.contains(p))
                .and_then(|p| self.text(&p))
        };
        let mut shown = Vec::new();
        let mut more = 0;
        for (file, text) in files.iter().zip(self.texts(&files)) {
            let Some(text) = text else {
                continue;
            };
            for hit in rules.scan(file, &text, &read) {
                if hit.severity < least {
                    continue;
                }
                if shown.len() < REVIEW_FINDINGS {
                    shown.push(format!(
                        "{file}:{}: {} [{}] {}",
                        hit.line,
                        hit.severity.as_str(),
                        hit.rule,
                        hit.message
                    ));
                } else {
                    more += 1;
                }
            }
        }
        let mut out = format!(
            "{} finding(s) at {} or above in {} file(s)\n",
            shown.len() + more,
            least.as_str(),
            files.len()
        );
        for line in &shown {
            let _ = writeln!(out, "{line}");
        }
        if more > 0 {
            let _ = writeln!(
                out,
                "[{more} more: narrow it with a `glob` or a higher `severity`]"
            );
        }
        CallResult::ok(out)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::super::tests::{Files, call};
    use super::*;
    use crate::agents::AgentSet;
    use crate::rules::RuleSet;

    fn tree() -> Files {
        Files(BTreeMap::from([
            (
                "src/lib.rs",
                String::from(
                    "//! A crate.\n\n/// Doubles.\npub fn double(x: Option<u8>) -> u8 {\n    x.unwrap() * 2\n}\n",
                ),
            ),
            (
                "src/clean.rs",
                String::from("/// Ones.\npub fn one() -> u8 {\n    1\n}\n"),
            ),
            (
                "notes/x.rs",
                String::from("pub fn hidden() { None::<u8>.unwrap(); }\n"),
            ),
        ]))
    }

    #[test]
    fn review_lists_the_rules_findings_on_the_candidate_inside_the_read_scope() {
        let set = AgentSet::builtin();
        let mut agent = set.agent("refactorer").expect("built in").clone();
        agent.tools.push(String::from("review"));
        agent.scope.read = vec![String::from("src/**")];
        let rules: Result<RuleSet, String> = Ok(RuleSet::builtin().0);
        let tree = tree();
        let mut tools = Toolbox::new(&agent, &tree, None).with_rules(&rules);
        assert!(tools.specs().iter().any(|spec| spec.name == "review"));
        let found = tools.call(&call("review", json!({})));
        assert!(!found.is_error, "{}", found.content);
        assert!(
            found
                .content
                .contains("src/lib.rs:5: warning [unwrap-in-lib]"),
            "{}",
            found.content
        );
        // Outside the read scope: never scanned, never named.
        assert!(!found.content.contains("notes/x.rs"), "{}", found.content);
        assert!(!found.content.contains("src/clean.rs"), "{}", found.content);
        // The candidate's edits are what is reviewed.
        let edit = "src/clean.rs\n```rust\n<<<<<<< SEARCH\n    1\n=======\n    Some(1).unwrap()\n>>>>>>> REPLACE\n```\n";
        assert!(
            !tools
                .call(&call("propose_edit", json!({"edits": edit})))
                .is_error
        );
        let again = tools.call(&call("review", json!({"glob": "src/clean.rs"})));
        assert!(
            again
                .content
                .starts_with("1 finding(s) at info or above in 1 file(s)")
                && again
                    .content
                    .contains("src/clean.rs:3: warning [unwrap-in-lib]"),
            "{}",
            again.content
        );
        let errors = tools.call(&call("review", json!({"severity": "error"})));
        assert!(
            errors.content.starts_with("0 finding(s) at error"),
            "{}",
            errors.content
        );
        let bad = tools.call(&call("review", json!({"severity": "fatal"})));
        assert!(bad.is_error && bad.content.contains("give info, warning or error"));
        let none = tools.call(&call("review", json!({"glob": "benches/**"})));
        assert!(none.is_error && none.content.contains("no Rust file"));
    }

    #[test]
    fn review_says_when_there_are_no_rules_or_they_do_not_load() {
        let set = AgentSet::builtin();
        let reviewer = set.agent("correctness-reviewer").expect("built in");
        let tree = tree();
        let mut bare = Toolbox::new(reviewer, &tree, None);
        let none = bare.call(&call("review", json!({})));
        assert!(none.is_error && none.content.contains("no rule packs"));
        let broken: Result<RuleSet, String> = Err(String::from(".nova/rules/x.toml: bad query"));
        let mut tools = Toolbox::new(reviewer, &tree, None).with_rules(&broken);
        let failed = tools.call(&call("review", json!({})));
        assert!(
            failed.is_error && failed.content.contains(".nova/rules/x.toml: bad query"),
            "{}",
            failed.content
        );
        // An agent not given the tool is refused it.
        let chat = set.agent("chat").expect("built in");
        let rules: Result<RuleSet, String> = Ok(RuleSet::builtin().0);
        let mut chat = Toolbox::new(chat, &tree, None).with_rules(&rules);
        assert!(chat.call(&call("review", json!({}))).refused);
    }
}
