//! The sandbox against a hostile crate built by code: its build script, a proc macro and its tests
//! try to write outside the worktree, read a secret file and a secret environment variable, and
//! reach a listener on the host's loopback; candidates try to fork, allocate and write without
//! bound and to run forever. Every attempt must fail, with the reason, and leave no trace.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nova::edit::RepoPath;
use nova::edit::{FileChange, Patch};
use nova::validate::{ValidationReport, Workspace, judge};
use nova_sandbox::Limits;

use crate::common::{TestEnv, files_under, head_of, validation_options, write};

const SECRET: &str = "CANARY-d41d8cd98f00b204-SECRET-FILE";
const KEY: &str = "sk-CANARY-8f14e45fceea167a-API-KEY";

/// Rust code (a function `attempt`) that tries every escape and panics naming each that worked,
/// secrets included, so that a leak shows up in the output the test then searches.
fn attempts(home: &Path, repo: &Path, port: u16) -> String {
    format!(
        r####"
fn attempt(who: &str) {{
    let mut escaped: Vec<String> = Vec::new();
    for (path, what) in [
        (r#"{home}/pwned"#, "wrote the home directory"),
        (r#"{repo}/pwned"#, "wrote the user's checkout"),
        (r#"{repo}/.git/hooks/pre-commit"#, "wrote a git hook"),
    ] {{
        if std::fs::write(path, "#!/bin/sh\necho pwned\n").is_ok() {{
            escaped.push(what.to_string());
        }}
    }}
    if let Ok(secret) = std::fs::read_to_string(r#"{home}/.ssh/id_canary"#) {{
        escaped.push(format!("read the secret file: {{secret}}"));
    }}
    if let Ok(key) = std::env::var("OPENAI_API_KEY") {{
        escaped.push(format!("read the API key: {{key}}"));
    }}
    if std::net::TcpStream::connect("127.0.0.1:{port}").is_ok() {{
        escaped.push("connected to the host's loopback".to_string());
    }}
    if !escaped.is_empty() {{
        panic!("{{who}} escaped the sandbox: {{escaped:?}}");
    }}
}}
"####,
        home = home.display(),
        repo = repo.display(),
    )
}

/// A crate whose build script, proc macro and test each run `attempt`, and with a clippy finding
/// so that a candidate is validated too.
fn hostile_repo(env: &TestEnv, name: &str, port: u16) -> PathBuf {
    let repo = env.outside().join(name);
    let code = attempts(&env.home(), &repo, port);
    let manifest = "[package]\nname = \"hostile\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n\
                    [dependencies]\nhostile-macro = { path = \"macro\" }\n";
    let macro_manifest = "[package]\nname = \"hostile-macro\"\nversion = \"0.1.0\"\n\
                          edition = \"2021\"\n\n[lib]\nproc-macro = true\n";
    let macro_lib = format!(
        "use proc_macro::TokenStream;\n{code}\n#[proc_macro]\npub fn attack(_: TokenStream) -> \
         TokenStream {{\n    attempt(\"the proc macro\");\n    TokenStream::new()\n}}\n"
    );
    let build = format!("{code}\nfn main() {{\n    attempt(\"the build script\");\n}}\n");
    let lib = format!(
        "hostile_macro::attack!();\n\npub fn add(a: i32, b: i32) -> i32 {{\n    return a + b;\n}}\n\n\
         #[cfg(test)]\nmod tests {{\n{code}\n    #[test]\n    fn adds() {{\n        \
         assert_eq!(super::add(2, 3), 5);\n    }}\n\n    #[test]\n    fn escapes() {{\n        \
         attempt(\"a test\");\n    }}\n}}\n"
    );
    let repo = env.repo_with(
        name,
        &[
            ("Cargo.toml", manifest),
            ("build.rs", &build),
            ("src/lib.rs", &lib),
            ("macro/Cargo.toml", macro_manifest),
            ("macro/src/lib.rs", &macro_lib),
        ],
    );
    std::fs::create_dir_all(repo.join(".git/hooks")).expect("hooks dir");
    repo
}

/// Every file under `dir`, with its bytes.
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    files_under(dir, &[])
}

/// The user's checkout, `.git` included, without what a run may add: `.nova/`, and the objects,
/// refs, logs and worktree entries of its review branch.
fn checkout(repo: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    files_under(
        repo,
        &[
            ".nova",
            ".git/objects",
            ".git/refs",
            ".git/logs",
            ".git/worktrees",
        ],
    )
}

/// The paths whose bytes differ, or that exist on one side only.
fn changed<'a>(
    before: &'a BTreeMap<PathBuf, Vec<u8>>,
    after: &'a BTreeMap<PathBuf, Vec<u8>>,
) -> Vec<&'a PathBuf> {
    let mut paths: Vec<&PathBuf> = before
        .iter()
        .filter(|(path, bytes)| after.get(*path) != Some(bytes))
        .map(|(path, _)| path)
        .chain(after.keys().filter(|path| !before.contains_key(*path)))
        .collect();
    paths.sort();
    paths
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

