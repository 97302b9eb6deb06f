//! Benchmark of the repository index: cold build, warm refresh, refresh after one edit, peak
//! memory, and universal-ctags on the same corpus for comparison.
//!
//! Run on one core, after building:
//!
//! ```sh
//! cargo bench --bench index --no-run && taskset -c 0 cargo bench --bench index
//! ```
//!
//! The corpus is made in `target/bench-corpus/`: the `.rs` files of the packages in Nova's
//! `Cargo.lock`, as unpacked in the cargo registry, taken in name order until there are at least
//! 150,000 lines, plus Nova's own `src/`. Results go in BENCHMARKS.md.

#![expect(
    clippy::print_stdout,
    reason = "a benchmark reports its results on stdout"
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nova::index::{Focus, Index, count_tokens};

const MIN_LINES: usize = 150_000;
const BUDGET: usize = 4096;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let corpus = root.join("target/bench-corpus");
    let (crates, lines) = make_corpus(&root, &corpus);
    println!(
        "corpus: {} packages, {lines} lines of Rust, in {}",
        crates.len(),
        corpus.display()
    );

    let started = Instant::now();
    count_tokens("warm up");
    let tokenizer = started.elapsed();

    let cache = corpus.join(".nova/index/tags.bin");
    let _ = std::fs::remove_file(&cache);
    let started = Instant::now();
    let index = Index::build_with_cache(&corpus, Some(&cache));
    let map = index.map(&Focus::default(), BUDGET);
    let cold = started.elapsed();
    let stats = index.stats().clone();
    drop(index);

    let warm = median(5, || {
        let index = Index::build_with_cache(&corpus, Some(&cache));
        let map = index.map(&Focus::default(), BUDGET);
        assert!(map.tokens <= BUDGET);
    });

    // A new request each time: the map cache cannot answer, so this ranks and fits.
    let focuses = [
        "nova/src/lib.rs",
        "Index",
        "RepoMap",
        "nova/src/index/mod.rs",
        "Finding",
    ];
    let mut next = 0;
    let new_focus = median(5, || {
        let focus = Focus::from_words(&[focuses[next % focuses.len()].to_owned()]);
        next += 1;
        let index = Index::build_with_cache(&corpus, Some(&cache));
        let map = index.map(&focus, BUDGET);
        assert!(map.tokens <= BUDGET);
    });

    let victim = corpus.join("nova/src/lib.rs");
    let original = std::fs::read_to_string(&victim).expect("nova/src/lib.rs in the corpus");
    let mut round = 0;
    let edited = median(5, || {
        round += 1;
        std::fs::write(&victim, format!("{original}\n// edit {round}\n")).expect("edit");
        let index = Index::build_with_cache(&corpus, Some(&cache));
        assert_eq!(index.stats().parsed, 1);
        let _ = index.map(&Focus::default(), BUDGET);
    });
    std::fs::write(&victim, &original).expect("restore");

    let peak = peak_memory_kib();
    let ctags = time_ctags(&corpus);

    println!();
    println!("| measure | result |");
    println!("| --- | --- |");
    println!(
        "| files / lines / definitions | {} / {} / {} |",
        stats.files, stats.lines, stats.definitions
    );
    println!("| tokenizer load (once per process) | {} |", ms(tokenizer));
    println!(
        "| cold: walk, read, parse, tags, rank, {BUDGET}-token map | {} |",
        ms(cold)
    );
    for (phase, seconds) in &stats.phases {
        println!(
            "| &nbsp;&nbsp;of which {phase} | {:.1} ms |",
            seconds * 1000.0
        );
    }
    println!(
        "| map: {} tokens, {} definitions from {} files | |",
        map.tokens, map.shown, map.files
    );
    println!(
        "| warm, nothing changed, same request (median of 5) | {} |",
        ms(warm)
    );
    println!(
        "| warm, nothing changed, a new focus (median of 5) | {} |",
        ms(new_focus)
    );
    println!("| one file changed (median of 5) | {} |", ms(edited));
    println!(
        "| peak memory (VmHWM, whole process) | {:.1} MB |",
        peak as f64 / 1024.0
    );
    match ctags {
        Some(ctags) => {
            println!("| `ctags -R` on the same corpus | {} |", ms(ctags));
            println!(
                "| ctags time / cold index time | {:.1}x |",
                ctags.as_secs_f64() / cold.as_secs_f64()
            );
        }
        None => println!("| `ctags -R` | not installed (`apt-get install universal-ctags`) |"),
    }
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let started = Instant::now();
            f();
            started.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

fn peak_memory_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

#[expect(
    clippy::disallowed_methods,
    reason = "the benchmark times ctags as a reference"
)]
fn time_ctags(corpus: &Path) -> Option<Duration> {
    let started = Instant::now();
    let status = std::process::Command::new("ctags")
        .args(["-R", "-f", "/dev/null", "--languages=Rust"])
        .arg(corpus)
        .status()
        .ok()?;
    status.success().then(|| started.elapsed())
}

/// Copies `.rs` files of locked packages from the registry until there are `MIN_LINES` lines.
#[expect(
    clippy::disallowed_methods,
    reason = "the benchmark finds the cargo registry"
)]
fn make_corpus(root: &Path, corpus: &Path) -> (Vec<String>, usize) {
    let home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo")
        });
    let lock = std::fs::read_to_string(root.join("Cargo.lock")).expect("Cargo.lock");
    let mut packages = Vec::new();
    let mut name = None;
    for line in lock.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = Some(n.trim_matches('"').to_owned());
        } else if let (Some(v), Some(n)) = (line.strip_prefix("version = "), name.take()) {
            packages.push(format!("{n}-{}", v.trim_matches('"')));
        }
    }
    packages.sort();
    let registries: Vec<PathBuf> = std::fs::read_dir(home.join("registry/src"))
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    let _ = std::fs::remove_dir_all(corpus);
    let mut lines = 0;
    let mut used = Vec::new();
    for package in packages {
        if lines >= MIN_LINES {
            break;
        }
        let Some(source) = registries
            .iter()
            .map(|r| r.join(&package))
            .find(|p| p.is_dir())
        else {
            continue;
        };
        lines += copy_rust(&source, &corpus.join(&package));
        used.push(package);
    }
    lines += copy_rust(&root.join("src"), &corpus.join("nova/src"));
    (used, lines)
}

fn copy_rust(from: &Path, to: &Path) -> usize {
    let mut lines = 0;
    let mut stack = vec![(from.to_owned(), to.to_owned())];
    let mut by_dir: BTreeMap<PathBuf, PathBuf> = BTreeMap::new();
    while let Some((dir, target)) = stack.pop() {
        by_dir.insert(dir.clone(), target.clone());
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                stack.push((path, target.join(entry.file_name())));
            } else if kind.is_file() && path.extension().is_some_and(|e| e == "rs") {
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                let _ = std::fs::create_dir_all(&target);
                if std::fs::write(target.join(entry.file_name()), &text).is_ok() {
                    lines += text.lines().count();
                }
            }
        }
    }
    lines
}
