//! Ranking: a weighted reference graph between files, personalized PageRank over it, and each
//! definition's share of the rank of the files that use it.

use std::collections::HashSet;

use rustc_hash::FxHashMap;

use super::relevance;
use super::tags::FileTags;
use super::terms::{looks_like_code, prefix_scopes, terms_of_prose};

/// What a request cares about: files (paths, or path suffixes) and names it mentions, and, for a
/// task in plain words, its terms and the directories its `crate:` prefix names.
#[derive(Debug, Clone, Default)]
pub struct Focus {
    pub paths: Vec<String>,
    pub names: Vec<String>,
    /// The task's words, stemmed ([`super::terms`]), matched against identifiers and paths.
    pub terms: Vec<String>,
    /// Directories (or file stems) a `crate:` or `module:` prefix of the task names.
    pub scopes: Vec<String>,
}

/// How the ranking weighs what a task says against the repository's structure; measured with
/// `cargo bench --bench map_quality -- --sweep` (BENCHMARKS.md).
#[derive(Debug, Clone, Copy)]
pub struct Weights {
    /// Depth: what every definition of a file gets from the file being what the task is about,
    /// so that the file shows more of its items rather than another file showing one.
    pub depth: f64,
    /// What a definition gets from its own name sharing the task's words.
    pub terms: f64,
    /// Breadth: what the best definition of a file the task is about gets, so that the file shows
    /// at all, however little the rest of the repository uses it (a test file).
    pub presence: f64,
}

/// The weights Nova ranks with.
pub const WEIGHTS: Weights = Weights {
    depth: 0.25,
    terms: 2.0,
    presence: 2.0,
};

impl Focus {
    /// Splits free-form focus words into paths (with `/` or a known extension) and names.
    pub fn from_words(words: &[String]) -> Focus {
        let mut focus = Focus::default();
        for word in words {
            if word.contains('/') || super::lang::Lang::of(word).is_some() {
                focus.paths.push(word.trim_start_matches("./").to_owned());
            } else {
                focus.names.push(word.to_owned());
            }
        }
        focus
    }

    /// The focus of a task in plain words: the paths it names, the names that look like code
    /// (`snake_case`, `CamelCase`, `a::b`, `f()`, or in backticks), its terms, and the directories
    /// a `crate:` prefix names.
    pub fn from_task(text: &str) -> Focus {
        let mut focus = Focus {
            terms: terms_of_prose(text),
            scopes: prefix_scopes(text),
            ..Focus::default()
        };
        for raw in text.split_whitespace() {
            let quoted = raw.contains('`');
            let word = raw
                .trim_start_matches(['`', '(', '"', '\'', '[', '{', '<', '*'])
                .trim_end_matches([
                    '`', ',', '.', ';', ':', '!', '?', '"', '\'', ')', ']', '}', '>', '*',
                ]);
            let word = word.strip_suffix("()").unwrap_or(word);
            if word.len() < 2 || word.contains("://") {
                continue;
            }
            let is_path = word.contains('/') || super::lang::Lang::of(word).is_some();
            if is_path && !word.starts_with('-') {
                let path = word.trim_start_matches("./").to_owned();
                if !focus.paths.contains(&path) {
                    focus.paths.push(path);
                }
            } else if quoted || looks_like_code(word) {
                for part in word.split("::").filter(|p| p.len() >= 2) {
                    let part = part.trim_matches(|c: char| !(c.is_alphanumeric() || c == '_'));
                    if part.len() >= 2 && !focus.names.iter().any(|n| n == part) {
                        focus.names.push(part.to_owned());
                    }
                }
            }
        }
        focus
    }

    /// Adds what `other` names: its paths and names, its terms and scopes, each once.
    pub fn add(&mut self, other: Focus) {
        let parts = [
            (&mut self.paths, other.paths),
            (&mut self.names, other.names),
            (&mut self.terms, other.terms),
            (&mut self.scopes, other.scopes),
        ];
        for (mine, theirs) in parts {
            for word in theirs {
                if !mine.contains(&word) {
                    mine.push(word);
                }
            }
        }
    }

    pub(super) fn names_file(&self, path: &str) -> bool {
        self.paths
            .iter()
            .any(|p| path == p || path.ends_with(&format!("/{p}")))
    }
}

