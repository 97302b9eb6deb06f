//! `nova map`: the repository map agents see.

use clap::Args;
use serde::Serialize;

use super::output::{BOLD, DIM};
use super::{CommandError, Context, Exit};
use crate::index::{Focus, Index, RepoMap, Stats};

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
    /// Print what was indexed, what was skipped and why, and the time of each phase
    #[arg(long)]
    stats: bool,
}

#[derive(Serialize)]
struct MapJson<'a> {
    map: &'a RepoMap,
    stats: &'a Stats,
}

pub fn run(cx: &Context<'_>, args: &MapArgs) -> Result<Exit, CommandError> {
    let root = cx.require_repo()?;
    if args.tokens == 0 {
        return Err(CommandError::usage(anyhow::anyhow!(
            "`--tokens` must be at least 1"
        )));
    }
    let index = Index::build(&root);
    let focus = Focus::from_words(&args.focus);
    let started = std::time::Instant::now();
    let map = index.map(&focus, args.tokens);
    let map_seconds = started.elapsed().as_secs_f64();
    let mut stats = index.stats().clone();
    stats.phases.push((
        String::from("rank and map"),
        (map_seconds * 10_000.0).round() / 10_000.0,
    ));
    let p = &cx.printer;
    if p.json() {
        p.json_value(&MapJson {
            map: &map,
            stats: &stats,
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
    p.note(&p.paint_err(
        DIM,
        &format!(
            "{} of {} tokens ({}), {} definitions in {} files",
            map.tokens, map.budget, map.tokenizer, map.shown, map.files
        ),
    ));
    Ok(Exit::Success)
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