fn setup(env: &mut TestEnv) -> TcpListener {
    write(&env.home(), ".ssh/id_canary", SECRET);
    env.set_var("OPENAI_API_KEY", KEY);
    let listener = TcpListener::bind("127.0.0.1:0").expect("listen");
    listener.set_nonblocking(true).expect("nonblocking");
    listener
}

#[test]
fn a_hostile_crate_cannot_escape_and_leaves_no_trace() {
    let mut env = TestEnv::new();
    let listener = setup(&mut env);
    let port = listener.local_addr().expect("addr").port();
    let repo = hostile_repo(&env, "hostile", port);
    let home_before = tree(&env.home());
    let checkout_before = checkout(&repo);

    let run = env.nova_in(&repo, ["improve", "--branch", "nova/hostile"]);
    // The base builds and its tests pass only if every attempt failed in the build script, the
    // proc macro and the test; the candidate (the `return` clippy removes) runs them all again.
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.stdout.contains("Branch: nova/hostile"),
        "{}",
        run.stdout
    );

    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains(SECRET) && !text.contains(KEY), "{text}");
    }
    for (path, bytes) in tree(&repo.join(".nova"))
        .iter()
        .chain(&tree(&env.root().join("tmp")))
    {
        assert!(
            !contains(bytes, SECRET) && !contains(bytes, KEY),
            "a canary in {}",
            path.display()
        );
    }
    assert_eq!(
        changed(&home_before, &tree(&env.home())),
        Vec::<&PathBuf>::new(),
        "the home directory changed"
    );
    let checkout_after = checkout(&repo);
    let before = checkout_before;
    assert_eq!(
        changed(&before, &checkout_after),
        Vec::<&PathBuf>::new(),
        "the checkout or its hooks changed"
    );
    assert!(
        listener.accept().is_err(),
        "a connection reached the host's loopback"
    );
}

#[test]
fn the_same_crate_without_the_sandbox_does_escape() {
    // The control: proves the attempts above are real, so that their failing means something.
    // (Not the API key: Nova passes cargo an allowlisted environment even without the sandbox.)
    let mut env = TestEnv::new();
    let listener = setup(&mut env);
    let port = listener.local_addr().expect("addr").port();
    let repo = hostile_repo(&env, "control", port);
    let run = env.nova_in(&repo, ["improve", "--dry-run", "--unsafe-no-sandbox"]);
    assert_eq!(run.code, 1, "{}", run.both());
    for escape in [
        "escaped the sandbox",
        "wrote the home directory",
        "wrote the user's checkout",
        "wrote a git hook",
        "read the secret file",
        "connected to the host's loopback",
    ] {
        assert!(run.stdout.contains(escape), "{escape}: {}", run.both());
    }
    assert!(env.home().join("pwned").exists());
}

