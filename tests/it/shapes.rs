//! Verdicts on the shapes real repositories have: packages that declare their targets, a
//! workspace whose root is a package, a virtual workspace, features, benches and doctests. Each
//! case is a repository of that shape, built by code, and a reply or a fix judged on it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use nova::edit::RepoPath;
use nova::edit::{FileChange, Patch};
use nova::validate::{Workspace, judge};
use nova_sandbox::Limits;

use crate::apply::apply_file;
use crate::common::{Run, TestEnv, branch_file, branch_log, branches, head_of, validation_options};

/// A function clippy wants changed (`needless_return`), and a test of it.
const FIXABLE: &str = "pub fn one() -> i32 {\n    return 1;\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn one() {\n        assert_eq!(super::one(), 1);\n    }\n}\n";

fn manifest(name: &str, extra: &str) -> String {
    format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n{extra}")
}

/// The files of a package at `dir` (`""` for the root) that declares one target of each kind,
/// none with a `path`: cargo finds them where it expects them.
fn declared_targets(dir: &str, name: &str) -> Vec<(String, String)> {
    let at = |file: &str| {
        if dir.is_empty() {
            file.to_owned()
        } else {
            format!("{dir}/{file}")
        }
    };
    let krate = name.replace('-', "_");
    vec![
        (
            at("Cargo.toml"),
            manifest(
                name,
                "\n[[bin]]\nname = \"tool\"\n\n[[test]]\nname = \"api\"\n\n[[example]]\nname = \"demo\"\n\n[[bench]]\nname = \"speed\"\nharness = false\n",
            ),
        ),
        (at("src/lib.rs"), FIXABLE.to_owned()),
        (
            at("src/bin/tool.rs"),
            format!("fn main() {{\n    println!(\"{{}}\", {krate}::one());\n}}\n"),
        ),
        (
            at("tests/api.rs"),
            format!("#[test]\nfn one_is_one() {{\n    assert_eq!({krate}::one(), 1);\n}}\n"),
        ),
        (
            at("examples/demo.rs"),
            format!("fn main() {{\n    let _ = {krate}::one();\n}}\n"),
        ),
        (
            at("benches/speed.rs"),
            format!("fn main() {{\n    let _ = {krate}::one();\n}}\n"),
        ),
    ]
}

fn repo(env: &TestEnv, name: &str, files: &[(String, String)]) -> PathBuf {
    let borrowed: Vec<(&str, &str)> = files
        .iter()
        .map(|(path, text)| (path.as_str(), text.as_str()))
        .collect();
    env.repo_with(name, &borrowed)
}

/// A repository of one library crate, `package`, whose manifest ends with `extra`.
fn library(env: &TestEnv, name: &str, package: &str, extra: &str, lib: &str) -> PathBuf {
    let files = [
        (String::from("Cargo.toml"), manifest(package, extra)),
        (String::from("src/lib.rs"), lib.to_owned()),
    ];
    repo(env, name, &files)
}

fn improve(env: &TestEnv, repo: &Path) -> Run {
    env.nova_in(repo, ["improve", "--branch", "nova/shape"])
}

/// The subjects of the commits `nova/shape` has over `HEAD`.
fn subjects(repo: &Path) -> Vec<String> {
    let git = git2::Repository::open(repo).expect("open");
    branch_log(repo, "nova/shape")
        .into_iter()
        .rev()
        .map(|oid| {
            let commit = git.find_commit(oid).expect("commit");
            commit.summary().ok().flatten().unwrap_or("").to_owned()
        })
        .collect()
}

/// One SEARCH/REPLACE block for `path`.
fn block(path: &str, search: &str, replace: &str) -> String {
    format!("{path}\n```rust\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n```\n")
}

fn apply(env: &TestEnv, repo: &Path, reply: &str) -> Run {
    apply_file(env, repo, reply, &[])
}

#[track_caller]
fn assert_fixed(run: &Run, repo: &Path, expected: &str) {
    assert_eq!(run.code, 0, "{}", run.both());
    let subjects = subjects(repo);
    assert!(
        subjects.iter().any(|s| s.contains(expected)),
        "no commit with {expected:?}: {subjects:?}\n{}",
        run.both()
    );
}

#[track_caller]
fn assert_rejected(run: &Run, repo: &Path, reasons: &[&str]) {
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(run.stdout.contains("Rejected:"), "{}", run.both());
    for reason in reasons {
        assert!(run.stdout.contains(reason), "{reason}: {}", run.both());
    }
    assert_eq!(branches(repo), ["master"]);
}

#[test]
fn a_package_that_declares_its_targets_is_validated_without_reading_the_checkout() {
    let env = TestEnv::new();
    let repo = repo(&env, "declared", &declared_targets("", "declared"));
    let run = improve(&env, &repo);
    assert_fixed(&run, &repo, "clippy::needless_return");
    assert!(
        run.stderr.contains("cargo build --workspace --all-targets"),
        "{}",
        run.both()
    );
}

