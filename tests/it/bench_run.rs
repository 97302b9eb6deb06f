//! `nova bench run` and `report` with the scripted model server: the agents work on a task's tree
//! in a scratch repository, what they commit is scored by the frozen evaluator, results land in
//! the archive, and two agent sets are compared on the same tasks.

use std::path::{Path, PathBuf};

use nova::evolve::{Source, TaskSet, check::task_text};
use serde_json::{Value, json};

use crate::act::{KEY_VAR, calls, with_model};
use crate::common::{Run, TestEnv, files_under, head_of};
use crate::evolve_code::{fake_checkout, fake_nova};
use crate::llm::CANARY;
use crate::model_server::ModelServer;

/// The SEARCH/REPLACE edit that takes a seeded defect back out: the defect's lines with one line
/// around them, as the agents see them and as they were.
pub(crate) fn revert(set: &TaskSet, n: usize, repo: &Path) -> String {
    let task = &set.tasks[n];
    let Source::Mutant {
        path,
        start,
        replacement,
        ..
    } = &task.source
    else {
        panic!("a mutant: {task:?}");
    };
    let seeded = task_text(set, task, path).expect("read").expect("a file");
    let original = std::fs::read_to_string(repo.join(path)).expect("original");
    // From the start of the line before the defect to the end of the line after it.
    let before = seeded[..*start].trim_end_matches(|c| c != '\n');
    let from = before[..before.len().saturating_sub(1)]
        .rfind('\n')
        .map_or(0, |at| at + 1);
    let after = start + replacement.len();
    let mut to = after;
    for _ in 0..2 {
        to = seeded[to..]
            .find('\n')
            .map_or(seeded.len(), |at| to + at + 1);
    }
    let suffix = seeded.len() - to;
    format!(
        "{path}\n```rust\n<<<<<<< SEARCH\n{}=======\n{}>>>>>>> REPLACE\n```\n",
        &seeded[from..to],
        &original[from..original.len() - suffix]
    )
}

/// A test environment with the model's key, the `bench` fixture crate, and a task set made in it
/// with `args` (written to `tasks.json`).
pub(crate) fn made(args: &[&str]) -> (TestEnv, PathBuf, TaskSet) {
    let mut env = TestEnv::new();
    env.set_var(KEY_VAR, CANARY);
    let repo = crate::bench::fixture(&env);
    let mut command = vec!["bench", "make", "--out", "tasks.json"];
    command.extend_from_slice(args);
    let made = env.nova_in(&repo, command);
    assert_eq!(made.code, 0, "{}", made.both());
    let set = TaskSet::load(&repo.join("tasks.json")).expect("the set");
    (env, repo, set)
}

/// A model that solves the first of two tasks (the defect taken back out, proved, described)
/// and changes nothing on the second.
fn one_solved(set: &TaskSet, repo: &Path) -> ModelServer {
    ModelServer::start(vec![
        calls(
            "c1",
            "propose_edit",
            &json!({"edits": revert(set, 0, repo)}),
        ),
        calls("c2", "finish", &json!({"text": "Put the comparison back"})),
        calls("m1", "finish", &json!({"text": "Fix the seeded defect"})),
        calls("c3", "finish", &json!({"text": "I could not find the bug"})),
    ])
}

fn bench(env: &TestEnv, repo: &Path, server: &ModelServer, extra: &[&str]) -> Run {
    let mut args = vec!["run", "tasks.json"];
    args.extend_from_slice(extra);
    with_model(env, repo, server, "bench", &args)
}

