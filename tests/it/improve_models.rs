//! `nova improve` with a model, against the scripted model server: a finding without a machine
//! fix goes to the refactorer agent; its change breaks a test, the fixer repairs it from the
//! report, the committer writes the message; a change to the public API is refused.

use crate::act::{KEY_VAR, calls, tool_results, with_model};
use crate::common::{TestEnv, branch_file, branch_log};
use crate::llm::CANARY;
use crate::model_server::{ModelServer, Reply, Turn};

const MANIFEST: &str =
    "[package]\nname = \"ports\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n";

/// Two `unwrap`s in library code, which rules find and no machine fix resolves.
const LIB: &str = "/// The port in `text`.\npub fn parse_port(text: &str) -> u16 {\n    text.trim().parse().unwrap()\n}\n\n/// The first item.\npub fn first(items: &[i32]) -> i32 {\n    *items.first().unwrap()\n}\n";

const TESTS: &str = "#[test]\nfn parses_a_padded_port() {\n    assert_eq!(ports::parse_port(\" 80 \"), 80);\n    assert_eq!(ports::first(&[3, 4]), 3);\n}\n";

/// The refactorer's change: it drops the `trim`, which breaks the test.
const UNTRIMMED: &str = "src/lib.rs\n```rust\n<<<<<<< SEARCH\n    text.trim().parse().unwrap()\n=======\n    text.parse().unwrap_or_default()\n>>>>>>> REPLACE\n```\n";

/// The fixer's repair, on top of it.
const REPAIRED: &str = "src/lib.rs\n```rust\n<<<<<<< SEARCH\n    text.parse().unwrap_or_default()\n=======\n    text.trim().parse().unwrap_or_default()\n>>>>>>> REPLACE\n```\n";

/// A change to `first`'s signature: the public API.
const OPTIONAL: &str = "src/lib.rs\n```rust\n<<<<<<< SEARCH\npub fn first(items: &[i32]) -> i32 {\n    *items.first().unwrap()\n}\n=======\npub fn first(items: &[i32]) -> Option<i32> {\n    items.first().copied()\n}\n>>>>>>> REPLACE\n```\n";

const MESSAGE: &str = "Fall back to port 0 instead of panicking in `parse_port`\n\nA port that does not parse made the library panic; it now returns 0.";

/// The model's turns: the refactorer's change, the fixer's repair, the committer's message, then
/// the refactorer's change to the public API.
fn script() -> Vec<Reply> {
    let edit =
        |id: &str, edits: &str| calls(id, "propose_edit", &serde_json::json!({ "edits": edits }));
    let finish = |id: &str, text: &str| calls(id, "finish", &serde_json::json!({ "text": text }));
    vec![
        edit("r1", UNTRIMMED),
        finish("r2", "Fall back to 0 on a bad port"),
        edit("f1", REPAIRED),
        finish("f2", "Fall back to 0 on a bad port, trimmed"),
        Turn::text(&[MESSAGE]).openai(),
        edit("r3", OPTIONAL),
        finish("r4", "Return None for an empty slice"),
    ]
}

/// A test environment with the model's key, and the crate.
fn setup() -> (TestEnv, std::path::PathBuf) {
    let mut env = TestEnv::new();
    let repo = crate_with_unwraps(&mut env);
    (env, repo)
}

/// The crate with two `unwrap`s, in `env` (which gets the model's key and a fixed clock).
fn crate_with_unwraps(env: &mut TestEnv) -> std::path::PathBuf {
    crate_of(env, LIB, TESTS)
}

/// A crate of `lib` and its integration `tests`, in `env` (which gets the model's key and a
/// fixed clock).
fn crate_of(env: &mut TestEnv, lib: &str, tests: &str) -> std::path::PathBuf {
    env.set_var(KEY_VAR, CANARY);
    env.set_var("SOURCE_DATE_EPOCH", "1767225600");
    env.repo_with(
        "ports",
        &[
            ("Cargo.toml", MANIFEST),
            ("src/lib.rs", lib),
            ("tests/ports.rs", tests),
        ],
    )
}

