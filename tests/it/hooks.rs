//! Hooks from the user's config on agent events: a block the model reads, hooks that allow, fail
//! or time out without blocking, a commit blocked, each visible in `--json` events; and a
//! repository that tries to add one.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::act::{DOC_EDIT, ask, calls, setup, tool_results};
use crate::common::{TestEnv, branches, write};
use crate::model_server::{ModelServer, Turn};

/// A hook script at `name` in the test's root: it saves its stdin to `<name>.json`, says `say`
/// on stderr and exits with `code` (after `sleep` seconds).
fn script(env: &TestEnv, name: &str, code: i32, say: &str, sleep: u32) -> PathBuf {
    let path = env.root().join(name);
    let saved = env.root().join(format!("{name}.json"));
    let text = format!(
        "#!/bin/sh\ncat > '{}'\nsleep {sleep}\necho '{say}' >&2\nexit {code}\n",
        saved.display()
    );
    std::fs::write(&path, text).expect("write the hook");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path
}

/// The user's config with these `[[hooks]]` entries: (event, command, matcher, timeout).
fn configure(env: &TestEnv, hooks: &[(&str, &Path, Option<&str>, u64)]) {
    let mut text = String::new();
    for (event, command, matcher, timeout) in hooks {
        text.push_str(&format!(
            "[[hooks]]\nevent = \"{event}\"\ncommand = [\"{}\"]\ntimeout_secs = {timeout}\n",
            command.display()
        ));
        if let Some(matcher) = matcher {
            text.push_str(&format!("matcher = \"{matcher}\"\n"));
        }
    }
    write(&env.user_config_dir(), "config.toml", &text);
}

/// The `hook_ran` events of a `--json` run: (on, outcome, reason).
fn hook_events(stdout: &str) -> Vec<(String, String, String)> {
    stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|event| event["event"] == "hook_ran")
        .map(|event| {
            let text = |key: &str| event[key].as_str().unwrap_or_default().to_owned();
            (text("on"), text("outcome"), text("reason"))
        })
        .collect()
}

