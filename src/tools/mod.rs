//! What an agent may call: reading the repository as the run's base commit has it (files,
//! listings, search, the map, symbols), proposing edits onto the agent's candidate, and finishing
//! with its output.
//!
//! Owns: the tools' JSON Schemas, the check of every call against the calling agent's `tools` and
//! `scope` before it runs, the candidate the agent's edits build (checked by the one guard,
//! `edit::guard`), and the budgets tool results are cut to (with a note saying how to see more).
//! Never: writes to the user's tree, runs repository code, or reads outside the agent's read
//! scope. Text in files or tool output never widens a scope: scopes come from the agent's file.

mod checks;
mod output;
mod read;
mod review;

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::agents::AgentDef;
use crate::edit::guard::{self, Scope};
use crate::edit::{FileChange, Patch, RepoPath};
use crate::findings::Finding;
use crate::index::Index;
use crate::llm::{ToolCall, ToolSpec};

/// The most lines `read_file` returns at once.
pub const READ_LINES: usize = 400;
/// The most characters any one tool result has; a longer one is cut with a note.
pub const RESULT_CHARS: usize = 24_000;
/// The most files `list_files` names at once.
pub const LIST_FILES: usize = 300;
/// The most matching lines `search` returns at once.
pub const SEARCH_MATCHES: usize = 100;
/// The largest map `repo_map` draws, in tokens.
pub const MAP_TOKENS: usize = 4096;

/// The repository as the run's base commit has it: what the tools read underneath the candidate.
pub trait Tree: Send + Sync {
    /// A file's text; `None` when there is no such file or it is not UTF-8.
    fn read(&self, path: &str) -> Option<String>;
    /// Every file's path, sorted.
    fn files(&self) -> Vec<String>;
    /// The first leading part of `path` that is a symbolic link, if any.
    fn symlink(&self, path: &str) -> Option<String>;
    /// Many files' texts at once, in order (a search reads every file).
    fn read_many(&self, paths: &[&str]) -> Vec<Option<String>> {
        paths.iter().map(|path| self.read(path)).collect()
    }
}

pub use checks::{Checks, Job, JobFuture, JobResult, SHELL_COMMAND_CHARS};
pub use output::{ChangeRequest, Finish, Handoff, Handoffs, Requests};
pub use review::REVIEW_FINDINGS;

/// What a call gave back to the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallResult {
    pub content: String,
    /// The call failed or was refused; the model reads why.
    pub is_error: bool,
    /// It was refused before it ran: not the agent's tool, or outside its scope.
    pub refused: bool,
}

impl CallResult {
    fn ok(content: String) -> Self {
        CallResult {
            content: cut(content),
            is_error: false,
            refused: false,
        }
    }

    fn failed(content: String) -> Self {
        CallResult {
            content: cut(content),
            is_error: true,
            refused: false,
        }
    }

    fn refused(content: String) -> Self {
        CallResult {
            content,
            is_error: true,
            refused: true,
        }
    }
}

/// The tools of one agent on one run: its scopes, the base it reads, and the candidate its edits
/// have made so far.
pub struct Toolbox<'a> {
    agent: &'a AgentDef,
    tree: &'a dyn Tree,
    index: Option<&'a Index>,
    read_scope: Scope,
    write_scope: Scope,
    /// The candidate: each changed file's text in the base and now.
    changes: BTreeMap<RepoPath, FileChange>,
    finished: Option<Finish>,
    /// A reviewer's findings, in the order reported.
    findings: Vec<Finding>,
    /// Who may be handed the work, and the chain so far.
    handoffs: Handoffs,
    handed_off: Option<Handoff>,
    /// Whom the agent may ask for a change, and what it asked.
    requests: Requests,
    requested: Option<ChangeRequest>,
    /// The rule packs `review` runs, or why they did not load.
    rules: Option<Result<&'a crate::rules::RuleSet, &'a str>>,
    /// The last invalid output's problem, and how many there were.
    invalid: Option<String>,
    invalid_outputs: usize,
}

impl std::fmt::Debug for Toolbox<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Toolbox")
            .field("agent", &self.agent.name)
            .field("changes", &self.changes.keys().collect::<Vec<_>>())
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