/// A workspace whose root is a package (the shape of ripgrep, clap and cargo), with a member
/// that declares its targets.
fn rooted_workspace(env: &TestEnv) -> PathBuf {
    let mut files = declared_targets("crates/core", "core");
    files.push((
        String::from("Cargo.toml"),
        manifest(
            "root",
            "\n[workspace]\nmembers = [\"crates/core\"]\n\n[dependencies]\ncore = { path = \"crates/core\" }\n",
        ),
    ));
    files.push((
        String::from("src/main.rs"),
        String::from("fn main() {\n    println!(\"{}\", core::one());\n}\n\n#[test]\nfn root_test() {\n    assert_eq!(core::one(), 1);\n}\n"),
    ));
    repo(env, "rooted", &files)
}

#[test]
fn a_workspace_rooted_in_a_package_is_improved_in_its_members() {
    let env = TestEnv::new();
    let repo = rooted_workspace(&env);
    let run = improve(&env, &repo);
    assert_fixed(&run, &repo, "crates/core/src/lib.rs");
}

#[test]
fn a_reply_breaking_a_members_test_is_rejected_naming_the_member() {
    let env = TestEnv::new();
    let repo = rooted_workspace(&env);
    let reply = block("crates/core/src/lib.rs", "    return 1;\n", "    5\n");
    let run = apply(&env, &repo, &reply);
    assert_rejected(
        &run,
        &repo,
        &[
            "test `core (lib) tests::one` fails",
            "test `core (test api) one_is_one` fails",
        ],
    );
}

/// Two members, each with a unit test `t` in `src/lib.rs`.
fn virtual_workspace(env: &TestEnv) -> PathBuf {
    let lib = "pub fn one() -> i32 {\n    1\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn t() {\n        assert_eq!(super::one(), 1);\n    }\n}\n";
    let files = [
        (
            "Cargo.toml",
            "[workspace]\nmembers = [\"a\", \"b\"]\nresolver = \"2\"\n".to_owned(),
        ),
        ("a/Cargo.toml", manifest("a", "")),
        (
            "a/src/lib.rs",
            FIXABLE.replace("fn one() {\n        assert", "fn t() {\n        assert"),
        ),
        ("b/Cargo.toml", manifest("b", "")),
        ("b/src/lib.rs", lib.to_owned()),
    ];
    let files: Vec<(String, String)> = files.into_iter().map(|(p, t)| (p.to_owned(), t)).collect();
    repo(env, "virtual", &files)
}

#[test]
fn a_virtual_workspace_is_improved_in_its_members() {
    let env = TestEnv::new();
    let repo = virtual_workspace(&env);
    let run = improve(&env, &repo);
    assert_fixed(&run, &repo, "a/src/lib.rs");
}

#[test]
fn tests_that_share_a_name_across_members_are_two_tests() {
    let env = TestEnv::new();
    let repo = virtual_workspace(&env);
    let head = head_of(&repo);
    let options = validation_options(&env, Duration::from_secs(300), Limits::default());
    let mut workspace = Workspace::open(&repo, head, options).expect("workspace");
    let (base, _) = workspace.validate_base().expect("base");
    assert!(base.is_green(), "{base:?}");
    let names: Vec<&str> = base.tests.tests.keys().map(String::as_str).collect();
    assert_eq!(names, ["a (lib) tests::t", "b (lib) tests::t"]);

    // Deleting b's test module (past the guards, which would refuse it) is judged.
    let path = RepoPath::new("b/src/lib.rs").expect("path");
    let before = workspace.read(&path).expect("lib");
    let after = before[..before.find("#[cfg(test)]").expect("tests")].to_owned();
    let patch = Patch {
        summary: String::from("drop b's tests"),
        changes: vec![FileChange::modify(path, before, after)],
    };
    workspace.apply(&patch).expect("apply");
    let (report, _) = workspace.validate_with_diagnostics().expect("validate");
    let verdict = judge(&base, &report);
    assert!(!verdict.accepted, "{verdict:?}");
    assert_eq!(verdict.reasons, ["test `b (lib) tests::t` disappeared"]);
}

const FEATURED: &str = "pub fn one() -> i32 {\n    1\n}\n\n#[cfg(feature = \"extra\")]\npub fn extra() -> i32 {\n    one() + 1\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn one() {\n        assert_eq!(super::one(), 1);\n    }\n}\n";

fn featured(env: &TestEnv) -> PathBuf {
    library(
        env,
        "featured",
        "feat",
        "\n[features]\nextra = []\n",
        FEATURED,
    )
}

/// A change that breaks the `extra` feature's code of a [`FEATURED`] crate is rejected, naming
/// the feature build that fails.
fn a_change_breaking_extra_is_rejected(env: &TestEnv, repo: &Path) {
    let reply = block("src/lib.rs", "    one() + 1\n", "    one() + \"1\"\n");
    let run = apply(env, repo, &reply);
    assert_rejected(
        &run,
        repo,
        &["`feat` with --features extra does not build: error[E0277]"],
    );
}

