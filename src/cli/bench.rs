//! `nova bench`: task sets with hidden checks, for measuring agent sets.

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::json;

use super::output::{BOLD, DIM, GREEN};
use super::validation::ValidationArgs;
use super::{CommandError, Context, Exit};
use crate::agents::AgentSet;
use crate::evolve::{
    self, Evaluator, MakeError, MakeRequest, Progress, RunProgress, RunRequest, Source, Split,
    Task, TaskRun, TaskSet, Tried, Worker,
};
use crate::git;
use crate::orchestrator;
use crate::store::{BenchRow, Store};

/// Make task sets with hidden checks from a repository, to measure agent sets on.
#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    Make(MakeArgs),
    Run(RunArgs),
    Report(ReportArgs),
}

/// Run an agent set on a task set's tasks and score it: each task's tree is put, with no
/// history, in a scratch repository, the agents get the task's statement there as `nova ask`
/// gives a request (routed, with their tools; their change proved and committed there), and
/// what they committed is proved under the task's hidden checks by the frozen evaluator: the
/// set and this build of Nova, pinned by hash, read from a copy the agents cannot reach. A task
/// is solved when every target builds and every test that passes on its reference passes.
/// Results (solved, turns, tokens, cost, seconds, the evaluator's hash) go to the run archive;
/// `nova bench report` compares agent sets. Needs a model (`--provider`, or `--replay FILE`).
/// Exits 0 when every task ran (solved or not), 2 for bad arguments, 3 when the model or the
/// machine failed.
#[derive(Debug, Args)]
struct RunArgs {
    /// The task set (`nova bench make` wrote it)
    #[arg(value_name = "SET")]
    set: PathBuf,
    /// An agent set to run: a directory of agent files (and `pipelines/`) over the built-in
    /// ones, or a variant `nova evolve` archived (`.nova/evolve/<evaluator>/<id>`: its `agents/`
    /// and `settings.toml`) [default: the built-in agents]
    #[arg(long, value_name = "DIR")]
    agents: Option<PathBuf>,
    /// Another build of Nova to work on the tasks instead of this one's agents: its executable
    /// (`target/debug/nova` of a checkout). Each task is `BIN ask` in the scratch repository, in
    /// the sandbox: it may change only that repository and a private temp dir, read only those,
    /// the toolchain and itself, and connect only to the model's port. This build stays the
    /// evaluator: it scores what BIN committed, and refuses a change to anything that judges it.
    /// With `--record FILE` (`--replay FILE`), each task's exchanges go to (come from)
    /// `FILE.builds/<name>/<task>.jsonl`
    #[arg(long, value_name = "BIN", conflicts_with = "agents")]
    nova: Option<PathBuf>,
    /// `--nova` with the build of this repository (a checkout of Nova) at REV: `cargo build --bin
    /// nova` of that commit in the sandbox, kept under `.nova/bench/builds/<commit>/` for the
    /// next run
    #[arg(long, value_name = "REV", conflicts_with_all = ["nova", "agents"])]
    nova_rev: Option<String>,
    /// The agent set's name in the results [default: `builtin`, the directory's name,
    /// `nova@<hash>` for `--nova`, `nova@REV` for `--nova-rev`]
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Which tasks: `train`, `held-out` or `all`
    #[arg(long, value_enum, default_value_t = Which::All)]
    split: Which,
    /// Only these tasks (repeat for more)
    #[arg(long = "task", value_name = "ID")]
    tasks: Vec<String>,
    /// Run at most N tasks
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    /// Run again the tasks this agent set (by name and files) was judged on under this evaluator
    /// already, instead of keeping their results
    #[arg(long)]
    again: bool,
    #[command(flatten)]
    exchange: super::ask::ExchangeArgs,
    #[command(flatten)]
    validation: ValidationArgs,
}

/// Which tasks of a set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Which {
    Train,
    HeldOut,
    All,
}

/// Compare agent sets on the tasks they both ran, judged by the same evaluator: solved by each,
/// by both, by one only, and their turns, tokens, cost and time, from the run archive.
#[derive(Debug, Args)]
struct ReportArgs {
    /// The agent set to compare [default: the one run last]
    #[arg(value_name = "NAME")]
    agents: Option<String>,
    /// The agent set to compare it with [default: the one run before it]
    #[arg(long, value_name = "NAME")]
    against: Option<String>,
}

