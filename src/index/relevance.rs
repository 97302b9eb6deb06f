//! How much each file and each definition is about a task's words: the task's terms against the
//! words of identifiers and paths, each term weighed by how rare it is (IDF), so that `map` or
//! `error`, which every file has, count for little and `gitignore` for much.

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::rank::Focus;
use super::tags::FileTags;
use super::terms::{stem, terms_of};

/// A file's words, split and stemmed once ([`terms_of`]): its path's, and each definition's
/// name, doc comment and enclosing name, in the order of its definitions. What a task's words are
/// matched against, over and over when one index answers many tasks (the router's calibration).
#[derive(Debug, Default)]
pub struct Words {
    pub path: Vec<String>,
    pub names: Vec<Vec<String>>,
    /// Each doc comment's words as identifiers are split.
    pub docs: Vec<Vec<String>>,
    /// Each enclosing definition's name's words (none at the top level).
    pub scopes: Vec<Vec<String>>,
}

impl Words {
    pub fn of(path: &str, tags: &FileTags) -> Words {
        Words {
            path: terms_of(path),
            names: tags.defs.iter().map(|d| terms_of(&d.name)).collect(),
            docs: tags.defs.iter().map(|d| terms_of(&d.doc)).collect(),
            scopes: tags
                .defs
                .iter()
                .map(|d| d.scope.as_deref().map(terms_of).unwrap_or_default())
                .collect(),
        }
    }
}

/// What a task's words say about each file and each of its definitions (0 where nothing).
#[derive(Debug, Default)]
pub struct Relevance {
    pub files: Vec<f64>,
    /// Per file, per definition.
    pub defs: Vec<Vec<f64>>,
}

impl Relevance {
    /// Whether the task's words matched anything.
    pub fn any(&self) -> bool {
        self.files.iter().any(|&r| r > 0.0)
    }
}

/// A term in a path weighs this much more than the same term in one identifier: a file named
/// for the task's word is about it as a whole.
const PATH_WEIGHT: f64 = 2.0;
/// A directory or file a `crate:` prefix names, and a file the task names, weigh this much.
const NAMED_WEIGHT: f64 = 8.0;
/// A term in a definition's doc comment weighs this much of the same term in its name.
const DOC_WEIGHT: f64 = 0.5;
/// The definitions of a file that add to the file's relevance: its best few, not all, so that a
/// long file is not about everything.
const BEST_DEFS: usize = 3;

/// The relevance of every file and definition of `files` to `focus`'s terms, scopes and paths.
/// `words` are the files' [`Words`] in the same order when they were split already (an index
/// answering many tasks); without them each file is split here and its words dropped, which is
/// faster for one task.
pub fn of(files: &[(&str, &FileTags)], words: Option<&[Words]>, focus: &Focus) -> Relevance {
    if focus.terms.is_empty() && focus.scopes.is_empty() {
        return Relevance::default();
    }
    let wanted: HashSet<&str> = focus.terms.iter().map(String::as_str).collect();
    // Only the task's terms matter: each definition and path keeps the ones it has, and their
    // document frequencies (over definitions' names, over files' paths) are counted.
    let matched = |terms: &[String]| wanted_of(terms, &wanted);
    let mut def_terms: Vec<Vec<Vec<String>>> = Vec::with_capacity(files.len());
    let mut doc_terms: Vec<Vec<Vec<String>>> = Vec::with_capacity(files.len());
    let mut doc_df: HashMap<String, usize> = HashMap::new();
    let mut path_terms: Vec<Vec<String>> = Vec::with_capacity(files.len());
    let mut def_df: HashMap<String, usize> = HashMap::new();
    let mut path_df: HashMap<String, usize> = HashMap::new();
    let mut scope_terms: Vec<Vec<Vec<String>>> = Vec::with_capacity(files.len());
    let mut total_defs = 0usize;
    for (i, (path, tags)) in files.iter().enumerate() {
        let split;
        let words = match words {
            Some(words) => &words[i],
            None => {
                split = Words::of(path, tags);
                &split
            }
        };
        let per_def: Vec<Vec<String>> = words.names.iter().map(|t| matched(t)).collect();
        for term in per_def.iter().flatten() {
            *def_df.entry(term.clone()).or_default() += 1;
        }
        total_defs += tags.defs.len();
        def_terms.push(per_def);
        let per_doc: Vec<Vec<String>> = words.docs.iter().map(|t| matched(t)).collect();
        for term in per_doc.iter().flatten() {
            *doc_df.entry(term.clone()).or_default() += 1;
        }
        doc_terms.push(per_doc);
        let terms = matched(&words.path);
        for term in &terms {
            *path_df.entry(term.clone()).or_default() += 1;
        }
        path_terms.push(terms);
        scope_terms.push(words.scopes.iter().map(|t| matched(t)).collect());
    }
    let idf = |df: usize, n: usize| ((n as f64 + 1.0) / (df as f64 + 0.5)).ln().max(0.0);
    let def_idf = |term: &str| idf(def_df.get(term).copied().unwrap_or(0), total_defs);
    let path_idf = |term: &str| idf(path_df.get(term).copied().unwrap_or(0), files.len());
    let doc_idf = |term: &str| idf(doc_df.get(term).copied().unwrap_or(0), total_defs);

    let mut relevance = Relevance {
        files: vec![0.0; files.len()],
        defs: Vec::with_capacity(files.len()),
    };
    for (i, (path, _)) in files.iter().enumerate() {
        let mut defs: Vec<f64> = def_terms[i]
            .iter()
            .zip(&doc_terms[i])
            .map(|(terms, doc)| {
                terms.iter().map(|t| def_idf(t)).sum::<f64>()
                    + DOC_WEIGHT * doc.iter().map(|t| doc_idf(t)).sum::<f64>()
            })
            .collect();
        // A method is also about its type's words, less so.
        for (j, scope) in scope_terms[i].iter().enumerate() {
            let scoped: f64 = scope.iter().map(|t| def_idf(t)).sum();
            defs[j] += 0.5 * scoped;
        }
        let mut best = defs.clone();
        best.sort_by(|a, b| b.total_cmp(a));
        let from_defs: f64 = best.iter().take(BEST_DEFS).sum();
        let from_path: f64 = path_terms[i].iter().map(|t| path_idf(t)).sum();
        let named = if in_scope(path, &focus.scopes) || focus.names_file(path) {
            NAMED_WEIGHT
        } else {
            0.0
        };
        relevance.files[i] = from_defs + PATH_WEIGHT * from_path + named;
        relevance.defs.push(defs);
    }
    relevance
}

