//! Routing a task to the domain agent whose part it is about, offline: the task's words against
//! each part's best files (the same relevance the repo map ranks by: identifiers, doc comments and
//! paths, each word weighed by its rarity) and against the part's code as one document (BM25), the
//! code names it mentions against where they are defined, its `area:` prefix, names and paths
//! against the parts' directories, and its words against each agent's name and description.
//! `cargo bench --bench domains` measures it on real commits (BENCHMARKS.md).

use std::collections::{HashMap, HashSet};

use serde::Serialize;

use super::Owners;
use crate::index::terms::{component_names, directory_names, stem, terms_of_prose};
use crate::index::{Focus, Index};

/// How the router weighs what it finds; measured with `cargo bench --bench domains -- --sweep`
/// (BENCHMARKS.md), and per repository on its own history ([`super::calibrate`]).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Weights {
    /// How many of a part's best files count toward its score, each worth `decay` times the one
    /// before: a task about one corner of a part is not outweighed by a part where many files
    /// mention a word once.
    pub best_files: usize,
    pub decay: f64,
    /// What a test file's relevance counts for (tests name everything they test).
    pub tests: f64,
    /// What a task whose first line names a test (the word `test`, one test: not `tests`, which
    /// lists kinds of files as often) gives the part owning the test file its words match best:
    /// such a task is most often about that test.
    pub test_task: f64,
    /// What a task's word in an agent's name or description weighs (times its IDF over agents),
    /// against the best file's relevance, which counts 1.
    pub described: f64,
    /// What a code name the task mentions weighs when a part defines it (split among the parts
    /// that do).
    pub defines: f64,
    /// What such a name weighs on top when the task puts it in backticks: the item it points at.
    pub quoted: f64,
    /// What the task naming the part (its `area:` prefix or a conventional commit's scope, a code
    /// name or a path answers to the part's directory) weighs; naming one of its files or
    /// directories weighs half.
    pub named: f64,
    /// What the part as a whole weighs: its code's words (names, doc comments, paths, tests left
    /// out) as one document, scored by BM25 against the task's, the best part counting 1.
    pub part_words: f64,
    /// What the part's history weighs: the subjects of the repository's recent commits that
    /// changed its files ([`Past`]) as one document, scored by BM25 against the task's words, the
    /// best part counting 1. How this repository's authors speak of each part: its areas
    /// (`unstable:`, `api:`) and words that are in no file.
    pub history: f64,
}

/// The weights Nova routes with.
pub const WEIGHTS: Weights = Weights {
    best_files: 3,
    decay: 0.6,
    tests: 1.0,
    test_task: 1.0,
    described: 0.1,
    defines: 1.0,
    quoted: 0.5,
    named: 1.0,
    part_words: 1.0,
    history: 1.0,
};

/// How many recent commits [`Past`] is read from (`git::recent_changes`).
pub const HISTORY: usize = 500;

/// What the repository's recent commits said of each part: the words of the subjects of the
/// commits that changed its `.rs` files, each commit's words shared among the parts whose files
/// it changed, by their share of them.
#[derive(Debug, Default)]
pub struct Past {
    /// Per agent, each word's weight.
    words: HashMap<String, HashMap<String, f64>>,
}

impl Past {
    /// The history of `changes` (newest first, as `git::recent_changes` gives them) as `owners`
    /// own the files today.
    pub fn new(owners: &Owners<'_>, changes: &[crate::git::PastChange]) -> Past {
        let mut past = Past::default();
        for change in changes {
            past.add(owners, change);
        }
        past
    }

    /// Adds what `change` said to the parts owning its `.rs` files.
    pub fn add(&mut self, owners: &Owners<'_>, change: &crate::git::PastChange) {
        let owned: Vec<&str> = change
            .files
            .iter()
            .filter(|f| f.ends_with(".rs"))
            .filter_map(|f| owners.owner_of(f).map(|a| a.name.as_str()))
            .collect();
        if owned.is_empty() {
            return;
        }
        let share = 1.0 / owned.len() as f64;
        let terms = terms_of_prose(&change.subject);
        for agent in owned {
            let counts = self.words.entry(agent.to_owned()).or_default();
            for term in &terms {
                *counts.entry(term.clone()).or_default() += share;
            }
        }
    }

