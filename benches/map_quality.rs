//! Map quality: does the repository map show what a task is about?
//!
//! Real commits of Nova and of two public Rust repositories, pinned in
//! `benches/map_quality/commits.txt`: the parent's tree is the repository, the commit message is
//! the task, and a map is scored against what the commit changed: the share of the changed files
//! (that existed before) the map shows, and the share of the changed definitions (the innermost
//! definition around each changed line) shown as a definition line in their file's section. Every
//! map's tokens are counted with `o200k_base`.
//!
//! ```sh
//! cargo bench --bench map_quality                  # the train split
//! cargo bench --bench map_quality -- --split test  # the held-out split, for the final figures
//! cargo bench --bench map_quality -- --pick 60 --repo ripgrep   # candidates to pin
//! cargo bench --bench map_quality -- --sweep     # Nova over a grid of ranking weights (train)
//! cargo bench --bench map_quality -- --misses    # the changed files Nova's 4,096-token map misses
//! cargo bench --bench map_quality -- --show ID --tokens N   # one case and Nova's map for it
//! ```
//!
//! Tools: Nova's map for the task's text (`nova map --task`); a grep baseline (the lines that name
//! the task's focus names, by file, fitted to the budget); and Aider's map, when its maps are given
//! (`--aider DIR`, made by `benches/aider_map_quality.py` from the cases `--cases FILE` writes).
//! The focus names every baseline gets are the message's words that name a definition of the
//! repository. The public repositories are read from mirrors made with the search tool's `fetch`
//! (`--mirrors DIR`, default `../.mirror`, as `<owner>+<name>/repo`); a missing one is
//! skipped, loudly. Trees are written once to `target/map-quality/trees/`.

#![expect(
    clippy::print_stdout,
    reason = "a benchmark reports its results on stdout"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use git2::{Oid, Repository};

#[path = "common/mirrors.rs"]
mod mirrors;
use nova::index::{Focus, Index, Weights, count_tokens};
use serde::Serialize;

const BUDGETS: [usize; 2] = [1024, 4096];

