//! `review`: findings only. The rule packs of the `review` pipeline's enabled reviewers run over
//! every Rust file of the repository (gitignore-aware), each file parsed once; what they find
//! becomes typed `Finding`s, fingerprinted from rule, path, enclosing symbol and the code itself
//! (so a finding keeps its identity when lines move), sorted by severity, then place. With a
//! base revision, only the lines changed since it are reviewed; findings recorded in the
//! repository's baseline file (`nova-baseline.json`, with the reason they are accepted) are left
//! out.

mod cache;
mod models;

pub(crate) use models::task as model_review_task;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::agents::AgentSet;
use crate::edit::RepoPath;
use crate::findings::{Finding, Fix, Span, fingerprint};
use crate::git::ChangedLines;
use crate::index::Index;
use crate::index::attributes::Parents;
use crate::rules::{Hit, RuleSet};
use cache::{Cache, Entry};
pub use models::ModelReview;

/// The pipeline `nova review` runs.
pub const REVIEW_PIPELINE: &str = "review";

/// The baseline: findings a repository has accepted, by fingerprint, with why.
pub const BASELINE_FILE: &str = "nova-baseline.json";

/// What to review.
#[derive(Debug, Clone)]
pub struct ReviewRequest {
    pub repo_root: PathBuf,
    /// Agents that must not run (`[agents] disabled`).
    pub disabled: Vec<String>,
    /// `--base REV`: only the lines changed since this revision (the working tree against it).
    pub base: Option<String>,
}

/// What a review found.
#[derive(Debug)]
pub struct ReviewOutcome {
    pub findings: Vec<Finding>,
    /// Rust files read.
    pub files: usize,
    /// The rules that ran, and the reviewers that own them.
    pub rules: RuleSet,
    pub reviewers: Vec<String>,
    /// The reviewers that ran with a model, when a provider is set.
    pub models: Vec<ModelReview>,
    /// Findings left out because the baseline holds them.
    pub baselined: usize,
    /// Findings left out because a more severe one of another rule is at the same code.
    pub duplicates: usize,
    pub seconds: f64,
}

/// The baseline file: accepted findings and the reason they are.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Baseline {
    pub reason: String,
    pub findings: Vec<Accepted>,
}

/// One accepted finding: its fingerprint, and where it was, for people reading the file.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Accepted {
    pub fingerprint: String,
    pub rule: String,
    pub path: String,
}

/// Why a review could not run.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error(
        "there is no `{REVIEW_PIPELINE}` pipeline: restore `agents/pipelines/{REVIEW_PIPELINE}.toml` \
         or remove the override in `.nova/agents/pipelines/`"
    )]
    NoPipeline,
    #[error("the rules have problems; the first: {0}. `nova rules test` lists them all")]
    Rules(String),
    #[error("`{0}` is not a revision of this repository: give a branch, a tag or a commit")]
    UnknownBase(String),
    #[error(transparent)]
    Git(#[from] crate::git::WorktreeError),
    #[error(
        "`{BASELINE_FILE}` cannot be read ({0}); fix it, or write it again with `nova review \
         --write-baseline --reason \"...\"`"
    )]
    Baseline(String),
    #[error("cannot write `{BASELINE_FILE}`: {0}")]
    WriteBaseline(std::io::Error),
}

/// Reviews the repository with the rule packs of the `review` pipeline's enabled reviewers.
pub fn review(request: &ReviewRequest, set: &AgentSet) -> Result<ReviewOutcome, ReviewError> {
    Review::start(request, set)?.finish()
}

/// A review under way: its reviewers, their rules, the lines it looks at, and what was found so
/// far. [`Review::start`] runs the rule packs; [`Review::models`] adds what the reviewers find
/// with a model; [`Review::finish`] leaves out what the baseline accepts, deduplicates across
/// reviewers and ranks.
#[derive(Debug)]
pub struct Review {
    root: PathBuf,
    base: Option<String>,
    started: Instant,
    reviewers: Vec<String>,
    rules: RuleSet,
    changed: Option<ChangedLines>,
    files: usize,
    findings: Vec<Finding>,
    models: Vec<ModelReview>,
    /// The repository index that ranks the findings, built (or loaded from its cache) beside
    /// the rules' scan.
    index: std::thread::JoinHandle<Index>,
}

