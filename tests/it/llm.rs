//! The model client against a scripted server: both wire formats, a fault matrix, retry timing,
//! timeouts, record and replay, and the key kept secret.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use nova::llm::{
    ApiKey, ChatRequest, Client, ClientOptions, Delta, Format, LlmError, Message, Provider, Reply,
    RetryPolicy, StopReason,
};
use serde_json::json;

use crate::model_server::{End, ModelServer, Reply as Script, Turn};

pub const CANARY: &str = "sk-canary-7f3a9c1e5b2d4680";

fn options(format: Format, server: &ModelServer, idle: Duration) -> ClientOptions {
    let (provider, base_url) = match format {
        Format::OpenAi => ("openai", format!("{}/v1", server.url())),
        Format::Anthropic => ("anthropic", server.url()),
    };
    ClientOptions {
        format,
        provider,
        base_url,
        key: Some(ApiKey::new(CANARY)),
        connect_timeout: Duration::from_secs(2),
        idle_timeout: idle,
        retry: RetryPolicy {
            max_retries: 4,
            deadline: Duration::from_secs(60),
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(40),
        },
        context_window: None,
        proxy: None,
        no_proxy: None,
        record: None,
        replay: None,
    }
}

fn request() -> ChatRequest {
    ChatRequest::new(
        "test-model",
        "You are terse.",
        vec![Message::user("Say hello.")],
    )
}

/// Runs one request on a fresh runtime; returns the result and every delta.
fn chat(options: ClientOptions, request: &ChatRequest) -> (Result<Reply, LlmError>, Vec<Delta>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client = Client::new(options).expect("client");
    let mut deltas = Vec::new();
    let result = runtime.block_on(client.chat(request, &mut |delta: &Delta| {
        deltas.push(delta.clone());
    }));
    (result, deltas)
}

fn turn() -> Turn {
    Turn::text(&["Hel", "lo", " wörld"]).call("call_1", "search", &["{\"q\": ", "\"greet\"}"])
}

fn success(format: Format) -> Script {
    match format {
        Format::OpenAi => turn().openai(),
        Format::Anthropic => turn().anthropic(),
    }
}

#[track_caller]
fn check_reply(reply: &Reply) {
    assert_eq!(reply.text, "Hello wörld");
    assert_eq!(reply.stop, StopReason::ToolUse);
    assert_eq!(reply.tool_calls.len(), 1);
    assert_eq!(reply.tool_calls[0].name, "search");
    assert_eq!(reply.tool_calls[0].arguments, json!({"q": "greet"}));
    assert_eq!(reply.usage.prompt_tokens, 12);
    assert_eq!(reply.usage.completion_tokens, 7);
    assert_eq!(reply.usage.cached_tokens, 2);
}

const FORMATS: [Format; 2] = [Format::OpenAi, Format::Anthropic];

#[test]
fn both_formats_stream_text_tool_calls_and_usage() {
    for format in FORMATS {
        let server = ModelServer::start(vec![success(format)]);
        let (result, deltas) = chat(options(format, &server, Duration::from_secs(5)), &request());
        check_reply(&result.expect("a reply"));
        let texts: Vec<&Delta> = deltas
            .iter()
            .filter(|d| matches!(d, Delta::Text { .. }))
            .collect();
        assert_eq!(texts.len(), 3, "{deltas:?}");

        let received = server.received();
        assert_eq!(received.len(), 1);
        let sent = &received[0];
        assert_eq!(sent.method, "POST");
        match format {
            Format::OpenAi => {
                assert_eq!(sent.path, "/v1/chat/completions");
                let bearer = format!("Bearer {CANARY}");
                assert_eq!(sent.header("authorization"), Some(bearer.as_str()));
                assert_eq!(sent.body["messages"][0]["content"], "You are terse.");
                assert_eq!(sent.body["messages"][1]["content"], "Say hello.");
            }
            Format::Anthropic => {
                assert_eq!(sent.path, "/v1/messages");
                assert_eq!(sent.header("x-api-key"), Some(CANARY));
                assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
                assert_eq!(sent.body["system"], "You are terse.");
                assert_eq!(sent.body["messages"][0]["content"][0]["text"], "Say hello.");
            }
        }
        assert_eq!(sent.body["model"], "test-model");
        assert_eq!(sent.body["stream"], true);
    }
}

