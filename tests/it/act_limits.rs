//! Agents' limits and memory, against the scripted model server: the loop guard, the run's
//! budget, compaction near the model's window, and a run resumed after a kill.

use serde_json::Value;

use crate::act::{KEY_VAR, LIB, ask, calls, chat_with, each, says, setup, tool_results};
use crate::common::{branches, files_under, write};
use crate::model_server::{ModelServer, Reply, Turn};

/// Waits until `done` holds, failing the test after `seconds`.
pub(crate) fn wait_for(seconds: u64, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(seconds);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "waited {seconds} s for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn the_same_failure_and_turns_without_progress_are_nudged_then_stopped() {
    let (env, repo) = setup();
    // Different arguments, the same failure.
    let server = ModelServer::start(
        (1..=5)
            .map(|n| {
                calls(
                    &format!("c{n}"),
                    "read_file",
                    &serde_json::json!({"path": "src/nope.rs", "start_line": n}),
                )
            })
            .collect(),
    );
    let run = ask(&env, &repo, &server, &["What is in nope?"]);
    assert_eq!(run.code, 1, "{}", run.both());
    says(&run, "chat warned: the same failure came back 3 times");
    says(
        &run,
        "stopped by the loop guard: the same failure came back 4 times",
    );
    assert_eq!(server.received().len(), 4);
    // Different calls, nothing new: a nudge after four turns, a stop after eight.
    let globs = [
        "src/*.rs",
        "src/**/*.rs",
        "src/l*.rs",
        "src/li*.rs",
        "src/lib.*",
        "src/*b.rs",
        "src/*.r?",
        "**/lib.rs",
        "src/[l]ib.rs",
        "src/lib.r*",
    ];
    let server = ModelServer::start(each("list_files", "glob", &globs.map(Value::from)));
    let run = ask(&env, &repo, &server, &["Which files are in src?"]);
    assert_eq!(run.code, 1, "{}", run.both());
    says(&run, "chat warned: 4 turns in a row brought nothing new");
    says(
        &run,
        "stopped by the loop guard: 8 turns in a row brought nothing new",
    );
    assert_eq!(server.received().len(), 9);
    says(
        &run,
        "`nova ask --resume 20260101-000000` continues from its last turn",
    );
}

#[test]
fn the_runs_budget_spans_its_agents_and_is_never_exceeded() {
    let (env, repo) = setup();
    write(
        &env.user_config_dir(),
        "config.toml",
        "[budget]\ntokens = 40\n",
    );
    let server = ModelServer::start(each(
        "read_file",
        "path",
        &["src/lib.rs", "Cargo.toml", "notes.txt", "src/lib.rs"].map(Value::from),
    ));
    let run = ask(&env, &repo, &server, &["What does greet do?"]);
    assert_eq!(run.code, 1, "{}", run.both());
    // Each scripted turn uses 19 tokens: the third starts under 40, the fourth does not.
    says(&run, "the run's budget of 40 tokens ran out (57 spent)");
    assert_eq!(server.received().len(), 3);
}

#[test]
fn a_long_conversation_is_compacted_against_the_task_memory() {
    let (env, _) = setup();
    write(
        &env.user_config_dir(),
        "config.toml",
        "[models.\"test-model\"]\ncontext_window = 4000\n",
    );
    let parts: Vec<(String, String)> = (1..=10)
        .map(|n| {
            let text: String = (1..=20)
                .map(|line| format!("// part {n}, line {line}: words to fill the window\n"))
                .collect();
            (format!("src/part{n}.rs"), text)
        })
        .collect();
    let mut files: Vec<(&str, &str)> = parts
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    files.push(("src/lib.rs", LIB));
    let repo = env.repo_with("parts", &files);
    let mut script: Vec<Reply> = (1..=10)
        .map(|n| {
            calls(
                &format!("c{n}"),
                "read_file",
                &serde_json::json!({"path": format!("src/part{n}.rs")}),
            )
        })
        .collect();
    script.push(Turn::text(&["The parts are comments."]).openai());
    let server = ModelServer::start(script);
    let args = [
        "--max-tokens",
        "500",
        "--map-tokens",
        "0",
        "What are the parts?",
    ];
    let run = ask(&env, &repo, &server, &args);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.stderr.contains("chat's conversation compacted: ")
            && run.stderr.contains(" messages folded into the task memory"),
        "{}",
        run.stderr
    );
    let received = server.received();
    let last = received.last().expect("requests").body["messages"].to_string();
    assert!(last.contains("[Nova compacted "), "{last}");
    assert!(
        last.contains("What are the parts?"),
        "the task stays: {last}"
    );
    assert!(!last.contains("part 1, line 7:"), "the oldest read is gone");
    assert!(last.contains("part 10, line 7:"), "the latest read stays");
}

