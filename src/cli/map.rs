//! `nova map`: the repository map agents see.

use clap::Args;
use serde::Serialize;

use super::output::{BOLD, DIM};
use super::{CommandError, Context, Exit};
use std::io::{IsTerminal, Read};

use crate::index::{Focus, Index, RepoMap, Stats, Why};

/// Print the repository map: the highest-ranked definitions, per file, fitted to a token budget.
///
/// Files come from a gitignore-aware walk (Rust, Python, JavaScript, TypeScript, TSX, Go); tags are
/// cached in `.nova/index/`, so only changed files are parsed again. Tokens are counted with the
/// `o200k_base` tokenizer.
#[derive(Debug, Args)]
pub struct MapArgs {
    /// The token budget; the map never exceeds it
    #[arg(long, value_name = "N", default_value_t = 4096)]
    tokens: usize,
    /// Rank what matters to this: a path (`src/lib.rs`) or a symbol name (`Config`); repeatable
    #[arg(long, value_name = "PATH|SYMBOL")]
    focus: Vec<String>,
    /// Rank for a task in plain words (`-` reads it from stdin): its words against the code's
    /// names and paths, the names and paths it mentions, the directory a `crate:` prefix names
    #[arg(long, value_name = "TEXT")]
    task: Option<String>,
    /// After the map, say why each file is in it
    #[arg(long)]
    explain: bool,
    /// Print what was indexed, what was skipped and why, and the time of each phase
    #[arg(long)]
    stats: bool,
}

#[derive(Serialize)]
struct MapJson<'a> {
    map: &'a RepoMap,
    stats: &'a Stats,
    #[serde(skip_serializing_if = "Option::is_none")]
    focus: Option<FocusJson<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    explain: Option<&'a [Why]>,
}

/// What Nova took from `--task` and `--focus`.
#[derive(Serialize)]
struct FocusJson<'a> {
    paths: &'a [String],
    names: &'a [String],
    terms: &'a [String],
    scopes: &'a [String],
}

pub fn run(cx: &Context<'_>, args: &MapArgs) -> Result<Exit, CommandError> {
    let root = cx.require_repo()?;
    if args.tokens == 0 {
        return Err(CommandError::usage(anyhow::anyhow!(
            "`--tokens` must be at least 1"
        )));
    }
    let focus = focus(args)?;
    let index = Index::build(&root);
    let started = std::time::Instant::now();
    let map = index.map(&focus, args.tokens);
    let map_seconds = started.elapsed().as_secs_f64();
    let explained = args.explain.then(|| index.explain(&focus, &map));
    let mut stats = index.stats().clone();
    stats.phases.push((
        String::from("rank and map"),
        (map_seconds * 10_000.0).round() / 10_000.0,
    ));
    let p = &cx.printer;
    if p.json() {
        let given = args.task.is_some() || !args.focus.is_empty();
        p.json_value(&MapJson {
            map: &map,
            stats: &stats,
            focus: given.then_some(FocusJson {
                paths: &focus.paths,
                names: &focus.names,
                terms: &focus.terms,
                scopes: &focus.scopes,
            }),
            explain: explained.as_deref(),
        })?;
        return Ok(Exit::Success);
    }
    if args.stats {
        print_stats(cx, &stats, &map)?;
        return Ok(Exit::Success);
    }
    if let Some(note) = &stats.cache_note {
        p.warn(note);
    }
    p.raw(map.text.as_bytes())?;
    if let Some(explained) = &explained {
        print_explained(cx, &focus, explained)?;
    }
    p.note(&p.paint_err(
        DIM,
        &format!(
            "{} of {} tokens ({}), {} definitions in {} files",
            map.tokens, map.budget, map.tokenizer, map.shown, map.files
        ),
    ));
    Ok(Exit::Success)
}

