//! Domain agents: does a task go to the owner of the part it is about, and how big is a domain
//! agent's prompt against a whole-repository agent's?
//!
//! Routing: real commits of Nova and of two public Rust workspaces (ripgrep, tokio), pinned in
//! `benches/domains/tasks.txt`, and a fresh set pinned after its weights were chosen
//! (`benches/domains/fresh.txt`: clap, regex, tracing, axum and Nova's newer commits). For each,
//! the parent's tree is the repository, `nova agents scaffold` writes its domain agents there, the
//! commit message is the task, and the right agent is the owner of every `.rs` file the commit
//! changed (a commit whose files have two owners is not a task). The offline router
//! (`domains::route`) picks an agent; accuracy is the share it gets right. A quarter of the tasks,
//! by the commit's hash, is held out from tuning. tokio's messages open with an area (`sync:`,
//! `rt:`), which names a directory: its figures are also given with the area cut off.
//!
//! Prompt sizes: at each repository's pinned head, each domain agent's whole context (its prompt,
//! and its part's map in depth with its neighbours' public items, unbudgeted) against a
//! whole-repository agent's (the refactorer's prompt and the whole repository's map, unbudgeted),
//! in `o200k_base` tokens.
//!
//! ```sh
//! cargo bench --bench domains                           # routing (train split) and sizes
//! cargo bench --bench domains -- --split test           # the held-out split
//! cargo bench --bench domains -- --split all --misses   # every task, and each wrong route
//! cargo bench --bench domains -- --sweep               # accuracy over a grid of weights (train)
//! cargo bench --bench domains -- --split fresh --misses # the fresh set (BENCHMARKS: what was seen)
//! cargo bench --bench domains -- --split all --model CONFIG  # the model router too: `nova
//!                                                        # --config CONFIG ask --route model`
//!                                                        # (`--nova BIN`, `--limit N`)
//! cargo bench --bench domains -- --pick 30 --repo tokio # candidate tasks to pin
//! cargo bench --bench domains -- --pick 24 --repo clap --all-commits # every commit, not only
//!                                                        # the first-parent line (merges)
//! ```
//!
//! The public repositories are read from mirrors made with the search tool's `fetch` (`--mirrors
//! DIR`, default `../.mirror`, as `<owner>+<name>/repo`); a missing one is skipped, loudly. Trees
//! are written once to `target/domains-bench/trees/`.

#![expect(
    clippy::print_stdout,
    reason = "a benchmark reports its results on stdout"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use git2::{Oid, Repository};

#[path = "common/mirrors.rs"]
mod mirrors;
use nova::agents::AgentSet;
use nova::domains::{Owners, calibrate, route, scaffold};
use nova::index::{Focus, Index, count_tokens};

/// The repositories: a short name and the mirror's directory (`None`: Nova's own).
const REPOS: [mirrors::Repo; 9] = [
    ("nova", None),
    ("ripgrep", Some("BurntSushi+ripgrep")),
    ("tokio", Some("tokio-rs+tokio")),
    ("clap", Some("clap-rs+clap")),
    ("regex", Some("rust-lang+regex")),
    ("tracing", Some("tokio-rs+tracing")),
    ("axum", Some("tokio-rs+axum")),
    ("hyper", Some("hyperium+hyper")),
    ("helix", Some("helix-editor+helix")),
];

/// A map with no budget to speak of: everything it would show.
const WHOLE: usize = 10_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Split {
    Train,
    Test,
    All,
    /// `fresh.txt`: tasks pinned after the router's weights were last chosen.
    Fresh,
}

struct Args {
    split: Split,
    misses: bool,
    sweep: bool,
    pick: Option<(usize, String)>,
    /// `--pick` walks every commit, not only the first-parent line (clap merges each pull request).
    all_commits: bool,
    /// `--history W`: the router's `history` weight (0: the router without the repository's
    /// history).
    history: f64,
    mirrors: PathBuf,
    /// `--model CONFIG [--nova BIN]`: the tasks routed by the model router too (`BIN --config
    /// CONFIG ask --route model --explain-route` in each task's tree).
    model: Option<(PathBuf, PathBuf)>,
    /// `--limit N`: the model routes only the first N tasks (a slow local model).
    limit: Option<usize>,
}

