//! Moving bytes: a live HTTP client (reqwest over the system's OpenSSL), a recorder that keeps
//! every exchange as a JSONL line, and a replayer that serves a recording back with no network.
//!
//! An exchange is one HTTP attempt: the request's path and JSON body (never its headers, so never
//! the key), then the status, the headers that steer retries, the body chunks as they arrived, and
//! how the attempt ended. Retries are recorded as the attempts they were, so a replay retries the
//! same way.

use std::collections::{BTreeMap, VecDeque};
use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use reqwest::{NoProxy, Proxy};

use super::client::ClientOptions;
use super::error::LlmError;
use super::secret::{ApiKey, scrub};

/// The TCP port requests to `base_url` go to (its own, else its scheme's), if it is a URL.
pub fn endpoint_port(base_url: &str) -> Option<u16> {
    reqwest::Url::parse(base_url).ok()?.port_or_known_default()
}

/// The response headers worth keeping: they decide retries and parsing.
const KEPT_HEADERS: &[&str] = &["content-type", "retry-after", "retry-after-ms"];

/// One request, as the transport sends it.
#[derive(Debug)]
pub(super) struct Outgoing<'a> {
    pub url: &'a str,
    pub path: &'static str,
    pub headers: &'a [(&'static str, String)],
    pub body: &'a Value,
}

/// A response's status line and kept headers (lower-case names).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) struct Head {
    pub status: u16,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

impl Head {
    pub(super) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// How an attempt failed below the level of the wire format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "fault", content = "detail", rename_all = "snake_case")]
pub(super) enum Fault {
    /// No connection: refused, no route, name not resolved, TLS failed.
    Unreachable(String),
    /// Connected, but the connection closed or failed before the response headers.
    Reset(String),
    /// The body stopped with an error in the middle.
    Cut(String),
    /// Nothing arrived for this long.
    Idle(f64),
    /// The recording does not match what was sent, or has run out.
    Replay(String),
}

/// What a recording file holds, one per line.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Exchange {
    pub request: RecordedRequest,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head: Option<Head>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chunks: Vec<String>,
    /// Set when the attempt ended in a fault rather than the end of its body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault: Option<Fault>,
    /// How long the client waited before trying again, when it did: a replay waits the same
    /// (reported, not slept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_ms: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(super) struct RecordedRequest {
    pub path: String,
    pub body: Value,
}

/// Where requests go.
#[derive(Debug)]
pub(super) enum Transport {
    Live {
        client: reqwest::Client,
        recorder: Option<Recorder>,
    },
    Replay(Replayer),
}

/// A response being read.
#[derive(Debug)]
pub(super) enum Body {
    Live(reqwest::Response),
    Replay {
        chunks: VecDeque<String>,
        fault: Option<Fault>,
    },
}

impl Transport {
    pub(super) fn live(options: &ClientOptions) -> Result<Transport, LlmError> {
        // Proxies come from `config`, never from reqwest's own reading of the environment.
        let mut builder = reqwest::Client::builder()
            .connect_timeout(options.connect_timeout)
            .user_agent(concat!("nova/", env!("CARGO_PKG_VERSION")))
            .no_proxy();
        if let Some(url) = &options.proxy {
            let no_proxy = options.no_proxy.as_deref().and_then(NoProxy::from_string);
            let proxy = Proxy::all(url.as_str())
                .map_err(|error| {
                    LlmError::Client(format!("the proxy `{url}` is not usable: {error}"))
                })?
                .no_proxy(no_proxy);
            builder = builder.proxy(proxy);
        }
        let client = builder
            .build()
            .map_err(|error| LlmError::Client(describe(&error)))?;
        let recorder = options
            .record
            .as_deref()
            .map(Recorder::create)
            .transpose()
            .map_err(LlmError::Record)?;
        Ok(Transport::Live { client, recorder })
    }