#[test]
fn a_change_that_breaks_a_feature_is_rejected_naming_it() {
    let env = TestEnv::new();
    let repo = featured(&env);
    a_change_breaking_extra_is_rejected(&env, &repo);
}

/// An old crate's shape: edition 2015 (cargo's first resolver), two features that cannot be on
/// together, so `--all-features` builds on no tree, and a change under one of them.
#[test]
fn a_change_that_breaks_a_feature_of_an_old_crate_is_rejected_though_all_features_never_build() {
    let env = TestEnv::new();
    let exclusive = "#[cfg(all(feature = \"extra\", feature = \"other\"))]\n\
                     compile_error!(\"extra and other are exclusive\");\n\n";
    let files = [
        (
            String::from("Cargo.toml"),
            String::from(
                "[package]\nname = \"feat\"\nversion = \"0.1.0\"\n\n\
                 [features]\nextra = []\nother = []\n",
            ),
        ),
        (String::from("src/lib.rs"), format!("{exclusive}{FEATURED}")),
    ];
    let repo = repo(&env, "old-featured", &files);
    a_change_breaking_extra_is_rejected(&env, &repo);
}

/// [`FEATURED`] with the feature's code tested only with the feature on: a unit test module and a
/// doctest under `cfg(feature = "extra")`, and `failing` added to the module's tests.
fn feature_tested(env: &TestEnv, name: &str, failing: &str) -> PathBuf {
    let lib = format!(
        "{FEATURED}\n/// Twice the extra.\n///\n/// ```\n/// assert_eq!(feat::doubled(), 4);\n/// ```\n\
         #[cfg(feature = \"extra\")]\npub fn doubled() -> i32 {{\n    extra() * 2\n}}\n\n\
         #[cfg(all(test, feature = \"extra\"))]\nmod extra_tests {{\n    #[test]\n    \
         fn extra_is_two() {{\n        assert_eq!(super::extra(), 2);\n    }}\n{failing}}}\n"
    );
    library(env, name, "feat", "\n[features]\nextra = []\n", &lib)
}

/// The default build and tests pass, and so does the build with the feature: only the tests run
/// with it see what the change broke, a unit test's and a doctest's.
#[test]
fn a_change_that_breaks_a_test_run_only_with_a_feature_is_rejected() {
    let env = TestEnv::new();
    let repo = feature_tested(&env, "feature-tested", "");
    let reply = block("src/lib.rs", "    one() + 1\n", "    one() + 2\n");
    let run = apply(&env, &repo, &reply);
    assert_rejected(
        &run,
        &repo,
        &[
            "test `feat (lib) extra_tests::extra_is_two` fails in `feat` with --features extra",
            "test `feat (doc) src/lib.rs - doubled #1` fails in `feat` with --features extra",
        ],
    );
    // Only the doctest sees this one.
    let reply = block("src/lib.rs", "    extra() * 2\n", "    extra() * 3\n");
    let run = apply(&env, &repo, &reply);
    assert_rejected(
        &run,
        &repo,
        &["test `feat (doc) src/lib.rs - doubled #1` fails in `feat` with --features extra"],
    );
}

/// A change that takes away a doctest compiled only with the feature: the tests with it all pass,
/// and are compared with the tree before's, since the change touched a doc comment.
#[test]
fn a_change_that_takes_away_a_doctest_run_only_with_a_feature_is_rejected() {
    let env = TestEnv::new();
    let repo = feature_tested(&env, "feature-doc", "");
    let reply = block(
        "src/lib.rs",
        "/// Twice the extra.\n///\n/// ```\n/// assert_eq!(feat::doubled(), 4);\n/// ```\n",
        "/// Twice the extra.\n",
    );
    let run = apply(&env, &repo, &reply);
    assert_rejected(
        &run,
        &repo,
        &[
            "test `feat (doc) src/lib.rs - doubled #1` disappeared from `feat` with --features extra",
        ],
    );
}

/// A test that fails with the feature before the change too does not reject a sound change; the
/// verdict names it.
#[test]
fn a_test_that_failed_with_a_feature_before_the_change_does_not_reject_it() {
    let env = TestEnv::new();
    let failing =
        "\n    #[test]\n    fn extra_is_three() {\n        assert_eq!(super::extra(), 3);\n    }\n";
    let repo = feature_tested(&env, "feature-red", failing);
    let reply = block("src/lib.rs", "    one() + 1\n", "    1 + one()\n");
    let run = apply(&env, &repo, &reply);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.both().contains(
            "tests of `feat` with --features extra that fail and did not pass before the change \
             either: feat (lib) extra_tests::extra_is_three"
        ),
        "{}",
        run.both()
    );
    assert!(
        run.stdout
            .contains("feat with --features extra ok, tests 3 passed, 1 failed"),
        "{}",
        run.both()
    );
}

