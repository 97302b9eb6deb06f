//! Benchmark of `nova review`'s rule packs over a whole tree: cold (no findings cache), a first
//! run (no cache at all: the index that ranks findings is built too), warm (nothing changed), one
//! file changed; and `ast-grep scan` with equivalent rules on the same tree and as many threads,
//! next to Nova with the same rules.
//!
//! Run on all cores and on one, after building (`ast-grep` on the PATH, e.g. `pip install
//! ast-grep-cli`; without it that row says so):
//!
//! ```sh
//! cargo bench --bench review --no-run && cargo bench --bench review
//! taskset -c 0 cargo bench --bench review
//! cargo bench --bench review -- compare     # only Nova against `ast-grep`, same rules
//! cargo bench --bench review -- 150k        # cold and warm on a ~150,000-line part of it
//! ```
//!
//! The corpus is the index benchmark's (`benches/common/corpus.rs`), in `target/bench-corpus/`.
//! The equivalent rules are in `benches/ast-grep/`. Results go in BENCHMARKS.md.

#![expect(
    clippy::print_stdout,
    reason = "a benchmark reports its results on stdout"
)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nova::agents::AgentSet;
use nova::orchestrator::{Review, ReviewRequest};
use nova::rules::RuleSet;

#[path = "common/corpus.rs"]
mod corpus;

/// The built-in rules `benches/ast-grep/rules/` has an equivalent of.
const WITH_AST_GREP: &[&str] = &[
    "dbg-macro",
    "todo-macro",
    "unimplemented-macro",
    "panic-in-lib",
    "unreachable-in-lib",
    "print-in-lib",
    "eprint-in-lib",
    "unwrap-in-lib",
    "expect-in-lib",
    "process-exit-in-lib",
    "mem-forget",
    "transmute",
    "map-unwrap-or",
    "lock-unwrap",
    "todo-comment",
];

const RUNS: usize = 3;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let corpus = root.join("target/bench-corpus");
    let (crates, lines) = corpus::make_corpus(&root, &corpus);
    println!(
        "corpus: {} packages, {lines} lines of Rust, in {}",
        crates.len() + 1,
        corpus.display()
    );
    let set = AgentSet::builtin();
    // `cargo bench --bench review -- compare`: only the rows against `ast-grep`.
    if std::env::args().any(|arg| arg == "compare") {
        compare_with_ast_grep(&root, &corpus, &set);
        return;
    }
    // `cargo bench --bench review -- 150k`: the review target's own size of tree.
    if std::env::args().any(|arg| arg == "150k") {
        let (smaller, lines) = part_of(&corpus, &root.join("target/bench-corpus-150k"), 152_000);
        println!("{lines} lines of Rust, in {}", smaller.display());
        cold_and_warm(&smaller, &set);
        return;
    }
    let request = ReviewRequest {
        repo_root: corpus.clone(),
        disabled: Vec::new(),
        base: None,
    };
    let cache = corpus.join(".nova/review/findings.bin");
    let review = |keep_cache: bool| {
        if !keep_cache {
            let _ = std::fs::remove_file(&cache);
        }
        let started = Instant::now();
        let outcome = Review::start(&request, &set)
            .and_then(Review::finish)
            .expect("the review runs");
        (started.elapsed(), outcome.findings.len(), outcome.files)
    };
    let (_, findings, files) = review(false);
    println!(
        "{files} files, {findings} findings, all {} rules",
        RuleSet::builtin().0.rules.len()
    );
    let cold: Vec<Duration> = (0..RUNS).map(|_| review(false).0).collect();
    let first: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let _ = std::fs::remove_dir_all(corpus.join(".nova"));
            review(false).0
        })
        .collect();
    let warm: Vec<Duration> = (0..RUNS).map(|_| review(true).0).collect();
    let victim = corpus.join("nova/src/lib.rs");
    let original = std::fs::read_to_string(&victim).expect("nova/src/lib.rs in the corpus");
    let one: Vec<Duration> = (0..RUNS)
        .map(|n| {
            std::fs::write(&victim, format!("{original}\n// edit {n}\n")).expect("write");
            review(true).0
        })
        .collect();
    std::fs::write(&victim, &original).expect("restore");

    println!("| measurement | run 1 | run 2 | run 3 |");
    println!("| --- | --- | --- | --- |");
    row("cold, all rules (no findings cache)", &cold);
    row("first run, no cache at all (the index built too)", &first);
    row("warm, nothing changed", &warm);
    row("warm, one file changed", &one);
    row(
        "the floor: tree-sitter parsing every file, one thread, nothing else",
        &parse_only(&corpus),
    );
    compare_with_ast_grep(&root, &corpus, &set);
}