/// Make a task set: defects seeded in the repository's code (a comparison flipped, a range's end
/// moved by one, two arguments swapped, a statement dropped, a condition inverted, an operator
/// replaced), tried in an order the seed chooses, each proved in the sandbox and kept only when
/// every target still builds and some test that passed then fails, every time it runs. Each task
/// gets the statement a user would write (the failing tests and what they printed); its checks
/// (every test that passes on the commit) stay in the set's file. The same repository, commit and
/// seed give the same set. Exits 0 when the set was written (even with fewer tasks than asked,
/// said on stderr), 1 when no mutant made a task, 2 for bad arguments, 3 for environment problems.
#[derive(Debug, Args)]
struct MakeArgs {
    /// Chooses the mutants and the held-out tasks
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Tasks to make from seeded defects
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(0..=10_000))]
    count: u64,
    /// Tasks to make from history besides: commits that changed code and a test file together,
    /// where the commit's test files fail on the code before it (the task: the parent's tree and
    /// the commit's message)
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=1_000))]
    history: u64,
    /// Commits looked at for `--history`, along first parents from `--rev`
    #[arg(long, value_name = "N", default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    depth: u64,
    /// Mutants to prove at most, kept or not [default: 4 × --count]
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    tries: Option<u64>,
    /// The share of tasks held out of training, in percent
    #[arg(long, value_name = "PERCENT", default_value_t = 20, value_parser = clap::value_parser!(u8).range(0..=100))]
    held_out: u8,
    /// The commit to seed defects in
    #[arg(long, default_value = "HEAD")]
    rev: String,
    /// Where to write the set [default: .nova/bench/tasks-<seed>.json]
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    #[command(flatten)]
    validation: ValidationArgs,
}

pub fn run(cx: &Context<'_>, args: &BenchArgs) -> Result<Exit, CommandError> {
    match &args.command {
        BenchCommand::Make(args) => make(cx, args),
        BenchCommand::Run(args) => run_set(cx, args),
        BenchCommand::Report(args) => report_sets(cx, args),
    }
}

fn make(cx: &Context<'_>, args: &MakeArgs) -> Result<Exit, CommandError> {
    let root = cx.require_repo()?;
    let Some(commit) = git::commit_of(&root, &args.rev).map_err(CommandError::environment)? else {
        return Err(CommandError::usage(anyhow::anyhow!(
            "`--rev {}` names no commit in {}; give a branch, a tag or a commit id",
            args.rev,
            root.display()
        )));
    };
    let out = match &args.out {
        Some(path) => cx.absolute(path),
        None => root
            .join(crate::state::STATE_DIR)
            .join("bench")
            .join(format!("tasks-{}.json", args.seed)),
    };
    let config = cx.config(Some(&root))?;
    let (validation, _) = args.validation.options(cx, &config)?;
    let count = usize::try_from(args.count).unwrap_or(usize::MAX);
    let history = usize::try_from(args.history).unwrap_or(usize::MAX);
    if count == 0 && history == 0 {
        return Err(CommandError::usage(anyhow::anyhow!(
            "`--count 0` and no `--history`: nothing to make; ask for tasks with either"
        )));
    }
    let request = MakeRequest {
        repo_root: root.clone(),
        commit,
        seed: args.seed,
        count,
        tries: args.tries.map_or(count.saturating_mul(4), |t| {
            usize::try_from(t).unwrap_or(usize::MAX)
        }),
        held_out_percent: args.held_out,
        history,
        depth: usize::try_from(args.depth).unwrap_or(usize::MAX),
        validation,
    };
    let _lock = cx.lock(&root)?;
    let p = &cx.printer;
    let short = commit.to_string()[..10].to_owned();
    let mut progress = |step: Progress<'_>| tell(p, &short, step);
    let made = match evolve::make(&request, &mut progress) {
        Ok(made) => made,
        Err(error @ (MakeError::Base { .. } | MakeError::NoCode(_) | MakeError::NoTests(_))) => {
            p.error(&anyhow::Error::new(error));
            return Ok(Exit::Failure);
        }
        Err(error) => return Err(CommandError::environment(error)),
    };
    if made.set.tasks.is_empty() {
        let history = if request.history > 0 {
            format!(
                ", and none of the {} fixes from history did (their tests did not fail, or did \
                 not build, on the code before them)",
                made.fixes
            )
        } else {
            String::new()
        };
        p.error(&anyhow::anyhow!(
            "no task made: none of the {} mutants tried failed a test every time (each built \
             with every test passing, or did not build){history}; try another `--seed`, more \
             `--tries` or `--history` with a larger `--depth`",
            made.tried,
        ));
        return Ok(Exit::Failure);
    }
    made.set.save(&out).map_err(CommandError::environment)?;
    report(cx, args, &request, &made, &out)
}

