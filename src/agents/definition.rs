//! The agent file format: TOML front matter between `+++` lines, then the prompt in Markdown.
//!
//! Parsing checks everything one file can check on its own (fields, tools, globs, budget, rule
//! selectors, role and output); [`super::check`] checks what needs the whole set.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::Spanned;

use super::pipeline::Flow;
use crate::diag::{self, Problem};

/// What an agent is for. The role decides which outputs make sense.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Router,
    Planner,
    Reviewer,
    Refactorer,
    Fixer,
    Tester,
    Writer,
    Committer,
    Chat,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Router => "router",
            Role::Planner => "planner",
            Role::Reviewer => "reviewer",
            Role::Refactorer => "refactorer",
            Role::Fixer => "fixer",
            Role::Tester => "tester",
            Role::Writer => "writer",
            Role::Committer => "committer",
            Role::Chat => "chat",
        }
    }

    /// The one output an agent of this role returns.
    pub fn output(self) -> Output {
        match self {
            Role::Router | Role::Planner => Output::Plan,
            Role::Reviewer => Output::Findings,
            Role::Refactorer | Role::Fixer | Role::Tester | Role::Writer => Output::Patch,
            Role::Committer => Output::Message,
            Role::Chat => Output::Answer,
        }
    }

    /// What an agent of this role may be handed: a handoff carrying anything else is refused.
    pub fn accepts(self) -> &'static [Flow] {
        match self {
            Role::Router => &[Flow::Task],
            Role::Planner => &[Flow::Task, Flow::Findings],
            Role::Reviewer => &[Flow::Task, Flow::Plan, Flow::Patches],
            Role::Refactorer | Role::Tester | Role::Writer | Role::Chat => {
                &[Flow::Task, Flow::Plan, Flow::Findings]
            }
            Role::Fixer | Role::Committer => &[Flow::Reports, Flow::Patches],
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The typed result an agent returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Output {
    Findings,
    Patch,
    Answer,
    Plan,
    Message,
}

impl Output {
    pub fn as_str(self) -> &'static str {
        match self {
            Output::Findings => "findings",
            Output::Patch => "patch",
            Output::Answer => "answer",
            Output::Plan => "plan",
            Output::Message => "message",
        }
    }
}

/// The files an agent may read and write, as globs relative to the repository root.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Scope {
    pub read: Vec<String>,
    pub write: Vec<String>,
}

/// Limits for one invocation of an agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    pub turns: u32,
    pub tokens: u64,
    pub seconds: u64,
}

impl Budget {
    pub const MAX_TURNS: u32 = 200;
    pub const MAX_TOKENS: u64 = 2_000_000;
    pub const MAX_SECONDS: u64 = 2 * 60 * 60;
}

/// A tool an agent may be given. The list is fixed: an agent file chooses from it.
#[derive(Debug, Clone, Copy)]
pub struct ToolInfo {
    pub name: &'static str,
    pub summary: &'static str,
    /// Whether the tool changes files, and so needs a non-empty `scope.write`.
    pub writes: bool,
}

/// Every tool Nova offers agents.
pub const TOOLS: &[ToolInfo] = &[
    tool("read_file", "read a file inside the read scope", false),
    tool("list_files", "list files inside the read scope", false),
    tool(
        "search",
        "search file contents inside the read scope",
        false,
    ),
    tool(
        "repo_map",
        "the ranked map of the repository's symbols",
        false,
    ),
    tool("symbols", "definitions and references of a symbol", false),
    tool(
        "review",
        "the rule packs' findings on the Rust files in the read scope, edits included",
        false,
    ),
    tool(
        "git_diff",
        "the change under review, or the diff between two revisions",
        false,
    ),
    tool("report_finding", "report one typed finding", false),
    tool(
        "propose_edit",
        "propose a change to files inside the write scope",
        true,
    ),
    tool(
        "run_checks",
        "build, test and lint the candidate so far in the sandbox",
        false,
    ),
    tool(
        "shell",
        "a command in the sandbox on the candidate's worktree: no network, no secrets",
        false,
    ),
    tool(
        "handoff",
        "pass the work to one of the agents named in `handoff`",
        false,
    ),
    tool(
        "request_change",
        "ask the domain agent that owns files outside your write scope to change them; its change joins your candidate",
        false,
    ),
];

