//! The OpenAI chat completions format, which OpenAI, Ollama's `/v1`, vLLM, llama.cpp's server,
//! LM Studio and OpenRouter all speak: the request body, the streamed chunks (`data: {...}` until
//! `data: [DONE]`, tool calls with arguments in fragments, usage in a last chunk) and the plain
//! JSON reply.

use serde::Deserialize;
use serde_json::{Value, json};

use super::chat::{ChatRequest, Delta, Message, Reply, StopReason, Usage};
use super::sse::SseEvent;
use super::tool_calls::ToolCalls;
use super::wire::{Progress, WireError};

/// The path under the base URL (which ends in `/v1`).
pub(super) const PATH: &str = "/chat/completions";

pub(super) fn body(request: &ChatRequest) -> Value {
    let mut messages = Vec::with_capacity(request.messages.len() + 1);
    if !request.system.is_empty() {
        messages.push(json!({"role": "system", "content": request.system}));
    }
    for message in &request.messages {
        messages.push(match message {
            Message::User { text } => json!({"role": "user", "content": text}),
            Message::Assistant { text, tool_calls } => {
                let mut turn = json!({"role": "assistant", "content": text});
                if !tool_calls.is_empty() {
                    let calls: Vec<Value> = tool_calls
                        .iter()
                        .map(|call| {
                            json!({
                                "id": call.id,
                                "type": "function",
                                "function": {"name": call.name, "arguments": call.arguments.to_string()},
                            })
                        })
                        .collect();
                    turn["tool_calls"] = Value::Array(calls);
                }
                turn
            }
            Message::ToolResult {
                call_id,
                content,
                is_error,
            } => {
                let content = if *is_error {
                    format!("error: {content}")
                } else {
                    content.clone()
                };
                json!({"role": "tool", "tool_call_id": call_id, "content": content})
            }
        });
    }
    let mut body = json!({
        "model": request.model,
        "messages": messages,
        "stream": request.stream,
    });
    if request.reasoning {
        body["max_completion_tokens"] = json!(request.max_tokens);
    } else {
        body["max_tokens"] = json!(request.max_tokens);
    }
    if request.stream {
        body["stream_options"] = json!({"include_usage": true});
    }
    if let Some(temperature) = request.temperature.filter(|_| !request.reasoning) {
        body["temperature"] = json!(temperature);
    }
    if !request.tools.is_empty() {
        let tools: Vec<Value> = request
            .tools
            .iter()
            .map(|tool| {
                json!({
                    "type": "function",
                    "function": {
                        "name": tool.name,
                        "description": tool.description,
                        "parameters": tool.parameters,
                    },
                })
            })
            .collect();
        body["tools"] = Value::Array(tools);
    }
    body
}

#[derive(Debug, Deserialize)]
struct Chunk {
    #[serde(default)]
    choices: Vec<ChunkChoice>,
    usage: Option<WireUsage>,
    error: Option<Value>,
}

#[derive(Debug, Deserialize)]
struct ChunkChoice {
    #[serde(default)]
    delta: ChunkDelta,
    finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ChunkDelta {
    content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<ToolCallDelta>,
}

#[derive(Debug, Deserialize)]
struct ToolCallDelta {
    #[serde(default)]
    index: usize,
    id: Option<String>,
    function: Option<FunctionDelta>,
}

#[derive(Debug, Deserialize)]
struct FunctionDelta {
    name: Option<String>,
    arguments: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: u64,
    #[serde(default)]
    completion_tokens: u64,
    prompt_tokens_details: Option<PromptDetails>,
}

#[derive(Debug, Deserialize)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: u64,
}

impl From<WireUsage> for Usage {
    fn from(usage: WireUsage) -> Self {
        Usage {
            prompt_tokens: usage.prompt_tokens,
            completion_tokens: usage.completion_tokens,
            cached_tokens: usage.prompt_tokens_details.map_or(0, |d| d.cached_tokens),
            counted: false,
        }
    }
}

fn stop_reason(reason: Option<&str>, has_calls: bool) -> StopReason {
    match reason {
        Some("length") => StopReason::MaxTokens,
        Some("stop" | "tool_calls" | "function_call") | None if has_calls => StopReason::ToolUse,
        Some("stop") | None => StopReason::EndTurn,
        Some(other) => StopReason::Other(other.to_owned()),
    }
}

/// A streamed reply, as it builds up.
#[derive(Debug, Default)]
pub(super) struct Decoder {
    text: String,
    calls: ToolCalls,
    finish_reason: Option<String>,
    usage: Usage,
}

impl Decoder {
    pub(super) fn event(
        &mut self,
        event: &SseEvent,
        deltas: &mut Vec<Delta>,
    ) -> Result<Progress, WireError> {
        let data = event.data.trim();
        if data == "[DONE]" {
            return Ok(Progress::Done);
        }
        let chunk: Chunk = serde_json::from_str(data)
            .map_err(|error| WireError::Malformed(format!("a chunk is not valid JSON: {error}")))?;
        if let Some(error) = chunk.error {
            return Err(WireError::from_body_value(&error));
        }
        if let Some(usage) = chunk.usage {
            self.usage = usage.into();
        }
        for choice in chunk.choices {
            if let Some(text) = choice.delta.content.filter(|text| !text.is_empty()) {
                self.text.push_str(&text);
                deltas.push(Delta::Text { text });
            }
            for call in choice.delta.tool_calls {
                let (name, arguments) = match call.function {
                    Some(f) => (f.name, f.arguments),
                    None => (None, None),
                };
                if self
                    .calls
                    .start(call.index, call.id.as_deref(), name.as_deref())
                {
                    deltas.push(Delta::ToolCall {
                        index: call.index,
                        name: name.unwrap_or_default(),
                    });
                }
                if let Some(arguments) = arguments {
                    self.calls.append(call.index, &arguments);
                }
            }
            if choice.finish_reason.is_some() {
                self.finish_reason = choice.finish_reason;
            }
        }
        Ok(Progress::More)
    }

