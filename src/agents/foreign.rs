//! Agent files other tools write: Claude Code subagents (Markdown with YAML front matter) and
//! Codex custom agents (TOML), read into Nova agent files; and Nova agents written back as Claude
//! Code subagents. Every field is either carried over, saying what it became, or listed with why
//! it was not: none is dropped silently. Text in, text out: the caller reads and writes files.

use std::fmt;

use yaml_rust2::{Yaml, YamlLoader};

use super::definition::{AgentDef, Budget, fenced, is_kebab};

/// One agent, translated: its name, its file's text, and what became of each field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Translation {
    pub name: String,
    pub text: String,
    /// Fields carried over, with what they became.
    pub carried: Vec<Note>,
    /// Fields not carried over, with why.
    pub left: Vec<Note>,
}

/// A field and what is said of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub field: String,
    pub what: String,
}

fn note(field: &str, what: impl Into<String>) -> Note {
    Note {
        field: field.to_owned(),
        what: what.into(),
    }
}

/// Why a file could not be read as another tool's agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForeignError {
    /// No `---` front matter at the top of a Markdown file.
    NoFrontMatter,
    Yaml(String),
    Toml(String),
    /// A field the format requires is missing or empty.
    Missing(&'static str),
}

impl fmt::Display for ForeignError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ForeignError::NoFrontMatter => f.write_str(
                "a Claude Code subagent starts with `---`, then YAML front matter, then `---`",
            ),
            ForeignError::Yaml(why) => write!(f, "its front matter is not YAML: {why}"),
            ForeignError::Toml(why) => write!(f, "it is not a Codex agent file (TOML): {why}"),
            ForeignError::Missing(field) => write!(f, "`{field}` is missing or empty"),
        }
    }
}

impl std::error::Error for ForeignError {}

/// Nova's tools for one of Claude Code's, by meaning; `Err` says why there is none.
fn nova_tools(claude: &str) -> Result<&'static [&'static str], &'static str> {
    match claude {
        "Read" => Ok(&["read_file"]),
        "Grep" => Ok(&["search"]),
        "Glob" | "LS" => Ok(&["list_files"]),
        "Edit" | "Write" | "MultiEdit" | "NotebookEdit" => Ok(&["propose_edit"]),
        "Bash" => Ok(&["shell", "run_checks"]),
        "WebFetch" | "WebSearch" => Err("Nova's agents have no network"),
        "TodoWrite" => Err("Nova keeps a task's memory itself"),
        "Task" | "Agent" => {
            Err("a Nova agent hands off only to the agents its `handoff` names: add them by hand")
        }
        name if name.starts_with("mcp__") => Err("Nova does not take tools from MCP servers yet"),
        _ => Err("no Nova tool does this"),
    }
}

/// What Nova's tools are called in Claude Code; `None` where it has no such tool.
fn claude_tools(nova: &str) -> Option<&'static [&'static str]> {
    match nova {
        "read_file" => Some(&["Read"]),
        "search" => Some(&["Grep"]),
        "list_files" => Some(&["Glob"]),
        "propose_edit" => Some(&["Edit", "Write"]),
        "shell" | "run_checks" => Some(&["Bash"]),
        _ => None,
    }
}

/// The tools every imported agent that may read gets beside its own: Nova's map and symbols
/// read what `Read` and `Grep` read.
const READ_HELPERS: [&str; 2] = ["repo_map", "symbols"];

/// The budget an imported agent gets where its file sets none.
const TOKENS: u64 = 200_000;
const SECONDS: u64 = 900;
const TURNS: u32 = 30;

/// What an imported agent will be, before it is written as a Nova file.
#[derive(Debug, Default)]
struct Draft {
    name: String,
    description: String,
    tools: Vec<String>,
    writes: bool,
    model: Option<String>,
    turns: Option<u32>,
    prompt: String,
    carried: Vec<Note>,
    left: Vec<Note>,
}

