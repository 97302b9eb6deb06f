//! The map for a task in plain words: ranking on fixture repositories with known answers, `nova
//! map --task` and `--explain` from the command line, the budget never exceeded over random
//! budgets and tasks, and the same map for the same inputs.

use std::path::PathBuf;

use nova::index::{Focus, Index, count_tokens};

use crate::common::{TestEnv, source_root, write};

const MODULES: [&str; 10] = [
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet",
];

/// Ten modules that each define `Error`, `new` and `build` and use one another, and `walker.rs`,
/// which is about walking directories and which nothing uses.
fn namesakes_repo(env: &TestEnv) -> PathBuf {
    let root = env.outside().join("namesakes");
    let mut lib = String::new();
    for (i, name) in MODULES.iter().enumerate() {
        let next = MODULES[(i + 1) % MODULES.len()];
        let cap = |s: &str| s[..1].to_uppercase() + &s[1..];
        write(
            &root,
            &format!("src/{name}.rs"),
            &format!(
                "use crate::{next}::{}Config;\n\
                 pub type Error = std::io::Error;\n\
                 pub struct {}Config {{ pub level: u32 }}\n\
                 impl {}Config {{\n    \
                     pub fn new() -> Self {{ Self {{ level: 0 }} }}\n    \
                     pub fn build(&self) -> Result<u32, Error> {{ {}Config::new().build() }}\n\
                 }}\n",
                cap(next),
                cap(name),
                cap(name),
                cap(next),
            ),
        );
        lib.push_str(&format!("pub mod {name};\n"));
    }
    write(
        &root,
        "src/walker.rs",
        "pub type Error = std::io::Error;\n\
         pub struct Walker { hidden: bool }\n\
         impl Walker {\n    \
             pub fn new() -> Self { Walker { hidden: false } }\n    \
             pub fn skip_hidden(&mut self, yes: bool) -> &mut Self { self.hidden = yes; self }\n    \
             fn visit_directory(&self, path: &str) -> Result<(), Error> { Ok(()) }\n    \
             fn enter_child(&self) {}\n\
         }\n\
         fn is_hidden(name: &str) -> bool { name.starts_with('.') }\n",
    );
    lib.push_str("pub mod walker;\n");
    write(&root, "src/lib.rs", &lib);
    root
}

/// The files of `map`, in order.
fn sections(map: &str) -> Vec<&str> {
    map.lines()
        .filter(|line| !line.contains('│'))
        .filter_map(|line| line.strip_suffix(':'))
        .collect()
}

#[test]
fn a_common_name_does_not_crowd_out_the_file_the_task_is_about() {
    let env = TestEnv::new();
    let root = namesakes_repo(&env);
    let index = Index::build_with_cache(&root, None);
    let task = "Make `new` skip hidden directories, and return an `Error` when a directory \
                cannot be visited";
    let map = index.map(&Focus::from_task(task), 160);
    let files = sections(&map.text);
    assert_eq!(files.first(), Some(&"src/walker.rs"), "{}", map.text);
    for item in ["skip_hidden", "visit_directory", "is_hidden"] {
        assert!(map.text.contains(item), "{item} missing:\n{}", map.text);
    }
    // The method of the type the task is about, not the ten namesakes.
    assert_eq!(map.text.matches("fn new").count(), 1, "{}", map.text);
    let namesakes = map.text.matches("type Error").count();
    assert!(namesakes <= 2, "{namesakes} `Error`s:\n{}", map.text);

    // Without the task, the modules everyone uses come first and the walker is not shown.
    let plain = index.map(&Focus::default(), 160);
    assert!(!plain.text.contains("visit_directory"), "{}", plain.text);
}

/// A workspace of three crates: `alpha` and `beta` define the same names; `gamma` uses `alpha`
/// everywhere, so that `alpha` leads the map of no task.
fn workspace_repo(env: &TestEnv) -> PathBuf {
    let root = env.outside().join("workspace");
    for name in ["alpha", "beta"] {
        write(
            &root,
            &format!("crates/{name}/src/lib.rs"),
            "pub struct Options { pub strict: bool }\n\
             pub fn parse_config(text: &str, options: &Options) -> Vec<String> { split_lines(text) }\n\
             fn split_lines(text: &str) -> Vec<String> { Vec::new() }\n\
             fn read_twice(text: &str) -> usize { 2 }\n",
        );
    }
    let mut gamma = String::new();
    for i in 0..8 {
        gamma.push_str(&format!(
            "pub fn use_{i}(o: &alpha::Options) {{ alpha::parse_config(\"\", o); }}\n"
        ));
    }
    write(&root, "crates/gamma/src/lib.rs", &gamma);
    root
}