    /// Each agent's BM25 score for `terms` against its history, with the words that scored,
    /// most first.
    fn scores(&self, terms: &[String]) -> HashMap<&str, (f64, Vec<String>)> {
        let n = self.words.len() as f64;
        let length = |counts: &HashMap<String, f64>| counts.values().sum::<f64>();
        let average = self.words.values().map(length).sum::<f64>() / n.max(1.0);
        let df = |term: &String| self.words.values().filter(|c| c.contains_key(term)).count();
        self.words
            .iter()
            .map(|(agent, counts)| {
                let relative = length(counts) / average.max(f64::MIN_POSITIVE);
                let mut scored: Vec<(f64, &String)> = terms
                    .iter()
                    .filter_map(|term| {
                        let tf = *counts.get(term)?;
                        Some((bm25(tf, (df(term) as f64, n), relative), term))
                    })
                    .collect();
                scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
                let score = scored.iter().map(|(s, _)| s).sum();
                let words = scored.iter().take(5).map(|(_, t)| (*t).clone()).collect();
                (agent.as_str(), (score, words))
            })
            .collect()
    }
}

/// What a task's words found of one part, before [`Weights`] weigh it: each field is what the
/// weight of the same name multiplies, its best files' relevance counting 1.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Evidence {
    /// Its best files' relevance, each worth `decay` times the one before.
    pub files: f64,
    /// 1 when the task names a test and this part owns the test file its words match best.
    pub test: f64,
    /// The code names the task mentions that its files define, each shared among their definers.
    pub defines: f64,
    /// The same, of the names the task puts in backticks.
    pub quoted: f64,
    /// The task's words in its name or description, each by its IDF over agents.
    pub described: f64,
    /// 1 when the task names its directory, a half when it names one of its files or directories.
    pub named: f64,
    /// Its code's BM25 score for the task's words, the best part's being 1.
    pub part_words: f64,
    /// Its history's BM25 score for the task's words, the best part's being 1.
    pub history: f64,
}

impl Evidence {
    /// The score `weights` give it.
    pub fn weigh(&self, weights: &Weights) -> f64 {
        self.files
            + weights.test_task * self.test
            + weights.defines * self.defines
            + weights.quoted * self.quoted
            + weights.described * self.described
            + weights.named * self.named
            + weights.part_words * self.part_words
            + weights.history * self.history
    }
}

/// How much a task is about one domain agent's part, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Score {
    pub agent: String,
    pub score: f64,
    /// What the score weighs.
    #[serde(skip)]
    pub evidence: Evidence,
    /// Its files the task's words match best, with their relevance.
    pub files: Vec<(String, f64)>,
    /// Code names the task mentions that its files define.
    pub defines: Vec<String>,
    /// The task's words its name or description has.
    pub described: Vec<String>,
    /// The task's words that name its directory, or one of its files or directories.
    pub named: Vec<String>,
    /// The task's words its code has most of, as a whole.
    pub words: Vec<String>,
    /// The task's words the subjects of recent commits to its files have most of.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub past: Vec<String>,
    /// The test file the task's words match best, when the task says `test` and this part owns
    /// it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test: Option<String>,
}

/// Every domain agent's score for `task` with `weights` ([`WEIGHTS`], or those a calibration
/// chose), best first (ties by name), with the repository's history when there is one.
pub fn scores_with(
    index: &Index,
    owners: &Owners<'_>,
    (task, past): (&str, Option<&Past>),
    weights: &Weights,
) -> Vec<Score> {
    let mut scores = evidence(index, owners, (task, past), weights);
    weigh(&mut scores, weights);
    scores
}