/// Reads a Claude Code subagent (`.claude/agents/NAME.md`).
pub fn from_claude(text: &str) -> Result<Translation, ForeignError> {
    let (front, prompt) = fenced(text, "---").ok_or(ForeignError::NoFrontMatter)?;
    let mut lenient = false;
    let fields = match YamlLoader::load_from_str(front) {
        Ok(docs) => match docs.into_iter().next() {
            Some(Yaml::Hash(fields)) => fields,
            _ => {
                return Err(ForeignError::Yaml(String::from(
                    "it is not a mapping of fields",
                )));
            }
        },
        // Published subagents often have a `: ` inside an unquoted description, which strict
        // YAML refuses and Claude Code reads: the fields are read line by line instead.
        Err(error) => {
            lenient = true;
            line_fields(front).ok_or_else(|| ForeignError::Yaml(error.to_string()))?
        }
    };
    let get = |key: &str| fields.get(&Yaml::String(key.to_owned()));
    let mut draft = Draft {
        prompt: prompt.trim().to_owned(),
        ..Draft::default()
    };
    if lenient {
        draft.carried.push(note(
            "(front matter)",
            "not strict YAML (an unquoted `: ` in a value): read line by line, as Claude Code reads it",
        ));
    }
    draft.name = name_field(get("name"), &mut draft)?;
    draft.description = scalar(get("description"))
        .filter(|d| !d.trim().is_empty())
        .ok_or(ForeignError::Missing("description"))?;
    draft.carried.push(note("description", "description"));
    claude_tools_field(get("tools"), get("disallowedTools"), &mut draft);
    claude_permission(
        get("permissionMode").and_then(|v| scalar(Some(v))),
        &mut draft,
    );
    claude_model(get("model").and_then(|v| scalar(Some(v))), &mut draft);
    if let Some(turns) = get("maxTurns").and_then(Yaml::as_i64) {
        let turns = u32::try_from(turns.clamp(1, i64::from(Budget::MAX_TURNS))).unwrap_or(TURNS);
        draft.turns = Some(turns);
        draft
            .carried
            .push(note("maxTurns", format!("budget.turns = {turns}")));
    }
    for (key, _) in &fields {
        let key = key.as_str().unwrap_or("?");
        if let Some(why) = claude_left(key) {
            draft.left.push(note(key, why));
        }
    }
    Ok(draft.finish("a Claude Code subagent"))
}

/// The `name`, made kebab-case when it is not.
fn name_field(value: Option<&Yaml>, draft: &mut Draft) -> Result<String, ForeignError> {
    let given = scalar(value)
        .filter(|n| !n.trim().is_empty())
        .ok_or(ForeignError::Missing("name"))?;
    let name = kebab(&given);
    if name == given {
        draft.carried.push(note("name", "name"));
    } else {
        draft.carried.push(note(
            "name",
            format!("name `{name}` (Nova's names are kebab-case)"),
        ));
    }
    Ok(name)
}

/// Why a Claude Code field is not carried, for the fields that are not; `None` for the ones
/// [`from_claude`] carries.
fn claude_left(key: &str) -> Option<&'static str> {
    Some(match key {
        "name" | "description" | "tools" | "disallowedTools" | "model" | "permissionMode"
        | "maxTurns" => return None,
        "mcpServers" => "Nova does not take tools from MCP servers yet",
        "hooks" => "Nova's hooks are the user's configuration, never an agent file's",
        "skills" => "Nova has no skills: put what they say in the prompt",
        "memory" => "Nova keeps a task's memory per run, not across sessions",
        "background" => "Nova runs agents in the foreground of a run",
        "isolation" => "Nova always works in its own worktree and sandbox",
        "color" => "Nova's output has no per-agent colour",
        "effort" => "Nova sets reasoning by model in the configuration",
        "initialPrompt" => "Nova starts an agent with the task it is given",
        "disabled" => "disable an agent with `[agents] disabled` in the configuration",
        _ => "Nova has no such field",
    })
}

