//! `nova agents`: the built-in set, a repository's own agents, and `check` on broken sets.

use std::collections::BTreeSet;

use crate::common::{TestEnv, source_root, write};

/// A valid agent file for `name`, with `extra` lines added to its front matter and `replace`
/// applied to it.
fn agent(name: &str, extra: &str, replace: (&str, &str)) -> String {
    let text = format!(
        "+++\nname = \"{name}\"\nrole = \"reviewer\"\ndescription = \"Finds things\"\n\
         scope = {{ read = [\"src/**/*.rs\"], write = [] }}\n\
         tools = [\"read_file\", \"report_finding\"]\n{extra}\
         budget = {{ turns = 4, tokens = 1000, seconds = 60 }}\noutput = \"findings\"\n+++\nFind things.\n"
    );
    text.replace(replace.0, replace.1)
}

const KEEP: (&str, &str) = ("", "");

#[test]
fn the_built_in_set_checks_clean() {
    let env = TestEnv::new();
    let run = env.nova(["agents", "check"]);
    assert_eq!(run.code, 0, "{}", run.both());
    insta::assert_snapshot!(run.stdout, @"ok: 15 agents and 3 pipelines checked, no problems");
}

#[test]
fn the_source_agents_directory_checks_clean() {
    let env = TestEnv::new();
    let dir = source_root().join("agents");
    let run = env.nova([
        std::ffi::OsStr::new("agents"),
        "check".as_ref(),
        dir.as_os_str(),
    ]);
    assert_eq!(run.code, 0, "{}", run.both());
}