/// A definition's place in the ranking: its file (index into the file list) and its index in
/// that file's definitions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ranked {
    pub file: usize,
    pub def: usize,
    pub score: f64,
}

const DAMPING: f64 = 0.85;
const ITERATIONS: usize = 30;

/// Ranks every definition of `files` (sorted by path, with their words if they were split),
/// best first, with Nova's [`WEIGHTS`].
pub fn rank(
    files: &[(&str, &FileTags)],
    words: Option<&[relevance::Words]>,
    focus: &Focus,
) -> (Vec<f64>, Vec<Ranked>) {
    rank_with((files, words), focus, &WEIGHTS)
}

/// Ranks every definition of `files` (sorted by path), best first: the files' rank in the
/// reference graph, and each definition's score.
pub fn rank_with(
    (files, words): (&[(&str, &FileTags)], Option<&[relevance::Words]>),
    focus: &Focus,
    weights: &Weights,
) -> (Vec<f64>, Vec<Ranked>) {
    let n = files.len();
    if n == 0 {
        return (Vec::new(), Vec::new());
    }
    // Every defined name once, with what its weight depends on.
    let mentioned: HashSet<&str> = focus.names.iter().map(String::as_str).collect();
    let mut ids: FxHashMap<&str, usize> = FxHashMap::default();
    let mut names: Vec<Name> = Vec::new();
    for (i, (_, tags)) in files.iter().enumerate() {
        for def in &tags.defs {
            let id = *ids.entry(def.name.as_str()).or_insert_with(|| {
                names.push(Name {
                    definers: Vec::new(),
                    public: false,
                    weight: 1.0,
                });
                names.len() - 1
            });
            let name = &mut names[id];
            if name.definers.last() != Some(&i) {
                name.definers.push(i);
            }
            name.public |= def.public;
        }
    }
    for (text, &id) in &ids {
        let name = &mut names[id];
        let mut weight = 1.0;
        // A mentioned name counts as much as it is rare: `new`, defined everywhere, hardly.
        if mentioned.contains(text) {
            weight *= 1.0 + 9.0 / name.definers.len() as f64;
        }
        if text.len() >= 8 && (text.contains('_') || text.chars().skip(1).any(char::is_uppercase)) {
            weight *= 10.0;
        }
        // Short names (`map`, `path`, `new`) are mostly someone else's: an iterator's `map`.
        if text.len() <= 4 {
            weight *= 0.1;
        }
        if text.starts_with('_') || !name.public {
            weight *= 0.1;
        }
        if name.definers.len() > 5 {
            weight *= 0.1;
        }
        name.weight = weight;
    }

    // References, resolved once: (referencing file, name, weight). Each points at every file that
    // defines the name, but never back at its own file. Repeated references count, with
    // diminishing returns.
    let mut refs: Vec<(usize, usize, f64)> = Vec::new();
    let mut out_weight = vec![0.0; n];
    for (r, (_, tags)) in files.iter().enumerate() {
        for (text, count) in &tags.refs {
            let Some(&id) = ids.get(text.as_str()) else {
                continue;
            };
            let definers = &names[id].definers;
            let fanout = definers.len() - usize::from(definers.contains(&r));
            if fanout == 0 {
                continue;
            }
            let weight = names[id].weight * f64::from(*count).sqrt();
            out_weight[r] += weight * fanout as f64;
            refs.push((r, id, weight));
        }
    }

    let relevance = relevance::of(files, words, focus);
    let personal = personalization(files, focus, &mentioned, &relevance.files);

    let graph = file_graph(&refs, &names, &out_weight);
    let rank = pagerank(&graph, &personal, &out_weight);
    let flows = Flows {
        ids: &ids,
        names: &names,
        refs: &refs,
        out_weight: &out_weight,
        rank: &rank,
    };
    let ranked = score_defs(files, &flows, &mentioned, &relevance, weights);
    (rank, ranked)
}

/// The reference graph's names and edges, and the rank PageRank gave each file.
struct Flows<'a> {
    ids: &'a FxHashMap<&'a str, usize>,
    names: &'a [Name],
    refs: &'a [(usize, usize, f64)],
    out_weight: &'a [f64],
    rank: &'a [f64],
}

