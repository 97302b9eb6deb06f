//! Benchmark of the agent loop: Nova's own time per turn (everything but waiting for the model)
//! over a recorded 50-turn `nova ask` run.
//!
//! ```sh
//! cargo bench --bench turns --no-run && taskset -c 0 cargo bench --bench turns
//! ```
//!
//! The fixture, in `target/bench-turns/`, is a git repository holding a copy of Nova's own `src/`
//! (about 25,000 lines in 100 files) with a `chat` agent whose budget allows 60 turns. A scripted
//! model server on 127.0.0.1 answers 49 turns of tool calls (a different file read, searched or
//! looked up each turn, so that the loop guard has no reason to step in) and a final answer; the
//! run is recorded once with `--record`'s recorder, then replayed five times from the recording,
//! with no network. A replayed model answers at once, so the time between one model request and
//! the next is all Nova's: decoding the recorded stream, running the tools, the loop guard, the
//! task memory, the events and the archive, the checkpoint, building the next request. The time
//! before the first request (routing, the index from its cache, the prompt and its map) is
//! reported apart. Results go in BENCHMARKS.md.

#![expect(
    clippy::print_stdout,
    reason = "a benchmark reports its results on stdout"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use nova::agents::AgentSet;
use nova::config::RouteBy;
use nova::llm::{ChatFuture, ChatRequest, Client, ClientOptions, Delta, Format, Provider};
use nova::orchestrator::{self, AskRequest, Event, RunLimits};
use serde_json::{Value, json};

const TURNS: usize = 50;
const REPLAYS: usize = 5;
/// The tools the scripted turns call, in turn.
const TOOLS: [&str; 4] = ["read_file", "search", "symbols", "repo_map"];

fn main() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-turns");
    let _ = std::fs::remove_dir_all(&dir);
    let repo = dir.join("repo");
    let files = make_repo(&repo);
    let cassette = dir.join("run.jsonl");
    let script = script(&files);
    let server = Server::start(script);
    let recorded = run(&repo, client(&server.url(), Some(&cassette), None));
    assert_eq!(
        recorded.requests.len(),
        TURNS,
        "every scripted turn was asked for"
    );
    println!(
        "recorded a {TURNS}-turn run against the scripted server: {:.1} ms in all",
        recorded.total.as_secs_f64() * 1000.0
    );
    let mut gaps = Vec::new();
    let mut firsts = Vec::new();
    let mut by_tool: Vec<(&str, Vec<Duration>)> = TOOLS.iter().map(|t| (*t, Vec::new())).collect();
    for _ in 0..REPLAYS {
        let replayed = run(&repo, client("http://127.0.0.1:9", None, Some(&cassette)));
        assert_eq!(replayed.requests.len(), TURNS);
        firsts.push(replayed.requests[0] - replayed.started);
        for (turn, pair) in replayed.requests.windows(2).enumerate() {
            gaps.push(pair[1] - pair[0]);
            by_tool[turn % TOOLS.len()].1.push(pair[1] - pair[0]);
        }
    }
    gaps.sort();
    firsts.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let at = |q: f64| gaps[((gaps.len() - 1) as f64 * q).round() as usize];
    println!(
        "Nova's time per turn over {} turns ({REPLAYS} replays of {} turns): median {:.2} ms, \
         p95 {:.2} ms, max {:.2} ms",
        gaps.len(),
        TURNS - 1,
        ms(at(0.5)),
        ms(at(0.95)),
        ms(at(1.0))
    );
    for (tool, mut times) in by_tool {
        times.sort();
        println!(
            "  turns that ran `{tool}`: median {:.2} ms, max {:.2} ms",
            ms(times[times.len() / 2]),
            ms(times[times.len() - 1])
        );
    }
    println!(
        "before the first request (routing, index from its cache, prompt with its map): median \
         {:.1} ms",
        ms(firsts[firsts.len() / 2])
    );
}

/// The fixture: Nova's `src/` as a crate, committed, with a chat agent that may take 60 turns.
/// Returns the Rust files, sorted.
fn make_repo(repo: &Path) -> Vec<String> {
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    copy_rs(&source.join("src"), &repo.join("src"), "src", &mut files);
    files.sort();
    write(
        repo,
        "Cargo.toml",
        "[package]\nname = \"fixture\"\nversion = \"0.1.0\"\nedition = \"2024\"\n",
    );
    let chat = std::fs::read_to_string(source.join("agents/chat.md")).expect("the chat agent");
    let roomy = chat.replace(
        "budget = { turns = 12, tokens = 60000, seconds = 180 }",
        "budget = { turns = 60, tokens = 100000000, seconds = 600 }",
    );
    assert_ne!(
        roomy, chat,
        "the chat agent's budget line changed: update the benchmark"
    );
    write(repo, ".nova/agents/chat.md", &roomy);
    commit_all(repo);
    files
}

fn copy_rs(from: &Path, to: &Path, relative: &str, files: &mut Vec<String>) {
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if path.is_dir() {
            copy_rs(&path, &to.join(&name), &format!("{relative}/{name}"), files);
        } else if name.ends_with(".rs") {
            std::fs::create_dir_all(to).expect("mkdir");
            std::fs::copy(&path, to.join(&name)).expect("copy");
            files.push(format!("{relative}/{name}"));
        }
    }
}