#[test]
fn one_run_holds_providers_of_both_formats_behind_dyn_provider() {
    let openai = ModelServer::start(vec![success(Format::OpenAi)]);
    let anthropic = ModelServer::start(vec![success(Format::Anthropic)]);
    let idle = Duration::from_secs(5);
    // Each agent its own provider, chosen at run time: the orchestrator's view of them.
    let by_agent: Vec<(&str, Box<dyn Provider>)> = vec![
        (
            "reviewer",
            Box::new(Client::new(options(Format::OpenAi, &openai, idle)).expect("client")),
        ),
        (
            "refactorer",
            Box::new(Client::new(options(Format::Anthropic, &anthropic, idle)).expect("client")),
        ),
    ];
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for (agent, provider) in &by_agent {
        let provider: &dyn Provider = provider.as_ref();
        let reply = runtime
            .block_on(provider.chat(&request(), &mut |_: &Delta| {}))
            .unwrap_or_else(|e| panic!("{agent}: {e}"));
        check_reply(&reply);
    }
    assert_eq!(openai.received()[0].path, "/v1/chat/completions");
    assert_eq!(anthropic.received()[0].path, "/v1/messages");
    assert!(by_agent[0].1.describe().starts_with("openai at "));
    assert!(by_agent[1].1.describe().starts_with("anthropic at "));
}

#[test]
fn events_cut_anywhere_by_the_network_decode_the_same() {
    for format in FORMATS {
        for size in [1, 3, 7, 64, 1000] {
            let server = ModelServer::start(vec![success(format).rechunked(size)]);
            let (result, _) = chat(options(format, &server, Duration::from_secs(5)), &request());
            check_reply(
                &result.unwrap_or_else(|e| panic!("{format:?} in {size}-byte chunks: {e}")),
            );
        }
    }
}

#[test]
fn a_plain_json_reply_is_understood() {
    let openai = json!({"choices": [{"message": {"content": "plain"}, "finish_reason": "stop"}],
                         "usage": {"prompt_tokens": 3, "completion_tokens": 1}});
    let anthropic = json!({"content": [{"type": "text", "text": "plain"}], "stop_reason": "end_turn",
                            "usage": {"input_tokens": 3, "output_tokens": 1}});
    for (format, body) in [(Format::OpenAi, openai), (Format::Anthropic, anthropic)] {
        // Asked for one, and a server that answers a stream request with one anyway.
        for stream in [false, true] {
            let server = ModelServer::start(vec![Script::json(&body)]);
            let mut plain = request();
            plain.stream = stream;
            let (result, deltas) = chat(options(format, &server, Duration::from_secs(5)), &plain);
            let reply = result.expect("a reply");
            assert_eq!(reply.text, "plain");
            assert_eq!(reply.stop, StopReason::EndTurn);
            assert_eq!(deltas.len(), 1);
            assert_eq!(server.received()[0].body["stream"], stream);
        }
    }
}

/// Each transient fault, as the server plays it for `format`.
fn transient_faults(format: Format) -> Vec<(&'static str, Script)> {
    let error_event = match format {
        Format::OpenAi => Script::stream(vec![
            "data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n".into(),
        ]),
        Format::Anthropic => Script::stream(vec![
            "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n".into(),
        ]),
    };
    let mut malformed = success(format);
    if let Script::Stream { chunks, .. } = &mut malformed {
        chunks.insert(1, String::from("data: {\"choices\": [{\"delta\"\n\n"));
    }
    let body = r#"{"error":{"message":"try later","type":"server_error"}}"#;
    vec![
        ("429", Script::status(429, body)),
        ("500", Script::status(500, body)),
        ("502", Script::status(502, "<html>Bad Gateway</html>")),
        ("503", Script::status(503, body)),
        ("504", Script::status(504, body)),
        ("529", Script::status(529, body)),
        ("reset before the headers", Script::Reset),
        ("stream cut", success(format).truncated(3).ending(End::Cut)),
        ("no terminal event", success(format).truncated(1)),
        ("malformed event", malformed),
        ("error event", error_event),
        (
            "stalled stream",
            success(format)
                .truncated(2)
                .ending(End::Stall(Duration::from_secs(30))),
        ),
    ]
}

#[test]
fn every_transient_fault_up_to_four_times_in_a_row_then_success() {
    let mut cases = 0;
    for format in FORMATS {
        for (name, fault) in transient_faults(format) {
            for k in 1..=4 {
                let mut script = vec![fault.clone(); k];
                script.push(success(format));
                let server = ModelServer::start(script);
                let idle = Duration::from_millis(300);
                let (result, deltas) = chat(options(format, &server, idle), &request());
                let reply = result.unwrap_or_else(|e| panic!("{format:?}, {name} x{k}: {e}"));
                check_reply(&reply);
                assert_eq!(server.received().len(), k + 1, "{format:?}, {name} x{k}");
                let retries = deltas
                    .iter()
                    .filter(|d| matches!(d, Delta::Retrying { .. }))
                    .count();
                assert_eq!(retries, k, "{format:?}, {name} x{k}");
                cases += 1;
            }
        }
    }
    assert_eq!(cases, 2 * 12 * 4);
}

