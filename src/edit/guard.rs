//! The one guard every change goes through before anything runs, whoever proposed it: paths it
//! must never touch (everything that judges a change or decides how it is built), paths outside
//! the proposing agent's write scope, test code inside source files, new dependencies and
//! silenced lints an agent's file does not allow, and what a careless reply does (placeholders
//! for code, mass deletions, new syntax errors, paths through symbolic links).
//!
//! Sans-IO: the files around a change and the links on its paths come through [`Policy`].

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Serialize;

use super::{FileChange, Patch, RepoPath};

/// Why `change` may not be made, if it may not: the checks that judge a change (tests, lint
/// tables and configs, CI, agent files, Nova's config), what decides how it is built (build
/// scripts, toolchain files, `.cargo/`), and version control.
pub fn protected(change: &FileChange) -> Option<&'static str> {
    let path = change.path.as_str();
    let parts: Vec<&str> = path.split('/').collect();
    let file = parts.last().copied().unwrap_or("");
    let dirs = &parts[..parts.len().saturating_sub(1)];
    let in_dir = |name: &str| dirs.contains(&name);
    if in_dir(".git") || in_dir(".github") || in_dir(".ci") {
        return Some("it is CI or version-control machinery");
    }
    if in_dir(".cargo") {
        return Some("it decides how cargo builds and runs the code");
    }
    if in_dir(".nova") || file == "nova.toml" {
        return Some("it is Nova's own configuration and agent files");
    }
    if path == "nova-baseline.json" || (parts.first() == Some(&"rules") && file.ends_with(".toml"))
    {
        return Some("review rules and their baseline judge every change");
    }
    if parts.first() == Some(&"agents")
        && (file.ends_with(".md") || dirs.get(1) == Some(&"pipelines"))
    {
        return Some("agent and pipeline files decide how changes are judged");
    }
    if file == "build.rs" || file.starts_with("rust-toolchain") {
        return Some("it decides how the code is built");
    }
    if matches!(
        file,
        "clippy.toml" | ".clippy.toml" | "rustfmt.toml" | ".rustfmt.toml" | "deny.toml"
    ) {
        return Some("it configures a check that judges every change");
    }
    if in_dir("tests") || in_dir("benches") {
        return Some("tests judge every change, so Nova does not change them");
    }
    if file == "Cargo.toml" && lints_changed(change.before.as_deref(), change.after.as_deref()) {
        return Some("its `[lints]` or `[workspace.lints]` table judges every change");
    }
    None
}

/// Whether a manifest's `[lints]` or `[workspace.lints]` table differs between the two texts. A
/// side that does not parse is compared as text: the build judges a broken manifest, but a lint
/// table must not slip through with it.
fn lints_changed(before: Option<&str>, after: Option<&str>) -> bool {
    fn lints(text: Option<&str>) -> Result<(Option<toml::Value>, Option<toml::Value>), String> {
        let Some(text) = text else {
            return Ok((None, None));
        };
        let table: toml::Table = text.parse().map_err(|_| text.to_owned())?;
        let workspace = table.get("workspace").and_then(|w| w.get("lints")).cloned();
        Ok((table.get("lints").cloned(), workspace))
    }
    match (lints(before), lints(after)) {
        (Ok(old), Ok(new)) => old != new,
        (Err(old), Err(new)) => {
            let mentions = |text: &str| text.lines().filter(|l| l.contains("lints")).count();
            old != new && (mentions(&old) > 0 || mentions(&new) > 0)
        }
        (_, Err(text)) | (Err(text), _) => text.contains("lints"),
    }
}

/// A compiled scope (globs of paths); the default matches nothing.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    globs: GlobSet,
}

impl Scope {
    /// Compiles `globs`; `*` stops at `/`, `**` crosses directories. Invalid globs (which
    /// `nova agents check` reports) match nothing.
    pub fn new(globs: &[String]) -> Self {
        let mut builder = GlobSetBuilder::new();
        for glob in globs {
            if let Ok(glob) = GlobBuilder::new(glob).literal_separator(true).build() {
                builder.add(glob);
            }
        }
        Scope {
            globs: builder.build().unwrap_or_else(|_| GlobSet::empty()),
        }
    }

    pub fn contains(&self, path: &RepoPath) -> bool {
        self.globs.is_match(path.as_str())
    }
}

