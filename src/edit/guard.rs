//! Guards that turn a patch away before anything runs: paths it must never touch, paths outside
//! the write scope of the agent that made it, and, for replies, placeholders, mass deletions,
//! new syntax errors and paths that leave the repository.

use std::path::Path;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde::Serialize;

use super::Patch;
use super::RepoPath;
use super::apply::FileResult;

/// Why a path may not be changed, if it may not: build and CI machinery, Nova's own state and
/// config, and the tests that judge every change.
pub fn protected(path: &RepoPath) -> Option<&'static str> {
    let parts: Vec<&str> = path.as_str().split('/').collect();
    let file = parts.last().copied().unwrap_or("");
    let dirs = &parts[..parts.len().saturating_sub(1)];
    let in_dir = |name: &str| dirs.contains(&name);
    if in_dir(".git") || in_dir(".cargo") || in_dir(".github") || in_dir(".ci") || in_dir(".nova") {
        return Some("it is build, CI or version-control machinery");
    }
    if file == "build.rs" || file.starts_with("rust-toolchain") {
        return Some("it decides how the code is built");
    }
    if file == "nova.toml" {
        return Some("it is Nova's own configuration");
    }
    if in_dir("tests") || in_dir("benches") {
        return Some("tests judge every change, so Nova does not change them");
    }
    None
}

/// A compiled write scope.
#[derive(Debug, Clone)]
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

/// Gives the text of a repository file (relative path) as the change sees it, if there is one.
pub type Read<'a> = &'a dyn Fn(&str) -> Option<String>;

/// What an agent's patch may do besides staying in its write scope.
#[derive(Clone, Copy)]
pub struct Policy<'a> {
    pub scope: &'a Scope,
    /// The agent's file allows it to add `allow`/`expect` attributes (with a `reason`).
    pub may_silence: bool,
    /// The agent's file allows it to add dependencies.
    pub may_add_dependencies: bool,
    /// The files around the change (the parents that declare a changed module).
    pub read: Read<'a>,
}

impl std::fmt::Debug for Policy<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("scope", &self.scope)
            .field("may_silence", &self.may_silence)
            .field("may_add_dependencies", &self.may_add_dependencies)
            .finish_non_exhaustive()
    }
}

/// The first reason `patch` may not be applied by an agent with `policy`, if any.
pub fn check(patch: &Patch, policy: &Policy<'_>) -> Result<(), String> {
    for change in &patch.changes {
        if let Some(why) = protected(&change.path) {
            return Err(format!("`{}` is protected: {why}", change.path));
        }
        if !policy.scope.contains(&change.path) {
            return Err(format!(
                "`{}` is outside the agent's write scope",
                change.path
            ));
        }
        let (before, after) = (change.before.as_deref(), change.after.as_deref());
        if !policy.may_add_dependencies {
            let file = change.path.as_str().rsplit('/').next().unwrap_or("");
            if file == "Cargo.lock" {
                return Err(format!(
                    "it changes `{}`, and the agent's file does not allow it to change \
                     dependencies (`may_add_dependencies`)",
                    change.path
                ));
            }
            if file == "Cargo.toml"
                && let Some(added) = added_dependencies(before, after).first()
            {
                return Err(format!(
                    "it adds the dependency `{added}` in `{}`, and the agent's file does not \
                     allow that (`may_add_dependencies`)",
                    change.path
                ));
            }
        }
        if let Some(line) = test_code(change.path.as_str(), before, after, policy.read) {
            return Err(format!(
                "it changes test code at `{}:{line}`: {TEST_CODE}",
                change.path
            ));
        }
        for silence in silences(change.path.as_str(), before, after) {
            if !policy.may_silence {
                return Err(format!(
                    "it silences a warning instead of fixing it ({silence}), and the agent's file \
                     does not allow that (`may_silence`)"
                ));
            }
            if !silence.reason {
                return Err(format!(
                    "it silences a warning ({silence}) without a `reason = \"...\"`"
                ));
            }
        }
    }
    Ok(())
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
    /// An absolute path, `..`, or a path through a symbolic link.
    OutsideRepository,
    Protected,
    OutOfScope,
}

