//! Validation gives no wrong verdict: fifty seeded candidates on one fixture crate, half breaking a
//! test and half not, some touching the build script, some panicking, validated one after the
//! other in one persistent worktree, each verdict compared with a clean `cargo test` of the same
//! candidate in a fresh copy with a fresh target dir.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use nova::edit::RepoPath;
use nova::edit::{FileChange, Patch};
use nova::validate::{Workspace, judge};
use nova_sandbox::Limits;

use crate::common::{Rng, TestEnv, head_of, toolchain_env, validation_options};

const FUNCTIONS: usize = 10;
const SCALE: i64 = 3;

fn manifest() -> &'static str {
    "[package]\nname = \"seeded\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"
}

fn build_script(body: &str) -> String {
    format!("fn main() {{\n{body}\n}}\n")
}

fn base_build() -> String {
    build_script(&format!(
        "    println!(\"cargo:rustc-env=FIXTURE_SCALE={SCALE}\");"
    ))
}

/// `f{k}(x) = x * (k + 2) + scale()`, each with a test; `bodies[k]` replaces a body.
fn lib(bodies: &[(usize, String)], extra: &str) -> String {
    let mut text = String::from(
        "pub fn scale() -> i64 {\n    env!(\"FIXTURE_SCALE\").parse().expect(\"a number\")\n}\n\n",
    );
    for k in 0..FUNCTIONS {
        let body = bodies.iter().find(|(index, _)| *index == k).map_or_else(
            || format!("x * {} + scale()", k + 2),
            |(_, body)| body.clone(),
        );
        text.push_str(&format!(
            "pub fn f{k}(x: i64) -> i64 {{\n    {body}\n}}\n\n"
        ));
    }
    text.push_str(extra);
    text.push_str("#[cfg(test)]\nmod tests {\n    use super::*;\n");
    for k in 0..FUNCTIONS {
        text.push_str(&format!(
            "\n    #[test]\n    fn f{k}_of_two() {{\n        assert_eq!(f{k}(2), {});\n    }}\n",
            2 * (k as i64 + 2) + SCALE
        ));
    }
    text.push_str("}\n");
    text
}

/// A candidate: new `src/lib.rs` and `build.rs`, and whether it is meant to break a test.
#[derive(Debug, Clone)]
struct Candidate {
    name: String,
    lib: String,
    build: String,
    breaks: bool,
    panics: bool,
}

fn candidates(rng: &mut Rng) -> Vec<Candidate> {
    let base_lib = lib(&[], "");
    let mut all = Vec::new();
    for i in 0..25 {
        let k = rng.below(FUNCTIONS);
        let (name, lib_text, build, panics) = match i % 5 {
            // A wrong factor: f{k}'s test fails.
            0 | 1 => (
                format!("break f{k}"),
                lib(&[(k, format!("x * {} + scale()", k + 3))], ""),
                base_build(),
                false,
            ),
            // The build script sets another scale: every test fails.
            2 => (
                String::from("break the build script"),
                base_lib.clone(),
                build_script(&format!(
                    "    println!(\"cargo:rustc-env=FIXTURE_SCALE={}\");",
                    SCALE + 1 + rng.below(5) as i64
                )),
                false,
            ),
            // A panic inside the function under test.
            _ => (
                format!("panic in f{k}"),
                lib(
                    &[(
                        k,
                        format!(
                            "assert!(x < 0, \"candidate panics\");\n    x * {} + scale()",
                            k + 2
                        ),
                    )],
                    "",
                ),
                base_build(),
                true,
            ),
        };
        all.push(Candidate {
            name: format!("{i}: {name}"),
            lib: lib_text,
            build,
            breaks: true,
            panics,
        });
    }
    for i in 25..50 {
        let k = rng.below(FUNCTIONS);
        let (name, lib_text, build) = match i % 3 {
            // The same function, written another way.
            0 => (
                format!("rewrite f{k}"),
                lib(&[(k, format!("scale() + {} * x", k + 2))], ""),
                base_build(),
            ),
            // The build script, written another way, sets the same scale.
            1 => (
                String::from("rewrite the build script"),
                base_lib.clone(),
                build_script(&format!(
                    "    let scale = {};\n    println!(\"cargo:rustc-env=FIXTURE_SCALE={{scale}}\");",
                    SCALE
                )),
            ),
            // A new function nobody tests.
            _ => (
                format!("add extra_{i}"),
                lib(
                    &[],
                    &format!("pub fn extra_{i}() -> i64 {{\n    {i}\n}}\n\n"),
                ),
                base_build(),
            ),
        };
        all.push(Candidate {
            name: format!("{i}: {name}"),
            lib: lib_text,
            build,
            breaks: false,
            panics: false,
        });
    }
    // Shuffle (Fisher-Yates), then make sure a panicking candidate comes right before a clean one.
    for i in (1..all.len()).rev() {
        let j = rng.below(i + 1);
        all.swap(i, j);
    }
    let panic_at = all
        .iter()
        .position(|c| c.panics)
        .expect("a panicking candidate");
    let clean_at = all
        .iter()
        .position(|c| !c.breaks)
        .expect("a clean candidate");
    if panic_at + 1 < all.len() {
        all.swap(panic_at + 1, clean_at);
    } else {
        all.swap(panic_at, 0);
        let clean_at = all.iter().position(|c| !c.breaks).expect("clean");
        all.swap(1, clean_at);
    }
    all
}