/// Gives the text of a repository file (relative path) as the change's base has it, if any.
pub type Read<'a> = &'a dyn Fn(&str) -> Option<String>;

/// What a change may do, from who proposed it, and what the guard needs to know of the tree it
/// applies to.
#[derive(Clone, Copy)]
pub struct Policy<'a> {
    /// The proposing agent's write scope; `None` for a person's reply (`nova apply`).
    pub scope: Option<&'a Scope>,
    /// New `allow`/`expect` attributes are accepted (an agent's only with a `reason`).
    pub may_silence: bool,
    /// New dependencies, and changes to `Cargo.lock`, are accepted.
    pub may_add_dependencies: bool,
    /// Changes to what the crate exports (a `pub fn`'s signature, a public field) are accepted.
    pub may_change_api: bool,
    /// A whole-file rewrite was asked for: shrinking files is then expected.
    pub rewrite: bool,
    /// The files of the change's base (the parents that declare a changed module).
    pub read: Read<'a>,
    /// The first leading part of a path that is a symbolic link in the base, if any.
    pub symlink: &'a dyn Fn(&str) -> Option<String>,
}

impl std::fmt::Debug for Policy<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("scope", &self.scope)
            .field("may_silence", &self.may_silence)
            .field("may_add_dependencies", &self.may_add_dependencies)
            .field("may_change_api", &self.may_change_api)
            .field("rewrite", &self.rewrite)
            .finish_non_exhaustive()
    }
}

/// Which guard turned a file away.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    /// `// ... rest of code`: the reply elides code it means to keep.
    Placeholder,
    /// More than half of the file's lines removed, without a whole-file rewrite asked for.
    MassDeletion,
    /// The change introduces syntax errors.
    SyntaxError,
    /// A path through a symbolic link.
    OutsideRepository,
    /// A file that judges changes or decides how they are built.
    Protected,
    /// Test code inside a source file.
    TestCode,
    OutOfScope,
    /// A new dependency, or a changed `Cargo.lock`, from an agent not allowed to add them.
    Dependencies,
    /// A new `allow`/`expect` from an agent not allowed to add one, or without a `reason`.
    Silenced,
    /// A change to the crate's public API from an agent not allowed to make one.
    PublicApi,
}

/// One file turned away: a sentence that names the file and says what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    pub path: RepoPath,
    pub rule: Rule,
    pub message: String,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Every reason to refuse `patch` under `policy`, in the order of its files, then of the guards.
pub fn review(patch: &Patch, policy: &Policy<'_>) -> Vec<Rejection> {
    let mut rejections = Vec::new();
    for change in &patch.changes {
        let path = &change.path;
        let mut syntax_broken = false;
        let mut reject = |rule, message: String| {
            rejections.push(Rejection {
                path: path.clone(),
                rule,
                message,
            });
        };
        if let Some(link) = (policy.symlink)(path.as_str()) {
            reject(
                Rule::OutsideRepository,
                format!("`{link}` is a symbolic link: change the file it points to instead"),
            );
            continue;
        }
        if let Some(why) = protected(change) {
            reject(Rule::Protected, format!("`{path}` is protected: {why}"));
        }
        let (before, after) = (change.before.as_deref(), change.after.as_deref());
        if let Some(line) = test_code(path.as_str(), before, after, policy.read) {
            reject(
                Rule::TestCode,
                format!("it changes test code at `{path}:{line}`: {TEST_CODE}"),
            );
        }
        if let Some(scope) = policy.scope
            && !scope.contains(path)
        {
            reject(
                Rule::OutOfScope,
                format!("`{path}` is outside the agent's write scope"),
            );
        }
        if let Some(why) = dependencies(change, policy) {
            reject(Rule::Dependencies, why);
        }
        if let Some(why) = silenced(change, policy) {
            reject(Rule::Silenced, why);
        }
        let Some(after) = after else {
            continue;
        };
        let before = before.unwrap_or("");
        if let Some(line) = placeholder(before, after) {
            reject(
                Rule::Placeholder,
                format!(
                    "line {line} of `{path}` stands for code instead of being code (`{}`): \
                     write out every line that stays",
                    after.lines().nth(line - 1).unwrap_or("").trim()
                ),
            );
        }
        let (kept, was) = (non_blank(after), non_blank(before));
        if !policy.rewrite && was >= 4 && kept * 2 < was {
            reject(
                Rule::MassDeletion,
                format!(
                    "the change leaves {kept} of {was} lines of `{path}`; if a rewrite is meant, \
                     ask for one, else keep the lines that stay"
                ),
            );
        }
        // Parsed once each side: every error line of the result, against the count before.
        if let Some(errors) = crate::index::syntax_errors(path.as_str(), after, usize::MAX)
            && !errors.is_empty()
        {
            let had = crate::index::syntax_errors(path.as_str(), before, usize::MAX)
                .map_or(0, |lines| lines.len());
            if errors.len() > had || change.before.is_none() {
                syntax_broken = true;
                let lines: Vec<String> = errors.iter().take(3).map(usize::to_string).collect();
                reject(
                    Rule::SyntaxError,
                    format!(
                        "`{path}` does not parse after the change (line {})",
                        lines.join(", ")
                    ),
                );
            }
        }
        if !syntax_broken && let Some(why) = public_api(path, before, after, policy) {
            reject(Rule::PublicApi, why);
        }
    }
    rejections
}

