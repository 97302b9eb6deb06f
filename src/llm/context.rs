//! The prompt's size, estimated before anything is sent, and the one chance a caller gets to
//! shrink a prompt that does not fit.
//!
//! The estimate counts with `o200k_base` (exact for OpenAI's current models, close for others)
//! and adds each message's framing. Providers count differently; the estimate is a guard against
//! sending what cannot fit, not a bill.

use super::chat::{ChatRequest, Message, Reply, ToolCall, Usage};
use super::error::LlmError;
use crate::index::count_tokens;

/// Tokens of framing per message (role markers and separators).
const PER_MESSAGE: u64 = 4;

/// About how many tokens `request`'s prompt is.
pub fn estimate(request: &ChatRequest) -> u64 {
    let mut total = PER_MESSAGE + count(&request.system);
    for message in &request.messages {
        total += PER_MESSAGE;
        total += match message {
            Message::User { text } => count(text),
            Message::Assistant { text, tool_calls } => {
                count(text)
                    + tool_calls
                        .iter()
                        .map(|call| count(&call.name) + count(&call.arguments.to_string()))
                        .sum::<u64>()
            }
            Message::ToolResult { content, .. } => count(content),
        };
    }
    for tool in &request.tools {
        total += count(&tool.name) + count(&tool.description) + count(&tool.parameters.to_string());
    }
    total
}

/// `reply` with its usage counted here when the endpoint reported none.
pub fn with_usage(request: &ChatRequest, mut reply: Reply) -> Reply {
    if reply.usage.prompt_tokens == 0 && reply.usage.completion_tokens == 0 {
        reply.usage = counted(request, &reply.text, &reply.tool_calls);
    }
    reply
}

/// What `request` spent by Nova's own count, when no endpoint said: the prompt as [`estimate`]
/// counts it, and the reply's text and tool calls as far as they came (a reply without usage, or
/// a turn cut short).
pub fn counted(request: &ChatRequest, text: &str, tool_calls: &[ToolCall]) -> Usage {
    let calls: u64 = tool_calls
        .iter()
        .map(|call| count(&call.name) + count(&call.arguments.to_string()))
        .sum();
    Usage {
        prompt_tokens: estimate(request),
        completion_tokens: count(text) + calls,
        cached_tokens: 0,
        counted: true,
    }
}

fn count(text: &str) -> u64 {
    count_tokens(text) as u64
}

/// Whether `request` and its longest reply fit `window` (when the window is known).
pub fn check(request: &ChatRequest, window: Option<u64>) -> Result<(), LlmError> {
    let Some(window) = window else {
        return Ok(());
    };
    let estimate = estimate(request);
    let reserved = u64::from(request.max_tokens);
    if estimate + reserved <= window {
        return Ok(());
    }
    Err(LlmError::TooLarge {
        model: request.model.clone(),
        estimate,
        reserved,
        window,
    })
}

/// [`check`], and if the request does not fit, `shrink` gets one chance, told how many tokens are
/// too many; what it returns must fit, or the request is refused. Never loops.
pub fn fit(
    request: ChatRequest,
    window: Option<u64>,
    shrink: impl FnOnce(ChatRequest, u64) -> Option<ChatRequest>,
) -> Result<ChatRequest, LlmError> {
    let Err(error) = check(&request, window) else {
        return Ok(request);
    };
    let LlmError::TooLarge {
        estimate,
        reserved,
        window,
        ..
    } = error
    else {
        return Err(error);
    };
    let smaller = shrink(request, estimate + reserved - window).ok_or(error)?;
    check(&smaller, Some(window))?;
    Ok(smaller)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(words: usize) -> ChatRequest {
        let mut request =
            ChatRequest::new("m", "system", vec![Message::user("word ".repeat(words))]);
        request.max_tokens = 100;
        request
    }

    #[test]
    fn fits_untouched_or_shrinks_once_or_refuses() {
        let small = request(10);
        let window = Some(estimate(&small) + 100);
        let kept = fit(small.clone(), window, |_, _| panic!("no shrink needed")).expect("fits");
        assert_eq!(kept, small);

        let mut calls = 0;
        let shrunk = fit(request(1000), window, |_, over| {
            calls += 1;
            assert!(over > 900, "{over}");
            Some(request(10))
        })
        .expect("fits after shrinking");
        assert_eq!(shrunk, small);
        assert_eq!(calls, 1);

        let error = fit(request(1000), window, |r, _| Some(r)).expect_err("still too large");
        assert!(matches!(error, LlmError::TooLarge { .. }), "{error}");
        assert!(fit(request(1000), window, |_, _| None).is_err());
        assert!(fit(request(1000), None, |_, _| None).is_ok());
    }

    #[test]
    fn estimate_grows_with_every_part() {
        let base = estimate(&request(10));
        assert!(estimate(&request(20)) > base);
        let mut with_tool = request(10);
        with_tool.tools.push(crate::llm::chat::ToolSpec {
            name: "search".into(),
            description: "find text".into(),
            parameters: serde_json::json!({"type": "object"}),
        });
        assert!(estimate(&with_tool) > base);
    }
}
