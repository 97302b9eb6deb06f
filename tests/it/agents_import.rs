//! `nova agents import` and `nova agents export --claude` on agent files in the formats Claude
//! Code and Codex publish (fixtures written here): every field carried or named with why not,
//! nothing overwritten or half-written, and a Claude -> Nova -> Claude round trip equal field by
//! field where both formats have the field.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use yaml_rust2::{Yaml, YamlLoader};

use crate::common::{TestEnv, write};

const REVIEWER: &str = "---
name: code-reviewer
description: Expert code review specialist. Use proactively after writing or modifying code.
tools: Read, Grep, Glob, Bash, WebFetch
model: sonnet
color: blue
---
You are a senior code reviewer. Check for correctness, clarity and tests.
";

const DEBUGGER: &str = "---
name: Debugger
description: \"Debugging specialist for errors: test failures, unexpected behavior\"
tools:
  - Read
  - Edit
  - Bash
  - Grep
  - Glob
  - mcp__github__create_issue
disallowedTools: Bash
model: claude-sonnet-4-5
permissionMode: acceptEdits
maxTurns: 12
mcpServers:
  - github
hooks:
  PreToolUse:
    - matcher: Bash
skills: [debugging]
memory: project
---
When invoked, capture the error, find where it fails, fix it minimally.
";

