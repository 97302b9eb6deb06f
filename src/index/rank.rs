//! Ranking: a weighted reference graph between files, personalized PageRank over it, and each
//! definition's share of the rank of the files that use it.

use std::collections::HashSet;

use rustc_hash::FxHashMap;

use super::tags::FileTags;

/// What a request cares about: files (paths, or path suffixes) and names it mentions.
#[derive(Debug, Clone, Default)]
pub struct Focus {
    pub paths: Vec<String>,
    pub names: Vec<String>,
}

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

    /// The focus of a task in plain words: the words that could name code.
    pub fn from_task(text: &str) -> Focus {
        let words: Vec<String> = text
            .split(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '/' | '.' | ':')))
            .map(|word| word.trim_matches(|c: char| matches!(c, '.' | ':')))
            .filter(|word| word.len() >= 3)
            .map(str::to_owned)
            .collect();
        Focus::from_words(&words)
    }

    fn names_file(&self, path: &str) -> bool {
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

/// Ranks every definition of `files` (sorted by path), best first.
pub fn rank(files: &[(&str, &FileTags)], focus: &Focus) -> (Vec<f64>, Vec<Ranked>) {
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
        if mentioned.contains(text) {
            weight *= 10.0;
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

    let personal = personalization(files, focus, &mentioned);

    let graph = file_graph(&refs, &names, &out_weight);
    let rank = pagerank(&graph, &personal, &out_weight);

    // Each definition gets the share of rank that flows to its name from other files, plus a
    // little of its own file's rank so that nothing is unordered. Every definer of a name gets
    // the same flow, less what its own file sends (an edge never points back at its file).
    let mut flow = vec![0.0; names.len()];
    let mut own: FxHashMap<(usize, usize), f64> = FxHashMap::default();
    for &(r, id, weight) in &refs {
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
            if mentioned.contains(def.name.as_str()) {
                score *= 10.0;
            }
            ranked.push(Ranked {
                file: i,
                def: j,
                score,
            });
        }
    }
    ranked.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.file.cmp(&b.file))
            .then(a.def.cmp(&b.def))
    });
    (rank, ranked)
}

/// A defined name: the files that define it, whether any of them exports it, and how much a
/// reference to it weighs.
struct Name {
    definers: Vec<usize>,
    public: bool,
    weight: f64,
}

/// Where the random walk restarts: the files the focus names or that define a mentioned name,
/// else every file alike.
fn personalization(
    files: &[(&str, &FileTags)],
    focus: &Focus,
    mentioned: &HashSet<&str>,
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
