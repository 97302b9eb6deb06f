//! Ranking: a weighted reference graph between files, personalized PageRank over it, and each
//! definition's share of the rank of the files that use it.

use std::collections::{BTreeMap, HashMap, HashSet};

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
const ITERATIONS: usize = 50;

/// Ranks every definition of `files` (sorted by path), best first.
pub fn rank(files: &[(&str, &FileTags)], focus: &Focus) -> (Vec<f64>, Vec<Ranked>) {
    let n = files.len();
    if n == 0 {
        return (Vec::new(), Vec::new());
    }
    let mut defines: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut public_somewhere: HashSet<&str> = HashSet::new();
    for (i, (_, tags)) in files.iter().enumerate() {
        for def in &tags.defs {
            let list = defines.entry(def.name.as_str()).or_default();
            if list.last() != Some(&i) {
                list.push(i);
            }
            if def.public {
                public_somewhere.insert(def.name.as_str());
            }
        }
    }
    let mentioned: HashSet<&str> = focus.names.iter().map(String::as_str).collect();

    // Edges: referencing file -> defining file, per name, weighted.
    let mut edges: Vec<(usize, usize, &str, f64)> = Vec::new();
    for (r, (_, tags)) in files.iter().enumerate() {
        for (name, count) in &tags.refs {
            let Some(definers) = defines.get(name.as_str()) else {
                continue;
            };
            let mut weight = 1.0;
            if mentioned.contains(name.as_str()) {
                weight *= 10.0;
            }
            if name.len() >= 8
                && (name.contains('_') || name.chars().skip(1).any(char::is_uppercase))
            {
                weight *= 10.0;
            }
            // Short names (`map`, `path`, `new`) are mostly someone else's: an iterator's `map`.
            if name.len() <= 4 {
                weight *= 0.1;
            }
            if name.starts_with('_') || !public_somewhere.contains(name.as_str()) {
                weight *= 0.1;
            }
            if definers.len() > 5 {
                weight *= 0.1;
            }
            // Repeated references count, but with diminishing returns.
            weight *= f64::from(*count).sqrt();
            for &d in definers {
                if d != r {
                    edges.push((r, d, name.as_str(), weight));
                }
            }
        }
    }

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

    let mut out_weight = vec![0.0; n];
    for &(r, _, _, w) in &edges {
        out_weight[r] += w;
    }
    let mut file_edges: BTreeMap<(usize, usize), f64> = BTreeMap::new();
    for &(r, d, _, w) in &edges {
        *file_edges.entry((r, d)).or_default() += w;
    }
    let file_edges: Vec<(usize, usize, f64)> = file_edges
        .into_iter()
        .map(|((r, d), w)| (r, d, w))
        .collect();

    let mut rank = personal.clone();
    for _ in 0..ITERATIONS {
        let mut next = vec![0.0; n];
        let mut dangling = 0.0;
        for (i, r) in rank.iter().enumerate() {
            if out_weight[i] == 0.0 {
                dangling += r;
            }
        }
        for &(r, d, w) in &file_edges {
            next[d] += DAMPING * rank[r] * w / out_weight[r];
        }
        for i in 0..n {
            next[i] += (DAMPING * dangling + (1.0 - DAMPING)) * personal[i];
        }
        let change: f64 = next.iter().zip(&rank).map(|(a, b)| (a - b).abs()).sum();
        rank = next;
        if change < 1e-9 {
            break;
        }
    }

    // Each definition gets the share of rank that flows to it by name, plus a little of its own
    // file's rank so that nothing is unordered.
    let mut by_name: HashMap<(usize, &str), f64> = HashMap::new();
    for &(r, d, name, w) in &edges {
        *by_name.entry((d, name)).or_default() += rank[r] * w / out_weight[r];
    }
    let mut ranked = Vec::new();
    for (i, (_, tags)) in files.iter().enumerate() {
        let baseline = rank[i] * 1e-3 / tags.defs.len().max(1) as f64;
        for (j, def) in tags.defs.iter().enumerate() {
            let mut score = by_name.get(&(i, def.name.as_str())).copied().unwrap_or(0.0) + baseline;
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