/// A crate whose code without its default `std` is tested only so (a no_std path): a change there
/// is built and tested with `--no-default-features`, which judges it.
#[test]
fn a_change_only_a_build_without_the_defaults_compiles_is_tested_so() {
    let env = TestEnv::new();
    let lib = "pub fn one() -> i32 {\n    1\n}\n\n#[cfg(not(feature = \"std\"))]\npub fn bare() -> i32 {\n    one() + 1\n}\n\n\
               #[cfg(all(test, not(feature = \"std\")))]\nmod bare_tests {\n    #[test]\n    \
               fn bare_is_two() {\n        assert_eq!(super::bare(), 2);\n    }\n}\n";
    let repo = library(
        &env,
        "no-std-path",
        "bare",
        "\n[features]\ndefault = [\"std\"]\nstd = []\n",
        lib,
    );
    let reply = block("src/lib.rs", "    one() + 1\n", "    one() + 2\n");
    let run = apply(&env, &repo, &reply);
    assert_rejected(
        &run,
        &repo,
        &["test `bare (lib) bare_tests::bare_is_two` fails in `bare` with --no-default-features"],
    );
    let reply = block("src/lib.rs", "    one() + 1\n", "    1 + one()\n");
    let run = apply(&env, &repo, &reply);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.stdout
            .contains("bare with --no-default-features ok, tests 1 passed"),
        "{}",
        run.both()
    );
}

/// arrayvec 0.4's shape: an integration test that needs the default `std`, so no target but the
/// library builds without the defaults, on either tree. The no_std code is still built and its
/// unit tests run, with the library and binaries alone.
#[test]
fn a_no_std_change_is_tested_by_the_library_where_its_integration_tests_need_std() {
    let env = TestEnv::new();
    let lib = "#[cfg(feature = \"std\")]\npub fn one() -> i32 {\n    1\n}\n\n\
               #[cfg(not(feature = \"std\"))]\npub fn bare() -> i32 {\n    2\n}\n\n\
               #[cfg(all(test, not(feature = \"std\")))]\nmod bare_tests {\n    #[test]\n    \
               fn bare_is_two() {\n        assert_eq!(super::bare(), 2);\n    }\n}\n";
    let files = [
        (
            String::from("Cargo.toml"),
            manifest("bare", "\n[features]\ndefault = [\"std\"]\nstd = []\n"),
        ),
        (String::from("src/lib.rs"), lib.to_owned()),
        (
            String::from("tests/std.rs"),
            String::from("#[test]\nfn one_is_one() {\n    assert_eq!(bare::one(), 1);\n}\n"),
        ),
    ];
    let repo = repo(&env, "no-std-lib", &files);
    let reply = block(
        "src/lib.rs",
        "fn bare() -> i32 {\n    2\n",
        "fn bare() -> i32 {\n    3\n",
    );
    let run = apply(&env, &repo, &reply);
    assert_rejected(
        &run,
        &repo,
        &["test `bare (lib) bare_tests::bare_is_two` fails in `bare` with --no-default-features"],
    );
    let reply = block(
        "src/lib.rs",
        "fn bare() -> i32 {\n    2\n",
        "fn bare() -> i32 {\n    1 + 1\n",
    );
    let run = apply(&env, &repo, &reply);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.stdout.contains(
            "bare with --no-default-features ok (lib and bins: its other targets build on neither \
             tree), tests 1 passed"
        ),
        "{}",
        run.both()
    );
}

/// An old crate's nightly feature (smallvec 0.6's `specialization`): it builds on no tree here,
/// so a change under it is refused as unproved, and one outside it is not held up.
#[test]
fn a_change_under_a_feature_that_never_builds_here_is_refused_as_unproved() {
    let env = TestEnv::new();
    let nightly = "#![cfg_attr(feature = \"extra\", feature(test))]\n";
    let repo = library(
        &env,
        "nightly-featured",
        "feat",
        "\n[features]\nextra = []\n",
        &format!("{nightly}{FEATURED}"),
    );
    let reply = block("src/lib.rs", "    one() + 1\n", "    1 + one()\n");
    let run = apply(&env, &repo, &reply);
    assert_rejected(
        &run,
        &repo,
        &["`feat` with --features extra did not build before the change either (error[E0554]"],
    );
    let reply = block(
        "src/lib.rs",
        "pub fn one() -> i32 {\n    1\n",
        "pub fn one() -> i32 {\n    2 - 1\n",
    );
    let run = apply(&env, &repo, &reply);
    assert_eq!(run.code, 0, "{}", run.both());
}

/// A function `name` whose `v.unwrap_or(n.to_string())` the `unwrap-or-call` rule fixes (with
/// `unwrap_or_else`, which an `Option` has and a type of one's own may not).
fn eager_default(name: &str, ty: &str) -> String {
    format!("pub fn {name}(v: {ty}, n: u8) -> String {{\n    v.unwrap_or(n.to_string())\n}}\n")
}

