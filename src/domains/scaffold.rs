//! `nova agents scaffold`: one agent file per part of the repository, in
//! `.nova/agents/domains/`, for people to edit and commit.
//!
//! A file has two generated parts: its front matter and a block of its prompt between
//! [`BLOCK_BEGIN`] and [`BLOCK_END`]. The marker line in the front matter records a hash of each
//! as scaffold wrote it; running scaffold again rewrites a part only while its text still has that
//! hash, so a person's edit to either is never overwritten. Everything after the block (the
//! agent's instructions) is written once, when the file is created, and never again. A file
//! without the marker line is not scaffold's and is left alone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::parts::{self, Kind, Part};
use super::{Crossing, crossings};
use crate::agents::{DOMAINS_DIR, REPO_AGENTS_DIR};
use crate::index::Index;

/// The front matter's marker line starts with this; the two hashes follow.
pub const MARKER: &str = "# nova:scaffold";
/// The generated block of the prompt starts with this line...
pub const BLOCK_BEGIN: &str =
    "<!-- nova:generated (nova agents scaffold rewrites this block until you edit it) -->";
/// ... and ends with this one.
pub const BLOCK_END: &str = "<!-- nova:end -->";
/// The header comments of the front matter, above the marker.
const HEADER: &str = "\
# A domain agent: it owns one part of the repository. Written by `nova agents scaffold`, which
# rewrites the front matter and the generated block of the prompt only while they are as it wrote
# them (the marker below records what it wrote): edit anything; delete the marker to own it all.";

/// How many public items a part's prompt names.
const API_SHOWN: usize = 40;
/// How many lines of a part's docs, and of its section of `ARCHITECTURE.md`, its prompt carries.
const DOC_LINES: usize = 30;

/// What scaffold does to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Create,
    Update,
    Unchanged,
    /// Updated where it was as scaffold wrote it; a part a person edited was kept as it is.
    KeptEdits {
        front: bool,
        block: bool,
    },
    /// The file has no marker: it is a person's, left alone.
    NotGenerated,
}

/// One domain agent's file, as scaffold would leave it.
#[derive(Debug, Clone, Serialize)]
pub struct Planned {
    pub name: String,
    /// Relative to the repository's root.
    pub file: String,
    pub part: String,
    pub kind: Kind,
    pub files: usize,
    pub lines: usize,
    pub write: Vec<String>,
    pub action: Action,
    /// What the file will hold; `None` where nothing is written.
    #[serde(skip)]
    pub text: Option<String>,
}

/// Everything one scaffold run would write, and the files it generated before for parts that are
/// gone.
#[derive(Debug, Clone, Serialize)]
pub struct Scaffold {
    pub agents: Vec<Planned>,
    /// Files in the domains directory with the marker whose part no longer exists: left for a
    /// person to delete.
    pub stale: Vec<String>,
}

/// The directory domain agents live in, relative to the repository's root.
pub fn dir() -> PathBuf {
    Path::new(REPO_AGENTS_DIR).join(DOMAINS_DIR)
}

/// What scaffold would write for the repository at `root`, whose files `index` holds. Reads, never
/// writes.
pub fn plan(root: &Path, index: &Index) -> Scaffold {
    let parts = parts::derive(root, index);
    let owner_of: BTreeMap<String, String> = parts
        .iter()
        .flat_map(|p| p.files.iter().map(|f| (f.clone(), p.name.clone())))
        .collect();
    let edges = crossings(index, &owner_of);
    let docs = Docs::read(root);
    let mut agents = Vec::new();
    for part in &parts {
        let generated = generate(index, part, &parts, &edges, &docs);
        let file = dir().join(format!("{}.md", part.name));
        let existing = std::fs::read_to_string(root.join(&file)).ok();
        let (action, text) = merge(existing.as_deref(), &generated);
        agents.push(Planned {
            name: part.name.clone(),
            file: file.display().to_string(),
            part: part.path.clone(),
            kind: part.kind,
            files: part.files.len(),
            lines: part.lines,
            write: part.write.clone(),
            action,
            text,
        });
    }
    let stale = stale(root, &agents);
    Scaffold { agents, stale }
}