/// `tools` (a comma-separated string or a list; every tool when absent) less `disallowedTools`.
fn claude_tools_field(tools: Option<&Yaml>, denied: Option<&Yaml>, draft: &mut Draft) {
    let listed = tools.map(names_of);
    let denied = denied.map(names_of).unwrap_or_default();
    let claude: Vec<String> = match &listed {
        Some(names) => names.clone(),
        // Claude Code gives every tool when `tools` is absent.
        None => ["Read", "Grep", "Glob", "Edit", "Write", "Bash"]
            .map(String::from)
            .to_vec(),
    };
    let mut mapped: Vec<String> = Vec::new();
    let mut carried = Vec::new();
    let mut left = Vec::new();
    for tool in &claude {
        if denied.contains(tool) {
            continue;
        }
        // `Task(reviewer)` restricts which subagents `Task` may start: the tool is `Task`.
        let base = tool.split('(').next().unwrap_or(tool).trim();
        match nova_tools(base) {
            Ok(ours) => {
                for t in ours {
                    if !mapped.iter().any(|m| m == t) {
                        mapped.push((*t).to_owned());
                    }
                }
                carried.push(format!("{tool} -> {}", ours.join(", ")));
            }
            Err(why) => left.push(format!("{tool}: {why}")),
        }
    }
    let field = if listed.is_some() {
        "tools"
    } else {
        "tools (absent: all)"
    };
    if !carried.is_empty() {
        draft.carried.push(note(field, carried.join("; ")));
    }
    if !left.is_empty() {
        draft.left.push(note(field, left.join("; ")));
    }
    if !denied.is_empty() {
        draft.carried.push(note(
            "disallowedTools",
            format!("removed {}", denied.join(", ")),
        ));
    }
    if mapped.iter().any(|t| t == "read_file") {
        for helper in READ_HELPERS {
            mapped.push(helper.to_owned());
        }
    }
    draft.writes = mapped.iter().any(|t| t == "propose_edit");
    draft.tools = mapped;
}

/// `permissionMode`: `plan` is read-only; the others write inside the scope, proved.
fn claude_permission(mode: Option<String>, draft: &mut Draft) {
    let Some(mode) = mode else {
        return;
    };
    let what = match mode.as_str() {
        "plan" => {
            draft.writes = false;
            draft
                .tools
                .retain(|t| !matches!(t.as_str(), "propose_edit" | "shell" | "run_checks"));
            "read-only: no write scope, no edit or shell tools"
        }
        "bypassPermissions" => {
            "writes inside its scope; Nova never bypasses its sandbox or its checks"
        }
        _ => "writes inside its scope, each change proved in the sandbox; nothing is asked",
    };
    draft
        .carried
        .push(note("permissionMode", format!("{mode}: {what}")));
}

fn claude_model(model: Option<String>, draft: &mut Draft) {
    match model.as_deref() {
        None => {}
        Some("inherit") => draft
            .carried
            .push(note("model", "inherit: the configured model")),
        Some(alias @ ("sonnet" | "opus" | "haiku")) => draft.left.push(note(
            "model",
            format!(
                "`{alias}` is Claude Code's alias, not a model id: the configured model is used \
                 (set `model` to an id your provider serves)"
            ),
        )),
        Some(id) => {
            draft.model = Some(id.to_owned());
            draft.carried.push(note("model", format!("model = {id}")));
        }
    }
}