/// A copy of `corpus` of at most `limit` lines: Nova's sources, then each package in name order
/// that still fits. Its path and lines.
fn part_of(corpus: &Path, to: &Path, limit: usize) -> (PathBuf, usize) {
    let _ = std::fs::remove_dir_all(to);
    let mut names: Vec<String> = std::fs::read_dir(corpus)
        .expect("the corpus")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| !name.starts_with('.') && name != "nova")
        .collect();
    names.sort();
    names.insert(0, String::from("nova"));
    let mut lines = 0;
    for name in names {
        let texts = rust_files(&corpus.join(&name));
        let more: usize = texts.iter().map(|(_, text)| text.lines().count()).sum();
        if lines + more > limit {
            continue;
        }
        for (path, text) in texts {
            let target = to.join(path.strip_prefix(corpus).expect("inside the corpus"));
            std::fs::create_dir_all(target.parent().expect("a file's directory")).expect("mkdir");
            std::fs::write(target, text).expect("write");
        }
        lines += more;
    }
    (to.to_owned(), lines)
}

/// Every `.rs` file under `dir`, with its text.
fn rust_files(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                found.push((path, text));
            }
        }
    }
    found
}

/// A whole review of `tree` cold (no findings cache) and warm (nothing changed), `ROUNDS` times
/// each: best and median.
fn cold_and_warm(tree: &Path, set: &AgentSet) {
    const ROUNDS: usize = 9;
    let request = ReviewRequest {
        repo_root: tree.to_owned(),
        disabled: Vec::new(),
        base: None,
    };
    let review = || {
        let started = Instant::now();
        let outcome = Review::start(&request, set)
            .and_then(Review::finish)
            .expect("the review runs");
        (started.elapsed(), outcome.files)
    };
    let cache = tree.join(".nova/review/findings.bin");
    let (_, files) = review();
    let mut cold: Vec<Duration> = (0..ROUNDS)
        .map(|_| {
            let _ = std::fs::remove_file(&cache);
            review().0
        })
        .collect();
    let mut warm: Vec<Duration> = (0..ROUNDS).map(|_| review().0).collect();
    cold.sort();
    warm.sort();
    let ms = |d: Duration| format!("{:.0} ms", d.as_secs_f64() * 1000.0);
    println!("{files} files; best / median of {ROUNDS}");
    println!(
        "| cold, all rules | {} / {} |",
        ms(cold[0]),
        ms(cold[ROUNDS / 2])
    );
    println!(
        "| warm, nothing changed | {} / {} |",
        ms(warm[0]),
        ms(warm[ROUNDS / 2])
    );
}

/// The time to parse every Rust file of the corpus once, on one thread, texts already read: what
/// any tree-sitter tool pays before its first rule.
fn parse_only(corpus: &Path) -> Vec<Duration> {
    let mut texts = Vec::new();
    let mut stack = vec![corpus.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            let hidden = entry.file_name().to_string_lossy().starts_with('.');
            if path.is_dir() && !hidden {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                texts.push(std::fs::read(&path).expect("read"));
            }
        }
    }
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_rust::LANGUAGE.into())
        .expect("the Rust grammar");
    (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            for text in &texts {
                std::hint::black_box(parser.parse(text, None));
            }
            started.elapsed()
        })
        .collect()
}