/// rand 0.6's `nightly` code among a pass's fixes: the group is refused for it once, then split
/// by what each fix needs instead of in halves. The plain fixes land together, those under the
/// feature are refused unproved without a build each.
#[test]
fn fixes_under_a_feature_that_never_builds_here_are_refused_without_bisecting_the_group() {
    let env = TestEnv::new();
    let lazy = |name: &str| eager_default(name, "Option<String>");
    let gated = |name: &str| format!("#[cfg(feature = \"extra\")]\n{}", lazy(name));
    let lib = format!(
        "#![cfg_attr(feature = \"extra\", feature(test))]\n\n{}\n{}\n{}\n{}",
        lazy("first"),
        gated("second"),
        lazy("third"),
        gated("fourth")
    );
    let repo = library(
        &env,
        "nightly-fixes",
        "feat",
        "\n[features]\nextra = []\n",
        &lib,
    );
    let run = improve(&env, &repo);
    assert_fixed(&run, &repo, "unwrap-or-call");
    let reason = "`feat` with --features extra built on neither tree earlier in this run";
    assert_eq!(run.stdout.matches(reason).count(), 2, "{}", run.both());
    assert!(
        run.stdout.contains("2 validations in all"),
        "{}",
        run.both()
    );
    let text = branch_file(&repo, "nova/shape", "src/lib.rs");
    assert_eq!(
        text.matches("unwrap_or_else(|| n.to_string())").count(),
        2,
        "{text}"
    );
}

/// rand 0.6's `unnecessary_transmutes` fixes that do not compile, among a thousand that do: the
/// group's build fails, and is split into the fixes its errors point at and the rest (three
/// validations; in halves, five).
#[test]
fn a_fix_that_does_not_compile_is_split_from_its_group_where_the_error_points() {
    let env = TestEnv::new();
    let lib = format!(
        "/// Only `unwrap_or`: the lazy form the fix asks for is not there.\npub struct Eager(pub Option<String>);\n\n\
         impl Eager {{\n    pub fn unwrap_or(self, default: String) -> String {{\n        \
         self.0.unwrap_or(default)\n    }}\n}}\n\n{}\n{}\n{}\n{}",
        eager_default("first", "Option<String>"),
        eager_default("second", "Option<String>"),
        eager_default("third", "Eager"),
        eager_default("fourth", "Option<String>"),
    );
    let repo = library(&env, "uncompiled-fix", "eager", "", &lib);
    let run = improve(&env, &repo);
    assert_fixed(&run, &repo, "unwrap-or-call");
    assert!(
        run.stdout.contains("3 validations in all"),
        "{}",
        run.both()
    );
    assert!(
        run.stderr
            .contains("rejected [3/3] Fix `unwrap-or-call` in `third`"),
        "{}",
        run.both()
    );
}

/// num-traits 0.2.8's `clippy::unused_unit` fix inside a macro: it takes the unit out of the
/// expansion that needs it, and the error is on a line it did not write. The group is split into
/// the fixes that changed the error's file and the rest (three validations, not five).
#[test]
fn a_fix_breaking_a_macro_is_split_from_its_group_by_the_errors_file() {
    let env = TestEnv::new();
    let macros = "pub mod other;\n\npub trait Bounded {\n    fn min_value() -> Self;\n}\n\n\
                  macro_rules! bounded_tuple {\n    ( $($name:ident)* ) => (\n        \
                  impl<$($name: Bounded,)*> Bounded for ($($name,)*) {\n            \
                  fn min_value() -> Self {\n                ($($name::min_value(),)*)\n            \
                  }\n        }\n    );\n}\n\nbounded_tuple!();\nbounded_tuple!(A);\n";
    let other = ["a", "b", "c", "d"]
        .map(|name| eager_default(name, "Option<String>"))
        .join("\n");
    let files = [
        (String::from("Cargo.toml"), manifest("tuples", "")),
        (String::from("src/lib.rs"), macros.to_owned()),
        (String::from("src/other.rs"), other),
    ];
    let repo = repo(&env, "macro-fix", &files);
    let run = improve(&env, &repo);
    assert_fixed(&run, &repo, "unwrap-or-call");
    assert!(
        run.stdout.contains("3 validations in all"),
        "{}",
        run.both()
    );
    assert!(
        run.stderr
            .contains("rejected [3/3] Fix `clippy::unused_unit`"),
        "{}",
        run.both()
    );
}

