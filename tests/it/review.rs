//! `nova review` and `nova rules`: rule packs kept as data, run over a repository, silenced by
//! reasoned comments, overridden per repository, and reported for people and machines.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{Run, TestEnv, write};

const LIB: &str = "pub fn first(items: &[u8]) -> u8 {\n    *items.first().unwrap()\n}\n\npub fn second(items: &[u8]) -> u8 {\n    // nova:allow(unwrap-in-lib): callers pass two items, checked at the boundary\n    *items.get(1).unwrap()\n}\n\n#[cfg(test)]\nmod tests {\n    #[test]\n    fn first() {\n        assert_eq!(super::first(&[1]), Some(1).unwrap());\n    }\n}\n";

fn setup() -> (TestEnv, PathBuf) {
    let env = TestEnv::new();
    let repo = env.repo_with(
        "reviewed",
        &[
            (
                "Cargo.toml",
                "[package]\nname = \"reviewed\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
            ),
            ("src/lib.rs", LIB),
            (
                "src/main.rs",
                "fn main() {\n    let n: u8 = \"1\".parse().unwrap();\n    dbg!(n);\n}\n",
            ),
            (
                "tests/api.rs",
                "#[test]\nfn api() {\n    assert_eq!(Some(1).unwrap(), 1);\n}\n",
            ),
        ],
    );
    (env, repo)
}

/// The findings of a `--json` review: (rule, path, line).
fn found(run: &Run) -> Vec<(String, String, u64)> {
    run.stdout
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("a JSON line"))
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_owned(),
                f["path"].as_str().unwrap_or_default().to_owned(),
                f["span"]["line_start"].as_u64().unwrap_or_default(),
            )
        })
        .collect()
}

fn review(env: &TestEnv, repo: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["review"];
    args.extend_from_slice(extra);
    env.nova_in(repo, args)
}

