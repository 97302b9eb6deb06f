//! Repositories as people have them: a base with a test that always fails, a flaky test, a test
//! that needs the network, a test that hangs. Each is kept out of the verdicts the way it should
//! be, and a sound fix is still committed.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nova::edit::RepoPath;
use nova::edit::{FileChange, Patch};
use nova::validate::{ValidationReport, Workspace, judge};
use nova_sandbox::Limits;

use crate::common::{Run, TestEnv, branch_file, branches, head_of, validation_options, write};

const MANIFEST: &str = "[package]\nname = \"red\"\nversion = \"0.1.0\"\nedition = \"2021\"\n";

/// A function clippy wants changed (`needless_return`), a test of it, and `tests`.
fn lib(tests: &str) -> String {
    format!(
        "pub fn one() -> i32 {{\n    return 1;\n}}\n\n#[cfg(test)]\nmod tests {{\n    \
         #[test]\n    fn one() {{\n        assert_eq!(super::one(), 1);\n    }}\n{tests}}}\n"
    )
}

/// Fails on every run.
const BROKEN: &str = "\n    #[test]\n    fn broken() {\n        assert_eq!(1 + 1, 3, \"arithmetic is broken\");\n    }\n";

/// Fails one run in two, the first of a validation's included: a file in the validation's temp
/// dir says how the last run went.
const TOGGLE: &str = "\n    #[test]\n    fn toggles() {\n        let flag = std::env::temp_dir().join(\"failed-last\");\n        if flag.exists() {\n            std::fs::remove_file(&flag).expect(\"remove\");\n            return;\n        }\n        std::fs::write(&flag, \"\").expect(\"write\");\n        panic!(\"fails every other run\");\n    }\n";

/// Passes, then fails, then passes...: green in a base that runs its tests once.
const FLIPS: &str = "\n    #[test]\n    fn flips() {\n        let flag = std::env::temp_dir().join(\"passed-last\");\n        if flag.exists() {\n            std::fs::remove_file(&flag).expect(\"remove\");\n            panic!(\"fails every other run\");\n        }\n        std::fs::write(&flag, \"\").expect(\"write\");\n    }\n";

/// Never finishes.
const HANGS: &str = "\n    #[test]\n    fn hangs() {\n        loop {\n            std::thread::sleep(std::time::Duration::from_secs(1));\n        }\n    }\n";

fn crate_with(env: &TestEnv, name: &str, tests: &str) -> PathBuf {
    env.repo_with(
        name,
        &[("Cargo.toml", MANIFEST), ("src/lib.rs", &lib(tests))],
    )
}

fn improve(env: &TestEnv, repo: &Path, args: &[&str]) -> Run {
    let mut all = vec!["improve"];
    all.extend_from_slice(args);
    env.nova_in(repo, all)
}

/// The committed text of `src/lib.rs` on the one review branch.
fn committed_lib(repo: &Path) -> String {
    let names = branches(repo);
    let branch = names
        .iter()
        .find(|b| b.starts_with("nova/"))
        .expect("a review branch");
    branch_file(repo, branch, "src/lib.rs")
}

#[test]
fn an_already_failing_test_is_listed_and_a_sound_fix_is_committed() {
    let env = TestEnv::new();
    let repo = crate_with(&env, "broken", BROKEN);
    let run = improve(&env, &repo, &[]);
    assert_eq!(run.code, 0, "{}", run.both());
    let out = &run.stdout;
    assert!(
        out.starts_with("Already failing in the base (1 test)"),
        "the failing test heads the report:\n{out}"
    );
    assert!(out.contains("  red (lib) tests::broken\n"), "{out}");
    assert!(
        out.contains("arithmetic is broken"),
        "with its output:\n{out}"
    );
    assert!(out.contains("Branch: nova/improve/"), "{out}");
    assert!(
        committed_lib(&repo).contains("    1\n}"),
        "the fix is committed"
    );
    assert!(run.stderr.contains("1 already failing"), "{}", run.stderr);
}