/// Every definition's score, best first. Structure: the share of rank that flows to its name
/// from other files, plus a little of its own file's rank so that nothing is unordered (every
/// definer of a name gets the same flow, less what its own file sends). The task, where it says
/// anything: what its file is about (`depth`: the whole file rises together) and what its own
/// name is about (`terms`), each scaled to the structural scores' range.
fn score_defs(
    files: &[(&str, &FileTags)],
    flows: &Flows<'_>,
    mentioned: &HashSet<&str>,
    relevance: &relevance::Relevance,
    weights: &Weights,
) -> Vec<Ranked> {
    let Flows {
        ids,
        names,
        refs,
        out_weight,
        rank,
    } = flows;
    let mut flow = vec![0.0; names.len()];
    let mut own: FxHashMap<(usize, usize), f64> = FxHashMap::default();
    for &(r, id, weight) in refs.iter() {
        let share = rank[r] * weight / out_weight[r];
        flow[id] += share;
        if names[id].definers.contains(&r) {
            *own.entry((r, id)).or_default() += share;
        }
    }
    let mut ranked = Vec::new();
    for (i, (_, tags)) in files.iter().enumerate() {
        let baseline = rank[i] * 1e-3 / tags.defs.len().max(1) as f64;
        for (j, def) in tags.defs.iter().enumerate() {
            let flowed = ids.get(def.name.as_str()).map_or(0.0, |&id| {
                (flow[id] - own.get(&(i, id)).copied().unwrap_or(0.0)).max(0.0)
            });
            let mut score = flowed + baseline;
            if let Some(&id) = ids.get(def.name.as_str())
                && mentioned.contains(def.name.as_str())
            {
                score *= 1.0 + 9.0 / names[id].definers.len() as f64;
            }
            ranked.push(Ranked {
                file: i,
                def: j,
                score,
            });
        }
    }
    if relevance.any() {
        let top = ranked
            .iter()
            .map(|r| r.score)
            .fold(0.0, f64::max)
            .max(1e-12);
        let best_file = relevance.files.iter().copied().fold(0.0, f64::max);
        let best_def = relevance.defs.iter().flatten().copied().fold(0.0, f64::max);
        let best_rank = rank.iter().copied().fold(0.0, f64::max).max(1e-12);
        // Each file's best definition: by its name's words, then by structure.
        let mut best_of: Vec<Option<(f64, f64, usize)>> = vec![None; files.len()];
        for (k, r) in ranked.iter().enumerate() {
            let key = (relevance.defs[r.file][r.def], r.score, k);
            let slot = &mut best_of[r.file];
            if slot.is_none_or(|b| (key.0, key.1) > (b.0, b.1)) {
                *slot = Some(key);
            }
        }
        let firsts: HashSet<usize> = best_of.iter().flatten().map(|b| b.2).collect();
        for (k, r) in ranked.iter_mut().enumerate() {
            let file = relevance.files[r.file] / best_file;
            let def = (relevance.defs[r.file][r.def] / best_def.max(1e-12)).sqrt();
            let standing = (rank[r.file] / best_rank).sqrt();
            let first = if firsts.contains(&k) { 1.0 } else { 0.0 };
            r.score += top
                * (weights.depth * file * standing
                    + weights.terms * def * file.max(0.1)
                    + weights.presence * first * file);
        }
    }
    ranked.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.file.cmp(&b.file))
            .then(a.def.cmp(&b.def))
    });
    ranked
}

/// A defined name: the files that define it, whether any of them exports it, and how much a
/// reference to it weighs.
struct Name {
    definers: Vec<usize>,
    public: bool,
    weight: f64,
}

/// Where the random walk restarts: the files the focus names or that define a mentioned name,
/// and as much as the task's words are about them; else every file alike.
fn personalization(
    files: &[(&str, &FileTags)],
    focus: &Focus,
    mentioned: &HashSet<&str>,
    relevance: &[f64],
) -> Vec<f64> {
    let n = files.len();
    let mut personal = vec![0.0; n];
    for (i, (path, tags)) in files.iter().enumerate() {
        if focus.names_file(path) {
            personal[i] += 1.0;
        }
        if tags
            .defs
            .iter()
            .any(|d| mentioned.contains(d.name.as_str()))
        {
            personal[i] += 1.0;
        }
    }
    let best = relevance.iter().copied().fold(0.0, f64::max);
    if best > 0.0 {
        for (p, r) in personal.iter_mut().zip(relevance) {
            *p += 2.0 * r / best;
        }
    }
    let total: f64 = personal.iter().sum();
    if total == 0.0 {
        personal.fill(1.0 / n as f64);
    } else {
        personal.iter_mut().for_each(|p| *p /= total);
    }
    personal
}