impl Review {
    /// Reads the pipeline and the rules, and runs the rules over the tree (or what changed).
    pub fn start(request: &ReviewRequest, set: &AgentSet) -> Result<Review, ReviewError> {
        let started = Instant::now();
        let pipeline = set
            .pipeline(REVIEW_PIPELINE)
            .ok_or(ReviewError::NoPipeline)?;
        let reviewers: Vec<String> = pipeline
            .stages
            .iter()
            .flat_map(|stage| stage.agents.iter())
            .filter(|name| !request.disabled.contains(name) && set.agent(name).is_some())
            .cloned()
            .collect();
        let (rules, problems) = RuleSet::for_repo(Some(&request.repo_root));
        if let Some(first) = problems.first() {
            return Err(ReviewError::Rules(first.to_string()));
        }
        let rules = rules.owned_by(&reviewers);
        let root = &request.repo_root;
        let changed = match &request.base {
            Some(rev) => Some(
                crate::git::changed_lines(root, rev)?
                    .ok_or_else(|| ReviewError::UnknownBase(rev.clone()))?,
            ),
            None => None,
        };
        // Without its `.gitignore`, a fresh `.nova/` would show up in `git status`.
        let cache = crate::state::prepare(root)
            .ok()
            .map(|_| root.join(cache::CACHE));
        let index = {
            let root = root.clone();
            std::thread::spawn(move || Index::build(&root))
        };
        let (files, findings) = scan_tree(root, &rules, changed.as_ref(), cache.as_deref());
        Ok(Review {
            root: root.clone(),
            base: request.base.clone(),
            started,
            reviewers,
            rules,
            changed,
            files,
            findings,
            models: Vec::new(),
            index,
        })
    }