/// One step of `make`, on stderr.
fn tell(p: &super::Printer, commit: &str, step: Progress<'_>) {
    match step {
        Progress::Found { files, mutants } => p.note(&format!(
            "bench make: {mutants} possible defects in {files} files of {commit}; proving the \
             commit in the sandbox…"
        )),
        Progress::Base(report) => {
            p.info(&report.summary());
            let failing = &report.baseline.failing;
            if !failing.is_empty() {
                let names: Vec<&str> = failing.keys().map(String::as_str).collect();
                p.note(&format!(
                    "already failing on the commit ({}), so never a check: {}",
                    failing.len(),
                    names.join(", ")
                ));
            }
        }
        Progress::Tried {
            n,
            tries,
            path,
            what,
            tried,
            seconds,
        } => progress_line(
            p,
            &format!(
                "[{n}/{tries}] {path}: {what}: {} ({seconds:.1} s)",
                tried.describe()
            ),
            tried,
        ),
        Progress::Fixes { commits, found } => p.note(&format!(
            "bench make: {found} of the last {commits} commits changed code and a test file \
             together; proving each…"
        )),
        Progress::Fix {
            n,
            of,
            commit,
            subject,
            tried,
            seconds,
        } => progress_line(
            p,
            &format!(
                "[fix {n}/{of}] {commit} {subject}: {} ({seconds:.1} s)",
                tried.describe()
            ),
            tried,
        ),
    }
}

/// A progress line: kept tasks plain, dropped ones dimmed.
fn progress_line(p: &super::Printer, line: &str, tried: &Tried) {
    if matches!(tried, Tried::Kept(_)) {
        p.note(line);
    } else {
        p.note(&p.paint_err(DIM, line));
    }
}

/// What was made: short of what was asked on stderr, the set on stdout.
fn report(
    cx: &Context<'_>,
    args: &MakeArgs,
    request: &MakeRequest,
    made: &evolve::Made,
    out: &std::path::Path,
) -> Result<Exit, CommandError> {
    let p = &cx.printer;
    let set = &made.set;
    let held = set.split(Split::HeldOut).count();
    let mutants = set
        .tasks
        .iter()
        .filter(|t| matches!(t.source, Source::Mutant { .. }))
        .count();
    let fixes = set.tasks.len() - mutants;
    if mutants < request.count {
        p.warn(&format!(
            "{mutants} of the {} tasks from defects asked for: {} mutants tried (`--tries` for \
             more)",
            request.count, made.tried
        ));
    }
    if fixes < request.history {
        p.warn(&format!(
            "{fixes} of the {} tasks from history asked for: {} fixes in the last {} commits \
             (`--depth` for more)",
            request.history, made.fixes, args.depth
        ));
    }
    if p.json() {
        p.json_value(&json!({
            "path": out,
            "commit": request.commit.to_string(),
            "seed": set.seed,
            "tasks": set.tasks.len(),
            "train": set.tasks.len() - held,
            "held_out": held,
            "from_defects": mutants,
            "from_history": fixes,
            "tried": made.tried,
            "mutants": made.mutants,
            "fixes": made.fixes,
            "sandbox": made.sandbox,
            "ids": set.tasks.iter().map(|t| &t.id).collect::<Vec<_>>(),
        }))?;
        return Ok(Exit::Success);
    }
    p.line(&format!(
        "{} {} tasks ({} train, {held} held out): {mutants} from {} mutants tried of {}, \
         {fixes} from history",
        p.paint(GREEN, "Made"),
        set.tasks.len(),
        set.tasks.len() - held,
        made.tried,
        made.mutants
    ))?;
    for task in &set.tasks {
        let what = match &task.source {
            Source::Mutant {
                path,
                line,
                operator,
                ..
            } => format!("{path}:{line} {operator}"),
            Source::History { .. } => task.statement.lines().next().unwrap_or_default().to_owned(),
        };
        p.line(&format!(
            "  {} {:<8} {what}, {} failing",
            task.id,
            task.split.name(),
            task.fail_to_pass.len()
        ))?;
    }
    p.line(&format!("{} {}", p.paint(BOLD, "Task set:"), out.display()))?;
    Ok(Exit::Success)
}