#[test]
fn every_file_in_agents_is_embedded() {
    let env = TestEnv::new();
    let run = env.nova(["--json", "agents", "show", "improve"]);
    assert_eq!(run.code, 0, "{}", run.both());

    let mut on_disk = BTreeSet::new();
    let dir = source_root().join("agents");
    for entry in std::fs::read_dir(&dir).expect("agents/") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            on_disk.insert(
                path.file_stem()
                    .expect("stem")
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
    for entry in std::fs::read_dir(dir.join("pipelines")).expect("agents/pipelines/") {
        let path = entry.expect("entry").path();
        on_disk.insert(
            path.file_stem()
                .expect("stem")
                .to_string_lossy()
                .into_owned(),
        );
    }

    let listing: serde_json::Value =
        serde_json::from_str(&env.nova(["--json", "agents", "list"]).stdout).expect("json");
    let mut embedded = BTreeSet::new();
    for kind in ["agents", "pipelines"] {
        for item in listing[kind].as_array().expect("array") {
            assert_eq!(item["source"], "built-in");
            embedded.insert(item["name"].as_str().expect("name").to_owned());
        }
    }
    assert_eq!(embedded, on_disk);
}

#[test]
fn list_shows_roles_and_sources() {
    let env = TestEnv::new();
    let repo = env.repo("r");
    write(
        &repo,
        ".nova/agents/chat.md",
        &agent("chat", "", ("role = \"reviewer\"", "role = \"reviewer\"")),
    );
    write(
        &repo,
        ".nova/agents/license-reviewer.md",
        &agent("license-reviewer", "", KEEP),
    );
    write(
        &repo,
        "nova.toml",
        "[agents]\ndisabled = [\"docs-reviewer\"]\n",
    );
    let run = env.nova_in(&repo, ["agents", "list"]);
    assert_eq!(run.code, 0, "{}", run.both());
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn show_prints_the_resolved_definition() {
    let env = TestEnv::new();
    let run = env.nova(["agents", "show", "error-handling-reviewer"]);
    assert_eq!(run.code, 0, "{}", run.both());
    insta::assert_snapshot!(run.stdout);

    let json: serde_json::Value =
        serde_json::from_str(&env.nova(["--json", "agents", "show", "fixer"]).stdout)
            .expect("json");
    assert_eq!(json["role"], "fixer");
    assert_eq!(json["output"], "patch");
    assert_eq!(json["origin"]["path"], "agents/fixer.md");
    assert!(
        json["prompt"]
            .as_str()
            .expect("prompt")
            .contains("never edit")
    );
}

#[test]
fn show_a_pipeline() {
    let env = TestEnv::new();
    let run = env.nova(["agents", "show", "improve"]);
    assert_eq!(run.code, 0, "{}", run.both());
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn show_an_unknown_name_suggests() {
    let env = TestEnv::new();
    let run = env.nova(["agents", "show", "refactorr"]);
    assert_eq!(run.code, 2);
    insta::assert_snapshot!(run.stderr, @"error: no agent or pipeline is named `refactorr`; did you mean `refactorer`?");
}

#[test]
fn a_repository_agent_overrides_the_built_in_one() {
    let env = TestEnv::new();
    let repo = env.repo("r");
    let custom = agent(
        "docs-reviewer",
        "",
        ("Find things.", "Only check the README."),
    );
    write(&repo, ".nova/agents/docs-reviewer.md", &custom);
    let json: serde_json::Value = serde_json::from_str(
        &env.nova_in(&repo, ["--json", "agents", "show", "docs-reviewer"])
            .stdout,
    )
    .expect("json");
    assert_eq!(json["prompt"], "Only check the README.");
    assert_eq!(json["origin"]["path"], ".nova/agents/docs-reviewer.md");
    assert_eq!(json["overrides"]["path"], "agents/docs-reviewer.md");
}

#[test]
fn broken_agent_files_each_give_their_error() {
    let env = TestEnv::new();
    let dir = env.outside().join("broken");
    let files = [
        (
            "unknown-field.md",
            agent("unknown-field", "colour = \"red\"\n", KEEP),
        ),
        (
            "bad-tool.md",
            agent(
                "bad-tool",
                "",
                ("\"report_finding\"]", "\"report_finding\", \"serach\"]"),
            ),
        ),
        ("ping.md", agent("ping", "handoff = [\"pong\"]\n", KEEP)),
        ("pong.md", agent("pong", "handoff = [\"ping\"]\n", KEEP)),
        (
            "lost.md",
            agent("lost", "handoff = [\"refactorr\", \"lost\"]\n", KEEP),
        ),
        (
            "bad-glob.md",
            agent("bad-glob", "", ("src/**/*.rs", "src/[a-")),
        ),
        (
            "escape.md",
            agent("escape", "", ("src/**/*.rs", "../secrets/**")),
        ),
        ("lazy.md", agent("lazy", "", ("turns = 4", "turns = 0"))),
        (
            "greedy.md",
            agent("greedy", "", ("tokens = 1000", "tokens = 99000000")),
        ),
        ("misnamed.md", agent("other", "", KEEP)),
        ("other.md", agent("other", "", KEEP)),
        ("no-fences.md", String::from("name = \"no-fences\"\n")),
        (
            "wrong-output.md",
            agent(
                "wrong-output",
                "",
                ("output = \"findings\"", "output = \"patch\""),
            ),
        ),
        (
            "writer-without-scope.md",
            agent(
                "writer-without-scope",
                "",
                (
                    "\"report_finding\"]",
                    "\"report_finding\", \"propose_edit\"]",
                ),
            ),
        ),
        (
            "bad-role.md",
            agent(
                "bad-role",
                "",
                ("role = \"reviewer\"", "role = \"reveiwer\""),
            ),
        ),
        (
            "bad-rule.md",
            agent("bad-rule", "builtin = [\"eslint::no-var\"]\n", KEEP),
        ),
        (
            "no-budget.md",
            agent(
                "no-budget",
                "",
                ("budget = { turns = 4, tokens = 1000, seconds = 60 }\n", ""),
            ),
        ),
        (
            "empty-prompt.md",
            agent("empty-prompt", "", ("Find things.", "")),
        ),
    ];
    for (file, text) in &files {
        write(&dir, file, text);
    }
    write(
        &dir,
        "pipelines/broken.toml",
        "name = \"broken\"\ndescription = \"d\"\n\n[[stage]]\nname = \"fix\"\nagents = [\"refactorr\", \"ping\"]\n\
         input = \"task\"\noutput = [\"patches\"]\n\n[[stage]]\nname = \"check\"\nstep = \"validate\"\n\
         input = \"patches\"\noutput = [\"reports\"]\nrepair = \"chat\"\n",
    );
    write(
        &dir,
        "pipelines/typo.toml",
        "name = \"typo\"\ndescription = \"d\"\n[[stages]]\nname = \"x\"\n",
    );

    let run = env.nova_in(&env.outside(), ["agents", "check", "broken"]);
    assert_eq!(run.code, 1, "{}", run.both());
    insta::assert_snapshot!(run.stdout);

    let json: serde_json::Value =
        serde_json::from_str(&env.nova(["--json", "agents", "check", "broken"]).stdout)
            .expect("json");
    assert!(json["problems"].as_array().expect("problems").len() > 15);
    assert_eq!(json["problems"][0]["path"], "broken/bad-glob.md");
}

#[test]
fn the_repository_set_is_checked_with_its_config() {
    let env = TestEnv::new();
    let repo = env.repo("r");
    write(
        &repo,
        "nova.toml",
        "[agents]\ndisabled = [\"doc-reviewer\"]\n",
    );
    write(
        &repo,
        ".nova/agents/mine.md",
        &agent("mine", "handoff = [\"nobody\"]\n", KEEP),
    );
    let run = env.nova_in(&repo, ["agents", "check"]);
    assert_eq!(run.code, 1);
    insta::assert_snapshot!(run.stdout, @r"
    .nova/agents/mine.md:7: unknown agent `nobody`; `nova agents list` shows the agents there are
    nova.toml: `agents.disabled` names unknown agent `doc-reviewer`; did you mean `docs-reviewer`?
    failed: 16 agents and 3 pipelines checked, 2 problem(s)
    ");
    let listed = env.nova_in(&repo, ["agents", "list"]);
    assert_eq!(listed.code, 0);
    assert!(
        listed.stderr.contains("run `nova agents check`"),
        "{}",
        listed.stderr
    );
}

#[test]
fn check_a_missing_path_is_a_usage_error() {
    let env = TestEnv::new();
    let run = env.nova(["agents", "check", "nowhere"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("`nowhere` does not exist"),
        "{}",
        run.stderr
    );
}

#[test]
fn one_file_with_three_problems_gives_all_three_in_one_run() {
    let env = TestEnv::new();
    let dir = env.outside().join("three");
    let text = agent(
        "three",
        "colour = \"red\"\nhandoff = [\"nobody\"]\n",
        ("\"report_finding\"]", "\"report_finding\", \"serach\"]"),
    );
    write(&dir, "three.md", &text);
    let run = env.nova_in(&env.outside(), ["agents", "check", "three"]);
    assert_eq!(run.code, 1, "{}", run.both());
    insta::assert_snapshot!(run.stdout, @r"
    three/three.md:6: unknown tool `serach`; did you mean `search`?
    three/three.md:7: unknown key `colour`; valid keys: `name`, `role`, `description`, `scope`, `tools`, `model`, `part`, `handoff`, `budget`, `builtin`, `acceptance`, `may_silence`, `may_add_dependencies`, `may_change_api`, `output`
    three/three.md:8: unknown agent `nobody`; `nova agents list` shows the agents there are
    failed: 16 agents and 3 pipelines checked, 3 problem(s)
    ");
}