const fn tool(name: &'static str, summary: &'static str, writes: bool) -> ToolInfo {
    ToolInfo {
        name,
        summary,
        writes,
    }
}

/// Where an agent or pipeline definition came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "path", rename_all = "kebab-case")]
pub enum Origin {
    /// Shipped inside the binary; the path is where it lives in Nova's source.
    Builtin(PathBuf),
    /// A file on disk: the repository's `.nova/agents/`, or a path given to `nova agents check`.
    File(PathBuf),
}

impl Origin {
    pub fn path(&self) -> &Path {
        match self {
            Origin::Builtin(path) | Origin::File(path) => path,
        }
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Builtin(_) => f.write_str("built-in"),
            Origin::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// One agent, as its file defines it.
#[derive(Debug, Clone, Serialize)]
pub struct AgentDef {
    pub name: String,
    pub role: Role,
    pub description: String,
    pub scope: Scope,
    pub tools: Vec<String>,
    pub model: Option<String>,
    /// The part of the repository a domain agent owns (a crate's or a module's path, as
    /// `nova agents scaffold` names it); none for an agent scoped by job. A change request about
    /// a part is routed to its owner.
    pub part: Option<String>,
    pub handoff: Vec<String>,
    pub budget: Budget,
    pub builtin: Vec<String>,
    pub acceptance: Vec<String>,
    /// Its changes may add `allow`/`expect` attributes, each with a `reason`. Off by default:
    /// silencing a warning is not fixing it.
    pub may_silence: bool,
    /// Its changes may add dependencies (a new key in a `Cargo.toml` dependency table, a change
    /// to `Cargo.lock`). Off by default: a new crate is a decision for the code's owner.
    pub may_add_dependencies: bool,
    /// Its changes may change what the crate exports (a `pub fn`'s signature, a public field,
    /// an item removed). Off by default: the crate's users rely on it.
    pub may_change_api: bool,
    pub output: Output,
    pub prompt: String,
    pub origin: Origin,
    /// The built-in definition this one replaces, if any.
    pub overrides: Option<Origin>,
    #[serde(skip)]
    pub(super) lines: AgentLines,
}

/// Lines of the parts that checks across files point at.
#[derive(Debug, Clone, Default)]
pub(super) struct AgentLines {
    pub name: usize,
    pub handoff: Vec<usize>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAgent {
    name: Spanned<String>,
    role: Role,
    description: String,
    #[serde(default)]
    scope: RawScope,
    #[serde(default)]
    tools: Vec<Spanned<String>>,
    model: Option<String>,
    part: Option<String>,
    #[serde(default)]
    handoff: Vec<Spanned<String>>,
    budget: Spanned<Budget>,
    #[serde(default)]
    builtin: Vec<Spanned<String>>,
    #[serde(default)]
    acceptance: Vec<Spanned<String>>,
    #[serde(default)]
    may_silence: bool,
    #[serde(default)]
    may_add_dependencies: bool,
    #[serde(default)]
    may_change_api: bool,
    output: Spanned<Output>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScope {
    #[serde(default)]
    read: Vec<Spanned<String>>,
    #[serde(default)]
    write: Vec<Spanned<String>>,
}

/// The front matter and prompt of an agent file, with the line the front matter starts on.
struct Parts<'a> {
    front: &'a str,
    front_line: usize,
    prompt: &'a str,
}

/// An agent file's TOML front matter and its prompt, as the file splits them.
pub fn front_matter(text: &str) -> Option<(&str, &str)> {
    split(text).map(|parts| (parts.front, parts.prompt))
}

fn split(text: &str) -> Option<Parts<'_>> {
    let (front, prompt) = fenced(text, "+++")?;
    Some(Parts {
        front,
        front_line: 2,
        prompt,
    })
}

/// The front matter between two `fence` lines at the top of `text` (`+++` for Nova's TOML, `---`
/// for YAML), and what follows it.
pub(super) fn fenced<'a>(text: &'a str, fence: &str) -> Option<(&'a str, &'a str)> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let rest = text.strip_prefix(fence)?;
    let rest = rest
        .strip_prefix("\r\n")
        .or_else(|| rest.strip_prefix('\n'))?;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == fence {
            return Some((&rest[..offset], &rest[offset + line.len()..]));
        }
        offset += line.len();
    }
    None
}