/// The tools this module runs, by name, with what they do and their arguments' schema
/// (`finish`'s depends on the agent's output: see [`Toolbox::specs`]).
fn catalog() -> Vec<(&'static str, &'static str, Value)> {
    let mut tools = reading();
    tools.extend(review::catalog());
    tools.extend(output::catalog());
    tools.extend(checks::catalog());
    tools.push(("finish", "", Value::Null));
    tools
}

fn reading() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            "read_file",
            "Read a file, with line numbers. Long files come in parts: give `start_line` for more.",
            json!({"type": "object", "properties": {
                "path": {"type": "string", "description": "relative to the repository root"},
                "start_line": {"type": "integer", "minimum": 1},
                "end_line": {"type": "integer", "minimum": 1}
            }, "required": ["path"]}),
        ),
        (
            "list_files",
            "List the repository's files, optionally under a directory or matching a glob.",
            json!({"type": "object", "properties": {
                "path": {"type": "string", "description": "a directory, relative to the root"},
                "glob": {"type": "string", "description": "like `src/**/*.rs`"}
            }}),
        ),
        (
            "search",
            "Search file contents with a regular expression; gives `path:line: text` per match.",
            json!({"type": "object", "properties": {
                "pattern": {"type": "string"},
                "glob": {"type": "string", "description": "only files matching this glob"}
            }, "required": ["pattern"]}),
        ),
        (
            "repo_map",
            "The repository's most important definitions by file, ranked around a focus.",
            json!({"type": "object", "properties": {
                "focus": {"type": "string", "description": "what to rank around: the task in words, or paths and symbol names"},
                "tokens": {"type": "integer", "minimum": 256, "maximum": MAP_TOKENS}
            }}),
        ),
        (
            "symbols",
            "Where a symbol is defined (path, line, signature) and which files use it; or the \
             outline of one file.",
            json!({"type": "object", "properties": {
                "name": {"type": "string"},
                "file": {"type": "string", "description": "outline this file instead"}
            }}),
        ),
        (
            "propose_edit",
            "Change files of your candidate (never the user's checkout): SEARCH/REPLACE blocks \
             under a path line, a unified diff, a `*** Begin Patch` block, or a whole file in a \
             fence under its path. Applied all or nothing, then guarded; read the result.",
            json!({"type": "object", "properties": {
                "edits": {"type": "string"}
            }, "required": ["edits"]}),
        ),
    ]
}

impl<'a> Toolbox<'a> {
    pub fn new(agent: &'a AgentDef, tree: &'a dyn Tree, index: Option<&'a Index>) -> Self {
        Toolbox {
            agent,
            tree,
            index,
            read_scope: Scope::new(&agent.scope.read),
            write_scope: Scope::new(&agent.scope.write),
            changes: BTreeMap::new(),
            finished: None,
            findings: Vec::new(),
            handoffs: Handoffs::default(),
            handed_off: None,
            requests: Requests::default(),
            requested: None,
            rules: None,
            invalid: None,
            invalid_outputs: 0,
        }
    }

    /// Lets the agent hand work to `handoffs.receivers` (those its file names too).
    #[must_use]
    pub fn with_handoffs(mut self, handoffs: Handoffs) -> Self {
        self.handoffs = handoffs;
        self
    }

    /// Lets the agent ask the domain agents of `requests` for changes to their files.
    #[must_use]
    pub fn with_requests(mut self, requests: Requests) -> Self {
        self.requests = requests;
        self
    }

    /// Lets `review` run `rules` (or say why the rule packs did not load).
    #[must_use]
    pub fn with_rules(mut self, rules: &'a Result<crate::rules::RuleSet, String>) -> Self {
        self.rules = Some(rules.as_ref().map_err(String::as_str));
        self
    }

    /// The tools offered to the model: the agent's own that this module runs, and `finish`.
    pub fn specs(&self) -> Vec<ToolSpec> {
        catalog()
            .into_iter()
            .filter(|(name, _, _)| *name == "finish" || self.has(name))
            .map(|(name, description, parameters)| {
                let (description, parameters) = if name == "finish" {
                    output::finish_schema(self.agent.role.output())
                } else {
                    (description, parameters)
                };
                ToolSpec {
                    name: name.to_owned(),
                    description: description.to_owned(),
                    parameters,
                }
            })
            .collect()
    }

    fn has(&self, tool: &str) -> bool {
        tool == "finish" || self.agent.tools.iter().any(|t| t == tool)
    }

