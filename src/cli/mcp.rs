//! `nova mcp serve`: what Nova does best, as Model Context Protocol tools over stdio (the `rmcp`
//! SDK), for any MCP client: the repository map for a task, symbols, the rule packs' review, and
//! a patch proved in the sandbox with nothing written to the user's tree.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Subcommand};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::{Map, Value, json};

use super::{CommandError, Context, Exit};
use crate::agents::AgentSet;
use crate::findings::Severity;
use crate::index::{Focus, Index};
use crate::orchestrator::{self, ApplyRequest, ReviewRequest};
use crate::validate::Options;

/// Speak the Model Context Protocol: `nova mcp serve` gives MCP clients Nova's tools.
#[derive(Debug, Args)]
pub struct McpArgs {
    #[command(subcommand)]
    command: McpCommand,
}

#[derive(Debug, Subcommand)]
enum McpCommand {
    /// Serve `repo_map`, `symbols`, `review` and `validate_patch` for this repository over stdio
    /// (add it to an MCP client as the command `nova mcp serve`)
    Serve {
        #[command(flatten)]
        validation: super::validation::ValidationArgs,
    },
    /// The MCP servers your config declares (`[mcp.servers.NAME]`): each started in the sandbox,
    /// its tools, and the agents that may use them (exit 1 if one cannot be used)
    List,
}

pub fn run(cx: &Context<'_>, args: &McpArgs) -> Result<Exit, CommandError> {
    match &args.command {
        McpCommand::Serve { validation } => serve(cx, validation),
        McpCommand::List => list(cx),
    }
}

/// Starts each declared server, lists its tools and the agents whose `tools` name it.
fn list(cx: &Context<'_>) -> Result<Exit, CommandError> {
    let root = cx.require_repo()?;
    let config = cx.config(Some(&root))?;
    let p = &cx.printer;
    if config.mcp_servers.is_empty() {
        p.line(
            "no MCP servers: declare them in your user config, `[mcp.servers.NAME]` with \
             `command = [...]`",
        )?;
        return Ok(Exit::Success);
    }
    let set = AgentSet::for_repo(Some(&root)).map_err(CommandError::usage)?;
    let env = super::ask::mcp_env(cx);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CommandError::environment)?;
    let mut failed = false;
    for (name, server) in &config.mcp_servers {
        let users: Vec<&str> = set
            .agents()
            .filter(|agent| {
                agent.tools.iter().any(|tool| {
                    tool.strip_prefix("mcp:")
                        .is_some_and(|t| t == name || t.starts_with(&format!("{name}/")))
                })
            })
            .map(|agent| agent.name.as_str())
            .collect();
        let listed = runtime.block_on(async {
            let connection = crate::mcp::connect(name, server, &root, &env).await?;
            connection.tools().await
        });
        let agents = if users.is_empty() {
            String::from("no agent")
        } else {
            users.join(", ")
        };
        match listed {
            Ok(tools) => {
                let names: Vec<&str> = tools.iter().map(|t| t.name.as_str()).collect();
                p.line(&format!(
                    "{name}  {} tools: {}  (used by {agents})",
                    tools.len(),
                    names.join(", ")
                ))?;
            }
            Err(error) => {
                failed = true;
                p.line(&format!(
                    "{name}  cannot be used: {error}  (used by {agents})"
                ))?;
            }
        }
    }
    Ok(if failed { Exit::Failure } else { Exit::Success })
}

/// What the tools need, shared by the requests of one session.
struct Nova {
    root: PathBuf,
    validation: Options,
    require_green: bool,
    disabled: Vec<String>,
    time: i64,
}

#[derive(Clone)]
struct Server {
    nova: Arc<Nova>,
}

fn serve(
    cx: &Context<'_>,
    validation: &super::validation::ValidationArgs,
) -> Result<Exit, CommandError> {
    let root = cx.require_repo()?;
    let config = cx.config(Some(&root))?;
    let (options, require_green) = validation.options(cx, &config)?;
    let server = Server {
        nova: Arc::new(Nova {
            root,
            validation: options,
            require_green,
            disabled: config.disabled_agents.value.clone(),
            time: cx.env.source_date_epoch().unwrap_or_else(orchestrator::now),
        }),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(CommandError::environment)?;
    runtime.block_on(async {
        let running = server
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|error| CommandError::environment(anyhow::anyhow!("MCP: {error}")))?;
        running
            .waiting()
            .await
            .map_err(|error| CommandError::environment(anyhow::anyhow!("MCP: {error}")))?;
        Ok::<(), CommandError>(())
    })?;
    Ok(Exit::Success)
}

