//! `nova review` with a language model: the review pipeline's reviewers read the code with the
//! model (the scripted server on 127.0.0.1), report findings with their tool, and those findings
//! join the rules', deduplicated across reviewers; with `--base`, only what lands on changed lines
//! is kept. Without a provider, or with `--rules-only`, no request is made.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::act::{LIB, calls, offered_tools, setup, tool_results, with_model};
use crate::common::{Run, TestEnv, write};
use crate::model_server::ModelServer;

/// Only these two reviewers run (the others are disabled in the repository's `nova.toml`).
const TWO_REVIEWERS: &str = "[agents]\ndisabled = [\"performance-reviewer\", \"test-reviewer\", \"docs-reviewer\", \"security-reviewer\"]\n";

fn review(env: &TestEnv, repo: &Path, server: &ModelServer, extra: &[&str]) -> Run {
    with_model(env, repo, server, "review", extra)
}

fn two_reviewers() -> (TestEnv, PathBuf) {
    let (env, repo) = setup();
    write(&repo, "nova.toml", TWO_REVIEWERS);
    (env, repo)
}

/// `(rule, line)` of each finding of a `--json` review.
fn found(run: &Run) -> Vec<(String, u64)> {
    run.stdout
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("a JSON line"))
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_owned(),
                f["span"]["line_start"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn reviewers_read_with_the_model_and_their_findings_join_the_rules() {
    let (env, repo) = two_reviewers();
    let shout = json!({"path": "src/lib.rs", "line": 5, "end_line": 7, "severity": "warning",
                       "message": "`shout` allocates on every call", "rule": "Allocates"});
    let again = json!({"path": "src/lib.rs", "line": 5, "end_line": 7, "severity": "info",
                       "message": "`shout` could borrow", "rule": "borrow"});
    let greet = json!({"path": "src/lib.rs", "line": 2, "severity": "error",
                       "message": "`greet` formats an empty name as `hello `", "rule": "empty-name"});
    let server = ModelServer::start(vec![
        // correctness-reviewer: a finding, a handoff that has no one to go to, then its summary.
        calls("a1", "report_finding", &shout),
        calls(
            "a2",
            "handoff",
            &json!({"to": "refactorer", "message": "fix it"}),
        ),
        calls("a3", "finish", &json!({"text": "one problem"})),
        // error-handling-reviewer: the same lines again (a duplicate), and one of its own.
        calls("b1", "report_finding", &again),
        calls("b2", "report_finding", &greet),
        calls("b3", "finish", &json!({"text": "two problems"})),
    ]);
    let run = review(&env, &repo, &server, &["--json", "--fail-on", "error"]);
    assert_eq!(
        run.code,
        1,
        "an error-level model finding fails: {}",
        run.both()
    );
    let received = server.received();
    assert_eq!(received.len(), 6, "{}", run.stderr);
    let task = received[0].body["messages"][1]["content"]
        .as_str()
        .unwrap_or_default();
    assert!(task.contains("Review this repository"), "{task}");
    let tools = offered_tools(&received[0].body);
    assert!(tools.iter().any(|t| t == "report_finding"), "{tools:?}");
    assert!(
        tool_results(&server, 2)[1].contains("cannot take work in this session"),
        "findings only: {:?}",
        tool_results(&server, 2)
    );

    let found = found(&run);
    assert!(
        found.contains(&("error-handling-reviewer::empty-name".to_owned(), 2)),
        "{found:?}"
    );
    assert!(
        found.contains(&("correctness-reviewer::allocates".to_owned(), 5)),
        "{found:?}"
    );
    assert!(
        !found
            .iter()
            .any(|(rule, _)| rule == "error-handling-reviewer::borrow"),
        "the same lines from a second reviewer, less severe, are one finding: {found:?}"
    );
    assert_eq!(
        found.first().map(|f| f.0.as_str()),
        Some("error-handling-reviewer::empty-name")
    );
    assert!(
        run.stderr
            .contains("correctness-reviewer with the model: 1 finding(s)")
            && run
                .stderr
                .contains("error-handling-reviewer with the model: 2 finding(s)")
            && run
                .stderr
                .contains("1 finding(s) left out: a more severe one"),
        "{}",
        run.stderr
    );
    assert!(
        !run.both().contains(crate::llm::CANARY),
        "the key never shows"
    );

    let offline = review(&env, &repo, &server, &["--rules-only", "--json"]);
    assert_eq!(offline.code, 0, "{}", offline.both());
    assert_eq!(
        server.received().len(),
        6,
        "`--rules-only` asks the model nothing"
    );
    let builtin = env.nova_in(&repo, ["review", "--json"]);
    assert_eq!(builtin.code, 0, "{}", builtin.both());
    assert!(
        !builtin.stdout.contains("with the model") && server.received().len() == 6,
        "the builtin provider asks no model"
    );
}

#[test]
fn with_a_base_only_findings_on_changed_lines_are_kept() {
    let (env, repo) = two_reviewers();
    write(
        &repo,
        "nova.toml",
        &TWO_REVIEWERS.replace(
            "\"performance-reviewer\"",
            "\"performance-reviewer\", \"error-handling-reviewer\"",
        ),
    );
    write(
        &repo,
        "src/lib.rs",
        &LIB.replace("format!(\"hello {name}\")", "format!(\"hi {name}\")"),
    );
    let changed = json!({"path": "src/lib.rs", "line": 2, "severity": "warning",
                         "message": "the greeting changed", "rule": "greeting"});
    let untouched = json!({"path": "src/lib.rs", "line": 6, "severity": "warning",
                           "message": "`shout` allocates", "rule": "allocates"});
    let server = ModelServer::start(vec![
        calls("a1", "report_finding", &changed),
        calls("a2", "report_finding", &untouched),
        calls("a3", "finish", &json!({"text": "two"})),
    ]);
    let run = review(&env, &repo, &server, &["--json", "--base", "HEAD"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert_eq!(server.received().len(), 3, "{}", run.stderr);
    let task = server.received()[0].body["messages"][1]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        task.contains("Review the changes since `HEAD`")
            && task.contains("- `src/lib.rs`: lines 2\n"),
        "{task}"
    );
    assert_eq!(
        found(&run),
        [("correctness-reviewer::greeting".to_owned(), 2)],
        "{}",
        run.stderr
    );
}