    pub(super) fn replay(path: &Path) -> Result<Transport, LlmError> {
        Replayer::open(path)
            .map(Transport::Replay)
            .map_err(LlmError::Replay)
    }

    /// A replay never waits: its delays already happened when it was recorded.
    pub(super) fn is_replay(&self) -> bool {
        matches!(self, Transport::Replay(_))
    }

    /// Sends the request and waits for the response headers, at most `idle`.
    pub(super) async fn open(
        &self,
        request: &Outgoing<'_>,
        idle: Duration,
    ) -> Result<(Head, Body), Fault> {
        match self {
            Transport::Live { client, .. } => {
                let mut builder = client
                    .post(format!("{}{}", request.url, request.path))
                    .header("content-type", "application/json")
                    .body(request.body.to_string());
                for (name, value) in request.headers {
                    builder = builder.header(*name, value);
                }
                let response = match tokio::time::timeout(idle, builder.send()).await {
                    Err(_) => return Err(Fault::Idle(idle.as_secs_f64())),
                    Ok(Err(error)) if error.is_connect() => {
                        return Err(Fault::Unreachable(describe(&error)));
                    }
                    Ok(Err(error)) => return Err(Fault::Reset(describe(&error))),
                    Ok(Ok(response)) => response,
                };
                let headers = KEPT_HEADERS
                    .iter()
                    .filter_map(|name| {
                        let value = response.headers().get(*name)?.to_str().ok()?;
                        Some(((*name).to_owned(), value.to_owned()))
                    })
                    .collect();
                let head = Head {
                    status: response.status().as_u16(),
                    headers,
                };
                Ok((head, Body::Live(response)))
            }
            Transport::Replay(replayer) => replayer.serve(request),
        }
    }

    /// The wait recorded after the exchange served last, when replaying.
    pub(super) fn recorded_wait(&self) -> Option<Duration> {
        match self {
            Transport::Replay(replayer) => replayer
                .last_wait
                .lock()
                .ok()
                .and_then(|wait| *wait)
                .map(Duration::from_millis),
            Transport::Live { .. } => None,
        }
    }

    /// Keeps an attempt in the recording, if there is one.
    pub(super) fn record(&self, exchange: &Exchange, key: Option<&ApiKey>) -> Result<(), LlmError> {
        match self {
            Transport::Live {
                recorder: Some(recorder),
                ..
            } => recorder.write(exchange, key).map_err(LlmError::Record),
            _ => Ok(()),
        }
    }
}

impl Body {
    /// The next piece of the body, `None` at its end; at most `idle` of waiting.
    pub(super) async fn next(&mut self, idle: Duration) -> Result<Option<Vec<u8>>, Fault> {
        match self {
            Body::Live(response) => match tokio::time::timeout(idle, response.chunk()).await {
                Err(_) => Err(Fault::Idle(idle.as_secs_f64())),
                Ok(Err(error)) => Err(Fault::Cut(describe(&error))),
                Ok(Ok(chunk)) => Ok(chunk.map(|bytes| bytes.to_vec())),
            },
            Body::Replay { chunks, fault } => match chunks.pop_front() {
                Some(chunk) => Ok(Some(chunk.into_bytes())),
                None => match fault.take() {
                    Some(fault) => Err(fault),
                    None => Ok(None),
                },
            },
        }
    }
}

/// A reqwest error and its causes, without the URL (which the caller knows, and which may carry
/// a token in its query).
/// Only the causes that say something: hyper's wrappers (`client error (Connect)`) are skipped.
fn describe(error: &reqwest::Error) -> String {
    let mut causes = Vec::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !text.starts_with("client error (") {
            causes.push(text);
        }
        source = cause.source();
    }
    if causes.is_empty() {
        let what = if error.is_timeout() {
            "timed out"
        } else {
            "failed"
        };
        return format!("the HTTP request {what}");
    }
    causes.join(": ")
}