#[test]
fn a_model_fixes_what_has_no_machine_fix_with_a_repair_and_its_message() {
    let (env, repo) = setup();
    // Without a planner, a finding the refactorer makes no change for is skipped.
    crate::common::write(
        &env.user_config_dir(),
        "config.toml",
        "[agents]\ndisabled = [\"planner\"]\n",
    );
    // A file only the user's checkout has: the agents work on the tip, and their map with them.
    crate::common::write(
        &repo,
        "src/scratch.rs",
        "pub fn only_in_the_checkout() {}\n",
    );
    let server = ModelServer::start(script());
    let run = with_model(
        &env,
        &repo,
        &server,
        "improve",
        &["--branch", "nova/models", "--json", "--rules-only"],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    let received = server.received();
    assert_eq!(received.len(), 7, "{}", run.both());
    maps_show_the_tip(&received);

    // The refactorer was asked about the finding, on the tip.
    let task = received[0].body["messages"][1]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        task.contains("`unwrap-in-lib` (warning) at src/lib.rs:3 in `parse_port`"),
        "{task}"
    );
    // The fixer was told why its candidate was refused, with the refused diff.
    let repair = received[2].body["messages"][1]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        repair.contains("test `ports (test ports) parses_a_padded_port` fails"),
        "{repair}"
    );
    assert!(
        repair.contains("+    text.parse().unwrap_or_default()"),
        "{repair}"
    );

    let events: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let of = |kind: &str| -> Vec<&serde_json::Value> {
        events.iter().filter(|e| e["event"] == kind).collect()
    };
    assert_eq!(of("candidate_rejected").len(), 1, "{}", run.stdout);
    assert_eq!(of("candidate_accepted").len(), 1, "{}", run.stdout);
    // The API change is turned away at the tool, and the model is told why.
    let refused: Vec<&serde_json::Value> = of("tool_called")
        .into_iter()
        .filter(|e| e["refused"] == true)
        .collect();
    assert_eq!(refused.len(), 1, "{}", run.stdout);
    let told = tool_results(&server, 6).join("\n");
    assert!(
        told.contains("public API") && told.contains("first"),
        "{told}"
    );
    let skipped = of("candidate_skipped");
    assert_eq!(skipped.len(), 1, "{}", run.stdout);
    assert_eq!(skipped[0]["summary"], "`unwrap-in-lib` at src/lib.rs:8");
    assert!(
        !of("tool_called").is_empty(),
        "the agents' work is in the record"
    );

    let lib = branch_file(&repo, "nova/models", "src/lib.rs");
    assert!(
        lib.contains("text.trim().parse().unwrap_or_default()"),
        "{lib}"
    );
    assert!(
        lib.contains("*items.first().unwrap()"),
        "the API change is not in: {lib}"
    );
    let commits = branch_log(&repo, "nova/models");
    assert_eq!(commits.len(), 1);
    let git = git2::Repository::open(&repo).expect("open");
    let message = git
        .find_commit(commits[0])
        .expect("commit")
        .message()
        .expect("utf-8")
        .to_owned();
    assert!(message.starts_with(MESSAGE), "{message}");
    assert!(
        message.contains("\n\nNova-Agent: fixer\nNova-Run: "),
        "{message}"
    );
    assert!(!message.contains(CANARY), "{message}");
}

/// Every agent's map is of the tip its tools read, not of the user's checkout (which has
/// `only_in_the_checkout`).
fn maps_show_the_tip(received: &[crate::model_server::Received]) {
    for request in received {
        let system = request.body["messages"][0]["content"]
            .as_str()
            .unwrap_or_default();
        assert!(
            system.contains("## Repository map") && system.contains("parse_port"),
            "{system}"
        );
        assert!(!system.contains("only_in_the_checkout"), "{system}");
    }
}

