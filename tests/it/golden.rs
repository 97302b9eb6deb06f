//! The branches `nova improve` and `nova apply` make, byte for byte: trees, messages, authors and
//! times, compared with snapshots taken before the change path was redesigned. A refactoring of
//! the pipeline that changes what lands on a branch fails here.

use std::fmt::Write as _;
use std::path::Path;

use crate::common::{TestEnv, branch_log};

/// Fixed so that run ids, branch names and commit times are the same on every run.
const EPOCH: &str = "1767225600";

const MANIFEST: &str =
    "[package]\nname = \"golden\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n";

/// Fixable compiler and clippy warnings, one fix a test refuses, and a file rustfmt rewrites.
const LIB: &str = r#"use std::collections::HashMap;

pub mod shape;

pub fn add(a: i32, b: i32) -> i32 {
    return a + b;
}

pub fn none_left(items: &Vec<i32>) -> bool {
    items.len() == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds() {
        assert_eq!(add(2, 3), 5);
    }

    #[test]
    fn empty() {
        assert!(none_left(&vec![]));
    }
}
"#;

const SHAPE: &str = "pub fn  area(w:i32,h:i32)->i32{ w*h }\n";

/// Insists on the very `return` clippy wants removed: that candidate is rejected.
const PINNED: &str = r#"#[test]
fn keeps_its_explicit_return() {
    let source = include_str!("../src/lib.rs");
    assert!(source.contains("return a + b;"));
}
"#;

/// Every commit on `branch` after `HEAD`, oldest first: tree, author, time and message, with the
/// one line that describes this machine's sandbox left out.
fn branch_bytes(repo: &Path, branch: &str) -> String {
    let git = git2::Repository::open(repo).expect("open");
    let mut out = String::new();
    for oid in branch_log(repo, branch) {
        let commit = git.find_commit(oid).expect("commit");
        let author = commit.author();
        let message: Vec<&str> = commit
            .message()
            .expect("utf-8")
            .lines()
            .map(|line| {
                if line.starts_with("Nova-Sandbox: ") {
                    "Nova-Sandbox: [this machine's]"
                } else {
                    line
                }
            })
            .collect();
        writeln!(
            out,
            "tree {}\nauthor {} <{}> {}\n{}\n",
            commit.tree_id(),
            author.name().unwrap_or_default(),
            author.email().unwrap_or_default(),
            author.when().seconds(),
            message.join("\n")
        )
        .expect("write");
    }
    out
}

#[test]
fn improve_makes_the_same_branch_as_before() {
    let mut env = TestEnv::new();
    env.set_var("SOURCE_DATE_EPOCH", EPOCH);
    let repo = env.repo_with(
        "golden",
        &[
            ("Cargo.toml", MANIFEST),
            ("src/lib.rs", LIB),
            ("src/shape.rs", SHAPE),
            ("tests/pinned.rs", PINNED),
        ],
    );
    let run = env.nova_in(&repo, ["improve", "--branch", "golden"]);
    assert_eq!(run.code, 0, "{}", run.both());
    insta::assert_snapshot!(branch_bytes(&repo, "golden"));
}

#[test]
fn improve_in_a_virtual_workspace_makes_the_same_branch_as_before() {
    let mut env = TestEnv::new();
    env.set_var("SOURCE_DATE_EPOCH", EPOCH);
    let member = |name: &str| {
        format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n")
    };
    let (core, cli) = (member("core"), member("cli"));
    let repo = env.repo_with(
        "golden-ws",
        &[
            (
                "Cargo.toml",
                "[workspace]\nmembers = [\"crates/core\", \"crates/cli\"]\nresolver = \"2\"\n",
            ),
            ("crates/core/Cargo.toml", &core),
            (
                "crates/core/src/lib.rs",
                "pub fn one() -> i32 {\n    return 1;\n}\n",
            ),
            ("crates/cli/Cargo.toml", &cli),
            (
                "crates/cli/src/lib.rs",
                "pub fn empty(v: &Vec<u8>) -> bool {\n    v.len() == 0\n}\n",
            ),
        ],
    );
    let run = env.nova_in(&repo, ["improve", "--branch", "golden"]);
    assert_eq!(run.code, 0, "{}", run.both());
    insta::assert_snapshot!(branch_bytes(&repo, "golden"));
}

#[test]
fn apply_makes_the_same_branch_as_before() {
    let mut env = TestEnv::new();
    env.set_var("SOURCE_DATE_EPOCH", EPOCH);
    let lib = "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n";
    let repo = env.repo_with(
        "golden-apply",
        &[("Cargo.toml", MANIFEST), ("src/lib.rs", lib)],
    );
    let reply = env.root().join("reply.md");
    std::fs::write(
        &reply,
        "src/lib.rs\n```rust\n<<<<<<< SEARCH\n    a + b\n=======\n    b + a\n>>>>>>> REPLACE\n```\n\nsrc/more.rs\n```rust\npub fn two() -> i32 {\n    2\n}\n```\n",
    )
    .expect("reply");
    let run = env.nova_in(
        &repo,
        [
            "apply",
            reply.to_str().expect("utf-8"),
            "--branch",
            "golden",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    insta::assert_snapshot!(branch_bytes(&repo, "golden"));
}
