//! Rule packs as data: each rule a TOML file (id, owner agent, severity, message, why, the
//! equivalent lint, scope, a tree-sitter query, thresholds, and its own examples), built in from
//! `rules/` in Nova's source and overridden or added per repository in `.nova/rules/`. Matching
//! a file runs every rule's compiled query over one parse of it (`matcher`); `check` runs each
//! rule's examples, as `nova rules test` and the test suite do.
//!
//! Owns: the rule file format, loading and compiling rule sets, matching, the examples' check.
//! Never: knows about models or git, or reads files itself beyond the rule directories.

mod builtin;
mod fix;
mod literals;
mod matcher;
pub mod mutate;
mod pattern;
mod rule;
mod types;

use std::path::{Path, PathBuf};

use globset::{Glob, GlobSet, GlobSetBuilder};
use tree_sitter::Query;

use crate::diag::Problem;
use crate::index::attributes::Parents;
use crate::index::package::RustVersion;
use literals::Prefilter;

pub use matcher::{Hit, Plan, scan};
pub use rule::{EditFile, Example, FixFile, Limits, RuleFile, Scope};

/// Where a repository keeps its own rules.
pub const REPO_RULES_DIR: &str = ".nova/rules";

/// Where a rule comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Built into Nova, from this path of its source.
    Builtin(&'static str),
    /// A repository's file.
    File(PathBuf),
}

impl Origin {
    pub fn path(&self) -> PathBuf {
        match self {
            Origin::Builtin(path) => PathBuf::from(path),
            Origin::File(path) => path.clone(),
        }
    }
}

/// A rule ready to run: its file, the paths it skips, and its query and fix template, compiled
/// when the rule is loaded from a repository (so that a mistake is reported at once) and on first
/// use for the built-in rules (which the test suite compiles; a review answered from its cache
/// compiles none).
#[derive(Debug)]
pub struct Compiled {
    pub file: RuleFile,
    pub origin: Origin,
    skip: GlobSet,
    /// `scope.min_rust_version`, read.
    min_rust_version: Option<RustVersion>,
    parts: std::sync::OnceLock<Option<Parts>>,
}

/// A rule's compiled query and fix template.
#[derive(Debug)]
struct Parts {
    query: Query,
    fix: Option<fix::Template>,
    prefilter: Prefilter,
}

impl Compiled {
    fn parts(&self) -> Option<&Parts> {
        self.parts.get_or_init(|| build(&self.file).ok()).as_ref()
    }

    /// This rule alone, as a plan; `read` gives the other files of the tree.
    fn scan(&self, path: &str, text: &str, read: &dyn Fn(&str) -> Option<String>) -> Vec<Hit> {
        let Some(parts) = self.parts() else {
            return Vec::new();
        };
        let rule_of = vec![0; parts.query.pattern_count()];
        let plan = Plan {
            query: &parts.query,
            rule_of: &rule_of,
            rules: std::slice::from_ref(self),
            fixes: std::slice::from_ref(&parts.fix),
            facts: None,
            prefilter: &parts.prefilter,
        };
        scan(&plan, path, text, &Parents::new(read))
    }
}

/// Compiles a rule's query, and its fix template against the query's captures.
fn build(file: &RuleFile) -> Result<Parts, String> {
    let query = Query::new(&tree_sitter_rust::LANGUAGE.into(), &file.query).map_err(|error| {
        format!(
            "the query does not compile (row {}, column {}): {}",
            error.row + 1,
            error.column + 1,
            error.message
        )
    })?;
    let fix = match &file.fix {
        Some(template) => Some(fix::Template::compile(template, query.capture_names())?),
        None => None,
    };
    let prefilter = Prefilter::new(&rust(), &file.query, &spans(&query));
    Ok(Parts {
        query,
        fix,
        prefilter,
    })
}

fn rust() -> tree_sitter::Language {
    tree_sitter_rust::LANGUAGE.into()
}

/// Where each of `query`'s patterns is in its source.
fn spans(query: &Query) -> Vec<std::ops::Range<usize>> {
    (0..query.pattern_count())
        .map(|pattern| query.start_byte_for_pattern(pattern)..query.end_byte_for_pattern(pattern))
        .collect()
}