/// The file graph in compressed rows: for row `r`, `cols[row_start[r]..row_start[r + 1]]` are
/// the files `r` points at and `vals` the shares of its weight.
struct Graph {
    row_start: Vec<usize>,
    cols: Vec<usize>,
    vals: Vec<f64>,
}

fn file_graph(refs: &[(usize, usize, f64)], names: &[Name], out_weight: &[f64]) -> Graph {
    let n = out_weight.len();
    // The file graph, one row per referencing file, edges between the same two files merged and
    // normalized by the row's total weight: a sparse accumulator per row, no sorting.
    let mut row_start = Vec::with_capacity(n + 1);
    let mut cols: Vec<usize> = Vec::new();
    let mut vals: Vec<f64> = Vec::new();
    let mut acc = vec![0.0; n];
    let mut touched: Vec<usize> = Vec::new();
    let mut next_ref = 0;
    for (r, total) in out_weight.iter().enumerate() {
        row_start.push(cols.len());
        while let Some(&(from, id, weight)) = refs.get(next_ref)
            && from == r
        {
            next_ref += 1;
            for &d in &names[id].definers {
                if d != r {
                    if acc[d] == 0.0 {
                        touched.push(d);
                    }
                    acc[d] += weight;
                }
            }
        }
        for d in touched.drain(..) {
            cols.push(d);
            vals.push(acc[d] / total);
            acc[d] = 0.0;
        }
    }
    row_start.push(cols.len());
    Graph {
        row_start,
        cols,
        vals,
    }
}

/// Personalized PageRank over `graph`: what flows out of files that point nowhere restarts too.
fn pagerank(graph: &Graph, personal: &[f64], out_weight: &[f64]) -> Vec<f64> {
    let n = personal.len();
    let Graph {
        row_start,
        cols,
        vals,
    } = graph;
    let mut rank = personal.to_vec();
    let mut next = vec![0.0; n];
    for _ in 0..ITERATIONS {
        let mut dangling = 0.0;
        for (i, r) in rank.iter().enumerate() {
            if out_weight[i] == 0.0 {
                dangling += r;
            }
        }
        let teleport = DAMPING * dangling + (1.0 - DAMPING);
        for (slot, p) in next.iter_mut().zip(personal) {
            *slot = teleport * p;
        }
        for r in 0..n {
            let flow = DAMPING * rank[r];
            for k in row_start[r]..row_start[r + 1] {
                next[cols[k]] += flow * vals[k];
            }
        }
        let change: f64 = next.iter().zip(&rank).map(|(a, b)| (a - b).abs()).sum();
        std::mem::swap(&mut rank, &mut next);
        if change < 1e-6 {
            break;
        }
    }
    rank
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_task_gives_its_paths_names_terms_and_prefix() {
        let focus = Focus::from_task(
            "index: make `Index::map` rank by the task in src/index/map.rs, \
             and call fit_budget() on each RepoMap, not the Error (see https://example.com/a.rs)",
        );
        assert_eq!(focus.scopes, ["index"]);
        assert_eq!(focus.paths, ["src/index/map.rs"]);
        assert_eq!(focus.names, ["Index", "map", "fit_budget", "RepoMap"]);
        for term in [
            "index", "rank", "task", "map", "fit", "budget", "repo", "error",
        ] {
            assert!(focus.terms.iter().any(|t| t == term), "{term}: {focus:?}");
        }
        for stop in ["the", "and", "not", "make"] {
            assert!(!focus.terms.iter().any(|t| t == stop), "{stop}: {focus:?}");
        }
    }

    #[test]
    fn prose_alone_names_no_code() {
        let focus = Focus::from_task("Support character and block device file types");
        assert!(focus.names.is_empty() && focus.paths.is_empty() && focus.scopes.is_empty());
        assert_eq!(
            focus.terms,
            ["support", "character", "block", "device", "file", "type"]
        );
    }
}