/// The repositories: a short name and the mirror's directory (`None`: Nova's own).
const REPOS: [mirrors::Repo; 3] = [
    ("nova", None),
    ("ripgrep", Some("BurntSushi+ripgrep")),
    ("fd", Some("sharkdp+fd")),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Split {
    Train,
    Test,
}

/// One task: a commit, its parent's tree on disk, what it changed.
#[derive(Debug, Serialize)]
struct Case {
    id: String,
    repo: String,
    commit: String,
    message: String,
    tree: PathBuf,
    /// The message's words that name a definition of the repository: every baseline's focus.
    names: Vec<String>,
    /// Changed files that existed in the parent.
    files: Vec<String>,
    /// (file, definition name) around the changed lines.
    defs: Vec<(String, String)>,
}

/// One tool's map for one case and budget, scored.
#[derive(Debug, Default, Clone, Copy)]
struct Score {
    files: f64,
    defs: f64,
    tokens: usize,
    over: bool,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mirrors = value("--mirrors").map_or_else(|| root.join("../.mirror"), PathBuf::from);
    if let Some(n) = value("--pick") {
        let repo = value("--repo").unwrap_or_else(|| String::from("nova"));
        let n: usize = n.parse().expect("--pick N");
        pick(
            &repo_dir(&root, &mirrors, &repo).expect("the repository"),
            n,
        );
        return;
    }
    let split = match value("--split").as_deref() {
        Some("test") => Some(Split::Test),
        Some("all") => None,
        _ => Some(Split::Train),
    };
    let cases = load_cases(&root, &mirrors, split);
    if let Some(path) = value("--cases") {
        let json = serde_json::to_string_pretty(&cases).expect("json");
        std::fs::write(&path, json).expect("write the cases");
        println!("{} cases written to {path}", cases.len());
        return;
    }
    if let Some(id) = value("--show") {
        for case in cases.iter().filter(|c| c.id.starts_with(&id)) {
            show(
                case,
                value("--tokens").map_or(4096, |t| t.parse().expect("--tokens N")),
            );
        }
        return;
    }
    if args.iter().any(|a| a == "--misses") {
        for case in &cases {
            let index = Index::build_with_cache(&case.tree, None);
            let focus = Focus::from_task(&case.message);
            let map = index.map_with(&focus, 4096, &nova::index::WEIGHTS);
            let ranked: Vec<&str> = index
                .ranked_files(&focus)
                .into_iter()
                .map(|(p, _)| p)
                .collect();
            for file in case.files.iter().filter(|f| !map.paths.contains(f)) {
                let place = ranked.iter().position(|p| p == file);
                println!(
                    "{} missed {file} (file rank {place:?} of {}, map has {} files) {}",
                    case.id,
                    ranked.len(),
                    map.paths.len(),
                    case.message.lines().next().unwrap_or("")
                );
            }
        }
        return;
    }
    if args.iter().any(|a| a == "--sweep") {
        sweep(&cases);
        return;
    }
    let aider = value("--aider").map(PathBuf::from);
    report(&cases, aider.as_deref());
}

/// Where a repository's git directory is.
fn repo_dir(root: &Path, mirrors: &Path, name: &str) -> Option<PathBuf> {
    mirrors::repo_dir(root, mirrors, &REPOS, name)
}

/// Held out: a quarter of the commits, by the commit's hash.
fn split_of(commit: &str) -> Split {
    if mirrors::held_out(commit) {
        Split::Test
    } else {
        Split::Train
    }
}

fn load_cases(root: &Path, mirrors: &Path, split: Option<Split>) -> Vec<Case> {
    let pinned = std::fs::read_to_string(root.join("benches/map_quality/commits.txt"))
        .expect("benches/map_quality/commits.txt");
    let mut cases = Vec::new();
    let mut missing = BTreeSet::new();
    for line in pinned
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let mut parts = line.split_whitespace();
        let (Some(repo), Some(commit)) = (parts.next(), parts.next()) else {
            continue;
        };
        if split.is_some_and(|s| s != split_of(commit)) {
            continue;
        }
        let Some(dir) = repo_dir(root, mirrors, repo) else {
            missing.insert(repo.to_owned());
            continue;
        };
        let git = Repository::open(&dir).expect("open the repository");
        cases.push(case(&git, root, repo, commit));
    }
    for repo in missing {
        println!("SKIPPED {repo}: no mirror (fetch it with the search tool's `fetch`)");
    }
    cases
}

/// The case of `commit`: its parent's tree written out (once), the changes, the focus names.
fn case(git: &Repository, root: &Path, repo: &str, commit: &str) -> Case {
    let oid = Oid::from_str(commit).expect("a commit id");
    let commit = git.find_commit(oid).expect("the pinned commit");
    let parent = commit.parent(0).expect("a parent");
    let id = format!("{repo}-{}", &commit.id().to_string()[..12]);
    let tree = root.join("target/map-quality/trees").join(&id);
    if !tree.join(".complete").exists() {
        let _ = std::fs::remove_dir_all(&tree);
        write_tree(git, &parent.tree().expect("tree"), &tree);
        std::fs::write(tree.join(".complete"), "").expect("marker");
    }
    let index = Index::build_with_cache(&tree, None);
    let message = commit.message().unwrap_or_default().trim().to_owned();
    let (files, lines) = changed(git, &parent, &commit);
    let mut defs = BTreeSet::new();
    for (path, line) in lines {
        if let Some(def) = index.enclosing(&path, line, line) {
            defs.insert((path, def.name.clone()));
        }
    }
    let mut names: Vec<String> = Vec::new();
    for word in message.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
        if !names.iter().any(|n| n == word) && !index.definitions(word).is_empty() {
            names.push(word.to_owned());
        }
    }
    Case {
        id,
        repo: repo.to_owned(),
        commit: commit.id().to_string(),
        message,
        tree,
        names,
        files,
        defs: defs.into_iter().collect(),
    }
}