/// The rules that run, by id, and (once a file is scanned) one query holding all their
/// patterns.
#[derive(Debug, Default)]
pub struct RuleSet {
    pub rules: Vec<Compiled>,
    combined: std::sync::OnceLock<Option<Combined>>,
}

/// Every rule's patterns in one query, the rule of each pattern, and each rule's fix template
/// compiled against that query (a rule's own query is compiled only to check it).
#[derive(Debug)]
struct Combined {
    query: Query,
    rule_of: Vec<usize>,
    fixes: Vec<Option<fix::Template>>,
    /// The first pattern of `matcher::FACTS`, which the query ends with.
    facts: usize,
    prefilter: Prefilter,
}

impl RuleSet {
    /// The built-in rules, and every problem with them (none in a release: a test checks).
    pub fn builtin() -> (RuleSet, Vec<Problem>) {
        let mut set = RuleSet::default();
        let mut problems = Vec::new();
        for (path, text) in builtin::RULES {
            match load(text, Origin::Builtin(path)) {
                Ok(rule) => set.insert(rule),
                Err(problem) => problems.push(problem),
            }
        }
        (set, problems)
    }

    /// The built-in rules with the repository's `.nova/rules/*.toml` over them (a file with a
    /// built-in rule's id replaces it), and every problem found loading them.
    pub fn for_repo(root: Option<&Path>) -> (RuleSet, Vec<Problem>) {
        let (mut set, mut problems) = RuleSet::builtin();
        if let Some(root) = root {
            let (rules, more) = load_dir(&root.join(REPO_RULES_DIR));
            problems.extend(more);
            set.extend(rules);
        }
        (set, problems)
    }

    /// Adds `rules` over the set's, replacing those with the same id.
    pub fn extend(&mut self, rules: Vec<Compiled>) {
        for rule in rules {
            self.insert(rule);
        }
    }

    fn insert(&mut self, rule: Compiled) {
        match self.rules.iter_mut().find(|r| r.file.id == rule.file.id) {
            Some(old) => *old = rule,
            None => self.rules.push(rule),
        }
        self.rules.sort_by(|a, b| a.file.id.cmp(&b.file.id));
        self.combined = std::sync::OnceLock::new();
    }

    /// Only the rules with these ids.
    pub fn only(mut self, ids: &[&str]) -> RuleSet {
        self.rules
            .retain(|rule| ids.contains(&rule.file.id.as_str()));
        self.combined = std::sync::OnceLock::new();
        self
    }

    /// Only the rules these agents own.
    pub fn owned_by(mut self, agents: &[String]) -> RuleSet {
        self.rules.retain(|rule| agents.contains(&rule.file.agent));
        self.combined = std::sync::OnceLock::new();
        self
    }

    /// A hash of every rule as loaded (its origin and its whole file): what findings depend on.
    pub fn fingerprint(&self) -> u64 {
        let said: Vec<String> = self
            .rules
            .iter()
            .map(|rule| format!("{:?}{:?}", rule.origin, rule.file))
            .collect();
        crate::hash::fnv1a_parts(said.iter().map(String::as_bytes))
    }

    pub fn rule(&self, id: &str) -> Option<&Compiled> {
        self.rules.iter().find(|rule| rule.file.id == id)
    }

    /// What the set's rules find in the Rust file at `path` (see [`scan`]): one walk of its
    /// tree for all of them. `read` gives the files that may declare it as a module.
    pub fn scan(&self, path: &str, text: &str, read: &dyn Fn(&str) -> Option<String>) -> Vec<Hit> {
        self.scan_with(path, text, &Parents::new(read))
    }

    /// [`RuleSet::scan`], with the declaring files read and parsed once for a whole tree.
    pub fn scan_with(&self, path: &str, text: &str, parents: &Parents<'_>) -> Vec<Hit> {
        match self.combined.get_or_init(|| self.combine()) {
            Some(combined) => {
                let plan = Plan {
                    query: &combined.query,
                    rule_of: &combined.rule_of,
                    rules: &self.rules,
                    fixes: &combined.fixes,
                    facts: Some(combined.facts),
                    prefilter: &combined.prefilter,
                };
                scan(&plan, path, text, parents)
            }
            // Rules that compile alone always compile together; if not, one at a time.
            None => {
                let mut hits: Vec<Hit> = self
                    .rules
                    .iter()
                    .flat_map(|rule| rule.scan(path, text, parents.read()))
                    .collect();
                hits.sort_by(|a, b| (a.line, a.column, &a.rule).cmp(&(b.line, b.column, &b.rule)));
                hits
            }
        }
    }

