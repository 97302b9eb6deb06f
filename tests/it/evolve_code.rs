//! `nova evolve --code`: variants that are commits of Nova's own code, in a stand-in for a
//! checkout of Nova whose `nova` binary acts on the tasks without a model. The root's build
//! changes nothing; the agent's proposal (a one-line change to the code, proved by the
//! checkout's own build and tests) makes a build that takes every seeded defect out: built in the
//! sandbox, run on the tasks as another build, it solves them all and is accepted.

use serde_json::{Value, json};

use crate::act::{calls, with_model};
use crate::common::{TestEnv, head_of};
use crate::model_server::ModelServer;

/// The source of a stand-in for Nova's `nova` binary: it answers `nova --json ask ... --branch
/// B -- QUESTION` with one turn (making the file `--record FILE` names), and by `act`: `quiet` changes nothing, `note` commits a note on
/// the task's branch, `fix` puts the `ranges` fixture's files back as they were (which takes any
/// seeded defect out) and commits that.
pub(crate) fn fake_nova(act: &str) -> String {
    const SOURCE: &str = r####"use std::process::Command;

const ACT: &str = "@ACT@";

const LIB: &str = r###"@LIB@"###;

const CLAMP: &str = r###"@CLAMP@"###;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == "--branch").expect("--branch");
    // Asked to record its exchanges, it has none to record: the file is all there is to make.
    if let Some(at) = args.iter().position(|a| a == "--record") {
        std::fs::write(&args[at + 1], "").expect("record");
    }
    println!("{}", r#"{"event":"agent_turn","agent":"fake","turn":1}"#);
    if ACT == "quiet" {
        return;
    }
    let git = |a: &[&str]| assert!(Command::new("git").args(a).status().expect("git").success());
    git(&["checkout", "-q", "-b", &args[at + 1]]);
    if ACT == "fix" {
        std::fs::write("src/lib.rs", LIB).expect("write");
        std::fs::write("src/clamp.rs", CLAMP).expect("write");
    } else {
        std::fs::write("NOTES.md", "A note\n").expect("write");
        git(&["add", "NOTES.md"]);
    }
    git(&["-c", "user.name=f", "-c", "user.email=f@example.com", "commit", "-qam", "A change"]);
}

#[cfg(test)]
mod tests {
    #[test]
    fn answers() {
        assert_ne!(super::ACT, "");
    }
}
"####;
    SOURCE
        .replace("@ACT@", act)
        .replace("@LIB@", crate::bench::LIB)
        .replace("@CLAMP@", crate::bench::CLAMP)
}

/// The proposal that makes the stand-in's build take every seeded defect out.
const FIX: &str = "src/main.rs\n```rust\n<<<<<<< SEARCH\nconst ACT: &str = \"quiet\";\n=======\n\
                   const ACT: &str = \"fix\";\n>>>>>>> REPLACE\n```\n";

/// A repository that stands in for a checkout of Nova: a `nova` binary of [`fake_nova`]
/// (`quiet`), committed.
pub(crate) fn fake_checkout(env: &TestEnv) -> std::path::PathBuf {
    env.repo_with(
        "fake-nova",
        &[
            (
                "Cargo.toml",
                "[package]\nname = \"fake-nova\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
                 [[bin]]\nname = \"nova\"\npath = \"src/main.rs\"\n",
            ),
            ("src/main.rs", &fake_nova("quiet")),
        ],
    )
}

/// Five training tasks of the `ranges` fixture, a stand-in checkout of Nova whose build solves
/// none, and a model that proposes [`FIX`]: the environment, the checkout, the model, the set.
fn fixed() -> (TestEnv, std::path::PathBuf, ModelServer, String) {
    let (env, repo, _) =
        crate::bench_run::made(&["--seed", "2", "--count", "6", "--held-out", "17"]);
    let nova = fake_checkout(&env);
    let server = ModelServer::start(vec![
        calls("c1", "propose_edit", &json!({"edits": FIX})),
        calls(
            "c2",
            "finish",
            &json!({"text": "Let the agents take defects out"}),
        ),
    ]);
    let tasks = repo.join("tasks.json").to_string_lossy().into_owned();
    (env, nova, server, tasks)
}

