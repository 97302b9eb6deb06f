//! The two wire formats behind one face: where a request goes, what headers and body it carries,
//! how its streamed events and plain replies decode, and what an error body means.

use serde_json::Value;

use super::chat::{ChatRequest, Delta, Reply};
use super::secret::ApiKey;
use super::sse::SseEvent;
use super::tool_calls::ToolCallError;
use super::{anthropic, openai};

/// Which API a provider speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// OpenAI chat completions (also Ollama, vLLM, llama.cpp, LM Studio, OpenRouter).
    OpenAi,
    /// Anthropic Messages.
    Anthropic,
}

/// Whether a decoded event ended the reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Progress {
    More,
    Done,
}

/// What went wrong in a reply's content (as opposed to its transport).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Not what the format promises: worth another try.
    #[error("malformed reply: {0}")]
    Malformed(String),
    /// The provider reported an error, in a status body or inside the stream.
    #[error("{}", api_message(kind, message))]
    Api { kind: String, message: String },
    #[error(transparent)]
    ToolCalls(#[from] ToolCallError),
}

fn api_message(kind: &str, message: &str) -> String {
    if kind.is_empty() {
        message.to_owned()
    } else {
        format!("{message} ({kind})")
    }
}

impl WireError {
    /// An error object or string from a body: `{"error": {"message", "type", "code"}}` (OpenAI),
    /// `{"type": "error", "error": {"type", "message"}}` (Anthropic), `{"error": "..."}` (Ollama).
    pub(super) fn from_body_value(error: &Value) -> WireError {
        let error = error.get("error").unwrap_or(error);
        if let Some(text) = error.as_str() {
            return WireError::Api {
                kind: String::new(),
                message: text.to_owned(),
            };
        }
        let field = |name: &str| error.get(name).and_then(Value::as_str).map(str::to_owned);
        WireError::Api {
            kind: field("code").or_else(|| field("type")).unwrap_or_default(),
            message: field("message").unwrap_or_else(|| error.to_string()),
        }
    }

    /// Parses an error response body, which may not be JSON at all.
    pub(super) fn from_body(body: &[u8]) -> WireError {
        match serde_json::from_slice::<Value>(body) {
            Ok(value) if value.get("error").is_some() => WireError::from_body_value(&value),
            _ => WireError::Api {
                kind: String::new(),
                message: String::from_utf8_lossy(body)
                    .trim()
                    .chars()
                    .take(500)
                    .collect(),
            },
        }
    }

    /// Errors inside a stream that another try may not repeat: overload, rate limits, server
    /// faults, and replies that broke off or made no sense.
    pub fn is_transient(&self) -> bool {
        match self {
            WireError::Malformed(_) | WireError::ToolCalls(_) => true,
            WireError::Api { kind, .. } => matches!(
                kind.as_str(),
                "overloaded_error"
                    | "api_error"
                    | "rate_limit_error"
                    | "server_error"
                    | "rate_limit_exceeded"
                    | "timeout"
                    | "internal_error"
            ),
        }
    }

    /// The prompt does not fit the model's window: sending it again cannot help.
    pub fn is_context_length(&self) -> bool {
        let WireError::Api { kind, message } = self else {
            return false;
        };
        let message = message.to_ascii_lowercase();
        kind == "context_length_exceeded"
            || [
                "context length",
                "context_length",
                "context window",
                "maximum context",
                "prompt is too long",
                "too many tokens",
            ]
            .iter()
            .any(|needle| message.contains(needle))
    }
}

/// A decoder for one streamed reply.
#[derive(Debug)]
pub(super) enum Decoder {
    OpenAi(openai::Decoder),
    Anthropic(anthropic::Decoder),
}

impl Decoder {
    pub(super) fn event(
        &mut self,
        event: &SseEvent,
        deltas: &mut Vec<Delta>,
    ) -> Result<Progress, WireError> {
        match self {
            Decoder::OpenAi(decoder) => decoder.event(event, deltas),
            Decoder::Anthropic(decoder) => decoder.event(event, deltas),
        }
    }

    pub(super) fn finish(self) -> Result<Reply, WireError> {
        match self {
            Decoder::OpenAi(decoder) => decoder.finish(),
            Decoder::Anthropic(decoder) => decoder.finish(),
        }
    }
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::OpenAi => "openai",
            Format::Anthropic => "anthropic",
        }
    }

    /// The path appended to the base URL.
    pub(super) fn path(self) -> &'static str {
        match self {
            Format::OpenAi => openai::PATH,
            Format::Anthropic => anthropic::PATH,
        }
    }

    /// Headers that carry the key, and the format's own.
    pub(super) fn headers(self, key: Option<&ApiKey>) -> Vec<(&'static str, String)> {
        let mut headers = Vec::new();
        match self {
            Format::OpenAi => {
                if let Some(key) = key {
                    headers.push(("authorization", format!("Bearer {}", key.expose())));
                }
            }
            Format::Anthropic => {
                headers.push(("anthropic-version", anthropic::VERSION.to_owned()));
                if let Some(key) = key {
                    headers.push(("x-api-key", key.expose().to_owned()));
                }
            }
        }
        headers
    }

    pub(super) fn body(self, request: &ChatRequest) -> Value {
        match self {
            Format::OpenAi => openai::body(request),
            Format::Anthropic => anthropic::body(request),
        }
    }

    pub(super) fn decoder(self) -> Decoder {
        match self {
            Format::OpenAi => Decoder::OpenAi(openai::Decoder::default()),
            Format::Anthropic => Decoder::Anthropic(anthropic::Decoder::default()),
        }
    }

    pub(super) fn parse_reply(self, body: &[u8]) -> Result<Reply, WireError> {
        match self {
            Format::OpenAi => openai::parse_reply(body),
            Format::Anthropic => anthropic::parse_reply(body),
        }
    }
}

/// Decodes a whole stream given as text, for the formats' tests.
#[cfg(test)]
pub(super) fn decode(format: Format, stream: &str) -> Result<(Reply, Vec<Delta>), WireError> {
    let mut events = Vec::new();
    super::sse::SseParser::new()
        .feed(stream.as_bytes(), &mut events)
        .expect("valid SSE");
    let mut decoder = format.decoder();
    let mut deltas = Vec::new();
    for event in &events {
        if decoder.event(event, &mut deltas)? == Progress::Done {
            return Ok((decoder.finish()?, deltas));
        }
    }
    panic!("no terminal event in {stream}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_of_every_shape() {
        let openai = br#"{"error":{"message":"This model's maximum context length is 8192 tokens","type":"invalid_request_error","code":"context_length_exceeded"}}"#;
        let error = WireError::from_body(openai);
        assert!(error.is_context_length());
        assert!(!error.is_transient());

        let anthropic =
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        assert!(WireError::from_body(anthropic).is_transient());

        let ollama = br#"{"error":"model \"x\" not found, try pulling it first"}"#;
        assert_eq!(
            WireError::from_body(ollama).to_string(),
            "model \"x\" not found, try pulling it first"
        );
        assert_eq!(
            WireError::from_body(b"<html>Bad Gateway</html>").to_string(),
            "<html>Bad Gateway</html>"
        );
    }
}