    /// Baseline, deduplication across reviewers, ranking: the outcome.
    pub fn finish(self) -> Result<ReviewOutcome, ReviewError> {
        let Review {
            root,
            started,
            reviewers,
            rules,
            files,
            mut findings,
            models,
            index,
            ..
        } = self;
        let accepted = baseline(&root)?;
        let before = findings.len();
        findings.retain(|f| !accepted.contains(&f.fingerprint));
        let before_dedup = findings.len();
        let index = match index.join() {
            Ok(index) => index,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        let findings = rank(&index, dedup(findings));
        let duplicates = before_dedup - findings.len();
        Ok(ReviewOutcome {
            baselined: before - before_dedup,
            duplicates,
            findings,
            files,
            rules,
            reviewers,
            models,
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}

/// Whether a finding at lines `start..=end` of `path` is in what the review looks at.
fn touches(changed: Option<&ChangedLines>, path: &str, start: usize, end: usize) -> bool {
    match changed {
        None => true,
        Some(changed) => changed
            .get(path)
            .is_some_and(|ranges| ranges.iter().any(|(from, to)| start <= *to && *from <= end)),
    }
}

/// What `rules` find in the Rust files under `root` (gitignore-aware), each file read and parsed
/// once, on as many threads as there are cores (files dealt out by size); with `changed`, only in
/// those files and lines. With `cache`, a file whose content (and whose declaring parents) did
/// not change since the cached review is not parsed again. Returns the number of files read, and
/// the findings in file order.
pub fn scan_tree(
    root: &Path,
    rules: &RuleSet,
    changed: Option<&ChangedLines>,
    cache: Option<&Path>,
) -> (usize, Vec<Finding>) {
    let mut skipped = BTreeMap::new();
    let files: Vec<_> = crate::index::walk(root, &mut skipped)
        .into_iter()
        .filter(|found| found.path.ends_with(".rs"))
        .collect();
    let mut cached = cache.map(|path| Cache::load(path, cache::key(rules)));
    if let Some(cached) = cached.as_mut()
        && changed.is_none()
    {
        cached.keep_only(&files.iter().map(|f| f.path.as_str()).collect());
    }
    let mut todo: Vec<(usize, &str, u64)> = files
        .iter()
        .enumerate()
        .filter(|(_, f)| changed.is_none_or(|c| c.contains_key(&f.path)))
        .map(|(n, f)| (n, f.path.as_str(), f.size))
        .collect();
    // Largest first, each thread taking the next file when it is done with one: the threads
    // finish close together.
    todo.sort_by_key(|file| std::cmp::Reverse(file.2));
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, 8)
        .min(todo.len().max(1));
    let todo: Vec<(usize, &str)> = todo.into_iter().map(|(n, path, _)| (n, path)).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let known = cached.as_ref();
    let mut scanned: Vec<Scanned> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| scope.spawn(|| scan_share(root, rules, known, &todo, &next)))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| match worker.join() {
                Ok(scanned) => scanned,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    });
    scanned.sort_by_key(|s| s.index);
    let reviewed = scanned.len();
    let mut findings = Vec::new();
    for file in scanned {
        if let (Some(cached), Some(entry)) = (cached.as_mut(), file.entry) {
            cached.put(&files[file.index].path, entry);
        }
        findings.extend(
            file.findings
                .into_iter()
                .filter(|f| touches(changed, f.path.as_str(), f.span.line_start, f.span.line_end)),
        );
    }
    if let (Some(cached), Some(path)) = (&cached, cache) {
        cached.save(path);
    }
    (reviewed, findings)
}

/// One file reviewed: its place in the walk, its findings, and its new cache entry when it was
/// not answered from the cache.
struct Scanned {
    index: usize,
    findings: Vec<Finding>,
    entry: Option<Entry>,
}

/// One thread's files, taken from `todo` in turn (`next` is the first no thread took), each from
/// the cache when it is fresh there, else through the rules; the declaring parents are parsed
/// once per thread.
fn scan_share(
    root: &Path,
    rules: &RuleSet,
    cached: Option<&Cache>,
    todo: &[(usize, &str)],
    next: &std::sync::atomic::AtomicUsize,
) -> Vec<Scanned> {
    let read = |path: &str| std::fs::read_to_string(root.join(path)).ok();
    let parents = Parents::remembering(&read);
    let hashes = RefCell::new(BTreeMap::<String, Option<u64>>::new());
    let hash_of = |path: &str| {
        if let Some(known) = hashes.borrow().get(path) {
            return *known;
        }
        let hash = std::fs::read(root.join(path))
            .ok()
            .map(|bytes| crate::hash::fnv1a(&bytes));
        hashes.borrow_mut().insert(path.to_owned(), hash);
        hash
    };
    let mut out = Vec::new();
    while let Some(&(index, path)) =
        todo.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    {
        let Some(text) = read(path) else {
            continue;
        };
        let hash = crate::hash::fnv1a(text.as_bytes());
        hashes.borrow_mut().insert(path.to_owned(), Some(hash));
        let known = cached.and_then(|c| c.get(path, hash, &hash_of));
        out.push(match known {
            Some(found) => Scanned {
                index,
                findings: found.to_vec(),
                entry: None,
            },
            None => {
                let findings = scan_file(rules, path, &text, &parents);
                Scanned {
                    index,
                    entry: cached.map(|_| {
                        let mut read = depends_on(path, &hash_of);
                        // The modules it imports types from: whether they export them decides
                        // whether its impls are public API.
                        for (file, _) in parents.imported_modules(path, &text) {
                            read.push((file.clone(), hash_of(&file)));
                        }
                        read.sort();
                        read.dedup();
                        Entry {
                            hash,
                            read,
                            findings: findings.clone(),
                        }
                    }),
                    findings,
                }
            }
        });
    }
    out
}

/// Every finding of `rules` in one file.
fn scan_file(rules: &RuleSet, path: &str, text: &str, parents: &Parents<'_>) -> Vec<Finding> {
    rules
        .scan_with(path, text, parents)
        .into_iter()
        .filter_map(|hit| finding(path, text, hit))
        .collect()
}

/// The files what the rules find in `path` depends on, with their hashes: every file that could
/// declare it as a module, up the tree, and every manifest above it.
fn depends_on(path: &str, hash_of: &dyn Fn(&str) -> Option<u64>) -> Vec<(String, Option<u64>)> {
    let mut read = Vec::new();
    let mut up = Parents::candidates(path);
    while let Some(parent) = up.pop() {
        if read.iter().any(|(p, _)| *p == parent) || read.len() > 64 {
            continue;
        }
        let hash = hash_of(&parent);
        if hash.is_some() {
            up.extend(Parents::candidates(&parent));
        }
        read.push((parent, hash));
    }
    // The manifests and clippy configurations above it: its package's `rust-version` (or
    // clippy's `msrv`) and features decide rules too.
    let mut dirs = Vec::new();
    let mut dir = path;
    while let Some((up, _)) = dir.rsplit_once('/') {
        dir = up;
        dirs.push(format!("{dir}/"));
    }
    dirs.push(String::new());
    for dir in dirs {
        for name in ["Cargo.toml", "clippy.toml", ".clippy.toml"] {
            let file = format!("{dir}{name}");
            read.push((file.clone(), hash_of(&file)));
        }
    }
    read.sort();
    read.dedup();
    read
}

/// One finding per piece of code: where two rules (of the same reviewer or of two) find the
/// same span, the most severe stays (at equal severity, the first rule by id); and a model
/// reviewer's finding that says what a rule already found there (its lines hold the rule's
/// finding, and its rule shares a word with the rule's: `correctness-reviewer::unwrap-panics`
/// over `unwrap-in-lib`) goes, the rule's finding (exact, perhaps with a fix) staying.
pub(crate) fn dedup(findings: Vec<Finding>) -> Vec<Finding> {
    let findings = same_span(findings);
    let by_rules: Vec<&Finding> = findings.iter().filter(|f| !reported(f)).collect();
    let keep: Vec<bool> = findings
        .iter()
        .map(|f| !reported(f) || !says_again(f, &by_rules))
        .collect();
    findings
        .into_iter()
        .zip(keep)
        .filter_map(|(finding, keep)| keep.then_some(finding))
        .collect()
}

/// The findings of `model` (a model reviewer's) that do not say again what one of `found`
/// (the rules' and tools') says at the same place: `nova improve` adds its model reviewers'
/// findings to the builtin ones this way.
pub(crate) fn not_said_again(model: Vec<Finding>, found: &[Finding]) -> Vec<Finding> {
    let found: Vec<&Finding> = found.iter().filter(|f| !reported(f)).collect();
    model
        .into_iter()
        .filter(|f| !says_again(f, &found))
        .collect()
}

/// Whether the model's finding `model` holds one of `found` in its lines and shares a word of
/// its rule.
fn says_again(model: &Finding, found: &[&Finding]) -> bool {
    let words = rule_words(model);
    found.iter().any(|rule| {
        rule.path == model.path
            && model.span.line_start <= rule.span.line_start
            && rule.span.line_end <= model.span.line_end
            && rule_words(rule).iter().any(|w| words.contains(w))
    })
}

/// Whether a model reviewer reported `finding` (its rule is `reviewer::rule`).
fn reported(finding: &Finding) -> bool {
    finding
        .rule
        .strip_prefix(finding.agent.as_str())
        .is_some_and(|rest| rest.starts_with("::"))
}

/// The words of a finding's rule that say what it is about: its reviewer's name, the lint's
/// tool and words of three letters or fewer (`in`, `lib`, `fn`) left out.
fn rule_words(finding: &Finding) -> Vec<&str> {
    let rule = finding
        .rule
        .strip_prefix(finding.agent.as_str())
        .and_then(|rest| rest.strip_prefix("::"))
        .unwrap_or(&finding.rule);
    let rule = rule.rsplit("::").next().unwrap_or(rule);
    rule.split(['-', '_'])
        .filter(|word| word.len() > 3 && !matches!(*word, "without" | "code" | "call"))
        .collect()
}

/// One finding per span: the most severe (at equal severity, the first rule by id).
fn same_span(mut findings: Vec<Finding>) -> Vec<Finding> {
    findings.sort_by(|a, b| {
        (&a.path, a.span.byte_start, a.span.byte_end)
            .cmp(&(&b.path, b.span.byte_start, b.span.byte_end))
            .then_with(|| b.severity.cmp(&a.severity))
            .then_with(|| a.rule.cmp(&b.rule))
    });
    findings.dedup_by(|later, kept| {
        later.path == kept.path
            && later.span.byte_start == kept.span.byte_start
            && later.span.byte_end == kept.span.byte_end
    });
    findings
}

/// Most severe first; within a severity, findings in the symbols that matter most to the
/// repository (their rank in the reference graph, from the index's cache) first, then by place.
fn rank(index: &Index, mut findings: Vec<Finding>) -> Vec<Finding> {
    let ranks = index.symbol_ranks(&crate::index::Focus::default());
    let score = |f: &Finding| {
        f.symbol
            .as_ref()
            .and_then(|s| ranks.get(&(f.path.to_string(), s.clone())))
            .copied()
            .unwrap_or(0.0)
    };
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| score(b).total_cmp(&score(a)))
            .then_with(|| a.path.cmp(&b.path))
            .then_with(|| a.span.cmp(&b.span))
            .then_with(|| a.rule.cmp(&b.rule))
    });
    findings
}

