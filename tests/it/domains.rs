//! Domain agents: `nova agents scaffold` on a workspace of three crates and on one large crate,
//! its idempotence with a person's edits kept, `nova agents boundaries`, and routing a change
//! request to the owner of the part it is about, offline.

use std::path::{Path, PathBuf};

use crate::act::ask;
use crate::common::{TestEnv, write};
use crate::model_server::ModelServer;

const DOMAINS: &str = ".nova/agents/domains";

fn manifest(name: &str, description: &str) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\
         description = \"{description}\"\n"
    )
}

/// A workspace of three crates: `shop-parse` reads orders, `shop-price` totals them, `shop-cli`
/// uses both.
fn shop(env: &TestEnv) -> PathBuf {
    let parse = manifest("shop-parse", "Parsing of order files");
    let price = manifest("shop-price", "Prices for orders");
    let cli = manifest("shop-cli", "The shop's command line");
    env.repo_with(
        "shop",
        &[
            (
                "Cargo.toml",
                "[workspace]\nmembers = [\"crates/*\"]\nresolver = \"2\"\n",
            ),
            ("crates/parse/Cargo.toml", &parse),
            (
                "crates/parse/src/lib.rs",
                "//! Parses order files into order lines, one per line of text.\n\n\
                 /// One line of an order.\npub struct OrderLine {\n    pub sku: String,\n    \
                 pub quantity: u32,\n}\n\n/// The lines of an order file.\n\
                 pub fn parse_order(text: &str) -> Vec<OrderLine> {\n    text.lines()\n        \
                 .map(|l| OrderLine { sku: l.to_owned(), quantity: 1 })\n        .collect()\n}\n",
            ),
            (
                "crates/parse/README.md",
                "# shop-parse\n\nReads the order files the shop receives.\n\n## Format\n\nOne SKU per line.\n",
            ),
            ("crates/price/Cargo.toml", &price),
            (
                "crates/price/src/lib.rs",
                "//! Prices orders: discounts, taxes and the total.\n\n\
                 /// The total of `lines`, in cents, with the discount applied.\n\
                 pub fn total(lines: &[shop_parse::OrderLine]) -> u64 {\n    \
                 apply_discount(lines.iter().map(|l| u64::from(l.quantity) * 100).sum())\n}\n\n\
                 /// Ten percent off above a thousand cents.\n\
                 pub fn apply_discount(cents: u64) -> u64 {\n    \
                 if cents > 1000 { cents - cents / 10 } else { cents }\n}\n",
            ),
            ("crates/cli/Cargo.toml", &cli),
            (
                "crates/cli/src/main.rs",
                "//! The shop's command line: reads an order file and prints its total.\n\n\
                 fn main() {\n    let lines = shop_parse::parse_order(\"a\\nb\\n\");\n    \
                 println!(\"{}\", shop_price::total(&lines));\n}\n",
            ),
        ],
    )
}

fn read(repo: &Path, name: &str) -> String {
    std::fs::read_to_string(repo.join(DOMAINS).join(format!("{name}.md")))
        .unwrap_or_else(|e| panic!("{name}.md: {e}"))
}