/// `nova bench run`.
fn run_set(cx: &Context<'_>, args: &RunArgs) -> Result<Exit, CommandError> {
    let root = cx.require_repo()?;
    let config = cx.config(Some(&root))?;
    let evaluator = pin(cx, &root, &args.set)?;
    let tasks = chosen(&evaluator.set, args)?;
    let _lock = cx.lock(&root)?;
    let (who, label, fingerprint) = match (&args.nova, &args.nova_rev) {
        (Some(program), _) => nova_build(cx, program, args.name.clone())?,
        (None, Some(rev)) => {
            let program = build_rev(cx, (&root, &config), rev, &args.validation)?;
            let name = args.name.clone().unwrap_or_else(|| format!("nova@{rev}"));
            nova_build(cx, &program, Some(name))?
        }
        (None, None) => {
            let (agents, label, (running, files)) = agent_set(args)?;
            let fingerprint = evolve::variant::fingerprint(&agents, &files);
            (Who::Agents { agents, running }, label, fingerprint)
        }
    };
    let store = Store::open(&root).map_err(CommandError::environment)?;
    let judged = if args.again {
        BTreeMap::new()
    } else {
        judged(&store, &label, &fingerprint, &evaluator, &tasks)?
    };
    let left: Vec<&Task> = tasks
        .iter()
        .filter(|task| !judged.contains_key(&task.id))
        .copied()
        .collect();
    let p = &cx.printer;
    if !judged.is_empty() {
        p.note(&format!(
            "{} of the {} tasks were judged for `{label}` under this evaluator already: their \
             results stand (`--again` runs them anew)",
            judged.len(),
            tasks.len()
        ));
    }
    let bench = Bench {
        evaluator: &evaluator,
        who: &who,
        label: &label,
        fingerprint: &fingerprint,
    };
    let (id, fresh) = if left.is_empty() {
        (String::from("(none: every task was judged)"), Vec::new())
    } else {
        run_left(cx, args, (&root, &config), &store, &bench, left)?
    };
    let results: Vec<TaskRun> = tasks
        .iter()
        .filter_map(|task| {
            fresh
                .iter()
                .find(|r| r.task == task.id)
                .or_else(|| judged.get(&task.id))
                .cloned()
        })
        .collect();
    print_run(p, &id, &evaluator, &results)
}

/// An agent set about to run on a task set: what judges it, and what it is.
struct Bench<'a> {
    evaluator: &'a Evaluator,
    who: &'a Who,
    label: &'a str,
    fingerprint: &'a str,
}

/// Who works on the tasks.
enum Who {
    /// This build's agents: the built-in ones, or a directory or variant over them.
    Agents {
        agents: AgentSet,
        running: evolve::variant::Running,
    },
    /// Another build of Nova: its executable.
    Build(PathBuf),
}

/// `--nova BIN`: the build, its name in the results (`name`, else from its hash) and its
/// fingerprint (its bytes' hash, so that a rebuilt executable is another agent set).
fn nova_build(
    cx: &Context<'_>,
    program: &std::path::Path,
    name: Option<String>,
) -> Result<(Who, String, String), CommandError> {
    let program = cx.absolute(program);
    let bytes = std::fs::read(&program).map_err(|error| {
        CommandError::usage(anyhow::anyhow!(
            "`--nova {}`: {error}; give the path of a `nova` executable (`cargo build` makes \
             `target/debug/nova` in a checkout of Nova)",
            program.display()
        ))
    })?;
    let hash = format!("{:016x}", crate::hash::fnv1a(&bytes));
    let label = name.unwrap_or_else(|| format!("nova@{}", &hash[..12]));
    Ok((Who::Build(program), label, format!("nova-build-{hash}")))
}

/// `--nova-rev REV`: the executable of `nova` built from the repository at `root` at REV in
/// the sandbox, or the one built from that commit before.
fn build_rev(
    cx: &Context<'_>,
    (root, config): (&std::path::Path, &crate::config::Config),
    rev: &str,
    validation: &ValidationArgs,
) -> Result<PathBuf, CommandError> {
    let Some(commit) = git::commit_of(root, rev).map_err(CommandError::environment)? else {
        return Err(CommandError::usage(anyhow::anyhow!(
            "`--nova-rev {rev}` names no commit in {}; give a branch, a tag or a commit id",
            root.display()
        )));
    };
    let short = &commit.to_string()[..10];
    let program = evolve::code::build_path(root, commit);
    let p = &cx.printer;
    if program.is_file() {
        p.note(&format!(
            "bench run: `nova` at {rev} ({short}) was built before: {}",
            program.display()
        ));
        return Ok(program);
    }
    let (options, _) = validation.options(cx, config)?;
    p.note(&format!(
        "bench run: building `nova` at {rev} ({short}) in the sandbox…"
    ));
    let started = std::time::Instant::now();
    let program = evolve::code::build(root, commit, options)
        .map_err(CommandError::environment)?
        .map_err(|why| {
            CommandError::failure(anyhow::anyhow!(
                "`nova` does not build at {rev} ({short}): {why}"
            ))
        })?;
    p.note(&format!(
        "bench run: built in {:.0} s: {}",
        started.elapsed().as_secs_f64(),
        program.display()
    ));
    Ok(program)
}

