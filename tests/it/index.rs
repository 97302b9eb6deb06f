//! The index: tags per language, ranking, the map's budget, the cache, bad input, `nova map`.

use std::path::Path;

use nova::index::{Focus, Index, Lang, count_tokens, extract_tags};

use crate::common::{TestEnv, write};

/// One line per definition: kind, name, lines, scope, visibility, signature.
fn tags(lang: Lang, text: &str) -> String {
    let tags = extract_tags(lang, text);
    let mut out = String::new();
    for d in &tags.defs {
        let scope = d
            .scope
            .as_deref()
            .map(|s| format!(" in {s}"))
            .unwrap_or_default();
        let public = if d.public { "pub " } else { "" };
        out.push_str(&format!(
            "{}-{} {public}{} {}{scope}: {}\n",
            d.line,
            d.end_line,
            d.kind.as_str(),
            d.name,
            d.signature
        ));
    }
    let refs: Vec<String> = tags.refs.iter().map(|(n, c)| format!("{n}×{c}")).collect();
    out.push_str(&format!("refs: {}\n", refs.join(" ")));
    out
}

#[test]
fn rust_tags() {
    let text = r#"use std::fmt;

pub struct Config<'a> {
    name: &'a str,
}

impl<'a> Config<'a> {
    /// Loads it.
    pub fn load(path: &str,
                strict: bool) -> Result<Config<'a>, Error> {
        let parsed = parse_config(path);
        helper!(parsed)
    }
}

pub(crate) enum Error { Missing }
trait Shape { fn area(&self) -> f64; }
mod inner { pub const LIMIT: usize = 3; }
static COUNT: u32 = 0;
type Alias = Config<'static>;
macro_rules! helper { ($e:expr) => { $e } }
fn parse_config(path: &str) -> Config<'_> { todo!() }
"#;
    insta::assert_snapshot!(tags(Lang::Rust, text), @"
    3-5 pub struct Config: pub struct Config<'a>
    7-14 pub impl Config: impl<'a> Config<'a>
    9-13 pub method load in Config: pub fn load(path: &str, strict: bool) -> Result<Config<'a>, Error>
    16-16 enum Error: pub(crate) enum Error
    17-17 trait Shape: trait Shape
    17-17 method area in Shape: fn area(&self) -> f64;
    18-18 module inner: mod inner
    18-18 pub const LIMIT in inner: pub const LIMIT: usize = 3;
    19-19 static COUNT: static COUNT: u32 = 0;
    20-20 type Alias: type Alias = Config<'static>;
    21-21 macro helper: macro_rules! helper
    22-22 function parse_config: fn parse_config(path: &str) -> Config<'_>
    refs: Config×4 Error×1 Result×1 fmt×1 helper×1 name×1 parse_config×1 std×1 todo×1
    ");
}

