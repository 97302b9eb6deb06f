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

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nova::index::{Focus, Index, count_tokens};

#[path = "common/corpus.rs"]
mod corpus;

use corpus::make_corpus;

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