/// The fingerprints the repository's baseline accepts; none without a baseline file.
fn baseline(root: &Path) -> Result<std::collections::BTreeSet<String>, ReviewError> {
    let text = match std::fs::read_to_string(root.join(BASELINE_FILE)) {
        Ok(text) => text,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Default::default()),
        Err(error) => return Err(ReviewError::Baseline(error.to_string())),
    };
    let baseline: Baseline =
        serde_json::from_str(&text).map_err(|e| ReviewError::Baseline(e.to_string()))?;
    if baseline.reason.trim().is_empty() {
        return Err(ReviewError::Baseline(String::from(
            "its `reason` is empty: say why these findings are accepted",
        )));
    }
    Ok(baseline
        .findings
        .into_iter()
        .map(|f| f.fingerprint)
        .collect())
}

/// Writes the baseline: `findings` accepted, for `reason`. Returns how many it holds.
pub fn write_baseline(
    root: &Path,
    findings: &[Finding],
    reason: &str,
) -> Result<usize, ReviewError> {
    let mut accepted: Vec<Accepted> = findings
        .iter()
        .map(|f| Accepted {
            fingerprint: f.fingerprint.clone(),
            rule: f.rule.clone(),
            path: f.path.to_string(),
        })
        .collect();
    accepted.sort_by(|a, b| {
        (&a.path, &a.rule, &a.fingerprint).cmp(&(&b.path, &b.rule, &b.fingerprint))
    });
    accepted.dedup_by(|a, b| a.fingerprint == b.fingerprint);
    let count = accepted.len();
    let baseline = Baseline {
        reason: reason.trim().to_owned(),
        findings: accepted,
    };
    let mut text = serde_json::to_string_pretty(&baseline).unwrap_or_default();
    text.push('\n');
    std::fs::write(root.join(BASELINE_FILE), text).map_err(ReviewError::WriteBaseline)?;
    Ok(count)
}