/// Why a file is in a task's map, in the task's words.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Why {
    pub path: String,
    /// Definitions the map shows of it.
    pub shown: usize,
    /// Its rank in the reference graph (the random walk restarting where the task points).
    pub rank: f64,
    /// What the task says about it, as a score (0: nothing; it is in for its place in the graph).
    pub relevance: f64,
    /// A `crate:` prefix of the task names its directory or file.
    pub in_scope: bool,
    /// The task names the file.
    pub named: bool,
    /// The task's terms its path has.
    pub path_terms: Vec<String>,
    /// Its definitions whose names (or doc comments: `doc: ...`) have the task's terms, best first
    /// (at most five), with them.
    pub defs: Vec<(String, Vec<String>)>,
    /// Names the task mentions that it defines.
    pub mentions: Vec<String>,
}

/// Why `path` (with `tags`) is in the map for `focus`.
pub fn why(path: &str, tags: &FileTags, focus: &Focus) -> Why {
    let wanted: HashSet<&str> = focus.terms.iter().map(String::as_str).collect();
    let matched = |text: &str| matched_terms(text, &wanted);
    let mut defs: Vec<(String, Vec<String>)> = Vec::new();
    for def in &tags.defs {
        let mut terms = matched(&def.name);
        let in_doc: Vec<String> = matched(&def.doc)
            .into_iter()
            .filter(|t| !terms.contains(t))
            .collect();
        if !in_doc.is_empty() {
            terms.push(format!("doc: {}", in_doc.join(" ")));
        }
        let name = match &def.scope {
            Some(scope) => format!("{scope}::{}", def.name),
            None => def.name.clone(),
        };
        if !terms.is_empty() && !defs.iter().any(|(n, _)| *n == name) {
            defs.push((name, terms));
        }
    }
    defs.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(&b.0)));
    defs.truncate(5);
    let mut mentions: Vec<String> = focus
        .names
        .iter()
        .filter(|n| tags.defs.iter().any(|d| d.name == **n))
        .cloned()
        .collect();
    mentions.dedup();
    Why {
        path: path.to_owned(),
        in_scope: in_scope(path, &focus.scopes),
        named: focus.names_file(path),
        path_terms: matched(path),
        defs,
        mentions,
        ..Why::default()
    }
}

/// The `terms` that are `wanted`, sorted, each once.
fn wanted_of(terms: &[String], wanted: &HashSet<&str>) -> Vec<String> {
    let mut kept: Vec<String> = terms
        .iter()
        .filter(|t| wanted.contains(t.as_str()))
        .cloned()
        .collect();
    kept.sort_unstable();
    kept.dedup();
    kept
}

/// The terms of `text` (an identifier or a path) that are `wanted`, sorted, each once.
fn matched_terms(text: &str, wanted: &HashSet<&str>) -> Vec<String> {
    let mut terms: Vec<String> = terms_of(text)
        .into_iter()
        .filter(|t| wanted.contains(t.as_str()))
        .collect();
    terms.sort_unstable();
    terms.dedup();
    terms
}

/// Whether `path` is in one of `scopes`: a directory of it, or its file's stem, answers to one
/// (`terms::component_names`).
fn in_scope(path: &str, scopes: &[String]) -> bool {
    if scopes.is_empty() {
        return false;
    }
    // `test:` is about `tests/`: the stems are compared.
    let names = super::terms::component_names(path);
    scopes
        .iter()
        .any(|s| names.contains(&stem(&s.to_lowercase().replace('-', "_"))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_directories_or_stems() {
        let scopes = [String::from("ignore"), String::from("grep-cli")];
        assert!(in_scope("crates/ignore/src/walk.rs", &scopes));
        assert!(in_scope("src/ignore.rs", &scopes));
        assert!(in_scope("crates/grep_cli/src/lib.rs", &scopes));
        assert!(!in_scope("crates/globset/src/lib.rs", &scopes));
        assert!(!in_scope("src/ignored.rs", &scopes));
        let family = [String::from("mangen")];
        assert!(in_scope("clap_mangen/src/render.rs", &family));
        assert!(!in_scope("clap_complete/src/lib.rs", &family));
    }
}
