//! `nova mcp serve` driven by a real MCP client: the MCP Inspector's CLI
//! (`@modelcontextprotocol/inspector`, installed by this setup from the npm registry into
//! `target/mcp-node/`), which lists the tools and calls each one over stdio.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::act::{DOC_EDIT, LOWER, ask, calls, offered_tools, setup, tool_results};
use crate::common::{TestEnv, branches, files_under, skip, source_root, toolchain_env, write};
use crate::model_server::{ModelServer, Turn};

/// The Inspector version the tests pin, and the reference server they start.
const INSPECTOR: &str = "@modelcontextprotocol/inspector@2.12.0";
const EVERYTHING: &str = "@modelcontextprotocol/server-everything@2026.8.31";
const FILESYSTEM: &str = "@modelcontextprotocol/server-filesystem@2026.8.31";

/// The Inspector's command, installed once per test run; `None` (after saying why) where npm is
/// missing or the install failed.
#[expect(
    clippy::disallowed_methods,
    reason = "the test setup installs the MCP client"
)]
fn inspector() -> Option<PathBuf> {
    static INSTALLED: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let installed = INSTALLED.get_or_init(|| {
        let dir = source_root().join("target/mcp-node");
        let bin = dir.join("node_modules/.bin/mcp-inspector");
        if bin.is_file() && everything_js().is_file() && filesystem_js().is_file() {
            return Ok(bin);
        }
        let output = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--prefix"])
            .arg(&dir)
            .args([INSPECTOR, EVERYTHING, FILESYSTEM])
            .output()
            .map_err(|error| format!("npm cannot run: {error}"))?;
        if !output.status.success() || !bin.is_file() {
            return Err(format!(
                "npm install {INSPECTOR} failed: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        Ok(bin)
    });
    match installed {
        Ok(bin) => Some(bin.clone()),
        Err(why) => {
            skip("the MCP Inspector", why);
            None
        }
    }
}

/// The repository's `chat` agent, over the built-in one: it may read `read` (a TOML list of
/// globs) and use `mcp` besides `read_file`.
fn chat_with(repo: &Path, mcp: &str, read: &str) {
    write(
        repo,
        ".nova/agents/chat.md",
        &format!(
            "+++\nname = \"chat\"\nrole = \"chat\"\ndescription = \"Talks through MCP\"\n\
             scope = {{ read = {read} }}\ntools = [\"read_file\", \"{mcp}\"]\n\
             budget = {{ turns = 8, tokens = 100000, seconds = 120 }}\noutput = \"answer\"\n+++\nTalk.\n"
        ),
    );
}

/// The reference server's entry point, installed beside the Inspector.
fn everything_js() -> PathBuf {
    source_root()
        .join("target/mcp-node/node_modules/@modelcontextprotocol/server-everything/dist/index.js")
}

/// The filesystem server's entry point, installed beside the Inspector.
fn filesystem_js() -> PathBuf {
    source_root()
        .join("target/mcp-node/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js")
}

/// The user's config declares the reference server as `everything` (its entry then `more`).
fn declare_everything(env: &TestEnv, more: &str) {
    let node_modules = source_root().join("target/mcp-node/node_modules");
    write(
        &env.user_config_dir(),
        "config.toml",
        &format!(
            "[mcp.servers.everything]\ncommand = [\"node\", \"{}\"]\nread = [\"{}\"]\n{more}",
            everything_js().display(),
            node_modules.display()
        ),
    );
}

/// Runs the Inspector's CLI against `nova mcp serve` in `repo` with `args`: the JSON it printed.
#[expect(clippy::disallowed_methods, reason = "the test runs the MCP client")]
fn inspect(inspector: &Path, env: &TestEnv, repo: &Path, args: &[&str]) -> Value {
    let mut command = Command::new(inspector);
    command.arg("--cli");
    // The server's environment: the Inspector passes on only what `-e` names.
    let mut vars = toolchain_env();
    vars.push(("HOME".into(), env.home().to_string_lossy().into_owned()));
    vars.push((
        "XDG_CONFIG_HOME".into(),
        env.root().join("xdg").to_string_lossy().into_owned(),
    ));
    for (key, value) in vars {
        command.arg("-e").arg(format!("{key}={value}"));
    }
    // The Inspector's options first, the server's command last.
    command.arg("--cwd").arg(repo).args(args);
    let output = command
        .arg("--")
        .arg(env!("CARGO_BIN_EXE_nova"))
        .args(["mcp", "serve"])
        .current_dir(repo)
        .output()
        .expect("run the inspector");
    // A tool's error result makes the Inspector exit 1, after printing the result.
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(&stdout).unwrap_or_else(|_| {
        panic!(
            "not JSON: {stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// The text of a `tools/call` result, and whether it is an error.
fn text(result: &Value) -> (String, bool) {
    (
        result["content"][0]["text"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        result["isError"].as_bool().unwrap_or(false),
    )
}

#[test]
fn an_mcp_client_lists_nova_s_tools_and_calls_each() {
    let Some(inspector) = inspector() else {
        return;
    };
    let (env, repo) = setup();
    let before = files_under(&repo, &[".git", ".nova"]);
    let branches_before = branches(&repo);

    let listed = inspect(&inspector, &env, &repo, &["--method", "tools/list"]);
    let names: Vec<&str> = listed["tools"]
        .as_array()
        .expect("tools")
        .iter()
        .filter_map(|t| t["name"].as_str())
        .collect();
    assert_eq!(names, ["repo_map", "symbols", "review", "validate_patch"]);

    let call = |tool: &str, args: &[&str]| {
        let mut all = vec!["--method", "tools/call", "--tool-name", tool];
        for arg in args {
            all.extend(["--tool-arg", arg]);
        }
        text(&inspect(&inspector, &env, &repo, &all))
    };
    let (map, error) = call("repo_map", &["task=make shout quieter", "tokens=200"]);
    assert!(!error && map.starts_with("src/lib.rs:\n"), "{map}");
    assert!(map.contains("pub fn shout"), "{map}");
    let (symbols, error) = call("symbols", &["name=greet"]);
    assert!(
        !error && symbols.contains("defined: src/lib.rs:1"),
        "{symbols}"
    );
    let (review, error) = call("review", &["severity=info"]);
    assert!(
        !error && review.contains("finding(s) in 1 Rust files"),
        "{review}"
    );

    let (verdict, error) = call("validate_patch", &[&format!("patch={DOC_EDIT}")]);
    assert!(!error && verdict.starts_with("accepted: "), "{verdict}");
    let (verdict, error) = call("validate_patch", &[&format!("patch={LOWER}")]);
    assert!(!error && verdict.starts_with("rejected: "), "{verdict}");
    let (refused, error) = call("validate_patch", &["patch=not a patch at all"]);
    assert!(error, "{refused}");

    // Nothing was written to the user's tree, and no branch was made.
    assert_eq!(files_under(&repo, &[".git", ".nova"]), before);
    assert_eq!(branches(&repo), branches_before);
}

#[test]
fn nova_mcp_list_starts_each_server_in_the_sandbox_and_names_its_users() {
    if inspector().is_none() {
        return;
    }
    let (env, repo) = setup();
    declare_everything(
        &env,
        "\n[mcp.servers.broken]\ncommand = [\"/nonexistent/server\"]\n\
         \n[mcp.servers.garbage]\ncommand = [\"sh\", \"-c\", \"read line; echo 'not json'; sleep 30\"]\n\
         timeout_secs = 2\n",
    );
    write(
        &repo,
        ".nova/agents/echoer.md",
        "+++\nname = \"echoer\"\nrole = \"chat\"\ndescription = \"Echoes through MCP\"\n\
         tools = [\"read_file\", \"mcp:everything/echo\"]\n\
         budget = { turns = 5, tokens = 10000, seconds = 60 }\noutput = \"answer\"\n+++\nEcho.\n",
    );
    assert_eq!(env.nova_in(&repo, ["agents", "check"]).code, 0);
    let run = env.nova_in(&repo, ["mcp", "list"]);
    assert_eq!(run.code, 1, "the broken one: {}", run.both());
    let everything = run
        .stdout
        .lines()
        .find(|l| l.starts_with("everything"))
        .unwrap_or_default();
    assert!(everything.contains("echo, "), "{}", run.stdout);
    assert!(everything.ends_with("(used by echoer)"), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("broken  cannot be used: `broken` could not start"),
        "{}",
        run.stdout
    );

    // A server that answers nonsense, then nothing, is named with what went wrong.
    let garbage = run
        .stdout
        .lines()
        .find(|l| l.starts_with("garbage"))
        .unwrap_or_default();
    assert!(garbage.contains("cannot be used"), "{}", run.stdout);

    // A repository cannot declare servers.
    write(
        &repo,
        "nova.toml",
        "[mcp.servers.mine]\ncommand = [\"/bin/true\"]\n",
    );
    let refused = env.nova_in(&repo, ["mcp", "list"]);
    assert_eq!(refused.code, 2, "{}", refused.both());
    assert!(
        refused
            .stderr
            .contains("`[mcp]` cannot be set in a repository's config"),
        "{}",
        refused.stderr
    );
}

#[test]
fn an_agent_calls_a_servers_tools_within_its_scope_and_its_time() {
    if inspector().is_none() {
        return;
    }
    let (env, repo) = setup();
    declare_everything(&env, "timeout_secs = 3\n");
    chat_with(&repo, "mcp:everything", "[\"src/**\"]");
    let server = ModelServer::start(vec![
        calls(
            "c1",
            "mcp__everything__echo",
            &json!({"message": "hi there"}),
        ),
        calls(
            "c2",
            "mcp__everything__echo",
            &json!({"message": "x", "path": "/etc/passwd"}),
        ),
        calls(
            "c3",
            "mcp__everything__trigger-long-running-operation",
            &json!({"duration": 20, "steps": 2}),
        ),
        calls("c4", "mcp__other__tool", &json!({})),
        Turn::text(&["Done."]).openai(),
    ]);
    let run = ask(
        &env,
        &repo,
        &server,
        &["--agent", "chat", "Say hi through the server"],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    let offered = offered_tools(&server.received()[0].body);
    assert!(
        offered.iter().any(|t| t == "mcp__everything__echo"),
        "{offered:?}"
    );
    let results = tool_results(&server, 4);
    assert!(results[0].contains("Echo: hi there"), "{results:?}");
    assert!(
        results[1].contains("outside what you may read"),
        "{results:?}"
    );
    assert!(
        results[2].contains("did not answer within 3 s"),
        "{results:?}"
    );
    assert!(
        results[3].contains("is not one of your tools"),
        "{results:?}"
    );
}

#[test]
fn a_server_that_dies_mid_call_is_a_tool_error_not_a_crash() {
    if inspector().is_none() {
        return;
    }
    let (env, repo) = setup();
    let node_modules = source_root().join("target/mcp-node/node_modules");
    // The server is killed two seconds after it starts, in the middle of a long call. (A
    // background job's stdin is /dev/null unless it is handed over: fd 3.)
    write(
        &env.user_config_dir(),
        "config.toml",
        &format!(
            "[mcp.servers.dying]\ncommand = [\"sh\", \"-c\", \"exec 3<&0; node {} <&3 & server=$!; sleep 2; \
             kill -9 $server\"]\nread = [\"{}\"]\ntimeout_secs = 20\n",
            everything_js().display(),
            node_modules.display()
        ),
    );
    chat_with(&repo, "mcp:dying", "[\"**/*\"]");
    let server = ModelServer::start(vec![
        calls(
            "c1",
            "mcp__dying__trigger-long-running-operation",
            &json!({"duration": 15, "steps": 3}),
        ),
        Turn::text(&["It died."]).openai(),
    ]);
    let run = ask(
        &env,
        &repo,
        &server,
        &["--agent", "chat", "Run the long operation"],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    let results = tool_results(&server, 1);
    assert!(results[0].contains("the MCP call failed"), "{results:?}");
}

#[test]
fn a_filesystem_server_reads_what_the_agent_may_read_and_nothing_else() {
    if inspector().is_none() {
        return;
    }
    let (env, repo) = setup();
    let node_modules = source_root().join("target/mcp-node/node_modules");
    write(
        &env.user_config_dir(),
        "config.toml",
        &format!(
            "[mcp.servers.fs]\ncommand = [\"node\", \"{}\", \"{}\"]\nread = [\"{}\"]\n",
            filesystem_js().display(),
            repo.display(),
            node_modules.display()
        ),
    );
    chat_with(&repo, "mcp:fs/read_text_file", "[\"src/**\"]");
    let inside = repo.join("src/lib.rs").to_string_lossy().into_owned();
    let outside = repo.join("notes.txt").to_string_lossy().into_owned();
    let server = ModelServer::start(vec![
        calls("c1", "mcp__fs__read_text_file", &json!({"path": inside})),
        calls("c2", "mcp__fs__read_text_file", &json!({"path": outside})),
        calls(
            "c3",
            "mcp__fs__write_file",
            &json!({"path": inside, "content": ""}),
        ),
        Turn::text(&["Read."]).openai(),
    ]);
    let run = ask(
        &env,
        &repo,
        &server,
        &["--agent", "chat", "Read the library"],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    let offered = offered_tools(&server.received()[0].body);
    assert!(
        offered.iter().any(|t| t == "mcp__fs__read_text_file"),
        "{offered:?}"
    );
    assert!(
        !offered.iter().any(|t| t == "mcp__fs__write_file"),
        "{offered:?}"
    );
    let results = tool_results(&server, 3);
    assert!(results[0].contains("pub fn greet"), "{results:?}");
    assert!(
        results[1].contains("outside what you may read"),
        "{results:?}"
    );
    assert!(
        results[2].contains("is not one of your tools"),
        "{results:?}"
    );
    assert!(
        std::fs::read_to_string(repo.join("src/lib.rs"))
            .expect("kept")
            .contains("pub fn greet")
    );
}

/// The reference server over Streamable HTTP on a free port of 127.0.0.1, stopped on drop.
struct HttpServer {
    child: std::process::Child,
    url: String,
}

impl HttpServer {
    #[expect(
        clippy::disallowed_methods,
        reason = "the test starts the MCP server it talks to"
    )]
    fn start() -> HttpServer {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("node")
            .arg(everything_js())
            .arg("streamableHttp")
            .env("PORT", port.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start the server");
        // Ready when it accepts connections; a deadline, never a fixed sleep.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "the server never listened"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        HttpServer {
            child,
            url: format!("http://127.0.0.1:{port}/mcp"),
        }
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_server_over_streamable_http_is_reached_at_its_url() {
    if inspector().is_none() {
        return;
    }
    let (env, repo) = setup();
    let http = HttpServer::start();
    write(
        &env.user_config_dir(),
        "config.toml",
        &format!("[mcp.servers.remote]\nurl = \"{}\"\n", http.url),
    );
    let run = env.nova_in(&repo, ["mcp", "list"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(run.stdout.starts_with("remote  "), "{}", run.stdout);
    assert!(run.stdout.contains("echo, "), "{}", run.stdout);

    // Both `command` and `url`, or neither, is refused.
    write(
        &env.user_config_dir(),
        "config.toml",
        "[mcp.servers.both]\ncommand = [\"x\"]\nurl = \"http://127.0.0.1:1/mcp\"\n",
    );
    let both = env.nova_in(&repo, ["mcp", "list"]);
    assert_eq!(both.code, 2, "{}", both.both());
    assert!(
        both.stderr.contains("needs one of `command`"),
        "{}",
        both.stderr
    );
}
