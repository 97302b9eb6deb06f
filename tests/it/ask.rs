//! `nova ask` end to end against the scripted model server: streaming to stdout, both providers,
//! JSON events, record and replay, exit codes, cancellation, and the key kept out of everything.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::{Run, TestEnv, files_under};
use crate::llm::CANARY;
use crate::model_server::{End, ModelServer, Reply, Turn};

const KEY_VAR: &str = "NOVA_TEST_KEY";

fn env_with_key() -> TestEnv {
    let mut env = TestEnv::new();
    env.set_var(KEY_VAR, CANARY);
    env
}

/// An environment with the key and this user config, and a server that answers once.
fn configured(config: &str) -> (TestEnv, ModelServer, String) {
    let env = env_with_key();
    crate::common::write(&env.user_config_dir(), "config.toml", config);
    let server = ModelServer::start(vec![answer().openai()]);
    let url = format!("{}/v1", server.url());
    (env, server, url)
}

fn repo(env: &TestEnv) -> PathBuf {
    env.repo_with(
        "greeter",
        &[
            ("Cargo.toml", "[package]\nname = \"greeter\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"),
            ("src/lib.rs", "/// Says hello.\npub fn greet(name: &str) -> String {\n    format!(\"hello {name}\")\n}\n"),
        ],
    )
}