fn write(dir: &Path, relative: &str, text: &str) {
    let path = dir.join(relative);
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn commit_all(dir: &Path) {
    let repo = git2::Repository::init(dir).expect("init");
    let mut index = repo.index().expect("index");
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .expect("add");
    index.write().expect("write index");
    let tree = repo
        .find_tree(index.write_tree().expect("tree"))
        .expect("tree");
    let who = git2::Signature::new("bench", "bench@example.com", &git2::Time::new(0, 0))
        .expect("signature");
    repo.commit(Some("HEAD"), &who, &who, "fixture", &tree, &[])
        .expect("commit");
}

/// 49 turns of one tool call each, cycling through the reading tools over different files and
/// names, then an answer; each as an OpenAI stream.
fn script(files: &[String]) -> Vec<String> {
    let mut turns = Vec::new();
    for n in 0..TURNS - 1 {
        let file = &files[n % files.len()];
        let stem = Path::new(file)
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tool = TOOLS[n % TOOLS.len()];
        let args = match tool {
            "read_file" => json!({"path": file}),
            "search" => json!({"pattern": format!("fn {stem}|mod {stem}"), "glob": "src/**/*.rs"}),
            "symbols" => json!({"file": file}),
            _ => json!({"focus": file, "tokens": 1024}),
        };
        turns.push(stream(
            &json!({"index": 0, "id": format!("call_{n}"), "type": "function",
            "function": {"name": tool, "arguments": args.to_string()}}),
        ));
    }
    let answer = json!({"choices": [{"index": 0, "delta": {"content": "Done reading."}}]});
    turns.push(format!("data: {answer}\n\n{}", stream_end("stop")));
    turns
}

fn stream(call: &Value) -> String {
    let chunk = json!({"choices": [{"index": 0, "delta": {"tool_calls": [call]}}]});
    format!("data: {chunk}\n\n{}", stream_end("tool_calls"))
}

fn stream_end(reason: &str) -> String {
    let finish = json!({"choices": [{"index": 0, "delta": {}, "finish_reason": reason}]});
    let usage = json!({"choices": [], "usage": {"prompt_tokens": 1000, "completion_tokens": 20}});
    format!("data: {finish}\n\ndata: {usage}\n\ndata: [DONE]\n\n")
}

/// A scripted model server: each connection gets the next reply, then is closed.
struct Server {
    port: u16,
}

impl Server {
    fn start(script: Vec<String>) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let script = Mutex::new(script.into_iter());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let next = script.lock().expect("lock").next();
                serve(stream, next);
            }
        });
        Server { port }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }
}

fn serve(mut stream: TcpStream, reply: Option<String>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let response = match reply {
        Some(events) => format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncontent-length: {}\r\n\
             connection: close\r\n\r\n{events}",
            events.len()
        ),
        None => String::from("HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n"),
    };
    let _ = stream.write_all(response.as_bytes());
}

fn client(url: &str, record: Option<&Path>, replay: Option<&Path>) -> Client {
    Client::new(ClientOptions {
        format: Format::OpenAi,
        provider: "openai",
        base_url: url.to_owned(),
        key: None,
        connect_timeout: Duration::from_secs(5),
        idle_timeout: Duration::from_secs(30),
        retry: nova::llm::RetryPolicy::default(),
        context_window: None,
        proxy: None,
        no_proxy: None,
        record: record.map(Path::to_owned),
        replay: replay.map(Path::to_owned),
    })
    .expect("a client")
}

/// When a run started, and when each of its model requests was made.
struct Timed {
    started: Instant,
    requests: Vec<Instant>,
    total: Duration,
}

/// The client, noting when each request starts.
struct Stopwatch {
    inner: Client,
    requests: Mutex<Vec<Instant>>,
}

impl Provider for Stopwatch {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn chat<'a>(
        &'a self,
        request: &'a ChatRequest,
        on_delta: &'a mut (dyn FnMut(&Delta) + Send),
    ) -> ChatFuture<'a> {
        self.requests.lock().expect("lock").push(Instant::now());
        self.inner.chat(request, on_delta)
    }
}

fn run(repo: &Path, client: Client) -> Timed {
    let set = AgentSet::for_repo(Some(repo)).expect("the agent set");
    let request = AskRequest {
        question: String::from("Read through the crate and say what each module does."),
        repo_root: Some(repo.to_owned()),
        model: String::from("bench-model"),
        max_tokens: 1024,
        context_window: None,
        map_tokens: 2048,
        prices: None,
        disabled: Vec::new(),
        agent: Some(String::from("chat")),
        validation: None,
        branch: None,
        text_tools: false,
        reasoning: false,
        limits: RunLimits::default(),
        resume: None,
        agents_md: nova::orchestrator::AgentsMd::default(),
        works_on: None,
        hooks: nova::hooks::Hooks::default(),
        mcp_servers: std::collections::BTreeMap::new(),
        mcp_env: Vec::new(),
        route: RouteBy::Offline,
        explain_route: false,
        time: 1_767_225_600,
        on_tip: None,
        trailers: Vec::new(),
        rule_dir: None,
    };
    let provider = Stopwatch {
        inner: client,
        requests: Mutex::new(Vec::new()),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let started = Instant::now();
    let mut sink = |_: &Event| {};
    let outcome = runtime.block_on(orchestrator::ask(&request, &set, &provider, &mut sink));
    let total = started.elapsed();
    let outcome = outcome.expect("the run ends with an answer");
    assert_eq!(outcome.answer, "Done reading.");
    Timed {
        started,
        requests: provider.requests.into_inner().expect("lock"),
        total,
    }
}