/// One file turned away, with what the agent should do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejection {
    pub path: String,
    pub rule: Rule,
    pub message: String,
}

/// What the reply guards need besides the changes.
#[derive(Clone, Copy, Default)]
pub struct Context<'a> {
    /// The repository's root on disk, to refuse paths through symbolic links.
    pub root: Option<&'a Path>,
    /// The agent's write scope; `None` for a person's reply.
    pub scope: Option<&'a Scope>,
    /// A whole-file rewrite was asked for: shrinking a file is then expected.
    pub rewrite: bool,
    /// The repository's files as the reply's base has them, to see which modules are test code.
    pub read: Option<Read<'a>>,
}

impl std::fmt::Debug for Context<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("root", &self.root)
            .field("scope", &self.scope)
            .field("rewrite", &self.rewrite)
            .finish_non_exhaustive()
    }
}

/// Every reason to refuse `results` (the files a reply changes), all of them, in path order.
pub fn review(results: &[FileResult], context: &Context<'_>) -> Vec<Rejection> {
    let mut rejections = Vec::new();
    for result in results {
        let reject = |rule, message: String| Rejection {
            path: result.path.clone(),
            rule,
            message,
        };
        let Some(path) = RepoPath::new(&result.path).filter(|_| safe_path(&result.path)) else {
            rejections.push(reject(
                Rule::OutsideRepository,
                String::from("the path leaves the repository: give it relative to the root"),
            ));
            continue;
        };
        if let Some(root) = context.root
            && let Some(link) = symlink_on_path(root, &result.path)
        {
            rejections.push(reject(
                Rule::OutsideRepository,
                format!("`{link}` is a symbolic link: change the file it points to instead"),
            ));
            continue;
        }
        if let Some(why) = protected(&path) {
            rejections.push(reject(
                Rule::Protected,
                format!("the file is protected: {why}"),
            ));
        }
        let nothing = |_: &str| None;
        let read = context.read.unwrap_or(&nothing);
        let (before, after) = (result.before.as_deref(), result.after.as_deref());
        if let Some(line) = test_code(&result.path, before, after, read) {
            rejections.push(reject(
                Rule::Protected,
                format!("line {line} is test code: {TEST_CODE}"),
            ));
        }
        if let Some(scope) = context.scope
            && !scope.contains(&path)
        {
            rejections.push(reject(
                Rule::OutOfScope,
                String::from("the file is outside the agent's write scope"),
            ));
        }
        let Some(after) = &result.after else {
            continue;
        };
        let before = result.before.as_deref().unwrap_or("");
        if let Some(line) = placeholder(before, after) {
            rejections.push(reject(
                Rule::Placeholder,
                format!(
                    "line {line} stands for code instead of being code (`{}`): write out \
                     every line that stays",
                    after.lines().nth(line - 1).unwrap_or("").trim()
                ),
            ));
        }
        let (kept, was) = (non_blank(after), non_blank(before));
        if !context.rewrite && was >= 4 && kept * 2 < was {
            rejections.push(reject(
                Rule::MassDeletion,
                format!(
                    "the change leaves {kept} of {was} lines; if a rewrite is meant, ask for \
                     one, else keep the lines that stay"
                ),
            ));
        }
        // Parsed once each side: every error line of the result, against the count before.
        if let Some(errors) = crate::index::syntax_errors(&result.path, after, usize::MAX)
            && !errors.is_empty()
        {
            let had = crate::index::syntax_errors(&result.path, before, usize::MAX)
                .map_or(0, |lines| lines.len());
            if errors.len() > had || result.before.is_none() {
                let lines: Vec<String> = errors.iter().take(3).map(usize::to_string).collect();
                rejections.push(reject(
                    Rule::SyntaxError,
                    format!("the result does not parse (line {})", lines.join(", ")),
                ));
            }
        }
    }
    rejections
}

