//! The conversation a provider is sent and the reply it gives back, in Nova's own terms: both wire
//! formats translate to and from these types.

use serde::{Deserialize, Serialize};

/// One turn of a conversation. The system prompt is not a turn: it lives in [`ChatRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "snake_case")]
pub enum Message {
    User {
        text: String,
    },
    Assistant {
        text: String,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        tool_calls: Vec<ToolCall>,
    },
    /// What a tool returned, answering the assistant's call `call_id`.
    ToolResult {
        call_id: String,
        content: String,
        #[serde(default)]
        is_error: bool,
    },
}

impl Message {
    pub fn user(text: impl Into<String>) -> Self {
        Message::User { text: text.into() }
    }
}

/// A tool the model may call, described by a JSON Schema for its arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    /// A JSON Schema object (`{"type": "object", "properties": ...}`).
    pub parameters: serde_json::Value,
}

/// A call the model made: the arguments are already parsed JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    pub arguments: serde_json::Value,
}

/// Everything one request says.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChatRequest {
    pub model: String,
    pub system: String,
    pub messages: Vec<Message>,
    pub tools: Vec<ToolSpec>,
    /// The most tokens the reply may have.
    pub max_tokens: u32,
    pub temperature: Option<f32>,
    /// A reasoning model (OpenAI's o-series and GPT-5): its reply limit is
    /// `max_completion_tokens`, which counts the hidden reasoning too, and it takes no
    /// temperature.
    pub reasoning: bool,
    /// Ask for server-sent events (the default) or one JSON body.
    pub stream: bool,
}

impl ChatRequest {
    /// A streamed request with no tools.
    pub fn new(
        model: impl Into<String>,
        system: impl Into<String>,
        messages: Vec<Message>,
    ) -> Self {
        ChatRequest {
            model: model.into(),
            system: system.into(),
            messages,
            tools: Vec::new(),
            max_tokens: 4096,
            temperature: None,
            reasoning: false,
            stream: true,
        }
    }
}

/// Whether `model` is, by its name, one of OpenAI's reasoning models (`o1`, `o3`, `o4-mini`,
/// `gpt-5`...), which refuse `max_tokens` and want `max_completion_tokens`. A model served
/// under another name says so in the configuration (`reasoning = true`).
pub fn is_reasoning_model(model: &str) -> bool {
    let name = model.rsplit('/').next().unwrap_or(model);
    let series = |prefix: &str| {
        name.strip_prefix(prefix)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with(['-', '.', ':']))
    };
    ["o1", "o3", "o4"].iter().any(|p| series(p)) || name.starts_with("gpt-5")
}

/// Tokens a request consumed, as the provider counted them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Every prompt token, cached ones included.
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Prompt tokens served from the provider's cache (billed at the cached price).
    pub cached_tokens: u64,
    /// The endpoint reported no usage (llama-cpp-python's server streams none): the tokens were
    /// counted here, with `o200k_base`, so that budgets and reports still see them.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub counted: bool,
}

impl Usage {
    /// This usage and `other`'s together.
    #[must_use]
    pub fn plus(self, other: Usage) -> Usage {
        Usage {
            prompt_tokens: self.prompt_tokens + other.prompt_tokens,
            completion_tokens: self.completion_tokens + other.completion_tokens,
            cached_tokens: self.cached_tokens + other.cached_tokens,
            counted: self.counted || other.counted,
        }
    }
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// It finished its answer.
    EndTurn,
    /// It wants its tool calls run.
    ToolUse,
    /// It hit `max_tokens`.
    MaxTokens,
    /// Anything else the provider said, verbatim.
    Other(String),
}

/// A whole reply.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reply {
    pub text: String,
    pub tool_calls: Vec<ToolCall>,
    pub stop: StopReason,
    pub usage: Usage,
}

/// Something that arrived while a reply streamed, or happened to the request.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "delta", rename_all = "snake_case")]
pub enum Delta {
    Text {
        text: String,
    },
    /// The model began a tool call.
    ToolCall {
        index: usize,
        name: String,
    },
    /// The request failed in a way worth retrying; it is sent again after `delay_ms`. Whatever
    /// streamed before this is void: the reply starts over.
    Retrying {
        attempt: u32,
        reason: String,
        delay_ms: u64,
    },
}