#[test]
fn a_failing_test_may_be_fixed_but_not_removed() {
    let env = TestEnv::new();
    let repo = crate_with(&env, "removed", BROKEN);
    let options = validation_options(&env, Duration::from_secs(300), Limits::default());
    let mut workspace = Workspace::open(&repo, head_of(&repo), options).expect("workspace");
    let (base, _) = workspace.validate_base().expect("base");
    assert!(base.can_judge() && !base.is_green(), "{base:?}");
    assert_eq!(
        base.baseline.failing.keys().collect::<Vec<_>>(),
        ["red (lib) tests::broken"]
    );

    // Past the guards (which refuse any change to test code), each change is judged.
    let path = RepoPath::new("src/lib.rs").expect("path");
    let text = workspace.read(&path).expect("lib");
    let judged = |workspace: &mut Workspace, after: String| {
        let patch = Patch {
            summary: String::from("candidate"),
            changes: vec![FileChange::modify(path.clone(), text.clone(), after)],
        };
        workspace.apply(&patch).expect("apply");
        let (report, _) = workspace.validate_patch(&patch, &base).expect("validate");
        workspace.apply(&patch.reversed()).expect("revert");
        judge(&base, &report)
    };
    let removed = judged(&mut workspace, text.replace(BROKEN, ""));
    assert!(!removed.accepted, "{removed:?}");
    assert_eq!(
        removed.reasons,
        [
            "test `red (lib) tests::broken` disappeared (it fails in the base, but may not be removed)"
        ]
    );
    let fixed = judged(&mut workspace, text.replace("1 + 1, 3", "1 + 1, 2"));
    assert!(fixed.accepted, "{fixed:?}");
    assert_eq!(
        fixed.notes,
        ["the change fixes `red (lib) tests::broken`, which failed in the base"]
    );
}

#[test]
fn a_flaky_test_is_run_again_and_does_not_reject_a_sound_fix() {
    let env = TestEnv::new();
    let repo = crate_with(&env, "flaky", TOGGLE);
    let run = improve(&env, &repo, &[]);
    assert_eq!(run.code, 0, "{}", run.both());
    let out = &run.stdout;
    assert!(
        out.contains("Flaky in the base (1 test)")
            && out.contains(
                "  red (lib) tests::toggles: it failed in run 1 of the base's two and passed in run 2"
            ),
        "{out}"
    );
    assert!(out.contains("Branch: nova/improve/"), "{out}");
    assert!(
        committed_lib(&repo).contains("    1\n}"),
        "the fix is committed"
    );

    // The archive remembers it, and says which run saw it.
    let show = env.nova_in(&repo, ["runs", "show"]);
    assert_eq!(show.code, 0, "{}", show.both());
    assert!(
        show.stdout
            .contains("flaky tests, as runs of this repository saw them (1)")
            && show.stdout.contains("  red (lib) tests::toggles  seen"),
        "{}",
        show.stdout
    );
    let json = env.nova_in(&repo, ["runs", "show", "--json"]);
    let detail: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(detail["flaky_tests"][0]["test"], "red (lib) tests::toggles");
}

/// A workspace on `repo`, its base validated.
fn based(env: &TestEnv, repo: &Path) -> (Workspace, ValidationReport) {
    let options = validation_options(env, Duration::from_secs(300), Limits::default());
    let mut workspace = Workspace::open(repo, head_of(repo), options).expect("workspace");
    let (base, _) = workspace.validate_base().expect("base");
    (workspace, base)
}

/// The patch that puts `with` for the `return 1;` of `src/lib.rs`, and the text it leaves.
fn replacing_return(workspace: &Workspace, with: &str) -> (Patch, String) {
    let path = RepoPath::new("src/lib.rs").expect("path");
    let text = workspace.read(&path).expect("lib");
    let after = text.replace("    return 1;\n", with);
    let patch = Patch {
        summary: String::from("fix"),
        changes: vec![FileChange::modify(path, text, after.clone())],
    };
    (patch, after)
}