fn args(root: &Path) -> Args {
    let mut args = Args {
        split: Split::Train,
        misses: false,
        sweep: false,
        pick: None,
        all_commits: false,
        history: route::WEIGHTS.history,
        mirrors: root.join("../.mirror"),
        model: None,
        limit: None,
    };
    let given: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        given
            .iter()
            .position(|a| a == flag)
            .and_then(|i| given.get(i + 1))
            .cloned()
    };
    args.split = match value("--split").as_deref() {
        Some("test") => Split::Test,
        Some("all") => Split::All,
        Some("fresh") => Split::Fresh,
        _ => Split::Train,
    };
    args.misses = given.iter().any(|a| a == "--misses");
    args.sweep = given.iter().any(|a| a == "--sweep");
    args.all_commits = given.iter().any(|a| a == "--all-commits");
    if let Some(w) = value("--history") {
        args.history = w.parse().expect("--history W");
    }
    if let Some(n) = value("--pick") {
        let repo = value("--repo").unwrap_or_else(|| String::from("nova"));
        args.pick = Some((n.parse().expect("--pick N"), repo));
    }
    if let Some(dir) = value("--mirrors") {
        args.mirrors = PathBuf::from(dir);
    }
    if let Some(config) = value("--model") {
        // Each task runs in its own tree: both paths are made absolute here.
        let absolute = |path: PathBuf| {
            std::path::absolute(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        };
        let nova = value("--nova").map_or_else(|| root.join("target/debug/nova"), PathBuf::from);
        args.model = Some((absolute(PathBuf::from(config)), absolute(nova)));
    }
    args.limit = value("--limit").map(|n| n.parse().expect("--limit N"));
    args
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let args = args(&root);
    if let Some((n, repo)) = &args.pick {
        let dir = repo_dir(&root, &args.mirrors, repo).expect("the repository's mirror");
        pick(&root, &dir, repo, *n, args.all_commits);
        return;
    }
    routing(&root, &args);
    sizes(&root, &args);
}

/// Where a repository's git directory is.
fn repo_dir(root: &Path, mirrors: &Path, name: &str) -> Option<PathBuf> {
    mirrors::repo_dir(root, mirrors, &REPOS, name)
}

/// `tree` written to `dir` once, with its domain agents scaffolded there.
fn checkout(git: &Repository, tree: &git2::Tree<'_>, dir: &Path) -> Index {
    if !dir.join(".complete").exists() {
        let _ = std::fs::remove_dir_all(dir);
        tree.walk(git2::TreeWalkMode::PreOrder, |parent, entry| {
            if entry.kind() == Some(git2::ObjectType::Blob) && entry.filemode() != 0o120_000 {
                let path = dir.join(parent).join(entry.name().unwrap_or("_"));
                let blob = git.find_blob(entry.id()).expect("blob");
                std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
                std::fs::write(&path, blob.content()).expect("write");
            }
            git2::TreeWalkResult::Ok
        })
        .expect("walk the tree");
        // The repository's own agents, if it has any, are not this benchmark's.
        let _ = std::fs::remove_dir_all(dir.join(".nova"));
        let index = Index::build_with_cache(dir, None);
        let plan = scaffold::plan(dir, &index);
        scaffold::write(dir, &plan).expect("scaffold");
        std::fs::write(dir.join(".complete"), "").expect("marker");
        return index;
    }
    Index::build_with_cache(dir, None)
}

/// The `.rs` files `commit` changed: added, modified, deleted or renamed (both names).
fn changed(git: &Repository, parent: &git2::Commit<'_>, commit: &git2::Commit<'_>) -> Vec<String> {
    let diff = git
        .diff_tree_to_tree(
            Some(&parent.tree().expect("tree")),
            Some(&commit.tree().expect("tree")),
            None,
        )
        .expect("diff");
    let mut files = BTreeSet::new();
    for delta in diff.deltas() {
        for file in [delta.old_file(), delta.new_file()] {
            if let Some(path) = file.path().and_then(Path::to_str)
                && path.ends_with(".rs")
            {
                files.insert(path.to_owned());
            }
        }
    }
    files.into_iter().collect()
}

/// The one owner of every file in `files`, if there is one.
fn owner(owners: &Owners<'_>, files: &[String]) -> Option<String> {
    let who: BTreeSet<String> = files
        .iter()
        .map(|f| owners.owner_of(f).map(|a| a.name.clone()))
        .collect::<Option<_>>()?;
    match who.len() {
        1 => who.into_iter().next(),
        _ => None,
    }
}

