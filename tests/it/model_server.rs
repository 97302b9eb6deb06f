//! A scripted model server: real HTTP/1.1 on 127.0.0.1, both wire formats, faults on cue, and a
//! handle on every request Nova sent. Each connection serves one request with the next scripted
//! reply; the server stops when dropped.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// What the server does with one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A whole response with this status, headers and body.
    Status {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// A `text/event-stream` response, chunked, one HTTP chunk per element, then `end`.
    Stream { chunks: Vec<String>, end: End },
    /// Read the request, then close the connection without a response.
    Reset,
}

/// How a streamed response ends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum End {
    /// The terminating zero-length chunk: a clean end.
    Clean,
    /// The connection closes mid-body: a cut stream.
    Cut,
    /// The connection stays open and silent for this long.
    Stall(Duration),
}

impl Reply {
    pub fn status(status: u16, body: &str) -> Reply {
        Reply::Status {
            status,
            headers: Vec::new(),
            body: body.to_owned(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        if let Reply::Status { headers, .. } = &mut self {
            headers.push((name.to_owned(), value.to_owned()));
        }
        self
    }

    pub fn json(body: &Value) -> Reply {
        Reply::status(200, &body.to_string()).with_header("content-type", "application/json")
    }

    pub fn stream(chunks: Vec<String>) -> Reply {
        Reply::Stream {
            chunks,
            end: End::Clean,
        }
    }

    /// The same stream, ending another way.
    pub fn ending(self, how: End) -> Reply {
        match self {
            Reply::Stream { chunks, .. } => Reply::Stream { chunks, end: how },
            other => other,
        }
    }

    /// The same stream cut into HTTP chunks of about `size` bytes, wherever that falls (inside an
    /// event, a line or a JSON string; never inside a character).
    pub fn rechunked(self, size: usize) -> Reply {
        match self {
            Reply::Stream { chunks, end } => {
                let text = chunks.concat();
                let mut pieces = Vec::new();
                let mut start = 0;
                while start < text.len() {
                    let mut stop = (start + size).min(text.len());
                    while !text.is_char_boundary(stop) {
                        stop += 1;
                    }
                    pieces.push(text[start..stop].to_owned());
                    start = stop;
                }
                Reply::Stream {
                    chunks: pieces,
                    end,
                }
            }
            other => other,
        }
    }

    /// The same stream without its last `drop` chunks.
    pub fn truncated(self, drop: usize) -> Reply {
        match self {
            Reply::Stream { mut chunks, end } => {
                chunks.truncate(chunks.len().saturating_sub(drop));
                Reply::Stream { chunks, end }
            }
            other => other,
        }
    }
}

/// What a model says in one reply, for the stream builders.
#[derive(Debug, Clone, Default)]
pub struct Turn {
    /// Text, in the pieces it streams in.
    pub text: Vec<String>,
    /// Tool calls: id, name, and the arguments' JSON in the pieces it streams in.
    pub calls: Vec<(String, String, Vec<String>)>,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub cached_tokens: u64,
}

impl Turn {
    pub fn text(pieces: &[&str]) -> Turn {
        Turn {
            text: pieces.iter().map(|s| (*s).to_owned()).collect(),
            prompt_tokens: 12,
            completion_tokens: 7,
            cached_tokens: 2,
            ..Turn::default()
        }
    }

    pub fn call(mut self, id: &str, name: &str, pieces: &[&str]) -> Turn {
        self.calls.push((
            id.to_owned(),
            name.to_owned(),
            pieces.iter().map(|s| (*s).to_owned()).collect(),
        ));
        self
    }

    /// The turn as OpenAI chat completion chunks, ending in `data: [DONE]`.
    pub fn openai(&self) -> Reply {
        let mut chunks = Vec::new();
        let event = |data: Value| format!("data: {data}\n\n");
        for piece in &self.text {
            chunks.push(event(
                json!({"choices": [{"index": 0, "delta": {"content": piece}}]}),
            ));
        }
        for (index, (id, name, pieces)) in self.calls.iter().enumerate() {
            chunks.push(event(json!({"choices": [{"index": 0, "delta": {"tool_calls": [
                {"index": index, "id": id, "type": "function", "function": {"name": name, "arguments": ""}}
            ]}}]})));
            for piece in pieces {
                chunks.push(event(
                    json!({"choices": [{"index": 0, "delta": {"tool_calls": [
                        {"index": index, "function": {"arguments": piece}}
                    ]}}]}),
                ));
            }
        }
        let finish = if self.calls.is_empty() {
            "stop"
        } else {
            "tool_calls"
        };
        chunks.push(event(
            json!({"choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}),
        ));
        chunks.push(event(json!({"choices": [], "usage": {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "prompt_tokens_details": {"cached_tokens": self.cached_tokens},
        }})));
        chunks.push(String::from("data: [DONE]\n\n"));
        Reply::stream(chunks)
    }

    /// The turn as Anthropic Messages events, ending in `message_stop`.
    pub fn anthropic(&self) -> Reply {
        let mut chunks = Vec::new();
        let event = |name: &str, data: Value| format!("event: {name}\ndata: {data}\n\n");
        chunks.push(event(
            "message_start",
            json!({"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant", "content": [], "usage": {
                "input_tokens": self.prompt_tokens - self.cached_tokens,
                "cache_read_input_tokens": self.cached_tokens,
                "output_tokens": 1,
            }}}),
        ));
        // One content block: its start, its deltas, its stop. Anthropic numbers blocks in order.
        let mut blocks: Vec<(Value, Vec<Value>)> = Vec::new();
        if !self.text.is_empty() {
            let deltas = self
                .text
                .iter()
                .map(|piece| json!({"type": "text_delta", "text": piece}))
                .collect();
            blocks.push((json!({"type": "text", "text": ""}), deltas));
        }
        for (id, name, pieces) in &self.calls {
            let deltas = pieces
                .iter()
                .map(|piece| json!({"type": "input_json_delta", "partial_json": piece}))
                .collect();
            blocks.push((
                json!({"type": "tool_use", "id": id, "name": name, "input": {}}),
                deltas,
            ));
        }
        for (index, (start, deltas)) in blocks.into_iter().enumerate() {
            chunks.push(event(
                "content_block_start",
                json!({"type": "content_block_start", "index": index, "content_block": start}),
            ));
            chunks.push(event("ping", json!({"type": "ping"})));
            for delta in deltas {
                chunks.push(event(
                    "content_block_delta",
                    json!({"type": "content_block_delta", "index": index, "delta": delta}),
                ));
            }
            chunks.push(event(
                "content_block_stop",
                json!({"type": "content_block_stop", "index": index}),
            ));
        }
        let stop = if self.calls.is_empty() {
            "end_turn"
        } else {
            "tool_use"
        };
        chunks.push(event(
            "message_delta",
            json!({"type": "message_delta", "delta": {"stop_reason": stop}, "usage": {"output_tokens": self.completion_tokens}}),
        ));
        chunks.push(event("message_stop", json!({"type": "message_stop"})));
        Reply::stream(chunks)
    }
}

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Value,
    pub at: Instant,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Computes the reply to a request from the request itself.
type Responder = Box<dyn Fn(&Received) -> Reply + Send + Sync>;

struct Shared {
    script: Mutex<VecDeque<Reply>>,
    /// When set, replies come from it instead of the script.
    responder: Option<Responder>,
    received: Mutex<Vec<Received>>,
    stop: AtomicBool,
    /// Connections that reached an `End::Stall`: everything before it was sent.
    stalled: AtomicUsize,
}

/// The running server.
pub struct ModelServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl ModelServer {
    /// Starts a server that answers requests with `script`, in order; when the script runs out it
    /// answers 500 with a note saying so.
    pub fn start(script: Vec<Reply>) -> ModelServer {
        Self::serving(script, None)
    }

    /// Starts a server that answers each request with what `respond` makes of it: a model whose
    /// answers depend on what it is asked (its prompt, the tool results so far).
    pub fn responding(respond: impl Fn(&Received) -> Reply + Send + Sync + 'static) -> ModelServer {
        Self::serving(Vec::new(), Some(Box::new(respond)))
    }

    fn serving(script: Vec<Reply>, responder: Option<Responder>) -> ModelServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared {
            responder,
            script: Mutex::new(script.into()),
            received: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            stalled: AtomicUsize::new(0),
        });
        let accept = Arc::clone(&shared);
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if accept.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let shared = Arc::clone(&accept);
                std::thread::spawn(move || serve(stream, &shared));
            }
        });
        ModelServer {
            addr,
            shared,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.shared.received.lock().expect("lock").clone()
    }

    /// How many connections have sent all they had and now stall.
    pub fn stalled(&self) -> usize {
        self.shared.stalled.load(Ordering::SeqCst)
    }

    /// Stops accepting and closes stalled connections.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for ModelServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn serve(stream: TcpStream, shared: &Shared) {
    let Some(received) = read_request(&stream) else {
        return;
    };
    let responded = shared.responder.as_ref().map(|respond| respond(&received));
    shared.received.lock().expect("lock").push(received);
    let reply = responded.or_else(|| shared.script.lock().expect("lock").pop_front());
    let reply = reply.unwrap_or_else(|| {
        Reply::status(
            500,
            r#"{"error":{"message":"the test's script has no reply left","type":"test"}}"#,
        )
    });
    let _ = respond(stream, reply, shared);
}

