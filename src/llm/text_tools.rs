//! Tools for models without native tool calls (many local models): the tools are described in the
//! system prompt, the model writes one call per fenced `tool` block, and the results come back in
//! a user message. The calls are assembled and checked by the same code as native ones
//! ([`ToolCalls`]), so both paths accept and refuse the same arguments. Sans-IO.

use super::chat::{ToolCall, ToolSpec};
use super::tool_calls::{ToolCallError, ToolCalls};

/// The part of the system prompt that teaches the protocol and lists the tools.
pub fn instructions(tools: &[ToolSpec]) -> String {
    let mut out = String::from(
        "## How to call a tool\n\nTo call a tool, write a fenced block whose info string is \
         `tool`, holding one JSON object with the tool's `name` and its `arguments`:\n\n\
         ```tool\n{\"name\": \"read_file\", \"arguments\": {\"path\": \"src/lib.rs\"}}\n```\n\n\
         One call per block; several blocks make several calls, run in order. Then stop and wait: \
         the results come in the next message. Write no block when you have nothing to call.\n\n\
         ## Tools\n",
    );
    for tool in tools {
        out.push_str(&format!(
            "\n### `{}`\n\n{}\n\nArguments (JSON Schema): `{}`\n",
            tool.name, tool.description, tool.parameters
        ));
    }
    out
}

/// The calls in a reply's text: every fenced block tagged `tool`, in order. A block that is not a
/// JSON object with a string `name` (and an object or absent `arguments`) is an error the model
/// is told about.
pub fn parse(text: &str) -> Result<Vec<ToolCall>, ToolCallError> {
    let mut calls = ToolCalls::default();
    let mut lines = text.lines();
    let mut index = 0;
    while let Some(line) = lines.next() {
        let fence = line.trim_start();
        let ticks = fence.len() - fence.trim_start_matches('`').len();
        if ticks < 3 || fence[ticks..].trim() != "tool" {
            continue;
        }
        let closing = &fence[..ticks];
        let body: Vec<&str> = lines.by_ref().take_while(|l| l.trim() != closing).collect();
        let block = body.join("\n");
        let value: serde_json::Value =
            serde_json::from_str(block.trim()).map_err(|error| ToolCallError::BadArguments {
                index,
                name: String::from("?"),
                reason: format!("the block is not JSON: {error}"),
            })?;
        let name = value["name"].as_str().unwrap_or("");
        calls.start(index, None, Some(name));
        match &value["arguments"] {
            serde_json::Value::Null => {}
            serde_json::Value::String(raw) => calls.append(index, raw),
            arguments => calls.set_arguments(index, arguments),
        }
        index += 1;
    }
    calls.finish()
}

/// The results of a turn's calls, as the user message the model reads next.
pub fn results(results: &[(&ToolCall, &str, bool)]) -> String {
    let mut out = String::new();
    for (call, content, is_error) in results {
        let what = if *is_error { "Error from" } else { "Result of" };
        out.push_str(&format!(
            "{what} `{}` ({}):\n{}\n\n",
            call.name,
            call.id,
            content.trim_end()
        ));
    }
    out.trim_end().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn blocks_become_calls_checked_like_native_ones() {
        let text = "I will read it.\n\n```tool\n{\"name\": \"read_file\", \"arguments\": {\"path\": \"src/lib.rs\"}}\n```\nand search:\n````tool\n{\"name\": \"search\", \"arguments\": \"{\\\"pattern\\\": \\\"fn\\\"}\"}\n````\n```rust\nfn not_a_call() {}\n```\n";
        let calls = parse(text).expect("two calls");
        assert_eq!(calls.len(), 2);
        assert_eq!(calls[0].name, "read_file");
        assert_eq!(calls[0].arguments, json!({"path": "src/lib.rs"}));
        assert_eq!(calls[0].id, "call_0");
        assert_eq!(calls[1].arguments, json!({"pattern": "fn"}));
        assert!(parse("No calls here.").expect("none").is_empty());
        // The same checks as native calls: a name, and arguments that are an object.
        for bad in [
            "```tool\n{\"arguments\": {}}\n```",
            "```tool\n{\"name\": \"x\", \"arguments\": [1]}\n```",
            "```tool\nnot json\n```",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn results_name_each_call() {
        let call = ToolCall {
            id: String::from("call_0"),
            name: String::from("read_file"),
            arguments: json!({}),
        };
        let text = results(&[(&call, "line 1\n", false), (&call, "no such file", true)]);
        assert_eq!(
            text,
            "Result of `read_file` (call_0):\nline 1\n\nError from `read_file` (call_0):\nno such file"
        );
        assert!(instructions(&[]).contains("```tool"));
    }
}
