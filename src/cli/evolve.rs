//! `nova evolve`: generations of agent-set variants judged by the frozen evaluator, and the
//! archive's report.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::json;

use super::output::{BOLD, GREEN, RED};
use super::validation::ValidationArgs;
use super::{CommandError, Context, Exit};
use crate::evolve::code::Code;
use crate::evolve::generation::{self, EvolveProgress, EvolveRequest, Proposer};
use crate::evolve::lineage::{AgentFiles, Kind};
use crate::evolve::{RunProgress, variant};
use crate::orchestrator;
use crate::store::{Store, VariantRow};

/// Evolve the agent set on a task set, judged by an evaluator the variants cannot touch.
///
/// Each generation picks a parent from the archive (by its
/// training score and how few children it has had), changes its agent files or how they are run
/// (`--proposer model`: the `evolver` agent, told the tasks the parent failed; `builtin`: a hint
/// in a prompt, a larger budget, a tool, a description that routes the failed tasks' requests, a
/// larger map, routing by the model), refuses
/// a change to anything that judges it (tests, lint tables, CI, pipelines, an agent's
/// `acceptance` or what it may silence), runs the variant on `--stage` training tasks and, when
/// it is not worse there, on the rest, and accepts it only when the paired comparison with its
/// parent has a lower confidence bound of the gain above zero. The task set and this build of
/// Nova are pinned as the frozen evaluator; held-out tasks are never run while selecting
/// (`--held-out` runs the root and the best variant on them at the end). Every result is kept as
/// it comes: run it again to go on after a crash or Ctrl-C. Needs a model (`--provider`, or
/// `--replay FILE`). Exits 0 when the generations ran, 2 for bad arguments, 3 when the model or
/// the machine failed.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct EvolveArgs {
    #[command(subcommand)]
    command: Option<EvolveCommand>,
    /// The task set (`nova bench make` wrote it)
    #[arg(value_name = "SET", required = true)]
    set: Option<PathBuf>,
    /// Generations to add
    #[arg(long, value_name = "N", default_value_t = 5)]
    generations: usize,
    /// Chooses parents and changes
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Training tasks a variant runs first; the rest only when it is not worse on them
    #[arg(long, value_name = "N", default_value_t = 3)]
    stage: usize,
    /// Runs at most of a task on which a variant and its parent differ: the tasks that decide
    /// are run again, both sides, until they agree or this many runs are made (1: never again)
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u32).range(1..=10))]
    repeats: u32,
    /// Who changes the parent: `model` (the `evolver` agent, told the failed tasks; when it
    /// proposes nothing new, the builtin proposer does) or `builtin` (small changes the seed
    /// chooses)
    #[arg(long, value_enum, default_value_t = ProposerArg::Model)]
    proposer: ProposerArg,
    /// At the end, run the root and the best variant on the held-out tasks
    #[arg(long)]
    held_out: bool,
    /// Evolve Nova's own code instead of agent files, in a checkout of Nova: a variant is a
    /// commit (the root: HEAD); a child is the `refactorer`'s change to its parent's code, told
    /// the tasks the parent failed, proved by this repository's own build, tests and lints (and
    /// refused when it touches them), committed with no branch, built (`cargo build --bin
    /// nova`, in the sandbox) and run on the tasks as another build of Nova (`nova bench run
    /// --nova-rev`), while this build judges
    #[arg(long, conflicts_with = "proposer")]
    code: bool,
    #[command(flatten)]
    exchange: super::ask::ExchangeArgs,
    #[command(flatten)]
    validation: ValidationArgs,
}

/// `--proposer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ProposerArg {
    Model,
    Builtin,
}

#[derive(Debug, Subcommand)]
enum EvolveCommand {
    Report(ReportArgs),
}

/// The archive of the last evolve run: every variant with its parent, generation, status,
/// training score and change; `--svg FILE` draws the score per generation and the lineage tree,
/// `--html FILE` the same with a table, in one static page.
#[derive(Debug, Args)]
struct ReportArgs {
    /// Write the drawing to FILE (SVG)
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
    /// Write the drawing and a table to FILE (HTML)
    #[arg(long, value_name = "FILE")]
    html: Option<PathBuf>,
}