fn read_request(stream: &TcpStream) -> Option<Received> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut headers = Vec::new();
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        let name = name.trim().to_ascii_lowercase();
        let value = value.trim().to_owned();
        if name == "content-length" {
            length = value.parse().ok()?;
        }
        headers.push((name, value));
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Received {
        method,
        path,
        headers,
        body: serde_json::from_slice(&body).unwrap_or(Value::Null),
        at: Instant::now(),
    })
}

fn respond(mut stream: TcpStream, reply: Reply, shared: &Shared) -> std::io::Result<()> {
    match reply {
        Reply::Reset => {
            let _ = stream.shutdown(std::net::Shutdown::Both);
            Ok(())
        }
        Reply::Status {
            status,
            headers,
            body,
        } => {
            let mut head = format!(
                "HTTP/1.1 {status} Scripted\r\ncontent-length: {}\r\nconnection: close\r\n",
                body.len()
            );
            if !headers.iter().any(|(n, _)| n == "content-type") {
                head.push_str("content-type: application/json\r\n");
            }
            for (name, value) in headers {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
            head.push_str("\r\n");
            stream.write_all(head.as_bytes())?;
            stream.write_all(body.as_bytes())?;
            stream.flush()
        }
        Reply::Stream { chunks, end } => {
            stream.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n",
            )?;
            for chunk in chunks {
                write!(stream, "{:x}\r\n{chunk}\r\n", chunk.len())?;
                stream.flush()?;
            }
            match end {
                End::Clean => stream.write_all(b"0\r\n\r\n")?,
                End::Cut => {
                    // Half a chunk, then the connection closes.
                    stream.write_all(b"40\r\ndata: {\"choi")?;
                    stream.flush()?;
                    let _ = stream.shutdown(std::net::Shutdown::Both);
                }
                End::Stall(how_long) => {
                    stream.flush()?;
                    shared.stalled.fetch_add(1, Ordering::SeqCst);
                    let until = Instant::now() + how_long;
                    while Instant::now() < until && !shared.stop.load(Ordering::SeqCst) {
                        std::thread::sleep(Duration::from_millis(20));
                    }
                }
            }
            stream.flush()
        }
    }
}