/// A small crate at `work/<name>`, its validation workspace (with tight limits, so that runaway
/// candidates hit them quickly), its head and the base's green report.
fn small_crate(env: &TestEnv, name: &str) -> (PathBuf, Workspace, git2::Oid, ValidationReport) {
    let manifest =
        format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n");
    let lib = base_lib();
    let repo = env.repo_with(
        name,
        &[
            ("Cargo.toml", manifest.as_str()),
            ("src/lib.rs", lib.as_str()),
        ],
    );
    let head = head_of(&repo);
    let limits = Limits {
        address_space: Some(4 << 30),
        processes: Some(256),
        file_size: Some(64 << 20),
        cpu_seconds: Some(60),
    };
    let options = validation_options(env, Duration::from_secs(60), limits);
    let workspace = Workspace::open(&repo, head, options).expect("workspace");
    let (base, _) = workspace.validate_with_diagnostics().expect("base");
    assert!(base.is_green(), "{base:?}");
    (repo, workspace, head, base)
}

const LIB: &str = "pub fn add(a: i32, b: i32) -> i32 {\n    a + b\n}\n";

/// A candidate adding a test with `body`.
fn candidate(body: &str) -> Patch {
    let after = format!(
        "{LIB}\n#[cfg(test)]\nmod tests {{\n    #[test]\n    fn adds() {{\n        \
         assert_eq!(super::add(2, 3), 5);\n    }}\n\n    #[test]\n    fn runaway() {{\n{body}\n    }}\n}}\n"
    );
    Patch {
        summary: String::from("a runaway test"),
        changes: vec![FileChange {
            path: RepoPath::new("src/lib.rs").expect("path"),
            before: Some(base_lib()),
            after: Some(after),
        }],
    }
}

/// A candidate adding a build script whose `main` is `body`.
fn build_script(body: &str) -> Patch {
    Patch {
        summary: String::from("a runaway build script"),
        changes: vec![FileChange {
            path: RepoPath::new("build.rs").expect("path"),
            before: None,
            after: Some(format!("fn main() {{\n{body}\n}}\n")),
        }],
    }
}

fn base_lib() -> String {
    format!(
        "{LIB}\n#[cfg(test)]\nmod tests {{\n    #[test]\n    fn adds() {{\n        \
         assert_eq!(super::add(2, 3), 5);\n    }}\n}}\n"
    )
}