/// The results the archive keeps for `tasks` by this agent set (its name and fingerprint) under
/// this evaluator, the latest of each.
fn judged(
    store: &Store,
    label: &str,
    fingerprint: &str,
    evaluator: &Evaluator,
    tasks: &[&Task],
) -> Result<BTreeMap<String, TaskRun>, CommandError> {
    Ok(store
        .bench_results()
        .map_err(CommandError::environment)?
        .into_iter()
        .filter(|row| {
            row.agents == label
                && row.agents_hash == fingerprint
                && row.evaluator == evaluator.hash
                && tasks.iter().any(|task| task.id == row.task)
        })
        .filter_map(|row| Some((row.task, serde_json::from_str(&row.detail).ok()?)))
        .collect())
}

/// Runs `bench` on the tasks `left`, each result into the archive as it comes; the run's id and
/// the results.
fn run_left(
    cx: &Context<'_>,
    args: &RunArgs,
    (root, config): (&std::path::Path, &crate::config::Config),
    store: &Store,
    bench: &Bench<'_>,
    left: Vec<&Task>,
) -> Result<(String, Vec<TaskRun>), CommandError> {
    let Agents {
        connected,
        validation,
        scratch,
        mut template,
    } = agents_at_work(cx, root, config, &args.exchange, &args.validation)?;
    let evaluator = bench.evaluator;
    let worker: Box<dyn Worker + '_> = match bench.who {
        Who::Agents { agents, running } => {
            running.apply(&mut template);
            Box::new(
                evolve::worker::Agents::new(
                    agents.clone(),
                    template,
                    validation.clone(),
                    &connected.client,
                )
                .map_err(CommandError::environment)?,
            )
        }
        Who::Build(program) => {
            let worker = build_worker(
                cx,
                config,
                program,
                (&connected, &validation, &scratch),
                &args.exchange,
            );
            cx.printer.note(&format!(
                "bench run: the tasks go to the build at {}, in the sandbox: it writes only the \
                 scratch repository, and connects only to {}",
                program.display(),
                worker.build.reach()
            ));
            Box::new(worker)
        }
    };
    let request = RunRequest {
        evaluator,
        tasks: left,
        label: bench.label.to_owned(),
        validation,
        scratch,
    };
    let time = cx.env.source_date_epoch().unwrap_or_else(orchestrator::now);
    let id = format!("bench-{}", orchestrator::stamp(time));
    let run = store
        .start_run(&id, "bench run", &evaluator.set_hash, None, time)
        .map_err(CommandError::environment)?;
    let p = &cx.printer;
    p.note(&format!(
        "bench run {id}: `{}` on {} tasks of {} (evaluator {})",
        bench.label,
        request.tasks.len(),
        args.set.display(),
        &evaluator.hash[..12]
    ));
    let mut failed = None;
    let mut progress = |step: RunProgress<'_>| match step {
        RunProgress::Started { n, of, task } => {
            p.note(&format!("[{n}/{of}] {} ({})…", task.id, task.split.name()));
        }
        RunProgress::Finished { n, of, result } => {
            let row =
                evolve::run::bench_row(&id, bench.label, bench.fingerprint, evaluator, result);
            if let Err(error) = store.bench_result(run, &row) {
                failed.get_or_insert(error);
            }
            tell_result(p, n, of, result);
        }
    };
    let results = evolve::run(&request, worker.as_ref(), &mut progress);
    let status = if results.is_ok() {
        "finished"
    } else {
        "failed"
    };
    let summary = results
        .as_ref()
        .map_or_else(ToString::to_string, |r| solved_line(r));
    // nova:allow(ignored-result): the results are kept row by row; the run's end is for `nova runs`
    let _ = store.finish_run(run, status, &summary, orchestrator::now());
    if let Some(error) = failed {
        return Err(CommandError::environment(error));
    }
    let results = results.map_err(CommandError::environment)?;
    Ok((id, results))
}