/// Reads a Codex custom agent (`.codex/agents/NAME.toml`).
pub fn from_codex(text: &str) -> Result<Translation, ForeignError> {
    let table: toml::Table = toml::from_str(text).map_err(|e| ForeignError::Toml(e.to_string()))?;
    let text_of = |key: &str| {
        table
            .get(key)
            .and_then(toml::Value::as_str)
            .map(str::to_owned)
    };
    let mut draft = Draft::default();
    let given = text_of("name")
        .filter(|n| !n.trim().is_empty())
        .ok_or(ForeignError::Missing("name"))?;
    draft.name = name_field(Some(&Yaml::String(given)), &mut draft)?;
    draft.description = text_of("description")
        .filter(|d| !d.trim().is_empty())
        .ok_or(ForeignError::Missing("description"))?;
    draft.carried.push(note("description", "description"));
    draft.prompt = text_of("developer_instructions")
        .filter(|p| !p.trim().is_empty())
        .ok_or(ForeignError::Missing("developer_instructions"))?;
    draft
        .carried
        .push(note("developer_instructions", "the prompt"));
    let mode = text_of("sandbox_mode");
    let writes = mode.as_deref() != Some("read-only");
    let mut tools = vec!["read_file", "list_files", "search", "repo_map", "symbols"];
    if writes {
        tools.extend(["propose_edit", "shell", "run_checks"]);
    }
    draft.tools = tools.into_iter().map(String::from).collect();
    draft.writes = writes;
    let what = match mode.as_deref() {
        None => "absent: writes inside its scope, each change proved in the sandbox",
        Some("read-only") => "read-only: no write scope, no edit or shell tools",
        Some("danger-full-access") => {
            "writes inside its scope; Nova never runs anything outside its sandbox"
        }
        Some(_) => "writes inside its scope, each change proved in the sandbox",
    };
    draft.carried.push(note("sandbox_mode", what));
    if let Some(model) = text_of("model") {
        draft.model = Some(model.clone());
        draft
            .carried
            .push(note("model", format!("model = {model}")));
    }
    for key in table.keys() {
        let why = match key.as_str() {
            "name" | "description" | "developer_instructions" | "sandbox_mode" | "model" => {
                continue;
            }
            "model_reasoning_effort" => "Nova sets reasoning by model in the configuration",
            "nickname_candidates" => "Nova names an agent by its name alone",
            "mcp_servers" => "Nova does not take tools from MCP servers yet",
            "skills" => "Nova has no skills: put what they say in the prompt",
            "web_search" => "Nova's agents have no network",
            _ => "Nova has no such field",
        };
        draft.left.push(note(key, why));
    }
    Ok(draft.finish("a Codex custom agent"))
}

impl Draft {
    /// The Nova agent file: a writer is a `refactorer` returning a patch; a reader whose name or
    /// description says it reviews is a `reviewer` returning findings; any other a `chat` agent.
    fn finish(mut self, from: &str) -> Translation {
        let said = format!("{} {}", self.name, self.description).to_lowercase();
        let (role, output) = if self.writes {
            ("refactorer", "patch")
        } else if said.contains("review") || said.contains("audit") {
            self.tools.push(String::from("report_finding"));
            ("reviewer", "findings")
        } else {
            ("chat", "answer")
        };
        self.carried.push(note(
            "(role)",
            format!("{role}, returning {output}: inferred from its tools and description"),
        ));
        if self.prompt.is_empty() {
            self.prompt.clone_from(&self.description);
            self.left.push(note(
                "(prompt)",
                "the file has no prompt: its description is the prompt",
            ));
        }
        let quote = |s: &str| toml::Value::String(s.to_owned()).to_string();
        let list = |items: &[String]| {
            let quoted: Vec<String> = items.iter().map(|s| quote(s)).collect();
            format!("[{}]", quoted.join(", "))
        };
        let write = if self.writes { "[\"**/*\"]" } else { "[]" };
        let mut front = format!(
            "name = {}\nrole = \"{role}\"\ndescription = {}\n\
             scope = {{ read = [\"**/*\"], write = {write} }}\ntools = {}\n",
            quote(&self.name),
            quote(self.description.trim()),
            list(&self.tools),
        );
        if let Some(model) = &self.model {
            front.push_str(&format!("model = {}\n", quote(model)));
        }
        front.push_str(&format!(
            "budget = {{ turns = {}, tokens = {TOKENS}, seconds = {SECONDS} }}\noutput = \"{output}\"\n",
            self.turns.unwrap_or(TURNS)
        ));
        let text = format!(
            "+++\n# Imported from {from} by `nova agents import`.\n{front}+++\n{}\n",
            self.prompt.trim()
        );
        Translation {
            name: self.name,
            text,
            carried: self.carried,
            left: self.left,
        }
    }
}