/// The keys an agent's front matter may have, at its top and in `scope` and `budget`.
const AGENT_KEYS: &[&str] = &[
    "name",
    "role",
    "description",
    "scope",
    "tools",
    "model",
    "part",
    "handoff",
    "budget",
    "builtin",
    "acceptance",
    "may_silence",
    "may_add_dependencies",
    "may_change_api",
    "output",
];
const SCOPE_KEYS: &[&str] = &["read", "write"];
const BUDGET_KEYS: &[&str] = &["turns", "tokens", "seconds"];

/// `front` with every unknown key (and its value) replaced by spaces, so that offsets and lines
/// stay where they were, and a message for each, at its offset. Front matter that does not parse
/// as TOML is returned as it is: deserializing it reports the syntax error.
fn without_unknown_keys(front: &str) -> (String, Vec<(usize, String)>) {
    use toml::de::{DeTable, DeValue};
    let Ok(table) = DeTable::parse(front) else {
        return (front.to_owned(), Vec::new());
    };
    let mut blank: Vec<std::ops::Range<usize>> = Vec::new();
    let mut found = Vec::new();
    let mut check = |table: &DeTable<'_>, known: &[&str], place: &str| {
        for (key, value) in table {
            let name: &str = key.get_ref();
            if known.contains(&name) {
                continue;
            }
            let hint = match diag::closest(name, known.iter().copied()) {
                Some(best) => format!("; did you mean `{best}`?"),
                None => format!("; valid keys: `{}`", known.join("`, `")),
            };
            found.push((
                key.span().start,
                format!("unknown key `{name}`{place}{hint}"),
            ));
            let (start, end) = (key.span().start, value.span().end.max(key.span().end));
            blank.push(start..end);
        }
    };
    let top = table.get_ref();
    check(top, AGENT_KEYS, "");
    for (name, known) in [("scope", SCOPE_KEYS), ("budget", BUDGET_KEYS)] {
        if let Some(value) = top.get(name)
            && let DeValue::Table(inner) = value.get_ref()
        {
            check(inner, known, &format!(" in `{name}`"));
        }
    }
    let mut text = front.to_owned().into_bytes();
    for range in blank {
        for byte in &mut text[range] {
            if *byte != b'\n' {
                *byte = b' ';
            }
        }
    }
    found.sort();
    // Only ASCII bytes were written over whole keys and values: the text is still UTF-8.
    let text = String::from_utf8(text).unwrap_or_else(|_| front.to_owned());
    (text, found)
}

