//! The Anthropic Messages format: the request body (system prompt apart, content blocks,
//! `tool_use` and `tool_result`), the streamed events (`message_start`, `content_block_start`,
//! `content_block_delta` with `text_delta` or `input_json_delta`, `content_block_stop`,
//! `message_delta`, `message_stop`, `ping`, `error`) and the plain JSON reply.

use serde::Deserialize;
use serde_json::{Value, json};

use super::chat::{ChatRequest, Delta, Message, Reply, StopReason, Usage};
use super::sse::SseEvent;
use super::tool_calls::ToolCalls;
use super::wire::{Progress, WireError};

/// The path under the base URL (`https://api.anthropic.com`).
pub(super) const PATH: &str = "/v1/messages";
pub(super) const VERSION: &str = "2023-06-01";

pub(super) fn body(request: &ChatRequest) -> Value {
    // The API wants turns to alternate: consecutive turns of one role are merged, so that the
    // results of several tool calls travel in one user turn.
    let mut turns: Vec<(&str, Vec<Value>)> = Vec::new();
    for message in &request.messages {
        let (role, blocks) = match message {
            Message::User { text } => ("user", vec![json!({"type": "text", "text": text})]),
            Message::Assistant { text, tool_calls } => {
                let mut blocks = Vec::new();
                if !text.is_empty() {
                    blocks.push(json!({"type": "text", "text": text}));
                }
                for call in tool_calls {
                    blocks.push(json!({
                        "type": "tool_use",
                        "id": call.id,
                        "name": call.name,
                        "input": call.arguments,
                    }));
                }
                ("assistant", blocks)
            }
            Message::ToolResult {
                call_id,
                content,
                is_error,
            } => (
                "user",
                vec![json!({
                    "type": "tool_result",
                    "tool_use_id": call_id,
                    "content": content,
                    "is_error": is_error,
                })],
            ),
        };
        match turns.last_mut() {
            Some((last, existing)) if *last == role => existing.extend(blocks),
            _ => turns.push((role, blocks)),
        }
    }
    let messages: Vec<Value> = turns
        .into_iter()
        .map(|(role, content)| json!({"role": role, "content": content}))
        .collect();
    let mut body = json!({
        "model": request.model,
        "max_tokens": request.max_tokens,
        "messages": messages,
        "stream": request.stream,
    });
    if !request.system.is_empty() {
        body["system"] = json!(request.system);
    }
    if let Some(temperature) = request.temperature {
        body["temperature"] = json!(temperature);
    }
    if !request.tools.is_empty() {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|tool| {
                json!({
                    "name": tool.name,
                    "description": tool.description,
                    "input_schema": tool.parameters,
                })
            })
            .collect();
        body["tools"] = Value::Array(tools);
    }
    body
}

#[derive(Debug, Default, Deserialize)]
struct WireUsage {
    #[serde(default)]
    input_tokens: u64,
    #[serde(default)]
    output_tokens: u64,
    #[serde(default)]
    cache_read_input_tokens: u64,
    #[serde(default)]
    cache_creation_input_tokens: u64,
}