    /// Runs `call` if the agent may make it; what to tell the model either way.
    pub fn call(&mut self, call: &ToolCall) -> CallResult {
        if !self.has(&call.name) || !catalog().iter().any(|(name, _, _)| *name == call.name) {
            return self.not_yours(&call.name);
        }
        let args = &call.arguments;
        match call.name.as_str() {
            "read_file" => self.read_file(args),
            "list_files" => self.list_files(args),
            "search" => self.search(args),
            "repo_map" => self.repo_map(args),
            "symbols" => self.symbols(args),
            "review" => self.review(args),
            "propose_edit" => self.propose_edit(args),
            "report_finding" => self.report_finding(args),
            "handoff" => self.handoff(args),
            "request_change" => self.request_change(args),
            "git_diff" => self.git_diff(args),
            "run_checks" | "shell" => CallResult::failed(format!(
                "`{}` cannot run in this session: there is no sandbox to run it in",
                call.name
            )),
            _ => self.finish(args),
        }
    }

    /// The refusal of a tool the agent was not given.
    fn not_yours(&self, tool: &str) -> CallResult {
        let mine: Vec<String> = self.specs().into_iter().map(|s| s.name).collect();
        CallResult::refused(format!(
            "`{tool}` is not one of your tools; yours are: {}",
            mine.join(", ")
        ))
    }

    /// Starts the candidate from `patch`, an earlier agent's change on the same base (a repair
    /// works on the change it repairs).
    pub fn seed(&mut self, patch: &Patch) {
        for change in &patch.changes {
            self.changes.insert(change.path.clone(), change.clone());
        }
    }

    /// Findings the agent had before (a resumed run's).
    pub fn seed_findings(&mut self, findings: Vec<Finding>) {
        self.findings.extend(findings);
    }

    /// How the agent ended, once it called `finish`.
    pub fn finished(&self) -> Option<&Finish> {
        self.finished.as_ref()
    }

    /// The calling agent's role.
    pub fn role(&self) -> crate::agents::Role {
        self.agent.role
    }

    /// The work the agent handed on, once it called `handoff`.
    pub fn handed_off(&self) -> Option<&Handoff> {
        self.handed_off.as_ref()
    }

    /// The change the agent asked of another part's owner, once it called `request_change`.
    pub fn requested(&self) -> Option<&ChangeRequest> {
        self.requested.as_ref()
    }

    /// The findings the agent reported.
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    /// How many outputs the agent gave that did not match its schema, and the last one's
    /// problem.
    pub fn invalid_outputs(&self) -> (usize, Option<&str>) {
        (self.invalid_outputs, self.invalid.as_deref())
    }

    /// Takes a plain answer (a reply with no tool call) as the agent's output, when its output
    /// can be one: a planner's plan must come through `finish` with its steps.
    pub fn answer(&mut self) -> Result<(), CallResult> {
        // A router's plain answer ends it too: the offline classifier routes in its place.
        if self.agent.role == crate::agents::Role::Planner {
            return Err(self.invalid_output(String::from(
                "a plan is returned with `finish`, giving `text` (the goal) and `steps`",
            )));
        }
        Ok(())
    }

    /// The candidate the agent's edits made, if they changed anything.
    pub fn patch(&self, summary: &str) -> Option<Patch> {
        let changes: Vec<FileChange> = self
            .changes
            .values()
            .filter(|c| c.before != c.after)
            .cloned()
            .collect();
        (!changes.is_empty()).then(|| Patch {
            summary: summary.to_owned(),
            changes,
        })
    }

    /// A file as the candidate has it: the agent's edit, else the base.
    fn text(&self, path: &RepoPath) -> Option<String> {
        match self.changes.get(path) {
            Some(change) => change.after.clone(),
            None => self.tree.read(path.as_str()),
        }
    }

    /// `path` when the agent may read it, else the refusal to send.
    fn readable(&self, path: &str) -> Result<RepoPath, CallResult> {
        let Some(path) = RepoPath::new(path) else {
            return Err(CallResult::refused(format!(
                "`{path}` is not a path inside the repository: give it relative to the root"
            )));
        };
        if !self.read_scope.contains(&path) {
            return Err(CallResult::refused(format!(
                "`{path}` is outside your read scope ({})",
                self.agent.scope.read.join(", ")
            )));
        }
        Ok(path)
    }