/// Parses one agent file. `shown` is the path used in messages. A file that yields a definition
/// may still have problems (an unknown tool, say); a file that cannot be read as an agent yields
/// none.
pub fn parse_agent(shown: &Path, text: &str, origin: Origin) -> (Option<AgentDef>, Vec<Problem>) {
    let Some(parts) = split(text) else {
        let problem = Problem::new(
            shown,
            Some(1),
            "an agent file starts with a `+++` line, then TOML front matter, then a closing `+++` \
             line, then the prompt",
        );
        return (None, vec![problem]);
    };
    let at = |offset: usize| diag::line_of(parts.front, offset) + parts.front_line - 1;
    // Unknown keys are reported, blanked out, and the rest is checked: every problem in one run.
    let (front, unknown) = without_unknown_keys(parts.front);
    let mut problems: Vec<Problem> = unknown
        .into_iter()
        .map(|(offset, message)| Problem::new(shown, Some(at(offset)), message))
        .collect();
    let raw: RawAgent = match toml::from_str(&front) {
        Ok(raw) => raw,
        Err(error) => {
            problems.push(diag::toml_problem(shown, &front, parts.front_line, &error));
            return (None, problems);
        }
    };
    let mut problem = |offset: usize, message: String| {
        problems.push(Problem::new(shown, Some(at(offset)), message));
    };

    check_identity(&raw, shown, &mut problem);

    let expected = raw.role.output();
    if *raw.output.get_ref() != expected {
        let message = format!(
            "a {} returns `{}`, not `{}`",
            raw.role,
            expected.as_str(),
            raw.output.get_ref().as_str()
        );
        problem(raw.output.span().start, message);
    }

    for glob in raw.scope.read.iter().chain(&raw.scope.write) {
        if let Err(why) = check_glob(glob.get_ref()) {
            problem(glob.span().start, why);
        }
    }
    if raw.role == Role::Reviewer && !raw.scope.write.is_empty() {
        let span = raw.scope.write[0].span();
        problem(
            span.start,
            String::from("a reviewer never writes: leave `scope.write` empty"),
        );
    }

    if let Some(part) = &raw.part
        && raw.scope.write.is_empty()
    {
        problem(
            raw.name.span().start,
            format!("the agent owns part `{part}` but may write nothing: give it a `scope.write`"),
        );
    }

    check_tools(&raw, expected, &mut problem);

    let budget = *raw.budget.get_ref();
    if let Err(why) = check_budget(budget) {
        problem(raw.budget.span().start, why);
    }

    check_rules(&raw, &mut problem);

    let prompt = parts.prompt.trim().to_owned();
    if prompt.is_empty() {
        let message =
            String::from("the prompt after the closing `+++` is empty; say what the agent must do");
        problems.push(Problem::new(shown, Some(1), message));
    }

    let strings =
        |items: Vec<Spanned<String>>| items.into_iter().map(Spanned::into_inner).collect();
    let lines = AgentLines {
        name: at(raw.name.span().start),
        handoff: raw.handoff.iter().map(|h| at(h.span().start)).collect(),
    };
    let def = AgentDef {
        name: raw.name.into_inner(),
        role: raw.role,
        description: raw.description.trim().to_owned(),
        scope: Scope {
            read: strings(raw.scope.read),
            write: strings(raw.scope.write),
        },
        tools: strings(raw.tools),
        model: raw.model,
        part: raw.part.map(|p| p.trim_matches('/').to_owned()),
        handoff: strings(raw.handoff),
        budget,
        builtin: strings(raw.builtin),
        acceptance: strings(raw.acceptance),
        may_silence: raw.may_silence,
        may_add_dependencies: raw.may_add_dependencies,
        may_change_api: raw.may_change_api,
        output: raw.output.into_inner(),
        prompt,
        origin,
        overrides: None,
        lines,
    };
    // Stable: problems on one line keep the order they were found in.
    problems.sort_by_key(|problem| problem.line);
    (Some(def), problems)
}

/// The agent's name (kebab-case, the file's name) and its description.
fn check_identity(raw: &RawAgent, shown: &Path, problem: &mut dyn FnMut(usize, String)) {
    let name = raw.name.get_ref();
    if !is_kebab(name) {
        let message =
            format!("agent name `{name}` must be kebab-case: lowercase letters, digits and `-`");
        problem(raw.name.span().start, message);
    } else if let Some(stem) = shown.file_stem().and_then(|s| s.to_str())
        && stem != name
    {
        let message = format!("agent `{name}` is in `{stem}.md`; name the file `{name}.md`");
        problem(raw.name.span().start, message);
    }
    if raw.description.trim().is_empty() {
        problem(
            raw.name.span().start,
            String::from("`description` is empty; say in one line what the agent does"),
        );
    }
}

/// The agent's builtin rule selectors and acceptance commands.
fn check_rules(raw: &RawAgent, problem: &mut dyn FnMut(usize, String)) {
    for selector in &raw.builtin {
        if let Err(why) = check_rule_selector(selector.get_ref()) {
            problem(selector.span().start, why);
        }
    }
    for command in &raw.acceptance {
        if command.get_ref().trim().is_empty() {
            problem(
                command.span().start,
                String::from("an `acceptance` command is empty"),
            );
        }
    }
}