    /// One query of every rule's patterns, and the rule of each pattern.
    fn combine(&self) -> Option<Combined> {
        let mut source = String::new();
        let mut starts = Vec::new();
        for rule in &self.rules {
            starts.push(source.len());
            source.push_str(&rule.file.query);
            source.push('\n');
        }
        let facts_at = source.len();
        source.push_str(matcher::FACTS);
        let query = Query::new(&tree_sitter_rust::LANGUAGE.into(), &source).ok()?;
        let facts = (0..query.pattern_count())
            .find(|&pattern| query.start_byte_for_pattern(pattern) >= facts_at)
            .unwrap_or(query.pattern_count());
        let rule_of = (0..query.pattern_count())
            .map(|pattern| {
                let at = query.start_byte_for_pattern(pattern);
                starts
                    .partition_point(|start| *start <= at)
                    .saturating_sub(1)
            })
            .collect();
        let fixes = self
            .rules
            .iter()
            .map(|rule| {
                let template = rule.file.fix.as_ref()?;
                fix::Template::compile(template, query.capture_names()).ok()
            })
            .collect();
        let prefilter = Prefilter::new(&rust(), &source, &spans(&query));
        Some(Combined {
            query,
            rule_of,
            fixes,
            facts,
            prefilter,
        })
    }
}

/// The built-in rule files, by file name (`unwrap-in-lib.toml`), with their text.
pub fn builtin_files() -> impl Iterator<Item = (&'static str, &'static str)> {
    builtin::RULES
        .iter()
        .map(|(path, text)| (path.rsplit('/').next().unwrap_or(path), *text))
}

/// The rules in `dir`'s `*.toml` files, in name order; a missing directory has none.
pub fn load_dir(dir: &Path) -> (Vec<Compiled>, Vec<Problem>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (Vec::new(), Vec::new());
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    paths.sort();
    let mut rules = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) => {
                problems.push(Problem::new(
                    &path,
                    None,
                    format!("cannot be read: {error}"),
                ));
                continue;
            }
        };
        match compile(&text, Origin::File(path)) {
            Ok(rule) => rules.push(rule),
            Err(problem) => problems.push(problem),
        }
    }
    (rules, problems)
}

/// Parses and compiles one rule file.
pub fn compile(text: &str, origin: Origin) -> Result<Compiled, Problem> {
    let rule = load(text, origin)?;
    let parts =
        build(&rule.file).map_err(|message| Problem::new(rule.origin.path(), None, message))?;
    Ok(Compiled {
        parts: std::sync::OnceLock::from(Some(parts)),
        ..rule
    })
}

/// Parses one rule file and checks its form; its query is compiled on first use.
fn load(text: &str, origin: Origin) -> Result<Compiled, Problem> {
    let path = origin.path();
    let mut file: RuleFile =
        toml::from_str(text).map_err(|error| crate::diag::toml_problem(&path, text, 1, &error))?;
    let problem = |message: String| Problem::new(&path, None, message);
    match (&file.pattern, file.query.trim().is_empty()) {
        (Some(_), false) => {
            return Err(problem(String::from(
                "a rule gives `query` or `pattern`, not both",
            )));
        }
        (Some(pattern), true) => file.query = pattern::compile(pattern).map_err(problem)?,
        (None, true) => {
            return Err(problem(String::from(
                "a rule needs `query` (a tree-sitter query) or `pattern` (Rust code with `$X` \
                 metavariables)",
            )));
        }
        (None, false) => {}
    }
    let kebab = !file.id.is_empty()
        && file
            .id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !kebab {
        return Err(problem(format!(
            "rule id `{}` must be kebab-case: lowercase letters, digits and `-`",
            file.id
        )));
    }
    if file.language != "rust" {
        return Err(problem(format!(
            "language `{}` has no rules yet: the only one is `rust`",
            file.language
        )));
    }
    let mut skip = GlobSetBuilder::new();
    for glob in &file.scope.skip {
        let glob = Glob::new(glob)
            .map_err(|error| problem(format!("`scope.skip` glob `{glob}`: {error}")))?;
        skip.add(glob);
    }
    let skip = skip
        .build()
        .map_err(|error| problem(format!("`scope.skip`: {error}")))?;
    let min_rust_version = match &file.scope.min_rust_version {
        Some(text) => Some(
            text.parse()
                .map_err(|error| problem(format!("`scope.min_rust_version`: {error}")))?,
        ),
        None => None,
    };
    Ok(Compiled {
        file,
        origin,
        skip,
        min_rust_version,
        parts: std::sync::OnceLock::new(),
    })
}