/// One task, loaded: its parent's index and scaffolded agents, the owner of its files.
struct Task {
    repo: String,
    commit: String,
    /// The parent's tree, written out with its domain agents.
    tree: PathBuf,
    message: String,
    expected: String,
    index: Index,
    set: AgentSet,
    /// The repository's history up to the task's parent.
    past: route::Past,
    /// The weights that history chose (`domains::calibrate`), as `nova ask` would at the parent.
    calibration: Option<calibrate::Calibration>,
    /// How long calibrating took.
    calibrating: std::time::Duration,
}

/// One routed task.
struct Routed {
    repo: String,
    commit: String,
    expected: String,
    got: Option<String>,
    /// With a leading `area:` cut off the message (tokio's convention).
    got_bare: Option<String>,
    /// With the weights its history chose.
    got_calibrated: Option<String>,
    why: String,
}

fn routing(root: &Path, args: &Args) {
    let tasks = load(root, args);
    if args.sweep {
        sweep(&tasks);
        return;
    }
    let results: Vec<Routed> = tasks
        .iter()
        .map(|t| {
            let weights = route::Weights {
                history: args.history,
                ..route::WEIGHTS
            };
            route_one(t, &weights)
        })
        .collect();
    report(&results, args);
    calibrations(&tasks);
    if let Some(model) = &args.model {
        let tasks = &tasks[..args.limit.unwrap_or(tasks.len()).min(tasks.len())];
        model_routing(root, tasks, model);
    }
}

/// Each task routed by the model router: `nova ask --route model --explain-route` in the task's
/// tree (made a repository of one commit), the router's time budget raised for a slow local
/// model, and its map kept small for a small window. A route the router did not make (it ran out
/// of time, or named no agent) falls back to the offline router, and is counted apart.
fn model_routing(root: &Path, tasks: &[Task], (config, nova): &(PathBuf, PathBuf)) {
    let router = std::fs::read_to_string(root.join("agents/router.md")).expect("the router agent");
    let patient = router.replace("seconds = 60 }", "seconds = 900 }");
    assert_ne!(
        patient, router,
        "the router's time budget is no longer 60 s: raise it here"
    );
    let lossy = |path: &Path| path.to_string_lossy().into_owned();
    let mut base = vec![lossy(nova), String::from("--config"), lossy(config)];
    let flags = "ask --route model --explain-route --json --max-tokens 512 --map-tokens 500";
    base.extend(flags.split(' ').map(String::from));
    // The bench's own environment (the model's key variable with it).
    let env = nova::config::Env::capture().user_vars();
    let limit = std::time::Duration::from_secs(1200);
    let (mut right, mut fallen) = (0, 0);
    for task in tasks {
        as_repository(&task.tree);
        std::fs::write(task.tree.join(".nova/agents/router.md"), &patient).expect("router");
        let mut command = base.clone();
        command.push(task.message.clone());
        let ran = nova::validate::run_user_command(&command, &task.tree, &env, b"", limit)
            .expect("nova runs");
        let answer = ran
            .stdout
            .lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .find(|event| event["event"] == "ask_finished")
            .and_then(|event| event["answer"].as_str().map(str::to_owned))
            .unwrap_or_default();
        let got = answer.split(':').next().unwrap_or("").trim().to_owned();
        let fell_back = answer.is_empty() || answer.contains("the router made no choice");
        let hit = got == task.expected;
        right += usize::from(hit && !fell_back);
        fallen += usize::from(fell_back);
        println!(
            "{} {} {} {:>5.1} s  expected {}, got {}{}",
            if hit { "ok  " } else { "MISS" },
            task.repo,
            &task.commit[..12],
            ran.seconds,
            task.expected,
            if got.is_empty() { "nothing" } else { &got },
            if fell_back {
                " (the offline fallback)"
            } else {
                ""
            },
        );
    }
    println!(
        "model router: {right} of {} routed right by the model ({:.2}); {fallen} fell back to the \
         offline router",
        tasks.len(),
        share(right, tasks.len())
    );
}

/// `dir` made a git repository of one commit, if it is not one (`nova ask` works in one).
fn as_repository(dir: &Path) {
    if dir.join(".git").exists() {
        return;
    }
    let git = Repository::init(dir).expect("git init");
    let mut index = git.index().expect("index");
    index
        .add_all(["*"], git2::IndexAddOption::DEFAULT, None)
        .expect("add");
    let tree = git
        .find_tree(index.write_tree().expect("tree"))
        .expect("tree");
    let who = git2::Signature::now("bench", "bench@nova").expect("signature");
    git.commit(Some("HEAD"), &who, &who, "the task's parent", &tree, &[])
        .expect("commit");
}

