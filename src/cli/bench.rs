//! `nova bench`: task sets with hidden checks, for measuring agent sets.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::json;

use super::output::{BOLD, DIM, GREEN};
use super::validation::ValidationArgs;
use super::{CommandError, Context, Exit};
use crate::evolve::{self, MakeError, MakeRequest, Progress, Source, Split, Tried};
use crate::git;

/// Make task sets with hidden checks from a repository, to measure agent sets on.
#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    Make(MakeArgs),
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
        Some(path) if path.is_relative() => cx
            .env
            .current_dir()
            .map_or_else(|| path.clone(), |here| here.join(path)),
        Some(path) => path.clone(),
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
        Progress::Base(report) => p.info(&report.summary()),
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