/// `nova ci improve --max-cost`: once the model's turns cost that much, no agent starts again;
/// what is left is listed, and the job summary says why.
#[test]
fn the_cost_cap_stops_the_model_and_says_so() {
    let mut env = TestEnv::new();
    let summary = env.root().join("summary.md");
    env.set_var("GITHUB_STEP_SUMMARY", &summary.display().to_string());
    crate::common::write(
        &env.user_config_dir(),
        "config.toml",
        "[models.\"test-model\"]\ninput_usd_per_mtok = 1000.0\noutput_usd_per_mtok = 1000.0\n",
    );
    let repo = crate_with_unwraps(&mut env);
    // One turn of 12 + 7 tokens costs $0.019: over the cap, so the refactorer stops after it.
    let server = ModelServer::start(script());
    let run = with_model(
        &env,
        &repo,
        &server,
        "ci",
        &["improve", "--no-push", "--max-cost", "0.01", "--rules-only"],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    assert_eq!(server.received().len(), 1, "{}", run.both());
    let written = std::fs::read_to_string(&summary).expect("the job summary");
    assert!(
        written.contains("The model's budget ended the run early: the run's budget of $0.0100")
            && written.contains("`unwrap-in-lib` at src/lib.rs:8"),
        "{written}"
    );
    assert!(run.stdout.contains("Stopped:"), "{}", run.stdout);
}

/// One `unwrap` the refactorer will not fix in one change.
const PORT: &str = "/// The port in `text`.\npub fn parse_port(text: &str) -> u16 {\n    text.trim().parse().unwrap()\n}\n";

const PORT_TESTS: &str =
    "#[test]\nfn parses_a_padded_port() {\n    assert_eq!(ports::parse_port(\" 80 \"), 80);\n}\n";

/// The plan's first step, then its second on top of it.
const FALLBACK: &str = "src/lib.rs\n```rust\n<<<<<<< SEARCH\n    text.trim().parse().unwrap()\n=======\n    text.trim().parse().unwrap_or(0)\n>>>>>>> REPLACE\n```\n";
const NAMED: &str = "src/lib.rs\n```rust\n<<<<<<< SEARCH\n/// The port in `text`.\n=======\n/// The port when the text names none.\nconst FALLBACK: u16 = 0;\n\n/// The port in `text`.\n>>>>>>> REPLACE\n```\n\nsrc/lib.rs\n```rust\n<<<<<<< SEARCH\n    text.trim().parse().unwrap_or(0)\n=======\n    text.trim().parse().unwrap_or(FALLBACK)\n>>>>>>> REPLACE\n```\n";

#[test]
fn a_finding_that_needs_a_plan_lands_step_by_step() {
    let mut env = TestEnv::new();
    let repo = crate_of(&mut env, PORT, PORT_TESTS);
    let edit =
        |id: &str, edits: &str| calls(id, "propose_edit", &serde_json::json!({ "edits": edits }));
    let finish = |id: &str, text: &str| calls(id, "finish", &serde_json::json!({ "text": text }));
    let steps = [
        "Fall back to 0 when the port does not parse",
        "Name the fallback",
    ];
    let server = ModelServer::start(vec![
        finish("r1", "This needs more than one change"),
        calls(
            "p1",
            "finish",
            &serde_json::json!({"text": "Parse ports without panicking", "steps": steps}),
        ),
        edit("s1", FALLBACK),
        finish("s2", "Fall back to 0"),
        Turn::text(&["Fall back to port 0 in `parse_port`"]).openai(),
        edit("s3", NAMED),
        finish("s4", "Name the fallback"),
        Turn::text(&["Name the fallback port of `parse_port`"]).openai(),
    ]);
    let args = ["--branch", "nova/plan", "--rules-only"];
    let run = with_model(&env, &repo, &server, "improve", &args);
    assert_eq!(run.code, 0, "{}", run.both());
    let received = server.received();
    assert_eq!(received.len(), 8, "{}", run.both());
    let planned = received[1].body["messages"][1]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        planned.contains("could not resolve this finding in one change (This needs more"),
        "{planned}"
    );
    let second = received[5].body["messages"][1]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        second.contains("Make step 2 of this plan")
            && second.contains("1. Fall back to 0 when the port does not parse (done)")
            && second.contains("2. Name the fallback (this one)"),
        "{second}"
    );
    let commits = crate::improve::branch_commits(&repo, "nova/plan");
    let subjects: Vec<&str> = commits.iter().map(|c| c.2.as_str()).collect();
    assert_eq!(
        subjects,
        [
            "Fall back to port 0 in `parse_port`",
            "Name the fallback port of `parse_port`"
        ]
    );
    let lib = branch_file(&repo, "nova/plan", "src/lib.rs");
    assert!(lib.contains("unwrap_or(FALLBACK)"), "{lib}");
}