/// The same for formatting: rand 0.6's files under `nightly` are formatted in one group with the
/// others, refused once, then split by what each file's lines need (the plain files together,
/// each feature's apart), not in halves (seven validations).
#[test]
fn formatting_under_a_feature_that_never_builds_here_is_split_by_feature() {
    let env = TestEnv::new();
    let unformatted = "pub fn f( ) -> i32 {\n    1\n}\n";
    let mut files = vec![
        (
            String::from("Cargo.toml"),
            manifest("feat", "\n[features]\nextra = []\nmore = []\n"),
        ),
        (
            String::from("src/lib.rs"),
            String::from(
                "#![cfg_attr(feature = \"extra\", feature(test))]\n\npub mod a;\npub mod b;\n\
                 #[cfg(feature = \"extra\")]\npub mod c;\n#[cfg(feature = \"more\")]\npub mod d;\n\
                 pub mod e;\npub mod f;\n",
            ),
        ),
    ];
    for name in ["a", "b", "c", "d", "e", "f"] {
        files.push((format!("src/{name}.rs"), unformatted.to_owned()));
    }
    let repo = repo(&env, "nightly-format", &files);
    let run = improve(&env, &repo);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.stdout
            .contains("Format src/c.rs with rustfmt: `feat` with --features extra did not build"),
        "{}",
        run.both()
    );
    assert!(
        run.stdout.contains("4 validations in all"),
        "{}",
        run.both()
    );
    assert!(
        run.stderr.contains("accepted [2/4]") && run.stderr.contains("Fix `rustfmt` in 4 places"),
        "{}",
        run.both()
    );
}

/// An old crate that denies warnings (bytes 0.4's `#![deny(warnings)]`) where this compiler warns
/// of something its own did not: the base is built with lints capped at warnings, and says so;
/// what they say still counts, so a change that adds a warning is still refused.
#[test]
fn a_crate_that_denies_warnings_this_compiler_raises_is_built_with_lints_capped() {
    let env = TestEnv::new();
    let lib = format!("#![deny(warnings)]\n\nfn unused_helper() {{}}\n\n{FIXABLE}");
    let repo = library(&env, "denies-warnings", "denies", "", &lib);
    let run = improve(&env, &repo);
    assert_fixed(&run, &repo, "clippy::needless_return");
    assert!(
        run.both()
            .contains("(with --cap-lints warn: the crate denies warnings"),
        "{}",
        run.both()
    );
    let reply = block(
        "src/lib.rs",
        "fn unused_helper() {}\n",
        "fn unused_helper() {}\n\nfn another_unused() {}\n",
    );
    let run = apply_file(&env, &repo, &reply, &["--branch", "nova/more"]);
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(run.stdout.contains("warnings grew from"), "{}", run.both());
}

/// A fix rustc asks for (`unused_imports`) that takes away an import only a feature's code uses:
/// the default build and tests pass, the build with every feature does not.
#[test]
fn an_import_only_a_features_code_uses_is_not_taken_away() {
    let env = TestEnv::new();
    let lib = "use std::fmt::Write;\n\npub fn one() -> i32 {\n    1\n}\n\n\
               #[cfg(feature = \"extra\")]\npub fn shown() -> String {\n    let mut s = String::new();\n    \
               write!(s, \"{}\", one()).unwrap();\n    s\n}\n";
    let repo = library(
        &env,
        "feature-import",
        "feat",
        "\n[features]\nextra = []\n",
        lib,
    );
    let run = improve(&env, &repo);
    assert!(
        run.stdout
            .contains("`feat` with --all-features does not build: error[E0599]"),
        "{}",
        run.both()
    );
    assert_eq!(branches(&repo), ["master"], "{}", run.both());
}

/// A change that makes a test run only with the feature hang: the run is killed at the step's
/// timeout, the test named (its package selected with the feature, as the run was), and the
/// change rejected for it.
#[test]
fn a_change_that_hangs_a_test_run_only_with_a_feature_is_rejected_naming_it() {
    let env = TestEnv::new();
    let repo = feature_tested(&env, "feature-hang", "");
    // Only the unit test's build hangs (`cfg!(test)`): the doctest, which calls `extra` too, would
    // cost two timeouts more.
    let hang = "    while cfg!(test) {\n        std::thread::sleep(std::time::Duration::from_secs(1));\n    }\n    one() + 1\n";
    let reply = block("src/lib.rs", "    one() + 1\n", hang);
    let run = apply_file(&env, &repo, &reply, &["--step-timeout", "20"]);
    assert_rejected(
        &run,
        &repo,
        &[
            "test `feat (lib) extra_tests::extra_is_two` fails in `feat` with --features extra: \
             did not finish within the step's timeout (20 s)",
        ],
    );
    assert!(
        run.both()
            .contains("cargo test --manifest-path Cargo.toml --features extra --lib"),
        "the test that hung is named in its feature configuration: {}",
        run.both()
    );
}

