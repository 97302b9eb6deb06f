//! Routing a request, against the scripted model server: the `router` agent's handoff is the
//! choice (the offline classifier its fallback), and `--explain-route` says who and why.

use crate::act::{ask, calls, offered_tools, says, setup};
use crate::common::{branches, write};
use crate::model_server::{ModelServer, Turn};

#[test]
fn the_model_router_hands_the_request_to_the_agent_it_chooses() {
    let (env, repo) = setup();
    let server = ModelServer::start(vec![
        calls(
            "r1",
            "handoff",
            &serde_json::json!({"to": "chat", "message": "Find where `shout` is defined"}),
        ),
        Turn::text(&["`shout` is at src/lib.rs:5."]).openai(),
    ]);
    let run = ask(
        &env,
        &repo,
        &server,
        &["--route", "model", "Where is shout?"],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    says(
        &run,
        "routed to `chat`: the router chose it: Find where `shout` is defined",
    );
    let received = server.received();
    let system = received[0].body["messages"][0]["content"]
        .as_str()
        .unwrap_or_default();
    assert!(
        system.contains("## Agents you may hand work to")
            && system.contains("- `chat` (chat): Answers questions"),
        "{system}"
    );
    assert_eq!(
        offered_tools(&received[0].body),
        ["list_files", "repo_map", "handoff", "finish"]
    );
    let task = received[1].body["messages"][1]["content"]
        .as_str()
        .unwrap_or_default();
    assert!(
        task.starts_with("`router` handed you this work: Find where `shout` is defined")
            && task.contains("The request it started from: Where is shout?"),
        "{task}"
    );
    // A router that answers instead: the offline classifier chooses.
    let server = ModelServer::start(vec![
        Turn::text(&["Probably chat."]).openai(),
        Turn::text(&["`shout` is at src/lib.rs:5."]).openai(),
    ]);
    let run = ask(
        &env,
        &repo,
        &server,
        &["--route", "model", "Where is shout?"],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    says(
        &run,
        "routed to `chat`: the router made no choice (it answered instead of handing the \
             request on); offline, the request is a question",
    );
    // The router's own words are not the answer.
    assert_eq!(run.stdout, "`shout` is at src/lib.rs:5.\n");
}

#[test]
fn explain_route_says_who_would_act_and_why_and_acts_on_nothing() {
    let (env, repo) = setup();
    let server = ModelServer::start(Vec::new());
    let run = ask(
        &env,
        &repo,
        &server,
        &["--explain-route", "Add a doc comment to greet"],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    assert_eq!(
        run.stdout,
        "doc-writer: the request asks for a change (it opens with `add`), and `doc-writer`'s \
         description shares its words (comment, doc)\n"
    );
    assert!(server.received().is_empty(), "offline: no model call");
    // With the model router (here from the configuration): one call, then nothing more.
    write(
        &env.user_config_dir(),
        "config.toml",
        "[agents]\nroute = \"model\"\n",
    );
    let server = ModelServer::start(vec![calls(
        "r1",
        "handoff",
        &serde_json::json!({"to": "refactorer", "message": "Rename greet to hello"}),
    )]);
    let run = ask(&env, &repo, &server, &["--explain-route", "Rename greet"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert_eq!(
        run.stdout,
        "refactorer: the router chose it: Rename greet to hello\n"
    );
    assert_eq!(server.received().len(), 1);
    assert_eq!(branches(&repo), ["master"]);
}
