//! The client: one request through the wire format and the transport, retried on what is worth
//! retrying, streamed to the caller as it arrives.

use std::borrow::Cow;
use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::time::{Duration, Instant};

use super::chat::{ChatRequest, Delta, Reply};
use super::context;
use super::error::LlmError;
use super::retry::{RetryPolicy, TRANSIENT_STATUSES, server_delay};
use super::secret::{ApiKey, scrub};
use super::sse::SseParser;
use super::transport::{Body, Exchange, Fault, Head, Outgoing, Tape, Transport};
use super::wire::{Format, Progress, WireError};

/// Bodies of error responses are read up to this size.
const ERROR_BODY_LIMIT: usize = 64 << 10;

/// A reply on its way: what [`Provider::chat`] returns. Boxed, so that providers can sit behind
/// `dyn Provider` and one run can give each agent its own.
pub type ChatFuture<'a> = Pin<Box<dyn Future<Output = Result<Reply, LlmError>> + Send + 'a>>;

/// Anything that answers a conversation. The orchestrator holds these as `&dyn Provider` and
/// knows nothing of HTTP; tests and later brains can stand in for [`Client`].
pub trait Provider: Send + Sync {
    /// Who answers, for the record: `openai at http://…, model m`.
    fn describe(&self) -> String;

    /// Sends `request` and returns the whole reply, passing each [`Delta`] to `on_delta` as it
    /// arrives. Dropping the future cancels the request at once.
    fn chat<'a>(
        &'a self,
        request: &'a ChatRequest,
        on_delta: &'a mut (dyn FnMut(&Delta) + Send),
    ) -> ChatFuture<'a>;
}

/// Where the requests go and how hard to try.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub format: Format,
    /// The provider's name, for messages (`ollama` speaks [`Format::OpenAi`]).
    pub provider: &'static str,
    /// The endpoint without the format's path: `https://api.openai.com/v1`.
    pub base_url: String,
    pub key: Option<ApiKey>,
    pub connect_timeout: Duration,
    /// The longest wait for the response headers or for the next piece of a stream.
    pub idle_timeout: Duration,
    pub retry: RetryPolicy,
    /// The model's context window, when known: larger prompts are refused before sending.
    pub context_window: Option<u64>,
    /// Send requests through this proxy, except to the hosts in `no_proxy`.
    pub proxy: Option<String>,
    pub no_proxy: Option<String>,
    /// `--record FILE`: keep every exchange.
    pub record: Option<PathBuf>,
    /// `--replay FILE`: answer from a recording; nothing goes to the network.
    pub replay: Option<PathBuf>,
}

/// A model endpoint over HTTP (or a recording of one).
#[derive(Debug)]
pub struct Client {
    options: ClientOptions,
    transport: Transport,
}

/// How one attempt failed.
enum AttemptError {
    /// Worth another try, after the server's wait if it named one.
    Transient {
        reason: String,
        wait: Option<Duration>,
    },
    Permanent(LlmError),
}

impl Client {
    pub fn new(options: ClientOptions) -> Result<Client, LlmError> {
        let transport = match &options.replay {
            Some(path) => Transport::replay(path)?,
            None => Transport::live(&options)?,
        };
        Ok(Client { options, transport })
    }