const EXPLORER: &str = "name = \"explorer\"
description = \"Read-only codebase explorer for finding where things live\"
developer_instructions = \"\"\"
Explore the codebase and report where the relevant code is.
\"\"\"
model = \"gpt-5.3-codex\"
model_reasoning_effort = \"medium\"
sandbox_mode = \"read-only\"
nickname_candidates = [\"Scout\"]
";

/// What the import said of each agent, by name: (carried fields, fields not carried).
fn said(run: &str) -> BTreeMap<String, (Vec<String>, Vec<String>)> {
    let value: Value = serde_json::from_str(run).expect("json");
    let fields = |list: &Value| -> Vec<String> {
        list.as_array()
            .expect("list")
            .iter()
            .map(|pair| pair[0].as_str().expect("field").to_owned())
            .collect()
    };
    value
        .as_array()
        .expect("a list")
        .iter()
        .map(|done| {
            (
                done["name"].as_str().expect("name").to_owned(),
                (fields(&done["carried"]), fields(&done["not_carried"])),
            )
        })
        .collect()
}

#[test]
fn claude_and_codex_agents_become_nova_agents_and_nothing_is_dropped_silently() {
    let env = TestEnv::new();
    let repo = env.repo("import");
    write(&repo, ".claude/agents/code-reviewer.md", REVIEWER);
    write(&repo, ".claude/agents/Debugger.md", DEBUGGER);
    write(&repo, ".codex/agents/explorer.toml", EXPLORER);

    let run = env.nova_in(&repo, ["--json", "agents", "import", ".claude/agents"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let said = said(&run.stdout);
    let (carried, left) = &said["debugger"];
    for field in [
        "name",
        "description",
        "tools",
        "disallowedTools",
        "model",
        "permissionMode",
    ] {
        assert!(carried.iter().any(|c| c == field), "{field}: {carried:?}");
    }
    assert!(carried.iter().any(|c| c == "maxTurns"), "{carried:?}");
    for field in ["mcpServers", "hooks", "skills", "memory", "tools"] {
        assert!(left.iter().any(|c| c == field), "{field}: {left:?}");
    }
    let (_, left) = &said["code-reviewer"];
    for field in ["model", "color", "tools"] {
        assert!(left.iter().any(|c| c == field), "{field}: {left:?}");
    }
    let run = env.nova_in(&repo, ["agents", "import", ".codex/agents/explorer.toml"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.stdout.contains("not carried  model_reasoning_effort"),
        "{}",
        run.stdout
    );

    let debugger = std::fs::read_to_string(repo.join(".nova/agents/debugger.md")).expect("written");
    assert!(debugger.contains("role = \"refactorer\""), "{debugger}");
    assert!(
        debugger.contains("model = \"claude-sonnet-4-5\""),
        "{debugger}"
    );
    assert!(debugger.contains("turns = 12"), "{debugger}");
    assert!(
        !debugger.contains("\"shell\""),
        "Bash was disallowed: {debugger}"
    );
    let reviewer =
        std::fs::read_to_string(repo.join(".nova/agents/code-reviewer.md")).expect("written");
    assert!(reviewer.contains("role = \"reviewer\""), "{reviewer}");
    assert!(reviewer.contains("write = []"), "{reviewer}");
    let explorer = std::fs::read_to_string(repo.join(".nova/agents/explorer.md")).expect("written");
    assert!(explorer.contains("role = \"chat\""), "{explorer}");
    assert!(!explorer.contains("propose_edit"), "{explorer}");

    // The set Nova runs takes them as they are.
    let check = env.nova_in(&repo, ["agents", "check"]);
    assert_eq!(check.code, 0, "{}", check.both());
    let list = env.nova_in(&repo, ["agents", "list"]);
    assert!(list.stdout.contains("debugger"), "{}", list.stdout);
}

#[test]
fn an_import_never_overwrites_and_a_bad_file_writes_nothing() {
    let env = TestEnv::new();
    let repo = env.repo("careful");
    write(&repo, ".claude/agents/code-reviewer.md", REVIEWER);
    write(&repo, ".nova/agents/code-reviewer.md", "mine\n");

    let run = env.nova_in(&repo, ["agents", "import", ".claude/agents"]);
    assert_eq!(run.code, 2, "{}", run.both());
    assert!(run.stderr.contains("--force"), "{}", run.stderr);
    let mine = |repo: &Path| std::fs::read_to_string(repo.join(".nova/agents/code-reviewer.md"));
    assert_eq!(mine(&repo).expect("kept"), "mine\n");

    let dry = env.nova_in(&repo, ["agents", "import", ".claude/agents", "--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.both());
    assert!(
        dry.stdout.contains("dry run: not written"),
        "{}",
        dry.stdout
    );
    assert_eq!(mine(&repo).expect("kept"), "mine\n");

    let forced = env.nova_in(&repo, ["agents", "import", ".claude/agents", "--force"]);
    assert_eq!(forced.code, 0, "{}", forced.both());
    assert!(
        mine(&repo)
            .expect("replaced")
            .contains("role = \"reviewer\"")
    );

    // A file that is no subagent stops the whole import before anything is written.
    write(
        &repo,
        ".claude/other/a-good-one.md",
        &REVIEWER.replace("code-reviewer", "good"),
    );
    write(&repo, ".claude/other/broken.md", "just some notes\n");
    let bad = env.nova_in(&repo, ["agents", "import", ".claude/other"]);
    assert_eq!(bad.code, 2, "{}", bad.both());
    assert!(bad.stderr.contains("broken.md"), "{}", bad.stderr);
    assert!(!repo.join(".nova/agents/good.md").exists());
}

/// A Claude Code subagent's front matter and prompt.
fn claude_fields(text: &str) -> (BTreeMap<String, String>, String) {
    let rest = text.strip_prefix("---\n").expect("front matter");
    let (front, prompt) = rest.split_once("\n---\n").expect("closing ---");
    let docs = YamlLoader::load_from_str(front).expect("yaml");
    let Yaml::Hash(hash) = &docs[0] else {
        panic!("a mapping");
    };
    let mut fields = BTreeMap::new();
    for (key, value) in hash {
        let value = match value {
            Yaml::String(s) => s.clone(),
            Yaml::Integer(i) => i.to_string(),
            other => format!("{other:?}"),
        };
        fields.insert(key.as_str().expect("key").to_owned(), value);
    }
    (fields, prompt.trim().to_owned())
}

#[test]
fn claude_to_nova_to_claude_keeps_every_field_both_have() {
    let env = TestEnv::new();
    let repo = env.repo("round-trip");
    let original = "---
name: test-fixer
description: \"Fixes failing tests: reads the failure, changes the code, never the test\"
tools: Read, Grep, Glob, Edit, Write, Bash
model: claude-opus-4-1
permissionMode: acceptEdits
maxTurns: 25
---
Run the tests, read the first failure, fix the code that causes it.
";
    write(&repo, ".claude/agents/test-fixer.md", original);
    let run = env.nova_in(&repo, ["agents", "import", ".claude/agents/test-fixer.md"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let out = env.root().join("exported");
    let out_arg = out.to_string_lossy().into_owned();
    let run = env.nova_in(
        &repo,
        [
            "agents",
            "export",
            "--claude",
            "test-fixer",
            "--out",
            &out_arg,
        ],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    let back = std::fs::read_to_string(out.join("test-fixer.md")).expect("exported");

    let (before, before_prompt) = claude_fields(original);
    let (after, after_prompt) = claude_fields(&back);
    assert_eq!(after_prompt, before_prompt);
    for field in ["name", "description", "model", "permissionMode", "maxTurns"] {
        assert_eq!(after.get(field), before.get(field), "{field}:\n{back}");
    }
    let tools = |fields: &BTreeMap<String, String>| -> Vec<String> {
        let mut tools: Vec<String> = fields["tools"].split(", ").map(String::from).collect();
        tools.sort();
        tools
    };
    assert_eq!(tools(&after), tools(&before), "{back}");

    // A read-only agent goes back as `plan`.
    let run = env.nova_in(
        &repo,
        [
            "agents",
            "export",
            "--claude",
            "docs-reviewer",
            "--out",
            &out_arg,
        ],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    let reviewer = std::fs::read_to_string(out.join("docs-reviewer.md")).expect("exported");
    assert!(reviewer.contains("permissionMode: plan"), "{reviewer}");
    assert!(run.stdout.contains("not carried  role"), "{}", run.stdout);
}