/// The worker that runs the build at `program` on each task, with the model `connected` talks
/// to and this run's validation options, in a private directory beside `scratch`.
pub(super) fn build_worker(
    cx: &Context<'_>,
    config: &crate::config::Config,
    program: &std::path::Path,
    (connected, validation, scratch): (
        &super::ask::Connected,
        &crate::validate::Options,
        &std::path::Path,
    ),
    exchange: &super::ask::ExchangeArgs,
) -> evolve::worker::Build {
    let provider = &config.provider;
    let base_url = provider.base_url.value.clone().unwrap_or_default();
    let mut model_args = vec![
        String::from("--provider"),
        provider.kind.value.as_str().to_owned(),
        String::from("--base-url"),
        base_url.clone(),
        String::from("--model"),
        connected.model.clone(),
    ];
    let mut env = Vec::new();
    if let Some(var) = &provider.api_key_env.value {
        model_args.extend([String::from("--api-key-env"), var.clone()]);
        if let Some(key) = config.api_key(cx.env) {
            env.push((var.clone(), key.to_owned()));
        }
    }
    let ask_args = vec![
        String::from("--max-tokens"),
        exchange.max_tokens.to_string(),
        String::from("--map-tokens"),
        exchange.map_tokens.to_string(),
        String::from("--step-timeout"),
        validation.step_timeout.as_secs().to_string(),
    ];
    // The run's own budget, else an hour, and one step's time to prove what it made.
    let budget = std::time::Duration::from_secs(config.budget.seconds.value.unwrap_or(3600));
    let model_port = crate::llm::endpoint_port(&base_url);
    let mut private = scratch.as_os_str().to_owned();
    private.push("-build");
    evolve::worker::Build {
        build: crate::validate::NovaBuild {
            program: program.to_owned(),
            options: validation.clone(),
            model_port,
            env,
            timeout: budget + validation.step_timeout,
        },
        model_args,
        ask_args,
        private: PathBuf::from(private),
        recording: recording(cx, exchange),
    }
}

/// Where a build's recordings go (`--record FILE`) or come from (`--replay FILE`): beside FILE,
/// in `FILE.builds/`.
fn recording(
    cx: &Context<'_>,
    exchange: &super::ask::ExchangeArgs,
) -> Option<evolve::worker::Recording> {
    let beside = |file: &std::path::Path| {
        let mut dir = cx.absolute(file).into_os_string();
        dir.push(".builds");
        PathBuf::from(dir)
    };
    match (&exchange.record, &exchange.replay) {
        (Some(file), _) => Some(evolve::worker::Recording::Record(beside(file))),
        (None, Some(file)) => Some(evolve::worker::Recording::Replay(beside(file))),
        (None, None) => None,
    }
}

/// One task's result, on stderr.
fn tell_result(p: &super::Printer, n: usize, of: usize, result: &TaskRun) {
    let verdict = if result.score.solved {
        p.paint_err(GREEN, "solved")
    } else {
        String::from("not solved")
    };
    let agent = if result.agent.is_empty() {
        "no agent"
    } else {
        &result.agent
    };
    let note = result
        .note
        .as_deref()
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    p.note(&format!(
        "[{n}/{of}] {}: {verdict} by {agent} in {} turns, {:.0} s{note}",
        result.task, result.turns, result.seconds
    ));
}

/// The agent set `args` names (the built-in agents, with `--agents DIR` over them), checked, its
/// name in the results, and how it runs (with the variant's files, when it is one).
fn agent_set(
    args: &RunArgs,
) -> Result<
    (
        AgentSet,
        String,
        (evolve::variant::Running, evolve::variant::Files),
    ),
    CommandError,
> {
    let mut agents = AgentSet::builtin();
    let mut running = evolve::variant::Running::default();
    let mut files = evolve::variant::Files::new();
    let label = match &args.agents {
        // A variant of `nova evolve` (`agents/`, `rules/` and `settings.toml`), as it is archived.
        Some(dir) if dir.join("agents").is_dir() => {
            agents = evolve::variant::agent_set(dir).map_err(CommandError::usage)?;
            files = evolve::variant::load(dir).map_err(CommandError::environment)?;
            if let Some(why) = evolve::variant::rules_refused(&files).first() {
                return Err(CommandError::usage(anyhow::anyhow!(
                    "{}: {why}; fix the rule file or take it out of the variant",
                    dir.display()
                )));
            }
            running = evolve::variant::Running::of(dir, &files)
                .map_err(|why| CommandError::usage(anyhow::anyhow!("{}: {why}", dir.display())))?;
            args.name
                .clone()
                .unwrap_or_else(|| dir.display().to_string())
        }
        Some(dir) => {
            agents.overlay(dir, dir).map_err(CommandError::usage)?;
            args.name.clone().unwrap_or_else(|| {
                dir.file_name().map_or_else(
                    || dir.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                )
            })
        }
        None => args.name.clone().unwrap_or_else(|| String::from("builtin")),
    };
    let problems = crate::agents::check(&agents);
    if let Some(first) = problems.first() {
        return Err(CommandError::usage(anyhow::anyhow!(
            "the agent set has {} problem(s), the first: {first}. Run `nova agents check` on it",
            problems.len()
        )));
    }
    Ok((agents, label, (running, files)))
}

