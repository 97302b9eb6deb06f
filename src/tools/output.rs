//! The tools that end or hand on an agent's work: `finish` with its typed output (checked against
//! what the agent's role returns), `report_finding` (a reviewer's typed findings, located in the
//! files it may read), `handoff` (a typed message to an agent its file names, refused when the
//! receiver does not accept it or the chain is too long or would loop), and `git_diff` (the
//! candidate so far).

use serde_json::{Value, json};

use super::{CallResult, Toolbox};
use crate::agents::{Flow, Output, Role};
use crate::edit::RepoPath;
use crate::edit::guard::Scope;
use crate::findings::{Finding, Severity, Span, fingerprint};

/// How an agent ended its work, through the `finish` tool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finish {
    /// The answer (a chat agent's output), what the candidate does (a patch's summary), a
    /// review's summary, a commit message, or a plan's goal.
    pub text: String,
    /// A plan's steps, in order (planners and routers); empty for other outputs.
    pub steps: Vec<String>,
}

/// Work an agent passed on: to whom, what kind of message, and its words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handoff {
    pub to: String,
    /// What the message carries: the sender's findings, its candidate, a plan, or the task.
    pub flow: Flow,
    pub message: String,
}

/// A part of a change asked of the domain agent that owns the files it needs (`request_change`):
/// what to change, why, and the interface both sides rely on.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChangeRequest {
    /// The owner asked.
    pub to: String,
    /// The files to change, outside the asking agent's write scope.
    pub paths: Vec<String>,
    pub change: String,
    pub why: String,
    /// The names and signatures both sides will rely on (may be empty).
    pub interface: String,
}

/// Who an agent may ask for a change in this session: each domain agent's name with its write
/// scope, the agents waiting for a part now (who may not be asked again), and how many more
/// requests may nest.
#[derive(Debug, Clone, Default)]
pub struct Requests {
    pub owners: Vec<(String, Scope)>,
    pub waiting: Vec<String>,
    pub depth_left: usize,
}

/// Who an agent may hand work to in this session: each receiver's name and what it accepts,
/// the agents the work has already passed through, and how many more hops are allowed.
#[derive(Debug, Clone, Default)]
pub struct Handoffs {
    pub receivers: Vec<(String, Role)>,
    /// Receivers a router may hand a request to though its file does not name them: the domain
    /// agents, which come and go with the repository's parts.
    pub open: Vec<String>,
    pub chain: Vec<String>,
    pub hops_left: usize,
}

/// The `finish` tool's arguments for an agent that returns `output`.
pub(super) fn finish_schema(output: Output) -> (&'static str, Value) {
    match output {
        Output::Plan => (
            "End your work with a plan: its goal in one line, and the steps in order, each small \
             enough to check on its own.",
            json!({"type": "object", "properties": {
                "text": {"type": "string", "description": "the goal"},
                "steps": {"type": "array", "items": {"type": "string"}, "minItems": 1}
            }, "required": ["text", "steps"]}),
        ),
        Output::Message => (
            "End your work with the commit message: a subject line, a blank line, the body.",
            json!({"type": "object", "properties": {
                "text": {"type": "string"}
            }, "required": ["text"]}),
        ),
        Output::Findings => (
            "End your review: one line summing up what you reported with `report_finding`.",
            json!({"type": "object", "properties": {
                "text": {"type": "string"}
            }, "required": ["text"]}),
        ),
        Output::Answer | Output::Patch => (
            "End your work: your answer, or one line saying what your change does.",
            json!({"type": "object", "properties": {
                "text": {"type": "string"}
            }, "required": ["text"]}),
        ),
    }
}

/// The schemas of `report_finding`, `handoff` and `git_diff`.
pub(super) fn catalog() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            "report_finding",
            "Report one problem you found and read yourself: where it is, how much it matters, \
             and what is wrong, in a sentence or two.",
            json!({"type": "object", "properties": {
                "path": {"type": "string"},
                "line": {"type": "integer", "minimum": 1},
                "end_line": {"type": "integer", "minimum": 1},
                "severity": {"type": "string", "enum": ["error", "warning", "info"]},
                "message": {"type": "string"},
                "rule": {"type": "string", "description": "a short kebab-case name for the kind of problem"}
            }, "required": ["path", "line", "severity", "message"]}),
        ),
        (
            "handoff",
            "Pass the work to another agent: your findings, your candidate or your plan go with \
             it. This ends your turn; say in `message` what the receiver should do.",
            json!({"type": "object", "properties": {
                "to": {"type": "string"},
                "message": {"type": "string"}
            }, "required": ["to", "message"]}),
        ),
        (
            "request_change",
            "Ask the agent that owns files outside your write scope to change them: say what to \
             change, why, and the interface (names, signatures) both sides will rely on. This \
             ends your turn; you go on when its change is in your candidate.",
            json!({"type": "object", "properties": {
                "paths": {"type": "array", "items": {"type": "string"}, "minItems": 1,
                          "description": "the files to change, all of one owner"},
                "change": {"type": "string", "description": "what to change"},
                "why": {"type": "string", "description": "why your change needs it"},
                "interface": {"type": "string", "description": "the names and signatures both sides rely on"}
            }, "required": ["paths", "change", "why"]}),
        ),
        (
            "git_diff",
            "The change under review: your candidate's diff from the last commit, whole or for \
             one file.",
            json!({"type": "object", "properties": {
                "path": {"type": "string"}
            }}),
        ),
    ]
}

