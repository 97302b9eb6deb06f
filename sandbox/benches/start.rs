//! Sandbox start overhead: `true` run through `nova_sandbox::run` against a plain spawn of `true`.
//!
//! `cargo bench -p nova-sandbox --bench start --no-run && taskset -c 0 cargo bench -p nova-sandbox --bench start`
//!
//! Both sides capture stdout and stderr through pipes and wait for exit, so the difference is what
//! the sandbox adds: the Landlock ruleset, the namespaces, the supervisor and init, the limits.

#![expect(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nova_sandbox::{Isolation, Spec};

const RUNS: usize = 300;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

fn measure(mut once: impl FnMut()) -> Vec<Duration> {
    for _ in 0..20 {
        once();
    }
    let mut times: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let started = Instant::now();
            once();
            started.elapsed()
        })
        .collect();
    times.sort();
    times
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let cwd = std::env::temp_dir();
    let plain = measure(|| {
        let status = Command::new("/bin/true")
            .current_dir(&cwd)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .output()
            .expect("spawn true");
        assert!(status.status.success());
    });
    let spec = Spec::new("/bin/true", &cwd);
    let sandboxed = measure(|| {
        let outcome = nova_sandbox::run(&spec).expect("sandboxed true");
        assert!(outcome.success());
    });
    let mut unsandboxed_spec = spec.clone();
    unsandboxed_spec.isolation = Isolation::None;
    let through_run = measure(|| {
        let outcome = nova_sandbox::run(&unsandboxed_spec).expect("true");
        assert!(outcome.success());
    });

    println!("sandbox start overhead, {RUNS} runs of `true` each (after 20 warm-up runs)");
    println!("| | median | p95 |");
    println!("| --- | --- | --- |");
    for (name, times) in [
        ("plain spawn (std::process::Command)", &plain),
        ("nova_sandbox::run, Isolation::None", &through_run),
        ("nova_sandbox::run, sandboxed", &sandboxed),
    ] {
        println!(
            "| {name} | {} | {} |",
            ms(percentile(times, 0.5)),
            ms(percentile(times, 0.95))
        );
    }
    let overhead = percentile(&sandboxed, 0.95).saturating_sub(percentile(&plain, 0.95));
    println!(
        "overhead at the 95th percentile: {} (target: at most 15 ms)",
        ms(overhead)
    );
}