    pub(super) fn finish(self) -> Result<Reply, WireError> {
        let tool_calls = self.calls.finish()?;
        Ok(Reply {
            stop: stop_reason(self.finish_reason.as_deref(), !tool_calls.is_empty()),
            text: self.text,
            tool_calls,
            usage: self.usage,
        })
    }
}

#[derive(Debug, Deserialize)]
struct Plain {
    #[serde(default)]
    choices: Vec<PlainChoice>,
    usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
struct PlainChoice {
    message: PlainMessage,
    finish_reason: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PlainMessage {
    content: Option<String>,
    #[serde(default)]
    tool_calls: Vec<PlainCall>,
}

#[derive(Debug, Deserialize)]
struct PlainCall {
    id: Option<String>,
    function: FunctionDelta,
}

/// A reply sent as one JSON body (`"stream": false`, or a server that does not stream).
pub(super) fn parse_reply(body: &[u8]) -> Result<Reply, WireError> {
    let plain: Plain = serde_json::from_slice(body)
        .map_err(|error| WireError::Malformed(format!("the reply is not valid JSON: {error}")))?;
    let choice = plain
        .choices
        .into_iter()
        .next()
        .ok_or_else(|| WireError::Malformed(String::from("the reply has no choices")))?;
    let mut calls = ToolCalls::default();
    for (index, call) in choice.message.tool_calls.into_iter().enumerate() {
        calls.start(index, call.id.as_deref(), call.function.name.as_deref());
        calls.append(index, call.function.arguments.as_deref().unwrap_or(""));
    }
    let tool_calls = calls.finish()?;
    Ok(Reply {
        stop: stop_reason(choice.finish_reason.as_deref(), !tool_calls.is_empty()),
        text: choice.message.content.unwrap_or_default(),
        tool_calls,
        usage: plain.usage.map(Usage::from).unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::chat::ToolSpec;

    fn decode(stream: &str) -> Result<(Reply, Vec<Delta>), WireError> {
        crate::llm::wire::decode(crate::llm::Format::OpenAi, stream)
    }

    #[test]
    fn a_reasoning_model_gets_max_completion_tokens_and_no_temperature() {
        let mut request = ChatRequest::new("o3-mini", "sys", vec![Message::user("hi")]);
        request.temperature = Some(0.2);
        request.max_tokens = 900;
        let plain = body(&request);
        assert_eq!(plain["max_tokens"], json!(900));
        assert!(plain.get("max_completion_tokens").is_none());
        request.reasoning = true;
        let reasoning = body(&request);
        assert_eq!(reasoning["max_completion_tokens"], json!(900));
        assert!(reasoning.get("max_tokens").is_none(), "{reasoning}");
        assert!(reasoning.get("temperature").is_none(), "{reasoning}");
    }

    #[test]
    fn reasoning_models_are_known_by_name() {
        for name in [
            "o1",
            "o3-mini",
            "o4-mini-2025-04-16",
            "gpt-5",
            "gpt-5-mini",
            "openai/o3",
        ] {
            assert!(crate::llm::is_reasoning_model(name), "{name}");
        }
        for name in [
            "gpt-4o",
            "o",
            "olmo-7b",
            "llama3.1:8b",
            "qwen2.5-coder:14b",
            "gpt-4.1",
        ] {
            assert!(!crate::llm::is_reasoning_model(name), "{name}");
        }
    }

    #[test]
    fn text_tool_calls_and_usage() {
        let stream = concat!(
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hel\"}}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"lo\"}}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c1\",\"type\":\"function\",\"function\":{\"name\":\"search\",\"arguments\":\"{\\\"q\\\":\"}}]}}]}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"\\\"x\\\"}\"}}]},\"finish_reason\":\"tool_calls\"}]}\n\n",
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":5,\"prompt_tokens_details\":{\"cached_tokens\":4}}}\n\n",
            "data: [DONE]\n\n",
        );
        let (reply, deltas) = decode(stream).expect("valid stream");
        assert_eq!(reply.text, "Hello");
        assert_eq!(reply.stop, StopReason::ToolUse);
        assert_eq!(reply.tool_calls[0].arguments, json!({"q": "x"}));
        assert_eq!(
            reply.usage,
            Usage {
                prompt_tokens: 10,
                completion_tokens: 5,
                cached_tokens: 4,
                counted: false,
            }
        );
        assert_eq!(deltas.len(), 3);
    }

    #[test]
    fn an_error_in_the_stream_is_reported() {
        let stream = "data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n";
        let error = decode(stream).expect_err("error chunk");
        assert!(error.to_string().contains("overloaded"), "{error}");
    }

    #[test]
    fn body_has_the_conversation_and_tools() {
        let mut request = ChatRequest::new("m", "sys", vec![Message::user("hi")]);
        request.tools.push(ToolSpec {
            name: "search".into(),
            description: "search".into(),
            parameters: json!({"type": "object"}),
        });
        let body = body(&request);
        assert_eq!(body["messages"][0]["role"], "system");
        assert_eq!(body["messages"][1]["content"], "hi");
        assert_eq!(body["tools"][0]["function"]["name"], "search");
        assert_eq!(body["stream_options"]["include_usage"], true);
    }

    #[test]
    fn plain_reply() {
        let body = br#"{"choices":[{"message":{"content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#;
        let reply = parse_reply(body).expect("valid reply");
        assert_eq!(reply.text, "ok");
        assert_eq!(reply.stop, StopReason::EndTurn);
        assert_eq!(reply.usage.prompt_tokens, 3);
    }
}