pub fn run(cx: &Context<'_>, args: &EvolveArgs) -> Result<Exit, CommandError> {
    match (&args.command, &args.set) {
        (Some(EvolveCommand::Report(report)), _) => self::report(cx, report),
        (None, Some(set)) => evolve(cx, args, set),
        (None, None) => Err(CommandError::usage(anyhow::anyhow!(
            "give a task set: `nova evolve SET` (`nova bench make` writes one)"
        ))),
    }
}

fn evolve(
    cx: &Context<'_>,
    args: &EvolveArgs,
    set: &std::path::Path,
) -> Result<Exit, CommandError> {
    let root = cx.require_repo()?;
    let config = cx.config(Some(&root))?;
    let evaluator = super::bench::pin(cx, &root, set)?;
    let state = root.join(crate::state::STATE_DIR);
    let start = variant::load(&state).map_err(CommandError::environment)?;
    let super::bench::Agents {
        connected,
        validation,
        scratch,
        template,
    } = super::bench::agents_at_work(cx, &root, &config, &args.exchange, &args.validation)?;
    let _lock = cx.lock(&root)?;
    let store = Store::open(&root).map_err(CommandError::environment)?;
    let time = cx.env.source_date_epoch().unwrap_or_else(orchestrator::now);
    let id = format!("evolve-{}", orchestrator::stamp(time));
    let seq = store
        .start_run(&id, "evolve", &evaluator.set_hash, None, time)
        .map_err(CommandError::environment)?;
    let kind = kind(
        cx,
        args,
        (&root, &config),
        start,
        (&connected, &validation, &scratch),
    )?;
    let lineage = kind.lineage(&evaluator.hash);
    let request = EvolveRequest {
        evaluator: &evaluator,
        generations: args.generations,
        seed: args.seed,
        stage: args.stage,
        repeats: args.repeats,
        template,
        validation,
        scratch,
        archive: state.join("evolve").join(&lineage),
        lineage,
        repo_root: root.clone(),
        run: (id.clone(), seq),
        time,
    };
    let p = &cx.printer;
    p.note(&format!(
        "evolve {id}: {} generations on {} (evaluator {})",
        args.generations,
        set.display(),
        &evaluator.hash[..12]
    ));
    let mut progress = |step: EvolveProgress<'_>| tell(p, &step);
    let evolved = generation::evolve(
        &request,
        kind.as_ref(),
        &connected.client,
        &store,
        &mut progress,
    );
    let held = match (&evolved, args.held_out) {
        (Ok(_), true) => Some(generation::held_out(
            &request,
            kind.as_ref(),
            &connected.client,
            &store,
            &mut progress,
        )),
        _ => None,
    };
    let status = if evolved.is_ok() {
        "finished"
    } else {
        "failed"
    };
    // nova:allow(ignored-result): the archive is kept variant by variant; this is for `nova runs`
    let _ = store.finish_run(seq, status, status, orchestrator::now());
    let archive = evolved.map_err(CommandError::environment)?;
    let held = held.transpose().map_err(CommandError::environment)?;
    print_archive(cx, &archive, held.as_deref())?;
    Ok(Exit::Success)
}

/// What the variants are made of: agent files over the repository's (`start`), or with
/// `--code` commits of the repository's own code, each run as another build of Nova.
fn kind(
    cx: &Context<'_>,
    args: &EvolveArgs,
    (root, config): (&std::path::Path, &crate::config::Config),
    start: crate::evolve::variant::Files,
    work: (
        &super::ask::Connected,
        &crate::validate::Options,
        &std::path::Path,
    ),
) -> Result<Box<dyn Kind>, CommandError> {
    Ok(if args.code {
        let head = crate::git::head_commit(root).map_err(CommandError::environment)?;
        let build = super::bench::build_worker(
            cx,
            config,
            std::path::Path::new("nova"),
            work,
            &args.exchange,
        );
        cx.printer.note(&format!(
            "evolve: each variant is a commit of this repository's code, built with `cargo build \
             --bin nova` in the sandbox and run there on the tasks: it writes only the scratch \
             repository, and connects only to {}",
            build.build.reach()
        ));
        Box::new(Code {
            root: head,
            build,
            agent: String::from("refactorer"),
        })
    } else {
        Box::new(AgentFiles {
            root: start,
            proposer: match args.proposer {
                ProposerArg::Model => Proposer::Model,
                ProposerArg::Builtin => Proposer::Builtin,
            },
        })
    })
}