fn load(root: &Path, args: &Args) -> Vec<Task> {
    let file = match args.split {
        Split::Fresh => "benches/domains/fresh.txt",
        _ => "benches/domains/tasks.txt",
    };
    let pinned = std::fs::read_to_string(root.join(file)).expect(file);
    let mut tasks: Vec<Task> = Vec::new();
    let mut missing = BTreeSet::new();
    let mut dropped = Vec::new();
    for line in pinned
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [repo, commit, label] = fields[..] else {
            continue;
        };
        let wanted = match args.split {
            Split::All | Split::Fresh => true,
            Split::Test => mirrors::held_out(commit),
            Split::Train => !mirrors::held_out(commit),
        };
        if !wanted {
            continue;
        }
        let Some(dir) = repo_dir(root, &args.mirrors, repo) else {
            missing.insert(repo.to_owned());
            continue;
        };
        match load_one(root, &dir, repo, commit) {
            Ok(task) if task.expected == label => tasks.push(task),
            Ok(task) => dropped.push(format!(
                "{repo} {commit}: pinned as {label}, owned by {} at its parent",
                task.expected
            )),
            Err(why) => dropped.push(format!("{repo} {commit}: {why}")),
        }
    }
    for repo in &missing {
        println!("SKIPPED {repo}: no mirror (fetch it with the search tool's `fetch`)");
    }
    for why in &dropped {
        println!("DROPPED {why}");
    }
    tasks
}

fn load_one(root: &Path, dir: &Path, repo: &str, commit: &str) -> Result<Task, String> {
    let git = Repository::open(dir).expect("open");
    let oid = Oid::from_str(commit).map_err(|e| e.to_string())?;
    let commit = git.find_commit(oid).map_err(|e| e.to_string())?;
    let parent = commit.parent(0).map_err(|e| e.to_string())?;
    let id = format!("{repo}-{}", &commit.id().to_string()[..12]);
    let tree = root.join("target/domains-bench/trees").join(id);
    let index = checkout(&git, &parent.tree().expect("tree"), &tree);
    let set = AgentSet::for_repo(Some(&tree)).map_err(|e| e.to_string())?;
    let owners = Owners::domains(&set, &[]);
    let files = changed(&git, &parent, &commit);
    let expected = owner(&owners, &files).ok_or("its files have no one owner")?;
    let message = commit.message().unwrap_or_default().trim().to_owned();
    let changes = nova::git::recent_changes_from(dir, parent.id(), route::HISTORY)
        .map_err(|e| e.to_string())?;
    let past = route::Past::new(&owners, &changes);
    let started = std::time::Instant::now();
    let calibration = calibrate::calibrate(&index, &owners, &changes);
    let calibrating = started.elapsed();
    drop(owners);
    Ok(Task {
        repo: repo.to_owned(),
        commit: commit.id().to_string(),
        tree,
        message,
        expected,
        index,
        set,
        past,
        calibration,
        calibrating,
    })
}

/// The router's choice for `task`, with its message as it is and with its area cut off.
fn route_one(task: &Task, weights: &route::Weights) -> Routed {
    let owners = Owners::domains(&task.set, &[]);
    let best = |message: &str| {
        let scores = route::scores_with(&task.index, &owners, (message, Some(&task.past)), weights);
        scores.into_iter().next().filter(|s| s.score > 0.0)
    };
    let routed = best(&task.message);
    let bare = best(bare(&task.message));
    let calibrated = match &task.calibration {
        Some(c) => route::scores_with(
            &task.index,
            &owners,
            (&task.message, Some(&task.past)),
            &c.weights,
        )
        .into_iter()
        .next()
        .filter(|s| s.score > 0.0)
        .map(|s| s.agent),
        None => routed.as_ref().map(|s| s.agent.clone()),
    };
    let mut why = routed.as_ref().map_or_else(
        || String::from("no part matched"),
        |s| route::explain(s, None),
    );
    if routed.as_ref().is_some_and(|s| s.agent != task.expected) {
        let scores = route::scores_with(
            &task.index,
            &owners,
            (&task.message, Some(&task.past)),
            weights,
        );
        if let Some(right) = scores.iter().find(|s| s.agent == task.expected) {
            why.push_str(&format!(
                "\n    and the right one: {}",
                route::explain(right, None)
            ));
        }
    }
    Routed {
        repo: task.repo.clone(),
        commit: task.commit.clone(),
        expected: task.expected.clone(),
        got: routed.as_ref().map(|s| s.agent.clone()),
        got_bare: bare.map(|s| s.agent),
        got_calibrated: calibrated,
        why,
    }
}

