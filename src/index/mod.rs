//! The repository index: tree-sitter tags for every source file, a reference graph ranked with
//! personalized PageRank, and the repo map fitted to a token budget; cached in `.nova/index/`.
//!
//! Owns: parsing (Rust, Python, JavaScript, TypeScript, TSX, Go), tags, ranking, the map, the
//! queries agents and other modules ask (outline, definitions, references, enclosing symbol,
//! public items), and the tag cache.
//! Never: keeps syntax trees after extracting tags, or writes anywhere but its cache.

pub mod api;
pub mod attributes;
mod bodies;
mod cache;
pub mod cfg;
mod lang;
mod map;
pub mod package;
mod rank;
mod relevance;
mod tags;
pub mod terms;
mod walk;

pub use lang::{Lang, syntax_errors};
pub use map::{RepoMap, TOKENIZER, count_tokens};
pub use rank::{Focus, WEIGHTS, Weights};
pub use relevance::{Why, Words};
pub use tags::{Def, FileTags, Kind};
pub use walk::{Found, named, walk};

/// The tags of `text`, parsed as `lang`: for tests, and for callers with text not on disk.
pub fn extract_tags(lang: Lang, text: &str) -> FileTags {
    tags::extract(lang, text, &mut tree_sitter::Parser::new())
}

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use cache::Cached;

/// Where the cache lives, relative to the repository root.
pub const CACHE: &str = ".nova/index/tags.bin";

/// Where the index of Nova's worktree (the tip of a run, checked out beside the repository) is
/// cached, under the repository's root.
pub const WORKTREE_CACHE: &str = ".nova/index/worktree.bin";

/// One indexed file: what the cache keeps of it.
type Entry = Cached;

/// What building the index did and found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Stats {
    pub files: usize,
    pub lines: u64,
    pub definitions: usize,
    /// Files parsed this time; the rest came from the cache.
    pub parsed: usize,
    pub cached: usize,
    /// Files with syntax errors (tags are what tree-sitter recovered).
    pub with_errors: usize,
    /// Skipped files by reason.
    pub skipped: BTreeMap<String, usize>,
    /// Seconds per phase.
    pub phases: Vec<(String, f64)>,
    /// Why the cache was not used, if it was not.
    pub cache_note: Option<String>,
}

/// The index of one repository.
#[derive(Debug)]
pub struct Index {
    files: BTreeMap<String, Entry>,
    stats: Stats,
    /// Where the last map is kept, next to the tag cache.
    map_cache: Option<PathBuf>,
    /// Each file's words, in `files`' order, split once when first asked for.
    words: std::sync::OnceLock<Vec<Words>>,
    /// Each file's definitions' doc comments as prose, in `files`' order, likewise.
    prose: std::sync::OnceLock<Vec<Vec<Vec<String>>>>,
}

/// A definition, with the file it is in.
#[derive(Debug, Clone, Serialize)]
pub struct Located<'a> {
    pub path: &'a str,
    pub def: &'a Def,
}

fn phase(stats: &mut Stats, name: &str, started: Instant) {
    let seconds = started.elapsed().as_secs_f64();
    stats
        .phases
        .push((name.to_owned(), (seconds * 10_000.0).round() / 10_000.0));
}

/// Nova's version and the ranking's: bump the suffix when ranking or rendering changes what a
/// map holds.
const MAP_VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), "/rank-4");

impl Index {
    /// Indexes the repository at `root`: walks it, reuses cached tags of unchanged files, parses
    /// the rest, and rewrites the cache if anything changed.
    pub fn build(root: &Path) -> Index {
        // Without its `.gitignore`, a fresh `.nova/` would show up in `git status`.
        match crate::state::prepare(root) {
            Ok(_) => Self::build_with_cache(root, Some(&root.join(CACHE))),
            Err(_) => Self::build_with_cache(root, None),
        }
    }