/// Whether a clean `cargo test` of the candidate passes, in a fresh copy with a fresh target dir,
/// and what it printed.
#[expect(
    clippy::disallowed_methods,
    reason = "the ground truth is cargo itself, outside Nova"
)]
fn clean_cargo_test(dir: &Path, candidate: &Candidate) -> (bool, String) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir.join("src")).expect("mkdir");
    std::fs::write(dir.join("Cargo.toml"), manifest()).expect("manifest");
    std::fs::write(dir.join("build.rs"), &candidate.build).expect("build.rs");
    std::fs::write(dir.join("src/lib.rs"), &candidate.lib).expect("lib");
    let output = Command::new("cargo")
        .args(["test", "--offline", "--quiet"])
        .current_dir(dir)
        .env_clear()
        .envs(toolchain_env())
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .output()
        .expect("cargo test");
    let printed = String::from_utf8_lossy(&output.stderr).into_owned()
        + &String::from_utf8_lossy(&output.stdout);
    (output.status.success(), printed)
}

#[test]
fn fifty_seeded_candidates_get_no_wrong_verdict() {
    let env = TestEnv::new();
    let base_lib = lib(&[], "");
    let base_build = base_build();
    let repo = env.repo_with(
        "seeded",
        &[
            ("Cargo.toml", manifest()),
            ("build.rs", base_build.as_str()),
            ("src/lib.rs", base_lib.as_str()),
        ],
    );
    let head = head_of(&repo);
    let options = validation_options(&env, Duration::from_secs(300), Limits::default());
    let mut workspace = Workspace::open(&repo, head, options).expect("workspace");
    let (base, _) = workspace.validate_with_diagnostics().expect("base");
    assert!(base.is_green(), "{base:?}");

    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let all = candidates(&mut rng);
    assert_eq!(all.len(), 50);
    assert_eq!(all.iter().filter(|c| c.breaks).count(), 25);

    let mut wrong = Vec::new();
    let fresh = env.root().join("fresh");
    for candidate in &all {
        let patch = Patch {
            summary: candidate.name.clone(),
            changes: vec![
                FileChange::modify(
                    RepoPath::new("build.rs").expect("path"),
                    base_build.clone(),
                    candidate.build.clone(),
                ),
                FileChange::modify(
                    RepoPath::new("src/lib.rs").expect("path"),
                    base_lib.clone(),
                    candidate.lib.clone(),
                ),
            ],
        };
        workspace.apply(&patch).expect("apply");
        let (report, _) = workspace.validate_with_diagnostics().expect("validate");
        let verdict = judge(&base, &report);
        workspace.checkout(head).expect("restore");
        // A failing test's report says what it printed.
        if let Some(failed) = report.tests.failed().next() {
            let output = report.tests.output.get(failed).map_or("", String::as_str);
            assert!(
                output.contains("panicked"),
                "{}: {output:?}",
                candidate.name
            );
        }

        let (truth, printed) = clean_cargo_test(&fresh, candidate);
        assert_eq!(
            truth, !candidate.breaks,
            "the fixture itself: {}\n{printed}",
            candidate.name
        );
        if verdict.accepted != truth {
            wrong.push(format!(
                "{}: accepted {}, clean cargo test {}: {:?}",
                candidate.name, verdict.accepted, truth, verdict.reasons
            ));
        }
    }
    assert!(wrong.is_empty(), "wrong verdicts:\n{}", wrong.join("\n"));
}