/// A rule's hit as a finding: located, with its symbol and a fingerprint from the code at it.
fn finding(path: &str, text: &str, hit: Hit) -> Option<Finding> {
    let path = RepoPath::new(path)?;
    let code = text.get(hit.bytes.clone()).unwrap_or("");
    // The code, whitespace collapsed: reformatting does not change a finding's identity.
    let normalised: String = code.split_whitespace().collect::<Vec<_>>().join(" ");
    Some(Finding {
        fingerprint: fingerprint(&hit.rule, &path, hit.symbol.as_deref(), &normalised),
        rule: hit.rule,
        group: None,
        agent: hit.agent,
        path,
        span: Span {
            line_start: hit.line,
            column_start: hit.column,
            line_end: hit.end_line,
            column_end: hit.end_column,
            byte_start: hit.bytes.start,
            byte_end: hit.bytes.end,
        },
        symbol: hit.symbol,
        severity: hit.severity,
        message: hit.message,
        fix: hit.fix.map(Fix::Replace),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::{Severity, Span};

    fn finding(rule: &str, agent: &str, lines: (usize, usize), bytes: (usize, usize)) -> Finding {
        Finding {
            rule: rule.to_owned(),
            group: None,
            agent: agent.to_owned(),
            path: crate::edit::RepoPath::new("src/lib.rs").expect("a path"),
            span: Span {
                line_start: lines.0,
                column_start: 1,
                line_end: lines.1,
                column_end: 1,
                byte_start: bytes.0,
                byte_end: bytes.1,
            },
            symbol: None,
            severity: Severity::Warning,
            message: String::from("m"),
            fix: None,
            fingerprint: format!("{rule}{lines:?}"),
        }
    }

    #[test]
    fn a_model_finding_that_says_what_a_rule_found_there_goes() {
        let rule = finding("unwrap-in-lib", "error-handling-reviewer", (3, 3), (40, 50));
        let same = finding(
            "correctness-reviewer::unwrap-panics-on-none",
            "correctness-reviewer",
            (2, 4),
            (20, 80),
        );
        let other = finding(
            "correctness-reviewer::off-by-one",
            "correctness-reviewer",
            (3, 3),
            (30, 60),
        );
        let elsewhere = finding(
            "correctness-reviewer::unwrap-panics",
            "correctness-reviewer",
            (7, 7),
            (90, 99),
        );
        let kept = dedup(vec![same, rule.clone(), other.clone(), elsewhere.clone()]);
        let rules: Vec<&str> = kept.iter().map(|f| f.rule.as_str()).collect();
        assert_eq!(
            rules,
            [
                "correctness-reviewer::off-by-one",
                "unwrap-in-lib",
                "correctness-reviewer::unwrap-panics"
            ]
        );
        // Two rules at one span: the most severe stays.
        let mut severe = finding("panic-in-lib", "error-handling-reviewer", (3, 3), (40, 50));
        severe.severity = Severity::Error;
        let kept = dedup(vec![rule, severe]);
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].rule, "panic-in-lib");
    }
}