/// The tools, with their JSON Schemas.
fn tools() -> Vec<Tool> {
    let schema = |value: Value| -> Arc<Map<String, Value>> {
        match value {
            Value::Object(map) => Arc::new(map),
            _ => Arc::new(Map::new()),
        }
    };
    vec![
        Tool::new(
            "repo_map",
            "The repository map: its definitions most relevant to a task (or to focus names and \
             paths), one line each with its line number, by file, fitted to a token budget.",
            schema(json!({
                "type": "object",
                "properties": {
                    "task": {"type": "string", "description": "the task in plain words"},
                    "focus": {"type": "string", "description": "paths or symbol names, space-separated"},
                    "tokens": {"type": "integer", "minimum": 64, "maximum": 32768, "description": "the budget (default 2048)"}
                }
            })),
        ),
        Tool::new(
            "symbols",
            "Where a symbol is defined and which files use it; or, given a path, the outline of that \
             file.",
            schema(json!({
                "type": "object",
                "properties": {
                    "name": {"type": "string", "description": "a symbol's name"},
                    "path": {"type": "string", "description": "a file, for its outline"}
                }
            })),
        ),
        Tool::new(
            "review",
            "The findings of Nova's rule packs on the repository (offline, deterministic): file, \
             line, rule, severity and message.",
            schema(json!({
                "type": "object",
                "properties": {
                    "base": {"type": "string", "description": "only what changed since this revision"},
                    "severity": {"type": "string", "enum": ["info", "warning", "error"], "description": "the least severe finding shown (default warning)"}
                }
            })),
        ),
        Tool::new(
            "validate_patch",
            "Prove a change in Nova's sandbox: build, test and lint it against the last commit, and \
             return the verdict. Nothing is written to the user's tree and no branch is made. The \
             change is a unified diff or Nova's reply format (SEARCH/REPLACE blocks).",
            schema(json!({
                "type": "object",
                "properties": {
                    "patch": {"type": "string", "description": "the change"}
                },
                "required": ["patch"]
            })),
        ),
    ]
}

impl ServerHandler for Server {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("nova", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Nova's view of a Rust repository: `repo_map` and `symbols` to find code, `review` \
                 for findings, `validate_patch` to prove a change before you make it.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tools()))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = request.name.to_string();
        if !tools().iter().any(|tool| tool.name == name) {
            return Err(ErrorData::invalid_params(
                format!(
                    "no tool `{name}`: the tools are repo_map, symbols, review and validate_patch"
                ),
                None,
            ));
        }
        let args = Value::Object(request.arguments.unwrap_or_default());
        let nova = Arc::clone(&self.nova);
        // Every tool reads files or runs cargo: off the async thread.
        let result = tokio::task::spawn_blocking(move || call(&nova, &name, &args))
            .await
            .map_err(|error| ErrorData::internal_error(error.to_string(), None))?;
        Ok(match result {
            Ok(text) => CallToolResult::success(vec![ContentBlock::text(text)]),
            Err(text) => CallToolResult::error(vec![ContentBlock::text(text)]),
        }
        .into())
    }
}

/// One tool call: its text, or what went wrong, for the client's model to read.
fn call(nova: &Nova, name: &str, args: &Value) -> Result<String, String> {
    let text = |key: &str| args[key].as_str().map(str::trim).filter(|s| !s.is_empty());
    match name {
        "repo_map" => {
            let mut focus = text("task").map(Focus::from_task).unwrap_or_default();
            if let Some(words) = text("focus") {
                let words: Vec<String> = words.split_whitespace().map(str::to_owned).collect();
                focus.add(Focus::from_words(&words));
            }
            let tokens = args["tokens"].as_u64().unwrap_or(2048).clamp(64, 32_768);
            let map = Index::build(&nova.root).map(&focus, usize::try_from(tokens).unwrap_or(2048));
            Ok(format!(
                "{}\n[{} of {} tokens (o200k_base), {} definitions in {} files]",
                map.text.trim_end(),
                map.tokens,
                map.budget,
                map.shown,
                map.files
            ))
        }
        "symbols" => symbols(&nova.root, text("name"), text("path")),
        "review" => review(nova, text("base"), text("severity").unwrap_or("warning")),
        "validate_patch" => validate(
            nova,
            text("patch")
                .ok_or("`patch` is empty: give a unified diff or SEARCH/REPLACE blocks")?,
        ),
        _ => Err(format!("no tool `{name}`")),
    }
}