#[test]
fn the_built_in_rules_pass_their_own_examples() {
    let env = TestEnv::new();
    let run = env.nova(["rules", "test"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(run.stdout.starts_with("ok: "), "{}", run.stdout);
    let listed = env.nova(["rules", "list"]);
    assert_eq!(listed.code, 0, "{}", listed.both());
    let unwrap = listed
        .stdout
        .lines()
        .find(|line| line.starts_with("unwrap-in-lib "))
        .expect("unwrap-in-lib is listed");
    assert!(
        unwrap.contains("warning")
            && unwrap.contains("error-handling-reviewer")
            && unwrap.contains("clippy::unwrap_used"),
        "{unwrap}"
    );
    assert!(
        listed.stdout.lines().count() > 30,
        "a pack of more than 30 rules"
    );
}

#[test]
fn review_finds_what_the_rules_say_where_they_apply() {
    let (env, repo) = setup();
    let run = review(&env, &repo, &["--json"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let found = found(&run);
    // The unwrap in library code; not the allowed one, not the test's, not the binary's.
    let unwraps: Vec<_> = found.iter().filter(|f| f.0 == "unwrap-in-lib").collect();
    assert_eq!(
        unwraps,
        [&("unwrap-in-lib".to_owned(), "src/lib.rs".to_owned(), 2)]
    );
    // `dbg!` applies everywhere, the binary included.
    assert!(
        found.contains(&("dbg-macro".to_owned(), "src/main.rs".to_owned(), 3)),
        "{found:?}"
    );
    // Most severe first.
    let first: Value =
        serde_json::from_str(run.stdout.lines().next().expect("a finding")).expect("json");
    assert_eq!(first["severity"], "warning");
    assert!(
        first["fingerprint"].as_str().is_some_and(|f| f.len() == 16),
        "{first}"
    );
    // For people: grouped by file, with the line of code.
    let text = review(&env, &repo, &[]);
    assert_eq!(text.code, 0, "{}", text.both());
    assert!(
        text.stdout
            .contains("src/lib.rs\n  2:6 warning [unwrap-in-lib] in `first` ")
            && text.stdout.contains("\n      *items.first().unwrap()\n"),
        "{}",
        text.stdout
    );
    assert!(
        text.stderr.contains("finding(s): 0 error, "),
        "{}",
        text.stderr
    );
}

#[test]
fn fail_on_sets_the_exit_code() {
    let (env, repo) = setup();
    assert_eq!(review(&env, &repo, &["--fail-on", "warning"]).code, 1);
    assert_eq!(review(&env, &repo, &["--fail-on", "error"]).code, 0);
    assert_eq!(review(&env, &repo, &["--fail-on", "note"]).code, 1);
    let bad = review(&env, &repo, &["--fail-on", "fatal"]);
    assert_eq!(bad.code, 2, "{}", bad.both());
}

#[test]
fn a_repository_overrides_a_rule_and_adds_its_own() {
    let (env, repo) = setup();
    let builtin =
        std::fs::read_to_string(crate::common::source_root().join("rules/rust/unwrap-in-lib.toml"))
            .expect("the built-in rule");
    write(
        &repo,
        ".nova/rules/unwrap-in-lib.toml",
        &builtin.replace("severity = \"warning\"", "severity = \"error\""),
    );
    write(
        &repo,
        ".nova/rules/no-first.toml",
        "id = \"no-first\"\nagent = \"correctness-reviewer\"\nseverity = \"info\"\nmessage = \"say `head`\"\nwhy = \"house style\"\nquery = '''\n((field_identifier) @match (#eq? @match \"first\"))\n'''\n\n[[example]]\nmatches = 1\ncode = \"fn f(v: &[u8]) { v.first(); }\"\n",
    );
    let run = review(&env, &repo, &["--json", "--fail-on", "error"]);
    assert_eq!(run.code, 1, "{}", run.both());
    let hits = found(&run);
    assert!(
        hits.contains(&("no-first".to_owned(), "src/lib.rs".to_owned(), 2)),
        "{hits:?}"
    );
    let tested = env.nova_in(&repo, ["rules", "test"]);
    assert_eq!(tested.code, 0, "{}", tested.both());
    // A rule whose example is wrong is named with its file.
    write(
        &repo,
        ".nova/rules/no-first.toml",
        "id = \"no-first\"\nagent = \"correctness-reviewer\"\nseverity = \"info\"\nmessage = \"m\"\nwhy = \"w\"\nquery = \"((field_identifier) @match (#eq? @match \\\"first\\\"))\"\n\n[[example]]\nmatches = 2\ncode = \"fn f(v: &[u8]) { v.first(); }\"\n",
    );
    let failing = env.nova_in(&repo, ["rules", "test"]);
    assert_eq!(failing.code, 1, "{}", failing.both());
    assert!(
        failing
            .stdout
            .contains(".nova/rules/no-first.toml: example 1: should match 2 time(s) and matched 1"),
        "{}",
        failing.stdout
    );
    // A disabled reviewer's rules do not run.
    write(
        &repo,
        "nova.toml",
        "[agents]\ndisabled = [\"error-handling-reviewer\"]\n",
    );
    let quiet = review(&env, &repo, &["--json"]);
    assert!(
        !found(&quiet).iter().any(|f| f.0 == "unwrap-in-lib"),
        "{}",
        quiet.stdout
    );
}

#[test]
fn a_finding_keeps_its_fingerprint_when_lines_move() {
    let (env, repo) = setup();
    let fingerprint = |run: &Run| -> String {
        run.stdout
            .lines()
            .map(|line| serde_json::from_str::<Value>(line).expect("json"))
            .find(|f| f["rule"] == "unwrap-in-lib")
            .and_then(|f| f["fingerprint"].as_str().map(str::to_owned))
            .expect("the unwrap finding")
    };
    let before = fingerprint(&review(&env, &repo, &["--json"]));
    write(
        &repo,
        "src/lib.rs",
        &format!(
            "//! A crate.\n\n{}",
            LIB.replace("    *items", "        *items")
        ),
    );
    let after = review(&env, &repo, &["--json"]);
    assert!(found(&after).contains(&("unwrap-in-lib".to_owned(), "src/lib.rs".to_owned(), 4)));
    assert_eq!(fingerprint(&after), before);
}

#[test]
fn sarif_is_what_code_scanning_reads() {
    let (env, repo) = setup();
    let run = review(&env, &repo, &["--sarif"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let log: Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    assert_eq!(log["version"], "2.1.0");
    assert!(
        log["$schema"]
            .as_str()
            .is_some_and(|s| s.contains("sarif-2.1.0"))
    );
    let run0 = &log["runs"][0];
    assert_eq!(run0["tool"]["driver"]["name"], "nova");
    let rules = run0["tool"]["driver"]["rules"].as_array().expect("rules");
    let results = run0["results"].as_array().expect("results");
    assert!(!results.is_empty());
    for result in results {
        // Every result points at its rule's descriptor, which carries its help.
        let index = result["ruleIndex"].as_u64().expect("ruleIndex") as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        assert!(
            rules[index]["help"]["text"]
                .as_str()
                .is_some_and(|t| !t.is_empty())
        );
        assert!(["error", "warning", "note"].contains(&result["level"].as_str().unwrap_or("")));
        let region = &result["locations"][0]["physicalLocation"]["region"];
        assert!(
            region["startLine"].as_u64().is_some_and(|l| l >= 1),
            "{result}"
        );
        assert!(result["partialFingerprints"]["novaFingerprint/v1"].is_string());
    }
    let unwrap = results
        .iter()
        .find(|r| r["ruleId"] == "unwrap-in-lib")
        .expect("the unwrap");
    assert_eq!(unwrap["level"], "warning");
    assert_eq!(
        unwrap["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "src/lib.rs"
    );
    let markdown = review(
        &env,
        &repo,
        &["--markdown", "--link-base", "https://example.test/blob/abc"],
    );
    assert_eq!(markdown.code, 0, "{}", markdown.both());
    assert!(
        markdown.stdout.starts_with("## Nova review\n\n| reviewer | errors | warnings | notes |\n")
            && markdown.stdout.contains(
                "- **warning** [`src/lib.rs:2`](https://example.test/blob/abc/src/lib.rs#L2) in `first` `unwrap-in-lib`: "
            ),
        "{}",
        markdown.stdout
    );
}

#[test]
fn a_baseline_accepts_todays_findings_and_lets_new_ones_through() {
    let (env, repo) = setup();
    let no_reason = review(&env, &repo, &["--write-baseline"]);
    assert_eq!(no_reason.code, 2, "{}", no_reason.both());
    let written = review(
        &env,
        &repo,
        &["--write-baseline", "--reason", "legacy code, see #12"],
    );
    assert_eq!(written.code, 0, "{}", written.both());
    assert!(
        written.stderr.contains("accepted in `nova-baseline.json`"),
        "{}",
        written.stderr
    );
    let baseline: Value = serde_json::from_str(
        &std::fs::read_to_string(repo.join("nova-baseline.json")).expect("the baseline"),
    )
    .expect("json");
    assert_eq!(baseline["reason"], "legacy code, see #12");
    let quiet = review(&env, &repo, &["--json", "--all"]);
    assert_eq!(quiet.code, 0, "{}", quiet.both());
    assert!(quiet.stdout.is_empty(), "{}", quiet.stdout);
    assert!(
        quiet
            .stderr
            .contains("left out: `nova-baseline.json` accepts them"),
        "{}",
        quiet.stderr
    );
    // A new finding is not in the baseline.
    write(
        &repo,
        "src/lib.rs",
        &format!(
            "{LIB}\n/// The third.\npub fn third(v: &[u8]) -> u8 {{\n    *v.get(2).unwrap()\n}}\n"
        ),
    );
    let new = review(&env, &repo, &["--json", "--fail-on", "warning"]);
    assert_eq!(new.code, 1, "{}", new.both());
    assert_eq!(
        found(&new),
        [("unwrap-in-lib".to_owned(), "src/lib.rs".to_owned(), 20)]
    );
    // A baseline without a reason is refused, saying how to fix it.
    write(
        &repo,
        "nova-baseline.json",
        "{\"reason\": \"\", \"findings\": []}",
    );
    let bad = review(&env, &repo, &[]);
    assert_eq!(bad.code, 2, "{}", bad.both());
    assert!(
        bad.stderr.contains("its `reason` is empty"),
        "{}",
        bad.stderr
    );
}

#[test]
fn review_with_a_base_looks_only_at_what_changed_since() {
    let (env, repo) = setup();
    write(
        &repo,
        "src/lib.rs",
        &format!("{LIB}\npub fn third(v: &[u8]) -> u8 {{\n    *v.get(2).unwrap()\n}}\n"),
    );
    write(
        &repo,
        "src/extra.rs",
        "pub fn e(v: Option<u8>) -> u8 {\n    v.unwrap()\n}\n",
    );
    let run = review(&env, &repo, &["--json", "--base", "HEAD"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let unwraps: Vec<_> = found(&run)
        .into_iter()
        .filter(|f| f.0 == "unwrap-in-lib")
        .collect();
    assert_eq!(
        unwraps,
        [
            ("unwrap-in-lib".to_owned(), "src/extra.rs".to_owned(), 2),
            ("unwrap-in-lib".to_owned(), "src/lib.rs".to_owned(), 19)
        ]
    );
    let unknown = review(&env, &repo, &["--base", "no-such-branch"]);
    assert_eq!(unknown.code, 2, "{}", unknown.both());
    assert!(
        unknown
            .stderr
            .contains("`no-such-branch` is not a revision"),
        "{}",
        unknown.stderr
    );
}

#[test]
fn two_rules_at_the_same_code_make_one_finding() {
    let (env, repo) = setup();
    write(
        &repo,
        "src/lib.rs",
        "/// Adds one.\npub fn bump(m: &std::sync::Mutex<u32>) {\n    *m.lock().unwrap() += 1;\n}\n",
    );
    let run = review(&env, &repo, &["--json", "--all"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let at_line_3: Vec<String> = found(&run)
        .into_iter()
        .filter(|f| f.1 == "src/lib.rs" && f.2 == 3)
        .map(|f| f.0)
        .collect();
    // `lock-unwrap` (info) and `unwrap-in-lib` (warning) find the same call: the warning stays.
    assert_eq!(at_line_3, ["unwrap-in-lib"]);
    assert!(
        run.stderr
            .contains("1 finding(s) left out: a more severe one"),
        "{}",
        run.stderr
    );
}

/// The SARIF 2.1.0 schema as `.ci/schemas` fetches it (from npm, its digest checked).
fn sarif_schema() -> Option<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/schemas/sarif-2.1.0.json");
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

/// The errors of `document` against `schema`; none when it is valid.
fn schema_errors(schema: &Value, document: &Value) -> Option<String> {
    let mut schemas = boon::Schemas::new();
    let mut compiler = boon::Compiler::new();
    compiler
        .add_resource("schema.json", schema.clone())
        .expect("the schema loads");
    let index = compiler
        .compile("schema.json", &mut schemas)
        .expect("the schema compiles");
    schemas
        .validate(document, index)
        .err()
        .map(|error| format!("{error:#}"))
}

#[test]
fn sarif_is_valid_against_the_2_1_0_schema_with_fixes() {
    let Some(schema) = sarif_schema() else {
        crate::common::skip(
            "the SARIF schema check",
            "target/schemas/sarif-2.1.0.json is missing: run `bash .ci/schemas`",
        );
        return;
    };
    let (env, repo) = setup();
    let width =
        "pub fn width(name: Option<&str>) -> usize {\n    name.map(str::len).unwrap_or(0)\n}\n";
    write(&repo, "src/width.rs", width);
    let run = review(&env, &repo, &["--sarif"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let log: Value = serde_json::from_str(&run.stdout).expect("one JSON document");
    assert_eq!(schema_errors(&schema, &log), None);

    // The fix is SARIF's: bytes of the file deleted, text put in.
    let results = log["runs"][0]["results"].as_array().expect("results");
    let fixed = results
        .iter()
        .find(|r| r["ruleId"] == "map-unwrap-or")
        .expect("the map-unwrap-or finding");
    let change = &fixed["fixes"][0]["artifactChanges"][0];
    assert_eq!(change["artifactLocation"]["uri"], "src/width.rs");
    let replacement = &change["replacements"][0];
    let start = replacement["deletedRegion"]["byteOffset"]
        .as_u64()
        .expect("offset") as usize;
    let length = replacement["deletedRegion"]["byteLength"]
        .as_u64()
        .expect("length") as usize;
    let text = replacement["insertedContent"]["text"]
        .as_str()
        .expect("text");
    let after = format!("{}{text}{}", &width[..start], &width[start + length..]);
    assert!(after.contains("    name.map_or(0, str::len)\n"), "{after}");
    assert!(
        results
            .iter()
            .filter(|r| r["ruleId"] == "unwrap-in-lib")
            .all(|r| r.get("fixes").is_none()),
        "a finding without a fix offers none"
    );

    // The check can fail: a result without its message is not SARIF.
    let mut broken = log.clone();
    if let Some(result) = broken["runs"][0]["results"][0].as_object_mut() {
        result.remove("message");
    }
    assert!(schema_errors(&schema, &broken).is_some_and(|e| e.contains("message")));
}

#[test]
fn the_findings_cache_follows_files_their_parents_and_the_rules() {
    let env = TestEnv::new();
    let helpers = "pub fn f(x: Option<u8>) -> u8 {\n    x.unwrap()\n}\n";
    let repo = env.repo_with(
        "cached",
        &[
            (
                "Cargo.toml",
                "[package]\nname = \"cached\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
            ),
            ("src/lib.rs", "//! A crate.\n\nmod helpers;\n"),
            ("src/helpers.rs", helpers),
        ],
    );
    let unwraps = |run: &Run| -> Vec<(String, String)> {
        run.stdout
            .lines()
            .map(|line| serde_json::from_str::<Value>(line).expect("a JSON line"))
            .filter(|f| f["rule"] == "unwrap-in-lib")
            .map(|f| {
                (
                    f["path"].as_str().unwrap_or_default().to_owned(),
                    f["severity"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    };
    let library = [("src/helpers.rs".to_owned(), "warning".to_owned())];
    let first = review(&env, &repo, &["--json"]);
    assert_eq!(unwraps(&first), library, "{}", first.stderr);
    assert!(repo.join(".nova/review/findings.bin").is_file());
    let again = review(&env, &repo, &["--json"]);
    assert_eq!(
        again.stdout, first.stdout,
        "the cache gives what the rules gave"
    );

    // The parent now declares the module as test code: the child, unchanged, is reviewed anew.
    write(
        &repo,
        "src/lib.rs",
        "//! A crate.\n\n#[cfg(test)]\nmod helpers;\n",
    );
    assert_eq!(unwraps(&review(&env, &repo, &["--json"])), []);
    write(&repo, "src/lib.rs", "//! A crate.\n\nmod helpers;\n");
    assert_eq!(unwraps(&review(&env, &repo, &["--json"])), library);

    // The manifest now promises Rust 1.60, where `reason = ...` does not compile: the child,
    // unchanged, is reviewed anew and `allow-without-reason` no longer applies.
    let allows = |run: &Run| {
        run.stdout
            .lines()
            .filter(|line| line.contains("\"allow-without-reason\""))
            .count()
    };
    write(
        &repo,
        "src/helpers.rs",
        &format!("#[allow(dead_code)]\nfn g() {{}}\n{helpers}"),
    );
    assert_eq!(allows(&review(&env, &repo, &["--json", "--all"])), 1);
    let manifest = std::fs::read_to_string(repo.join("Cargo.toml")).expect("manifest");
    write(
        &repo,
        "Cargo.toml",
        &format!("{manifest}rust-version = \"1.60\"\n"),
    );
    assert_eq!(allows(&review(&env, &repo, &["--json", "--all"])), 0);
    write(&repo, "Cargo.toml", &manifest);
    write(&repo, "src/helpers.rs", helpers);
    assert_eq!(unwraps(&review(&env, &repo, &["--json"])), library);

    // A changed rule is another cache.
    let override_rule = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/rust/unwrap-in-lib.toml"),
    )
    .expect("the built-in rule")
    .replace("severity = \"warning\"", "severity = \"error\"");
    write(&repo, ".nova/rules/unwrap-in-lib.toml", &override_rule);
    assert_eq!(
        unwraps(&review(&env, &repo, &["--json"])),
        [("src/helpers.rs".to_owned(), "error".to_owned())]
    );

    // A cache that cannot be read is rebuilt, never trusted.
    std::fs::write(repo.join(".nova/review/findings.bin"), b"NOVAREV\0garbage").expect("write");
    assert_eq!(
        unwraps(&review(&env, &repo, &["--json"])),
        [("src/helpers.rs".to_owned(), "error".to_owned())]
    );
}

#[test]
fn a_repository_rule_written_as_a_pattern_reviews_like_a_query() {
    let (env, repo) = setup();
    write(
        &repo,
        ".nova/rules/first-unwrap.toml",
        "id = \"first-unwrap\"\nagent = \"correctness-reviewer\"\nseverity = \"error\"\n\
         message = \"say why the slice is not empty\"\nwhy = \"house style\"\n\
         pattern = '*$ITEMS.first().unwrap()'\n\n[[example]]\nmatches = 1\n\
         code = 'pub fn a(v: &[u8]) -> u8 { *v.first().unwrap() + *v.last().unwrap() }'\n",
    );
    let tested = env.nova_in(&repo, ["rules", "test"]);
    assert_eq!(tested.code, 0, "{}", tested.both());
    let run = review(&env, &repo, &["--json", "--fail-on", "error"]);
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(
        found(&run).contains(&("first-unwrap".to_owned(), "src/lib.rs".to_owned(), 2)),
        "{}",
        run.stdout
    );
}

#[test]
fn every_json_line_is_a_finding_as_its_schema_says() {
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/schemas/finding.json"),
        )
        .expect("tests/schemas/finding.json"),
    )
    .expect("the schema is JSON");
    let (env, repo) = setup();
    write(
        &repo,
        "src/width.rs",
        "pub fn width(name: Option<&str>) -> usize {\n    name.map(str::len).unwrap_or(0)\n}\n",
    );
    let run = review(&env, &repo, &["--json"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let lines: Vec<Value> = run
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).expect("a JSON line"))
        .collect();
    assert!(
        lines.iter().any(|f| f["fix"].is_object()),
        "one finding has a fix"
    );
    for line in &lines {
        assert_eq!(schema_errors(&schema, line), None, "{line}");
    }
    // The check can fail: a finding without its fingerprint is not one.
    let mut broken = lines[0].clone();
    if let Some(finding) = broken.as_object_mut() {
        finding.remove("fingerprint");
    }
    assert!(schema_errors(&schema, &broken).is_some_and(|e| e.contains("fingerprint")));
}