/// A Nova agent as a Claude Code subagent.
pub fn to_claude(def: &AgentDef) -> Translation {
    let mut carried = vec![
        note("name", "name"),
        note("description", "description"),
        note("prompt", "the prompt"),
    ];
    let mut left = Vec::new();
    let mut tools: Vec<&str> = Vec::new();
    let mut without = Vec::new();
    for tool in &def.tools {
        match claude_tools(tool) {
            Some(theirs) => {
                for t in theirs {
                    if !tools.contains(t) {
                        tools.push(t);
                    }
                }
            }
            None => without.push(tool.as_str()),
        }
    }
    carried.push(note("tools", tools.join(", ")));
    if !without.is_empty() {
        left.push(note(
            "tools",
            format!("Claude Code has no tool for {}", without.join(", ")),
        ));
    }
    let writes = !def.scope.write.is_empty() && tools.contains(&"Edit");
    let mode = if writes { "acceptEdits" } else { "plan" };
    carried.push(note("scope", format!("permissionMode: {mode}")));
    left.push(note(
        "scope",
        format!(
            "Claude Code has no path scopes: read {:?}, write {:?}",
            def.scope.read, def.scope.write
        ),
    ));
    carried.push(note("budget.turns", "maxTurns"));
    left.push(note(
        "budget",
        "Claude Code limits turns only: tokens and seconds are not carried",
    ));
    let mut lines = vec![
        String::from("---"),
        format!("name: {}", yaml_scalar(&def.name)),
        format!("description: {}", yaml_scalar(&def.description)),
        format!("tools: {}", tools.join(", ")),
    ];
    if let Some(model) = &def.model {
        lines.push(format!("model: {}", yaml_scalar(model)));
        carried.push(note("model", "model"));
    }
    lines.push(format!("permissionMode: {mode}"));
    lines.push(format!("maxTurns: {}", def.budget.turns));
    lines.push(String::from("---"));
    for (field, present) in [
        ("role", true),
        ("handoff", !def.handoff.is_empty()),
        ("builtin", !def.builtin.is_empty()),
        ("acceptance", !def.acceptance.is_empty()),
        ("may_silence", def.may_silence),
        ("may_add_dependencies", def.may_add_dependencies),
        ("may_change_api", def.may_change_api),
    ] {
        if present {
            left.push(note(field, "Claude Code has no such field"));
        }
    }
    Translation {
        name: def.name.clone(),
        text: format!("{}\n\n{}\n", lines.join("\n"), def.prompt.trim()),
        carried,
        left,
    }
}

/// Front matter read line by line: `key: value` (the first `:` splits; quotes around the value
/// taken off), and `- item` lines under a key with no value as its list. `None` when a line is
/// neither.
fn line_fields(front: &str) -> Option<yaml_rust2::yaml::Hash> {
    let mut fields = yaml_rust2::yaml::Hash::new();
    let mut list: Option<(String, Vec<Yaml>)> = None;
    for line in front
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
    {
        if line.starts_with(char::is_whitespace) {
            if let Some(item) = line.trim_start().strip_prefix("- ")
                && let Some((_, items)) = list.as_mut()
            {
                items.push(Yaml::String(unquote(item)));
            }
            // Anything else indented is a nested table (`hooks:`): its key is named, no more.
            continue;
        }
        if let Some((key, items)) = list.take() {
            fields.insert(Yaml::String(key), Yaml::Array(items));
        }
        let (key, value) = line.split_once(':')?;
        let (key, value) = (key.trim().to_owned(), value.trim());
        if value.is_empty() {
            list = Some((key, Vec::new()));
        } else {
            fields.insert(Yaml::String(key), Yaml::String(unquote(value)));
        }
    }
    if let Some((key, items)) = list {
        fields.insert(Yaml::String(key), Yaml::Array(items));
    }
    Some(fields)
}