#[test]
fn a_change_to_nova_s_code_that_solves_more_is_proved_built_run_and_accepted() {
    let (env, nova, server, tasks) = fixed();
    let head = head_of(&nova);
    let run = with_model(
        &env,
        &nova,
        &server,
        "evolve",
        &[
            &tasks,
            "--code",
            "--generations",
            "1",
            "--repeats",
            "1",
            "--json",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.stderr
            .contains("each variant is a commit of this repository's code"),
        "{}",
        run.stderr
    );
    let report: Value = serde_json::from_str(&run.stdout).expect("json");
    let variants = report["variants"].as_array().expect("variants");
    assert_eq!(variants[0]["score"], 0.0, "{}", run.stderr);
    assert_eq!(variants[1]["status"], "accepted", "{}", run.stderr);
    assert_eq!(variants[1]["score"], 1.0, "{}", run.stderr);
    assert!(
        variants[1]["change"]
            .as_str()
            .expect("change")
            .starts_with("refactorer: Let the agents take defects out"),
        "{}",
        variants[1]
    );
    // The proposal asked about the failed tasks, and the user's checkout stayed as it was.
    let asked = server.received()[0].body.to_string();
    assert!(asked.contains("did not solve the 5 tasks"), "{asked}");
    assert_eq!(head_of(&nova), head);
    let lib = std::fs::read_to_string(nova.join("src/main.rs")).expect("main");
    assert!(lib.contains("const ACT: &str = \"quiet\";"));
    // The accepted variant's code is kept in its lineage, on the root's.
    let git = git2::Repository::open(&nova).expect("repo");
    let kept = git
        .references_glob("refs/nova/evolve/*-code/g1")
        .expect("refs")
        .filter_map(Result::ok)
        .filter_map(|r| r.peel_to_commit().ok())
        .next()
        .expect("g1 kept");
    assert!(
        kept.message()
            .unwrap_or_default()
            .contains("Nova-Status: accepted")
    );
    let main = kept
        .tree()
        .expect("tree")
        .get_path(std::path::Path::new("src/main.rs"))
        .expect("main.rs")
        .to_object(&git)
        .expect("blob")
        .peel_to_blob()
        .expect("blob");
    assert!(String::from_utf8_lossy(main.content()).contains("const ACT: &str = \"fix\";"));
}

#[test]
fn a_change_to_nova_s_code_that_does_not_build_is_refused_never_run_nor_proved_again() {
    let (env, repo, _) =
        crate::bench_run::made(&["--seed", "5", "--count", "2", "--held-out", "0"]);
    let nova = fake_checkout(&env);
    let edit = "src/main.rs\n```rust\n<<<<<<< SEARCH\nconst ACT: &str = \"quiet\";\n=======\n\
                const ACT: &str = 1;\n>>>>>>> REPLACE\n```\n";
    // The same proposal twice: the second is known, and neither proved nor built again.
    let server = ModelServer::start(vec![
        calls("c1", "propose_edit", &json!({"edits": edit})),
        calls("c2", "finish", &json!({"text": "A number instead"})),
        calls("c3", "propose_edit", &json!({"edits": edit})),
        calls("c4", "finish", &json!({"text": "A number instead"})),
    ]);
    let tasks = repo.join("tasks.json").to_string_lossy().into_owned();
    let run = with_model(
        &env,
        &nova,
        &server,
        "evolve",
        &[&tasks, "--code", "--generations", "2", "--json"],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    let report: Value = serde_json::from_str(&run.stdout).expect("json");
    let variants = report["variants"].as_array().expect("variants");
    assert_eq!(variants[1]["status"], "refused", "{}", run.stderr);
    assert_eq!(variants.len(), 2, "{}", run.stderr);
    assert_eq!(server.received().len(), 4);
    assert!(
        run.stderr.contains("nothing left to change"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("g1 refused") && run.stderr.contains("build"),
        "{}",
        run.stderr
    );
    // Its build was never made: nothing of it ran.
    let builds = nova.join(".nova/bench/builds");
    assert_eq!(
        std::fs::read_dir(&builds).expect("builds").count(),
        1,
        "the root's only"
    );
}

#[test]
fn a_recorded_code_evolution_runs_again_from_its_recordings_with_no_model() {
    let (env, nova, server, tasks) = fixed();
    let tape = env
        .root()
        .join("evolve.jsonl")
        .to_string_lossy()
        .into_owned();
    let args = [
        &tasks,
        "--code",
        "--generations",
        "1",
        "--repeats",
        "1",
        "--json",
    ];
    let recorded = with_model(
        &env,
        &nova,
        &server,
        "evolve",
        &[&args[..], &["--record", &tape]].concat(),
    );
    assert_eq!(recorded.code, 0, "{}", recorded.both());
    server.stop();
    // The archive and the builds gone, the same run again from the recordings alone.
    for gone in ["runs.sqlite", "evolve", "bench/builds"] {
        let path = nova.join(".nova").join(gone);
        if path.is_dir() {
            std::fs::remove_dir_all(&path).expect("removed");
        } else {
            std::fs::remove_file(&path).expect("removed");
        }
    }
    let silent = ModelServer::start(Vec::new());
    let replayed = with_model(
        &env,
        &nova,
        &silent,
        "evolve",
        &[&args[..], &["--replay", &tape]].concat(),
    );
    assert_eq!(replayed.code, 0, "{}", replayed.both());
    let statuses = |run: &crate::common::Run| -> Vec<Value> {
        let report: Value = serde_json::from_str(&run.stdout).expect("json");
        report["variants"]
            .as_array()
            .expect("variants")
            .iter()
            .map(|v| json!([v["id"], v["status"], v["score"]]))
            .collect()
    };
    assert_eq!(statuses(&recorded), statuses(&replayed));
    assert_eq!(statuses(&replayed)[1][1], "accepted");
    assert!(silent.received().is_empty());
}