fn write_tree(git: &Repository, tree: &git2::Tree<'_>, dir: &Path) {
    tree.walk(git2::TreeWalkMode::PreOrder, |parent, entry| {
        if entry.kind() == Some(git2::ObjectType::Blob) && entry.filemode() != 0o120_000 {
            let path = dir.join(parent).join(entry.name().unwrap_or("_"));
            let blob = git.find_blob(entry.id()).expect("blob");
            std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
            std::fs::write(&path, blob.content()).expect("write");
        }
        git2::TreeWalkResult::Ok
    })
    .expect("walk the tree");
}

/// The `.rs` files `commit` modified (that its parent had), and the parent's lines it changed:
/// each removed or replaced line, and the line after which an insertion went.
fn changed(
    git: &Repository,
    parent: &git2::Commit<'_>,
    commit: &git2::Commit<'_>,
) -> (Vec<String>, Vec<(String, u32)>) {
    let mut options = git2::DiffOptions::new();
    options.context_lines(0);
    let diff = git
        .diff_tree_to_tree(
            Some(&parent.tree().expect("tree")),
            Some(&commit.tree().expect("tree")),
            Some(&mut options),
        )
        .expect("diff");
    let mut files = BTreeSet::new();
    let mut lines = Vec::new();
    for (i, delta) in diff.deltas().enumerate() {
        let Some(path) = delta.old_file().path().and_then(Path::to_str) else {
            continue;
        };
        if delta.status() != git2::Delta::Modified || !path.ends_with(".rs") {
            continue;
        }
        files.insert(path.to_owned());
        let patch = git2::Patch::from_diff(&diff, i)
            .expect("patch")
            .expect("a text patch");
        for h in 0..patch.num_hunks() {
            let (hunk, _) = patch.hunk(h).expect("hunk");
            let (start, count) = (hunk.old_start(), hunk.old_lines());
            if count == 0 {
                lines.push((path.to_owned(), start.max(1)));
            }
            lines.extend((start..start + count).map(|l| (path.to_owned(), l)));
        }
    }
    (files.into_iter().collect(), lines)
}

/// Prints the most recent `n` commits of `dir`'s first-parent history that make a task: one
/// parent, a message that is not a release or a dependency bump, 1 to 8 `.rs` files modified.
fn pick(dir: &Path, n: usize) {
    let git = Repository::open(dir).expect("open");
    let mut walk = git.revwalk().expect("revwalk");
    walk.push_head().expect("head");
    walk.simplify_first_parent().expect("first parent");
    let name = REPOS
        .iter()
        .find(|(_, m)| m.is_some_and(|m| dir.to_string_lossy().contains(m)))
        .map_or("nova", |(name, _)| name);
    let mut found = 0;
    for oid in walk.flatten() {
        let commit = git.find_commit(oid).expect("commit");
        if commit.parent_count() != 1 {
            continue;
        }
        let subject = commit
            .message()
            .unwrap_or_default()
            .lines()
            .next()
            .unwrap_or_default()
            .to_lowercase();
        let chore = [
            "bump",
            "release",
            "changelog",
            "readme",
            "merge",
            "version",
            "deps",
        ];
        if chore.iter().any(|w| subject.contains(w))
            || subject.split_whitespace().count() < 3
            || subject.chars().next().is_some_and(|c| c.is_ascii_digit())
        {
            continue;
        }
        let parent = commit.parent(0).expect("parent");
        let (files, lines) = changed(&git, &parent, &commit);
        if files.is_empty() || files.len() > 8 || lines.is_empty() {
            continue;
        }
        println!("{name} {oid}");
        found += 1;
        if found == n {
            break;
        }
    }
}

/// Prints a case, Nova's map for it and its score: for looking at one case while tuning.
fn show(case: &Case, budget: usize) {
    let index = Index::build_with_cache(&case.tree, None);
    let map = index.map(&Focus::from_task(&case.message), budget).text;
    let scored = score(case, &map, budget);
    println!("# {} ({})\n{}\n", case.id, case.commit, case.message);
    println!(
        "names: {:?}\nfiles: {:?}\ndefs: {:?}\n",
        case.names, case.files, case.defs
    );
    println!(
        "{map}\nfiles {:.2} defs {:.2} tokens {}",
        scored.files, scored.defs, scored.tokens
    );
}