impl Toolbox<'_> {
    /// `finish`, checked against what the agent returns: an invalid output is told to the model
    /// (its corrective turn) and counted.
    pub(super) fn finish(&mut self, args: &Value) -> CallResult {
        let text = args["text"].as_str().unwrap_or("").trim().to_owned();
        let steps: Vec<String> = args["steps"]
            .as_array()
            .map(|steps| {
                steps
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let output = self.agent.role.output();
        let problem = if text.is_empty() {
            Some(match output {
                Output::Answer | Output::Patch => {
                    "`finish` needs `text`: your answer, or what your change does"
                }
                Output::Findings => "`finish` needs `text`: one line summing up your review",
                Output::Message => "`finish` needs `text`: the commit message",
                Output::Plan => "`finish` needs `text`: the plan's goal",
            })
        } else if output == Output::Plan && steps.is_empty() {
            Some("`finish` needs `steps`: a plan is a list of one or more steps, as strings")
        } else {
            None
        };
        if let Some(problem) = problem {
            return self.invalid_output(problem.to_owned());
        }
        self.finished = Some(Finish { text, steps });
        CallResult::ok(String::from("finished"))
    }

    /// An output that does not match its schema: the model is told what was wrong, once.
    pub(super) fn invalid_output(&mut self, problem: String) -> CallResult {
        self.invalid = Some(problem.clone());
        self.invalid_outputs += 1;
        CallResult::failed(format!("{problem}. Call it again with a valid output."))
    }

    pub(super) fn report_finding(&mut self, args: &Value) -> CallResult {
        let path = match self.readable(args["path"].as_str().unwrap_or("")) {
            Ok(path) => path,
            Err(refused) => return refused,
        };
        let Some(text) = self.text(&path) else {
            return CallResult::failed(format!(
                "there is no text file `{path}`: report findings in files you have read"
            ));
        };
        let lines: Vec<&str> = text.lines().collect();
        let line = args["line"].as_u64().and_then(|l| usize::try_from(l).ok());
        let end = args["end_line"]
            .as_u64()
            .and_then(|l| usize::try_from(l).ok());
        let (Some(start), end) = (line, end) else {
            return CallResult::failed(String::from("`report_finding` needs `line`, from 1"));
        };
        let end = end.unwrap_or(start);
        if start == 0 || end < start || end > lines.len() {
            return CallResult::failed(format!(
                "`{path}` has {} lines: lines {start}-{end} are not in it",
                lines.len()
            ));
        }
        let severity = match args["severity"].as_str() {
            Some("error") => Severity::Error,
            Some("warning") => Severity::Warning,
            Some("info") => Severity::Info,
            _ => {
                return CallResult::failed(String::from(
                    "`severity` is one of `error`, `warning`, `info`",
                ));
            }
        };
        let message = args["message"].as_str().unwrap_or("").trim().to_owned();
        if message.is_empty() {
            return CallResult::failed(String::from("`message` says what is wrong"));
        }
        let finding = self.located(&path, &lines, (start, end), severity, message, args);
        let location = finding.location();
        if self
            .findings
            .iter()
            .any(|f| f.fingerprint == finding.fingerprint)
        {
            return CallResult::failed(format!("{location} is already reported"));
        }
        self.findings.push(finding);
        CallResult::ok(format!(
            "reported at {location} ({} so far)",
            self.findings.len()
        ))
    }

    /// A finding of this agent's at `lines` of `path`, with its symbol and fingerprint.
    fn located(
        &self,
        path: &RepoPath,
        lines: &[&str],
        (start, end): (usize, usize),
        severity: Severity,
        message: String,
        args: &Value,
    ) -> Finding {
        let kebab = |name: &str| {
            name.trim()
                .to_lowercase()
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join("-")
        };
        let rule = match args["rule"].as_str().map(kebab).filter(|r| !r.is_empty()) {
            Some(rule) => format!("{}::{rule}", self.agent.name),
            None => self.agent.name.clone(),
        };
        let byte_start: usize = lines[..start - 1].iter().map(|l| l.len() + 1).sum();
        let byte_end: usize = byte_start
            + lines[start - 1..end]
                .iter()
                .map(|l| l.len() + 1)
                .sum::<usize>();
        let symbol = self.index.and_then(|index| {
            let def = index.enclosing(
                path.as_str(),
                u32::try_from(start).ok()?,
                u32::try_from(end).ok()?,
            )?;
            Some(match &def.scope {
                Some(scope) => format!("{scope}::{}", def.name),
                None => def.name.clone(),
            })
        });
        let text_at = lines[start - 1..end].join("\n");
        Finding {
            fingerprint: fingerprint(&rule, path, symbol.as_deref(), &text_at),
            rule,
            group: None,
            agent: self.agent.name.clone(),
            path: path.clone(),
            span: Span {
                line_start: start,
                column_start: 1,
                line_end: end,
                column_end: lines[end - 1].len() + 1,
                byte_start,
                byte_end,
            },
            symbol,
            severity,
            message,
            fix: None,
        }
    }

    pub(super) fn handoff(&mut self, args: &Value) -> CallResult {
        let to = args["to"].as_str().unwrap_or("").trim().to_owned();
        let message = args["message"].as_str().unwrap_or("").trim().to_owned();
        let open = self.agent.role == Role::Router && self.handoffs.open.contains(&to);
        if !self.agent.handoff.contains(&to) && !open {
            return CallResult::refused(format!(
                "you may hand work only to: {}",
                if self.agent.handoff.is_empty() {
                    String::from("nobody")
                } else {
                    self.agent.handoff.join(", ")
                }
            ));
        }
        let Some((_, role)) = self.handoffs.receivers.iter().find(|(name, _)| *name == to) else {
            return CallResult::refused(format!(
                "`{to}` cannot take work in this session (it is disabled, or not an agent of \
                 this pipeline)"
            ));
        };
        if self.handoffs.chain.contains(&to) || to == self.agent.name {
            return CallResult::refused(format!(
                "the work has already been with `{to}` (chain: {}): a handoff may not go back",
                self.handoffs.chain.join(" -> ")
            ));
        }
        if self.handoffs.hops_left == 0 {
            return CallResult::refused(format!(
                "the work has passed through {} agents, the most one request may: finish it \
                 yourself",
                self.handoffs.chain.len()
            ));
        }
        if message.is_empty() {
            return CallResult::failed(String::from(
                "`handoff` needs `message`: what the receiver should do",
            ));
        }
        let flow = self.carried();
        if !role.accepts().contains(&flow) {
            let accepted: Vec<&str> = role.accepts().iter().map(|f| f.as_str()).collect();
            return CallResult::refused(format!(
                "`{to}` ({role}) accepts {}, and this handoff would carry {}",
                accepted.join(" or "),
                flow.as_str()
            ));
        }
        self.handed_off = Some(Handoff {
            to: to.clone(),
            flow,
            message,
        });
        CallResult::ok(format!("handed to `{to}` with your {}", flow.as_str()))
    }

    pub(super) fn request_change(&mut self, args: &Value) -> CallResult {
        let text = |key: &str| args[key].as_str().unwrap_or("").trim().to_owned();
        let (change, why, interface) = (text("change"), text("why"), text("interface"));
        let paths: Vec<String> = args["paths"]
            .as_array()
            .map(|p| {
                p.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        if paths.is_empty() || change.is_empty() || why.is_empty() {
            return CallResult::failed(String::from(
                "`request_change` needs `paths` (the files to change), `change` (what) and `why`",
            ));
        }
        let mut owner: Option<&str> = None;
        for path in &paths {
            let Some(repo_path) = RepoPath::new(path) else {
                return CallResult::refused(format!("`{path}` is not a path in the repository"));
            };
            if self.write_scope.contains(&repo_path) {
                return CallResult::refused(format!(
                    "`{path}` is yours to write: change it with `propose_edit`"
                ));
            }
            let owners: Vec<&str> = self
                .requests
                .owners
                .iter()
                .filter(|(_, scope)| scope.contains(&repo_path))
                .map(|(name, _)| name.as_str())
                .collect();
            let [one] = owners.as_slice() else {
                return CallResult::refused(format!(
                    "`{path}` has no one owner among the domain agents of this session: leave \
                     it, and say in your answer what it needs"
                ));
            };
            match owner {
                Some(other) if other != *one => {
                    return CallResult::refused(format!(
                        "`{path}` is `{one}`'s and an earlier path `{other}`'s: ask one owner at \
                         a time"
                    ));
                }
                _ => owner = Some(one),
            }
        }
        let to = owner.unwrap_or_default().to_owned();
        if self.requests.waiting.contains(&to) || to == self.agent.name {
            return CallResult::refused(format!(
                "`{to}` is waiting for your part (waiting: {}): finish yours, and say in your \
                 answer what else it needs",
                self.requests.waiting.join(", ")
            ));
        }
        if self.requests.depth_left == 0 {
            return CallResult::refused(String::from(
                "requests are nested as deep as one change may go: finish with what you have",
            ));
        }
        self.requested = Some(ChangeRequest {
            to: to.clone(),
            paths,
            change,
            why,
            interface,
        });
        CallResult::ok(format!(
            "asked `{to}`; you go on when its change is in your candidate"
        ))
    }

    /// What a handoff from this agent carries now: its candidate, its findings, its plan, or the
    /// task itself.
    fn carried(&self) -> Flow {
        if self.agent.role == Role::Router {
            // A router passes the request itself on, restated.
            Flow::Task
        } else if self.patch("").is_some() {
            Flow::Patches
        } else if !self.findings.is_empty() {
            Flow::Findings
        } else if self.agent.role.output() == Output::Plan {
            Flow::Plan
        } else {
            Flow::Task
        }
    }

    pub(super) fn git_diff(&self, args: &Value) -> CallResult {
        let Some(patch) = self.patch("") else {
            return CallResult::ok(String::from(
                "no change yet: the candidate is the last commit",
            ));
        };
        let only = args["path"].as_str().filter(|p| !p.is_empty());
        let mut patch = patch;
        if let Some(path) = only {
            let path = match self.readable(path) {
                Ok(path) => path,
                Err(refused) => return refused,
            };
            patch.changes.retain(|change| change.path == path);
            if patch.changes.is_empty() {
                return CallResult::ok(format!("`{path}` is unchanged"));
            }
        }
        patch
            .changes
            .retain(|change| self.read_scope.contains(&change.path));
        CallResult::ok(patch.diff())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;

    use super::*;
    use crate::agents::AgentSet;
    use crate::tools::tests::{Files, call};

    fn tree() -> Files {
        Files(BTreeMap::from([(
            "src/lib.rs",
            String::from("pub fn a() {}\npub fn b() {\n    panic!()\n}\n"),
        )]))
    }

    #[test]
    fn findings_are_located_in_readable_files_and_reported_once() {
        let set = AgentSet::builtin();
        let reviewer = set.agent("error-handling-reviewer").expect("built in");
        let tree = tree();
        let mut tools = Toolbox::new(reviewer, &tree, None);
        let report = |line: u64| {
            call(
                "report_finding",
                json!({"path": "src/lib.rs", "line": line, "severity": "error",
                       "message": "panics", "rule": "Panic in lib"}),
            )
        };
        let ok = tools.call(&report(3));
        assert!(!ok.is_error, "{}", ok.content);
        let finding = &tools.findings()[0];
        assert_eq!(finding.rule, "error-handling-reviewer::panic-in-lib");
        assert_eq!((finding.span.line_start, finding.span.byte_start), (3, 27));
        assert!(tools.call(&report(3)).content.contains("already reported"));
        assert!(tools.call(&report(9)).content.contains("has 4 lines"));
        let outside = tools.call(&call(
            "report_finding",
            json!({"path": "README.txt", "line": 1, "severity": "info", "message": "x"}),
        ));
        assert!(outside.refused, "{}", outside.content);
        let bad = tools.call(&call(
            "report_finding",
            json!({"path": "src/lib.rs", "line": 1, "severity": "fatal", "message": "x"}),
        ));
        assert!(
            bad.content.contains("`severity` is one of"),
            "{}",
            bad.content
        );
        assert_eq!(tools.findings().len(), 1);
    }

    #[test]
    fn a_handoff_carries_what_the_receiver_accepts_along_a_bounded_chain() {
        let set = AgentSet::builtin();
        let reviewer = set.agent("error-handling-reviewer").expect("built in");
        let tree = tree();
        let handoffs = |chain: &[&str], hops_left| Handoffs {
            receivers: vec![
                (String::from("refactorer"), Role::Refactorer),
                (String::from("fixer"), Role::Fixer),
            ],
            open: Vec::new(),
            chain: chain.iter().map(|s| (*s).to_owned()).collect(),
            hops_left,
        };
        let go = call("handoff", json!({"to": "refactorer", "message": "fix it"}));
        // Not a receiver in this session.
        let mut alone = Toolbox::new(reviewer, &tree, None);
        assert!(alone.call(&go).content.contains("cannot take work"));
        // Back to an agent the work has been with.
        let mut looped = Toolbox::new(reviewer, &tree, None)
            .with_handoffs(handoffs(&["refactorer", "error-handling-reviewer"], 2));
        assert!(looped.call(&go).content.contains("may not go back"));
        // Too long a chain.
        let mut long = Toolbox::new(reviewer, &tree, None).with_handoffs(handoffs(&["x"], 0));
        assert!(long.call(&go).content.contains("the most one request may"));
        let mut tools = Toolbox::new(reviewer, &tree, None).with_handoffs(handoffs(&["x"], 2));
        let done = tools.call(&go);
        assert!(!done.is_error, "{}", done.content);
        assert_eq!(
            tools.handed_off().map(|h| (h.to.as_str(), h.flow)),
            Some(("refactorer", Flow::Task))
        );
        // A planner carries its plan; a candidate (a patch) goes to a fixer, never to chat.
        let planner_def = set.agent("planner").expect("built in");
        let mut planner = Toolbox::new(planner_def, &tree, None).with_handoffs(handoffs(&["x"], 2));
        let plan = planner.call(&go);
        assert!(!plan.is_error, "{}", plan.content);
        assert_eq!(planner.handed_off().map(|h| h.flow), Some(Flow::Plan));
        assert!(!Role::Chat.accepts().contains(&Flow::Patches));
        assert!(Role::Fixer.accepts().contains(&Flow::Patches));
    }

    #[test]
    fn a_change_is_asked_of_the_one_owner_of_its_files_and_never_of_one_who_waits() {
        let text = "+++\nname = \"part-a\"\nrole = \"refactorer\"\npart = \"src/a\"\n\
                    description = \"Owns src/a\"\nscope = { read = [\"**\"], write = [\"src/a/**\"] }\n\
                    tools = [\"propose_edit\", \"request_change\"]\n\
                    budget = { turns = 5, tokens = 1000, seconds = 60 }\noutput = \"patch\"\n+++\nOwn it.\n";
        let (agent, problems) = crate::agents::parse_agent(
            std::path::Path::new("part-a.md"),
            text,
            crate::agents::Origin::File("part-a.md".into()),
        );
        assert!(problems.is_empty(), "{problems:?}");
        let agent = agent.expect("an agent");
        let tree = tree();
        let scope = |glob: &str| Scope::new(&[glob.to_owned()]);
        let requests = |waiting: &[&str], depth_left| Requests {
            owners: vec![
                (String::from("part-a"), scope("src/a/**")),
                (String::from("part-b"), scope("src/b/**")),
                (String::from("part-c"), scope("src/c/**")),
            ],
            waiting: waiting.iter().map(|w| (*w).to_owned()).collect(),
            depth_left,
        };
        let ask = |paths: Value| {
            call(
                "request_change",
                json!({"paths": paths, "change": "add f", "why": "a needs it", "interface": "fn f()"}),
            )
        };
        let mut tools = Toolbox::new(&agent, &tree, None).with_requests(requests(&[], 2));
        let own = tools.call(&ask(json!(["src/a/x.rs"])));
        assert!(
            own.refused && own.content.contains("yours to write"),
            "{}",
            own.content
        );
        let two = tools.call(&ask(json!(["src/b/x.rs", "src/c/y.rs"])));
        assert!(
            two.refused && two.content.contains("one owner at a time"),
            "{}",
            two.content
        );
        let none = tools.call(&ask(json!(["README.md"])));
        assert!(
            none.refused && none.content.contains("no one owner"),
            "{}",
            none.content
        );
        assert!(tools.requested().is_none());
        let asked = tools.call(&ask(json!(["src/b/x.rs"])));
        assert!(!asked.is_error, "{}", asked.content);
        let request = tools.requested().expect("asked");
        assert_eq!(
            (request.to.as_str(), request.interface.as_str()),
            ("part-b", "fn f()")
        );

        let mut waiting = Toolbox::new(&agent, &tree, None).with_requests(requests(&["part-b"], 2));
        let back = waiting.call(&ask(json!(["src/b/x.rs"])));
        assert!(
            back.refused && back.content.contains("is waiting for your part"),
            "{}",
            back.content
        );
        let mut deep = Toolbox::new(&agent, &tree, None).with_requests(requests(&[], 0));
        let too_deep = deep.call(&ask(json!(["src/c/x.rs"])));
        assert!(too_deep.refused, "{}", too_deep.content);
    }
}