#[test]
fn runaway_candidates_are_rejected_with_the_limit_they_hit() {
    let env = TestEnv::new();
    let (repo, mut workspace, head, base) = small_crate(&env, "runaway");

    let cases = [
        (
            "fork without bound",
            "        let mut children = Vec::new();\n        loop {\n            \
             children.push(std::process::Command::new(\"sleep\").arg(\"60\").spawn().unwrap());\n        }",
            "hit the process limit",
        ),
        (
            "allocate without bound",
            "        let mut blocks = Vec::new();\n        loop {\n            \
             blocks.push(vec![0u8; 64 << 20]);\n        }",
            "hit the address-space limit",
        ),
        (
            "fill the disk",
            "        use std::io::Write;\n        let path = std::env::temp_dir().join(\"fill\");\n        \
             let mut file = std::fs::File::create(path).unwrap();\n        loop {\n            \
             file.write_all(&[7u8; 1 << 20]).unwrap();\n        }",
            "hit the file-size limit",
        ),
    ];
    let in_build_script = [
        (
            "a build script forking without bound",
            // Short sleeps: cargo reads the build script's output until its last child is gone.
            "    let mut children = Vec::new();\n    loop {\n        \
             children.push(std::process::Command::new(\"sleep\").arg(\"3\").spawn().unwrap());\n    }",
            "hit the process limit",
        ),
        (
            "a build script allocating without bound",
            "    let mut blocks = Vec::new();\n    loop {\n        blocks.push(vec![0u8; 64 << 20]);\n    }",
            "hit the address-space limit",
        ),
    ];
    // Where no process limit can hold (root without a pids cgroup, as inside Nova's own sandbox),
    // a fork bomb would take every process the machine, or the sandbox around this test, allows,
    // and starve the tests running beside it: those cases need a limit to test.
    let process_limit = nova_sandbox::mechanisms()
        .into_iter()
        .find(|m| m.name == "process limit")
        .is_some_and(|m| m.state.is_ok());
    if !process_limit {
        crate::common::skip(
            "the fork-bomb cases",
            "no process limit holds here (root without a pids cgroup)",
        );
    }
    let bounded = |reason: &&str| process_limit || *reason != "hit the process limit";
    let in_build_script = in_build_script
        .into_iter()
        .filter(|(_, _, reason)| bounded(reason));
    let cases = cases.into_iter().filter(|(_, _, reason)| bounded(reason));
    for (what, body, reason) in in_build_script {
        assert_rejected(
            &mut workspace,
            &base,
            head,
            &build_script(body),
            what,
            reason,
        );
    }
    for (what, body, reason) in cases {
        assert_rejected(&mut workspace, &base, head, &candidate(body), what, reason);
    }

    // A candidate that does not compile: its first errors come structured.
    workspace
        .apply(&candidate("        let _: i32 = \"text\";"))
        .expect("apply");
    let (report, _) = workspace.validate_with_diagnostics().expect("validate");
    workspace.checkout(head).expect("restore");
    assert!(!report.build_ok);
    let first = &report.first_errors[0];
    assert_eq!(
        (first.code.as_deref(), first.file.as_deref()),
        (Some("E0308"), Some("src/lib.rs")),
        "{report:?}"
    );

    // A clean one: accepted, with no more warnings than the base.
    workspace
        .apply(&candidate("        assert_eq!(super::add(1, 1), 2);"))
        .expect("apply");
    let (mut report, _) = workspace.validate_with_diagnostics().expect("validate");
    workspace.checkout(head).expect("restore");
    nova::validate::record_lint_delta(&base, &mut report);
    assert_eq!(report.lint_delta, Some(0));
    assert!(judge(&base, &report).accepted, "{report:?}");

    let git = git2::Repository::open(&repo).expect("open");
    let statuses = git.statuses(None).expect("status");
    let changed: Vec<_> = statuses
        .iter()
        .filter(|entry| entry.status() != git2::Status::IGNORED)
        .map(|entry| (entry.path().unwrap_or("?").to_owned(), entry.status()))
        .collect();
    assert!(changed.is_empty(), "the checkout changed: {changed:?}");
}

#[test]
fn a_candidate_that_runs_forever_times_out() {
    let env = TestEnv::new();
    let (_, mut workspace, head, base) = small_crate(&env, "forever");
    workspace.set_step_timeout(Duration::from_secs(5));
    // The build takes a moment; the test then spins until the step's timeout.
    let spin = candidate(
        "        let started = std::time::Instant::now();\n        while started.elapsed().as_secs() < 3600 {}",
    );
    let test_reason = "`cargo test --workspace` timed out after";
    assert_rejected(&mut workspace, &base, head, &spin, "a test", test_reason);
    // A build script that never ends: the build step times out.
    let endless = build_script("    loop {\n        std::hint::spin_loop();\n    }");
    let build_reason = "`cargo build --workspace --all-targets` timed out after";
    assert_rejected(
        &mut workspace,
        &base,
        head,
        &endless,
        "a build script",
        build_reason,
    );
}

/// Applies `patch`, validates, checks the verdict rejects it for `reason`, and restores `head`.
fn assert_rejected(
    workspace: &mut Workspace,
    base: &ValidationReport,
    head: git2::Oid,
    patch: &Patch,
    what: &str,
    reason: &str,
) {
    workspace.apply(patch).expect("apply");
    let (report, _) = workspace.validate_with_diagnostics().expect("validate");
    workspace.checkout(head).expect("restore");
    let verdict = judge(base, &report);
    assert!(!verdict.accepted, "{what}: {report:?}");
    assert!(
        verdict.reasons.iter().any(|r| r.contains(reason)),
        "{what}: {:?}",
        verdict.reasons
    );
}
