//! Rules with fix templates give `nova improve` candidates: built and tested like any other, so a
//! rewrite that breaks a test is refused; a repository's own rule in `.nova/rules/` with a fix
//! works the same way.

use crate::common::{TestEnv, branch_file, branch_log};

const MANIFEST: &str =
    "[package]\nname = \"fixture\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n";

/// Code clippy's default groups find nothing in, and Nova's rules can rewrite in three places.
const LIB: &str = r#"//! A crate whose code Nova's rules can rewrite.

/// How wide a name prints.
pub fn width(name: Option<&str>) -> usize {
    name.map(str::len).unwrap_or(0)
}

/// The value, or why not.
pub fn check(value: Option<u8>, what: &str) -> Result<u8, String> {
    value.ok_or(format!("no {what}"))
}

/// What the crate says.
pub fn greeting() -> String {
    "hi".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths() {
        assert_eq!(width(Some("ab")), 2);
        assert_eq!(width(None), 0);
    }

    #[test]
    fn checks() {
        assert_eq!(check(None, "x"), Err(String::from("no x")));
        assert_eq!(greeting(), "hi");
    }
}
"#;

/// A test that insists on the eager `ok_or` the `unwrap-or-call` fix rewrites.
const PINNED: &str = r#"#[test]
fn keeps_its_eager_default() {
    let source = include_str!("../src/lib.rs");
    assert!(source.contains("value.ok_or(format!"), "the eager default is part of the contract");
}
"#;

/// The repository's own rule, with a fix.
const STR_TO_OWNED: &str = r#"id = "str-to-owned"
agent = "correctness-reviewer"
severity = "info"
message = "a literal's `to_string()` goes through `Display`: `to_owned()` copies it"
why = "House style."
lint = "clippy::str_to_string"
query = '''
(call_expression
  function: (field_expression value: (string_literal) field: (field_identifier) @name)
  arguments: (arguments) @args
  (#eq? @name "to_string")
  (#eq? @args "()")) @match
'''

[fix]
summary = "copy the literal with `to_owned`"

[[fix.edit]]
capture = "name"
with = "to_owned"

[[example]]
matches = 1
code = 'pub fn a() -> String { "a".to_string() }'
fixed = 'pub fn a() -> String { "a".to_owned() }'
"#;

#[test]
fn rule_fixes_are_proved_and_committed_and_a_breaking_one_is_refused() {
    let env = TestEnv::new();
    let repo = env.repo_with(
        "rule-fixes",
        &[
            ("Cargo.toml", MANIFEST),
            ("src/lib.rs", LIB),
            ("tests/source.rs", PINNED),
            (".nova/rules/str-to-owned.toml", STR_TO_OWNED),
        ],
    );
    let tested = env.nova_in(&repo, ["rules", "test"]);
    assert_eq!(tested.code, 0, "{}", tested.both());

    let run = env.nova_in(&repo, ["improve", "--branch", "nova/rules", "--json"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let events: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect();
    let of = |kind: &str| -> Vec<String> {
        events
            .iter()
            .filter(|e| e["event"] == kind)
            .map(|e| e["summary"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(
        of("candidate_rejected"),
        ["Fix `unwrap-or-call` in `check` (src/lib.rs)"],
        "{}",
        run.stdout
    );
    let git = git2::Repository::open(&repo).expect("open");
    let subjects: Vec<String> = branch_log(&repo, "nova/rules")
        .into_iter()
        .map(|oid| {
            let commit = git.find_commit(oid).expect("commit");
            commit
                .summary()
                .ok()
                .flatten()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    assert_eq!(
        subjects,
        [
            "Fix `map-unwrap-or` in `width` (src/lib.rs)",
            "Fix `str-to-owned` in `greeting` (src/lib.rs)",
        ]
    );
    let tip = git
        .find_branch("nova/rules", git2::BranchType::Local)
        .expect("the branch")
        .get()
        .peel_to_commit()
        .expect("commit");
    assert!(
        tip.message()
            .unwrap_or_default()
            .contains("Applied the rule's fix template."),
        "{:?}",
        tip.message()
    );
    let lib = branch_file(&repo, "nova/rules", "src/lib.rs");
    assert!(lib.contains("name.map_or(0, str::len)"), "{lib}");
    assert!(lib.contains("\"hi\".to_owned()"), "{lib}");
    assert!(
        lib.contains("value.ok_or(format!"),
        "the refused rewrite is not committed"
    );
    assert_eq!(
        std::fs::read_to_string(repo.join("src/lib.rs")).expect("read"),
        LIB,
        "the checkout is left alone"
    );
}

#[test]
fn a_broken_repository_rule_stops_improve_before_any_build() {
    let env = TestEnv::new();
    let broken = STR_TO_OWNED.replace("with = \"to_owned\"", "with = \"{nope}\"");
    let repo = env.repo_with(
        "broken-rule",
        &[
            ("Cargo.toml", MANIFEST),
            ("src/lib.rs", LIB),
            (".nova/rules/str-to-owned.toml", &broken),
        ],
    );
    let run = env.nova_in(&repo, ["improve"]);
    assert_eq!(run.code, 2, "{}", run.both());
    assert!(
        run.stderr.contains("str-to-owned.toml") && run.stderr.contains("`@nope`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("nova rules test"), "{}", run.stderr);
    assert!(branch_log(&repo, "nova/rules").is_empty());
}

/// Code only Windows compiles, and the repository rule, its fix now misspelt: on Linux no build
/// compiles the rewrite, so passing builds and tests prove nothing about it.
const WINDOWS_ONLY: &str = r#"//! A crate with a Windows-only module.

/// What the crate says.
pub fn greeting() -> &'static str {
    "hi"
}

#[cfg(windows)]
mod platform {
    /// The greeting on Windows.
    pub fn greeting() -> String {
        "hi".to_string()
    }
}
"#;

#[test]
#[cfg(not(windows))]
fn a_rule_fix_in_code_no_build_here_compiles_is_left_to_review() {
    let env = TestEnv::new();
    let misspelt = STR_TO_OWNED
        .replace("with = \"to_owned\"", "with = \"to_owend\"")
        .replace("\"a\".to_owned()", "\"a\".to_owend()");
    let repo = env.repo_with(
        "windows-only",
        &[
            ("Cargo.toml", MANIFEST),
            ("src/lib.rs", WINDOWS_ONLY),
            (".nova/rules/str-to-owned.toml", &misspelt),
        ],
    );
    let run = env.nova_in(&repo, ["improve", "--branch", "nova/rules", "--json"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let candidates = run
        .stdout
        .lines()
        .filter(|l| l.contains("\"candidate_"))
        .count();
    assert_eq!(
        candidates, 0,
        "no candidate: nothing here could prove it\n{}",
        run.stdout
    );
    assert!(
        branch_log(&repo, "nova/rules").is_empty(),
        "nothing committed"
    );
    let review = env.nova_in(&repo, ["review", "--all"]);
    assert!(
        review.stdout.contains("[str-to-owned]") && review.stdout.contains("src/lib.rs"),
        "the review still reports it\n{}",
        review.both()
    );
}