/// The tasks `args` chooses, in the set's order.
fn chosen<'a>(set: &'a TaskSet, args: &RunArgs) -> Result<Vec<&'a Task>, CommandError> {
    for id in &args.tasks {
        if !set.tasks.iter().any(|task| &task.id == id) {
            return Err(CommandError::usage(anyhow::anyhow!(
                "the set has no task `{id}`; `nova bench make` listed its tasks"
            )));
        }
    }
    let tasks: Vec<&Task> = set
        .tasks
        .iter()
        .filter(|task| match args.split {
            Which::Train => task.split == Split::Train,
            Which::HeldOut => task.split == Split::HeldOut,
            Which::All => true,
        })
        .filter(|task| args.tasks.is_empty() || args.tasks.contains(&task.id))
        .take(args.limit.unwrap_or(usize::MAX))
        .collect();
    if tasks.is_empty() {
        return Err(CommandError::usage(anyhow::anyhow!(
            "no task of the set is chosen (`--split`, `--task`, `--limit`)"
        )));
    }
    Ok(tasks)
}

/// `solved 3 of 5 (train 2/4, held-out 1/1)`.
fn solved_line(results: &[TaskRun]) -> String {
    let solved = results.iter().filter(|r| r.score.solved).count();
    let splits: Vec<String> = evolve::run::tally(results)
        .into_iter()
        .map(|(split, (solved, of))| format!("{} {solved}/{of}", split.name()))
        .collect();
    format!(
        "solved {solved} of {} ({})",
        results.len(),
        splits.join(", ")
    )
}

fn print_run(
    p: &super::Printer,
    id: &str,
    evaluator: &Evaluator,
    results: &[TaskRun],
) -> Result<Exit, CommandError> {
    if p.json() {
        p.json_value(&json!({
            "run": id,
            "evaluator": evaluator.hash,
            "task_set": evaluator.set_hash,
            "solved": results.iter().filter(|r| r.score.solved).count(),
            "tasks": results,
        }))?;
        return Ok(Exit::Success);
    }
    for result in results {
        let mark = if result.score.solved {
            p.paint(GREEN, "solved    ")
        } else {
            String::from("not solved")
        };
        let cost = result
            .cost_usd
            .map(|c| format!(" ${c:.4}"))
            .unwrap_or_default();
        p.line(&format!(
            "  {mark} {} {:<8} {} turns, {} tokens{cost}, {:.0} s",
            result.task,
            result.split.name(),
            result.turns,
            result.tokens,
            result.seconds
        ))?;
    }
    p.line(&format!(
        "{} {} (evaluator {})",
        p.paint(BOLD, "Bench run:"),
        solved_line(results),
        &evaluator.hash[..12]
    ))?;
    Ok(Exit::Success)
}

/// `nova bench report`.
fn report_sets(cx: &Context<'_>, args: &ReportArgs) -> Result<Exit, CommandError> {
    let root = cx.require_repo()?;
    let rows = match Store::open_existing(&root).map_err(CommandError::environment)? {
        Some(store) => store.bench_results().map_err(CommandError::environment)?,
        None => Vec::new(),
    };
    let Some(last) = rows.last() else {
        return Err(CommandError::usage(anyhow::anyhow!(
            "no bench results yet: run `nova bench run SET` first"
        )));
    };
    let first = args.agents.clone().unwrap_or_else(|| last.agents.clone());
    let second = match &args.against {
        Some(name) => name.clone(),
        None => rows
            .iter()
            .rev()
            .find(|row| row.agents != first)
            .map(|row| row.agents.clone())
            .ok_or_else(|| {
                CommandError::usage(anyhow::anyhow!(
                    "only `{first}` has results: run `nova bench run SET --agents DIR` for \
                     another agent set to compare it with"
                ))
            })?,
    };
    // Each set's latest result per task and evaluator: only those judged alike are compared.
    let latest = |name: &str| -> BTreeMap<(String, String), &BenchRow> {
        rows.iter()
            .filter(|row| row.agents == name)
            .map(|row| ((row.evaluator.clone(), row.task.clone()), row))
            .collect()
    };
    let (ours, theirs) = (latest(&first), latest(&second));
    for (name, results) in [(&first, &ours), (&second, &theirs)] {
        if results.is_empty() {
            return Err(CommandError::usage(anyhow::anyhow!(
                "no bench results for `{name}`"
            )));
        }
    }
    let pairs: Vec<(&BenchRow, &BenchRow)> = ours
        .iter()
        .filter_map(|(key, a)| Some((*a, *theirs.get(key)?)))
        .collect();
    if pairs.is_empty() {
        return Err(CommandError::failure(anyhow::anyhow!(
            "`{first}` and `{second}` never ran the same task under the same evaluator (the same \
             task set and build of Nova): run both on one set"
        )));
    }
    print_comparison(cx, &first, &second, &pairs)
}

/// One agent set's side of a comparison.
#[derive(Debug, Default, serde::Serialize)]
struct Side {
    solved: usize,
    only: usize,
    turns: f64,
    tokens: f64,
    seconds: f64,
    cost_usd: Option<f64>,
}