/// The agent's tools: known, listed once, writing only with a write scope, and the ones its role
/// needs to return its output.
fn check_tools(raw: &RawAgent, expected: Output, problem: &mut dyn FnMut(usize, String)) {
    let mut seen_tools: Vec<&str> = Vec::new();
    for entry in &raw.tools {
        let name = entry.get_ref().as_str();
        if let Some(server) = name.strip_prefix("mcp:") {
            // A server's tools, or one of them: the servers are the user's to declare.
            if let Err(why) = check_mcp_tool(server) {
                problem(entry.span().start, why);
            }
            seen_tools.push(name);
            continue;
        }
        match TOOLS.iter().find(|tool| tool.name == name) {
            None => {
                let hint = match diag::closest(name, TOOLS.iter().map(|t| t.name)) {
                    Some(best) => format!("; did you mean `{best}`?"),
                    None => format!("; known tools: {}", tool_names()),
                };
                problem(entry.span().start, format!("unknown tool `{name}`{hint}"));
            }
            Some(tool) if tool.writes && raw.scope.write.is_empty() => {
                let message = format!("tool `{name}` changes files, but `scope.write` is empty");
                problem(entry.span().start, message);
            }
            Some(_) if seen_tools.contains(&name) => {
                problem(entry.span().start, format!("tool `{name}` is listed twice"));
            }
            Some(_) => {}
        }
        seen_tools.push(name);
    }
    if expected == Output::Patch && !seen_tools.contains(&"propose_edit") {
        let message = format!(
            "a {} returns a patch, so it needs the `propose_edit` tool",
            raw.role
        );
        problem(raw.output.span().start, message);
    }
    if raw.role == Role::Reviewer && !seen_tools.contains(&"report_finding") {
        let message =
            String::from("a reviewer returns findings, so it needs the `report_finding` tool");
        problem(raw.output.span().start, message);
    }
    if seen_tools.contains(&"handoff") && raw.handoff.is_empty() {
        let message = String::from("tool `handoff` is listed, but `handoff` names no agent");
        problem(raw.name.span().start, message);
    }
}

/// `SERVER` or `SERVER/TOOL` after `mcp:`: names of letters, digits, `-`, `_` and `.`.
fn check_mcp_tool(named: &str) -> Result<(), String> {
    let ok = |part: &str| {
        !part.is_empty()
            && part
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    let valid = match named.split_once('/') {
        Some((server, tool)) => ok(server) && ok(tool),
        None => ok(named),
    };
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`mcp:{named}` names no MCP server or tool: write `mcp:SERVER` for a server's tools, or \
             `mcp:SERVER/TOOL` for one"
        ))
    }
}

pub(super) fn is_kebab(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-')
        && !name.contains("--")
}

fn tool_names() -> String {
    TOOLS.iter().map(|t| t.name).collect::<Vec<_>>().join(", ")
}

fn check_glob(glob: &str) -> Result<(), String> {
    if glob.starts_with('/') || glob.split('/').any(|part| part == "..") {
        return Err(format!(
            "glob `{glob}` must be relative to the repository root and stay inside it"
        ));
    }
    globset::Glob::new(glob)
        .map(drop)
        .map_err(|error| format!("invalid glob `{glob}`: {}", error.kind()))
}

fn check_budget(budget: Budget) -> Result<(), String> {
    let Budget {
        turns,
        tokens,
        seconds,
    } = budget;
    let limits = [
        ("turns", u64::from(turns), u64::from(Budget::MAX_TURNS)),
        ("tokens", tokens, Budget::MAX_TOKENS),
        ("seconds", seconds, Budget::MAX_SECONDS),
    ];
    for (what, value, max) in limits {
        if value == 0 {
            return Err(format!(
                "`budget.{what}` is 0: the agent could never do anything"
            ));
        }
        if value > max {
            return Err(format!(
                "`budget.{what}` is {value}, more than the {max} any one agent may have"
            ));
        }
    }
    Ok(())
}

/// The clippy lint groups a selector may name instead of one lint.
const CLIPPY_GROUPS: &[&str] = &[
    "all",
    "cargo",
    "complexity",
    "correctness",
    "nursery",
    "pedantic",
    "perf",
    "restriction",
    "style",
    "suspicious",
];