#[test]
fn a_flaky_candidate_run_says_how_many_runs_it_took() {
    let env = TestEnv::new();
    let repo = crate_with(&env, "reruns", TOGGLE);
    let (workspace, base) = based(&env, &repo);
    assert!(
        base.baseline.flaky.contains_key("red (lib) tests::toggles"),
        "{base:?}"
    );
    // Two base runs leave the toggle as it was: the candidate's first run fails, its rerun passes.
    let (patch, _) = replacing_return(&workspace, "    1\n");
    workspace.apply(&patch).expect("apply");
    let (report, _) = workspace.validate_patch(&patch, &base).expect("validate");
    let verdict = judge(&base, &report);
    assert!(verdict.accepted, "{verdict:?}");
    assert_eq!(
        verdict.notes,
        ["flaky test `red (lib) tests::toggles` failed, then passed on run 2 of at most 4"]
    );
}

#[test]
fn a_test_flaky_on_a_green_base_is_found_there_when_a_candidate_meets_it() {
    let env = TestEnv::new();
    let repo = crate_with(&env, "found-flaky", FLIPS);
    let (workspace, base) = based(&env, &repo);
    // All passed in the one run: no second run of the whole suite.
    assert!(
        base.is_green() && base.baseline.once && base.baseline.flaky.is_empty(),
        "{base:?}"
    );
    let (patch, after) = replacing_return(&workspace, "    1\n");
    workspace.apply(&patch).expect("apply");
    // The candidate's run fails `flips`, its rerun passes, and a run on the base fails it too.
    let (report, _) = workspace.validate_patch(&patch, &base).expect("validate");
    let verdict = judge(&base, &report);
    assert!(verdict.accepted, "{verdict:?}");
    assert_eq!(
        verdict.notes,
        [
            "flaky test `red (lib) tests::flips` failed, then passed on run 2 of at most 2",
            "`red (lib) tests::flips` also failed on the base when run again there: it was flaky \
             before the change"
        ]
    );
    assert!(
        report.baseline.found.contains("red (lib) tests::flips"),
        "{:?}",
        report.baseline
    );
    // The worktree holds the candidate again.
    let path = RepoPath::new("src/lib.rs").expect("path");
    assert_eq!(workspace.read(&path).expect("lib"), after);
}

#[test]
fn a_doctest_the_change_moves_is_run_on_the_base_by_the_bases_own_name() {
    let env = TestEnv::new();
    // A doctest that passes, then fails, then passes...; the change adds a line above it, so its
    // name (which carries its line) differs between the candidate and the base.
    let doc = "\n/// ```\n/// let flag = std::env::temp_dir().join(\"doc-passed-last\");\n/// if flag.exists() {\n///     std::fs::remove_file(&flag).unwrap();\n///     panic!(\"fails every other run\");\n/// }\n/// std::fs::write(&flag, \"\").unwrap();\n/// ```\npub fn flips() {}\n";
    let repo = env.repo_with(
        "moved-doctest",
        &[
            ("Cargo.toml", MANIFEST),
            ("src/lib.rs", &format!("{}{doc}", lib(""))),
        ],
    );
    let (workspace, base) = based(&env, &repo);
    assert!(base.is_green() && base.baseline.once, "{base:?}");
    let (patch, _) = replacing_return(&workspace, "    // The one.\n    1\n");
    workspace.apply(&patch).expect("apply");
    let (report, _) = workspace.validate_patch(&patch, &base).expect("validate");
    let verdict = judge(&base, &report);
    assert!(verdict.accepted, "{verdict:?} {:?}", report.reruns);
    assert!(
        report
            .baseline
            .found
            .iter()
            .any(|key| key.contains("flips")),
        "{:?}",
        report.baseline
    );
}

