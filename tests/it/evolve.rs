//! `nova evolve` end to end, with a model whose answers depend on its prompt: it finds seeded
//! defects only when its prompt carries one of the builtin proposer's hints. The root agent set
//! solves nothing; a variant that gives the routed agent a hint solves every task and is
//! accepted; the held-out task is never run while selecting; a run killed mid-generation goes on
//! from where it stopped without running a task twice.

use std::path::Path;
use std::time::{Duration, Instant};

use nova::evolve::TaskSet;
use nova::evolve::variant::HINTS;
use serde_json::{Value, json};

use crate::act::calls;
use crate::bench_run::revert;
use crate::common::{Run, TestEnv};
use crate::model_server::{ModelServer, Received, Reply};

/// A model that fixes a task's defect when a hint is in its prompt, and gives up otherwise; as
/// the evolver, it proposes nothing.
fn model(set: &TaskSet, repo: &Path) -> ModelServer {
    model_with(set, repo, |_: &Received| None)
}

/// [`model`], with `evolver` answering the evolver's requests.
fn model_with(
    set: &TaskSet,
    repo: &Path,
    evolver: impl Fn(&Received) -> Option<Reply> + Send + Sync + 'static,
) -> ModelServer {
    let fixes: Vec<(String, String)> = (0..set.tasks.len())
        .map(|n| {
            let statement = serde_json::to_string(set.tasks[n].statement.trim()).expect("json");
            (statement.trim_matches('"').to_owned(), revert(set, n, repo))
        })
        .collect();
    ModelServer::responding(move |received: &Received| -> Reply {
        let body = received.body.to_string();
        let messages = received.body["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let system = messages
            .first()
            .map(|m| m["content"].to_string())
            .unwrap_or_default();
        if system.contains("You improve a set of code agents") {
            return evolver(received)
                .unwrap_or_else(|| calls("n", "finish", &json!({"text": "Nothing to change"})));
        }
        if system.contains("You write the commit message") {
            return calls(
                "m",
                "finish",
                &json!({"text": "Take the seeded defect out"}),
            );
        }
        // Tasks can share a statement (two defects, one symptom): an edit that does not apply
        // is followed by the next task's with the same statement.
        let refused = messages
            .iter()
            .filter(|m| m["role"] == "tool")
            .filter(|m| {
                m["content"]
                    .as_str()
                    .is_some_and(|c| c.starts_with("error"))
            })
            .count();
        if messages.iter().any(|m| m["role"] == "tool") && refused == 0 {
            return calls("f", "finish", &json!({"text": "Fixed"}));
        }
        let hinted = HINTS.iter().any(|hint| body.contains(hint));
        let candidates: Vec<&String> = fixes
            .iter()
            .filter(|(statement, _)| body.contains(statement.as_str()))
            .map(|(_, edit)| edit)
            .collect();
        match candidates.get(refused) {
            Some(edit) if hinted => calls("e", "propose_edit", &json!({ "edits": edit })),
            _ => calls("g", "finish", &json!({"text": "I could not find the bug"})),
        }
    })
}

fn evolve(env: &TestEnv, repo: &Path, server: &ModelServer, extra: &[&str]) -> Run {
    crate::act::with_model(
        env,
        repo,
        server,
        "evolve",
        &[&["tasks.json"], extra].concat(),
    )
}

/// `SELECT` one number from the repository's archive.
fn count(repo: &Path, sql: &str) -> i64 {
    let db = rusqlite::Connection::open(repo.join(".nova/runs.sqlite")).expect("archive");
    db.query_row(sql, [], |row| row.get(0)).unwrap_or(0)
}

fn setup() -> (TestEnv, std::path::PathBuf, TaskSet) {
    let (env, repo, set) =
        crate::bench_run::made(&["--seed", "2", "--count", "6", "--held-out", "17"]);
    assert_eq!(set.tasks.len(), 6);
    (env, repo, set)
}

#[test]
fn a_variant_that_solves_more_is_accepted_and_the_held_out_task_waits_for_the_end() {
    let (env, repo, set) = setup();
    let server = model(&set, &repo);
    // A seed whose first change does not help (rejected) and whose second is a hint for the
    // agent that failed the tasks (accepted).
    let seed = seed_that_hints_second().to_string();
    let run = evolve(
        &env,
        &repo,
        &server,
        &[
            "--generations",
            "3",
            "--seed",
            &seed,
            "--proposer",
            "builtin",
            "--json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    let report: Value = serde_json::from_str(&run.stdout).expect("json");
    let variants = report["variants"].as_array().expect("variants");
    assert_eq!(variants[0]["id"], "g0");
    assert_eq!(
        variants[0]["score"], 0.0,
        "the root solves nothing: {}",
        run.stderr
    );
    let accepted: Vec<&Value> = variants
        .iter()
        .filter(|v| v["status"] == "accepted")
        .collect();
    assert!(!accepted.is_empty(), "{}", run.stderr);
    assert_eq!(accepted[0]["score"], 1.0, "{}", run.stderr);
    assert!(
        accepted[0]["change"]
            .as_str()
            .expect("change")
            .contains("a hint")
    );
    assert!(
        variants.iter().any(|v| v["status"] == "rejected"),
        "a change that does not help is rejected: {}",
        run.stderr
    );
    // The tasks that decided were run again, both sides; a tie was not.
    let best = accepted[0]["id"].as_str().expect("id");
    let again = |label: &str| {
        count(
            &repo,
            &format!("SELECT COUNT(*) FROM bench_results WHERE agents = 'evolve/{label}'"),
        )
    };
    assert_eq!(again(&format!("{best}~1")), 5, "{}", run.stderr);
    assert_eq!(again("g0~1"), 5);
    let rejected = variants
        .iter()
        .find(|v| v["status"] == "rejected")
        .and_then(|v| v["id"].as_str())
        .expect("a rejected variant");
    assert_eq!(
        again(&format!("{rejected}~1")),
        0,
        "it tied: nothing to run again"
    );
    // Nothing ran a held-out task while selecting.
    let held = "SELECT COUNT(*) FROM bench_results WHERE split = 'held-out'";
    assert_eq!(count(&repo, held), 0);
    let run = evolve(&env, &repo, &server, &["--generations", "0", "--held-out"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.stdout.contains("Held out: g0 solved 0 of 1"),
        "{}",
        run.stdout
    );
    let best = accepted[0]["id"].as_str().expect("id");
    assert!(
        run.stdout
            .contains(&format!("Held out: {best} solved 1 of 1")),
        "{}",
        run.stdout
    );
    assert_eq!(count(&repo, held), 2, "the root and the best, once each");
    the_report_draws(&env, &repo, best);
}

#[test]
fn a_run_killed_mid_generation_goes_on_without_running_a_task_twice() {
    let (env, repo, set) = setup();
    let server = model(&set, &repo);
    let one = [
        "tasks.json",
        "--generations",
        "1",
        "--stage",
        "5",
        "--proposer",
        "builtin",
    ];
    let mut args = vec![String::from("evolve")];
    args.extend(one.map(str::to_owned));
    args.extend(crate::act::model_flags(&server));
    let mut child = env
        .nova_command(&repo, args)
        .spawn()
        .expect("start nova evolve");
    let ran = "SELECT COUNT(*) FROM bench_results WHERE agents = 'evolve/g1'";
    let deadline = Instant::now() + Duration::from_secs(300);
    while count(&repo, ran) < 2 {
        assert!(Instant::now() < deadline, "g1 never ran two tasks");
        assert!(
            child.try_wait().expect("wait").is_none(),
            "nova evolve ended first"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().expect("kill -9");
    child.wait().expect("reaped");
    let before = count(&repo, ran);
    assert!(before >= 2);
    let status = "SELECT COUNT(*) FROM evolve_variants WHERE id = 'g1' AND status = 'evaluating'";
    assert_eq!(count(&repo, status), 1, "g1 was left unfinished");

    let run = crate::act::with_model(&env, &repo, &server, "evolve", &one);
    assert_eq!(run.code, 0, "{}", run.both());
    // It went on with the tasks g1 had not run: those it had are judged already.
    let judged: usize = run
        .stderr
        .lines()
        .filter_map(|line| {
            line.strip_prefix("g1: ")?
                .split_once(" of 5 tasks to run (")?
                .1
                .split_once(' ')
        })
        .map(|(judged, _)| judged.parse::<usize>().expect("a count"))
        .next()
        .expect("g1 went on");
    assert!(judged >= 2, "{}", run.stderr);
    let twice = "SELECT COUNT(*) FROM (SELECT task FROM bench_results WHERE agents = 'evolve/g1' \
                 GROUP BY task HAVING COUNT(*) > 1)";
    assert_eq!(count(&repo, twice), 0, "no task ran twice");
    assert_eq!(count(&repo, ran), 5, "every training task, once");
    let done = "SELECT COUNT(*) FROM evolve_variants WHERE id = 'g1' AND status != 'evaluating'";
    assert_eq!(count(&repo, done), 1, "{}", run.stderr);
    assert!(
        !run.stderr.contains("g2 from"),
        "one generation: the unfinished one"
    );
}

/// What the evolver finds in `variant/settings.toml` when the parent sets nothing.
const SETTINGS_NOTE: &str =
    "# How the agents are run: `route` (\"offline\" or \"model\"), `map_tokens`, `max_tokens`.\n";

/// The edit that gives `variant/refactorer.md` `front` in its front matter and `prompt` at the
/// end of its prompt.
fn refactorer_edit(front: &str, prompt: &str) -> String {
    let last = "cannot be fixed without a larger design change, return no patch and say why in one \
                sentence.\n";
    format!(
        "variant/refactorer.md\n```\n<<<<<<< SEARCH\noutput = \"patch\"\n+++\n=======\noutput = \
         \"patch\"\n{front}+++\n>>>>>>> REPLACE\n```\n\nvariant/refactorer.md\n```\n<<<<<<< \
         SEARCH\n{last}=======\n{last}{prompt}>>>>>>> REPLACE\n```\n"
    )
}

#[test]
fn the_evolver_reads_the_failures_and_a_change_to_how_it_is_judged_is_refused() {
    let (env, repo, set) = setup();
    let server = model_with(&set, &repo, evolver());
    let (head, branches) = (
        crate::common::head_of(&repo),
        crate::common::branches(&repo),
    );
    let run = evolve(&env, &repo, &server, &["--generations", "2", "--json"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.stderr.contains(
            "g1 refused: `agents/refactorer.md`: it changes how the agent's changes are judged"
        ),
        "{}",
        run.stderr
    );
    let report: Value = serde_json::from_str(&run.stdout).expect("json");
    let variants = report["variants"].as_array().expect("variants");
    let status: Vec<&str> = variants
        .iter()
        .map(|v| v["status"].as_str().expect("status"))
        .collect();
    assert_eq!(status, ["root", "refused", "accepted"], "{}", run.stderr);
    assert_eq!(
        variants[2]["change"],
        "evolver: Tell the refactorer where bugs hide"
    );
    assert_eq!(variants[2]["score"], 1.0);
    // The evolver was told what failed: the requests, the agent, the tests still failing.
    let failures = server
        .received()
        .iter()
        .flat_map(|r| r.body["messages"].as_array().cloned().unwrap_or_default())
        .find(|m| {
            m["role"] == "tool"
                && m["content"]
                    .to_string()
                    .contains("Tasks the agents did not solve")
        })
        .expect("FAILURES.md was read")["content"]
        .to_string();
    assert!(failures.contains("Agent: refactorer"), "{failures}");
    assert!(
        failures.contains("Tests still failing: ranges"),
        "{failures}"
    );
    assert!(failures.contains("Fix the bug that makes"), "{failures}");
    let evaluator_hash = report["variants"][0]["evaluator"].as_str().expect("hash");
    lineage_is_in_git(&repo, evaluator_hash);
    assert_eq!(
        crate::common::head_of(&repo),
        head,
        "the checkout's HEAD did not move"
    );
    assert_eq!(
        crate::common::branches(&repo),
        branches,
        "no branch was made"
    );
    // Its settings took: its tasks asked for replies of at most 3000 tokens, nobody else's did.
    let limited = server
        .received()
        .iter()
        .filter(|r| r.body["max_tokens"] == 3000)
        .count();
    assert!(limited >= 5, "{limited}");
    // The accepted variant's file is the edited one, under the archive.
    let evaluator = std::fs::read_dir(repo.join(".nova/evolve"))
        .expect("archive")
        .next()
        .expect("one")
        .expect("entry")
        .path();
    let file = std::fs::read_to_string(evaluator.join("g2/agents/refactorer.md"))
        .expect("the variant's file");
    assert!(
        file.contains(HINTS[0]) && !file.contains("acceptance"),
        "{file}"
    );
}

/// Each decided variant of the evolver test is a commit on its parent's under
/// `refs/nova/evolve/<evaluator>/`, its message carrying the evaluator and the verdict.
fn lineage_is_in_git(repo: &Path, evaluator_hash: &str) {
    let git = git2::Repository::open(repo).expect("repo");
    let commit = |id: &str| {
        git.find_reference(&format!("refs/nova/evolve/{evaluator_hash}/{id}"))
            .and_then(|r| r.peel_to_commit())
            .expect("a commit per variant")
    };
    let accepted = commit("g2");
    let message = accepted.message().expect("utf-8").to_owned();
    for trailer in [
        format!("Nova-Evaluator: {evaluator_hash}"),
        String::from("Nova-Status: accepted"),
        String::from("Nova-Parent: g0"),
    ] {
        assert!(message.contains(&trailer), "{message}");
    }
    assert_eq!(accepted.parent_id(0).expect("a parent"), commit("g0").id());
    let refused = commit("g1");
    assert!(
        refused
            .message()
            .expect("utf-8")
            .contains("Nova-Status: refused")
    );
}

/// The evolver's side of the evolver test: it reads `FAILURES.md`, then proposes a change to how
/// the refactorer's changes are judged (its first conversation), or a hint for the refactorer and
/// a reply limit in the settings (its second), then finishes.
fn evolver() -> impl Fn(&Received) -> Option<Reply> + Send + Sync + 'static {
    let counter = std::sync::atomic::AtomicUsize::new(0);
    move |received: &Received| {
        let messages = received.body["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let tools = messages.iter().filter(|m| m["role"] == "tool").count();
        Some(match tools {
            0 => {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                calls("r", "read_file", &json!({"path": "FAILURES.md"}))
            }
            // First a change to how the refactorer's changes are judged; then a hint.
            1 if counter.load(std::sync::atomic::Ordering::SeqCst) == 1 => calls(
                "e",
                "propose_edit",
                &json!({"edits": refactorer_edit("acceptance = [\"true\"]\n", "")}),
            ),
            1 => calls(
                "e",
                "propose_edit",
                &json!({"edits": format!(
                    "{}\nvariant/settings.toml\n```\n<<<<<<< SEARCH\n{SETTINGS_NOTE}=======\n\
                     {SETTINGS_NOTE}max_tokens = 3000\n>>>>>>> REPLACE\n```\n",
                    refactorer_edit("", &format!("\n{}\n", HINTS[0]))
                )}),
            ),
            _ => calls(
                "f",
                "finish",
                &json!({"text": "Tell the refactorer where bugs hide"}),
            ),
        })
    }
}

/// The first seed whose builtin proposals, for tasks the refactorer failed, are something else and
/// then a hint for the refactorer: the two generations the acceptance test wants.
fn seed_that_hints_second() -> u64 {
    use nova::evolve::generation::proposal_seed;
    use nova::evolve::variant::{Failure, Files, propose};
    let set = nova::agents::AgentSet::builtin();
    let failed = [Failure {
        statement: "Fix the bug that makes `cargo test` fail",
        agent: "refactorer",
    }];
    let hint = |change: &str| change.starts_with("refactorer: a hint");
    (1..1000)
        .find(|&seed| {
            let first = propose(&Files::new(), &set, &failed, proposal_seed(seed, 1));
            let second = propose(&Files::new(), &set, &failed, proposal_seed(seed, 2));
            match (first, second) {
                (Some(first), Some(second)) => {
                    !hint(&first.change)
                        && !first.change.contains("model routes")
                        && first.files != second.files
                        && hint(&second.change)
                }
                _ => false,
            }
        })
        .expect("a seed")
}

/// `nova evolve report` draws the archive, `best` accepted in it.
fn the_report_draws(env: &TestEnv, repo: &Path, best: &str) {
    let drawn = env.nova_in(
        repo,
        [
            "evolve",
            "report",
            "--svg",
            "lineage.svg",
            "--html",
            "a.html",
        ],
    );
    assert_eq!(drawn.code, 0, "{}", drawn.both());
    let svg = std::fs::read_to_string(repo.join("lineage.svg")).expect("svg");
    assert!(
        svg.starts_with("<svg") && svg.contains(&format!(">{best} accepted")),
        "{svg}"
    );
    assert!(
        std::fs::read_to_string(repo.join("a.html"))
            .expect("html")
            .contains("<table>")
    );
}