fn unquote(value: &str) -> String {
    let value = value.trim();
    for quote in ['"', '\''] {
        if let Some(inner) = value
            .strip_prefix(quote)
            .and_then(|v| v.strip_suffix(quote))
        {
            return inner.to_owned();
        }
    }
    value.to_owned()
}

/// A YAML scalar's text (numbers and booleans as written).
fn scalar(value: Option<&Yaml>) -> Option<String> {
    match value? {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The names of a comma-separated string or a list.
fn names_of(value: &Yaml) -> Vec<String> {
    match value {
        Yaml::String(s) => s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        Yaml::Array(items) => items.iter().filter_map(|i| scalar(Some(i))).collect(),
        _ => Vec::new(),
    }
}

/// `name` as Nova's kebab-case: lowercase, anything else a single `-`.
fn kebab(name: &str) -> String {
    if is_kebab(name) {
        return name.to_owned();
    }
    let mut out = String::new();
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').to_owned();
    if out.starts_with(|c: char| c.is_ascii_lowercase()) {
        out
    } else {
        format!("agent-{out}")
    }
}

/// `text` as a YAML scalar: plain where that reads back the same, else double-quoted.
fn yaml_scalar(text: &str) -> String {
    let plain = !text.is_empty()
        && !text.starts_with(|c: char| "-?:,[]{}#&*!|>'\"%@` ".contains(c))
        && !text.ends_with(' ')
        && !text.contains(": ")
        && !text.contains(" #")
        && !text.contains('\n')
        && !matches!(text, "true" | "false" | "null" | "~" | "yes" | "no")
        && text.parse::<f64>().is_err();
    if plain {
        return text.to_owned();
    }
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_yaml_scalar_reads_back_as_written() {
        for text in [
            "plain words",
            "Debugging specialist for errors: test failures",
            "- starts like a list",
            "true",
            "12",
            "has a # hash",
            "quotes \" and \\ backslashes",
            "two\nlines",
            "",
        ] {
            let doc = format!("key: {}\n", yaml_scalar(text));
            let parsed = YamlLoader::load_from_str(&doc).expect("yaml");
            assert_eq!(parsed[0]["key"].as_str(), Some(text), "{doc}");
        }
    }

    #[test]
    fn front_matter_that_is_not_strict_yaml_is_read_line_by_line() {
        // As published subagents write it: a `: ` in an unquoted description.
        let text = "---\nname: ab-test\ndescription: Use when: the user asks 'did it work'\n\
                    tools:\n  - Read\n  - Edit\nhooks:\n  PreToolUse:\n    - matcher: Bash\n\
                    model: 'claude-haiku-4-5'\n---\nAnalyse.\n";
        let t = from_claude(text).expect("imported");
        assert!(
            t.text
                .contains("description = \"Use when: the user asks 'did it work'\""),
            "{}",
            t.text
        );
        assert!(
            t.text.contains("\"read_file\", \"propose_edit\""),
            "{}",
            t.text
        );
        assert!(
            t.text.contains("model = \"claude-haiku-4-5\""),
            "{}",
            t.text
        );
        assert!(t.carried.iter().any(|n| n.field == "(front matter)"));
        assert!(t.left.iter().any(|n| n.field == "hooks"));
    }

    #[test]
    fn names_become_kebab_case() {
        assert_eq!(kebab("code-reviewer"), "code-reviewer");
        assert_eq!(kebab("Debugger"), "debugger");
        assert_eq!(kebab("Test Fixer 2"), "test-fixer-2");
        assert_eq!(kebab("42 things"), "agent-42-things");
    }

    #[test]
    fn a_restricted_task_tool_is_named_with_why() {
        let text = "---\nname: lead\ndescription: Leads\ntools: Read, Task(reviewer)\n---\nLead.\n";
        let t = from_claude(text).expect("imported");
        assert!(
            t.left
                .iter()
                .any(|n| n.field == "tools"
                    && n.what.contains("Task(reviewer): a Nova agent hands off")),
            "{:?}",
            t.left
        );
    }
}