    /// As [`Index::build`], with the cache at `cache` (or none).
    pub fn build_with_cache(root: &Path, cache_path: Option<&Path>) -> Index {
        let mut stats = Stats::default();
        let started = Instant::now();
        let mut cached = match cache_path {
            Some(path) if path.exists() => {
                let loaded = cache::load(path);
                if loaded.is_none() {
                    stats.cache_note = Some(String::from(
                        "the cache was unreadable or of another format: rebuilt",
                    ));
                }
                loaded.unwrap_or_default()
            }
            _ => BTreeMap::new(),
        };
        phase(&mut stats, "load cache", started);

        let started = Instant::now();
        let found = walk::walk(root, &mut stats.skipped);
        phase(&mut stats, "walk", started);

        let started = Instant::now();
        let mut parser = tree_sitter::Parser::new();
        let mut files = BTreeMap::new();
        let mut changed = false;
        for file in found {
            let hit = cached.remove(&file.path);
            let unchanged = hit.as_ref().is_some_and(|h| {
                h.size == file.size && h.mtime == file.mtime && h.lang == file.lang
            });
            if unchanged && let Some(hit) = hit {
                stats.cached += 1;
                files.insert(file.path, hit);
                continue;
            }
            let Ok(bytes) = std::fs::read(&file.absolute) else {
                *stats.skipped.entry(String::from("unreadable")).or_default() += 1;
                continue;
            };
            let text = match walk::decode(&bytes) {
                Ok(text) => text,
                Err(reason) => {
                    *stats.skipped.entry(reason.to_owned()).or_default() += 1;
                    continue;
                }
            };
            changed = true;
            let hash = crate::hash::fnv1a(&bytes);
            let tags = match hit {
                // Touched but not changed: the tags stand.
                Some(hit) if hit.hash == hash && hit.lang == file.lang => {
                    stats.cached += 1;
                    hit.tags
                }
                _ => {
                    stats.parsed += 1;
                    tags::extract(file.lang, text, &mut parser)
                }
            };
            files.insert(
                file.path,
                Entry {
                    lang: file.lang,
                    size: file.size,
                    mtime: file.mtime,
                    hash,
                    tags,
                },
            );
        }
        phase(&mut stats, "read and parse", started);
        // Whatever the walk did not find again was deleted or renamed.
        changed |= !cached.is_empty();

        if changed && let Some(path) = cache_path {
            let started = Instant::now();
            if let Err(error) = cache::save(path, &files) {
                stats.cache_note = Some(format!("the cache could not be written: {error}"));
            }
            phase(&mut stats, "save cache", started);
        }

        stats.files = files.len();
        stats.lines = files.values().map(|e| u64::from(e.tags.lines)).sum();
        stats.definitions = files.values().map(|e| e.tags.defs.len()).sum();
        stats.with_errors = files.values().filter(|e| e.tags.had_errors).count();
        Index {
            files,
            stats,
            map_cache: cache_path.map(|p| p.with_file_name("map.bin")),
            words: std::sync::OnceLock::new(),
            prose: std::sync::OnceLock::new(),
        }
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The files' words if something asked for them already: a map for one task splits each
    /// file as it reads it, which is faster than keeping every file's words.
    fn split_words(&self) -> Option<&[Words]> {
        self.words.get().map(Vec::as_slice)
    }

    /// Each file's words, in path order (as [`Index::paths`]), split once: for a caller that
    /// matches many tasks against one index (the router's calibration), and for every
    /// relevance this index computes after.
    pub fn words(&self) -> &[Words] {
        self.words.get_or_init(|| {
            self.files
                .iter()
                .map(|(path, e)| Words::of(path, &e.tags))
                .collect()
        })
    }

    /// Each file's definitions' doc comments, split as prose ([`terms::terms_of_prose`]), in
    /// path order, once.
    pub fn prose(&self) -> &[Vec<Vec<String>>] {
        self.prose.get_or_init(|| {
            self.files
                .values()
                .map(|e| {
                    e.tags
                        .defs
                        .iter()
                        .map(|d| terms::terms_of_prose(&d.doc))
                        .collect()
                })
                .collect()
        })
    }

    fn file_list(&self) -> Vec<(&str, &FileTags)> {
        self.files
            .iter()
            .map(|(p, e)| (p.as_str(), &e.tags))
            .collect()
    }

    /// The repo map for `focus`, fitted to `budget` tokens. The same request over the same files
    /// is answered from the map cache.
    pub fn map(&self, focus: &Focus, budget: usize) -> RepoMap {
        let key = self.map_key(focus, budget);
        if let Some(path) = &self.map_cache
            && let Some(hit) = cache::load_map(path, key)
        {
            return RepoMap {
                text: hit.text,
                tokens: hit.tokens,
                budget,
                tokenizer: TOKENIZER,
                shown: hit.shown,
                ranked: hit.ranked,
                files: hit.paths.len(),
                paths: hit.paths,
            };
        }
        let map = self.map_with(focus, budget, &WEIGHTS);
        if let Some(path) = &self.map_cache {
            let entry = cache::MapEntry {
                key,
                text: map.text.clone(),
                tokens: map.tokens,
                shown: map.shown,
                ranked: map.ranked,
                paths: map.paths.clone(),
            };
            // nova:allow(ignored-result): a map that cannot be cached is still a map
            let _ = cache::save_map(path, &entry);
        }
        map
    }

    /// The repo map for `focus` ranked with `weights`, never from the map cache: for measuring
    /// weights (`benches/map_quality.rs`).
    pub fn map_with(&self, focus: &Focus, budget: usize, weights: &Weights) -> RepoMap {
        let files = self.file_list();
        let (_, ranked) = rank::rank_with((&files, self.split_words()), focus, weights);
        map::fit(&files, &ranked, budget)
    }

    /// The map of one part of the repository for `focus`: the files `own` says are the part's,
    /// in depth, and the files that use or are used by them (they define a public name one of
    /// the part's files uses, or use one the part's files define) by their public items only.
    /// Fitted to `budget`, never cached.
    pub fn map_scoped(&self, focus: &Focus, budget: usize, own: &dyn Fn(&str) -> bool) -> RepoMap {
        let files = self.scoped_files(own);
        let list: Vec<(&str, &FileTags)> = files.iter().map(|(p, t)| (*p, t)).collect();
        let (_, ranked) = rank::rank_with((&list, None), focus, &WEIGHTS);
        map::fit(&list, &ranked, budget)
    }

    /// The part's files as they are and its neighbours' with their public definitions only.
    fn scoped_files(&self, own: &dyn Fn(&str) -> bool) -> Vec<(&str, FileTags)> {
        use std::collections::HashSet;
        let mine: Vec<(&str, &FileTags)> = self
            .file_list()
            .into_iter()
            .filter(|(p, _)| own(p))
            .collect();
        let used: HashSet<&str> = mine
            .iter()
            .flat_map(|(_, t)| t.refs.iter().map(|(n, _)| n.as_str()))
            .collect();
        let defined: HashSet<&str> = mine
            .iter()
            .flat_map(|(_, t)| t.defs.iter().filter(|d| d.public).map(|d| d.name.as_str()))
            .collect();
        let mut files: Vec<(&str, FileTags)> = Vec::new();
        for (path, tags) in self.file_list() {
            if own(path) {
                files.push((path, tags.clone()));
                continue;
            }
            let public: Vec<Def> = tags
                .defs
                .iter()
                .filter(|d| d.public && d.kind != Kind::Impl)
                .cloned()
                .collect();
            let neighbour = public.iter().any(|d| used.contains(d.name.as_str()))
                || tags.refs.iter().any(|(n, _)| defined.contains(n.as_str()));
            if neighbour && !public.is_empty() {
                files.push((
                    path,
                    FileTags {
                        defs: public,
                        ..tags.clone()
                    },
                ));
            }
        }
        files
    }

    /// Why each file of `map` (made for `focus`) is in it, in the map's order.
    pub fn explain(&self, focus: &Focus, map: &RepoMap) -> Vec<relevance::Why> {
        let files = self.file_list();
        let (rank, _) = rank::rank(&files, self.split_words(), focus);
        let relevance = relevance::of(&files, self.split_words(), focus);
        map.paths
            .iter()
            .filter_map(|path| {
                let i = files
                    .binary_search_by(|(p, _)| p.cmp(&path.as_str()))
                    .ok()?;
                let mut why = relevance::why(path, files[i].1, focus);
                why.rank = rank[i];
                why.relevance = relevance.files.get(i).copied().unwrap_or(0.0);
                why.shown = count_shown(&map.text, path);
                Some(why)
            })
            .collect()
    }

    /// Everything a map depends on: every file's path and content, the focus, the budget.
    /// The cached map's key: every file and its content, the focus, the budget, and the code
    /// that ranks and renders ([`MAP_VERSION`]), so that a new Nova never serves an old map.
    fn map_key(&self, focus: &Focus, budget: usize) -> u64 {
        // Each part of the focus tagged with what it is, so that a term is never a name.
        let mut focus_words: Vec<String> = [
            ("path", &focus.paths),
            ("name", &focus.names),
            ("term", &focus.terms),
            ("scope", &focus.scopes),
        ]
        .iter()
        .flat_map(|(kind, words)| words.iter().map(move |w| format!("{kind}:{w}")))
        .collect();
        focus_words.sort_unstable();
        let hashes: Vec<[u8; 8]> = self.files.values().map(|e| e.hash.to_le_bytes()).collect();
        let budget = budget.to_le_bytes();
        let parts = self
            .files
            .keys()
            .map(|p| p.as_bytes())
            .chain(hashes.iter().map(|h| h.as_slice()))
            .chain(focus_words.iter().map(|w| w.as_bytes()))
            .chain([budget.as_slice(), MAP_VERSION.as_bytes()]);
        crate::hash::fnv1a_parts(parts)
    }

    /// How much each file is about `focus`'s words, paths and `crate:` scopes (not its rank in the
    /// reference graph), in path order.
    pub fn relevance(&self, focus: &Focus) -> Vec<(&str, f64)> {
        let files = self.file_list();
        let relevance = relevance::of(&files, self.split_words(), focus);
        let scores = if relevance.files.is_empty() {
            vec![0.0; files.len()]
        } else {
            relevance.files
        };
        files.iter().map(|(p, _)| *p).zip(scores).collect()
    }

    /// Files by rank for `focus`, best first, with their scores.
    pub fn ranked_files(&self, focus: &Focus) -> Vec<(&str, f64)> {
        let files = self.file_list();
        let (scores, _) = rank::rank(&files, self.split_words(), focus);
        let mut out: Vec<(&str, f64)> = files.iter().map(|(p, _)| *p).zip(scores).collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(b.0)));
        out
    }

    /// Every definition's rank for `focus`, by file and the definition's name (`Type::name` for a
    /// method, as findings name their symbol); a name defined twice in a file keeps its best.
    pub fn symbol_ranks(&self, focus: &Focus) -> std::collections::HashMap<(String, String), f64> {
        let files = self.file_list();
        let (_, ranked) = rank::rank(&files, self.split_words(), focus);
        let mut out = std::collections::HashMap::new();
        for r in ranked {
            let (path, tags) = files[r.file];
            let def = &tags.defs[r.def];
            let name = match &def.scope {
                Some(scope) => format!("{scope}::{}", def.name),
                None => def.name.clone(),
            };
            let best = out.entry((path.to_owned(), name)).or_insert(r.score);
            *best = best.max(r.score);
        }
        out
    }

    /// Every indexed file's path, in order.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.files.keys().map(String::as_str)
    }

    /// How many lines one file has.
    pub fn lines(&self, path: &str) -> Option<u32> {
        self.files.get(path).map(|e| e.tags.lines)
    }

    /// The definitions of one file, in order.
    pub fn outline(&self, path: &str) -> Option<&[Def]> {
        self.files.get(path).map(|e| e.tags.defs.as_slice())
    }

    /// Every definition named `name`.
    pub fn definitions(&self, name: &str) -> Vec<Located<'_>> {
        self.files
            .iter()
            .flat_map(|(path, e)| {
                e.tags
                    .defs
                    .iter()
                    .filter(move |d| d.name == name)
                    .map(move |def| Located { path, def })
            })
            .collect()
    }

    /// The names `path` uses, with how many times, sorted by name.
    pub fn refs_of(&self, path: &str) -> &[(String, u32)] {
        self.files.get(path).map_or(&[], |e| e.tags.refs.as_slice())
    }

    /// Files that use `name`, with how many times.
    pub fn references(&self, name: &str) -> Vec<(&str, u32)> {
        self.files
            .iter()
            .filter_map(|(path, e)| {
                let i = e
                    .tags
                    .refs
                    .binary_search_by(|(n, _)| n.as_str().cmp(name))
                    .ok()?;
                Some((path.as_str(), e.tags.refs[i].1))
            })
            .collect()
    }

    /// The innermost definition of `path` whose lines hold `start..=end`.
    pub fn enclosing(&self, path: &str, start: u32, end: u32) -> Option<&Def> {
        self.files
            .get(path)?
            .tags
            .defs
            .iter()
            .filter(|d| d.line <= start && end <= d.end_line)
            // Among equally short spans, the last is the innermost (`fn` inside `impl` on one line).
            .rev()
            .min_by_key(|d| d.end_line - d.line)
    }

    /// Public definitions of Rust files under `prefix` (a crate's directory, or `""`): the API an
    /// API-change check compares.
    pub fn public_items(&self, prefix: &str) -> Vec<Located<'_>> {
        self.files
            .iter()
            .filter(|(path, e)| e.lang == Lang::Rust && path.starts_with(prefix))
            .flat_map(|(path, e)| {
                e.tags
                    .defs
                    .iter()
                    .filter(|d| d.public && d.kind != Kind::Impl)
                    .map(move |def| Located { path, def })
            })
            .collect()
    }
}

/// How many definition lines `map` shows under the header of `path`.
fn count_shown(map: &str, path: &str) -> usize {
    let header = format!("{path}:");
    map.lines()
        .skip_while(|line| *line != header)
        .skip(1)
        .take_while(|line| line.contains('│'))
        .count()
}