/// Every domain agent's evidence for `task`, in `owners`' order, not yet weighed (each score 0):
/// `shape`'s `best_files`, `decay` and `tests` say how its files count, its other weights are not
/// read.
pub fn evidence(
    index: &Index,
    owners: &Owners<'_>,
    (task, past): (&str, Option<&Past>),
    shape: &Weights,
) -> Vec<Score> {
    let focus = Focus::from_task(task);
    let mut scores: Vec<Score> = owners
        .agents()
        .map(|agent| Score {
            agent: agent.name.clone(),
            score: 0.0,
            evidence: Evidence::default(),
            files: Vec::new(),
            defines: Vec::new(),
            described: Vec::new(),
            named: Vec::new(),
            words: Vec::new(),
            past: Vec::new(),
            test: None,
        })
        .collect();
    let slot: HashMap<&str, usize> = owners
        .agents()
        .enumerate()
        .map(|(i, a)| (a.name.as_str(), i))
        .collect();
    // Each file's owner, found once: every feature below asks.
    let owned: HashMap<&str, usize> = index
        .paths()
        .filter_map(|path| {
            let agent = owners.owner_of(path)?;
            Some((path, *slot.get(agent.name.as_str())?))
        })
        .collect();
    let owner = |path: &str| owned.get(path).copied();
    files(index, &focus, shape.tests, &owner, &mut scores);
    if names_a_test(task) {
        tested(index, &focus, &owner, &mut scores);
    }
    defined(index, (&focus, task), &owner, &mut scores);
    described(owners, &focus, &mut scores);
    named(index, owners, &mentioned(&focus), &owner, &mut scores);
    part_words(index, &focus, &owner, &mut scores);
    if let Some(past) = past {
        history(past, &focus, &mut scores);
    }
    for score in &mut scores {
        score
            .files
            .sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        score.files.truncate(shape.best_files);
        let mut worth = 1.0;
        for (_, r) in &score.files {
            score.evidence.files += worth * r;
            worth *= shape.decay;
        }
    }
    scores
}

/// Gives each of `scores` what `weights` make of its evidence, and sorts them best first (ties by
/// name).
fn weigh(scores: &mut [Score], weights: &Weights) {
    for score in scores.iter_mut() {
        score.score = score.evidence.weigh(weights);
    }
    scores.sort_by(|a, b| b.score.total_cmp(&a.score).then(a.agent.cmp(&b.agent)));
}

/// Each part's files the task's words match, on a scale where the task's best file is 1, a test
/// file's relevance times `tests`.
fn files(
    index: &Index,
    focus: &Focus,
    tests: f64,
    owner: &dyn Fn(&str) -> Option<usize>,
    scores: &mut [Score],
) {
    let relevance: Vec<(&str, f64)> = index
        .relevance(focus)
        .into_iter()
        .filter(|(_, r)| *r > 0.0)
        .map(|(path, r)| {
            let kind = crate::index::package::file_kind(path);
            let weight = match kind {
                crate::index::package::FileKind::Tests => tests,
                _ => 1.0,
            };
            (path, r * weight)
        })
        .collect();
    let best = relevance.iter().map(|(_, r)| *r).fold(0.0, f64::max);
    for (path, r) in relevance {
        if let Some(i) = owner(path) {
            scores[i].files.push((path.to_owned(), r / best));
        }
    }
}

/// Whether the first line of `task` names one test: the word `test` (or `test's`).
fn names_a_test(task: &str) -> bool {
    task.lines()
        .next()
        .unwrap_or_default()
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .any(|word| matches!(word.to_lowercase().as_str(), "test" | "test's"))
}

/// What `task` puts in backticks: every other piece of it split at a backtick.
fn quoted(task: &str) -> Vec<&str> {
    task.split('`').skip(1).step_by(2).collect()
}

/// Finds the part that owns the test file the task's words match best.
fn tested(
    index: &Index,
    focus: &Focus,
    owner: &dyn Fn(&str) -> Option<usize>,
    scores: &mut [Score],
) {
    use crate::index::package::{FileKind, file_kind};
    let best = index
        .relevance(focus)
        .into_iter()
        .filter(|(path, r)| *r > 0.0 && file_kind(path) == FileKind::Tests)
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(a.0)));
    if let Some((path, _)) = best
        && let Some(i) = owner(path)
    {
        scores[i].evidence.test = 1.0;
        scores[i].test = Some(path.to_owned());
    }
}

/// The code names the task mentions, to the parts that define them.
fn defined(
    index: &Index,
    (focus, task): (&Focus, &str),
    owner: &dyn Fn(&str) -> Option<usize>,
    scores: &mut [Score],
) {
    let quoted = quoted(task);
    for name in &focus.names {
        let is_quoted = quoted.iter().any(|q| q.contains(name.as_str()));
        let mut definers: Vec<usize> = index
            .definitions(name)
            .iter()
            .filter_map(|located| owner(located.path))
            .collect();
        definers.sort_unstable();
        definers.dedup();
        let share = 1.0 / definers.len() as f64;
        for &i in &definers {
            scores[i].evidence.defines += share;
            if is_quoted {
                scores[i].evidence.quoted += share;
            }
            scores[i].defines.push(name.clone());
        }
    }
}

/// Path components that name no part.
const GENERIC: &[&str] = &["src", "lib", "mod", "main", "rs", "crates", "."];