/// Why a change of `path` from `before` to `after` is turned away for what it does to the
/// crate's public API, when `policy` does not allow that.
fn public_api(path: &RepoPath, before: &str, after: &str, policy: &Policy<'_>) -> Option<String> {
    if policy.may_change_api {
        return None;
    }
    let changed = crate::index::api::changes(path.as_str(), before, after, policy.read);
    let first = changed.first()?;
    let more = match changed.len() {
        1 => String::new(),
        n => format!(" (and {} more)", n - 1),
    };
    Some(format!(
        "it changes the public API of `{path}`: {first}{more}; the agent's file does not allow \
         API changes (`may_change_api`)"
    ))
}

/// Why an agent's change to a manifest or lock file is refused, unless its file allows it.
fn dependencies(change: &FileChange, policy: &Policy<'_>) -> Option<String> {
    if policy.may_add_dependencies {
        return None;
    }
    let path = &change.path;
    let file = path.as_str().rsplit('/').next().unwrap_or("");
    if file == "Cargo.lock" {
        return Some(format!(
            "it changes `{path}`, and the agent's file does not allow it to change dependencies \
             (`may_add_dependencies`)"
        ));
    }
    if file != "Cargo.toml" {
        return None;
    }
    let added = added_dependencies(change.before.as_deref(), change.after.as_deref());
    added.first().map(|added| {
        format!(
            "it adds the dependency `{added}` in `{path}`, and the agent's file does not allow \
             that (`may_add_dependencies`)"
        )
    })
}

/// Why a new `allow`/`expect` is refused: an agent's file must allow it, and it must give a
/// `reason`. A person's reply may silence (the report notes it, and the warnings still count).
fn silenced(change: &FileChange, policy: &Policy<'_>) -> Option<String> {
    let person = policy.scope.is_none();
    let path = change.path.as_str();
    silences(path, change.before.as_deref(), change.after.as_deref())
        .into_iter()
        .find_map(|silence| {
            if person && policy.may_silence {
                None
            } else if !policy.may_silence {
                Some(format!(
                    "it silences a warning instead of fixing it ({silence}), and the agent's \
                     file does not allow that (`may_silence`)"
                ))
            } else {
                (!silence.reason).then(|| {
                    format!("it silences a warning ({silence}) without a `reason = \"...\"`")
                })
            }
        })
}

/// The dependencies `after` (a manifest's new text) names that `before` did not, in any of its
/// dependency tables (`[dependencies]`, `[dev-dependencies]`, `[build-dependencies]`, their
/// `[target.*]` forms, `[workspace.dependencies]`). A manifest that does not parse adds nothing
/// here: the build judges it.
pub fn added_dependencies(before: Option<&str>, after: Option<&str>) -> Vec<String> {
    fn names(text: Option<&str>) -> std::collections::BTreeSet<String> {
        let mut names = std::collections::BTreeSet::new();
        let Some(table) = text.and_then(|t| t.parse::<toml::Table>().ok()) else {
            return names;
        };
        let mut tables: Vec<(String, &toml::Table)> = vec![(String::new(), &table)];
        if let Some(toml::Value::Table(workspace)) = table.get("workspace") {
            tables.push((String::from("workspace."), workspace));
        }
        if let Some(toml::Value::Table(targets)) = table.get("target") {
            for (cfg, value) in targets {
                if let toml::Value::Table(target) = value {
                    tables.push((format!("target.{cfg}."), target));
                }
            }
        }
        for (prefix, table) in tables {
            for kind in ["dependencies", "dev-dependencies", "build-dependencies"] {
                if let Some(toml::Value::Table(deps)) = table.get(kind) {
                    names.extend(deps.keys().map(|name| format!("{prefix}{kind}.{name}")));
                }
            }
        }
        names
    }
    let had = names(before);
    names(after)
        .into_iter()
        .filter(|name| !had.contains(name))
        .map(|name| name.rsplit('.').next().unwrap_or(&name).to_owned())
        .collect()
}