impl WireUsage {
    /// `input_tokens` counts only what was neither read from nor written to the cache.
    fn prompt(&self) -> u64 {
        self.input_tokens + self.cache_read_input_tokens + self.cache_creation_input_tokens
    }
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum StreamEvent {
    MessageStart {
        message: MessageStart,
    },
    ContentBlockStart {
        index: usize,
        content_block: Block,
    },
    ContentBlockDelta {
        index: usize,
        delta: BlockDelta,
    },
    ContentBlockStop {},
    MessageDelta {
        delta: MessageDeltaBody,
        usage: Option<WireUsage>,
    },
    MessageStop {},
    Ping {},
    Error {
        error: Value,
    },
    /// Event types added after this was written are not errors.
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Deserialize)]
struct MessageStart {
    #[serde(default)]
    usage: WireUsage,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Block {
    Text {
        #[serde(default)]
        text: String,
    },
    ToolUse {
        id: String,
        name: String,
        #[serde(default)]
        input: Value,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum BlockDelta {
    TextDelta {
        text: String,
    },
    InputJsonDelta {
        partial_json: String,
    },
    #[serde(other)]
    Other,
}

#[derive(Debug, Deserialize)]
struct MessageDeltaBody {
    stop_reason: Option<String>,
}

fn stop_reason(reason: Option<&str>) -> StopReason {
    match reason {
        Some("end_turn" | "stop_sequence") | None => StopReason::EndTurn,
        Some("tool_use") => StopReason::ToolUse,
        Some("max_tokens") => StopReason::MaxTokens,
        Some(other) => StopReason::Other(other.to_owned()),
    }
}

/// A streamed reply, as it builds up. Tool-use blocks are numbered in the order they start.
#[derive(Debug, Default)]
pub(super) struct Decoder {
    text: String,
    calls: ToolCalls,
    /// Content block index to tool call number.
    call_of_block: Vec<(usize, usize)>,
    stop: Option<String>,
    usage: Usage,
}

impl Decoder {
    pub(super) fn event(
        &mut self,
        event: &SseEvent,
        deltas: &mut Vec<Delta>,
    ) -> Result<Progress, WireError> {
        let parsed: StreamEvent = serde_json::from_str(&event.data).map_err(|error| {
            WireError::Malformed(format!("an event is not valid JSON: {error}"))
        })?;
        match parsed {
            StreamEvent::MessageStart { message } => {
                self.usage.prompt_tokens = message.usage.prompt();
                self.usage.cached_tokens = message.usage.cache_read_input_tokens;
                self.usage.completion_tokens = message.usage.output_tokens;
            }
            StreamEvent::ContentBlockStart {
                index,
                content_block,
            } => match content_block {
                Block::Text { text } => self.text(text, deltas),
                Block::ToolUse { id, name, input } => {
                    let call = self.call_of_block.len();
                    self.call_of_block.push((index, call));
                    self.calls.start(call, Some(&id), Some(&name));
                    // The input is `{}` here and arrives in pieces; a non-empty one is whole.
                    if input.as_object().is_some_and(|o| !o.is_empty()) {
                        self.calls.set_arguments(call, &input);
                    }
                    deltas.push(Delta::ToolCall { index: call, name });
                }
                Block::Other => {}
            },
            StreamEvent::ContentBlockDelta { index, delta } => match delta {
                BlockDelta::TextDelta { text } => self.text(text, deltas),
                BlockDelta::InputJsonDelta { partial_json } => {
                    let call = self
                        .call_of_block
                        .iter()
                        .find(|(block, _)| *block == index)
                        .map(|&(_, call)| call)
                        .ok_or_else(|| {
                            WireError::Malformed(format!(
                                "arguments arrived for content block {index}, which is not a tool call"
                            ))
                        })?;
                    self.calls.append(call, &partial_json);
                }
                BlockDelta::Other => {}
            },
            StreamEvent::MessageDelta { delta, usage } => {
                if delta.stop_reason.is_some() {
                    self.stop = delta.stop_reason;
                }
                if let Some(usage) = usage {
                    self.usage.completion_tokens = usage.output_tokens;
                }
            }
            StreamEvent::MessageStop {} => return Ok(Progress::Done),
            StreamEvent::ContentBlockStop {} | StreamEvent::Ping {} | StreamEvent::Unknown => {}
            StreamEvent::Error { error } => return Err(WireError::from_body_value(&error)),
        }
        Ok(Progress::More)
    }

    fn text(&mut self, text: String, deltas: &mut Vec<Delta>) {
        if !text.is_empty() {
            self.text.push_str(&text);
            deltas.push(Delta::Text { text });
        }
    }

    pub(super) fn finish(self) -> Result<Reply, WireError> {
        Ok(Reply {
            text: self.text,
            tool_calls: self.calls.finish()?,
            stop: stop_reason(self.stop.as_deref()),
            usage: self.usage,
        })
    }
}

#[derive(Debug, Deserialize)]
struct Plain {
    #[serde(default)]
    content: Vec<Block>,
    stop_reason: Option<String>,
    #[serde(default)]
    usage: WireUsage,
}

/// A reply sent as one JSON body.
pub(super) fn parse_reply(body: &[u8]) -> Result<Reply, WireError> {
    let plain: Plain = serde_json::from_slice(body)
        .map_err(|error| WireError::Malformed(format!("the reply is not valid JSON: {error}")))?;
    let mut text = String::new();
    let mut calls = ToolCalls::default();
    let mut count = 0;
    for block in plain.content {
        match block {
            Block::Text { text: piece } => text.push_str(&piece),
            Block::ToolUse { id, name, input } => {
                calls.start(count, Some(&id), Some(&name));
                calls.set_arguments(count, &input);
                count += 1;
            }
            Block::Other => {}
        }
    }
    Ok(Reply {
        text,
        tool_calls: calls.finish()?,
        stop: stop_reason(plain.stop_reason.as_deref()),
        usage: Usage {
            prompt_tokens: plain.usage.prompt(),
            completion_tokens: plain.usage.output_tokens,
            cached_tokens: plain.usage.cache_read_input_tokens,
            counted: false,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::chat::ToolCall;

    fn decode(stream: &str) -> Result<(Reply, Vec<Delta>), WireError> {
        crate::llm::wire::decode(crate::llm::Format::Anthropic, stream)
    }

    #[test]
    fn text_tool_use_and_usage() {
        let stream = concat!(
            "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\",\"usage\":{\"input_tokens\":7,\"cache_read_input_tokens\":3,\"output_tokens\":1}}}\n\n",
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"text\",\"text\":\"\"}}\n\n",
            "event: ping\ndata: {\"type\":\"ping\"}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"Looking\"}}\n\n",
            "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":0}\n\n",
            "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_1\",\"name\":\"search\",\"input\":{}}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"q\\\": \"}}\n\n",
            "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\\\"x\\\"}\"}}\n\n",
            "event: content_block_stop\ndata: {\"type\":\"content_block_stop\",\"index\":1}\n\n",
            "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":9}}\n\n",
            "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
        );
        let (reply, deltas) = decode(stream).expect("valid stream");
        assert_eq!(reply.text, "Looking");
        assert_eq!(reply.stop, StopReason::ToolUse);
        assert_eq!(
            reply.tool_calls,
            vec![ToolCall {
                id: "toolu_1".into(),
                name: "search".into(),
                arguments: json!({"q": "x"}),
            }]
        );
        assert_eq!(
            reply.usage,
            Usage {
                prompt_tokens: 10,
                completion_tokens: 9,
                cached_tokens: 3,
                counted: false,
            }
        );
        assert_eq!(deltas.len(), 2);
    }

    #[test]
    fn an_error_event_is_reported() {
        let stream = "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n";
        let error = decode(stream).expect_err("error event");
        assert!(error.is_transient(), "{error}");
    }

    #[test]
    fn tool_results_share_one_user_turn() {
        let request = ChatRequest::new(
            "m",
            "sys",
            vec![
                Message::user("go"),
                Message::Assistant {
                    text: String::new(),
                    tool_calls: vec![
                        ToolCall {
                            id: "a".into(),
                            name: "x".into(),
                            arguments: json!({}),
                        },
                        ToolCall {
                            id: "b".into(),
                            name: "y".into(),
                            arguments: json!({}),
                        },
                    ],
                },
                Message::ToolResult {
                    call_id: "a".into(),
                    content: "1".into(),
                    is_error: false,
                },
                Message::ToolResult {
                    call_id: "b".into(),
                    content: "2".into(),
                    is_error: true,
                },
            ],
        );
        let body = body(&request);
        assert_eq!(body["system"], "sys");
        let messages = body["messages"].as_array().expect("messages");
        assert_eq!(messages.len(), 3);
        assert_eq!(messages[2]["content"][1]["tool_use_id"], "b");
        assert_eq!(messages[2]["content"][1]["is_error"], true);
    }

    #[test]
    fn plain_reply() {
        let body = br#"{"content":[{"type":"text","text":"ok"},{"type":"tool_use","id":"t","name":"n","input":{"a":1}}],"stop_reason":"tool_use","usage":{"input_tokens":2,"output_tokens":3}}"#;
        let reply = parse_reply(body).expect("valid reply");
        assert_eq!(reply.text, "ok");
        assert_eq!(reply.tool_calls[0].arguments, json!({"a": 1}));
        assert_eq!(reply.usage.completion_tokens, 3);
    }
}