/// Nova's scores over a grid of ranking weights: how much a file the task is about shows in depth
/// against how much single definitions named like the task's words rise.
fn sweep(cases: &[Case]) {
    let indexes: Vec<Index> = cases
        .iter()
        .map(|c| Index::build_with_cache(&c.tree, None))
        .collect();
    println!("| depth | terms | presence | files 1024 | defs 1024 | files 4096 | defs 4096 |");
    println!("|---|---|---|---|---|---|---|");
    let grid = [0.1, 0.25, 0.5]
        .into_iter()
        .flat_map(|d| [1.0, 2.0, 4.0].map(|t| (d, t)))
        .flat_map(|(d, t)| [0.0, 0.5, 1.0, 2.0, 4.0].map(|p| (d, t, p)));
    for (depth, terms, presence) in grid {
        {
            let weights = Weights {
                depth,
                terms,
                presence,
            };
            let mut row = Vec::new();
            for budget in BUDGETS {
                let scores: Vec<Score> = cases
                    .iter()
                    .zip(&indexes)
                    .map(|(case, index)| {
                        let focus = Focus::from_task(&case.message);
                        score(case, &index.map_with(&focus, budget, &weights).text, budget)
                    })
                    .collect();
                let n = scores.len() as f64;
                row.push(scores.iter().map(|s| s.files).sum::<f64>() / n);
                row.push(scores.iter().map(|s| s.defs).sum::<f64>() / n);
            }
            println!(
                "| {depth} | {terms} | {presence} | {:.2} | {:.2} | {:.2} | {:.2} |",
                row[0], row[1], row[2], row[3]
            );
        }
    }
}

/// Scores every tool on every case and prints the table: over all cases, then per repository.
fn report(cases: &[Case], aider: Option<&Path>) {
    println!("{} cases", cases.len());
    let mut rows: BTreeMap<(String, usize, String), Vec<Score>> = BTreeMap::new();
    for case in cases {
        let index = Index::build_with_cache(&case.tree, None);
        let focus = Focus::from_task(&case.message);
        for budget in BUDGETS {
            let mut maps = vec![
                ("nova", index.map(&focus, budget).text),
                ("grep", grep_map(&index, &case.tree, &case.names, budget)),
            ];
            let aider_map = aider.and_then(|dir| {
                std::fs::read_to_string(dir.join(format!("{}-{budget}.txt", case.id))).ok()
            });
            maps.extend(aider_map.map(|text| ("aider", text)));
            for (tool, map) in maps {
                let scored = score(case, &map, budget);
                for repo in [String::from("all"), case.repo.clone()] {
                    rows.entry((tool.to_owned(), budget, repo))
                        .or_default()
                        .push(scored);
                }
            }
        }
    }
    println!();
    println!(
        "| tool | budget | repository | cases | files changed that the map shows | changed \
         definitions shown in their file's section | mean tokens | over budget |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for ((tool, budget, repo), scores) in &rows {
        let n = scores.len() as f64;
        let files = scores.iter().map(|s| s.files).sum::<f64>() / n;
        let defs = scores.iter().map(|s| s.defs).sum::<f64>() / n;
        let tokens = scores.iter().map(|s| s.tokens).sum::<usize>() as f64 / n;
        let over = scores.iter().filter(|s| s.over).count();
        println!(
            "| {tool} | {budget} | {repo} | {} | {files:.2} | {defs:.2} | {tokens:.0} | {over} |",
            scores.len()
        );
    }
}

/// The share of the case's files the map shows, and of its definitions shown as a definition line
/// in their file's section.
fn score(case: &Case, map: &str, budget: usize) -> Score {
    let sections = sections(map);
    let files = case
        .files
        .iter()
        .filter(|f| sections.contains_key(f.as_str()))
        .count();
    let defs = case
        .defs
        .iter()
        .filter(|(file, name)| {
            sections
                .get(file.as_str())
                .is_some_and(|lines| lines.iter().any(|line| defines(line, name)))
        })
        .count();
    let tokens = count_tokens(map);
    Score {
        files: share(files, case.files.len()),
        defs: share(defs, case.defs.len()),
        tokens,
        over: tokens > budget,
    }
}