/// Writes what `plan` says, each file whole or not at all.
pub fn write(root: &Path, plan: &Scaffold) -> std::io::Result<usize> {
    let mut written = 0;
    for agent in &plan.agents {
        let Some(text) = &agent.text else { continue };
        let path = root.join(&agent.file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let partial = path.with_extension("md.partial");
        std::fs::write(&partial, text)?;
        std::fs::rename(&partial, &path)?;
        written += 1;
    }
    Ok(written)
}

/// Generated files of parts that are gone.
fn stale(root: &Path, agents: &[Planned]) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(root.join(dir())) else {
        return Vec::new();
    };
    let mut stale: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .filter(|p| {
            let shown = dir().join(p.file_name().unwrap_or_default());
            !agents.iter().any(|a| Path::new(&a.file) == shown)
        })
        .filter(|p| {
            std::fs::read_to_string(p).is_ok_and(|t| t.lines().any(|l| l.starts_with(MARKER)))
        })
        .map(|p| {
            dir()
                .join(p.file_name().unwrap_or_default())
                .display()
                .to_string()
        })
        .collect();
    stale.sort();
    stale
}

/// What scaffold generates for one part: the front matter's body and the prompt's block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Generated {
    pub front: String,
    pub block: String,
}

fn hash(text: &str) -> String {
    format!("{:016x}", crate::hash::fnv1a(text.trim().as_bytes()))
}

/// The file `existing` becomes with `generated`, and what that is.
pub fn merge(existing: Option<&str>, generated: &Generated) -> (Action, Option<String>) {
    let Some(existing) = existing else {
        let text = assemble(
            generated,
            &hash(&generated.front),
            &hash(&generated.block),
            "",
        ) + "\n"
            + INSTRUCTIONS;
        return (Action::Create, Some(text));
    };
    let Some(old) = Existing::parse(existing) else {
        return (Action::NotGenerated, None);
    };
    let front_kept = hash(old.front) != old.front_hash;
    let block_kept = old.block.is_none_or(|b| hash(b) != old.block_hash);
    let front = if front_kept {
        old.front
    } else {
        &generated.front
    };
    let front_hash = if front_kept {
        old.front_hash
    } else {
        hash(&generated.front)
    };
    let text = match old.block {
        Some(block) => {
            let (block, block_hash) = if block_kept {
                (block, old.block_hash)
            } else {
                (generated.block.as_str(), hash(&generated.block))
            };
            let generated = Generated {
                front: front.to_owned(),
                block: block.to_owned(),
            };
            assemble(&generated, &front_hash, &block_hash, old.before) + old.after
        }
        // The block's markers are gone: the whole prompt is the person's.
        None => format!(
            "+++\n{HEADER}\n{MARKER} front={front_hash} block={}\n{}\n+++\n{}",
            old.block_hash,
            front.trim(),
            old.prompt
        ),
    };
    let action = if front_kept || block_kept {
        Action::KeptEdits {
            front: front_kept,
            block: block_kept,
        }
    } else if text == existing {
        Action::Unchanged
    } else {
        Action::Update
    };
    let changed = text != existing;
    (action, changed.then_some(text))
}

fn assemble(generated: &Generated, front_hash: &str, block_hash: &str, before: &str) -> String {
    format!(
        "+++\n{HEADER}\n{MARKER} front={front_hash} block={block_hash}\n{}\n+++\n{before}{BLOCK_BEGIN}\n{}\n{BLOCK_END}\n",
        generated.front.trim(),
        generated.block.trim(),
    )
}

/// A generated file as it is on disk now.
struct Existing<'a> {
    front_hash: String,
    block_hash: String,
    /// The front matter after the marker line.
    front: &'a str,
    prompt: &'a str,
    /// The prompt before the block, the block, and after it.
    before: &'a str,
    block: Option<&'a str>,
    after: &'a str,
}