/// Accuracy over a grid of weights, best first (each task's owners found once).
fn sweep(tasks: &[Task]) {
    let mut rows = Vec::new();
    let owners: Vec<Owners<'_>> = tasks.iter().map(|t| Owners::domains(&t.set, &[])).collect();
    for described in [0.1, 0.3] {
        for defines in [0.3, 1.0, 1.5] {
            for named in [0.5, 1.0, 2.0] {
                for part_words in [0.0, 0.5, 1.0, 2.0] {
                    let weights = route::Weights {
                        described,
                        defines,
                        named,
                        part_words,
                        ..route::WEIGHTS
                    };
                    let right = tasks
                        .iter()
                        .zip(&owners)
                        .filter(|(t, owners)| {
                            route::scores_with(
                                &t.index,
                                owners,
                                (&t.message, Some(&t.past)),
                                &weights,
                            )
                            .first()
                            .is_some_and(|s| s.score > 0.0 && s.agent == t.expected)
                        })
                        .count();
                    rows.push((right, weights));
                }
            }
        }
    }
    rows.sort_by_key(|row| std::cmp::Reverse(row.0));
    for (right, w) in rows.iter().take(15) {
        println!("{right}/{} {w:?}", tasks.len());
    }
}

/// The message without a leading `area:` or `area/sub:` (tokio's `sync: add ...`).
fn bare(message: &str) -> &str {
    match message.split_once(": ") {
        Some((area, rest)) if !area.contains(' ') && area.len() <= 24 && !area.contains('`') => {
            rest
        }
        _ => message,
    }
}