#[test]
fn a_stable_test_that_fails_on_a_candidate_rejects_it_even_if_a_rerun_passes() {
    let env = TestEnv::new();
    let repo = crate_with(&env, "made-flaky", "");
    let (workspace, base) = based(&env, &repo);
    assert!(
        base.is_green() && base.baseline.flaky.is_empty(),
        "{base:?}"
    );
    // The change makes `one` wrong every other run.
    let flipping = "    let flag = std::env::temp_dir().join(\"flip\");\n    \
                    if flag.exists() {\n        std::fs::remove_file(&flag).expect(\"remove\");\n        \
                    return 1;\n    }\n    std::fs::write(&flag, \"\").expect(\"write\");\n    2\n";
    let (patch, _) = replacing_return(&workspace, flipping);
    workspace.apply(&patch).expect("apply");
    let (report, _) = workspace.validate_patch(&patch, &base).expect("validate");
    let verdict = judge(&base, &report);
    assert!(!verdict.accepted, "{verdict:?}");
    assert_eq!(
        verdict.reasons,
        [
            "test `red (lib) tests::one` fails; it passed when run again, but it was stable in \
             the base: the change may have made it flaky"
        ]
    );
    // It was run again on the base, where it passed every time.
    assert!(
        report
            .steps
            .iter()
            .any(|step| step.command.contains("on the base, run again: tests::one")),
        "{:?}",
        report.steps
    );
    assert!(report.baseline.found.is_empty(), "{:?}", report.baseline);
}

/// A test that connects to `port` on 127.0.0.1: refused in the sandbox, which has no network.
fn network_test(port: u16) -> String {
    format!(
        "\n    #[test]\n    fn reaches_the_server() {{\n        \
         std::net::TcpStream::connect((\"127.0.0.1\", {port})).expect(\"connect\");\n    }}\n"
    )
}