fn symbols(root: &Path, name: Option<&str>, path: Option<&str>) -> Result<String, String> {
    let index = Index::build(root);
    if let Some(path) = path {
        let outline = index
            .outline(path)
            .ok_or_else(|| format!("`{path}` is not an indexed source file of the repository"))?;
        let lines: Vec<String> = outline
            .iter()
            .map(|def| format!("{}│{}", def.line, def.signature))
            .collect();
        return Ok(format!("{path}:\n{}", lines.join("\n")));
    }
    let name = name.ok_or("give `name` (a symbol) or `path` (a file to outline)")?;
    let mut out = String::new();
    let defined = index.definitions(name);
    if defined.is_empty() {
        out.push_str(&format!("`{name}` is defined nowhere in the repository.\n"));
    }
    for located in defined {
        out.push_str(&format!(
            "defined: {}:{}  {}\n",
            located.path, located.def.line, located.def.signature
        ));
    }
    for (path, count) in index.references(name) {
        out.push_str(&format!("used: {path} ({count}x)\n"));
    }
    Ok(out)
}

/// The most findings `review` lists; a count says how many more there are.
const MAX_FINDINGS: usize = 200;

fn review(nova: &Nova, base: Option<&str>, least: &str) -> Result<String, String> {
    let least = match least {
        "info" => Severity::Info,
        "warning" => Severity::Warning,
        "error" => Severity::Error,
        other => {
            return Err(format!(
                "`severity` is `{other}`: give info, warning or error"
            ));
        }
    };
    let set = AgentSet::for_repo(Some(&nova.root)).map_err(|error| error.to_string())?;
    let request = ReviewRequest {
        repo_root: nova.root.clone(),
        disabled: nova.disabled.clone(),
        base: base.map(str::to_owned),
    };
    let outcome = orchestrator::Review::start(&request, &set)
        .and_then(orchestrator::Review::finish)
        .map_err(|error| error.to_string())?;
    let shown: Vec<_> = outcome
        .findings
        .iter()
        .filter(|f| f.severity >= least)
        .collect();
    let mut out = format!(
        "{} finding(s) in {} Rust files, {} at {} or above\n",
        outcome.findings.len(),
        outcome.files,
        shown.len(),
        least.as_str()
    );
    for finding in shown.iter().take(MAX_FINDINGS) {
        out.push_str(&format!(
            "{}:{}: {} [{}] {}\n",
            finding.path,
            finding.span.line_start,
            finding.severity.as_str(),
            finding.rule,
            finding.message
        ));
    }
    if shown.len() > MAX_FINDINGS {
        out.push_str(&format!(
            "[{} more: give `base` or a higher `severity` to narrow it]\n",
            shown.len() - MAX_FINDINGS
        ));
    }
    Ok(out)
}

fn validate(nova: &Nova, patch: &str) -> Result<String, String> {
    let request = ApplyRequest {
        repo_root: nova.root.clone(),
        reply: patch.to_owned(),
        branch: None,
        dry_run: true,
        to_worktree: false,
        rewrite: false,
        validation: nova.validation.clone(),
        require_green: nova.require_green,
        time: nova.time,
    };
    let prepared = orchestrator::prepare(&request).map_err(|error| error.to_string())?;
    let lock = crate::state::Lock::acquire(&nova.root, crate::state::Wait::Yes(&mut |_| {}))
        .map_err(|error| error.to_string())?;
    let outcome =
        orchestrator::apply(&request, prepared, &lock).map_err(|error| error.to_string())?;
    if outcome.base_failed {
        let why = outcome.base.map(|b| b.summary()).unwrap_or_default();
        return Err(format!(
            "the last commit itself cannot judge a change: {why}"
        ));
    }
    let summary = outcome.report.map(|r| r.summary()).unwrap_or_default();
    match outcome.verdict {
        Some(verdict) if verdict.accepted => Ok(format!("accepted: {summary}")),
        Some(verdict) => Ok(format!(
            "rejected: {summary}\n{}",
            verdict
                .reasons
                .iter()
                .map(|r| format!("- {r}"))
                .collect::<Vec<_>>()
                .join("\n")
        )),
        None => Err(String::from("the change was not proved")),
    }
}