/// Nova with only the rules ast-grep has equivalents of, against `ast-grep scan` with them: the
/// two in turns (a slow minute of a shared machine falls on both), `ROUNDS` times each.
fn compare_with_ast_grep(root: &Path, corpus: &Path, set: &AgentSet) {
    const ROUNDS: usize = 7;
    let reviewers: Vec<String> = set.agents().map(|a| a.name.clone()).collect();
    let subset = || {
        let (rules, _) = RuleSet::builtin();
        rules.only(WITH_AST_GREP).owned_by(&reviewers)
    };
    let config = root.join("benches/ast-grep/sgconfig.yml");
    // As many threads as Nova's review uses: the cores this process may run on.
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .to_string();
    let (mut nova, mut ast_grep) = (Vec::new(), Vec::new());
    let (mut nova_cpu, mut ast_grep_cpu) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let rules = subset();
        let (started, cpu) = (Instant::now(), cpu_time());
        let (_, found) = nova::orchestrator::scan_tree(corpus, &rules, None, None);
        std::hint::black_box(found);
        nova.push(started.elapsed());
        nova_cpu.push(cpu_time().0 - cpu.0);
        let (started, cpu) = (Instant::now(), cpu_time());
        #[expect(
            clippy::disallowed_methods,
            reason = "the benchmark times another tool's process"
        )]
        let status = std::process::Command::new("ast-grep")
            .args(["scan", "--threads", &threads, "--json=stream", "-c"])
            .arg(&config)
            .arg(corpus)
            .stdout(std::process::Stdio::null())
            .status();
        match status {
            Ok(status) if status.success() || status.code() == Some(1) => {
                ast_grep.push(started.elapsed());
                ast_grep_cpu.push(cpu_time().1 - cpu.1);
            }
            Ok(status) => println!("`ast-grep scan` failed: {status}"),
            Err(error) => {
                println!("`ast-grep` is not installed ({error}): `pip install ast-grep-cli`");
            }
        }
    }
    println!("| {ROUNDS} rounds, in turns | best | median | CPU time, best | CPU time, median |");
    println!("| --- | --- | --- | --- | --- |");
    summary(
        &format!(
            "Nova, the {} rules ast-grep has too, cold",
            WITH_AST_GREP.len()
        ),
        &mut nova,
        &mut nova_cpu,
    );
    summary(
        &format!("`ast-grep scan --threads {threads}`, the same rules"),
        &mut ast_grep,
        &mut ast_grep_cpu,
    );
}

/// A row of the best and the median of `times`, then of `cpu`.
fn summary(what: &str, times: &mut [Duration], cpu: &mut [Duration]) {
    let ms = |t: Option<&Duration>| {
        t.map_or(String::from("-"), |t| {
            format!("{:.0} ms", t.as_secs_f64() * 1000.0)
        })
    };
    let mut cells = Vec::new();
    for list in [times, cpu] {
        list.sort();
        cells.push(ms(list.first()));
        cells.push(ms(list.get(list.len() / 2)));
    }
    println!("| {what} | {} |", cells.join(" | "));
}

/// The processor time (user and system) of this process's threads, and of its children that
/// were waited for, from `/proc/self/stat` (in clock ticks of 10 ms): on a shared machine it
/// moves less than the time on the clock when another tenant takes the cores.
fn cpu_time() -> (Duration, Duration) {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command's name, which is in parentheses and may hold spaces.
    let fields: Vec<u64> = stat
        .rsplit_once(')')
        .map(|(_, rest)| {
            rest.split_whitespace()
                .map(|f| f.parse().unwrap_or(0))
                .collect()
        })
        .unwrap_or_default();
    // utime, stime, cutime, cstime are fields 14 to 17, the 12th to 15th after the name.
    let tick = |n: usize| Duration::from_millis(fields.get(n).copied().unwrap_or(0) * 10);
    (tick(11) + tick(12), tick(13) + tick(14))
}

fn row(what: &str, times: &[Duration]) {
    let cells: Vec<String> = times
        .iter()
        .map(|t| format!("{:.0} ms", t.as_secs_f64() * 1000.0))
        .collect();
    println!("| {what} | {} |", cells.join(" | "));
}