#[test]
fn a_test_that_needs_the_network_is_named_with_how_to_handle_it() {
    let env = TestEnv::new();
    let server = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = server.local_addr().expect("addr").port();
    let repo = crate_with(&env, "network", &network_test(port));

    let run = improve(&env, &repo, &["--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let out = &run.stdout;
    assert!(
        out.contains("  red (lib) tests::reaches_the_server\n"),
        "{out}"
    );
    assert!(
        out.contains(
            "It seems to need the network, which the sandbox withholds. If it does, skip it with \
             `[validate] skip = [\"tests::reaches_the_server\"]` in nova.toml"
        ) && out.contains("pass `--allow-network`"),
        "{out}"
    );

    // With the network, it passes: the base is green.
    let allowed = improve(&env, &repo, &["--dry-run", "--allow-network"]);
    assert_eq!(allowed.code, 0, "{}", allowed.both());
    assert!(
        allowed.stderr.contains(
            "--allow-network: the repository's build scripts and tests run with your network"
        ),
        "{}",
        allowed.stderr
    );
    assert!(
        !allowed.stdout.contains("Already failing"),
        "{}",
        allowed.stdout
    );
    assert!(
        allowed
            .stdout
            .contains("with the network (--allow-network)"),
        "{}",
        allowed.stdout
    );

    // A repository may not give itself the network, but may skip the test, loudly.
    write(&repo, "nova.toml", "[validate]\nallow_network = true\n");
    let refused = improve(&env, &repo, &["--dry-run"]);
    assert_eq!(refused.code, 2, "{}", refused.both());
    assert!(
        refused
            .stderr
            .contains("`validate.allow_network` cannot be set in a repository's config"),
        "{}",
        refused.stderr
    );
    write(
        &repo,
        "nova.toml",
        "[validate]\nskip = [\"tests::reaches_the_server\"]\n",
    );
    let skipped = improve(&env, &repo, &["--dry-run"]);
    assert_eq!(skipped.code, 0, "{}", skipped.both());
    assert!(
        !skipped.stdout.contains("Already failing"),
        "{}",
        skipped.stdout
    );
    assert!(
        skipped.stdout.contains(
            "Skipped: tests::reaches_the_server (the repository's `[validate] skip`: never run, \
             never judged)"
        ),
        "{}",
        skipped.stdout
    );
    drop(server);
}

#[test]
fn a_hung_test_is_killed_and_named_and_the_run_goes_on() {
    let env = TestEnv::new();
    let repo = crate_with(&env, "hung", HANGS);
    let run = improve(&env, &repo, &["--step-timeout", "20"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let out = &run.stdout;
    assert!(
        out.starts_with("Already failing in the base (1 test)")
            && out.contains("  red (lib) tests::hangs\n")
            && out.contains("did not finish within the step's timeout (20 s)"),
        "{out}"
    );
    assert!(out.contains("Branch: nova/improve/"), "{out}");
    assert!(
        committed_lib(&repo).contains("    1\n}"),
        "the fix is committed"
    );
}

/// A doctest that never finishes, on an item whose path is longer than its file's; one on an item
/// whose name holds that path (left out with it); and one that holds `one` to 1.
const DOCS: &str = "\n/// ```\n/// loop { std::thread::sleep(std::time::Duration::from_secs(1)); }\n/// ```\npub fn never_finishes_at_all() {}\n\n/// ```\n/// assert_eq!(1 + 1, 2);\n/// ```\npub fn never_finishes_at_all_either() {}\n\n/// ```\n/// assert_eq!(red::one(), 1);\n/// ```\npub fn checks_one() {}\n";

/// rustdoc splits the names it is given at whitespace: a hung doctest left out with `--skip NAME
/// --exact` left out every doctest, on the base and on each candidate alike, so a change that
/// broke a doctest was accepted.
#[test]
fn a_hung_doctest_is_left_out_and_the_other_doctests_still_judge() {
    let env = TestEnv::new();
    let repo = env.repo_with(
        "hung-doctest",
        &[
            ("Cargo.toml", MANIFEST),
            ("src/lib.rs", &format!("{}{DOCS}", lib(""))),
        ],
    );
    let options = validation_options(&env, Duration::from_secs(20), Limits::default());
    let mut workspace = Workspace::open(&repo, head_of(&repo), options).expect("workspace");
    let (base, _) = workspace.validate_base().expect("base");
    assert!(
        base.tests_ran,
        "the other tests ran to the end: {:?}",
        base.steps
    );
    let hung: Vec<&String> = base.tests.hung.iter().collect();
    assert_eq!(hung.len(), 1, "{:?}", base.tests);
    assert!(hung[0].contains("never_finishes_at_all"), "{hung:?}");
    let checked = |report: &ValidationReport| {
        report
            .tests
            .tests
            .iter()
            .find(|(key, _)| key.contains("checks_one"))
            .map(|(_, outcome)| *outcome)
    };
    assert_eq!(
        checked(&base),
        Some(nova::validate::TestOutcome::Passed),
        "{:?}",
        base.tests
    );
    // Only that doctest sees `one` change.
    let (patch, _) = replacing_return(&workspace, "    2\n");
    let patch = Patch {
        changes: vec![FileChange {
            after: patch.changes[0].after.as_ref().map(|text| {
                text.replace("assert_eq!(super::one(), 1)", "assert!(super::one() > 0)")
            }),
            ..patch.changes[0].clone()
        }],
        ..patch
    };
    workspace.apply(&patch).expect("apply");
    let (report, _) = workspace.validate_patch(&patch, &base).expect("validate");
    assert_eq!(checked(&report), Some(nova::validate::TestOutcome::Failed));
    let verdict = judge(&base, &report);
    assert!(!verdict.accepted, "{verdict:?}");
    // For the doctest that fails, and for nothing the skip left out on both trees.
    assert_eq!(verdict.reasons.len(), 1, "{verdict:?}");
    assert!(verdict.reasons[0].contains("checks_one"), "{verdict:?}");
}

#[test]
fn a_base_that_needs_a_newer_rust_says_so_once_and_what_to_do() {
    let env = TestEnv::new();
    let manifest = format!("{MANIFEST}rust-version = \"1.200\"\n");
    let repo = env.repo_with(
        "too-new",
        &[
            ("Cargo.toml", manifest.as_str()),
            ("src/lib.rs", lib("").as_str()),
            (
                "tests/t.rs",
                "#[test]\nfn t() {\n    assert_eq!(red::one(), 1);\n}\n",
            ),
        ],
    );
    let run = improve(&env, &repo, &[]);
    assert_eq!(run.code, 1, "{}", run.both());
    assert_eq!(
        run.stdout.matches("red@0.1.0 requires rustc 1.200").count(),
        1,
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("The code needs a newer Rust than this machine's: update the toolchain"),
        "{}",
        run.stdout
    );
    assert_eq!(branches(&repo), ["master"]);
}