/// The focus of `--task` (read from stdin for `-`) and `--focus` together.
fn focus(args: &MapArgs) -> Result<Focus, CommandError> {
    let mut focus = match args.task.as_deref() {
        None => Focus::default(),
        Some("-") => {
            let mut stdin = std::io::stdin();
            if stdin.is_terminal() {
                return Err(CommandError::usage(anyhow::anyhow!(
                    "`--task -` reads the task from standard input: pipe it in \
                     (`git log -1 --format=%B | nova map --task -`)"
                )));
            }
            let mut text = String::new();
            stdin.read_to_string(&mut text).map_err(|error| {
                CommandError::usage(anyhow::anyhow!(
                    "cannot read the task from standard input: {error}"
                ))
            })?;
            Focus::from_task(&text)
        }
        Some(text) => Focus::from_task(text),
    };
    if args.task.is_some() && focus.terms.is_empty() && focus.names.is_empty() {
        return Err(CommandError::usage(anyhow::anyhow!(
            "the task has no words to rank by: say what it is about, \
             e.g. `--task \"make the walker skip hidden directories\"`"
        )));
    }
    focus.add(Focus::from_words(&args.focus));
    Ok(focus)
}

/// Why each file is in the map: what of the task it has, or its place in the graph.
fn print_explained(cx: &Context<'_>, focus: &Focus, explained: &[Why]) -> Result<(), CommandError> {
    let p = &cx.printer;
    p.line("")?;
    p.line(&p.paint(BOLD, "Why these files"))?;
    if !focus.terms.is_empty() {
        p.line(&format!("  task terms: {}", focus.terms.join(" ")))?;
    }
    for why in explained {
        let mut reasons = Vec::new();
        if why.in_scope {
            reasons.push(format!(
                "in `{}`, which the task's prefix names",
                focus.scopes.join("`, `")
            ));
        }
        if why.named {
            reasons.push(String::from("the task names it"));
        }
        if !why.mentions.is_empty() {
            reasons.push(format!("defines {}", quoted(&why.mentions)));
        }
        if !why.path_terms.is_empty() {
            reasons.push(format!("its path has {}", why.path_terms.join(", ")));
        }
        if !why.defs.is_empty() {
            let defs: Vec<String> = why
                .defs
                .iter()
                .map(|(name, terms)| format!("`{name}` ({})", terms.join(", ")))
                .collect();
            reasons.push(format!("names with the task's words: {}", defs.join(", ")));
        }
        if reasons.is_empty() {
            reasons.push(String::from(
                "nothing of the task: used by the files the task is about, or central to the repository",
            ));
        }
        p.line(&format!(
            "{}  {} shown, rank {:.4}: {}",
            p.paint(BOLD, &why.path),
            why.shown,
            why.rank,
            reasons.join("; ")
        ))?;
    }
    Ok(())
}

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn print_stats(cx: &Context<'_>, stats: &Stats, map: &RepoMap) -> Result<(), CommandError> {
    let p = &cx.printer;
    let rows = [
        ("files", stats.files.to_string()),
        ("lines", stats.lines.to_string()),
        ("definitions", stats.definitions.to_string()),
        ("parsed", stats.parsed.to_string()),
        ("from cache", stats.cached.to_string()),
        ("with syntax errors", stats.with_errors.to_string()),
        (
            "map",
            format!(
                "{} of {} tokens ({}), {} definitions",
                map.tokens, map.budget, map.tokenizer, map.shown
            ),
        ),
    ];
    for (key, value) in rows {
        p.line(&format!("{}  {value}", p.paint(BOLD, &format!("{key:18}"))))?;
    }
    let skipped: usize = stats.skipped.values().sum();
    p.line(&format!(
        "{}  {skipped}",
        p.paint(BOLD, &format!("{:18}", "skipped"))
    ))?;
    for (reason, count) in &stats.skipped {
        p.line(&format!("  {reason:20}{count}"))?;
    }
    p.line(&p.paint(BOLD, "time"))?;
    for (phase, seconds) in &stats.phases {
        p.line(&format!("  {phase:20}{:.1} ms", seconds * 1000.0))?;
    }
    if let Some(note) = &stats.cache_note {
        p.line(&format!("cache: {note}"))?;
    }
    Ok(())
}
