//! The module boundaries ARCHITECTURE.md states, checked on the source: each outside crate (and
//! cargo's JSON messages) is used only by the module that owns it. A new use elsewhere fails here
//! with its file and line; move the code, or go through the owning module.

use std::path::{Path, PathBuf};

/// What may be named only inside which files: a path prefix under `src/`.
const OWNERS: &[(&str, &[&str])] = &[
    ("git2::", &["git/"]),
    ("rusqlite::", &["store/"]),
    // Models over HTTP, and the forge's REST API.
    ("reqwest::", &["llm/transport.rs", "forge.rs"]),
    ("tree_sitter", &["index/", "rules/"]),
    ("tiktoken_rs::", &["index/"]),
    ("ignore::", &["index/walk.rs"]),
    ("postcard::", &["cachefile.rs"]),
    ("similar::", &["edit/"]),
    ("indicatif::", &["cli/"]),
    // The sandbox runs repository code for `validate`; `nova doctor` reports on it directly.
    ("nova_sandbox::", &["validate/", "cli/doctor.rs"]),
    // cargo's JSON messages are read in one place.
    ("\"compiler-message\"", &["validate/"]),
    ("\"compiler-artifact\"", &["validate/"]),
    ("\"build-finished\"", &["validate/"]),
];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            out.push(path);
        }
    }
}

/// `file:line: text` for every use of a name outside the files that own it.
fn violations(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    sources(src, &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let relative = file
            .strip_prefix(src)
            .expect("under src")
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(&file).expect("read");
        for (n, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            for (name, owners) in OWNERS {
                let owned = owners.iter().any(|owner| relative.starts_with(owner));
                if !owned && uses(code, name) {
                    found.push(format!(
                        "src/{relative}:{}: `{name}` in {}",
                        n + 1,
                        line.trim()
                    ));
                }
            }
        }
    }
    found
}

/// Whether `line` names `name` as a path (not as the tail of a longer identifier).
fn uses(line: &str, name: &str) -> bool {
    line.match_indices(name).any(|(at, _)| {
        let before = line[..at].chars().next_back();
        !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
    })
}

#[test]
fn each_outside_crate_is_used_only_by_the_module_that_owns_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = violations(&src);
    assert!(
        found.is_empty(),
        "used outside the module that owns it (ARCHITECTURE.md, \"Boundaries\"):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_sees_a_use_outside_its_module() {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = dir.path();
    std::fs::create_dir_all(src.join("git")).expect("mkdir");
    std::fs::create_dir_all(src.join("orchestrator")).expect("mkdir");
    std::fs::write(src.join("git/mod.rs"), "use git2::Oid;\n").expect("write");
    std::fs::write(
        src.join("orchestrator/run.rs"),
        "// git2:: in a comment is fine\nfn f() { let _ = git2::Repository::open(\".\"); }\nfn g() { my_git2::x(); }\n",
    )
    .expect("write");
    assert_eq!(
        violations(src),
        [
            "src/orchestrator/run.rs:2: `git2::` in fn f() { let _ = git2::Repository::open(\".\"); }"
        ]
    );
}