    fn propose_edit(&mut self, args: &Value) -> CallResult {
        let Some(text) = args["edits"].as_str() else {
            return CallResult::failed(String::from("`propose_edit` needs `edits`"));
        };
        let edits = match crate::edit::reply::parse(text) {
            Ok(edits) if edits.is_empty() => {
                return CallResult::failed(String::from(
                    "no edits found: give SEARCH/REPLACE blocks under a path line, a unified \
                     diff, a `*** Begin Patch` block, or a whole file in a fence under its path",
                ));
            }
            Ok(edits) => edits,
            Err(error) => return CallResult::failed(format!("the edits cannot be read: {error}")),
        };
        let read = |path: &str| RepoPath::new(path).and_then(|p| self.text(&p));
        let applied = match crate::edit::apply::apply(&edits, &read) {
            Ok(applied) => applied,
            Err(error) => return CallResult::failed(format!("nothing was changed: {error}")),
        };
        // The change from the base, per file: the guard judges what the candidate would become.
        let from_base: Vec<FileChange> = applied
            .into_iter()
            .map(|change| FileChange {
                before: match self.changes.get(&change.path) {
                    Some(earlier) => earlier.before.clone(),
                    None => self.tree.read(change.path.as_str()),
                },
                ..change
            })
            .collect();
        let patch = Patch {
            summary: String::new(),
            changes: from_base,
        };
        let base = |path: &str| self.tree.read(path);
        let symlink = |path: &str| self.tree.symlink(path);
        let policy = guard::Policy {
            scope: Some(&self.write_scope),
            may_silence: self.agent.may_silence,
            may_add_dependencies: self.agent.may_add_dependencies,
            may_change_api: self.agent.may_change_api,
            rewrite: false,
            read: &base,
            symlink: &symlink,
        };
        let rejections = guard::review(&patch, &policy);
        if !rejections.is_empty() {
            let reasons: Vec<String> = rejections.iter().map(|r| format!("- {r}")).collect();
            return CallResult::refused(format!(
                "nothing was changed; the edit was turned away:\n{}",
                reasons.join("\n")
            ));
        }
        let (added, removed) = patch.stats();
        let files: Vec<String> = patch.changes.iter().map(|c| c.path.to_string()).collect();
        for change in patch.changes {
            self.changes.insert(change.path.clone(), change);
        }
        CallResult::ok(format!(
            "applied to your candidate: {} (+{added} -{removed} lines from the base)",
            files.join(", ")
        ))
    }
}

/// Cuts `text` to [`RESULT_CHARS`], on a line, saying what was left out.
pub fn cut(text: String) -> String {
    if text.len() <= RESULT_CHARS {
        return text;
    }
    let mut end = RESULT_CHARS;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let end = text[..end].rfind('\n').map_or(end, |at| at + 1);
    let left = text[end..].lines().count();
    format!(
        "{}[… {left} more lines cut; ask for less: a line range, a narrower glob or pattern]\n",
        &text[..end]
    )
}