/// A crate the rules find nothing in, and a test.
const CLEAN: &str = "/// The port in `text`, or 80.\npub fn port_or_default(text: &str) -> u16 {\n    text.trim().parse().unwrap_or(0)\n}\n";

const CLEAN_TESTS: &str =
    "#[test]\nfn parses() {\n    assert_eq!(ports::port_or_default(\" 81 \"), 81);\n}\n";

const EIGHTY: &str = "src/lib.rs\n```rust\n<<<<<<< SEARCH\n    text.trim().parse().unwrap_or(0)\n=======\n    text.trim().parse().unwrap_or(80)\n>>>>>>> REPLACE\n```\n";

/// Without `--rules-only`, the reviewers read the tip with the model too (once, on the first
/// pass); what they report without a fix goes to the refactorer like a rule's finding.
#[test]
fn model_reviewers_find_what_the_refactorer_fixes() {
    let mut env = TestEnv::new();
    let repo = crate_of(&mut env, CLEAN, CLEAN_TESTS);
    crate::common::write(
        &repo,
        "nova.toml",
        "[agents]\ndisabled = [\"performance-reviewer\", \"test-reviewer\", \"docs-reviewer\", \"security-reviewer\", \"planner\"]\n",
    );
    let doc = serde_json::json!({"path": "src/lib.rs", "line": 3, "severity": "warning",
        "message": "the default is 0, but the doc comment promises 80", "rule": "doc-mismatch"});
    let finish = |id: &str, text: &str| calls(id, "finish", &serde_json::json!({ "text": text }));
    let server = ModelServer::start(vec![
        // correctness-reviewer: one finding; error-handling-reviewer: none.
        calls("a1", "report_finding", &doc),
        finish("a2", "one problem"),
        finish("b1", "nothing to report"),
        calls(
            "r1",
            "propose_edit",
            &serde_json::json!({ "edits": EIGHTY }),
        ),
        finish("r2", "Default to port 80 as documented"),
        Turn::text(&["Default to port 80 in `port_or_default`, as its doc says"]).openai(),
    ]);
    let args = ["--branch", "nova/reviewed", "--json"];
    let run = with_model(&env, &repo, &server, "improve", &args);
    assert_eq!(run.code, 0, "{}", run.both());
    let received = server.received();
    assert_eq!(received.len(), 6, "{}", run.both());
    let review = received[0].body["messages"][1]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(review.contains("Review this repository"), "{review}");
    let task = received[3].body["messages"][1]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        task.contains("`correctness-reviewer::doc-mismatch` (warning) at src/lib.rs:3"),
        "{task}"
    );
    let commits = crate::improve::branch_commits(&repo, "nova/reviewed");
    let subjects: Vec<&str> = commits.iter().map(|c| c.2.as_str()).collect();
    assert_eq!(
        subjects,
        ["Default to port 80 in `port_or_default`, as its doc says"]
    );
}