#[test]
fn python_tags() {
    let text = "import os\n\nclass Store(Base):\n    def get(self, key: str) -> str:\n        return os.path.join(key)\n\n    def _hidden(self):\n        pass\n\ndef main():\n    Store().get('x')\n";
    insta::assert_snapshot!(tags(Lang::Python, text), @"
    3-8 pub class Store: class Store(Base):
    4-5 pub method get in Store: def get(self, key: str) -> str:
    7-8 method _hidden in Store: def _hidden(self):
    10-11 pub function main: def main():
    refs: Base×1 Store×1 get×1 join×1 os×2 path×1 str×2
    ");
}

#[test]
fn javascript_and_typescript_tags() {
    let js = "import { render } from './view.js';\nexport function draw(shape) { return render(shape); }\nexport const area = (s) => s.w * s.h;\nclass Canvas { paint() { draw(this.shape); } }\nconst LIMIT = 10;\n";
    insta::assert_snapshot!(tags(Lang::JavaScript, js), @"
    2-2 pub function draw: function draw(shape)
    3-3 pub function area: area = (s) => s.w * s.h
    4-4 class Canvas: class Canvas
    4-4 pub method paint in Canvas: paint()
    5-5 variable LIMIT: LIMIT = 10
    refs: draw×1 render×2 shape×1
    ");
    let ts = "export interface Shape { area(): number }\nexport type Id = string;\nenum Color { Red }\nexport class Square implements Shape { area(): number { return 1; } }\nnamespace Geo { export function unit(): Shape { return new Square(); } }\n";
    insta::assert_snapshot!(tags(Lang::TypeScript, ts), @"
    1-1 pub interface Shape: interface Shape
    1-1 pub method area in Shape: area(): number
    2-2 pub type Id: type Id = string;
    3-3 enum Color: enum Color
    4-4 pub class Square: class Square implements Shape
    4-4 pub method area in Square: area(): number
    5-5 module Geo: namespace Geo
    5-5 pub function unit in Geo: function unit(): Shape
    refs: Red×1 Shape×2 Square×1
    ");
    let tsx = "export function App(props: Props) { return <Panel title={props.title} />; }\n";
    insta::assert_snapshot!(tags(Lang::Tsx, tsx), @"
    1-1 pub function App: function App(props: Props)
    refs: Panel×1 Props×1 props×1 title×2
    ");
}

#[test]
fn go_tags() {
    let text = "package shop\n\ntype Cart struct {\n\tItems []Item\n}\n\ntype Pricer interface { Price() int }\n\nconst MaxItems = 10\n\nfunc (c *Cart) Total() int {\n\treturn sum(c.Items)\n}\n\nfunc sum(items []Item) int { return len(items) }\n";
    insta::assert_snapshot!(tags(Lang::Go, text), @"
    3-5 pub struct Cart: type Cart struct
    7-7 pub interface Pricer: type Pricer interface
    9-9 pub const MaxItems: MaxItems = 10
    11-13 pub method Total: func (c *Cart) Total() int
    15-15 function sum: func sum(items []Item) int
    refs: Cart×1 Item×2 Items×2 Price×1 int×3 len×1 sum×1
    ");
}

#[test]
fn syntax_errors_still_give_what_is_recovered() {
    let tags = extract_tags(
        Lang::Rust,
        "pub fn good() {}\nfn broken( {\npub struct Kept;\n",
    );
    assert!(tags.had_errors);
    let names: Vec<&str> = tags.defs.iter().map(|d| d.name.as_str()).collect();
    assert!(names.contains(&"good"), "{names:?}");
}

/// A repository where `core.rs` is used by every other file and `lonely.rs` by none.
fn graph_repo(env: &TestEnv) -> std::path::PathBuf {
    let root = env.outside().join("graph");
    write(
        &root,
        "src/core.rs",
        "pub struct CoreEngine;\nimpl CoreEngine { pub fn run_everything(&self) {} }\n",
    );
    write(
        &root,
        "src/lonely.rs",
        "pub fn unused_helper_function() {}\n",
    );
    for i in 0..6 {
        write(
            &root,
            &format!("src/user{i}.rs"),
            &format!("pub fn user_{i}(engine: &CoreEngine) {{ engine.run_everything(); }}\n"),
        );
    }
    root
}

#[test]
fn files_others_use_rank_above_files_nobody_uses() {
    let env = TestEnv::new();
    let root = graph_repo(&env);
    let index = Index::build_with_cache(&root, None);
    let ranked = index.ranked_files(&Focus::default());
    assert_eq!(ranked[0].0, "src/core.rs", "{ranked:?}");
    let score = |path: &str| ranked.iter().find(|(p, _)| *p == path).expect("ranked").1;
    assert!(
        score("src/core.rs") > 4.0 * score("src/lonely.rs"),
        "{ranked:?}"
    );
    assert!(
        ranked.iter().all(|(_, s)| *s >= score("src/lonely.rs")),
        "nothing ranks below it: {ranked:?}"
    );

    // Focus raises what it names.
    let focused = index.ranked_files(&Focus::from_words(&["src/lonely.rs".to_owned()]));
    assert_eq!(focused[0].0, "src/lonely.rs", "{focused:?}");
    let by_name = index.ranked_files(&Focus::from_words(&["unused_helper_function".to_owned()]));
    assert_eq!(by_name[0].0, "src/lonely.rs", "{by_name:?}");
    let map = index.map(&Focus::default(), 40);
    assert!(map.text.starts_with("src/core.rs:\n"), "{}", map.text);
}

#[test]
fn the_map_is_never_over_its_budget_and_uses_most_of_it() {
    let index = Index::build_with_cache(&crate::common::source_root(), None);
    let total = index.map(&Focus::default(), 1_000_000).tokens;
    // A small deterministic generator: budgets spread over 256..=8192.
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..24 {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let budget = 256 + (seed % (8192 - 256 + 1)) as usize;
        let map = index.map(&Focus::default(), budget);
        assert!(
            map.tokens <= budget,
            "{} tokens for a budget of {budget}",
            map.tokens
        );
        assert_eq!(map.tokens, count_tokens(&map.text), "the count is exact");
        if total > budget {
            assert!(
                map.tokens * 100 >= budget * 85,
                "{} of {budget} tokens used",
                map.tokens
            );
        }
    }
}

#[test]
fn the_cache_follows_edits_deletes_and_renames() {
    let env = TestEnv::new();
    let root = graph_repo(&env);
    let cache = root.join(".nova/index/tags.bin");
    let first = Index::build_with_cache(&root, Some(&cache));
    assert_eq!((first.stats().parsed, first.stats().cached), (8, 0));
    let second = Index::build_with_cache(&root, Some(&cache));
    assert_eq!((second.stats().parsed, second.stats().cached), (0, 8));

    // Edit (a different size, so a different key), delete, rename.
    write(
        &root,
        "src/lonely.rs",
        "pub fn renamed_helper_function() {}\npub fn another_one() {}\n",
    );
    std::fs::remove_file(root.join("src/user5.rs")).expect("delete");
    std::fs::rename(root.join("src/user4.rs"), root.join("src/moved.rs")).expect("rename");
    let third = Index::build_with_cache(&root, Some(&cache));
    assert_eq!(third.stats().files, 7);
    assert_eq!(third.stats().parsed, 2, "the edited and the renamed file");
    assert!(third.outline("src/user5.rs").is_none());
    assert!(third.outline("src/user4.rs").is_none());
    assert_eq!(third.definitions("renamed_helper_function").len(), 1);
    assert!(third.definitions("unused_helper_function").is_empty());

    // A corrupt cache is rebuilt, never trusted.
    std::fs::write(&cache, b"NOVAIDX\0garbage").expect("corrupt");
    let fourth = Index::build_with_cache(&root, Some(&cache));
    assert_eq!(fourth.stats().parsed, 7);
    assert!(fourth.stats().cache_note.is_some());
    let fifth = Index::build_with_cache(&root, Some(&cache));
    assert_eq!(
        fifth.stats().parsed,
        0,
        "and the rebuilt cache is good again"
    );
}

#[test]
fn queries() {
    let env = TestEnv::new();
    let root = graph_repo(&env);
    let index = Index::build_with_cache(&root, None);
    let defs = index.definitions("run_everything");
    assert_eq!(defs.len(), 1);
    assert_eq!(defs[0].path, "src/core.rs");
    let refs = index.references("run_everything");
    assert_eq!(refs.len(), 6);
    let enclosing = index.enclosing("src/core.rs", 2, 2).expect("a symbol");
    assert_eq!(enclosing.name, "run_everything");
    let public: Vec<&str> = index
        .public_items("src/")
        .iter()
        .map(|l| l.def.name.as_str())
        .collect();
    assert!(
        public.contains(&"CoreEngine") && public.contains(&"user_0"),
        "{public:?}"
    );
    let outline: Vec<&str> = index
        .outline("src/core.rs")
        .expect("outline")
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(outline, ["CoreEngine", "CoreEngine", "run_everything"]);
}

#[test]
fn bad_input_is_skipped_and_counted() {
    let env = TestEnv::new();
    let root = env.outside().join("bad");
    write(&root, "src/ok.rs", "pub fn fine() {}\n");
    write(&root, "src/broken.rs", "fn (((\n");
    std::fs::write(root.join("src/latin1.rs"), b"// caf\xe9\nfn x() {}\n").expect("write");
    std::fs::write(root.join("src/blob.rs"), b"\0\0\0binary").expect("write");
    write(&root, "src/huge.rs", &"// padding\n".repeat(120_000));
    write(
        &root,
        "src/gen.rs",
        "// @generated by a tool\npub fn made() {}\n",
    );
    write(&root, "vendor/dep.rs", "pub fn vendored() {}\n");
    write(&root, "ignored/skip.rs", "pub fn skipped() {}\n");
    write(&root, ".gitignore", "ignored/\n");
    std::os::unix::fs::symlink(&root, root.join("src/loop")).expect("symlink");
    std::os::unix::fs::symlink(root.join("src/ok.rs"), root.join("src/link.rs")).expect("symlink");
    let index = Index::build_with_cache(&root, None);
    let stats = index.stats();
    assert_eq!(stats.files, 2, "ok.rs and broken.rs: {stats:?}");
    assert_eq!(stats.with_errors, 1);
    let skipped: Vec<(&str, usize)> = stats
        .skipped
        .iter()
        .map(|(k, v)| (k.as_str(), *v))
        .collect();
    assert_eq!(
        skipped,
        [
            ("binary", 1),
            ("generated", 1),
            ("larger than 1 MiB", 1),
            ("not UTF-8", 1),
            ("symlink", 1)
        ]
    );
}

#[test]
fn nova_map_prints_the_map_and_its_stats() {
    let env = TestEnv::new();
    let repo = env.repo_with(
        "mapped",
        &[
            ("src/core.rs", "pub struct CoreEngine;\n"),
            ("src/use.rs", "pub fn drive(engine: &CoreEngine) {}\n"),
        ],
    );
    let run = env.nova_in(&repo, ["map", "--tokens", "64"]);
    assert_eq!(run.code, 0, "{}", run.both());
    insta::assert_snapshot!(run.stdout, @"
    src/core.rs:
    1│pub struct CoreEngine;
    src/use.rs:
    1│pub fn drive(engine: &CoreEngine)
    ");
    assert!(Path::new(&repo.join(".nova/index/tags.bin")).is_file());
    let git = git2::Repository::open(&repo).expect("open");
    let mut options = git2::StatusOptions::new();
    options.include_untracked(true);
    assert_eq!(
        git.statuses(Some(&mut options)).expect("status").len(),
        0,
        "the cache stays out of `git status`"
    );
    let stats = env.nova_in(&repo, ["map", "--stats"]);
    assert!(
        stats.stdout.contains("from cache          2"),
        "{}",
        stats.stdout
    );
    let json: serde_json::Value = serde_json::from_str(
        &env.nova_in(&repo, ["--json", "map", "--focus", "drive"])
            .stdout,
    )
    .expect("json");
    assert_eq!(json["map"]["tokenizer"], "o200k_base");
    assert!(json["map"]["tokens"].as_u64().expect("tokens") <= 4096);
    assert_eq!(env.nova_in(&repo, ["map", "--tokens", "0"]).code, 2);
}

#[test]
fn a_repeated_map_comes_from_the_cache_and_an_edit_invalidates_it() {
    let env = TestEnv::new();
    let root = graph_repo(&env);
    let cache = root.join(".nova/index/tags.bin");
    let focus = Focus::from_words(&["src/lonely.rs".to_owned()]);
    let first = Index::build_with_cache(&root, Some(&cache)).map(&focus, 200);
    assert!(root.join(".nova/index/map.bin").is_file());
    let again = Index::build_with_cache(&root, Some(&cache)).map(&focus, 200);
    assert_eq!(again.text, first.text);
    assert!(
        first.text.contains("unused_helper_function"),
        "{}",
        first.text
    );

    write(
        &root,
        "src/lonely.rs",
        "pub fn brand_new_function_name() {}\n",
    );
    let edited = Index::build_with_cache(&root, Some(&cache)).map(&focus, 200);
    assert!(
        edited.text.contains("brand_new_function_name"),
        "{}",
        edited.text
    );
    assert!(
        !edited.text.contains("unused_helper_function"),
        "{}",
        edited.text
    );
    let other_budget = Index::build_with_cache(&root, Some(&cache)).map(&focus, 30);
    assert!(other_budget.tokens <= 30);
}