#[test]
fn scaffold_writes_one_owner_per_crate_of_a_workspace() {
    let env = TestEnv::new();
    let repo = shop(&env);
    let run = env.nova_in(&repo, ["agents", "scaffold", "--dry-run"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(!repo.join(DOMAINS).exists(), "a dry run writes nothing");
    assert!(
        run.stdout.contains("(dry run: not written)"),
        "{}",
        run.stdout
    );

    let run = env.nova_in(&repo, ["--json", "agents", "scaffold"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let plan: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let agents: Vec<(&str, &str, &str)> = plan["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .map(|a| {
            (
                a["name"].as_str().expect("name"),
                a["part"].as_str().expect("part"),
                a["action"].as_str().expect("action"),
            )
        })
        .collect();
    assert_eq!(
        agents,
        [
            ("shop-cli", "crates/cli", "create"),
            ("shop-parse", "crates/parse", "create"),
            ("shop-price", "crates/price", "create"),
        ]
    );
    let price = read(&repo, "shop-price");
    for expected in [
        "part = \"crates/price\"",
        "write = [\"crates/price/**\"]",
        "description = \"Owns `crates/price` (the `shop-price` crate): Prices orders: discounts, taxes and the total.\"",
        "## Its public API",
        "`total`, `apply_discount`",
        "- uses `crates/parse` (its agent `shop-parse`): OrderLine",
        "- used by `crates/cli` (its agent `shop-cli`): total",
    ] {
        assert!(price.contains(expected), "`{expected}` in:\n{price}");
    }
    // A crate's README says what it is.
    let parse = read(&repo, "shop-parse");
    assert!(
        parse.contains("Reads the order files the shop receives."),
        "{parse}"
    );
    assert!(
        !parse.contains("One SKU per line"),
        "only the first section: {parse}"
    );

    let run = env.nova_in(&repo, ["agents", "check"]);
    assert_eq!(
        run.code,
        0,
        "the generated agents check clean: {}",
        run.both()
    );
    let run = env.nova_in(&repo, ["--json", "agents", "boundaries"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let found: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(found["overlaps"], serde_json::json!([]), "{found}");
    assert_eq!(found["orphans"], serde_json::json!([]), "{found}");
    let crossings: Vec<(&str, &str)> = found["crossings"]
        .as_array()
        .expect("crossings")
        .iter()
        .map(|c| {
            (
                c["from"].as_str().unwrap_or(""),
                c["to"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        crossings,
        [
            ("shop-cli", "shop-parse"),
            ("shop-cli", "shop-price"),
            ("shop-price", "shop-parse")
        ]
    );
}

#[test]
fn scaffold_says_what_to_do_where_there_is_no_crate() {
    let env = TestEnv::new();
    let repo = env.repo_with("plain", &[("main.py", "print('hi')\n")]);
    let run = env.nova_in(&repo, ["agents", "scaffold"]);
    assert_eq!(run.code, 2, "{}", run.both());
    assert!(run.stderr.contains("found no crate"), "{}", run.stderr);
    assert!(!repo.join(DOMAINS).exists(), "nothing written");
}

/// `lines` lines of Rust: one function each.
fn filler(prefix: &str, lines: usize) -> String {
    (0..lines)
        .map(|i| format!("pub fn {prefix}_{i}() -> usize {{ {i} }}\n"))
        .collect()
}

#[test]
fn a_large_crate_gets_an_owner_per_large_top_level_module() {
    let env = TestEnv::new();
    let lib = format!(
        "//! The demo engine.\n\npub mod engine;\npub mod store;\npub mod util;\n{}",
        filler("root", 900)
    );
    let engine = format!(
        "//! The engine: plans and runs jobs.\n\nmod plan;\n{}",
        filler("run", 1500)
    );
    let files = [
        ("Cargo.toml", manifest("demo", "A demo")),
        ("src/lib.rs", lib),
        ("src/engine/mod.rs", engine),
        ("src/engine/plan.rs", filler("plan", 1500)),
        ("src/store.rs", filler("store", 2200)),
        ("src/util.rs", filler("util", 300)),
        ("tests/it.rs", String::from("#[test]\nfn works() {}\n")),
    ];
    let borrowed: Vec<(&str, &str)> = files.iter().map(|(p, t)| (*p, t.as_str())).collect();
    let repo = env.repo_with("large", &borrowed);
    let run = env.nova_in(&repo, ["--json", "agents", "scaffold"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let plan: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let parts: Vec<(String, String, Vec<String>)> = plan["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .map(|a| {
            let write = a["write"].as_array().expect("write");
            (
                a["name"].as_str().unwrap_or("").to_owned(),
                a["kind"].as_str().unwrap_or("").to_owned(),
                write
                    .iter()
                    .map(|w| w.as_str().unwrap_or("").to_owned())
                    .collect(),
            )
        })
        .collect();
    let expect = |name: &str, kind: &str, write: &[&str]| {
        (
            name.to_owned(),
            kind.to_owned(),
            write.iter().map(|w| (*w).to_owned()).collect::<Vec<_>>(),
        )
    };
    assert_eq!(
        parts,
        [
            expect("demo", "crate", &["src/lib.rs", "src/util.rs", "tests/**"]),
            expect("demo-engine", "module", &["src/engine/**"]),
            expect("demo-store", "module", &["src/store.rs"]),
        ]
    );
    let engine = read(&repo, "demo-engine");
    assert!(
        engine.contains("The engine: plans and runs jobs."),
        "{engine}"
    );
    let run = env.nova_in(&repo, ["agents", "boundaries"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(run.stdout.contains("overlaps: 0"), "{}", run.stdout);
    assert!(run.stdout.contains("orphans: 0"), "{}", run.stdout);
}

fn action_of(run: &crate::common::Run, name: &str) -> serde_json::Value {
    let plan: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    let agent = plan["agents"]
        .as_array()
        .expect("agents")
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {plan}"));
    agent["action"].clone()
}

#[test]
fn scaffold_again_updates_what_it_wrote_and_keeps_what_a_person_edited() {
    let env = TestEnv::new();
    let repo = shop(&env);
    let run = env.nova_in(&repo, ["agents", "scaffold"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let before: Vec<String> = ["shop-cli", "shop-parse", "shop-price"]
        .iter()
        .map(|n| read(&repo, n))
        .collect();
    let run = env.nova_in(&repo, ["--json", "agents", "scaffold"]);
    for name in ["shop-cli", "shop-parse", "shop-price"] {
        assert_eq!(action_of(&run, name), "unchanged", "{}", run.stdout);
    }
    let after: Vec<String> = ["shop-cli", "shop-parse", "shop-price"]
        .iter()
        .map(|n| read(&repo, n))
        .collect();
    assert_eq!(before, after, "a second run changes nothing");

    // A person edits parse's front matter, price's generated block, and adds to cli's prompt.
    let edit = |name: &str, from: &str, to: &str| {
        let text = read(&repo, name);
        assert!(text.contains(from), "{from} in {text}");
        write(
            &repo.join(DOMAINS),
            &format!("{name}.md"),
            &text.replacen(from, to, 1),
        );
    };
    edit("shop-parse", "turns = 12", "turns = 20");
    edit(
        "shop-price",
        "## Its public API",
        "## Its API (the discount is per order)",
    );
    edit(
        "shop-cli",
        "Return one patch",
        "Print totals as JSON.\n\nReturn one patch",
    );
    // The code changes: parse and price each export one more function.
    let add = |path: &str, code: &str| {
        let text = std::fs::read_to_string(repo.join(path)).expect("read");
        write(&repo, path, &format!("{text}{code}"));
    };
    add(
        "crates/parse/src/lib.rs",
        "\npub fn parse_line(l: &str) -> String { l.to_owned() }\n",
    );
    add(
        "crates/price/src/lib.rs",
        "\npub fn refund(cents: u64) -> u64 { cents }\n",
    );

    let run = env.nova_in(&repo, ["--json", "agents", "scaffold"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert_eq!(
        action_of(&run, "shop-parse"),
        serde_json::json!({"kept-edits": {"front": true, "block": false}})
    );
    assert_eq!(
        action_of(&run, "shop-price"),
        serde_json::json!({"kept-edits": {"front": false, "block": true}})
    );
    let parse = read(&repo, "shop-parse");
    assert!(parse.contains("turns = 20"), "the edit kept: {parse}");
    assert!(parse.contains("`parse_line`"), "the block updated: {parse}");
    let price = read(&repo, "shop-price");
    assert!(price.contains("(the discount is per order)"), "{price}");
    assert!(
        !price.contains("`refund`"),
        "an edited block is not rewritten: {price}"
    );
    let cli = read(&repo, "shop-cli");
    assert!(cli.contains("Print totals as JSON."), "{cli}");
    let run = env.nova_in(&repo, ["agents", "check"]);
    assert_eq!(run.code, 0, "{}", run.both());

    // A file without the marker is the person's; a part that is gone is named, not deleted.
    write(
        &repo.join(DOMAINS),
        "shop-cli.md",
        &cli.lines()
            .filter(|l| !l.starts_with("# nova:scaffold"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    std::fs::remove_dir_all(repo.join("crates/parse")).expect("remove a crate");
    let run = env.nova_in(&repo, ["agents", "scaffold"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.stdout
            .contains("shop-cli  crates/cli  1 files, 6 lines  left alone"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains(".nova/agents/domains/shop-parse.md: its part is gone"),
        "{}",
        run.stdout
    );
    assert!(repo.join(DOMAINS).join("shop-parse.md").exists());
}

#[test]
fn a_change_request_goes_to_the_owner_of_the_part_it_is_about() {
    let mut env = TestEnv::new();
    env.set_var(crate::act::KEY_VAR, crate::llm::CANARY);
    let repo = shop(&env);
    let run = env.nova_in(&repo, ["agents", "scaffold"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let server = ModelServer::start(Vec::new());
    let route = |task: &str| {
        let run = ask(&env, &repo, &server, &["--explain-route", task]);
        assert_eq!(run.code, 0, "{}", run.both());
        run.stdout
    };
    // Offline, the route is explained with no model configured at all.
    let run = env.nova_in(
        &repo,
        [
            "ask",
            "--explain-route",
            "Fix the discount: it is applied twice",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(run.stdout.starts_with("shop-price: "), "{}", run.stdout);
    let why = route("Fix the discount: it is applied twice to the total");
    assert!(
        why.starts_with("shop-price: the request asks for a change"),
        "{why}"
    );
    assert!(
        why.contains("its files match the task's words: crates/price/src/lib.rs"),
        "{why}"
    );
    assert!(why.contains("its description says"), "{why}");
    assert!(
        route("Make `parse_order` skip blank lines").starts_with("shop-parse: "),
        "a name the part defines"
    );
    let cli = route("Make the command line's `main` read the order file its argument names");
    assert!(cli.starts_with("shop-cli: "), "{cli}");
    // A conventional commit's scope is its author's word for where the change goes, though its
    // words are the prices' (discount, total).
    let scoped = route("fix(cli): make it print the total with its discount");
    assert!(scoped.starts_with("shop-cli: "), "{scoped}");
    assert!(scoped.contains("the task names cli"), "{scoped}");
    // A question is still chat's, and a doc comment still the doc writer's.
    assert!(route("What does the discount do?").starts_with("chat: "));
    assert!(route("Add a doc comment to parse_order").starts_with("doc-writer: "));
    assert!(server.received().is_empty(), "offline: no model call");

    // The model router may choose a domain agent, though its file names none: it is told the parts.
    let server = ModelServer::start(vec![crate::act::calls(
        "r1",
        "handoff",
        &serde_json::json!({"to": "shop-price", "message": "Apply the discount once"}),
    )]);
    let run = ask(
        &env,
        &repo,
        &server,
        &["--route", "model", "--explain-route", "Fix the discount"],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    assert_eq!(
        run.stdout,
        "shop-price: the router chose it: Apply the discount once\n"
    );
    let system = server.received()[0].body["messages"][0]["content"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        system
            .contains("- `shop-price` (refactorer): Owns `crates/price` (the `shop-price` crate)"),
        "{system}"
    );
    // It is told what the offline router makes of the request, to weigh against its meaning.
    assert!(
        system.contains("the offline router ranks first: `shop-price` ("),
        "{system}"
    );
}

/// A library with one fix clippy can make, and a test.
/// `shop` with its domain agents scaffolded.
fn scaffolded_shop(env: &TestEnv) -> PathBuf {
    let repo = shop(env);
    let run = env.nova_in(&repo, ["agents", "scaffold"]);
    assert_eq!(run.code, 0, "{}", run.both());
    repo
}

/// `nova ask --explain-route TASK` in `repo`, offline: who would act and why.
fn explain_route(env: &TestEnv, repo: &Path, task: &str) -> String {
    let run = env.nova_in(repo, ["ask", "--explain-route", task]);
    assert_eq!(run.code, 0, "{}", run.both());
    run.stdout
}

#[test]
fn a_task_in_the_repositorys_own_words_goes_where_its_history_put_them() {
    let env = TestEnv::new();
    let repo = scaffolded_shop(&env);
    let route = |task: &str| explain_route(&env, &repo, task);
    // `ledger` is in no file, no name and no description: only the history says whose it is.
    let task = "Make the ledger reject an entry twice";
    let before = route(task);
    assert!(!before.starts_with("shop-price: "), "{before}");
    for (i, subject) in [
        "ledger: keep each entry once",
        "ledger: balance the entries",
    ]
    .iter()
    .enumerate()
    {
        let file = format!("crates/price/src/part{i}.rs");
        crate::bench::commit(&repo, &[(&file, "pub fn f() {}\n")], subject);
    }
    let after = route(task);
    assert!(after.starts_with("shop-price: "), "{after}");
    let said = after
        .split("recent commits to its files say ")
        .nth(1)
        .unwrap_or_default();
    assert!(said.contains("ledger"), "{after}");
}

#[test]
fn the_router_calibrates_its_weights_on_the_repositorys_history_and_keeps_them() {
    let env = TestEnv::new();
    let repo = scaffolded_shop(&env);
    let route = |task: &str| explain_route(&env, &repo, task);
    let task = "cli: show the discount beside the total of the order";
    // Two commits are too few to learn from: the shipped weights, and no word of calibrating.
    let before = route(task);
    assert!(!before.contains("commits that each changed"), "{before}");
    // The authors' habit: the command line's commits name it by its area, in the prices' words.
    let words = ["discount", "total", "price", "cents", "tax", "sum"];
    for i in 0..24 {
        let (file, subject) = match i % 3 {
            0 | 1 => (
                format!("crates/cli/src/show{i}.rs"),
                format!(
                    "cli: show the {} of each order line",
                    words[i % words.len()]
                ),
            ),
            _ => (
                format!("crates/parse/src/read{i}.rs"),
                format!(
                    "parse: read the {} from the order file",
                    words[i % words.len()]
                ),
            ),
        };
        crate::bench::commit(&repo, &[(&file, "pub fn f() {}\n")], &subject);
    }
    let after = route(task);
    assert!(after.starts_with("shop-cli: "), "{after}");
    assert!(
        after.contains("of the last 24 commits that each changed one part's files"),
        "{after}"
    );
    // Kept until the history changes: asked again, it is read, not made again.
    let cache = repo.join(".nova/route/calibration.bin");
    let made = std::fs::metadata(&cache)
        .and_then(|m| m.modified())
        .expect("the calibration is kept");
    assert_eq!(route(task), after);
    assert_eq!(
        std::fs::metadata(&cache).and_then(|m| m.modified()).ok(),
        Some(made)
    );
    crate::bench::commit(
        &repo,
        &[("crates/cli/src/show99.rs", "pub fn g() {}\n")],
        "cli: show the tax of each order line",
    );
    let again = route(task);
    assert!(again.contains("of the last 25 commits"), "{again}");
    assert_ne!(
        std::fs::metadata(&cache).and_then(|m| m.modified()).ok(),
        Some(made)
    );
    // The calibration is not the repository's: `.nova/` ignores what Nova keeps there.
    let git = git2::Repository::open(&repo).expect("open");
    let mut options = git2::StatusOptions::new();
    options
        .include_ignored(false)
        .include_untracked(true)
        .recurse_untracked_dirs(true);
    let statuses = git.statuses(Some(&mut options)).expect("status");
    let shown: Vec<String> = statuses
        .iter()
        .filter_map(|s| s.path().ok().map(str::to_owned))
        .collect();
    assert!(
        !shown.is_empty(),
        "the scaffolded agents are for people to commit"
    );
    assert!(
        shown.iter().all(|p| p.starts_with(".nova/agents/")),
        "{shown:?}"
    );
}

fn fixable(name: &str, body: &str) -> String {
    format!(
        "//! The {name} part.\n\n{body}\n\n#[cfg(test)]\nmod tests {{\n    #[test]\n    \
         fn works() {{\n        assert!(true);\n    }}\n}}\n"
    )
}

#[test]
fn improve_has_each_finding_fixed_by_the_owner_of_its_file() {
    let env = TestEnv::new();
    let plain = |name: &str| {
        format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n")
    };
    let (sum, empty) = (plain("shop-sum"), plain("shop-empty"));
    let sum_lib = fixable(
        "sum",
        "pub fn add(a: i32, b: i32) -> i32 {\n    return a + b;\n}",
    );
    let empty_lib = fixable(
        "empty",
        "pub fn none_left(items: &[i32]) -> bool {\n    items.len() == 0\n}",
    );
    let repo = env.repo_with(
        "owned",
        &[
            (
                "Cargo.toml",
                "[workspace]\nmembers = [\"crates/*\"]\nresolver = \"2\"\n",
            ),
            ("crates/sum/Cargo.toml", &sum),
            ("crates/sum/src/lib.rs", &sum_lib),
            ("crates/empty/Cargo.toml", &empty),
            ("crates/empty/src/lib.rs", &empty_lib),
        ],
    );
    let run = env.nova_in(&repo, ["agents", "scaffold"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let run = env.nova_in(&repo, ["improve", "--branch", "nova/owned"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let all = crate::common::branch_messages(&repo, "nova/owned").join("\n---\n");
    // Both fixes landed, each by its file's owner (proved together, the commit names both).
    assert!(all.contains("\nNova-Agent: shop-sum\n"), "{all}");
    assert!(all.contains("\nNova-Agent: shop-empty\n"), "{all}");
    assert!(!all.contains("Nova-Agent: refactorer"), "{all}");
    let file = |path: &str| crate::common::branch_file(&repo, "nova/owned", path);
    assert!(
        file("crates/sum/src/lib.rs").contains("    a + b\n"),
        "{all}"
    );
    assert!(
        file("crates/empty/src/lib.rs").contains("items.is_empty()"),
        "{all}"
    );
}

/// A domain agent of the repository: writes `globs`.
fn domain(name: &str, globs: &[&str]) -> String {
    let write: Vec<String> = globs.iter().map(|g| format!("\"{g}\"")).collect();
    format!(
        "+++\nname = \"{name}\"\nrole = \"refactorer\"\ndescription = \"Owns {name}\"\n\
         scope = {{ read = [\"**/*\"], write = [{}] }}\ntools = [\"read_file\", \"propose_edit\"]\n\
         budget = {{ turns = 5, tokens = 10000, seconds = 60 }}\noutput = \"patch\"\n+++\nOwn it.\n",
        write.join(", ")
    )
}

#[test]
fn boundaries_name_overlaps_orphans_and_the_uses_that_cross() {
    let env = TestEnv::new();
    let repo = env.repo_with(
        "parts",
        &[
            ("src/a/mod.rs", "pub fn start(c: &crate::b::Config) {}\n"),
            ("src/b/mod.rs", "pub struct Config;\n"),
            ("src/shared.rs", "pub fn helper() {}\n"),
            ("src/main.rs", "fn main() {}\n"),
        ],
    );
    write(
        &repo,
        ".nova/agents/part-a.md",
        &domain("part-a", &["src/a/**"]),
    );
    write(
        &repo,
        ".nova/agents/part-b.md",
        &domain("part-b", &["src/b/**", "src/shared.rs"]),
    );
    write(
        &repo,
        ".nova/agents/part-c.md",
        &domain("part-c", &["src/shared.rs"]),
    );
    let run = env.nova_in(&repo, ["--json", "agents", "boundaries"]);
    assert_eq!(run.code, 1, "an overlap: {}", run.both());
    let found: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(
        found["overlaps"],
        serde_json::json!([["src/shared.rs", ["part-b", "part-c"]]])
    );
    assert!(
        found["orphans"]
            .as_array()
            .expect("orphans")
            .iter()
            .any(|o| o == "src/main.rs"),
        "{found}"
    );
    assert_eq!(
        found["crossings"],
        serde_json::json!([{"from": "part-a", "to": "part-b", "uses": 1, "names": ["Config"]}])
    );

    write(
        &repo,
        ".nova/agents/part-c.md",
        &domain("part-c", &["src/main.rs"]),
    );
    let run = env.nova_in(&repo, ["agents", "boundaries"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(run.stdout.contains("overlaps: 0"), "{}", run.stdout);
    assert!(
        run.stdout.contains("part-a -> part-b: 1 (Config)"),
        "{}",
        run.stdout
    );
}

/// Two crates of a workspace, `shop-price` using `shop-parse`, with their domain agents.
fn two_parts(env: &TestEnv) -> PathBuf {
    let parse = manifest("shop-parse", "Parsing of order lines");
    let price = format!(
        "{}\n[dependencies]\nshop-parse = {{ path = \"../parse\" }}\n",
        manifest("shop-price", "Prices for order lines")
    );
    let repo = env.repo_with(
        "boundary",
        &[
            (
                "Cargo.toml",
                "[workspace]\nmembers = [\"crates/*\"]\nresolver = \"2\"\n",
            ),
            ("crates/parse/Cargo.toml", &parse),
            (
                "crates/parse/src/lib.rs",
                "//! Parses order lines.\n\n/// The SKU of a line.\npub fn sku(line: &str) -> &str {\n    \
                 line.split('*').next().unwrap_or(line)\n}\n",
            ),
            ("crates/price/Cargo.toml", &price),
            (
                "crates/price/src/lib.rs",
                "//! Prices order lines.\n\n/// The price of a line, in cents.\n\
                 pub fn price(line: &str) -> u64 {\n    let _ = shop_parse::sku(line);\n    100\n}\n\n\
                 #[cfg(test)]\nmod tests {\n    #[test]\n    fn prices_a_line() {\n        \
                 assert_eq!(super::price(\"a\"), 100);\n    }\n}\n",
            ),
        ],
    );
    let run = env.nova_in(&repo, ["agents", "scaffold"]);
    assert_eq!(run.code, 0, "{}", run.both());
    repo
}

fn search_replace(path: &str, search: &str, replace: &str) -> serde_json::Value {
    serde_json::json!({
        "edits": format!("{path}\n```rust\n<<<<<<< SEARCH\n{search}\n=======\n{replace}\n>>>>>>> REPLACE\n```\n")
    })
}

/// `shop-price` asks `shop-parse` for a function, `shop-parse` makes it, `shop-price` uses it, the
/// committer describes the whole.
fn boundary_script() -> Vec<crate::model_server::Reply> {
    use crate::act::calls;
    vec![
        // `shop-price` needs a function of `shop-parse`'s: it asks its owner.
        calls(
            "a1",
            "request_change",
            &serde_json::json!({
                "paths": ["crates/parse/src/lib.rs"],
                "change": "add a function that reads a line's quantity, after `*`",
                "why": "a line's price is its unit price times its quantity",
                "interface": "pub fn quantity(line: &str) -> u64 (1 when there is none)"
            }),
        ),
        // `shop-parse` makes it, in its own file, and is done.
        calls(
            "b1",
            "propose_edit",
            &search_replace(
                "crates/parse/src/lib.rs",
                "/// The SKU of a line.",
                "/// The quantity of a line: what follows `*`, else 1.\npub fn quantity(line: &str) -> u64 {\n    line.split('*').nth(1).and_then(|q| q.parse().ok()).unwrap_or(1)\n}\n\n/// The SKU of a line.",
            ),
        ),
        calls(
            "b2",
            "finish",
            &serde_json::json!({"text": "added `quantity`"}),
        ),
        // `shop-price` goes on with its own part.
        calls(
            "a2",
            "propose_edit",
            &search_replace(
                "crates/price/src/lib.rs",
                "    100\n}",
                "    100 * shop_parse::quantity(line)\n}",
            ),
        ),
        calls(
            "a3",
            "finish",
            &serde_json::json!({"text": "Price a line by its quantity"}),
        ),
        calls(
            "m1",
            "finish",
            &serde_json::json!({"text": "Price a line by its quantity\n\nThe parser reads the quantity; the price multiplies by it."}),
        ),
    ]
}

#[test]
fn a_change_across_a_boundary_is_made_by_each_owner_and_lands_as_one_candidate() {
    let mut env = TestEnv::new();
    env.set_var(crate::act::KEY_VAR, crate::llm::CANARY);
    env.set_var("SOURCE_DATE_EPOCH", "1767225600");
    let repo = two_parts(&env);
    let server = ModelServer::start(boundary_script());
    let run = ask(
        &env,
        &repo,
        &server,
        &["--agent", "shop-price", "Price each line by its quantity"],
    );
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.stderr
            .contains("shop-price hands its request for a change to `shop-parse`"),
        "{}",
        run.stderr
    );
    let received = server.received();
    assert_eq!(received.len(), 6, "{}", run.both());
    // The owner is told what, why and the interface, and sees its own part in depth.
    let owner = &received[1].body;
    let system = owner["messages"][0]["content"].as_str().unwrap_or_default();
    assert!(
        system.contains("## Map of your part `crates/parse`"),
        "{system}"
    );
    let task = owner["messages"][1]["content"].as_str().unwrap_or_default();
    assert!(
        task.contains("`shop-price` needs a change in your part"),
        "{task}"
    );
    assert!(
        task.contains("The interface both of you rely on: pub fn quantity(line: &str) -> u64"),
        "{task}"
    );
    // The asker goes on from where it stopped, told what the owner did.
    let resumed = received[3].body.to_string();
    assert!(
        resumed.contains("[`shop-parse` made the change you asked for, in crates/parse/src/lib.rs: added `quantity`."),
        "{resumed}"
    );
    // One commit, both parts, both agents named.
    let messages = crate::common::branch_messages(&repo, "nova/ask/20260101-000000");
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].contains("\nNova-Agent: shop-price\nNova-Agent: shop-parse\n"),
        "{messages:?}"
    );
    let file = |path: &str| crate::common::branch_file(&repo, "nova/ask/20260101-000000", path);
    assert!(file("crates/parse/src/lib.rs").contains("pub fn quantity(line: &str) -> u64"));
    assert!(file("crates/price/src/lib.rs").contains("100 * shop_parse::quantity(line)"));
}

#[test]
fn a_run_killed_while_an_owner_works_resumes_with_the_agent_that_waits() {
    let mut env = TestEnv::new();
    env.set_var(crate::act::KEY_VAR, crate::llm::CANARY);
    env.set_var("SOURCE_DATE_EPOCH", "1767225600");
    let repo = two_parts(&env);
    // The owner proposes its part, then its next request stalls: the run is killed there.
    let mut first = boundary_script();
    let rest = first.split_off(2);
    first.push(crate::model_server::Reply::stream(Vec::new()).ending(
        crate::model_server::End::Stall(std::time::Duration::from_secs(120)),
    ));
    let server = ModelServer::start(first);
    let mut args = vec![String::from("ask")];
    args.extend(crate::act::model_flags(&server));
    args.extend(["--agent", "shop-price", "Price each line by its quantity"].map(String::from));
    let mut child = env
        .nova_command(&repo, args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("nova starts");
    crate::act_limits::wait_for(60, "the owner's second request to stall", || {
        server.stalled() == 1
    });
    child.kill().expect("SIGKILL");
    child.wait().expect("reaped");
    server.stop();
    assert_eq!(crate::common::branches(&repo), ["master"], "nothing landed");

    // Resumed, the owner finishes, the agent that asked goes on, and the change names both.
    let server = ModelServer::start(rest);
    let run = ask(&env, &repo, &server, &["--resume", "20260101-000000"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.stderr
            .contains("resuming run 20260101-000000: `shop-parse` goes on after turn 1"),
        "{}",
        run.stderr
    );
    let resumed = server.received()[1].body.to_string();
    assert!(
        resumed.contains("[`shop-parse` made the change you asked for"),
        "{resumed}"
    );
    let messages = crate::common::branch_messages(&repo, "nova/ask/20260101-000000");
    assert_eq!(messages.len(), 1, "{messages:?}");
    assert!(
        messages[0].contains("\nNova-Agent: shop-price\nNova-Agent: shop-parse\n"),
        "{messages:?}"
    );
}