#[test]
fn a_directory_prefix_focuses_its_crate() {
    let env = TestEnv::new();
    let root = workspace_repo(&env);
    let index = Index::build_with_cache(&root, None);
    let plain = index.map(&Focus::default(), 60);
    assert_eq!(
        sections(&plain.text).first(),
        Some(&"crates/alpha/src/lib.rs"),
        "{}",
        plain.text
    );
    let map = index.map(&Focus::from_task("beta: parse the config twice"), 60);
    let files = sections(&map.text);
    assert_eq!(
        files.first(),
        Some(&"crates/beta/src/lib.rs"),
        "{}",
        map.text
    );
    assert!(map.text.contains("read_twice"), "{}", map.text);
}

#[test]
fn nova_map_task_reads_stdin_and_explains_each_file() {
    let env = TestEnv::new();
    let root = workspace_repo(&env);
    git2::Repository::init(&root).expect("a repository");
    let run = env.nova_with_input(
        &root,
        ["map", "--task", "-", "--explain", "--tokens", "80"],
        "beta: parse the config twice\n",
    );
    let stdout = &run.stdout;
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(stdout.starts_with("crates/beta/src/lib.rs:\n"), "{stdout}");
    assert!(stdout.contains("Why these files"), "{stdout}");
    assert!(
        stdout.contains("crates/beta/src/lib.rs")
            && stdout.contains("in `beta`, which the task's prefix names"),
        "{stdout}"
    );
    assert!(stdout.contains("`read_twice` (twice)"), "{stdout}");

    let json = env.nova_in(
        &root,
        [
            "--json",
            "map",
            "--task",
            "Fix `parse_config` in crates/beta/src/lib.rs",
        ],
    );
    assert_eq!(json.code, 0, "{}", json.both());
    let value: serde_json::Value = serde_json::from_str(&json.stdout).expect("json");
    assert_eq!(value["focus"]["names"][0], "parse_config", "{value}");
    assert_eq!(
        value["focus"]["paths"][0], "crates/beta/src/lib.rs",
        "{value}"
    );
    assert_eq!(
        value["map"]["paths"][0], "crates/beta/src/lib.rs",
        "{value}"
    );

    let empty = env.nova_in(&root, ["map", "--task", "  "]);
    assert_eq!(empty.code, 2, "{}", empty.both());
    assert!(
        empty.stderr.contains("has no words to rank by"),
        "{}",
        empty.stderr
    );
}

#[test]
fn a_task_map_is_never_over_its_budget_and_the_same_for_the_same_inputs() {
    let index = Index::build_with_cache(&source_root(), None);
    let again = Index::build_with_cache(&source_root(), None);
    let words = [
        "repository",
        "map",
        "budget",
        "sandbox",
        "landlock",
        "commit",
        "branch",
        "agent",
        "review",
        "finding",
        "token",
        "cache",
        "`Index::map`",
        "src/index/map.rs",
        "index:",
        "the",
        "Error",
        "new",
        "build",
        "evolve",
        "variant",
        "clippy",
        "rustfmt",
        "route",
    ];
    // A small deterministic generator: budgets over 64..=8192, tasks of 1 to 12 words.
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..20 {
        let budget = 64 + (next() % (8192 - 64 + 1)) as usize;
        let n = 1 + (next() % 12) as usize;
        let task: Vec<&str> = (0..n)
            .map(|_| words[(next() % words.len() as u64) as usize])
            .collect();
        let task = task.join(" ");
        let focus = Focus::from_task(&task);
        let map = index.map(&focus, budget);
        assert!(
            map.tokens <= budget,
            "{} tokens for a budget of {budget}, task {task:?}",
            map.tokens
        );
        assert_eq!(map.tokens, count_tokens(&map.text), "the count is exact");
        let same = again.map(&Focus::from_task(&task), budget);
        assert_eq!(same.text, map.text, "task {task:?}, budget {budget}");
    }
}

#[test]
fn a_doc_comment_says_what_an_item_is_about() {
    let env = TestEnv::new();
    let root = env.outside().join("docs");
    write(
        &root,
        "src/stats.rs",
        "/// Counts the words of every line.\npub fn tally(text: &str) -> usize { 0 }\n\
         pub fn median(values: &[u32]) -> u32 { 0 }\n",
    );
    for i in 0..5 {
        write(
            &root,
            &format!("src/user{i}.rs"),
            &format!("pub fn user_{i}() {{ crate::stats::median(&[]); }}\n"),
        );
    }
    let index = Index::build_with_cache(&root, None);
    let map = index.map(&Focus::from_task("count the words of each line"), 30);
    assert!(
        map.text.starts_with("src/stats.rs:\n2│pub fn tally"),
        "{}",
        map.text
    );
    let why = index.explain(&Focus::from_task("count the words of each line"), &map);
    assert_eq!(
        why[0].defs,
        [(
            String::from("tally"),
            vec![String::from("doc: count line word")]
        )]
    );
}