/// Runs every rule's examples: each must find exactly the number of matches it says, and where
/// it says what the code is once fixed, applying every match's fix must give that. A rule with a
/// fix needs an example that shows it. Every failure, with the rule's file.
pub fn check(set: &RuleSet) -> Vec<Problem> {
    let mut problems = Vec::new();
    for rule in &set.rules {
        let path = rule.origin.path();
        let problem = |message: String| Problem::new(&path, None, message);
        if rule.file.examples.is_empty() {
            problems.push(problem(String::from(
                "a rule needs examples: `[[example]]` with `matches` and `code`",
            )));
        }
        if let Err(message) = build(&rule.file) {
            problems.push(problem(message));
            continue;
        }
        if rule.file.fix.is_some() && rule.file.examples.iter().all(|e| e.fixed.is_none()) {
            problems.push(problem(String::from(
                "a rule with a fix needs an example that shows it: `fixed = '''...'''`",
            )));
        }
        for (n, example) in rule.file.examples.iter().enumerate() {
            if let Some(message) = example_fails(rule, example) {
                problems.push(problem(format!("example {}: {message}", n + 1)));
            }
        }
    }
    problems
}

/// What is wrong with one of `rule`'s examples, if anything.
fn example_fails(rule: &Compiled, example: &Example) -> Option<String> {
    // The example's package, declaring its `rust-version` if the example gives one.
    let manifest = example
        .rust_version
        .as_ref()
        .map(|version| format!("[package]\nname = \"example\"\nrust-version = \"{version}\"\n"));
    let read = |path: &str| (path == "Cargo.toml").then(|| manifest.clone()).flatten();
    let hits = rule.scan(&example.path, &example.code, &read);
    if hits.len() != example.matches {
        let lines: Vec<String> = hits.iter().map(|h| h.line.to_string()).collect();
        return Some(format!(
            "should match {} time(s) and matched {}{}",
            example.matches,
            hits.len(),
            if lines.is_empty() {
                String::new()
            } else {
                format!(" (line {})", lines.join(", "))
            }
        ));
    }
    let fixed = example.fixed.as_ref()?;
    if rule.file.fix.is_none() {
        return Some(String::from("says `fixed`, but the rule has no `[fix]`"));
    }
    let replacements: Vec<_> = hits
        .into_iter()
        .flat_map(|h| h.fix.unwrap_or_default())
        .collect();
    match crate::edit::apply_replacements(&example.code, &replacements) {
        Ok(after) if after == *fixed => None,
        Ok(after) => Some(format!(
            "once fixed should read\n{fixed}\nbut reads\n{after}"
        )),
        Err(error) => Some(format!("its fixes do not apply: {error}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_rule_compiles_and_passes_its_examples() {
        let (set, problems) = RuleSet::builtin();
        assert!(problems.is_empty(), "{problems:#?}");
        assert_eq!(set.rules.len(), builtin::RULES.len(), "ids are unique");
        let failing = check(&set);
        assert!(failing.is_empty(), "{failing:#?}");
    }

    #[test]
    fn the_built_in_list_is_the_rules_directory() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/rust");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .expect("rules/rust")
            .map(|e| {
                format!(
                    "rules/rust/{}",
                    e.expect("entry").file_name().to_string_lossy()
                )
            })
            .collect();
        on_disk.sort();
        let mut listed: Vec<String> = builtin::RULES
            .iter()
            .map(|(p, _)| (*p).to_owned())
            .collect();
        listed.sort();
        assert_eq!(
            listed, on_disk,
            "add the file to `src/rules/builtin.rs`, or remove it"
        );
    }

    #[test]
    fn a_bad_rule_says_what_is_wrong() {
        let bad = |text: &str| {
            compile(text, Origin::File(PathBuf::from("r.toml")))
                .err()
                .map(|p| p.message)
                .unwrap_or_default()
        };
        let base = "agent = \"a\"\nseverity = \"warning\"\nmessage = \"m\"\nwhy = \"w\"\n";
        assert!(
            bad(&format!(
                "id = \"Bad_Id\"\n{base}query = \"(identifier) @match\"\n"
            ))
            .contains("kebab-case")
        );
        assert!(
            bad(&format!(
                "id = \"x\"\n{base}query = \"(nonsense) @match\"\n"
            ))
            .contains("does not compile")
        );
        assert!(
            bad(&format!(
                "id = \"x\"\n{base}query = \"(identifier)\"\nextra = 1\n"
            ))
            .contains("extra")
        );
    }

    #[test]
    fn a_fix_example_that_does_not_read_as_fixed_fails() {
        let rule = |fixed: &str| {
            format!(
                "id = \"x\"\nagent = \"a\"\nseverity = \"info\"\nmessage = \"m\"\nwhy = \"w\"\n\
                 query = '(call_expression function: (identifier) @f) @match'\n\
                 [fix]\nsummary = \"s\"\n[[fix.edit]]\ncapture = \"f\"\nwith = \"g\"\n\
                 [[example]]\nmatches = 1\ncode = 'fn a() {{ f() }}'\nfixed = '{fixed}'\n"
            )
        };
        let check_one = |text: String| {
            let mut set = RuleSet::default();
            set.insert(compile(&text, Origin::File(PathBuf::from("x.toml"))).expect("compiles"));
            check(&set)
        };
        assert!(check_one(rule("fn a() { g() }")).is_empty());
        let problems = check_one(rule("fn a() { h() }"));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].message.contains("once fixed should read"));
        let unshown = rule("x").replace("fixed = 'x'\n", "");
        assert!(
            check_one(unshown)
                .iter()
                .any(|p| p.message.contains("needs an example that shows it"))
        );
    }

    #[test]
    fn an_allow_comment_with_a_reason_silences_its_rule_on_the_next_line() {
        let (set, _) = RuleSet::builtin();
        let code = "pub fn a(x: Option<u8>) -> u8 {\n    // nova:allow(unwrap-in-lib): filled above\n    x.unwrap()\n}\npub fn b(x: Option<u8>) -> u8 {\n    // nova:allow(unwrap-in-lib)\n    x.unwrap()\n}\n";
        let hits = set.scan("src/lib.rs", code, &|_| None);
        let found: Vec<(String, usize, Option<String>)> = hits
            .into_iter()
            .filter(|h| h.rule == "unwrap-in-lib")
            .map(|h| (h.rule, h.line, h.symbol))
            .collect();
        assert_eq!(
            found,
            [("unwrap-in-lib".to_owned(), 7, Some("b".to_owned()))]
        );
    }

    #[test]
    fn a_module_declared_under_cfg_test_is_test_code() {
        let (set, _) = RuleSet::builtin();
        let parent = "#[cfg(test)]\nmod tests;\n";
        let read = |path: &str| (path == "src/lib.rs").then(|| parent.to_owned());
        let hits = set.scan("src/tests.rs", "fn t() { Some(1).unwrap(); }\n", &read);
        assert!(hits.iter().all(|h| h.rule != "unwrap-in-lib"), "{hits:?}");
    }

    #[test]
    fn docs_are_asked_of_what_the_crate_exports_through_its_module_files() {
        let set = RuleSet::builtin().0.only(&["pub-fn-without-docs"]);
        let files = [
            (
                "src/lib.rs",
                "mod private;\npub mod open;\nmod shown;\nmod named;\nmod all;\n\
                 pub use shown::f;\npub use self::{named::{Thing, Other as Renamed}};\n\
                 pub use all::*;\nmod chain;\npub struct Chain;\nstruct Hidden;\n",
            ),
            ("src/open.rs", "pub mod deeper;\nmod closed;\n"),
        ];
        let read = |path: &str| {
            files
                .iter()
                .find(|(p, _)| *p == path)
                .map(|(_, t)| (*t).to_owned())
        };
        let found = |path: &str, code: &str| set.scan(path, code, &read).len();
        let f = "pub fn f() {}\n";
        assert_eq!(found("src/private.rs", f), 0, "a private module");
        assert_eq!(found("src/open.rs", f), 1, "a pub module");
        assert_eq!(found("src/open/deeper.rs", f), 1, "pub all the way");
        assert_eq!(
            found("src/open/closed.rs", f),
            0,
            "a private module in a pub one"
        );
        assert_eq!(found("src/shown.rs", f), 1, "re-exported by name");
        assert_eq!(
            found("src/shown.rs", "pub fn g() {}\n"),
            0,
            "not re-exported"
        );
        let methods = "/// A thing.\npub struct Thing;\nimpl Thing {\n    pub fn new() -> Self { Thing }\n}\n\
                       /// Another.\npub struct Other;\nimpl Other {\n    pub fn new() -> Self { Other }\n}\n\
                       pub struct Base;\nimpl Base {\n    pub fn new() -> Self { Base }\n}\n";
        assert_eq!(
            found("src/named.rs", methods),
            2,
            "the methods of the named types"
        );
        assert_eq!(found("src/all.rs", f), 1, "a glob re-export");
        let imported = "use crate::{Chain, Hidden};\nimpl Chain {\n    pub fn new() -> Self { Chain }\n}\n\
                        impl Hidden {\n    pub fn new() -> Self { Hidden }\n}\n";
        assert_eq!(
            found("src/chain.rs", imported),
            1,
            "a method of an exported type declared at the root, in a private module"
        );
        // `anyhow`: the import in one build, a private twin in another.
        let twin = "#[cfg(feature = \"std\")]\npub(crate) use crate::Chain;\n\
                    #[cfg(not(feature = \"std\"))]\npub(crate) struct Chain;\n\
                    impl Chain {\n    pub fn new() -> Self { Chain }\n}\n";
        assert_eq!(found("src/chain.rs", twin), 1, "the build that imports it");
        assert_eq!(found("src/lib.rs", f), 1, "the crate root");
    }

    #[test]
    fn a_rule_is_silent_where_the_code_allows_its_lint_here_or_in_a_declaring_module() {
        let set = RuleSet::builtin().0.only(&["unwrap-in-lib"]);
        let code = "pub fn f(x: Option<u8>) -> u8 {\n    x.unwrap()\n}\n";
        let allowed = format!("#[expect(clippy::unwrap_used, reason = \"checked\")]\n{code}");
        assert_eq!(set.scan("src/lib.rs", code, &|_| None).len(), 1);
        assert_eq!(set.scan("src/lib.rs", &allowed, &|_| None).len(), 0);
        let root = "#![allow(clippy::unwrap_used)]\nmod a;\n";
        let read = |path: &str| (path == "src/lib.rs").then(|| root.to_owned());
        assert_eq!(
            set.scan("src/a.rs", code, &read).len(),
            0,
            "allowed by the crate root"
        );
        let declaring = "#[allow(clippy::unwrap_used)]\nmod a;\nmod b;\n";
        let read = |path: &str| (path == "src/lib.rs").then(|| declaring.to_owned());
        assert_eq!(
            set.scan("src/a.rs", code, &read).len(),
            0,
            "allowed on its `mod`"
        );
        assert_eq!(
            set.scan("src/b.rs", code, &read).len(),
            1,
            "not on its sibling's"
        );
    }

    #[test]
    fn a_rule_for_newer_compilers_is_silent_in_a_package_that_promises_older_ones() {
        let set = RuleSet::builtin().0.only(&["allow-without-reason"]);
        let code = "#[allow(dead_code)]\nfn f() {}\n";
        let manifest =
            |version: &str| format!("[package]\nname = \"p\"\nrust-version = \"{version}\"\n");
        for (version, expected) in [("1.60", 0), ("1.81", 1), ("1.90.1", 1)] {
            let read = |path: &str| (path == "p/Cargo.toml").then(|| manifest(version));
            assert_eq!(
                set.scan("p/src/lib.rs", code, &read).len(),
                expected,
                "{version}"
            );
        }
        // No manifest, or one without `rust-version`: the rule applies.
        assert_eq!(set.scan("p/src/lib.rs", code, &|_| None).len(), 1);
        let bad = "id = \"x\"\nagent = \"a\"\nseverity = \"info\"\nmessage = \"m\"\nwhy = \"w\"\n\
                   scope = { min_rust_version = \"one\" }\nquery = \"(identifier) @match\"\n";
        let problem = compile(bad, Origin::File(PathBuf::from(".nova/rules/x.toml")))
            .expect_err("a bad version");
        assert!(
            problem.to_string().contains("min_rust_version"),
            "{problem}"
        );
    }
}