#[test]
fn an_agent_set_is_scored_by_the_hidden_checks_and_compared_with_another() {
    let (env, repo, set) = made(&["--seed", "5", "--count", "2"]);
    let before = files_under(&repo, &[".git", ".nova"]);
    let server = one_solved(&set, &repo);
    let run = bench(&env, &repo, &server, &["--json"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let report: Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(report["solved"], 1, "{}", run.both());
    let tasks = report["tasks"].as_array().expect("tasks");
    assert_eq!(tasks[0]["task"], set.tasks[0].id.as_str());
    assert_eq!(tasks[0]["score"]["solved"], true);
    assert_eq!(tasks[0]["landed"], true);
    assert_eq!(tasks[1]["score"]["solved"], false);
    assert_eq!(tasks[1]["note"], "the agents answered without a change");
    assert!(tasks[0]["turns"].as_u64().expect("turns") >= 2);

    // The agents got the statement, and nothing of the checks or of the defect.
    let received = server.received();
    let first = received[0].body.to_string();
    assert!(
        first.contains("Fix the bug that makes `cargo test` fail"),
        "{first}"
    );
    for hidden in ["tasks.json", "fail_to_pass", &set.tasks[0].id] {
        assert!(
            !first.contains(hidden),
            "{hidden} reached the agents: {first}"
        );
    }
    // The user's checkout is as it was; the evaluator's copy is read-only.
    assert_eq!(files_under(&repo, &[".git", ".nova"]), before);
    let evaluator = report["evaluator"].as_str().expect("hash");
    let frozen = repo.join(format!(".nova/bench/frozen/{evaluator}.json"));
    assert!(
        std::fs::metadata(&frozen)
            .expect("frozen copy")
            .permissions()
            .readonly()
    );

    the_commit_names_the_evaluator(&env, evaluator);
    a_second_run_keeps_the_results(&env, &repo);
    // Another agent set, which solves nothing, compared on the same tasks.
    let variant = env.root().join("variant");
    std::fs::create_dir_all(&variant).expect("dir");
    let server = ModelServer::start(vec![
        calls("c1", "finish", &json!({"text": "Nothing to do"})),
        calls("c2", "finish", &json!({"text": "Nothing to do"})),
    ]);
    let dir = variant.to_string_lossy().into_owned();
    let run = bench(&env, &repo, &server, &["--agents", &dir, "--name", "lazy"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(run.stdout.contains("solved 0 of 2"), "{}", run.stdout);
    let compared = env.nova_in(&repo, ["bench", "report"]);
    assert_eq!(compared.code, 0, "{}", compared.both());
    assert!(
        compared.stdout.contains("`lazy` against `builtin`"),
        "{}",
        compared.stdout
    );
    assert!(
        compared.stdout.contains("lazy             solved 0/2"),
        "{}",
        compared.stdout
    );
    assert!(
        compared
            .stdout
            .contains("builtin          solved 1/2 (1 it alone)"),
        "{}",
        compared.stdout
    );
    let runs = env.nova_in(&repo, ["runs", "list"]);
    assert!(runs.stdout.contains("bench run"), "{}", runs.stdout);
}

#[test]
fn a_task_set_that_is_not_one_is_refused_before_any_model_is_asked() {
    let mut env = TestEnv::new();
    env.set_var(KEY_VAR, CANARY);
    let repo = crate::bench::fixture(&env);
    std::fs::write(repo.join("tasks.json"), "{\"format\": 1}").expect("write");
    let server = ModelServer::start(Vec::new());
    let run = bench(&env, &repo, &server, &[]);
    assert_eq!(run.code, 2, "{}", run.both());
    assert!(run.stderr.contains("is not a task set"), "{}", run.stderr);
    assert!(server.received().is_empty());
    let run = env.nova_in(&repo, ["bench", "report"]);
    assert_eq!(run.code, 2, "{}", run.both());
    assert!(
        run.stderr.contains("no bench results yet"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_recorded_bench_run_scores_the_same_from_its_recording_with_no_model() {
    let (env, repo, set) = made(&["--seed", "5", "--count", "2"]);
    let server = ModelServer::start(vec![
        calls(
            "c1",
            "propose_edit",
            &json!({"edits": revert(&set, 0, &repo)}),
        ),
        calls("c2", "finish", &json!({"text": "Put it back"})),
        calls(
            "m1",
            "finish",
            &json!({"text": "Take the seeded defect out"}),
        ),
        calls("c3", "finish", &json!({"text": "I could not find the bug"})),
    ]);
    let tape = env.root().join("bench.jsonl");
    let tape = tape.to_str().expect("utf-8").to_owned();
    let recorded = bench(&env, &repo, &server, &["--json", "--record", &tape]);
    assert_eq!(recorded.code, 0, "{}", recorded.both());
    server.stop();
    let replayed = env.nova_in(
        &repo,
        [
            "bench",
            "run",
            "tasks.json",
            "--provider",
            "openai",
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--api-key-env",
            KEY_VAR,
            "--model",
            "test-model",
            "--json",
            "--replay",
            &tape,
            "--name",
            "replayed",
        ],
    );
    assert_eq!(replayed.code, 0, "{}", replayed.both());
    let scores = |run: &Run| -> Vec<(Value, Value, Value)> {
        let report: Value = serde_json::from_str(&run.stdout).expect("json");
        report["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .map(|t| {
                (
                    t["task"].clone(),
                    t["score"]["solved"].clone(),
                    t["turns"].clone(),
                )
            })
            .collect()
    };
    assert_eq!(scores(&recorded), scores(&replayed));
    assert_eq!(scores(&replayed)[0].1, true);
}

/// Run again, the same agent set keeps its results: no model is asked.
/// The change committed in the scratch repository names the evaluator that judged it.
fn the_commit_names_the_evaluator(env: &TestEnv, evaluator: &str) {
    let scratch = std::fs::read_dir(env.root().join("tmp"))
        .expect("temp dir")
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.to_string_lossy().contains("nova-bench-"))
        .expect("the scratch repository");
    // (The next task's start deleted its branch: the commit is found among the objects.)
    let scratch_repo = git2::Repository::open(&scratch).expect("scratch repository");
    let mut messages = Vec::new();
    let odb = scratch_repo.odb().expect("objects");
    odb.foreach(|oid| {
        if let Ok(commit) = scratch_repo.find_commit(*oid) {
            messages.push(commit.message().unwrap_or_default().to_owned());
        }
        true
    })
    .expect("walk the objects");
    let asked: Vec<&String> = messages
        .iter()
        .filter(|m| m.contains("Nova-Agent:"))
        .collect();
    assert_eq!(asked.len(), 1, "{messages:?}");
    assert!(
        asked[0].contains(&format!("Nova-Evaluator: {evaluator}\n")),
        "{}",
        asked[0]
    );
}

fn a_second_run_keeps_the_results(env: &TestEnv, repo: &Path) {
    let silent = ModelServer::start(Vec::new());
    let again = bench(env, repo, &silent, &[]);
    assert_eq!(again.code, 0, "{}", again.both());
    assert!(
        again
            .stderr
            .contains("2 of the 2 tasks were judged for `builtin` under this evaluator already"),
        "{}",
        again.stderr
    );
    assert!(again.stdout.contains("solved 1 of 2"), "{}", again.stdout);
    assert!(silent.received().is_empty(), "no model was asked");
}

/// A rule of a variant's that flags every function (so that any task's tree has a finding).
const EVERY_FN: &str = "id = \"every-fn\"\nagent = \"correctness-reviewer\"\nseverity = \"info\"\n\
    message = \"a function the variant's rule points at\"\nwhy = \"To be seen.\"\n\
    query = '''\n(function_item name: (identifier) @name) @match\n'''\n\n[[example]]\nmatches = 1\n\
    code = '''\nfn f() {}\n'''\n";

#[test]
fn a_variant_s_rule_files_are_what_its_agents_review_tool_runs() {
    let (env, repo, _) = made(&["--seed", "5", "--count", "1"]);
    let variant = env.root().join("ruled");
    std::fs::create_dir_all(variant.join("agents")).expect("dir");
    std::fs::create_dir_all(variant.join("rules")).expect("dir");
    let refactorer = nova::agents::builtin_agent("refactorer.md")
        .expect("built in")
        .replace("\"symbols\", ", "\"symbols\", \"review\", ");
    assert!(refactorer.contains("\"review\""));
    std::fs::write(variant.join("agents/refactorer.md"), refactorer).expect("written");
    // A rule that fails its own example is refused before any model is asked.
    let broken = EVERY_FN.replace("matches = 1", "matches = 2");
    std::fs::write(variant.join("rules/every-fn.toml"), broken).expect("written");
    let server = ModelServer::start(Vec::new());
    let dir = variant.to_string_lossy().into_owned();
    let run = bench(&env, &repo, &server, &["--agents", &dir, "--name", "ruled"]);
    assert_eq!(run.code, 2, "{}", run.both());
    assert!(
        run.stderr
            .contains("`rules/every-fn.toml`: the rule fails its own examples"),
        "{}",
        run.stderr
    );
    assert!(server.received().is_empty());

    std::fs::write(variant.join("rules/every-fn.toml"), EVERY_FN).expect("written");
    let server = ModelServer::start(vec![
        calls("r", "review", &json!({"glob": "src/**"})),
        calls("f", "finish", &json!({"text": "Nothing to fix"})),
    ]);
    let run = bench(&env, &repo, &server, &["--agents", &dir, "--name", "ruled"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let received = server.received();
    let offered = received[0].body["tools"].to_string();
    assert!(offered.contains("\"review\""), "{offered}");
    let result = received[1].body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .find(|m| m["role"] == "tool")
        .expect("the review's result")["content"]
        .to_string();
    assert!(
        result.contains("info [every-fn] a function the variant's rule points at"),
        "{result}"
    );
}

#[test]
fn another_build_of_nova_works_on_the_tasks_in_the_sandbox_and_this_build_scores_it() {
    let (env, repo, set) = made(&["--seed", "5", "--count", "2"]);
    // The build under evaluation is this one's executable, run as another process: what it
    // commits in the scratch repository is scored as this build's agents' change would be.
    let server = one_solved(&set, &repo);
    let build = env!("CARGO_BIN_EXE_nova");
    let run = bench(&env, &repo, &server, &["--json", "--nova", build]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.stderr
            .contains("in the sandbox: it writes only the scratch repository"),
        "{}",
        run.stderr
    );
    let report: Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(report["solved"], 1, "{}", run.both());
    let tasks = report["tasks"].as_array().expect("tasks");
    assert_eq!(tasks[0]["landed"], true, "{}", run.both());
    assert!(tasks[0]["turns"].as_u64().expect("turns") >= 2);
    assert!(tasks[0]["tokens"].as_u64().expect("tokens") > 0);
    assert_eq!(tasks[1]["score"]["solved"], false);
    assert_eq!(tasks[1]["note"], "the agents answered without a change");
    let first = server.received()[0].body.to_string();
    assert!(
        first.contains("Fix the bug that makes `cargo test` fail"),
        "{first}"
    );

    // Its results are kept under its own name, by its bytes' hash.
    let silent = ModelServer::start(Vec::new());
    let again = bench(&env, &repo, &silent, &["--nova", build]);
    assert_eq!(again.code, 0, "{}", again.both());
    assert!(
        again.stderr.contains("were judged for `nova@"),
        "{}",
        again.stderr
    );
    assert!(silent.received().is_empty());
}

/// An executable shell script at `path`, standing in for a build of Nova.
fn script(path: &Path, body: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, format!("#!/bin/sh\n{body}")).expect("script");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    path.to_string_lossy().into_owned()
}

#[test]
fn a_build_under_evaluation_reaches_neither_the_checkout_nor_the_task_set() {
    let (env, repo, set) = made(&["--seed", "5", "--count", "1"]);
    let frozen = repo.join(".nova/bench/frozen");
    // What a build that cheats would read or write; any of it reached ends the run with a word
    // of what it reached. Confined, it says where it ran.
    let body = format!(
        "for f in '{set}' '{head}' '{lib}' '{frozen}'/*; do\n\
         \x20 if cat \"$f\" > /dev/null 2>&1; then echo \"read $f\" >&2; exit 3; fi\n\
         done\n\
         if (echo x > '{repo}/written') 2> /dev/null; then echo 'wrote the checkout' >&2; exit 3; fi\n\
         echo \"confined in $(pwd)\" >&2\n\
         exit 2\n",
        set = repo.join("tasks.json").display(),
        head = repo.join(".git/HEAD").display(),
        lib = repo.join("src/lib.rs").display(),
        frozen = frozen.display(),
        repo = repo.display(),
    );
    let cheat = script(&env.root().join("cheat"), &body);
    let server = ModelServer::start(Vec::new());
    let task = set.tasks[0].id.clone();
    let run = bench(&env, &repo, &server, &["--nova", &cheat, "--task", &task]);
    assert_eq!(run.code, 3, "{}", run.both());
    assert!(
        run.stderr.contains("the build exited with 2: confined in")
            && run.stderr.contains("nova-bench-"),
        "{}",
        run.stderr
    );
    assert!(!repo.join("written").exists());
}

#[test]
fn a_build_s_change_to_what_judges_it_is_refused_by_the_evaluator() {
    let (env, repo, set) = made(&["--seed", "5", "--count", "2"]);
    // The defect of task 0 makes `picks_the_larger` fail; this build takes the test's assertions
    // out instead of the defect, and commits that on the task's branch.
    let cheat = script(
        &env.root().join("cheat"),
        "while [ \"$1\" != --branch ]; do shift; done\n\
         git checkout -q -b \"$2\"\n\
         sed -i 's/assert_eq!(larger(.*//' src/lib.rs\n\
         git -c user.name=cheat -c user.email=cheat@example.com commit -qam 'Tests pass now'\n",
    );
    let server = ModelServer::start(Vec::new());
    let task = set.tasks[0].id.clone();
    let run = bench(
        &env,
        &repo,
        &server,
        &["--json", "--nova", &cheat, "--task", &task],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    let report: Value = serde_json::from_str(&run.stdout).expect("json");
    let result = &report["tasks"][0];
    assert_eq!(result["landed"], true, "{}", run.both());
    assert_eq!(result["score"]["solved"], false, "{}", run.both());
    assert!(
        result["score"]["summary"]
            .as_str()
            .expect("summary")
            .contains("the change touches test code in `src/lib.rs`"),
        "{result}"
    );
}

#[test]
fn the_build_of_a_commit_of_nova_works_on_the_tasks() {
    let (env, repo, set) = made(&["--seed", "5", "--count", "1"]);
    let nova = fake_checkout(&env);
    let quiet = head_of(&nova).to_string();
    crate::bench::commit(
        &nova,
        &[("src/main.rs", &fake_nova("note"))],
        "Change things",
    );
    let tasks = repo.join("tasks.json").to_string_lossy().into_owned();
    let task = set.tasks[0].id.as_str();
    let server = ModelServer::start(Vec::new());
    let run = |rev: &str| {
        let run = with_model(
            &env,
            &nova,
            &server,
            "bench",
            &["run", &tasks, "--json", "--nova-rev", rev, "--task", task],
        );
        assert_eq!(run.code, 0, "{}", run.both());
        let report: Value = serde_json::from_str(&run.stdout).expect("json");
        (report["tasks"][0].clone(), run.stderr)
    };
    let (first, said) = run(&quiet);
    assert!(said.contains("in the sandbox…"), "{said}");
    assert_eq!(first["landed"], false, "{first}");
    assert_eq!(first["agent"], "fake", "{first}");
    let (second, _) = run("HEAD");
    assert_eq!(second["landed"], true, "{second}");
    assert_eq!(second["score"]["solved"], false, "{second}");
    // Each commit's build is kept: asked again, it is not built again.
    let (_, said) = run("HEAD");
    assert!(said.contains("was built before"), "{said}");
    let runs = env.nova_in(
        &nova,
        [
            "bench",
            "report",
            "nova@HEAD",
            "--against",
            &format!("nova@{quiet}"),
        ],
    );
    assert_eq!(runs.code, 0, "{}", runs.both());
}

#[test]
fn a_build_s_recorded_run_scores_the_same_from_its_recordings_with_no_model() {
    let (env, repo, set) = made(&["--seed", "5", "--count", "2"]);
    let server = one_solved(&set, &repo);
    let build = env!("CARGO_BIN_EXE_nova");
    let tape = env.root().join("builds.jsonl");
    let tape = tape.to_str().expect("utf-8").to_owned();
    let flags = ["--json", "--nova", build, "--name", "built"];
    let recorded = bench(
        &env,
        &repo,
        &server,
        &[&flags[..], &["--record", &tape]].concat(),
    );
    assert_eq!(recorded.code, 0, "{}", recorded.both());
    // One recording per task, beside the file named.
    let dir = env.root().join("builds.jsonl.builds/built");
    for task in &set.tasks {
        let file = dir.join(format!("{}.jsonl", task.id));
        assert!(file.is_file(), "{} is missing", file.display());
    }
    server.stop();
    // A server that answers nothing: a replay asks no model.
    let silent = ModelServer::start(Vec::new());
    let replay = [&flags[..], &["--replay", &tape, "--again"]].concat();
    let replayed = bench(&env, &repo, &silent, &replay);
    assert_eq!(replayed.code, 0, "{}", replayed.both());
    let solved = |run: &Run| -> Vec<Value> {
        let report: Value = serde_json::from_str(&run.stdout).expect("json");
        report["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .map(|t| json!([t["task"], t["score"]["solved"], t["turns"]]))
            .collect()
    };
    assert_eq!(solved(&recorded), solved(&replayed));
    assert_eq!(solved(&replayed)[0][1], true);
    // A task with no recording is said, before any build runs on it.
    std::fs::remove_file(dir.join(format!("{}.jsonl", set.tasks[1].id))).expect("removed");
    let missing = bench(&env, &repo, &silent, &replay);
    assert_eq!(missing.code, 3, "{}", missing.both());
    assert!(
        missing
            .stderr
            .contains(&format!("no recording of task `{}`", set.tasks[1].id)),
        "{}",
        missing.stderr
    );
    assert!(silent.received().is_empty());
}