fn non_blank(text: &str) -> usize {
    text.lines().filter(|line| !line.trim().is_empty()).count()
}

/// Relative, without `.` or `..` components or a backslash.
fn safe_path(path: &str) -> bool {
    !path.starts_with('/')
        && !path.contains('\\')
        && path
            .split('/')
            .all(|part| !part.is_empty() && part != "." && part != "..")
}

/// The first component of `path` under `root` that is a symbolic link, if any.
fn symlink_on_path(root: &Path, path: &str) -> Option<String> {
    let mut current = root.to_owned();
    let mut walked = Vec::new();
    for part in path.split('/') {
        current.push(part);
        walked.push(part);
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => return Some(walked.join("/")),
            Ok(_) => {}
            Err(_) => return None,
        }
    }
    None
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

    #[test]
    fn protected_paths() {
        for p in [
            "build.rs",
            "crates/x/build.rs",
            "tests/it.rs",
            "crates/x/tests/a.rs",
            ".cargo/config.toml",
            "rust-toolchain.toml",
            ".github/workflows/ci.yml",
            "nova.toml",
        ] {
            assert!(protected(&path(p)).is_some(), "{p}");
        }
        for p in [
            "src/lib.rs",
            "src/tests.rs",
            "crates/x/src/main.rs",
            "lib.rs",
        ] {
            assert!(protected(&path(p)).is_none(), "{p}");
        }
    }

    #[test]
    fn scopes_respect_directories() {
        let scope = Scope::new(&["src/*.rs".into(), "crates/**/*.rs".into()]);
        assert!(scope.contains(&path("src/lib.rs")));
        assert!(!scope.contains(&path("src/a/b.rs")), "`*` stops at `/`");
        assert!(scope.contains(&path("crates/a/src/b.rs")));
        assert!(!scope.contains(&path("examples/a.rs")));
    }

    fn changed(path: &str, before: Option<&str>, after: Option<&str>) -> FileResult {
        FileResult {
            path: path.to_owned(),
            before: before.map(str::to_owned),
            after: after.map(str::to_owned),
        }
    }

    fn rules(results: &[FileResult], context: &Context<'_>) -> Vec<Rule> {
        review(results, context)
            .into_iter()
            .map(|r| r.rule)
            .collect()
    }

    const LIB: &str = "fn a() {\n    1;\n}\n\nfn b() {\n    2;\n}\n";

    #[test]
    fn placeholders_are_refused_but_existing_comments_are_not() {
        let context = Context::default();
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
                    &[changed("notes.txt", Some("x = 1\n"), Some(&after))],
                    &context
                ),
                [Rule::Placeholder],
                "{placeholder}"
            );
        }
        // A comment that was already there, or that is about something else, is not one.
        let kept = "// ... rest of code\nfn a() {}\n";
        assert!(rules(&[changed("a.txt", Some(kept), Some(kept))], &context).is_empty());
        let prose = "// Retries, then gives up.\nfn a() {}\n";
        assert!(rules(&[changed("a.txt", Some(""), Some(prose))], &context).is_empty());
    }

    #[test]
    fn deleting_most_of_a_file_needs_a_rewrite() {
        let after = "fn a() {}\n";
        let results = [changed("src/lib.rs", Some(LIB), Some(after))];
        assert_eq!(rules(&results, &Context::default()), [Rule::MassDeletion]);
        let rewrite = Context {
            rewrite: true,
            ..Context::default()
        };
        assert!(rules(&results, &rewrite).is_empty());
    }

    #[test]
    fn new_syntax_errors_are_refused() {
        let broken = LIB.replace("fn b() {", "fn b( {");
        let results = [changed("src/lib.rs", Some(LIB), Some(&broken))];
        let found = review(&results, &Context::default());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].rule, Rule::SyntaxError);
        assert!(found[0].message.contains("line 5"), "{}", found[0].message);
        // A file that was already broken may stay as broken.
        let same = [changed("src/lib.rs", Some(&broken), Some(&broken))];
        assert!(rules(&same, &Context::default()).is_empty());
    }

    #[test]
    fn paths_must_stay_in_the_repository() {
        let context = Context::default();
        for bad in ["/etc/passwd", "../x.rs", "src/../../x.rs", "./x.rs"] {
            assert_eq!(
                rules(&[changed(bad, None, Some("x"))], &context),
                [Rule::OutsideRepository],
                "{bad}"
            );
        }
        let root = std::env::temp_dir().join(format!("nova-guard-{}", std::process::id()));
        std::fs::create_dir_all(root.join("real")).expect("mkdir");
        let _ = std::fs::remove_file(root.join("link"));
        std::os::unix::fs::symlink(root.join("real"), root.join("link")).expect("symlink");
        let with_root = Context {
            root: Some(&root),
            ..Context::default()
        };
        assert_eq!(
            rules(
                &[changed("link/x.rs", None, Some("fn a() {}\n"))],
                &with_root
            ),
            [Rule::OutsideRepository]
        );
        assert!(
            rules(
                &[changed("real/x.rs", None, Some("fn a() {}\n"))],
                &with_root
            )
            .is_empty()
        );
        std::fs::remove_dir_all(root).expect("cleanup");
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
        let nothing = |_: &str| None;
        let patch = Patch {
            summary: String::new(),
            changes: vec![crate::edit::FileChange::modify(
                path("Cargo.toml"),
                before,
                after.clone(),
            )],
        };
        let policy = |may_add_dependencies| Policy {
            scope: &scope,
            may_silence: false,
            may_add_dependencies,
            read: &nothing,
        };
        let refused = check(&patch, &policy(false)).expect_err("not allowed");
        assert!(
            refused.contains("adds the dependency `fastrand`"),
            "{refused}"
        );
        assert_eq!(check(&patch, &policy(true)), Ok(()));
    }

    #[test]
    fn agents_may_silence_a_lint_only_when_their_file_allows_it_and_with_a_reason() {
        let scope = Scope::new(&[String::from("src/**")]);
        let nothing = |_: &str| None;
        let before = "pub fn f() -> i32 {\n    return 1;\n}\n";
        let patch = |attribute: &str| Patch {
            summary: String::new(),
            changes: vec![crate::edit::FileChange::modify(
                path("src/lib.rs"),
                before,
                format!("{attribute}\n{before}"),
            )],
        };
        let policy = |may_silence| Policy {
            scope: &scope,
            may_silence,
            may_add_dependencies: false,
            read: &nothing,
        };
        let bare = patch("#[allow(clippy::needless_return)]");
        let reasoned = patch("#[expect(clippy::needless_return, reason = \"kept for the diff\")]");
        let refused = check(&bare, &policy(false)).expect_err("not allowed");
        assert!(refused.contains("`may_silence`"), "{refused}");
        assert!(check(&reasoned, &policy(false)).is_err());
        let no_reason = check(&bare, &policy(true)).expect_err("no reason");
        assert!(no_reason.contains("without a `reason"), "{no_reason}");
        assert_eq!(check(&reasoned, &policy(true)), Ok(()));
        // An attribute that was already there is not a new one.
        let kept = Patch {
            summary: String::new(),
            changes: vec![crate::edit::FileChange::modify(
                path("src/lib.rs"),
                format!("#[allow(dead_code)]\n{before}"),
                format!("#[allow(dead_code)]\n{}", before.replace("return 1;", "1")),
            )],
        };
        assert_eq!(check(&kept, &policy(false)), Ok(()));
    }

    #[test]
    fn protected_and_out_of_scope_files_are_named() {
        let scope = Scope::new(&[String::from("src/**")]);
        let context = Context {
            scope: Some(&scope),
            ..Context::default()
        };
        let results = [
            changed("build.rs", Some("fn main() {}\n"), Some("fn main() { }\n")),
            changed("docs/x.md", None, Some("x\n")),
        ];
        assert_eq!(
            rules(&results, &context),
            [Rule::Protected, Rule::OutOfScope, Rule::OutOfScope]
        );
    }
}