/// The task's `area:` prefix, code names and paths, as the words a path is made of (stemmed).
fn mentioned(focus: &Focus) -> Vec<String> {
    let words = focus
        .scopes
        .iter()
        .chain(&focus.names)
        .map(String::as_str)
        .chain(focus.paths.iter().flat_map(|p| p.split('/')))
        .map(|w| w.rsplit_once('.').map_or(w, |(stem, _)| stem));
    let mut out: Vec<String> = words
        .map(|w| stem(&w.to_lowercase().replace('-', "_")))
        .filter(|w| !w.is_empty() && !GENERIC.contains(&w.as_str()))
        .collect();
    out.sort();
    out.dedup();
    out
}

/// Finds each part whose directory one of `words` names (`terms::directory_names`: `mangen`
/// names `clap_mangen`), counting 1, or one of whose files or directories it names, a half.
fn named(
    index: &Index,
    owners: &Owners<'_>,
    words: &[String],
    owner: &dyn Fn(&str) -> Option<usize>,
    scores: &mut [Score],
) {
    if words.is_empty() {
        return;
    }
    // The first of `path`'s names the task's words have.
    let named_in = |names: Vec<String>| names.into_iter().find(|n| words.contains(n));
    for (i, agent) in owners.agents().enumerate() {
        let Some(part) = agent.part.as_deref() else {
            continue;
        };
        if let Some(word) = named_in(directory_names(part)) {
            scores[i].evidence.named = 1.0;
            scores[i].named.push(word);
        }
    }
    for path in index.paths() {
        let Some(i) = owner(path) else { continue };
        if !scores[i].named.is_empty() {
            continue;
        }
        if let Some(word) = named_in(component_names(path)) {
            scores[i].evidence.named = 0.5;
            scores[i].named.push(word);
        }
    }
}

/// BM25's parameters: how fast a word's count saturates, and how much a long part is discounted.
const K1: f64 = 1.2;
const B: f64 = 0.75;

/// A term's BM25 score in a document: `tf` times in it, in `df` of the `n` documents, the
/// document `relative` times the average's length.
fn bm25(tf: f64, (df, n): (f64, f64), relative: f64) -> f64 {
    let idf = ((n - df + 0.5) / (df + 0.5) + 1.0).ln();
    idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * relative))
}

/// Each part's BM25 score for the task's terms, its code's words (the names of its definitions,
/// their doc comments at half, its paths at twice; test files left out) taken as one document,
/// on a scale where the best part scores 1.
fn part_words(
    index: &Index,
    focus: &Focus,
    owner: &dyn Fn(&str) -> Option<usize>,
    scores: &mut [Score],
) {
    use crate::index::package::{FileKind, file_kind};
    if focus.terms.is_empty() {
        return;
    }
    let wanted: HashSet<&str> = focus.terms.iter().map(String::as_str).collect();
    // Each part's count of each wanted term, and its length in terms.
    let mut counts: Vec<HashMap<&str, f64>> = vec![HashMap::new(); scores.len()];
    let mut lengths = vec![0.0; scores.len()];
    for ((path, words), prose) in index.paths().zip(index.words()).zip(index.prose()) {
        let Some(i) = owner(path) else { continue };
        if file_kind(path) == FileKind::Tests {
            continue;
        }
        let mut add = |terms: &[String], worth: f64| {
            for term in terms {
                lengths[i] += worth;
                if let Some(t) = wanted.get(term.as_str()) {
                    *counts[i].entry(t).or_default() += worth;
                }
            }
        };
        add(&words.path, 2.0);
        for (name, doc) in words.names.iter().zip(prose) {
            add(name, 1.0);
            add(doc, 0.5);
        }
    }
    let n = scores.len() as f64;
    let average = lengths.iter().sum::<f64>() / n.max(1.0);
    let bm25: Vec<f64> = (0..scores.len())
        .map(|i| {
            counts[i]
                .iter()
                .map(|(term, tf)| {
                    let df = counts.iter().filter(|c| c.contains_key(term)).count() as f64;
                    bm25(*tf, (df, n), lengths[i] / average)
                })
                .sum()
        })
        .collect();
    let best = bm25.iter().copied().fold(0.0, f64::max);
    if best <= 0.0 {
        return;
    }
    for (i, score) in scores.iter_mut().enumerate() {
        score.evidence.part_words = bm25[i] / best;
        let mut words: Vec<(&&str, &f64)> = counts[i].iter().collect();
        words.sort_by(|a, b| b.1.total_cmp(a.1).then(a.0.cmp(b.0)));
        score.words = words
            .iter()
            .take(5)
            .map(|(t, _)| (**t).to_owned())
            .collect();
    }
}