fn report(results: &[Routed], args: &Args) {
    // Per repository: tasks, right, right without the area, right with calibrated weights.
    let mut by_repo: BTreeMap<&str, [usize; 4]> = BTreeMap::new();
    for r in results {
        let entry = by_repo.entry(r.repo.as_str()).or_default();
        let right = |got: &Option<String>| usize::from(got.as_deref() == Some(r.expected.as_str()));
        entry[0] += 1;
        entry[1] += right(&r.got);
        entry[2] += right(&r.got_bare);
        entry[3] += right(&r.got_calibrated);
    }
    let split = match args.split {
        Split::Train => "train",
        Split::Test => "held-out",
        Split::All => "all",
        Split::Fresh => "fresh",
    };
    println!("routing ({split} split), offline router");
    println!(
        "| repository | tasks | right, shipped weights | accuracy | without an `area:` prefix | calibrated on its history (as `nova ask` routes) |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    let mut all = [0; 4];
    for (repo, counts) in &by_repo {
        let [tasks, ok, ok_bare, ok_calibrated] = *counts;
        println!(
            "| {repo} | {tasks} | {ok} | {:.2} | {:.2} | {ok_calibrated} ({:.2}) |",
            share(ok, tasks),
            share(ok_bare, tasks),
            share(ok_calibrated, tasks)
        );
        for (sum, count) in all.iter_mut().zip(counts) {
            *sum += count;
        }
    }
    let [n, right, right_bare, right_calibrated] = all;
    println!(
        "| all | {n} | {right} | {:.2} | {:.2} | {right_calibrated} ({:.2}) |",
        share(right, n),
        share(right_bare, n),
        share(right_calibrated, n)
    );
    if args.misses {
        for r in results
            .iter()
            .filter(|r| r.got.as_deref() != Some(&r.expected))
        {
            println!(
                "MISS {} {}: expected {}, got {}: {}",
                r.repo,
                &r.commit[..12],
                r.expected,
                r.got.as_deref().unwrap_or("none"),
                r.why
            );
        }
    }
}

/// What each repository's history taught its tasks' routers: how many moved the weights, the
/// share of its commits the shipped and the calibrated weights route right, and the time it took.
fn calibrations(tasks: &[Task]) {
    println!();
    println!("calibration on each task's history (`domains::calibrate`, at the task's parent)");
    println!(
        "| repository | tasks | calibrated | weights moved | history routed right, shipped | calibrated | median time |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let mut by_repo: BTreeMap<&str, Vec<&Task>> = BTreeMap::new();
    for task in tasks {
        by_repo.entry(task.repo.as_str()).or_default().push(task);
    }
    for (repo, tasks) in by_repo {
        let done: Vec<&calibrate::Calibration> = tasks
            .iter()
            .filter_map(|t| t.calibration.as_ref())
            .collect();
        let moved = done.iter().filter(|c| c.moved()).count();
        let commits: usize = done.iter().map(|c| c.commits).sum();
        let shipped: usize = done.iter().map(|c| c.shipped).sum();
        let right: usize = done.iter().map(|c| c.right).sum();
        let mut times: Vec<std::time::Duration> = tasks.iter().map(|t| t.calibrating).collect();
        times.sort_unstable();
        println!(
            "| {repo} | {} | {} | {moved} | {:.2} | {:.2} | {:.2} s |",
            tasks.len(),
            done.len(),
            share(shipped, commits),
            share(right, commits),
            times[times.len() / 2].as_secs_f64()
        );
    }
}

fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Prompt sizes at each repository's head.
fn sizes(root: &Path, args: &Args) {
    println!();
    println!(
        "prompt sizes (tokens, o200k_base): a domain agent's whole context against a whole-repository agent's"
    );
    println!(
        "| repository | domain agents | median | largest | whole-repository agent | largest / whole |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
    for (repo, _) in REPOS {
        let Some(dir) = repo_dir(root, &args.mirrors, repo) else {
            println!("SKIPPED {repo}: no mirror");
            continue;
        };
        let git = Repository::open(&dir).expect("open");
        let head = git.head().expect("head").peel_to_commit().expect("commit");
        let id = format!("{repo}-head-{}", &head.id().to_string()[..12]);
        let tree = root.join("target/domains-bench/trees").join(id);
        let index = checkout(&git, &head.tree().expect("tree"), &tree);
        let set = AgentSet::for_repo(Some(&tree)).expect("the scaffolded set");
        let owners = Owners::domains(&set, &[]);
        let focus = Focus::default();
        let mut tokens: Vec<usize> = owners
            .agents()
            .map(|agent| {
                let map = nova::domains::map_for(&index, agent, &focus, WHOLE);
                count_tokens(&agent.prompt) + map.tokens
            })
            .collect();
        tokens.sort_unstable();
        let refactorer = set.agent("refactorer").expect("built in");
        let whole = count_tokens(&refactorer.prompt) + index.map(&focus, WHOLE).tokens;
        let largest = tokens.last().copied().unwrap_or(0);
        println!(
            "| {repo} | {} | {} | {largest} | {whole} | {:.2} |",
            tokens.len(),
            tokens.get(tokens.len() / 2).copied().unwrap_or(0),
            share(largest, whole)
        );
    }
}

/// Prints candidate tasks: the most recent `n` first-parent commits whose `.rs` files have one
/// owner among the domain agents scaffolded at the repository's head, at most a sixth of them
/// (and at least 2) per owner, and whose message is not a chore. Each is checked at its parent
/// when the benchmark runs.
fn pick(root: &Path, dir: &Path, repo: &str, n: usize, all_commits: bool) {
    let git = Repository::open(dir).expect("open");
    let head = git.head().expect("head").peel_to_commit().expect("commit");
    let id = format!("{repo}-head-{}", &head.id().to_string()[..12]);
    let tree = root.join("target/domains-bench/trees").join(id);
    checkout(&git, &head.tree().expect("tree"), &tree);
    let set = AgentSet::for_repo(Some(&tree)).expect("the scaffolded set");
    let owners = Owners::domains(&set, &[]);
    let cap = (n / 6).max(2);
    let mut per_owner: BTreeMap<String, usize> = BTreeMap::new();
    let mut walk = git.revwalk().expect("revwalk");
    walk.push_head().expect("head");
    if all_commits {
        walk.set_sorting(git2::Sort::TIME).expect("sorting");
    } else {
        walk.simplify_first_parent().expect("first parent");
    }
    let mut found = 0;
    for oid in walk.flatten() {
        let commit = git.find_commit(oid).expect("commit");
        if commit.parent_count() != 1 {
            continue;
        }
        let subject = commit.summary().ok().flatten().unwrap_or_default();
        // A task that says nothing of where ("doc: fix typo") is no one's to route.
        if !calibrate::says_enough(subject) {
            continue;
        }
        let files = changed(&git, &commit.parent(0).expect("parent"), &commit);
        if files.is_empty() || files.len() > 8 {
            continue;
        }
        let Some(label) = owner(&owners, &files) else {
            continue;
        };
        let count = per_owner.entry(label.clone()).or_default();
        if *count >= cap {
            continue;
        }
        *count += 1;
        println!("{repo} {oid} {label}");
        found += 1;
        if found == n {
            break;
        }
    }
}