fn side(rows: &[&BenchRow], other: &[&BenchRow]) -> Side {
    let n = rows.len().max(1) as f64;
    let costs: Vec<f64> = rows.iter().filter_map(|r| r.cost_usd).collect();
    Side {
        solved: rows.iter().filter(|r| r.solved).count(),
        only: rows
            .iter()
            .zip(other)
            .filter(|(a, b)| a.solved && !b.solved)
            .count(),
        turns: rows.iter().map(|r| f64::from(r.turns)).sum::<f64>() / n,
        tokens: rows.iter().map(|r| r.tokens as f64).sum::<f64>() / n,
        seconds: rows.iter().map(|r| r.seconds).sum::<f64>() / n,
        cost_usd: (!costs.is_empty()).then(|| costs.iter().sum::<f64>() / n),
    }
}

fn print_comparison(
    cx: &Context<'_>,
    first: &str,
    second: &str,
    pairs: &[(&BenchRow, &BenchRow)],
) -> Result<Exit, CommandError> {
    let p = &cx.printer;
    let mut splits: BTreeMap<&str, Vec<(&BenchRow, &BenchRow)>> = BTreeMap::new();
    for pair in pairs {
        splits.entry(pair.0.split.as_str()).or_default().push(*pair);
        splits.entry("all").or_default().push(*pair);
    }
    let mut table = Vec::new();
    for (split, pairs) in &splits {
        let ours: Vec<&BenchRow> = pairs.iter().map(|(a, _)| *a).collect();
        let theirs: Vec<&BenchRow> = pairs.iter().map(|(_, b)| *b).collect();
        table.push((
            *split,
            pairs.len(),
            side(&ours, &theirs),
            side(&theirs, &ours),
        ));
    }
    if p.json() {
        let json: Vec<_> = table
            .iter()
            .map(
                |(split, tasks, a, b)| json!({"split": split, "tasks": tasks, first: a, second: b}),
            )
            .collect();
        p.json_value(&json!({ "agents": first, "against": second, "splits": json }))?;
        return Ok(Exit::Success);
    }
    p.line(&format!(
        "{} `{first}` against `{second}`, on the tasks both ran under the same evaluator",
        p.paint(BOLD, "Bench report:")
    ))?;
    for (split, tasks, a, b) in &table {
        p.line(&format!("  {split} ({tasks} tasks)"))?;
        for (name, side) in [(first, a), (second, b)] {
            let cost = side
                .cost_usd
                .map(|c| format!(", ${c:.4}"))
                .unwrap_or_default();
            p.line(&format!(
                "    {name:<16} solved {}/{tasks} ({} it alone); per task {:.1} turns, {:.0} \
                 tokens, {:.0} s{cost}",
                side.solved, side.only, side.turns, side.tokens, side.seconds
            ))?;
        }
    }
    Ok(Exit::Success)
}

/// What agents need to work on tasks: the model, the sandbox's options, the scratch repository
/// they work in, and the request each task's run starts from.
pub(super) struct Agents {
    pub connected: super::ask::Connected,
    pub validation: crate::validate::Options,
    pub scratch: PathBuf,
    pub template: crate::orchestrator::AskRequest,
}

/// The model connected and the rest of [`Agents`] for the repository at `root`: `bench run` and
/// `evolve` share it.
pub(super) fn agents_at_work(
    cx: &Context<'_>,
    root: &std::path::Path,
    config: &crate::config::Config,
    exchange: &super::ask::ExchangeArgs,
    validation: &ValidationArgs,
) -> Result<Agents, CommandError> {
    let connected = super::ask::connect(
        cx,
        config,
        None,
        exchange.record.clone(),
        exchange.replay.clone(),
    )?;
    let (validation, _) = validation.options(cx, config)?;
    let scratch = validation.temp_root.join(format!(
        "nova-bench-{:016x}",
        crate::hash::fnv1a(root.to_string_lossy().as_bytes())
    ));
    let mut template =
        super::ask::agent_template(cx, config, &scratch, &connected, exchange.map_tokens);
    template.max_tokens = exchange.max_tokens;
    Ok(Agents {
        connected,
        validation,
        scratch,
        template,
    })
}

/// `set` from where the command runs, pinned with this build as the frozen evaluator under the
/// state directory of `root`.
pub(super) fn pin(
    cx: &Context<'_>,
    root: &std::path::Path,
    set: &std::path::Path,
) -> Result<Evaluator, CommandError> {
    let set_path = cx.absolute(set);
    let state = root.join(crate::state::STATE_DIR);
    Evaluator::pin(&set_path, &state).map_err(CommandError::usage)
}