/// A rule selector names what the offline engine runs for an agent: `rustfmt`, a compiler lint
/// (`rustc::unused_imports`, or `rustc::*` for all), a clippy lint or group
/// (`clippy::needless_return`, `clippy::perf`, `clippy::*`), or one of Nova's own rules
/// (`unwrap-in-lib`, or `rules::*` for all).
fn check_rule_selector(selector: &str) -> Result<(), String> {
    let snake = |name: &str| {
        name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    let valid = match selector.split_once("::") {
        None => selector == "rustfmt" || is_kebab(selector),
        Some(("clippy", name)) => name == "*" || snake(name) || CLIPPY_GROUPS.contains(&name),
        Some(("rustc", name)) => name == "*" || snake(name),
        Some(("rules", name)) => name == "*",
        Some(_) => false,
    };
    if valid {
        Ok(())
    } else {
        Err(format!(
            "`{selector}` is not a rule: use `rustfmt`, `rustc::<lint>`, `clippy::<lint or group>`, \
             a Nova rule name in kebab-case, or `rules::*`"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"+++
name = "tidy"
role = "refactorer"
description = "Tidies"
scope = { read = ["src/**/*.rs"], write = ["src/**/*.rs"] }
tools = ["read_file", "propose_edit"]
budget = { turns = 4, tokens = 1000, seconds = 60 }
output = "patch"
+++
Tidy the code.
"#;

    fn problems(text: &str) -> Vec<String> {
        let origin = Origin::File("tidy.md".into());
        let (_, problems) = parse_agent(Path::new("tidy.md"), text, origin);
        problems.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn a_good_file_parses_cleanly() {
        let origin = Origin::File("tidy.md".into());
        let (def, problems) = parse_agent(Path::new("tidy.md"), GOOD, origin);
        assert_eq!(problems, []);
        let def = def.expect("a definition");
        assert_eq!(def.name, "tidy");
        assert_eq!(def.prompt, "Tidy the code.");
        assert_eq!(def.scope.write, ["src/**/*.rs"]);
    }

    #[test]
    fn lines_count_from_the_top_of_the_file() {
        let text = GOOD.replace("\"propose_edit\"]", "\"propose_edit\", \"serach\"]");
        assert_eq!(
            problems(&text),
            ["tidy.md:6: unknown tool `serach`; did you mean `search`?"]
        );
        let text = GOOD.replace("output = ", "colour = 1\noutput = ");
        let found = problems(&text);
        assert_eq!(found.len(), 1);
        assert!(
            found[0].starts_with("tidy.md:8: unknown key `colour`"),
            "{found:?}"
        );
    }

    #[test]
    fn every_problem_of_a_file_is_reported_at_once() {
        let text = GOOD
            .replace("output = ", "colour = 1\noutput = ")
            .replace("\"propose_edit\"]", "\"propose_edit\", \"serach\"]");
        let found = problems(&text);
        assert_eq!(found.len(), 2, "{found:#?}");
        assert_eq!(
            found[0],
            "tidy.md:6: unknown tool `serach`; did you mean `search`?"
        );
        assert!(
            found[1].starts_with("tidy.md:8: unknown key `colour`"),
            "{found:?}"
        );
    }

    #[test]
    fn missing_fences_are_explained() {
        assert_eq!(problems("name = \"x\"\n").len(), 1);
        assert_eq!(problems("+++\nname = \"x\"\n").len(), 1);
    }

    #[test]
    fn crlf_files_parse() {
        let text = GOOD.replace('\n', "\r\n");
        assert_eq!(problems(&text), Vec::<String>::new());
    }

    #[test]
    fn rule_selectors() {
        for good in [
            "rustfmt",
            "unwrap-in-lib",
            "clippy::perf",
            "clippy::needless_return",
            "rustc::unused_imports",
            "rustc::*",
            "rules::*",
        ] {
            assert_eq!(check_rule_selector(good), Ok(()), "{good}");
        }
        for bad in [
            "clippy::Needless",
            "eslint::no-var",
            "Unwrap",
            "rustc::",
            "rules::unwrap-in-lib",
        ] {
            assert!(check_rule_selector(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn globs_stay_inside_the_repository() {
        assert!(check_glob("src/**/*.rs").is_ok());
        assert!(check_glob("/etc/passwd").is_err());
        assert!(check_glob("../other/**").is_err());
        assert!(check_glob("src/[a-").is_err());
    }
}