/// Each part's history's score for the task's words, on a scale where the best part scores 1.
fn history(past: &Past, focus: &Focus, scores: &mut [Score]) {
    if focus.terms.is_empty() {
        return;
    }
    let mut by_agent = past.scores(&focus.terms);
    let best = by_agent.values().map(|(s, _)| *s).fold(0.0, f64::max);
    if best <= 0.0 {
        return;
    }
    for score in scores.iter_mut() {
        if let Some((s, words)) = by_agent.remove(score.agent.as_str()) {
            score.evidence.history = s / best;
            score.past = words;
        }
    }
}

/// What each agent's name, part and description share with the task's words, each word weighed
/// by how few agents' descriptions have it.
fn described(owners: &Owners<'_>, focus: &Focus, scores: &mut [Score]) {
    let words: Vec<Vec<String>> = owners
        .agents()
        .map(|a| {
            let part = a
                .part
                .as_deref()
                .unwrap_or("")
                .replace(['/', '_', '-'], " ");
            let mut terms = terms_of_prose(&format!("{} {part} {}", a.name, a.description));
            terms.sort();
            terms.dedup();
            terms
        })
        .collect();
    let n = words.len() as f64;
    for term in &focus.terms {
        let having: Vec<usize> = (0..words.len())
            .filter(|&i| words[i].contains(term))
            .collect();
        if having.is_empty() {
            continue;
        }
        let idf = ((n + 1.0) / (having.len() as f64 + 0.5)).ln().max(0.0);
        for i in having {
            scores[i].evidence.described += idf;
            scores[i].described.push(term.clone());
        }
    }
}

/// Why `best` won, in a line.
pub fn explain(best: &Score, next: Option<&Score>) -> String {
    let mut reasons = Vec::new();
    if !best.files.is_empty() {
        let files: Vec<String> = best
            .files
            .iter()
            .map(|(p, r)| format!("{p} ({r:.2})"))
            .collect();
        reasons.push(format!(
            "its files match the task's words: {}",
            files.join(", ")
        ));
    }
    if !best.defines.is_empty() {
        reasons.push(format!("it defines {}", best.defines.join(", ")));
    }
    if let Some(test) = &best.test {
        reasons.push(format!(
            "the task is about a test, and {test} is the one it matches"
        ));
    }
    if !best.words.is_empty() {
        reasons.push(format!("its code says {}", best.words.join(", ")));
    }
    if !best.named.is_empty() {
        reasons.push(format!("the task names {}", best.named.join(", ")));
    }
    if !best.past.is_empty() {
        reasons.push(format!(
            "recent commits to its files say {}",
            best.past.join(", ")
        ));
    }
    if !best.described.is_empty() {
        reasons.push(format!(
            "its description says {}",
            best.described.join(", ")
        ));
    }
    let runner_up = next.filter(|n| n.score > 0.0).map_or(String::new(), |n| {
        format!("; next: `{}` ({:.2})", n.agent, n.score)
    });
    format!(
        "the task is about the part `{}` owns ({:.2}): {}{runner_up}",
        best.agent,
        best.score,
        reasons.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_first_line_that_says_test_names_one() {
        assert!(names_a_test("task map test: the method, not its namesakes"));
        assert!(names_a_test("The evolver test's counter, once"));
        assert!(names_a_test(
            "net: re-enable `tcp_stream::try_read_buf` test for WASI"
        ));
        assert!(names_a_test("Test the parser on empty input"));
        // `tests` lists kinds of files as often as it names any; the body is not the subject.
        assert!(!names_a_test(
            "The guard leaves main.rs, tests and benches alone"
        ));
        assert!(!names_a_test("Fix parent matching\n\nThe test was wrong."));
        assert!(!names_a_test("Keep the latest of each"));
    }

    #[test]
    fn what_a_task_puts_in_backticks_is_quoted() {
        assert_eq!(
            quoted("codec: document `UdpFramed` decoder `errors`"),
            ["UdpFramed", "errors"]
        );
        assert_eq!(quoted("re-enable `a::b` test"), ["a::b"]);
        assert!(quoted("no code here").is_empty());
        // An unclosed backtick quotes what follows it.
        assert_eq!(quoted("an `open one"), ["open one"]);
    }
}