    async fn send(
        &self,
        request: &ChatRequest,
        on_delta: &mut (dyn FnMut(&Delta) + Send),
    ) -> Result<Reply, LlmError> {
        context::check(request, self.options.context_window)?;
        let key = self.options.key.as_ref();
        let headers = self.options.format.headers(key);
        let body = self.options.format.body(request);
        let outgoing = Outgoing {
            url: self.options.base_url.trim_end_matches('/'),
            path: self.options.format.path(),
            headers: &headers,
            body: &body,
        };
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut scrubbed = |delta: &Delta| match (delta, key) {
                (Delta::Text { text }, Some(key)) => on_delta(&Delta::Text {
                    text: key.scrub(text).into_owned(),
                }),
                _ => on_delta(delta),
            };
            let (result, mut exchange) =
                self.attempt(&outgoing, request.stream, &mut scrubbed).await;
            let next = match result {
                // A key the endpoint echoed goes no further than this.
                Ok(reply) => Next::Done(Ok(context::with_usage(request, scrub_reply(key, reply)))),
                Err(AttemptError::Permanent(error)) => Next::Done(Err(error)),
                Err(AttemptError::Transient { reason, wait }) => {
                    let reason = scrub(key, &reason).into_owned();
                    self.plan_retry(attempt, started, reason, wait)
                }
            };
            if let Next::Retry { delay_ms, .. } = &next {
                exchange.wait_ms = Some(*delay_ms);
            }
            self.record(&exchange)?;
            match next {
                Next::Done(result) => return result,
                Next::Retry { reason, delay_ms } => {
                    on_delta(&Delta::Retrying {
                        attempt: attempt + 1,
                        reason,
                        delay_ms,
                    });
                    if !self.transport.is_replay() {
                        tokio::time::sleep(Duration::from_millis(delay_ms)).await;
                    }
                }
            }
        }
    }

    /// After failed attempt number `attempt`: how long to wait before the next, or why not to.
    fn plan_retry(
        &self,
        attempt: u32,
        started: Instant,
        reason: String,
        wait: Option<Duration>,
    ) -> Next {
        let policy = self.options.retry;
        let gave_up = |last: String| {
            Next::Done(Err(LlmError::GaveUp {
                attempts: attempt,
                seconds: started.elapsed().as_secs_f64(),
                last,
            }))
        };
        if attempt > policy.max_retries {
            return gave_up(reason);
        }
        // A replay waits what the recording says it waited (and does not sleep it).
        let delay = self
            .transport
            .recorded_wait()
            .or(wait)
            .unwrap_or_else(|| policy.backoff(attempt));
        if started.elapsed() + delay > policy.deadline {
            return gave_up(format!(
                "{reason} (waiting {:.1} s more would pass the retry deadline of {} s)",
                delay.as_secs_f64(),
                policy.deadline.as_secs()
            ));
        }
        Next::Retry {
            reason,
            delay_ms: u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
        }
    }

    fn record(&self, exchange: &Exchange) -> Result<(), LlmError> {
        self.transport.record(exchange, self.options.key.as_ref())
    }

    /// One HTTP attempt, and what it received, for the recording.
    async fn attempt(
        &self,
        outgoing: &Outgoing<'_>,
        stream: bool,
        on_delta: &mut (dyn FnMut(&Delta) + Send),
    ) -> (Result<Reply, AttemptError>, Exchange) {
        let idle = self.options.idle_timeout;
        let mut tape = Tape::default();
        let (head, result, fault) = match self.transport.open(outgoing, idle).await {
            Err(fault) => {
                let error = self.fault_error(&fault);
                (None, Err(error), Some(fault))
            }
            Ok((head, mut body)) => {
                let (result, fault) = self
                    .read(&head, &mut body, &mut tape, stream, on_delta)
                    .await;
                (Some(head), result, fault)
            }
        };
        (result, tape.into_exchange(outgoing, head, fault))
    }

    /// Reads a response: an error status, a plain JSON reply, or a stream of events.
    async fn read(
        &self,
        head: &Head,
        body: &mut Body,
        tape: &mut Tape,
        stream: bool,
        on_delta: &mut (dyn FnMut(&Delta) + Send),
    ) -> (Result<Reply, AttemptError>, Option<Fault>) {
        let idle = self.options.idle_timeout;
        let format = self.options.format;
        if !(200..300).contains(&head.status) {
            let mut bytes = Vec::new();
            let fault = loop {
                match body.next(idle).await {
                    Ok(Some(chunk)) => {
                        tape.push(&chunk);
                        if bytes.len() < ERROR_BODY_LIMIT {
                            bytes.extend_from_slice(&chunk);
                        }
                    }
                    Ok(None) => break None,
                    Err(fault) => break Some(fault),
                }
            };
            return (Err(self.status_error(head, &bytes)), fault);
        }
        let content_type = head.header("content-type").unwrap_or("");
        if !stream || content_type.starts_with("application/json") {
            let mut bytes = Vec::new();
            loop {
                match body.next(idle).await {
                    Ok(Some(chunk)) => {
                        tape.push(&chunk);
                        bytes.extend_from_slice(&chunk);
                    }
                    Ok(None) => break,
                    Err(fault) => {
                        let error = self.fault_error(&fault);
                        return (Err(error), Some(fault));
                    }
                }
            }
            let result = format
                .parse_reply(&bytes)
                .map_err(|error| self.wire_error(error));
            if let Ok(reply) = &result
                && !reply.text.is_empty()
            {
                on_delta(&Delta::Text {
                    text: reply.text.clone(),
                });
            }
            return (result, None);
        }
        let mut parser = SseParser::new();
        let mut decoder = format.decoder();
        let mut events = Vec::new();
        let mut deltas = Vec::new();
        loop {
            let chunk = match body.next(idle).await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => {
                    let reason = format!(
                        "the stream ended before its terminal event ({})",
                        match format {
                            Format::OpenAi => "`data: [DONE]`",
                            Format::Anthropic => "`message_stop`",
                        }
                    );
                    return (Err(transient(reason)), None);
                }
                Err(fault) => {
                    let error = self.fault_error(&fault);
                    return (Err(error), Some(fault));
                }
            };
            tape.push(&chunk);
            if let Err(error) = parser.feed(&chunk, &mut events) {
                return (Err(transient(format!("malformed stream: {error}"))), None);
            }
            for event in events.drain(..) {
                let progress = decoder.event(&event, &mut deltas);
                for delta in deltas.drain(..) {
                    on_delta(&delta);
                }
                match progress {
                    Ok(Progress::More) => {}
                    Ok(Progress::Done) => {
                        let result = decoder.finish().map_err(|error| self.wire_error(error));
                        return (result, None);
                    }
                    Err(error) => return (Err(self.wire_error(error)), None),
                }
            }
        }
    }

    fn fault_error(&self, fault: &Fault) -> AttemptError {
        match fault {
            Fault::Unreachable(reason) => AttemptError::Permanent(LlmError::Unreachable {
                url: self.options.base_url.clone(),
                reason: reason.clone(),
                hint: self.unreachable_hint(),
            }),
            Fault::Reset(reason) => transient(format!(
                "the connection failed before the response: {reason}"
            )),
            Fault::Cut(reason) => transient(format!("the stream was cut: {reason}")),
            Fault::Idle(seconds) => transient(format!(
                "nothing arrived for {seconds:.0} s (the idle timeout)"
            )),
            Fault::Replay(why) => AttemptError::Permanent(LlmError::Replay(why.clone())),
        }
    }

    fn unreachable_hint(&self) -> String {
        if self.options.provider == "ollama" {
            String::from("Is Ollama running? Start it with `ollama serve`, or set `--base-url`")
        } else {
            String::from("Check the address (`--base-url`) and your network")
        }
    }

    fn status_error(&self, head: &Head, body: &[u8]) -> AttemptError {
        let error = WireError::from_body(body);
        let message = scrub(self.options.key.as_ref(), &error.to_string()).into_owned();
        if TRANSIENT_STATUSES.contains(&head.status) {
            return AttemptError::Transient {
                reason: format!("HTTP {}: {message}", head.status),
                wait: server_delay(head.header("retry-after-ms"), head.header("retry-after")),
            };
        }
        if error.is_context_length() {
            return AttemptError::Permanent(LlmError::ContextLength { message });
        }
        let hint = match head.status {
            401 | 403 => {
                "Check the API key: is it the right one for this endpoint, and still valid?"
            }
            404 => "Check the base URL and the model name",
            _ => "The request was not accepted as sent; this is not worth retrying",
        };
        AttemptError::Permanent(LlmError::Rejected {
            status: head.status,
            message,
            hint,
        })
    }

    fn wire_error(&self, error: WireError) -> AttemptError {
        let message = scrub(self.options.key.as_ref(), &error.to_string()).into_owned();
        if error.is_transient() {
            transient(message)
        } else if error.is_context_length() {
            AttemptError::Permanent(LlmError::ContextLength { message })
        } else {
            AttemptError::Permanent(LlmError::Rejected {
                status: 200,
                message,
                hint: "The provider reported an error inside its reply",
            })
        }
    }
}

