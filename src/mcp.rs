//! MCP, as a client: the servers the user's config declares (`[mcp.servers.NAME]`), each started
//! inside the sandbox over stdio, or reached over Streamable HTTP at the URL the user gave, and
//! spoken to with the `rmcp` SDK: their tools listed, and called, each exchange under a time
//! limit.
//!
//! Owns: the client side of the protocol. Never: starts a server a repository declared (the
//! configuration's trust rule), or one outside the sandbox.

use std::ffi::OsString;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::time::Duration;

use rmcp::ServiceExt;
use rmcp::model::{CallToolRequestParams, ContentBlock};
use rmcp::service::{RoleClient, RunningService};
use serde_json::Value;

use crate::config::McpServer;
use crate::validate::{Spawned, spawn_server};

/// Why a server could not be used.
#[derive(Debug, thiserror::Error)]
pub enum McpError {
    #[error("`{0}` could not start: {1}")]
    Start(String, String),
    #[error("`{0}` did not answer within {1} s")]
    TimedOut(String, u64),
    #[error("`{0}`: {1}")]
    Protocol(String, String),
}

/// A tool a server offers.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerTool {
    pub name: String,
    pub description: String,
    /// Its arguments' JSON Schema.
    pub schema: Value,
}

/// A running server and the session with it. The server is killed when this is dropped.
pub struct Connection {
    name: String,
    timeout: Duration,
    service: RunningService<RoleClient, ()>,
    /// The process of a stdio server; `None` for one reached over HTTP.
    _server: Option<Spawned>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Starts server `name` in the sandbox in `root` with `env`, and opens the session.
pub async fn connect(
    name: &str,
    server: &McpServer,
    root: &Path,
    env: &[(OsString, OsString)],
) -> Result<Connection, McpError> {
    let start = |why: String| McpError::Start(name.to_owned(), why);
    let timeout = Duration::from_secs(server.timeout_secs.max(1));
    if let Some(url) = &server.url {
        let transport = rmcp::transport::StreamableHttpClientTransport::from_uri(url.as_str());
        let service = tokio::time::timeout(timeout, ().serve(transport))
            .await
            .map_err(|_| McpError::TimedOut(name.to_owned(), server.timeout_secs))?
            .map_err(|e| McpError::Protocol(name.to_owned(), e.to_string()))?;
        return Ok(Connection {
            name: name.to_owned(),
            timeout,
            service,
            _server: None,
        });
    }
    let mut spawned =
        spawn_server(&server.command, root, env, &server.read, server.network).map_err(start)?;
    let (Some(stdout), Some(stdin)) = (spawned.stdout.take(), spawned.stdin.take()) else {
        return Err(start(String::from("its pipes were not opened")));
    };
    let reader = tokio::net::unix::pipe::Receiver::from_owned_fd(OwnedFd::from(stdout))
        .map_err(|e| start(e.to_string()))?;
    let writer = tokio::net::unix::pipe::Sender::from_owned_fd(OwnedFd::from(stdin))
        .map_err(|e| start(e.to_string()))?;
    let service = tokio::time::timeout(timeout, ().serve((reader, writer)))
        .await
        .map_err(|_| McpError::TimedOut(name.to_owned(), server.timeout_secs))?
        .map_err(|e| McpError::Protocol(name.to_owned(), e.to_string()))?;
    Ok(Connection {
        name: name.to_owned(),
        timeout,
        service,
        _server: Some(spawned),
    })
}

impl Connection {
    /// Every tool the server offers.
    pub async fn tools(&self) -> Result<Vec<ServerTool>, McpError> {
        let listed = tokio::time::timeout(self.timeout, self.service.peer().list_all_tools())
            .await
            .map_err(|_| self.timed_out())?
            .map_err(|e| McpError::Protocol(self.name.clone(), e.to_string()))?;
        Ok(listed
            .into_iter()
            .map(|tool| ServerTool {
                name: tool.name.to_string(),
                description: tool.description.map(|d| d.to_string()).unwrap_or_default(),
                schema: Value::Object((*tool.input_schema).clone()),
            })
            .collect())
    }

    /// Calls `tool` with `arguments`: its text, and whether the server says it failed.
    pub async fn call(&self, tool: &str, arguments: Value) -> Result<(String, bool), McpError> {
        let mut params = CallToolRequestParams::new(tool.to_owned());
        if let Value::Object(map) = arguments {
            params = params.with_arguments(map);
        }
        let result = tokio::time::timeout(self.timeout, self.service.peer().call_tool(params))
            .await
            .map_err(|_| self.timed_out())?
            .map_err(|e| McpError::Protocol(self.name.clone(), e.to_string()))?;
        let text: Vec<String> = result
            .content
            .iter()
            .map(|block| match block {
                ContentBlock::Text(text) => text.text.clone(),
                other => serde_json::to_string(other).unwrap_or_default(),
            })
            .collect();
        Ok((text.join("\n"), result.is_error.unwrap_or(false)))
    }