/// A change outside any feature is built with every feature on, not tested again: the code under
/// a feature may use what it touched.
#[test]
fn a_change_outside_any_feature_is_built_with_every_feature_not_tested_again() {
    let env = TestEnv::new();
    let repo = featured(&env);
    let reply = block("src/lib.rs", "    1\n}\n", "    2 - 1\n}\n");
    let run = apply_file(&env, &repo, &reply, &["--branch", "nova/outside"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.stdout
            .contains("feat with --all-features ok; cargo test"),
        "{}",
        run.both()
    );
    assert!(!run.both().contains("--features extra"), "{}", run.both());
    // The same crate, changed under the feature soundly: built with it, and accepted.
    let reply = block("src/lib.rs", "    one() + 1\n", "    1 + one()\n");
    let run = apply_file(&env, &repo, &reply, &["--branch", "nova/inside"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.stdout
            .contains("feat with --features extra ok, tests 1 passed; cargo test"),
        "{}",
        run.both()
    );
    // `extra` is all the crate's features: `--all-features` would build the same again.
    assert!(!run.both().contains("--all-features"), "{}", run.both());
}

#[test]
fn a_change_that_breaks_a_bench_is_rejected() {
    let env = TestEnv::new();
    let lib = format!("{FIXABLE}\npub fn scaled() -> i32 {{\n    2\n}}\n");
    let files = [
        (String::from("Cargo.toml"), manifest("benched", "")),
        (String::from("src/lib.rs"), lib),
        (
            String::from("benches/b.rs"),
            String::from("fn main() {\n    let _ = benched::scaled();\n}\n"),
        ),
    ];
    let repo = repo(&env, "benched", &files);
    let reply = block(
        "src/lib.rs",
        "pub fn scaled() -> i32 {\n    2\n",
        "pub fn scaled(x: i32) -> i32 {\n    2 * x\n",
    );
    let run = apply(&env, &repo, &reply);
    assert_rejected(
        &run,
        &repo,
        &["`cargo build --workspace --all-targets` fails: error[E0061]"],
    );
}

const DOCUMENTED: &str = "/// Doubles.\n///\n/// ```\n/// assert_eq!(doc::double(2), 4);\n/// ```\n///\n/// ```\n/// assert_eq!(doc::double(0), 0);\n/// ```\npub fn double(x: i32) -> i32 {\n    x * 2\n}\n";

#[test]
fn doctests_are_matched_by_item_not_by_line() {
    let env = TestEnv::new();
    let repo = library(&env, "documented", "doc", "", DOCUMENTED);
    // A line above both doctests moves them; they are the same tests.
    let reply = block(
        "src/lib.rs",
        "/// Doubles.\n",
        "/// Doubles a number.\n///\n/// Never overflows for small inputs.\n",
    );
    let run = apply_file(&env, &repo, &reply, &["--branch", "nova/moved"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.stdout
            .contains("doctest `doc (doc) src/lib.rs - double #2` moved from line 7 to line 9"),
        "{}",
        run.both()
    );
    // Deleting one of them is still a test that disappeared.
    let reply = block(
        "src/lib.rs",
        "///\n/// ```\n/// assert_eq!(doc::double(0), 0);\n/// ```\n",
        "",
    );
    let run = apply(&env, &repo, &reply);
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(
        run.stdout
            .contains("test `doc (doc) src/lib.rs - double #2` disappeared"),
        "{}",
        run.both()
    );
    assert_eq!(branches(&repo), ["master", "nova/moved"]);
}

#[test]
fn a_reply_that_silences_a_lint_is_accepted_but_says_so() {
    let env = TestEnv::new();
    let repo = library(&env, "quiet", "quiet", "", FIXABLE);
    let reply = block(
        "src/lib.rs",
        "pub fn one() -> i32 {\n",
        "#[allow(clippy::needless_return)]\npub fn one() -> i32 {\n",
    );
    let run = apply_file(&env, &repo, &reply, &["--branch", "nova/quiet"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.stdout.contains(
            "Note: the change silences a lint with `allow(clippy::needless_return)` at src/lib.rs:1"
        ),
        "{}",
        run.both()
    );
    // Silencing one warning while adding another is not a warning fixed.
    let reply = block(
        "src/lib.rs",
        "pub fn one() -> i32 {\n",
        "#[allow(clippy::needless_return)]\npub fn one() -> i32 {\n    let x = 1;\n    let _ = x.clone();\n",
    );
    let run = apply(&env, &repo, &reply);
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(
        run.stdout.contains(
            "clippy warnings grew from 1 to 2 (1 of them silenced by the change, not fixed)"
        ),
        "{}",
        run.both()
    );
}

/// A fixable warning inside an inline test module, and one in `src/tests.rs`, which
/// `#[cfg(test)] mod tests;` declares.
const WITH_TEST_HELPERS: &str = "pub fn one() -> i32 {\n    1\n}\n\n#[cfg(test)]\nmod tests;\n\n#[cfg(test)]\nmod inline {\n    fn helper() -> i32 {\n        return super::one();\n    }\n\n    #[test]\n    fn one() {\n        assert_eq!(helper(), 1);\n    }\n}\n";
const TESTS_FILE: &str = "fn helper() -> i32 {\n    return super::one();\n}\n\n#[test]\nfn one() {\n    assert_eq!(helper(), 1);\n}\n";

fn with_test_helpers(env: &TestEnv) -> PathBuf {
    let files = [
        (String::from("Cargo.toml"), manifest("helpers", "")),
        (String::from("src/lib.rs"), WITH_TEST_HELPERS.to_owned()),
        (String::from("src/tests.rs"), TESTS_FILE.to_owned()),
    ];
    repo(env, "helpers", &files)
}

#[test]
fn improve_leaves_test_code_inside_source_files_alone_and_says_so() {
    let env = TestEnv::new();
    let repo = with_test_helpers(&env);
    let run = improve(&env, &repo);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(subjects(&repo).is_empty(), "{:?}", subjects(&repo));
    // Known before a fix is made: counted per file, never a candidate.
    assert!(!run.stderr.contains("skipped ["), "{}", run.both());
    for file in ["src/lib.rs", "src/tests.rs"] {
        assert!(
            run.stdout
                .contains(&format!("  {file}: 1, its fix changes test code")),
            "{file}: {}",
            run.both()
        );
    }
}

#[test]
fn a_reply_that_changes_test_code_inside_source_files_is_turned_away() {
    let env = TestEnv::new();
    let repo = with_test_helpers(&env);
    for (path, search) in [
        ("src/lib.rs", "        assert_eq!(helper(), 1);\n"),
        ("src/tests.rs", "    assert_eq!(helper(), 1);\n"),
    ] {
        let reply = block(path, search, "        assert!(true);\n");
        let run = apply(&env, &repo, &reply);
        assert_eq!(run.code, 1, "{}", run.both());
        assert!(
            run.both().contains("it changes test code at"),
            "{path}: {}",
            run.both()
        );
    }
    assert_eq!(branches(&repo), ["master"]);
}

#[test]
fn a_fix_that_leaves_a_new_warning_is_followed_by_another_pass() {
    let env = TestEnv::new();
    let lib = "use std::convert::identity;\n\npub fn doubled(items: &[i32]) -> Vec<i32> {\n    items.iter().map(|x| x * 2).map(identity).collect()\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn doubles() {\n        assert_eq!(super::doubled(&[1, 2]), vec![2, 4]);\n    }\n}\n";
    let repo = library(&env, "relint", "relint", "", lib);
    let run = improve(&env, &repo);
    assert_fixed(&run, &repo, "clippy::map_identity");
    assert_fixed(&run, &repo, "rustc::unused_imports");
    // Removing the import leaves a blank line, which its commit formats: no third pass.
    assert!(
        !run.stdout.contains("Format src/lib.rs with rustfmt"),
        "{}",
        run.both()
    );
    assert!(
        run.stdout
            .contains("Linted the tip again after accepted fixes: 2 passes (at most 3)."),
        "{}",
        run.both()
    );
    // A dry run goes through the same passes from the same tips, and makes no branch.
    let dry = env.nova_in(&repo, ["improve", "--dry-run"]);
    assert_eq!(dry.code, 0, "{}", dry.both());
    assert!(
        dry.stdout.contains(
            "Would commit: (dry run: nothing committed)\n  Fix `clippy::map_identity` in `doubled` (src/lib.rs)\n  Fix `rustc::unused_imports` in src/lib.rs\n"
        ),
        "{}",
        dry.both()
    );
    assert_eq!(branches(&repo), ["master", "nova/shape"]);
}

#[test]
fn benches_that_need_nightly_are_left_out_and_said() {
    let env = TestEnv::new();
    let files = [
        (String::from("Cargo.toml"), manifest("nightly", "")),
        (String::from("src/lib.rs"), FIXABLE.to_owned()),
        (
            String::from("benches/old.rs"),
            String::from(
                "#![feature(test)]\nextern crate test;\n\n#[bench]\nfn one(b: &mut test::Bencher) {\n    b.iter(nightly::one);\n}\n",
            ),
        ),
    ];
    let repo = repo(&env, "nightly", &files);
    let run = improve(&env, &repo);
    assert_fixed(&run, &repo, "clippy::needless_return");
    assert!(
        run.stderr
            .contains("base: cargo build --workspace --lib --bins --tests --examples ok (left out: benches (they do not build in the base))"),
        "{}",
        run.both()
    );
}

#[test]
fn findings_that_share_a_fingerprint_are_each_fixed() {
    let env = TestEnv::new();
    let lib = "pub fn same(a: &str, b: &str) -> bool {\n    if a.len() == 0 && b.len() == 0 {\n        return true;\n    }\n    if a.len() == 0 || b.len() == 0 {\n        return false;\n    }\n    a == b\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn same() {\n        assert!(super::same(\"\", \"\"));\n        assert!(!super::same(\"a\", \"\"));\n    }\n}\n";
    let repo = library(&env, "twins", "twins", "", lib);
    let run = improve(&env, &repo);
    assert_eq!(run.code, 0, "{}", run.both());
    let text = branch_file(&repo, "nova/shape", "src/lib.rs");
    assert!(!text.contains("len() == 0"), "{text}\n{}", run.both());
}