#[test]
fn a_pre_tool_use_hook_blocks_a_call_and_the_model_reads_why() {
    let (env, repo) = setup();
    let block = script(&env, "no-reading", 2, "reading is off today", 0);
    let start = script(&env, "start", 0, "", 0);
    configure(
        &env,
        &[
            ("session_start", &start, None, 10),
            ("pre_tool_use", &block, Some("read_*"), 10),
        ],
    );
    let server = ModelServer::start(vec![
        calls(
            "c1",
            "read_file",
            &serde_json::json!({"path": "src/lib.rs"}),
        ),
        Turn::text(&["I could not read it."]).openai(),
    ]);
    let run = ask(&env, &repo, &server, &["--json", "What does greet do?"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let results = tool_results(&server, 1);
    assert!(
        results[0].contains("A hook of the user's blocked this call: reading is off today"),
        "{results:?}"
    );
    let events = hook_events(&run.stdout);
    assert!(
        events.contains(&(
            String::from("pre_tool_use"),
            String::from("blocked"),
            String::from("reading is off today")
        )),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|(on, outcome, _)| on == "session_start" && outcome == "allowed"),
        "{events:?}"
    );
    // The configuration says which hooks there are, and from where.
    let shown = env.nova_in(&repo, ["config", "show"]);
    assert!(
        shown.stdout.contains("hooks[1]") && shown.stdout.contains("pre_tool_use"),
        "{}",
        shown.stdout
    );
    // The hook read the event as JSON on its stdin.
    let saved = std::fs::read_to_string(env.root().join("no-reading.json")).expect("stdin saved");
    let event: Value = serde_json::from_str(&saved).expect("json");
    assert_eq!(event["event"], "pre_tool_use");
    assert_eq!(event["tool"], "read_file");
    assert_eq!(event["arguments"]["path"], "src/lib.rs");
}

#[test]
fn hooks_that_allow_fail_or_time_out_never_block() {
    let (env, repo) = setup();
    let fine = script(&env, "fine", 0, "", 0);
    let broken = script(&env, "broken", 3, "oops", 0);
    let slow = script(&env, "slow", 0, "", 30);
    let after = script(&env, "after", 0, "", 0);
    configure(
        &env,
        &[
            ("pre_tool_use", &fine, None, 10),
            ("pre_tool_use", &broken, None, 10),
            ("pre_tool_use", &slow, None, 1),
            ("post_tool_use", &after, None, 10),
            ("subagent_stop", &fine, None, 10),
        ],
    );
    let server = ModelServer::start(vec![
        calls(
            "c1",
            "read_file",
            &serde_json::json!({"path": "src/lib.rs"}),
        ),
        Turn::text(&["It greets."]).openai(),
    ]);
    let run = ask(&env, &repo, &server, &["--json", "What does greet do?"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let results = tool_results(&server, 1);
    assert!(
        results[0].contains("pub fn greet"),
        "the call ran: {results:?}"
    );
    let outcomes: Vec<(String, String)> = hook_events(&run.stdout)
        .into_iter()
        .map(|(on, outcome, _)| (on, outcome))
        .collect();
    let pair = |on: &str, outcome: &str| (on.to_owned(), outcome.to_owned());
    assert_eq!(
        outcomes,
        [
            pair("pre_tool_use", "allowed"),
            pair("pre_tool_use", "error"),
            pair("pre_tool_use", "timed_out"),
            pair("post_tool_use", "allowed"),
            pair("subagent_stop", "allowed"),
        ]
    );
    let saved = std::fs::read_to_string(env.root().join("after.json")).expect("stdin saved");
    let event: Value = serde_json::from_str(&saved).expect("json");
    assert!(
        event["result"]
            .as_str()
            .unwrap_or_default()
            .contains("pub fn greet"),
        "{event}"
    );
}

#[test]
fn a_commit_hook_blocks_the_commit_and_nothing_lands() {
    let (env, repo) = setup();
    let veto = script(&env, "veto", 2, "no commits on Fridays", 0);
    let heard = script(&env, "heard", 0, "", 0);
    configure(
        &env,
        &[
            ("candidate_validated", &heard, None, 10),
            ("commit", &veto, None, 10),
        ],
    );
    let server = ModelServer::start(vec![
        calls(
            "c2",
            "propose_edit",
            &serde_json::json!({"edits": DOC_EDIT}),
        ),
        calls(
            "c3",
            "finish",
            &serde_json::json!({"text": "Document greet"}),
        ),
        calls(
            "m1",
            "finish",
            &serde_json::json!({"text": "Document `greet`"}),
        ),
    ]);
    let before = branches(&repo);
    let run = ask(
        &env,
        &repo,
        &server,
        &["--json", "Add a doc comment to greet"],
    );
    assert_eq!(branches(&repo), before, "no branch: {}", run.both());
    assert!(
        run.both()
            .contains("a `commit` hook refused it: no commits on Fridays"),
        "{}",
        run.both()
    );
    let events = hook_events(&run.stdout);
    assert!(
        events
            .iter()
            .any(|(on, outcome, _)| on == "candidate_validated" && outcome == "allowed"),
        "{events:?}"
    );
    let saved = std::fs::read_to_string(env.root().join("heard.json")).expect("stdin saved");
    let event: Value = serde_json::from_str(&saved).expect("json");
    assert_eq!(event["accepted"], true, "{event}");
    assert_eq!(event["files"][0], "src/lib.rs", "{event}");
}

#[test]
fn a_repository_cannot_add_hooks() {
    let (env, repo) = setup();
    write(
        &repo,
        "nova.toml",
        "[[hooks]]\nevent = \"commit\"\ncommand = [\"/bin/true\"]\n",
    );
    let run = env.nova_in(&repo, ["config", "show"]);
    assert_eq!(run.code, 2, "{}", run.both());
    assert!(
        run.stderr
            .contains("`[[hooks]]` cannot be set in a repository's config"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_commit_hook_stops_nova_improve_from_committing() {
    let env = TestEnv::new();
    let repo = crate::improve::fixture(&env, "hooked", &[]);
    let veto = script(&env, "veto", 2, "commits need a ticket", 0);
    configure(&env, &[("commit", &veto, None, 10)]);
    let run = env.nova_in(&repo, ["--json", "improve", "--branch", "nova/hooked"]);
    assert!(
        branches(&repo).iter().all(|b| b != "nova/hooked"),
        "{}",
        run.both()
    );
    let events = hook_events(&run.stdout);
    assert!(
        events.iter().any(|(on, outcome, reason)| on == "commit"
            && outcome == "blocked"
            && reason == "commits need a ticket"),
        "{events:?}\n{}",
        run.both()
    );
    assert!(
        run.stdout
            .contains("a `commit` hook refused it: commits need a ticket"),
        "{}",
        run.stdout
    );
}