/// Appends exchanges to a JSONL file as they finish, so a crash keeps every finished one.
#[derive(Debug)]
pub(super) struct Recorder {
    path: PathBuf,
    file: Mutex<File>,
}

impl Recorder {
    fn create(path: &Path) -> Result<Recorder, String> {
        let file = File::create(path)
            .map_err(|error| format!("cannot create `{}`: {error}", path.display()))?;
        Ok(Recorder {
            path: path.to_owned(),
            file: Mutex::new(file),
        })
    }

    fn write(&self, exchange: &Exchange, key: Option<&ApiKey>) -> Result<(), String> {
        let line = serde_json::to_string(exchange).map_err(|error| error.to_string())?;
        // A key the model or the server echoed back must not reach the file either.
        let line = scrub(key, &line);
        let mut file = self
            .file
            .lock()
            .map_err(|_| String::from("the recording's lock was poisoned"))?;
        writeln!(file, "{line}")
            .and_then(|()| file.flush())
            .map_err(|error| format!("cannot write `{}`: {error}", self.path.display()))
    }
}

/// Serves a recording's exchanges in order, checking that each request is the one recorded.
#[derive(Debug)]
pub(super) struct Replayer {
    path: PathBuf,
    exchanges: Mutex<(usize, VecDeque<Exchange>)>,
    last_wait: Mutex<Option<u64>>,
}

impl Replayer {
    fn open(path: &Path) -> Result<Replayer, String> {
        let file = File::open(path)
            .map_err(|error| format!("cannot read the recording `{}`: {error}", path.display()))?;
        let mut exchanges = VecDeque::new();
        for (number, line) in BufReader::new(file).lines().enumerate() {
            let line =
                line.map_err(|error| format!("cannot read `{}`: {error}", path.display()))?;
            if line.trim().is_empty() {
                continue;
            }
            let exchange: Exchange = serde_json::from_str(&line).map_err(|error| {
                format!(
                    "`{}` line {} is not a recorded exchange: {error}",
                    path.display(),
                    number + 1
                )
            })?;
            exchanges.push_back(exchange);
        }
        Ok(Replayer {
            path: path.to_owned(),
            exchanges: Mutex::new((0, exchanges)),
            last_wait: Mutex::new(None),
        })
    }

    fn serve(&self, request: &Outgoing<'_>) -> Result<(Head, Body), Fault> {
        let mut guard = self
            .exchanges
            .lock()
            .map_err(|_| Fault::Replay(String::from("the recording's lock was poisoned")))?;
        let (served, exchanges) = &mut *guard;
        *served += 1;
        let number = *served;
        let Some(exchange) = exchanges.pop_front() else {
            return Err(Fault::Replay(format!(
                "request {number} was never recorded: `{}` has only {} exchange(s). Record the run \
                 again with `--record`",
                self.path.display(),
                number - 1
            )));
        };
        let sent = RecordedRequest {
            path: request.path.to_owned(),
            body: request.body.clone(),
        };
        if let Ok(mut wait) = self.last_wait.lock() {
            *wait = exchange.wait_ms;
        }
        if let Some(difference) = first_difference(&exchange.request, &sent) {
            return Err(Fault::Replay(format!(
                "request {number} differs from the one recorded in `{}`: {difference}. The prompt, \
                 model or options changed since the recording; record it again with `--record`",
                self.path.display()
            )));
        }
        match exchange.head {
            None => Err(exchange.fault.unwrap_or_else(|| {
                Fault::Replay(format!(
                    "exchange {number} of `{}` has neither a response nor a fault",
                    self.path.display()
                ))
            })),
            Some(head) => Ok((
                head,
                Body::Replay {
                    chunks: exchange.chunks.into(),
                    fault: exchange.fault,
                },
            )),
        }
    }
}

