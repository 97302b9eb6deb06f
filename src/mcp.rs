//! MCP, as a client: the servers the user's config declares (`[mcp.servers.NAME]`), each started
//! inside the sandbox over stdio and spoken to with the `rmcp` SDK: their tools listed, and
//! called, each exchange under a time limit.
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
    _server: Spawned,
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
    let mut spawned =
        spawn_server(&server.command, root, env, &server.read, server.network).map_err(start)?;
    let (Some(stdout), Some(stdin)) = (spawned.stdout.take(), spawned.stdin.take()) else {
        return Err(start(String::from("its pipes were not opened")));
    };
    let reader = tokio::net::unix::pipe::Receiver::from_owned_fd(OwnedFd::from(stdout))
        .map_err(|e| start(e.to_string()))?;
    let writer = tokio::net::unix::pipe::Sender::from_owned_fd(OwnedFd::from(stdin))
        .map_err(|e| start(e.to_string()))?;
    let timeout = Duration::from_secs(server.timeout_secs.max(1));
    let service = tokio::time::timeout(timeout, ().serve((reader, writer)))
        .await
        .map_err(|_| McpError::TimedOut(name.to_owned(), server.timeout_secs))?
        .map_err(|e| McpError::Protocol(name.to_owned(), e.to_string()))?;
    Ok(Connection {
        name: name.to_owned(),
        timeout,
        service,
        _server: spawned,
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