fn args<'a>(provider: &'a str, url: &'a str, extra: &[&'a str]) -> Vec<String> {
    let mut args: Vec<String> = [
        "ask",
        "--provider",
        provider,
        "--base-url",
        url,
        "--api-key-env",
        KEY_VAR,
        "--model",
        "test-model",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args
}

fn answer() -> Turn {
    Turn::text(&["`greet` ", "formats a greeting ", "(src/lib.rs:2)."])
}

fn ask(env: &TestEnv, dir: &Path, provider: &str, url: &str, extra: &[&str]) -> Run {
    env.nova_in(dir, args(provider, url, extra))
}

#[test]
fn the_answer_streams_to_stdout_with_usage_on_stderr() {
    let env = env_with_key();
    let repo = repo(&env);
    for (provider, reply, url_suffix) in [
        ("openai", answer().openai(), "/v1"),
        ("anthropic", answer().anthropic(), ""),
    ] {
        let server = ModelServer::start(vec![reply]);
        let url = format!("{}{url_suffix}", server.url());
        let run = ask(&env, &repo, provider, &url, &["What does greet do?"]);
        assert_eq!(run.code, 0, "{}", run.both());
        assert_eq!(run.stdout, "`greet` formats a greeting (src/lib.rs:2).\n");
        assert!(
            run.stderr
                .contains("12 prompt (2 cached) + 7 completion tokens, cost unknown"),
            "{}",
            run.stderr
        );
        let sent = &server.received()[0];
        let system = match provider {
            "openai" => sent.body["messages"][0]["content"].as_str(),
            _ => sent.body["system"].as_str(),
        }
        .expect("a system prompt")
        .to_owned();
        assert!(
            system.contains("You answer a developer's question about this repository"),
            "the chat agent's prompt: {system}"
        );
        assert!(
            system.contains("pub fn greet(name: &str) -> String"),
            "the repository map: {system}"
        );
        let question = match provider {
            "openai" => sent.body["messages"][1]["content"].clone(),
            _ => sent.body["messages"][0]["content"][0]["text"].clone(),
        };
        assert_eq!(question, "What does greet do?");
    }
}

#[test]
fn json_prints_events_and_the_run_is_archived() {
    let env = env_with_key();
    let repo = repo(&env);
    let server = ModelServer::start(vec![answer().openai()]);
    let url = format!("{}/v1", server.url());
    let run = ask(
        &env,
        &repo,
        "openai",
        &url,
        &["--json", "What does greet do?"],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    let kinds: Vec<String> = run
        .stdout
        .lines()
        .map(|line| {
            let event: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
            event["event"].as_str().expect("a kind").to_owned()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "routed",
            "ask_started",
            "answer_delta",
            "answer_delta",
            "answer_delta",
            "agent_turn",
            "ask_finished"
        ]
    );
    let runs = env.nova_in(&repo, ["runs", "list", "--json"]);
    assert!(
        runs.stdout.contains("\"command\": \"ask\""),
        "{}",
        runs.both()
    );
}

#[test]
fn cost_comes_from_the_price_table() {
    let (env, _server, url) = configured(
        "[models.\"test-model\"]\ninput_usd_per_mtok = 1000.0\noutput_usd_per_mtok = 2000.0\ncached_input_usd_per_mtok = 500.0\n",
    );
    let run = ask(
        &env,
        &env.outside(),
        "openai",
        &url,
        &["--map-tokens", "0", "hi"],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    // 10 fresh * 1000 + 2 cached * 500 + 7 * 2000, per million.
    assert!(run.stderr.contains("$0.0250"), "{}", run.stderr);
}

#[test]
fn record_then_replay_with_the_server_stopped_prints_the_same() {
    let env = env_with_key();
    let repo = repo(&env);
    let tape = env.root().join("tape.jsonl");
    let tape_arg = tape.to_str().expect("utf-8 path");
    let server = ModelServer::start(vec![
        Reply::status(503, "{}"),
        answer().anthropic().truncated(2).ending(End::Cut),
        answer().anthropic(),
    ]);
    let url = server.url();
    let recorded = ask(
        &env,
        &repo,
        "anthropic",
        &url,
        &["--record", tape_arg, "What does greet do?"],
    );
    assert_eq!(recorded.code, 0, "{}", recorded.both());
    server.stop();

    // No key in the environment: a replay needs none.
    let bare = TestEnv::new();
    let moved = bare.outside().join("greeter");
    std::fs::rename(&repo, &moved).expect("move the repository");
    let replay = |question: &str| {
        bare.nova_in(
            &moved,
            [
                "ask",
                "--provider",
                "anthropic",
                "--model",
                "test-model",
                "--replay",
                tape_arg,
                question,
            ],
        )
    };
    let replayed = replay("What does greet do?");
    assert_eq!(replayed.code, 0, "{}", replayed.both());
    assert_eq!(replayed.stdout, recorded.stdout);
    assert_eq!(
        replayed.stdout,
        "`greet` formats a greeting (src/lib.rs:2).\n"
    );

    let different = replay("Something else?");
    assert_eq!(different.code, 3, "{}", different.both());
    assert!(
        different.stderr.contains("differs from the one recorded"),
        "{}",
        different.stderr
    );
}

/// Every byte Nova wrote anywhere it could have written: its output, the repository (with its
/// `.nova/` archive and caches), the home and temp directories, and the recording.
fn assert_no_canary(env: &TestEnv, runs: &[&Run]) {
    for run in runs {
        assert!(!run.both().contains(CANARY), "{}", run.both());
    }
    for (path, bytes) in files_under(env.root(), &[]) {
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains(CANARY), "the key is in `{}`", path.display());
    }
}

#[test]
fn the_key_appears_in_no_output_log_record_or_archive() {
    let env = env_with_key();
    let repo = repo(&env);
    let tape = env.root().join("tape.jsonl");
    let tape_arg = tape.to_str().expect("utf-8 path");
    let echo = format!(
        r#"{{"error":{{"message":"Incorrect API key provided: {CANARY}","type":"invalid_request_error"}}}}"#
    );
    let server = ModelServer::start(vec![
        Reply::status(500, &echo),
        Turn::text(&["the key is ", CANARY]).openai(),
        Reply::status(401, &echo),
    ]);
    let url = format!("{}/v1", server.url());
    let answered = ask(
        &env,
        &repo,
        "openai",
        &url,
        &["-vv", "--record", tape_arg, "What is my key?"],
    );
    assert_eq!(answered.code, 0, "{}", answered.both());
    assert!(
        answered
            .stderr
            .contains("key `NOVA_TEST_KEY` = sk-c… (26 characters)"),
        "-v shows the key redacted: {}",
        answered.stderr
    );
    let refused = ask(&env, &repo, "openai", &url, &["-v", "--json", "Again?"]);
    assert_eq!(refused.code, 3, "{}", refused.both());
    assert!(refused.stderr.contains("HTTP 401"), "{}", refused.stderr);
    assert!(refused.stderr.contains("[redacted]"), "{}", refused.stderr);
    assert!(tape.exists());
    assert!(
        answered.stdout.contains("the key is [redacted]"),
        "{}",
        answered.stdout
    );
    assert_no_canary(&env, &[&answered, &refused]);
}

#[test]
fn configuration_mistakes_exit_2_and_refusals_exit_3() {
    let env = TestEnv::new();
    let server = ModelServer::start(vec![Reply::status(
        404,
        r#"{"error":"model \"test-model\" not found, try pulling it first"}"#,
    )]);
    let url = format!("{}/v1", server.url());

    let builtin = env.nova(["ask", "hello"]);
    assert_eq!(builtin.code, 2, "{}", builtin.both());
    assert!(
        builtin.stderr.contains("needs a language model"),
        "{}",
        builtin.stderr
    );

    let no_key = env.nova(["ask", "--provider", "openai", "--model", "m", "hello"]);
    assert_eq!(no_key.code, 2, "{}", no_key.both());
    assert!(
        no_key.stderr.contains("`OPENAI_API_KEY` is not set"),
        "{}",
        no_key.stderr
    );

    let no_model = env.nova(["ask", "--provider", "ollama", "--base-url", &url, "hello"]);
    assert_eq!(no_model.code, 2, "{}", no_model.both());
    assert!(
        no_model.stderr.contains("no model is set"),
        "{}",
        no_model.stderr
    );

    let missing = env.nova([
        "ask",
        "--provider",
        "ollama",
        "--base-url",
        &url,
        "--model",
        "test-model",
        "hello",
    ]);
    assert_eq!(missing.code, 3, "{}", missing.both());
    assert!(missing.stderr.contains("HTTP 404"), "{}", missing.stderr);
    assert!(
        missing.stderr.contains("try pulling it first"),
        "{}",
        missing.stderr
    );
    assert_eq!(server.received().len(), 1);
    assert_eq!(server.received()[0].header("authorization"), None);

    let empty = env.nova(["ask", "--provider", "ollama", "--model", "m", "  "]);
    assert_eq!(empty.code, 2, "{}", empty.both());
}

#[test]
fn a_prompt_over_the_window_is_refused_before_sending() {
    let (env, server, url) = configured("[models.\"test-model\"]\ncontext_window = 3000\n");
    let run = ask(&env, &env.outside(), "openai", &url, &["hello"]);
    assert_eq!(run.code, 3, "{}", run.both());
    assert!(run.stderr.contains("nothing was sent"), "{}", run.stderr);
    assert!(server.received().is_empty());

    // With a repository, the map shrinks once to make room.
    let repo = repo(&env);
    let fits = ask(
        &env,
        &repo,
        "openai",
        &url,
        &["--max-tokens", "1000", "--map-tokens", "4096", "hello"],
    );
    assert_eq!(fits.code, 0, "{}", fits.both());
    assert_eq!(server.received().len(), 1);
}

#[test]
fn ctrl_c_cancels_the_request_at_once() {
    let env = env_with_key();
    let server = ModelServer::start(vec![
        answer()
            .openai()
            .truncated(3)
            .ending(End::Stall(Duration::from_secs(60))),
    ]);
    let url = format!("{}/v1", server.url());
    let child = env
        .nova_command(&env.outside(), args("openai", &url, &["hello"]))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start nova");
    // Interrupted mid-stream: once the server has sent the first chunks and stalls.
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.stalled() == 0 {
        assert!(
            Instant::now() < deadline,
            "the answer never started streaming"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let sent = Instant::now();
    interrupt(child.id());
    let output = child.wait_with_output().expect("wait");
    assert!(
        sent.elapsed() < Duration::from_secs(2),
        "{:?}",
        sent.elapsed()
    );
    assert_eq!(output.status.code(), Some(130));
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with("`greet` "),
        "what streamed stays: {stdout}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("interrupted"), "{stderr}");
}

#[expect(
    clippy::disallowed_methods,
    reason = "the test sends SIGINT like a terminal would"
)]
fn interrupt(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
}

#[test]
fn a_repository_cannot_send_the_key_to_its_own_endpoint() {
    let env = env_with_key();
    let server = ModelServer::start(vec![answer().openai()]);
    let repo = env.repo_with(
        "hostile",
        &[(
            "nova.toml",
            &format!(
                "[provider]\nname = \"openai\"\nmodel = \"m\"\nbase_url = \"{}/v1\"\napi_key_env = \"{KEY_VAR}\"\n",
                server.url()
            ),
        )],
    );
    let run = env.nova_in(&repo, ["ask", "hello"]);
    assert_eq!(run.code, 2, "{}", run.both());
    assert!(
        run.stderr
            .contains("`provider.base_url` cannot be set in a repository's config"),
        "{}",
        run.stderr
    );
    assert!(server.received().is_empty());
}