    fn timed_out(&self) -> McpError {
        McpError::TimedOut(self.name.clone(), self.timeout.as_secs())
    }
}

/// The MCP tools one agent may use in a run: the servers its `tools` name, started for it, and
/// the tools it may call, offered to its model as `mcp__SERVER__TOOL`.
#[derive(Debug, Default)]
pub struct McpTools {
    servers: Vec<Connection>,
    tools: Vec<Offered>,
    /// Where the servers run: absolute paths in arguments are taken relative to it.
    root: std::path::PathBuf,
    /// What the agent may read: a path argument outside it is refused.
    readable: crate::edit::guard::Scope,
}

#[derive(Debug)]
struct Offered {
    /// The name the model calls it by.
    called: String,
    server: usize,
    tool: ServerTool,
}

/// What one MCP call gave the model: its text, and whether it failed or was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Called {
    pub text: String,
    pub is_error: bool,
    pub refused: bool,
}

/// The argument names whose values are paths, checked against the agent's read scope.
const PATH_ARGUMENTS: [&str; 5] = ["path", "paths", "source", "destination", "directory"];

impl McpTools {
    /// Starts the servers `wanted` names (`mcp:SERVER`, `mcp:SERVER/TOOL`; other entries are
    /// ignored) from `servers`, in `root` with `env`, for an agent that may read `readable`
    /// (globs). What could not be used is said, once each.
    pub async fn start(
        wanted: &[String],
        readable: &[String],
        servers: &std::collections::BTreeMap<String, McpServer>,
        root: &Path,
        env: &[(OsString, OsString)],
    ) -> (McpTools, Vec<String>) {
        let mut set = McpTools {
            root: root.to_owned(),
            readable: crate::edit::guard::Scope::new(readable),
            ..McpTools::default()
        };
        let mut problems = Vec::new();
        let mut by_server: std::collections::BTreeMap<&str, Vec<Option<&str>>> =
            std::collections::BTreeMap::new();
        for entry in wanted.iter().filter_map(|t| t.strip_prefix("mcp:")) {
            let (server, tool) = match entry.split_once('/') {
                Some((server, tool)) => (server, Some(tool)),
                None => (entry, None),
            };
            by_server.entry(server).or_default().push(tool);
        }
        for (name, tools) in by_server {
            let Some(server) = servers.get(name) else {
                problems.push(format!(
                    "MCP server `{name}` is not declared in your config (`[mcp.servers.{name}]`)"
                ));
                continue;
            };
            let connected = match connect(name, server, root, env).await {
                Ok(connection) => connection,
                Err(error) => {
                    problems.push(error.to_string());
                    continue;
                }
            };
            let listed = match connected.tools().await {
                Ok(listed) => listed,
                Err(error) => {
                    problems.push(error.to_string());
                    continue;
                }
            };
            let index = set.servers.len();
            for tool in listed {
                if tools.iter().any(|t| t.is_none_or(|t| t == tool.name)) {
                    set.tools.push(Offered {
                        called: called_name(name, &tool.name),
                        server: index,
                        tool,
                    });
                }
            }
            set.servers.push(connected);
        }
        (set, problems)
    }

    /// The tools as the model is offered them.
    pub fn specs(&self) -> Vec<crate::llm::ToolSpec> {
        self.tools
            .iter()
            .map(|offered| crate::llm::ToolSpec {
                name: offered.called.clone(),
                description: offered.tool.description.clone(),
                parameters: offered.tool.schema.clone(),
            })
            .collect()
    }

    /// Calls the MCP tool the model called `name`, when it is one (`None` otherwise; an
    /// `mcp__` name the agent may not use is refused). A path argument outside the repository, or
    /// outside what the agent may read, is refused before the server hears of it; a server that
    /// fails, dies or hangs is a tool error the model reads.
    pub async fn call(&self, name: &str, arguments: &Value) -> Option<Called> {
        if !name.starts_with("mcp__") {
            return None;
        }
        let refused = |text: String| Called {
            text,
            is_error: true,
            refused: true,
        };
        let Some(offered) = self.tools.iter().find(|t| t.called == name) else {
            return Some(refused(format!(
                "`{name}` is not one of your tools: your MCP tools are {}",
                self.tools
                    .iter()
                    .map(|t| t.called.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        for key in PATH_ARGUMENTS {
            let values: Vec<&str> = match &arguments[key] {
                Value::String(path) => vec![path.as_str()],
                Value::Array(paths) => paths.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            let inside = |path: &&str| {
                let relative = match Path::new(path).strip_prefix(&self.root) {
                    Ok(relative) => relative.to_string_lossy().into_owned(),
                    Err(_) if Path::new(path).is_absolute() => return false,
                    Err(_) => path.trim_start_matches("./").to_owned(),
                };
                // The root itself, as a directory to list, is inside.
                relative.is_empty()
                    || relative == "."
                    || crate::edit::RepoPath::new(&relative)
                        .is_some_and(|path| self.readable.contains(&path))
            };
            if let Some(outside) = values.into_iter().find(|path| !inside(path)) {
                return Some(refused(format!(
                    "`{key}` is `{outside}`, outside what you may read: not sent to the server"
                )));
            }
        }
        let server = &self.servers[offered.server];
        Some(
            match server.call(&offered.tool.name, arguments.clone()).await {
                Ok((text, is_error)) => Called {
                    text,
                    is_error,
                    refused: false,
                },
                Err(error) => Called {
                    text: format!("the MCP call failed: {error}"),
                    is_error: true,
                    refused: false,
                },
            },
        )
    }
}

/// `mcp__SERVER__TOOL`, in the characters every API takes in a tool's name.
fn called_name(server: &str, tool: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    let mut name = format!("mcp__{}__{}", clean(server), clean(tool));
    name.truncate(64);
    name
}