impl<'a> Existing<'a> {
    fn parse(text: &'a str) -> Option<Existing<'a>> {
        let (front, prompt) = crate::agents::front_matter(text)?;
        let at = front.find(MARKER)?;
        let line_end = front[at..].find('\n').map_or(front.len(), |i| at + i + 1);
        let marker = &front[at..line_end];
        let value = |key: &str| {
            marker
                .split_whitespace()
                .find_map(|w| w.strip_prefix(key))
                .map(str::to_owned)
        };
        let (front_hash, block_hash) = (value("front=")?, value("block=")?);
        let mut existing = Existing {
            front_hash,
            block_hash,
            front: &front[line_end..],
            prompt,
            before: "",
            block: None,
            after: "",
        };
        let begin = prompt.find(&format!("{BLOCK_BEGIN}\n"));
        let end = prompt.find(&format!("\n{BLOCK_END}\n"));
        if let (Some(begin), Some(end)) = (begin, end)
            && begin + BLOCK_BEGIN.len() < end
        {
            existing.before = &prompt[..begin];
            existing.block = Some(&prompt[begin + BLOCK_BEGIN.len() + 1..end]);
            existing.after = &prompt[end + BLOCK_END.len() + 2..];
        }
        Some(existing)
    }
}

/// The instructions a domain agent starts with, after its block: the person's to change.
const INSTRUCTIONS: &str = "\
You change this part of the repository, and only this part: your write scope is its files. Before
you edit, read the code you will change and its callers, and follow `AGENTS.md` and the part's
docs above.

Keep the part's public API unless the task is about it: the neighbours above rely on it. When the
task needs a change outside your part, do not work around it: ask the part's owner with
`request_change` (what to change, why, and the interface both of you will rely on), then go on
with your part once its change is in your candidate.

Write complete code: no placeholders, no `todo!()`, nothing deleted that you were not asked to
remove. Do not touch tests, `build.rs`, `Cargo.toml`, CI files or agent files.

Return one patch with a one-line summary of what it changes and why, or no patch and one sentence
saying why not.
";

/// The repository's own docs that parts' prompts quote.
struct Docs {
    root: PathBuf,
    architecture: Option<String>,
}

impl Docs {
    fn read(root: &Path) -> Docs {
        Docs {
            root: root.to_owned(),
            architecture: std::fs::read_to_string(root.join("ARCHITECTURE.md")).ok(),
        }
    }