/// Why test code inside source files is protected.
const TEST_CODE: &str = "test items (`#[cfg(test)]` modules, `#[test]` functions) judge every \
                         change, so Nova does not change them";

/// A lint a change silences: an `allow` or `expect` attribute its new text has beyond the old.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Silence {
    pub path: String,
    pub line: usize,
    pub lint: String,
    /// `allow` or `expect`.
    pub how: String,
    pub reason: bool,
}

impl std::fmt::Display for Silence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}({})` at {}:{}",
            self.how, self.lint, self.path, self.line
        )
    }
}

/// The `allow`/`expect` attributes that the change of a Rust file from `before` to `after` adds.
pub fn silences(path: &str, before: Option<&str>, after: Option<&str>) -> Vec<Silence> {
    use crate::index::attributes::read_text;
    let Some(after) = after.filter(|_| path.ends_with(".rs")) else {
        return Vec::new();
    };
    let Some(new) = read_text(after) else {
        return Vec::new();
    };
    let mut old: std::collections::BTreeMap<(String, String), usize> = Default::default();
    for silenced in before
        .and_then(read_text)
        .map(|a| a.silenced)
        .unwrap_or_default()
    {
        *old.entry((silenced.lint, silenced.how)).or_default() += 1;
    }
    new.silenced
        .into_iter()
        .filter(
            |silenced| match old.get_mut(&(silenced.lint.clone(), silenced.how.clone())) {
                Some(left) if *left > 0 => {
                    *left -= 1;
                    false
                }
                _ => true,
            },
        )
        .map(|silenced| Silence {
            path: path.to_owned(),
            line: silenced.line,
            lint: silenced.lint,
            how: silenced.how,
            reason: silenced.reason,
        })
        .collect()
}

/// The first line of test code that changing the Rust file `path` from `before` to `after`
/// removes or adds lines in, if any (in the old text's numbering for removals, the new one's for
/// additions).
pub fn test_code(
    path: &str,
    before: Option<&str>,
    after: Option<&str>,
    read: Read<'_>,
) -> Option<usize> {
    use crate::index::attributes::for_file;
    if !path.ends_with(".rs") {
        return None;
    }
    let hunks = super::changed_lines(before.unwrap_or(""), after.unwrap_or(""));
    let old = before.and_then(|text| for_file(path, text, read));
    let new = after.and_then(|text| for_file(path, text, read));
    hunks.iter().find_map(|(removed, added)| {
        let hit = |attributes: &Option<crate::index::attributes::Attributes>,
                   lines: &Option<super::LineRange>| {
            let (attributes, lines) = (attributes.as_ref()?, lines.as_ref()?);
            let first = lines
                .clone()
                .find(|line| attributes.touches_test(&(*line..=*line)))?;
            Some(first)
        };
        hit(&old, removed).or_else(|| hit(&new, added))
    })
}

fn non_blank(text: &str) -> usize {
    text.lines().filter(|line| !line.trim().is_empty()).count()
}

/// The 1-based line of `after` that is a placeholder for elided code and was not in `before`.
fn placeholder(before: &str, after: &str) -> Option<usize> {
    // With an ellipsis, any of these says code was left out.
    const PHRASES: &[&str] = &[
        "rest of",
        "existing",
        "remaining",
        "remain the same",
        "remains the same",
        "unchanged",
        "same as before",
        "previous",
        "other",
        "here",
        "as before",
        "omitted",
    ];
    // These say it even without one.
    const STRONG: &[&str] = &[
        "rest of the",
        "existing code",
        "remaining code",
        "unchanged code",
    ];
    let old: std::collections::HashSet<&str> = before.lines().map(str::trim).collect();
    after.lines().enumerate().find_map(|(index, line)| {
        let trimmed = line.trim();
        if old.contains(trimmed) {
            return None;
        }
        let comment = ["//", "#", "/*", "<!--", "--"]
            .iter()
            .find_map(|marker| trimmed.strip_prefix(marker))?;
        let body = comment
            .trim()
            .trim_end_matches("*/")
            .trim_end_matches("-->")
            .trim()
            .to_lowercase();
        let has_ellipsis = body.contains("...") || body.contains('…');
        let code_like = body.contains('(') || body.contains('=');
        let elides = STRONG.iter().any(|p| body.contains(p))
            || has_ellipsis && (!code_like || PHRASES.iter().any(|p| body.contains(p)));
        elides.then_some(index + 1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &str) -> RepoPath {
        RepoPath::new(p).expect("valid path")
    }

    fn changed(p: &str, before: Option<&str>, after: Option<&str>) -> FileChange {
        FileChange {
            path: path(p),
            before: before.map(str::to_owned),
            after: after.map(str::to_owned),
        }
    }

    fn patch(changes: Vec<FileChange>) -> Patch {
        Patch {
            summary: String::new(),
            changes,
        }
    }

    const NOTHING: &dyn Fn(&str) -> Option<String> = &|_| None;

    /// A person's reply: no scope, silencing and dependencies allowed.
    fn person() -> Policy<'static> {
        Policy {
            scope: None,
            may_silence: true,
            may_add_dependencies: true,
            may_change_api: true,
            rewrite: false,
            read: NOTHING,
            symlink: NOTHING,
        }
    }

    fn rules(changes: Vec<FileChange>, policy: &Policy<'_>) -> Vec<Rule> {
        review(&patch(changes), policy)
            .into_iter()
            .map(|r| r.rule)
            .collect()
    }

    #[test]
    fn everything_that_judges_or_builds_a_change_is_protected() {
        for p in [
            "build.rs",
            "crates/x/build.rs",
            "tests/it.rs",
            "crates/x/tests/a.rs",
            "benches/b.rs",
            ".cargo/config.toml",
            ".cargo/config",
            "rust-toolchain",
            "rust-toolchain.toml",
            ".github/workflows/ci.yml",
            ".ci/run",
            "nova.toml",
            ".nova/agents/reviewer.md",
            ".nova/rules/no-first.toml",
            "rules/rust/unwrap-in-lib.toml",
            "nova-baseline.json",
            "agents/refactorer.md",
            "agents/pipelines/improve.toml",
            "clippy.toml",
            "crates/x/.clippy.toml",
            "rustfmt.toml",
            ".rustfmt.toml",
            "deny.toml",
        ] {
            let change = changed(p, Some("a = 1\n"), Some("a = 2\n"));
            assert!(protected(&change).is_some(), "{p}");
            let found = review(&patch(vec![change]), &person());
            assert_eq!(found[0].rule, Rule::Protected, "{p}");
            assert!(
                found[0]
                    .message
                    .starts_with(&format!("`{p}` is protected: ")),
                "{p}: {}",
                found[0].message
            );
        }
        for p in [
            "src/lib.rs",
            "src/tests.rs",
            "src/agents/mod.rs",
            "agents/src/lib.rs",
            "crates/x/src/main.rs",
            "lib.rs",
            "README.md",
        ] {
            let change = changed(p, Some("a\n"), Some("b\n"));
            assert!(protected(&change).is_none(), "{p}");
        }
    }

    #[test]
    fn a_manifest_is_protected_where_it_sets_lints() {
        let before = "[package]\nname = \"x\"\n\n[lints.clippy]\nunwrap_used = \"deny\"\n";
        for (what, after) in [
            ("relaxed", before.replace("deny", "allow")),
            (
                "removed",
                before.replace("[lints.clippy]\nunwrap_used = \"deny\"\n", ""),
            ),
            (
                "added",
                format!("{before}\n[lints.rust]\nunused = \"allow\"\n"),
            ),
            (
                "workspace",
                format!("{before}\n[workspace.lints.rust]\nunsafe_code = \"allow\"\n"),
            ),
        ] {
            let change = changed("Cargo.toml", Some(before), Some(&after));
            assert!(protected(&change).is_some(), "{what}");
        }
        // Changing anything else in the manifest is not a lint change.
        let version = before.replace("name = \"x\"", "name = \"x\"\nversion = \"0.2.0\"");
        let change = changed("crates/x/Cargo.toml", Some(before), Some(&version));
        assert!(protected(&change).is_none());
        // A manifest broken by the change cannot hide a lint edit.
        let broken = before
            .replace("deny", "allow")
            .replace("[package]", "[package");
        assert!(protected(&changed("Cargo.toml", Some(before), Some(&broken))).is_some());
    }

    #[test]
    fn scopes_respect_directories() {
        let scope = Scope::new(&["src/*.rs".into(), "crates/**/*.rs".into()]);
        assert!(scope.contains(&path("src/lib.rs")));
        assert!(!scope.contains(&path("src/a/b.rs")), "`*` stops at `/`");
        assert!(scope.contains(&path("crates/a/src/b.rs")));
        assert!(!scope.contains(&path("examples/a.rs")));
    }

    const LIB: &str = "fn a() {\n    1;\n}\n\nfn b() {\n    2;\n}\n";

    #[test]
    fn placeholders_are_refused_but_existing_comments_are_not() {
        for placeholder in [
            "// ... rest of code",
            "    // ... existing code ...",
            "# ...",
            "/* rest of the file unchanged */",
            "// …",
        ] {
            let after = format!("fn a() {{\n{placeholder}\n}}\n");
            assert_eq!(
                rules(
                    vec![changed("notes.txt", Some("x = 1\n"), Some(&after))],
                    &person()
                ),
                [Rule::Placeholder],
                "{placeholder}"
            );
        }
        // A comment that was already there, or that is about something else, is not one.
        let kept = "// ... rest of code\nfn a() {}\n";
        assert!(rules(vec![changed("a.txt", Some(kept), Some(kept))], &person()).is_empty());
        let prose = "// Retries, then gives up.\nfn a() {}\n";
        assert!(rules(vec![changed("a.txt", Some(""), Some(prose))], &person()).is_empty());
    }

    #[test]
    fn deleting_most_of_a_file_needs_a_rewrite() {
        let after = "fn a() {}\n";
        let change = || vec![changed("src/lib.rs", Some(LIB), Some(after))];
        assert_eq!(rules(change(), &person()), [Rule::MassDeletion]);
        let rewrite = Policy {
            rewrite: true,
            ..person()
        };
        assert!(rules(change(), &rewrite).is_empty());
    }

    #[test]
    fn new_syntax_errors_are_refused() {
        let broken = LIB.replace("fn b() {", "fn b( {");
        let found = review(
            &patch(vec![changed("src/lib.rs", Some(LIB), Some(&broken))]),
            &person(),
        );
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].rule, Rule::SyntaxError);
        assert!(found[0].message.contains("line 5"), "{}", found[0].message);
        // A file that was already broken may stay as broken.
        let same = vec![changed("src/lib.rs", Some(&broken), Some(&broken))];
        assert!(rules(same, &person()).is_empty());
    }

    #[test]
    fn a_path_through_a_symbolic_link_is_refused() {
        let links = |p: &str| p.starts_with("link/").then(|| String::from("link"));
        let policy = Policy {
            symlink: &links,
            ..person()
        };
        let found = review(
            &patch(vec![changed("link/x.rs", None, Some("fn a() {}\n"))]),
            &policy,
        );
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].rule, Rule::OutsideRepository);
        assert!(found[0].message.contains("`link` is a symbolic link"));
        assert!(
            rules(
                vec![changed("real/x.rs", None, Some("fn a() {}\n"))],
                &policy
            )
            .is_empty()
        );
    }

    /// An agent's policy with a write scope of everything.
    fn agent(scope: &Scope, may_silence: bool, may_add_dependencies: bool) -> Policy<'_> {
        Policy {
            scope: Some(scope),
            may_silence,
            may_add_dependencies,
            ..person()
        }
    }

    #[test]
    fn agents_add_dependencies_only_when_their_file_allows_it() {
        let before = "[package]\nname = \"x\"\n\n[dependencies]\nserde = \"1\"\n";
        let after = format!(
            "{before}fastrand = \"2\"\n\n[target.'cfg(unix)'.dev-dependencies]\nlibc = \"0.2\"\n"
        );
        assert_eq!(
            added_dependencies(Some(before), Some(&after)),
            ["fastrand", "libc"]
        );
        assert!(added_dependencies(Some(&after), Some(before)).is_empty());
        let scope = Scope::new(&[String::from("**")]);
        let change = || patch(vec![changed("Cargo.toml", Some(before), Some(&after))]);
        let refused = review(&change(), &agent(&scope, false, false));
        assert_eq!(refused.len(), 1, "{refused:?}");
        assert!(
            refused[0]
                .message
                .contains("adds the dependency `fastrand`"),
            "{}",
            refused[0]
        );
        assert!(review(&change(), &agent(&scope, false, true)).is_empty());
        let lock = patch(vec![changed("Cargo.lock", Some("a\n"), Some("b\n"))]);
        assert_eq!(
            review(&lock, &agent(&scope, false, false))[0].rule,
            Rule::Dependencies
        );
    }

    #[test]
    fn agents_change_the_public_api_only_when_their_file_allows_it() {
        let before = "pub fn none_left(items: &Vec<i32>) -> bool {\n    items.len() == 0\n}\n";
        let after = "pub fn none_left(items: &[i32]) -> bool {\n    items.is_empty()\n}\n";
        let body_only = "pub fn none_left(items: &Vec<i32>) -> bool {\n    items.is_empty()\n}\n";
        let scope = Scope::new(&[String::from("**")]);
        let strict = Policy {
            may_change_api: false,
            ..agent(&scope, false, false)
        };
        let change = |to: &str| patch(vec![changed("src/lib.rs", Some(before), Some(to))]);
        let refused = review(&change(after), &strict);
        assert_eq!(refused.len(), 1, "{refused:?}");
        assert_eq!(refused[0].rule, Rule::PublicApi);
        assert!(
            refused[0]
                .message
                .contains("changes the public API of `src/lib.rs`")
                && refused[0].message.contains("`may_change_api`"),
            "{}",
            refused[0]
        );
        assert!(review(&change(body_only), &strict).is_empty());
        assert!(review(&change(after), &agent(&scope, false, false)).is_empty());
        assert!(review(&change(after), &person()).is_empty());
    }

    #[test]
    fn agents_may_silence_a_lint_only_when_their_file_allows_it_and_with_a_reason() {
        let scope = Scope::new(&[String::from("src/**")]);
        let before = "pub fn f() -> i32 {\n    return 1;\n}\n";
        let with = |attribute: &str| {
            patch(vec![FileChange::modify(
                path("src/lib.rs"),
                before,
                format!("{attribute}\n{before}"),
            )])
        };
        let messages = |patch: &Patch, policy: &Policy<'_>| -> Vec<String> {
            review(patch, policy)
                .iter()
                .map(|r| r.message.clone())
                .collect()
        };
        let bare = with("#[allow(clippy::needless_return)]");
        let reasoned = with("#[expect(clippy::needless_return, reason = \"kept for the diff\")]");
        let refused = messages(&bare, &agent(&scope, false, false));
        assert!(refused[0].contains("`may_silence`"), "{refused:?}");
        assert!(!messages(&reasoned, &agent(&scope, false, false)).is_empty());
        let no_reason = messages(&bare, &agent(&scope, true, false));
        assert!(no_reason[0].contains("without a `reason"), "{no_reason:?}");
        assert!(messages(&reasoned, &agent(&scope, true, false)).is_empty());
        // A person may silence, reason or not: the report notes it.
        assert!(messages(&bare, &person()).is_empty());
        // An attribute that was already there is not a new one.
        let kept = patch(vec![FileChange::modify(
            path("src/lib.rs"),
            format!("#[allow(dead_code)]\n{before}"),
            format!("#[allow(dead_code)]\n{}", before.replace("return 1;", "1")),
        )]);
        assert!(messages(&kept, &agent(&scope, false, false)).is_empty());
    }

    #[test]
    fn protected_and_out_of_scope_files_are_named() {
        let scope = Scope::new(&[String::from("src/**")]);
        let changes = vec![
            changed("build.rs", Some("fn main() {}\n"), Some("fn main() { }\n")),
            changed("docs/x.md", None, Some("x\n")),
        ];
        let found = review(&patch(changes), &agent(&scope, false, false));
        let named: Vec<(&str, Rule)> = found.iter().map(|r| (r.path.as_str(), r.rule)).collect();
        assert_eq!(
            named,
            [
                ("build.rs", Rule::Protected),
                ("build.rs", Rule::OutOfScope),
                ("docs/x.md", Rule::OutOfScope)
            ]
        );
        assert_eq!(
            found[2].message,
            "`docs/x.md` is outside the agent's write scope"
        );
    }
}