fn share(part: usize, whole: usize) -> f64 {
    if whole == 0 {
        1.0
    } else {
        part as f64 / whole as f64
    }
}

/// A map's sections: a line `path:` opens one (Nova's, Aider's and grep's maps all head a file so).
fn sections(map: &str) -> BTreeMap<&str, Vec<&str>> {
    let mut out: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    let mut current: Option<&str> = None;
    for line in map.lines() {
        if let Some(path) = line.strip_suffix(':')
            && !path.starts_with([' ', '│', '⋮'])
            && !path.contains(' ')
        {
            current = Some(path);
            out.entry(path).or_default();
        } else if let Some(path) = current {
            out.entry(path).or_default().push(line);
        }
    }
    out
}

/// Whether `line` defines `name`: the name as a word after a definition keyword.
fn defines(line: &str, name: &str) -> bool {
    const KEYWORDS: [&str; 11] = [
        "fn",
        "struct",
        "enum",
        "union",
        "trait",
        "impl",
        "mod",
        "const",
        "static",
        "type",
        "macro_rules!",
    ];
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let mut from = 0;
    while let Some(at) = line[from..].find(name) {
        let start = from + at;
        let end = start + name.len();
        let before_ok = !line[..start].chars().next_back().is_some_and(word);
        let after_ok = !line[end..].chars().next().is_some_and(word);
        if before_ok && after_ok {
            let head = &line[..start];
            if head
                .split(|c: char| !(word(c) || c == '!'))
                .any(|w| KEYWORDS.contains(&w))
            {
                return true;
            }
        }
        from = end;
    }
    false
}

/// The grep baseline: the lines that name a focus name as a word, by file (files naming more of
/// the names first, then more lines), fitted to `budget` tokens.
fn grep_map(index: &Index, tree: &Path, names: &[String], budget: usize) -> String {
    if names.is_empty() {
        return String::new();
    }
    let pattern = format!(
        r"\b({})\b",
        names
            .iter()
            .map(|n| regex::escape(n))
            .collect::<Vec<_>>()
            .join("|")
    );
    let re = regex::Regex::new(&pattern).expect("pattern");
    // (names matched, lines, path, the lines with their numbers)
    type Hit = (usize, usize, String, Vec<(usize, String)>);
    let mut hits: Vec<Hit> = Vec::new();
    for path in index.paths().filter(|p| p.ends_with(".rs")) {
        let Ok(text) = std::fs::read_to_string(tree.join(path)) else {
            continue;
        };
        let mut lines = Vec::new();
        let mut named = BTreeSet::new();
        for (n, line) in text.lines().enumerate() {
            for m in re.find_iter(line) {
                named.insert(m.as_str().to_owned());
            }
            if re.is_match(line) {
                lines.push((n + 1, line.trim().to_owned()));
            }
        }
        if !lines.is_empty() {
            hits.push((named.len(), lines.len(), path.to_owned(), lines));
        }
    }
    hits.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then(a.2.cmp(&b.2)));
    let mut out = String::new();
    let mut used = 0;
    'files: for (_, _, path, lines) in hits {
        let header = format!("{path}:\n");
        let cost = count_tokens(&header);
        if used + cost > budget {
            break;
        }
        let mut section = header;
        let mut section_cost = cost;
        for (n, line) in lines {
            let row = format!("{n:>5}│{line}\n");
            let row_cost = count_tokens(&row);
            if used + section_cost + row_cost > budget {
                out.push_str(&section);
                break 'files;
            }
            section.push_str(&row);
            section_cost += row_cost;
        }
        out.push_str(&section);
        used += section_cost;
    }
    // Counted by parts; the whole is counted again and trimmed if joining made it longer.
    while count_tokens(&out) > budget {
        let cut = out.trim_end_matches('\n').rfind('\n').map_or(0, |i| i + 1);
        out.truncate(cut);
    }
    out
}