#[test]
fn a_run_killed_mid_turn_resumes_from_its_last_turn() {
    let (env, repo) = setup();
    let before = files_under(&repo, &[".git", ".nova"]);
    let edit = "src/lib.rs\n```rust\n<<<<<<< SEARCH\npub fn greet(name: &str) -> String {\n=======\n/// Greets `name`.\npub fn greet(name: &str) -> String {\n>>>>>>> REPLACE\n```\n";
    let server = ModelServer::start(vec![
        calls(
            "c1",
            "read_file",
            &serde_json::json!({"path": "src/lib.rs"}),
        ),
        calls("c2", "propose_edit", &serde_json::json!({"edits": edit})),
        Reply::stream(Vec::new()).ending(crate::model_server::End::Stall(
            std::time::Duration::from_secs(120),
        )),
    ]);
    let url = format!("{}/v1", server.url());
    let mut child = env
        .nova_command(
            &repo,
            [
                "ask",
                "--provider",
                "openai",
                "--base-url",
                &url,
                "--api-key-env",
                KEY_VAR,
                "--model",
                "test-model",
                "--agent",
                "refactorer",
                "Add a doc comment to greet",
            ],
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("nova starts");
    wait_for(60, "the third request to stall", || server.stalled() == 1);
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    server.stop();
    assert_eq!(branches(&repo), ["master"], "nothing landed");
    let server = ModelServer::start(vec![
        calls(
            "c3",
            "finish",
            &serde_json::json!({"text": "Document greet"}),
        ),
        Turn::text(&["Document `greet`"]).openai(),
    ]);
    let run = ask(&env, &repo, &server, &["--resume", "20260101-000000"]);
    assert_eq!(run.code, 0, "{}", run.both());
    says(
        &run,
        "resuming run 20260101-000000: `refactorer` goes on after turn 2",
    );
    // The conversation went on where it was: both earlier results are in the first request.
    let results = tool_results(&server, 0);
    assert_eq!(results.len(), 2, "{results:?}");
    assert!(
        results[1].starts_with("applied to your candidate: src/lib.rs"),
        "{results:?}"
    );
    let lib = crate::common::branch_file(&repo, "nova/ask/20260101-000000", "src/lib.rs");
    assert!(lib.starts_with("/// Greets `name`.\npub fn greet"), "{lib}");
    assert_eq!(
        files_under(&repo, &[".git", ".nova"]),
        before,
        "the checkout is untouched"
    );
    // A finished run has nothing left to resume.
    let again = ask(&env, &repo, &server, &["--resume", "20260101-000000"]);
    assert_eq!(again.code, 2, "{}", again.both());
    assert!(
        again
            .stderr
            .contains("finished; there is nothing to resume"),
        "{}",
        again.stderr
    );
}

/// A turn cut by the agent's time budget still spent tokens (the endpoint read the prompt and
/// streamed some text): the turn's event counts them, and the run's budget sees them.
#[test]
fn a_turn_cut_by_the_time_budget_counts_what_it_spent() {
    let (env, repo) = setup();
    chat_with(&repo, "seconds = 180 }", "seconds = 2 }");
    let thinking = serde_json::json!({"choices": [{"index": 0, "delta": {"content": "Let me think about greet"}}]});
    let server = ModelServer::start(vec![
        Reply::stream(vec![format!("data: {thinking}\n\n")]).ending(
            crate::model_server::End::Stall(std::time::Duration::from_secs(60)),
        ),
    ]);
    let run = ask(&env, &repo, &server, &["--json", "What does greet do?"]);
    assert_eq!(run.code, 1, "{}", run.both());
    let events: Vec<Value> = run
        .stdout
        .lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect();
    let turn = events
        .iter()
        .find(|e| e["event"] == "agent_turn")
        .unwrap_or_else(|| panic!("a turn: {}", run.both()));
    assert!(turn["prompt_tokens"].as_u64() > Some(100), "{turn}");
    assert!(turn["completion_tokens"].as_u64() > Some(0), "{turn}");
    assert!(
        events
            .iter()
            .any(|e| e["why"].as_str() == Some("its budget of 2 s ran out mid-turn")),
        "{}",
        run.both()
    );
}