#[cfg(test)]
pub(super) mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::agents::AgentSet;

    /// A tree in memory.
    pub(super) struct Files(pub(super) BTreeMap<&'static str, String>);

    impl Tree for Files {
        fn read(&self, path: &str) -> Option<String> {
            self.0.get(path).cloned()
        }

        fn files(&self) -> Vec<String> {
            self.0.keys().map(|k| (*k).to_owned()).collect()
        }

        fn symlink(&self, _: &str) -> Option<String> {
            None
        }
    }

    fn files() -> Files {
        let long: String = (1..=1000).map(|n| format!("// line {n}\n")).collect();
        Files(BTreeMap::from([
            (
                "src/lib.rs",
                String::from("pub fn greet() -> &'static str {\n    \"hello\"\n}\n"),
            ),
            ("src/long.rs", long),
            ("tests/it.rs", String::from("#[test]\nfn t() {}\n")),
            ("notes/secret.txt", String::from("hunter2\n")),
        ]))
    }

    pub(super) fn call(name: &str, arguments: Value) -> ToolCall {
        ToolCall {
            id: String::from("1"),
            name: name.to_owned(),
            arguments,
        }
    }

    #[test]
    fn reads_are_held_to_the_agents_tools_and_read_scope() {
        let set = AgentSet::builtin();
        let refactorer = set.agent("refactorer").expect("built in");
        let tree = files();
        let mut tools = Toolbox::new(refactorer, &tree, None);
        let read = tools.call(&call("read_file", json!({"path": "src/lib.rs"})));
        assert!(!read.is_error, "{}", read.content);
        assert!(
            read.content.contains("    2      \"hello\""),
            "{}",
            read.content
        );
        // Outside `**/*.rs`, `**/*.md`, `**/Cargo.toml`.
        let secret = tools.call(&call("read_file", json!({"path": "notes/secret.txt"})));
        assert!(secret.refused && secret.content.contains("outside your read scope"));
        assert!(!secret.content.contains("hunter2"));
        // Not in the refactorer's file, whatever a file or the model says.
        let shell = tools.call(&call("shell", json!({"command": "cat ~/.ssh/id_rsa"})));
        assert!(
            shell.refused && shell.content.contains("not one of your tools"),
            "{}",
            shell.content
        );
        let listed = tools.call(&call("list_files", json!({})));
        assert!(!listed.content.contains("secret"), "{}", listed.content);
        let found = tools.call(&call("search", json!({"pattern": "hunter|hello"})));
        assert_eq!(found.content, "src/lib.rs:2: \"hello\"\n");
    }

    #[test]
    fn long_results_say_how_to_see_more() {
        let set = AgentSet::builtin();
        let chat = set.agent("chat").expect("built in");
        let tree = files();
        let mut tools = Toolbox::new(chat, &tree, None);
        let first = tools.call(&call("read_file", json!({"path": "src/long.rs"})));
        assert!(
            first
                .content
                .starts_with("src/long.rs (lines 1-400 of 1000)"),
            "{}",
            first.content
        );
        assert!(
            first
                .content
                .contains("call `read_file` with `start_line` 401")
        );
        let last = tools.call(&call(
            "read_file",
            json!({"path": "src/long.rs", "start_line": 990}),
        ));
        assert!(
            last.content.contains(" 1000  // line 1000\n"),
            "{}",
            last.content
        );
        let past = tools.call(&call(
            "read_file",
            json!({"path": "src/long.rs", "start_line": 2000}),
        ));
        assert!(past.is_error);
    }

    #[test]
    fn edits_go_to_the_candidate_through_the_guard() {
        let set = AgentSet::builtin();
        let refactorer = set.agent("refactorer").expect("built in");
        let tree = files();
        let mut tools = Toolbox::new(refactorer, &tree, None);
        let edit = "src/lib.rs\n```rust\n<<<<<<< SEARCH\n    \"hello\"\n=======\n    \"hi\"\n>>>>>>> REPLACE\n```\n";
        let applied = tools.call(&call("propose_edit", json!({"edits": edit})));
        assert!(!applied.is_error, "{}", applied.content);
        // Reads see the candidate; the tree is untouched.
        let read = tools.call(&call("read_file", json!({"path": "src/lib.rs"})));
        assert!(read.content.contains("\"hi\""), "{}", read.content);
        assert!(tree.read("src/lib.rs").is_some_and(|t| t.contains("hello")));
        // A test file judges the change: turned away, and the candidate keeps only the first edit.
        let test = "tests/it.rs\n```rust\n<<<<<<< SEARCH\nfn t() {}\n=======\nfn t() { assert!(true) }\n>>>>>>> REPLACE\n```\n";
        let refused = tools.call(&call("propose_edit", json!({"edits": test})));
        assert!(
            refused.refused && refused.content.contains("`tests/it.rs` is protected"),
            "{}",
            refused.content
        );
        let patch = tools.patch("Say hi").expect("a change");
        assert_eq!(patch.changes.len(), 1);
        assert_eq!(
            patch.changes[0].before.as_deref(),
            tree.read("src/lib.rs").as_deref()
        );
        // Editing the file back leaves nothing to commit.
        let back = edit.replace(
            "\"hello\"\n=======\n    \"hi\"",
            "\"hi\"\n=======\n    \"hello\"",
        );
        assert!(
            !tools
                .call(&call("propose_edit", json!({"edits": back})))
                .is_error
        );
        assert!(tools.patch("Nothing").is_none());
        assert!(tools.call(&call("finish", json!({"text": "done"}))).content == "finished");
        assert_eq!(tools.finished().map(|f| f.text.as_str()), Some("done"));
    }
}