#[test]
fn five_failures_in_a_row_exhaust_four_retries() {
    let server = ModelServer::start(vec![Script::status(503, "{}"); 6]);
    let (result, _) = chat(
        options(Format::OpenAi, &server, Duration::from_secs(5)),
        &request(),
    );
    let error = result.expect_err("gave up");
    assert!(
        matches!(error, LlmError::GaveUp { attempts: 5, .. }),
        "{error}"
    );
    assert_eq!(server.received().len(), 5);
}

#[test]
fn permanent_errors_are_sent_once_and_never_echo_the_key() {
    let echo = format!(
        r#"{{"error":{{"message":"Incorrect API key provided: {CANARY}","type":"invalid_request_error"}}}}"#
    );
    let context = r#"{"error":{"message":"This model's maximum context length is 8192 tokens","type":"invalid_request_error","code":"context_length_exceeded"}}"#;
    let anthropic_context = r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 250000 tokens > 200000 maximum"}}"#;
    for format in FORMATS {
        let cases = [
            (
                400,
                r#"{"error":{"message":"bad field","type":"invalid_request_error"}}"#.to_owned(),
            ),
            (401, echo.clone()),
            (403, echo.clone()),
            (
                404,
                r#"{"error":"model \"test-model\" not found, try pulling it first"}"#.to_owned(),
            ),
            (400, context.to_owned()),
            (400, anthropic_context.to_owned()),
        ];
        for (status, body) in cases {
            let server = ModelServer::start(vec![Script::status(status, &body), success(format)]);
            let (result, deltas) =
                chat(options(format, &server, Duration::from_secs(5)), &request());
            let error = result.expect_err("a permanent error");
            assert_eq!(server.received().len(), 1, "{status} {body}: {error}");
            assert!(deltas.is_empty());
            let shown = format!("{error} {error:?}");
            assert!(!shown.contains(CANARY), "{shown}");
            if body.contains("context length") || body.contains("too long") {
                assert!(matches!(error, LlmError::ContextLength { .. }), "{error}");
            } else {
                assert!(matches!(error, LlmError::Rejected { .. }), "{error}");
                assert!(shown.contains(&format!("HTTP {status}")), "{shown}");
            }
        }
    }
}

/// How long after the first request the second one arrived.
fn gap(server: &ModelServer) -> Duration {
    let received = server.received();
    assert_eq!(received.len(), 2);
    received[1].at - received[0].at
}

#[test]
fn retry_after_is_honoured_within_100_ms() {
    let cases = [
        ("retry-after", "1", Duration::from_secs(1)),
        ("retry-after-ms", "300", Duration::from_millis(300)),
    ];
    for format in FORMATS {
        for (header, value, wait) in cases {
            let limited = Script::status(429, "{}").with_header(header, value);
            let server = ModelServer::start(vec![limited, success(format)]);
            let (result, deltas) =
                chat(options(format, &server, Duration::from_secs(5)), &request());
            check_reply(&result.expect("a reply after waiting"));
            let gap = gap(&server);
            assert!(
                gap >= wait && gap < wait + Duration::from_millis(100),
                "{header}: {value} waited {gap:?}"
            );
            let expected_ms = wait.as_millis() as u64;
            assert!(deltas.iter().any(
                |d| matches!(d, Delta::Retrying { delay_ms, .. } if *delay_ms == expected_ms)
            ));
        }
    }
}

#[test]
fn the_idle_timeout_fires_within_half_a_second_of_its_limit() {
    for format in FORMATS {
        for stall in [
            // Silent before the headers.
            Script::stream(Vec::new()).ending(End::Stall(Duration::from_secs(30))),
            // Silent in the middle of the stream.
            success(format)
                .truncated(2)
                .ending(End::Stall(Duration::from_secs(30))),
        ] {
            let server = ModelServer::start(vec![stall, success(format)]);
            let idle = Duration::from_secs(1);
            let (result, _) = chat(options(format, &server, idle), &request());
            check_reply(&result.expect("a reply after the stall"));
            let gap = gap(&server);
            assert!(
                gap >= idle && gap < idle + Duration::from_millis(500),
                "{format:?}: the retry came {gap:?} after the first request"
            );
        }
    }
}

#[test]
fn the_retry_deadline_stops_waiting() {
    let limited = Script::status(429, "{}").with_header("retry-after", "30");
    let server = ModelServer::start(vec![limited, success(Format::OpenAi)]);
    let mut options = options(Format::OpenAi, &server, Duration::from_secs(5));
    options.retry.deadline = Duration::from_secs(5);
    let started = Instant::now();
    let (result, _) = chat(options, &request());
    let error = result.expect_err("the deadline comes first");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert!(error.to_string().contains("retry deadline"), "{error}");
    assert_eq!(server.received().len(), 1);
}

