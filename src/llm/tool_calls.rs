//! Tool calls assembled from streamed pieces: both wire formats send a call's id and name first,
//! then its JSON arguments in fragments cut anywhere, keyed by the call's index in the reply.

use std::collections::BTreeMap;

use super::chat::ToolCall;

/// Why the calls of a reply cannot be assembled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToolCallError {
    #[error("tool call {index} has arguments but no name")]
    Unnamed { index: usize },
    #[error("the arguments of tool call {index} (`{name}`) are not a JSON object: {reason}")]
    BadArguments {
        index: usize,
        name: String,
        reason: String,
    },
}

#[derive(Debug, Default)]
struct Partial {
    id: String,
    name: String,
    arguments: String,
}

/// Calls under construction, by index.
#[derive(Debug, Default)]
pub struct ToolCalls {
    calls: BTreeMap<usize, Partial>,
}

impl ToolCalls {
    /// Records the id and name of call `index`; returns true when the name is new, so that the
    /// caller can announce the call once.
    pub fn start(&mut self, index: usize, id: Option<&str>, name: Option<&str>) -> bool {
        let call = self.calls.entry(index).or_default();
        if let Some(id) = id.filter(|id| !id.is_empty()) {
            id.clone_into(&mut call.id);
        }
        match name.filter(|name| !name.is_empty()) {
            Some(name) if call.name.is_empty() => {
                name.clone_into(&mut call.name);
                true
            }
            // Some servers repeat the name in every chunk; others send it in pieces.
            Some(name) if call.name != name && !name.starts_with(call.name.as_str()) => {
                call.name.push_str(name);
                false
            }
            _ => false,
        }
    }

    /// Appends a fragment of call `index`'s JSON arguments.
    pub fn append(&mut self, index: usize, fragment: &str) {
        self.calls
            .entry(index)
            .or_default()
            .arguments
            .push_str(fragment);
    }

    /// Replaces call `index`'s arguments with a whole value (a format that sent them at once).
    pub fn set_arguments(&mut self, index: usize, arguments: &serde_json::Value) {
        let call = self.calls.entry(index).or_default();
        call.arguments = arguments.to_string();
    }

    /// The finished calls, in index order. Empty arguments mean `{}`; anything else must parse as
    /// a JSON object. A call with no id gets `call_<index>`.
    pub fn finish(self) -> Result<Vec<ToolCall>, ToolCallError> {
        self.calls
            .into_iter()
            .map(|(index, call)| {
                if call.name.is_empty() {
                    return Err(ToolCallError::Unnamed { index });
                }
                let text = call.arguments.trim();
                let arguments = if text.is_empty() {
                    serde_json::Value::Object(serde_json::Map::new())
                } else {
                    serde_json::from_str::<serde_json::Value>(text).map_err(|error| {
                        ToolCallError::BadArguments {
                            index,
                            name: call.name.clone(),
                            reason: error.to_string(),
                        }
                    })?
                };
                if !arguments.is_object() {
                    return Err(ToolCallError::BadArguments {
                        index,
                        name: call.name,
                        reason: String::from("not an object"),
                    });
                }
                let id = if call.id.is_empty() {
                    format!("call_{index}")
                } else {
                    call.id
                };
                Ok(ToolCall {
                    id,
                    name: call.name,
                    arguments,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fragments_cut_anywhere_assemble() {
        let arguments = r#"{"path": "src/lib.rs", "lines": [1, 2], "note": "a \"quoted\" ü"}"#;
        for cut in 0..arguments.len() {
            if !arguments.is_char_boundary(cut) {
                continue;
            }
            let mut calls = ToolCalls::default();
            assert!(calls.start(0, Some("call_a"), Some("read_file")));
            calls.append(0, &arguments[..cut]);
            calls.start(0, None, Some("read_file"));
            calls.append(0, &arguments[cut..]);
            let done = calls.finish().expect("valid calls");
            assert_eq!(done.len(), 1);
            assert_eq!(done[0].id, "call_a");
            assert_eq!(done[0].arguments["lines"], json!([1, 2]));
        }
    }

    #[test]
    fn calls_come_out_in_index_order_and_empty_means_no_arguments() {
        let mut calls = ToolCalls::default();
        calls.start(1, Some("b"), Some("search"));
        calls.append(1, "{\"q\":\"x\"}");
        calls.start(0, None, Some("repo_map"));
        let done = calls.finish().expect("valid calls");
        assert_eq!(done[0].name, "repo_map");
        assert_eq!(done[0].id, "call_0");
        assert_eq!(done[0].arguments, json!({}));
        assert_eq!(done[1].arguments, json!({"q": "x"}));
    }

    #[test]
    fn broken_arguments_are_named() {
        let mut calls = ToolCalls::default();
        calls.start(0, Some("a"), Some("search"));
        calls.append(0, "{\"q\": ");
        let error = calls.finish().expect_err("truncated JSON");
        assert!(matches!(
            error,
            ToolCallError::BadArguments { index: 0, .. }
        ));

        let mut calls = ToolCalls::default();
        calls.append(0, "{}");
        assert_eq!(calls.finish(), Err(ToolCallError::Unnamed { index: 0 }));

        let mut calls = ToolCalls::default();
        calls.start(0, Some("a"), Some("search"));
        calls.append(0, "[1]");
        assert!(calls.finish().is_err());
    }
}