/// Where two requests first differ, as a JSON pointer and both values (shortened).
fn first_difference(recorded: &RecordedRequest, sent: &RecordedRequest) -> Option<String> {
    if recorded.path != sent.path {
        return Some(format!(
            "the path was `{}`, now `{}`",
            recorded.path, sent.path
        ));
    }
    fn walk(pointer: &str, a: &Value, b: &Value) -> Option<String> {
        match (a, b) {
            (Value::Object(a), Value::Object(b)) => {
                let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
                keys.into_iter().find_map(|key| {
                    let null = Value::Null;
                    let here = format!("{pointer}/{key}");
                    walk(
                        &here,
                        a.get(key).unwrap_or(&null),
                        b.get(key).unwrap_or(&null),
                    )
                })
            }
            (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
                .iter()
                .zip(b)
                .enumerate()
                .find_map(|(i, (a, b))| walk(&format!("{pointer}/{i}"), a, b)),
            _ if a == b => None,
            _ => Some(format!(
                "at `{}` the recording has {} but Nova sent {}",
                if pointer.is_empty() { "/" } else { pointer },
                short(a),
                short(b)
            )),
        }
    }
    walk("", &recorded.body, &sent.body)
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    if text.chars().count() <= 60 {
        text
    } else {
        let head: String = text.chars().take(57).collect();
        format!("{head}...")
    }
}

/// Collects what an attempt received, for the recorder: chunks become strings at UTF-8 character
/// boundaries, so a character cut between two network reads is kept whole.
#[derive(Debug, Default)]
pub(super) struct Tape {
    pending: Vec<u8>,
    chunks: Vec<String>,
}

impl Tape {
    pub(super) fn push(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
        let valid = match std::str::from_utf8(&self.pending) {
            Ok(text) => text.len(),
            Err(error) if error.error_len().is_none() => error.valid_up_to(),
            Err(_) => self.pending.len(),
        };
        if valid > 0 {
            let rest = self.pending.split_off(valid);
            let done = std::mem::replace(&mut self.pending, rest);
            self.chunks
                .push(String::from_utf8_lossy(&done).into_owned());
        }
    }

    pub(super) fn into_exchange(
        mut self,
        request: &Outgoing<'_>,
        head: Option<Head>,
        fault: Option<Fault>,
    ) -> Exchange {
        if !self.pending.is_empty() {
            self.chunks
                .push(String::from_utf8_lossy(&self.pending).into_owned());
        }
        Exchange {
            request: RecordedRequest {
                path: request.path.to_owned(),
                body: request.body.clone(),
            },
            head,
            chunks: self.chunks,
            fault,
            wait_ms: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_endpoint_s_port_is_its_own_else_its_scheme_s() {
        assert_eq!(endpoint_port("http://127.0.0.1:4123/v1"), Some(4123));
        assert_eq!(endpoint_port("https://api.anthropic.com"), Some(443));
        assert_eq!(endpoint_port("http://localhost/v1"), Some(80));
        assert_eq!(endpoint_port("not a url"), None);
    }

    #[test]
    fn differences_are_located() {
        let recorded = RecordedRequest {
            path: "/v1/messages".into(),
            body: json!({"model": "a", "messages": [{"content": "hi"}]}),
        };
        let mut sent = recorded.clone();
        assert_eq!(first_difference(&recorded, &sent), None);
        sent.body["messages"][0]["content"] = json!("bye");
        assert_eq!(
            first_difference(&recorded, &sent).as_deref(),
            Some("at `/messages/0/content` the recording has \"hi\" but Nova sent \"bye\"")
        );
    }

    #[test]
    fn tape_keeps_characters_whole() {
        let mut tape = Tape::default();
        let text = "data: ünïcode\n\n".as_bytes();
        tape.push(&text[..7]);
        tape.push(&text[7..]);
        let body = json!({});
        let outgoing = Outgoing {
            url: "http://x",
            path: "/p",
            headers: &[],
            body: &body,
        };
        let exchange = tape.into_exchange(&outgoing, None, None);
        assert_eq!(exchange.chunks.concat(), "data: ünïcode\n\n");
    }
}