    fn file(&self, path: &str) -> Option<String> {
        std::fs::read_to_string(self.root.join(path)).ok()
    }
}

fn generate(
    index: &Index,
    part: &Part,
    parts: &[Part],
    edges: &[Crossing],
    docs: &Docs,
) -> Generated {
    let module_docs = part
        .entry
        .as_deref()
        .and_then(|entry| docs.file(entry))
        .map(|text| inner_docs(&text))
        .unwrap_or_default();
    let readme = match part.kind {
        Kind::Crate if !part.crate_dir.is_empty() => docs
            .file(&format!("{}/README.md", part.crate_dir))
            .map(|text| first_section(&text))
            .unwrap_or_default(),
        _ => String::new(),
    };
    let architecture = docs
        .architecture
        .as_deref()
        .map(|text| section_about(text, part))
        .unwrap_or_default();
    let description = description(part, &module_docs, &readme);
    let front = front(part, &description);
    // Nothing here changes with every commit (no counts of files or lines), so that a file
    // scaffold wrote stays as it was until the part's docs, API or neighbours change.
    let mut block = format!("You own `{}`, {}.\n", part.path, what(part));
    let about: Vec<&str> = [module_docs.as_str(), readme.as_str()]
        .into_iter()
        .filter(|t| !t.trim().is_empty())
        .collect();
    if !about.is_empty() {
        block += &format!("\n## What it is\n\n{}\n", about.join("\n\n"));
    }
    if !architecture.is_empty() {
        block += &format!("\n## From ARCHITECTURE.md\n\n{architecture}\n");
    }
    block += &api(index, part);
    block += &neighbours(part, parts, edges);
    Generated { front, block }
}

fn what(part: &Part) -> String {
    match part.kind {
        Kind::Crate if part.crate_dir.is_empty() => {
            format!("the `{}` crate at the root", part.krate)
        }
        Kind::Crate => format!("the `{}` crate", part.krate),
        Kind::Module => format!("a top-level module of the `{}` crate", part.krate),
    }
}

fn front(part: &Part, description: &str) -> String {
    let quoted = |s: &str| toml::Value::String(s.to_owned()).to_string();
    let list = |items: &[String]| {
        items
            .iter()
            .map(|i| quoted(i))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "name = {}\nrole = \"refactorer\"\npart = {}\ndescription = {}\n\
         scope = {{ read = [\"**/*.rs\", \"**/*.md\", \"**/Cargo.toml\"], write = [{}] }}\n\
         tools = [\"read_file\", \"search\", \"repo_map\", \"symbols\", \"propose_edit\", \"run_checks\", \"request_change\"]\n\
         budget = {{ turns = 12, tokens = 80000, seconds = 300 }}\n\
         builtin = [\"rustc::*\", \"clippy::*\", \"rustfmt\", \"rules::*\"]\n\
         output = \"patch\"",
        quoted(&part.name),
        quoted(&part.path),
        quoted(description),
        list(&part.write),
    )
}

/// One line: what the part owns and what it is, from its docs' first sentence (a module's own
/// docs only: its crate's description is not the module's).
fn description(part: &Part, module_docs: &str, readme: &str) -> String {
    let crate_description = match part.kind {
        Kind::Crate => part.crate_description.as_deref().unwrap_or(""),
        Kind::Module => "",
    };
    let said = [module_docs, readme, crate_description]
        .into_iter()
        .map(first_sentence)
        .find(|s| !s.is_empty());
    let owns = format!("Owns `{}` ({})", part.path, what(part));
    match said {
        Some(sentence) => format!("{owns}: {sentence}"),
        None => owns,
    }
}

fn first_sentence(text: &str) -> String {
    let paragraph: Vec<&str> = text
        .lines()
        // A quoted tagline (`> **Command Line Argument Parser**`) is a sentence too.
        .map(|l| l.trim().trim_start_matches('>').trim().trim_matches('*'))
        .skip_while(|l| l.is_empty() || l.starts_with('#'))
        .take_while(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let joined = paragraph.join(" ");
    let end = joined
        .find(". ")
        .map_or(joined.len(), |i| i + 1)
        .min(joined.len());
    let sentence = &joined[..end];
    if sentence.chars().count() > 200 {
        sentence.chars().take(199).collect::<String>() + "…"
    } else {
        sentence.to_owned()
    }
}

/// The leading inner doc comment of a Rust file (`//!` lines, or a `/*! ... */` block), without
/// its markers, at most 30 lines.
pub fn inner_docs(text: &str) -> String {
    let mut lines = text
        .lines()
        .map(str::trim_start)
        .skip_while(|l| l.is_empty() || (l.starts_with("//") && !l.starts_with("//!")))
        .peekable();
    let docs: Vec<&str> = match lines.peek() {
        Some(first) if first.starts_with("/*!") => {
            let first = first.trim_start_matches("/*!");
            let mut open = true;
            let block: Vec<&str> = std::iter::once(first)
                .chain(lines.skip(1))
                .map_while(|l| {
                    let (line, closed) = l.split_once("*/").map_or((l, false), |(a, _)| (a, true));
                    let was_open = std::mem::replace(&mut open, !closed);
                    was_open.then_some(line.trim())
                })
                .collect();
            // A block whose every line opens with `*` has them as a margin, not as bullets.
            let starred = block.iter().all(|l| l.is_empty() || l.starts_with('*'));
            block
                .into_iter()
                .map(|l| match l.strip_prefix('*') {
                    Some(rest) if starred => rest.strip_prefix(' ').unwrap_or(rest),
                    _ => l,
                })
                .collect()
        }
        _ => lines
            .take_while(|l| l.starts_with("//!"))
            .map(|l| {
                let l = &l[3..];
                l.strip_prefix(' ').unwrap_or(l)
            })
            .collect(),
    };
    docs.into_iter()
        .skip_while(|l| l.trim().is_empty())
        .take(DOC_LINES)
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_owned()
}

/// A README's title and first section, at most [`DOC_LINES`] lines: badges, HTML comments and
/// headings (`#` ones, and a line underlined with `===` or `---`) left out.
fn first_section(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let underline = |l: &str| {
        let l = l.trim();
        l.len() >= 3 && (l.chars().all(|c| c == '=') || l.chars().all(|c| c == '-'))
    };
    let mut headings = 0;
    let mut in_comment = false;
    let mut kept = Vec::new();
    for (k, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if in_comment || trimmed.starts_with("<!--") {
            in_comment = !line.contains("-->");
            continue;
        }
        let setext = lines.get(k + 1).is_some_and(|next| underline(next)) && !trimmed.is_empty();
        if line.starts_with('#') || setext {
            headings += 1;
            if headings > 1 {
                break;
            }
            continue;
        }
        if underline(line) && k > 0 || trimmed.starts_with("[!") || trimmed.starts_with("![") {
            continue;
        }
        kept.push(*line);
        if kept.len() == DOC_LINES {
            break;
        }
    }
    kept.join("\n").trim().to_owned()
}

/// What `ARCHITECTURE.md` says of the part: a code map's entry for its path (the line that starts
/// with it and the lines indented under it), or a section whose heading names it.
fn section_about(text: &str, part: &Part) -> String {
    let path = if part.path == "." {
        return String::new();
    } else {
        part.path.as_str()
    };
    let starts = |line: &str| {
        let line = line.trim_start_matches(['-', ' ', '`']);
        [format!("{path}/"), format!("{path}.rs")]
            .iter()
            .any(|p| line.starts_with(p.as_str()))
    };
    let lines: Vec<&str> = text.lines().collect();
    if let Some(at) = lines.iter().position(|l| starts(l)) {
        let taken: Vec<&str> = std::iter::once(lines[at])
            .chain(
                lines[at + 1..]
                    .iter()
                    .copied()
                    .take_while(|l| l.starts_with(' ') && !l.trim().is_empty()),
            )
            .take(DOC_LINES)
            .collect();
        return taken.join("\n");
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    let named = format!("`{name}`");
    let Some(at) = lines
        .iter()
        .position(|l| l.starts_with('#') && (l.contains(&named) || l.contains(path)))
    else {
        return String::new();
    };
    let level = lines[at].chars().take_while(|c| *c == '#').count();
    lines[at + 1..]
        .iter()
        .take_while(|l| {
            let depth = l.chars().take_while(|c| *c == '#').count();
            depth == 0 || depth > level
        })
        .take(DOC_LINES)
        .copied()
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_owned()
}

/// The part's public items by file, at most [`API_SHOWN`] of them.
fn api(index: &Index, part: &Part) -> String {
    let mut lines = Vec::new();
    let mut shown = 0;
    let mut total = 0;
    for file in &part.files {
        if crate::index::package::file_kind(file) == crate::index::package::FileKind::Tests {
            continue;
        }
        let names: Vec<String> = index
            .outline(file)
            .unwrap_or_default()
            .iter()
            .filter(|d| d.public && d.kind != crate::index::Kind::Impl)
            .map(|d| match &d.scope {
                Some(scope) => format!("{scope}::{}", d.name),
                None => d.name.clone(),
            })
            .collect();
        total += names.len();
        let room = API_SHOWN.saturating_sub(shown);
        if names.is_empty() || room == 0 {
            continue;
        }
        shown += names.len().min(room);
        let taken: Vec<String> = names.iter().take(room).map(|n| format!("`{n}`")).collect();
        lines.push(format!("- `{file}`: {}", taken.join(", ")));
    }
    if lines.is_empty() {
        return String::new();
    }
    let more = if total > shown {
        format!("\n({} more: use `symbols` and `repo_map`)", total - shown)
    } else {
        String::new()
    };
    format!("\n## Its public API\n\n{}{more}\n", lines.join("\n"))
}

/// The parts this one uses and the parts that use it, with the names that cross.
fn neighbours(part: &Part, parts: &[Part], edges: &[Crossing]) -> String {
    let path_of = |name: &str| {
        parts
            .iter()
            .find(|p| p.name == name)
            .map_or(String::new(), |p| p.path.clone())
    };
    let uses = edges
        .iter()
        .filter(|e| e.from == part.name)
        .map(|e| ("uses", &e.to, e));
    let used = edges
        .iter()
        .filter(|e| e.to == part.name)
        .map(|e| ("used by", &e.from, e));
    let lines: Vec<String> = uses
        .chain(used)
        .map(|(how, other, edge)| {
            format!(
                "- {how} `{}` (its agent `{other}`): {}",
                path_of(other),
                edge.names.join(", ")
            )
        })
        .collect();
    if lines.is_empty() {
        return String::new();
    }
    format!("\n## Its neighbours\n\n{}\n", lines.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generated(front: &str, block: &str) -> Generated {
        Generated {
            front: front.to_owned(),
            block: block.to_owned(),
        }
    }

    #[test]
    fn a_file_is_rewritten_only_where_it_is_as_scaffold_wrote_it() {
        let first = generated("name = \"a\"", "You own `a`.");
        let (action, text) = merge(None, &first);
        assert_eq!(action, Action::Create);
        let text = text.expect("created");
        assert!(text.contains(INSTRUCTIONS.trim()), "{text}");
        // Nothing new: nothing written.
        assert_eq!(merge(Some(&text), &first), (Action::Unchanged, None));
        // New generated text replaces what scaffold wrote; the instructions stay.
        let second = generated(
            "name = \"a\"\nrole = \"refactorer\"",
            "You own `a`, now bigger.",
        );
        let (action, updated) = merge(Some(&text), &second);
        assert_eq!(action, Action::Update);
        let updated = updated.expect("updated");
        assert!(updated.contains("now bigger") && updated.contains("role = \"refactorer\""));
        // A person's edit to the block is kept; the front matter still follows scaffold.
        let edited = updated.replace("now bigger", "as I say");
        let third = generated("name = \"a\"\nbudget = 1", "You own `a`, third.");
        let (action, merged) = merge(Some(&edited), &third);
        assert_eq!(
            action,
            Action::KeptEdits {
                front: false,
                block: true
            }
        );
        let merged = merged.expect("front updated");
        assert!(
            merged.contains("as I say") && !merged.contains("third"),
            "{merged}"
        );
        assert!(merged.contains("budget = 1"), "{merged}");
        // Without the marker the file is a person's.
        let theirs = merged
            .lines()
            .filter(|l| !l.starts_with(MARKER))
            .collect::<Vec<_>>()
            .join("\n");
        assert_eq!(merge(Some(&theirs), &third), (Action::NotGenerated, None));
    }

    #[test]
    fn docs_are_read_from_inner_comments_and_the_code_map() {
        let text = "// SPDX\n//! The index.\n//!\n//! Owns tags.\nuse x;\n//! not this\n";
        assert_eq!(inner_docs(text), "The index.\n\nOwns tags.");
        let block = "// SPDX\n/*!\nDFAs.\n\nThey search.\n*/\npub mod dense;\n/*! not this */\n";
        assert_eq!(inner_docs(block), "DFAs.\n\nThey search.");
        assert_eq!(inner_docs("/*! One line. */\nuse x;"), "One line.");
        assert_eq!(
            inner_docs("/*!\n * Starred.\n *\n * Lines.\n */"),
            "Starred.\n\nLines."
        );
        assert_eq!(inner_docs("/*!\nA list:\n* one\n*/"), "A list:\n* one");
        let readme = "<!-- omit in TOC -->\n# `clap_mangen`\n\n> **Manpage generation for `clap`**\n\n[![Crates.io](x)](y)\n\n## Example\n\nNo.";
        assert_eq!(
            first_sentence(&first_section(readme)),
            "Manpage generation for `clap`"
        );
        let setext =
            "regex-automata\n==============\nThis crate exposes engines.\n\nUsage\n-----\nNo.";
        assert_eq!(first_section(setext), "This crate exposes engines.");
        assert_eq!(
            first_sentence("Tags for files. And more.\n\nNext."),
            "Tags for files."
        );
        let part = Part {
            name: String::from("n-index"),
            kind: Kind::Module,
            path: String::from("src/index"),
            krate: String::from("n"),
            crate_dir: String::new(),
            write: Vec::new(),
            files: Vec::new(),
            lines: 0,
            entry: None,
            crate_description: None,
        };
        let map = "```\nsrc/git/          git\nsrc/index/        the index\n  walk.rs         a walk\n\nsrc/tools/ x\n```\n";
        assert_eq!(
            section_about(map, &part),
            "src/index/        the index\n  walk.rs         a walk"
        );
        let headed = "# A\n\n## The `index` module\n\nIt ranks.\n\n### Cache\n\nIt keeps.\n\n## Other\n\nNo.\n";
        assert_eq!(
            section_about(headed, &part),
            "It ranks.\n\n### Cache\n\nIt keeps."
        );
    }
}