/// One step of `evolve`, on stderr.
fn tell(p: &super::Printer, step: &EvolveProgress<'_>) {
    match step {
        EvolveProgress::Evaluating {
            variant,
            repeat,
            tasks,
            done,
        } if done < tasks => p.note(&format!(
            "{variant}: {} of {tasks} tasks to run{} ({done} already judged)",
            tasks - done,
            if *repeat > 0 {
                format!(" again (run {})", repeat + 1)
            } else {
                String::new()
            }
        )),
        EvolveProgress::Evaluating { .. } => {}
        EvolveProgress::Task(RunProgress::Finished { result, .. }) => p.info(&format!(
            "  {}: {}",
            result.task,
            if result.score.solved {
                "solved"
            } else {
                "not solved"
            }
        )),
        EvolveProgress::Task(RunProgress::Started { .. }) => {}
        EvolveProgress::Proposed {
            variant,
            parent,
            change,
        } => {
            p.note(&format!("{variant} from {parent}: {change}"));
        }
        EvolveProgress::Refused { variant, reasons } => {
            p.note(&format!("{variant} refused: {}", reasons.join("; ")))
        }
        EvolveProgress::Stopped { variant } => p.note(&format!(
            "{variant}: worse than its parent on the first tasks; the rest not run"
        )),
        EvolveProgress::Decided { variant, decision } => p.note(&format!(
            "{variant}: {} ({} better, {} worse of {} tasks; gain {:+.2}, lower bound {:+.2})",
            if decision.accepted {
                "accepted"
            } else {
                "rejected"
            },
            decision.wins,
            decision.losses,
            decision.tasks,
            decision.gain,
            decision.lower
        )),
        EvolveProgress::Exhausted => p.note("the proposer has nothing left to change"),
        EvolveProgress::Fallback => {
            p.note("the evolver proposed nothing new: the builtin proposer changes the parent");
        }
    }
}

fn print_archive(
    cx: &Context<'_>,
    archive: &[VariantRow],
    held: Option<&[(String, usize, usize)]>,
) -> Result<(), CommandError> {
    let p = &cx.printer;
    if p.json() {
        let held: Option<Vec<_>> = held.map(|held| {
            held.iter()
                .map(|(id, solved, of)| json!({"variant": id, "solved": solved, "tasks": of}))
                .collect()
        });
        p.json_value(&json!({ "variants": archive, "held_out": held }))?;
        return Ok(());
    }
    for row in archive {
        let status = match row.status.as_str() {
            "accepted" | "root" => p.paint(GREEN, &row.status),
            "refused" => p.paint(RED, &row.status),
            other => other.to_owned(),
        };
        p.line(&format!(
            "  {:<4} {:<4} {status:<10} {} on {} tasks  {}",
            row.id,
            row.parent.as_deref().unwrap_or("-"),
            row.score
                .map_or_else(|| String::from("  - "), |s| format!("{s:.2}")),
            row.tasks,
            row.change
        ))?;
    }
    if let Some(held) = held {
        for (id, solved, of) in held {
            p.line(&format!(
                "{} {id} solved {solved} of {of}",
                p.paint(BOLD, "Held out:")
            ))?;
        }
    }
    Ok(())
}

fn report(cx: &Context<'_>, args: &ReportArgs) -> Result<Exit, CommandError> {
    let root = cx.require_repo()?;
    let store = Store::open_existing(&root).map_err(CommandError::environment)?;
    let evaluators = match &store {
        Some(store) => store
            .evolve_evaluators()
            .map_err(CommandError::environment)?,
        None => Vec::new(),
    };
    let (Some(store), Some(evaluator)) = (store, evaluators.first()) else {
        return Err(CommandError::usage(anyhow::anyhow!(
            "no evolve runs yet: run `nova evolve SET` first"
        )));
    };
    let archive = store
        .variants(evaluator)
        .map_err(CommandError::environment)?;
    let write = |path: &PathBuf, text: String| {
        let path = cx.absolute(path);
        std::fs::write(&path, text).map_err(|error| {
            CommandError::environment(anyhow::anyhow!(
                "cannot write `{}`: {error}",
                path.display()
            ))
        })
    };
    if let Some(path) = &args.svg {
        write(path, crate::evolve::report::svg(&archive))?;
    }
    if let Some(path) = &args.html {
        write(path, crate::evolve::report::html(&archive))?;
    }
    print_archive(cx, &archive, None)?;
    Ok(Exit::Success)
}