/// What the retry loop does after an attempt.
enum Next {
    Done(Result<Reply, LlmError>),
    Retry { reason: String, delay_ms: u64 },
}

/// `reply` with the key removed from its text and its tool calls' arguments.
fn scrub_reply(key: Option<&ApiKey>, mut reply: Reply) -> Reply {
    let Some(key) = key else { return reply };
    reply.text = key.scrub(&reply.text).into_owned();
    for call in &mut reply.tool_calls {
        let arguments = call.arguments.to_string();
        if let Cow::Owned(clean) = key.scrub(&arguments) {
            call.arguments = serde_json::from_str(&clean).unwrap_or(serde_json::Value::Null);
        }
    }
    reply
}

fn transient(reason: String) -> AttemptError {
    AttemptError::Transient { reason, wait: None }
}

impl Provider for Client {
    fn describe(&self) -> String {
        let source = if self.transport.is_replay() {
            String::from("a recording")
        } else {
            self.options.base_url.clone()
        };
        format!("{} at {source}", self.options.provider)
    }

    fn chat<'a>(
        &'a self,
        request: &'a ChatRequest,
        on_delta: &'a mut (dyn FnMut(&Delta) + Send),
    ) -> ChatFuture<'a> {
        Box::pin(self.send(request, on_delta))
    }
}
