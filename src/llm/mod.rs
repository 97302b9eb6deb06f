//! Language models over HTTP: the OpenAI-compatible chat completions API (OpenAI, Ollama, vLLM,
//! llama.cpp, LM Studio, OpenRouter) and the Anthropic Messages API, streamed, retried, and
//! recorded or replayed.
//!
//! Owns: the conversation types, both wire formats, server-sent events, tool-call assembly,
//! retries and timeouts, context estimates, usage and cost, record and replay, and the API key
//! (which never leaves [`ApiKey`] except into the request's headers).
//! Never: knows about git, the sandbox or the repository; reads the environment (the key is
//! handed in by `config`).
//!
//! Start at [`Client`] and [`Provider`]; the formats are sans-IO ([`sse`], the decoders) and the
//! transport is the only code that touches the network.

mod anthropic;
mod chat;
mod client;
mod context;
mod cost;
mod error;
mod openai;
mod retry;
mod secret;
pub mod sse;
pub mod text_tools;
mod tool_calls;
mod transport;
mod wire;

pub use chat::{
    ChatRequest, Delta, Message, Reply, StopReason, ToolCall, ToolSpec, Usage, is_reasoning_model,
};
pub use client::{ChatFuture, Client, ClientOptions, Provider};
pub use context::{check, counted as counted_usage, estimate, fit};
pub use cost::Prices;
pub use error::LlmError;
pub use retry::{RetryPolicy, TRANSIENT_STATUSES};
pub use secret::ApiKey;
pub use tool_calls::{ToolCallError, ToolCalls};
pub use transport::endpoint_port;
pub use wire::{Format, WireError};