#[test]
fn an_unreachable_endpoint_is_one_clear_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let server = ModelServer::start(Vec::new());
    let mut options = options(Format::OpenAi, &server, Duration::from_secs(5));
    options.base_url = format!("http://127.0.0.1:{port}/v1");
    options.provider = "ollama";
    let started = Instant::now();
    let (result, _) = chat(options, &request());
    let error = result.expect_err("nothing listens there");
    assert!(matches!(error, LlmError::Unreachable { .. }), "{error}");
    assert!(error.to_string().contains("ollama serve"), "{error}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn a_prompt_over_the_window_is_never_sent() {
    let server = ModelServer::start(vec![success(Format::OpenAi)]);
    let mut options = options(Format::OpenAi, &server, Duration::from_secs(5));
    options.context_window = Some(1000);
    let (result, _) = chat(options, &request());
    assert!(matches!(result, Err(LlmError::TooLarge { .. })));
    assert!(server.received().is_empty());
}

fn temp_file(dir: &tempfile::TempDir, name: &str) -> PathBuf {
    dir.path().join(name)
}

#[test]
fn record_then_replay_with_the_server_gone_gives_the_same_reply() {
    let dir = tempfile::tempdir().expect("tempdir");
    for format in FORMATS {
        let tape = temp_file(&dir, &format!("{}.jsonl", format.as_str()));
        let script = vec![
            Script::status(429, "{}").with_header("retry-after-ms", "20"),
            success(format).truncated(3).ending(End::Cut),
            success(format),
        ];
        let server = ModelServer::start(script);
        let mut recording = options(format, &server, Duration::from_secs(5));
        recording.record = Some(tape.clone());
        let (recorded, recorded_deltas) = chat(recording.clone(), &request());
        let recorded = recorded.expect("a reply");
        server.stop();

        let mut replaying = recording.clone();
        replaying.record = None;
        replaying.replay = Some(tape.clone());
        replaying.key = None;
        let (replayed, replayed_deltas) = chat(replaying.clone(), &request());
        assert_eq!(replayed.expect("the same reply"), recorded);
        assert_eq!(replayed_deltas, recorded_deltas);

        let text = std::fs::read_to_string(&tape).expect("the recording");
        assert_eq!(text.lines().count(), 3);
        assert!(!text.contains(CANARY));

        let mut other = request();
        other.messages = vec![Message::user("Say goodbye.")];
        let (mismatch, _) = chat(replaying, &other);
        let error = mismatch.expect_err("a different request");
        assert!(matches!(error, LlmError::Replay(_)), "{error}");
        assert!(
            error.to_string().contains("/messages/"),
            "names where it differs: {error}"
        );
    }
}

#[test]
fn a_key_echoed_by_the_model_is_not_recorded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tape = temp_file(&dir, "echo.jsonl");
    let leak = Turn::text(&["your key is ", CANARY]).openai();
    let server = ModelServer::start(vec![leak]);
    let mut options = options(Format::OpenAi, &server, Duration::from_secs(5));
    options.record = Some(tape.clone());
    let (result, _) = chat(options, &request());
    result.expect("a reply");
    let text = std::fs::read_to_string(&tape).expect("the recording");
    assert!(!text.contains(CANARY), "{text}");
    assert!(text.contains("[redacted]"));
}

/// An endpoint that streams no usage (llama-cpp-python's server ignores `include_usage`): the
/// tokens are counted here, and said to be, so that budgets and reports still see them.
#[test]
fn a_stream_without_usage_is_counted_here() {
    let Script::Stream { mut chunks, end } = turn().openai() else {
        panic!("a stream");
    };
    chunks.retain(|chunk| !chunk.contains("\"usage\""));
    let server = ModelServer::start(vec![Script::Stream { chunks, end }]);
    let (result, _) = chat(
        options(Format::OpenAi, &server, Duration::from_secs(5)),
        &request(),
    );
    let reply = result.expect("a reply");
    assert_eq!(reply.text, "Hello wörld");
    assert!(reply.usage.counted, "{:?}", reply.usage);
    // "You are terse." and "Say hello." with their framing; the text and the call's name and
    // arguments.
    assert!(
        (10..40).contains(&reply.usage.prompt_tokens),
        "{:?}",
        reply.usage
    );
    assert!(
        (5..20).contains(&reply.usage.completion_tokens),
        "{:?}",
        reply.usage
    );
    let server = ModelServer::start(vec![turn().openai()]);
    let (result, _) = chat(
        options(Format::OpenAi, &server, Duration::from_secs(5)),
        &request(),
    );
    assert!(!result.expect("a reply").usage.counted);
}