#[cfg(test)]
mod together {
    use super::*;

    fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn all_rules_in_one_query_find_what_each_finds_alone() {
        let (set, _) = RuleSet::builtin();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        sources(&root.join("src"), &mut files);
        sources(&root.join("tests"), &mut files);
        files.sort();
        // A sixth of Nova's own files, spread over the tree: a debug build is slow at this.
        for file in files.into_iter().step_by(6) {
            let path = file
                .strip_prefix(root)
                .expect("under the root")
                .to_string_lossy()
                .into_owned();
            let text = std::fs::read_to_string(&file).expect("read");
            let together = set.scan(&path, &text, &|_| None);
            let mut alone: Vec<Hit> = set
                .rules
                .iter()
                .flat_map(|r| r.scan(&path, &text, &|_| None))
                .collect();
            alone.sort_by(|a, b| (a.line, a.column, &a.rule).cmp(&(b.line, b.column, &b.rule)));
            assert_eq!(together, alone, "{path}");
        }
    }

    #[test]
    fn the_text_prefilter_loses_no_finding() {
        // Nova's own files with the rules whose patterns need words (so that many files are
        // not parsed at all, and the others are read only where the words are), with the
        // filter and without it.
        let (set, _) = RuleSet::builtin();
        let keyed: Vec<String> = set
            .rules
            .iter()
            .filter(|rule| rule.parts().is_some_and(|parts| parts.prefilter.keyed()))
            .map(|rule| rule.file.id.clone())
            .collect();
        assert!(keyed.len() > 10, "{keyed:?}");
        let keyed: Vec<&str> = keyed.iter().map(String::as_str).collect();
        let set = set.only(&keyed);
        let combined = set.combine().expect("the rules compile together");
        let everything = Prefilter::none(combined.query.pattern_count());
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        sources(&root.join("src"), &mut files);
        sources(&root.join("tests"), &mut files);
        let (mut skipped, mut anchored, mut found) = (0, 0, 0);
        for file in files {
            let path = file.strip_prefix(root).expect("under the root");
            let path = path.to_string_lossy();
            let text = std::fs::read_to_string(&file).expect("read");
            let plan = |prefilter| Plan {
                query: &combined.query,
                rule_of: &combined.rule_of,
                rules: &set.rules,
                fixes: &combined.fixes,
                facts: Some(combined.facts),
                prefilter,
            };
            let parents = Parents::new(&|_| None);
            let filtered = scan(&plan(&combined.prefilter), &path, &text, &parents);
            let all = scan(&plan(&everything), &path, &text, &parents);
            assert_eq!(filtered, all, "{path}");
            found += all.len();
            let seen = combined.prefilter.read(&text);
            let possible = seen.possible[..combined.facts].contains(&true);
            skipped += usize::from(!possible);
            anchored +=
                usize::from(possible && combined.prefilter.anchored(&seen, 0..combined.facts));
        }
        // The comparison means something: files were left unparsed, files were read only where
        // the words are, and findings were made.
        assert!(
            skipped > 10 && anchored > 10 && found > 10,
            "{skipped} skipped, {anchored} anchored, {found} found"
        );
    }
}
