//! Calibrating the router on the repository's own history. Its recent commits are tasks whose
//! right agent is known, the one owner of the `.rs` files each changed, so each repository gets
//! the weights that route its own past best, without anyone labelling anything: a repository
//! whose authors name their areas (`sync:`) learns to trust names, one whose commits say what
//! changed in words its code has learns to trust its files. The share of those commits routed
//! right is the router's own estimate of how far to trust it here, which `--explain-route` says.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::Owners;
use super::route::{self, Evidence, Past, Weights};
use crate::git::PastChange;
use crate::index::Index;

/// The most recent commits a calibration learns from.
pub const COMMITS: usize = 150;

/// Fewer commits to learn from than this, and the shipped weights stand.
pub const FEWEST: usize = 20;

/// How many more of those commits new weights must route right than the shipped ones before
/// they replace them: a weight is not moved for a commit or two.
pub const MARGIN: usize = 3;

/// The weights a repository's history chose, and how they did on it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub weights: Weights,
    /// How many of its commits it learned from.
    pub commits: usize,
    /// How many of them the shipped weights routed right.
    pub shipped: usize,
    /// How many of them `weights` routed right.
    pub right: usize,
}

impl Calibration {
    /// Whether the history moved the weights.
    pub fn moved(&self) -> bool {
        self.weights != route::WEIGHTS
    }

    /// In a line, for `--explain-route`.
    pub fn describe(&self) -> String {
        let share = self.right as f64 / self.commits.max(1) as f64;
        if self.moved() {
            format!(
                "weights calibrated on the last {} commits that each changed one part's files: \
                 they route {} of them right ({share:.2}), the shipped weights {}",
                self.commits, self.right, self.shipped
            )
        } else {
            format!(
                "the shipped weights route {} of the last {} commits that each changed one \
                 part's files right ({share:.2}); no other weights did better by {MARGIN}",
                self.right, self.commits
            )
        }
    }
}

/// A past commit taken as a task: every part's evidence for its subject, and the part it was.
struct Case {
    evidence: Vec<Evidence>,
    right: usize,
}

/// Whether a commit's subject is a task to route: it says more than its area in at least four
/// words and is no chore (a release, a version bump, a merge). `doc: fix typo` routes nowhere.
pub fn says_enough(subject: &str) -> bool {
    const CHORES: [&str; 8] = [
        "bump",
        "release",
        "changelog",
        "merge",
        "version",
        "deps",
        "chore",
        "ci:",
    ];
    let subject = subject.to_lowercase();
    let bare = match subject.split_once(": ") {
        Some((area, rest)) if !area.contains(' ') && area.len() <= 24 => rest,
        _ => subject.as_str(),
    };
    bare.split_whitespace().count() >= 4 && !CHORES.iter().any(|c| subject.contains(c))
}

/// The agent a past change was a task for: the one owner of its `.rs` files, when its subject
/// [`says_enough`] and it changed at most eight files, as the benchmark's tasks are picked.
fn lesson<'s>(owners: &Owners<'s>, change: &PastChange) -> Option<&'s crate::agents::AgentDef> {
    if !says_enough(&change.subject) {
        return None;
    }
    let rust: Vec<&String> = change.files.iter().filter(|f| f.ends_with(".rs")).collect();
    if rust.is_empty() || change.files.len() > 8 {
        return None;
    }
    let first = owners.owner_of(rust[0])?;
    rust[1..]
        .iter()
        .all(|f| owners.owner_of(f).is_some_and(|a| a.name == first.name))
        .then_some(first)
}

/// The weights `changes` (newest first, as `git::recent_changes` gives them) route best with
/// `index` and `owners`: the newest [`COMMITS`] of them that teach (their subject
/// [`says_enough`], their `.rs` files have one owner) routed each with the history before it
/// only, the shipped weights' grid searched one weight at a time.
/// `None` when fewer than [`FEWEST`] teach.
pub fn calibrate(
    index: &Index,
    owners: &Owners<'_>,
    changes: &[PastChange],
) -> Option<Calibration> {
    let slot: HashMap<&str, usize> = owners
        .agents()
        .enumerate()
        .map(|(i, a)| (a.name.as_str(), i))
        .collect();
    let lessons: Vec<Option<usize>> = changes
        .iter()
        .map(|c| lesson(owners, c).and_then(|a| slot.get(a.name.as_str()).copied()))
        .collect();
    let taught = lessons.iter().flatten().count();
    if taught < FEWEST {
        return None;
    }
    // The newest COMMITS that teach, each with the history of the commits before it.
    let from = lessons
        .iter()
        .enumerate()
        .filter(|(_, l)| l.is_some())
        .nth(COMMITS.min(taught) - 1)
        .map_or(0, |(i, _)| i);
    let mut past = Past::default();
    let mut cases = Vec::new();
    for (i, change) in changes.iter().enumerate().rev() {
        if i <= from
            && let Some(right) = lessons[i]
        {
            let scores = route::evidence(
                index,
                owners,
                (&change.subject, Some(&past)),
                &route::WEIGHTS,
            );
            cases.push(Case {
                evidence: scores.iter().map(|s| s.evidence).collect(),
                right,
            });
        }
        past.add(owners, change);
    }
    Some(learn(&cases))
}

/// The weights `cases` route best: the shipped ones unless others route [`MARGIN`] more right.
fn learn(cases: &[Case]) -> Calibration {
    let shipped = routed_right(cases, &route::WEIGHTS);
    let (weights, right) = search(cases, route::WEIGHTS, shipped);
    let (weights, right) = if right >= shipped + MARGIN {
        (weights, right)
    } else {
        (route::WEIGHTS, shipped)
    };
    Calibration {
        weights,
        commits: cases.len(),
        shipped,
        right,
    }
}

/// How many of `cases` `weights` route right: the right part scoring above every other, and
/// above nothing.
fn routed_right(cases: &[Case], weights: &Weights) -> usize {
    cases
        .iter()
        .filter(|case| {
            let right = case.evidence[case.right].weigh(weights);
            right > 0.0
                && case
                    .evidence
                    .iter()
                    .enumerate()
                    .all(|(i, e)| i == case.right || e.weigh(weights) < right)
        })
        .count()
}

/// The values each weight is tried at.
const GRID: [(Knob, &[f64]); 7] = [
    (Knob::TestTask, &[0.0, 0.5, 1.0, 1.5, 2.0]),
    (Knob::Described, &[0.0, 0.05, 0.1, 0.2, 0.3, 0.5]),
    (Knob::Defines, &[0.0, 0.3, 0.5, 1.0, 1.5, 2.0]),
    (Knob::Quoted, &[0.0, 0.25, 0.5, 1.0]),
    (Knob::Named, &[0.0, 0.5, 1.0, 1.5, 2.0, 3.0]),
    (Knob::PartWords, &[0.0, 0.5, 1.0, 1.5, 2.0]),
    (Knob::History, &[0.0, 0.5, 1.0, 1.5, 2.0, 3.0]),
];

/// The weights a calibration moves (a part's files count 1: the scale the others are on).
#[derive(Debug, Clone, Copy)]
enum Knob {
    TestTask,
    Described,
    Defines,
    Quoted,
    Named,
    PartWords,
    History,
}

impl Knob {
    fn set(self, weights: &mut Weights, value: f64) {
        let field = match self {
            Knob::TestTask => &mut weights.test_task,
            Knob::Described => &mut weights.described,
            Knob::Defines => &mut weights.defines,
            Knob::Quoted => &mut weights.quoted,
            Knob::Named => &mut weights.named,
            Knob::PartWords => &mut weights.part_words,
            Knob::History => &mut weights.history,
        };
        *field = value;
    }
}

/// Coordinate ascent from `start` (routing `right` of `cases`): each weight in turn set to the
/// grid value that routes the most right, kept only where it routes more; rounds until none
/// moves.
fn search(cases: &[Case], start: Weights, right: usize) -> (Weights, usize) {
    let (mut best, mut right) = (start, right);
    for _ in 0..4 {
        let mut moved = false;
        for (knob, values) in GRID {
            for &value in values {
                let mut tried = best;
                knob.set(&mut tried, value);
                let count = routed_right(cases, &tried);
                if count > right {
                    (best, right, moved) = (tried, count, true);
                }
            }
        }
        if !moved {
            break;
        }
    }
    (best, right)
}

/// Where a repository's calibration is kept, under its root.
pub const CACHE: &str = ".nova/route/calibration.bin";

const MAGIC: &[u8; 8] = b"NOVACAL\0";
/// Bump when the evidence, the grid or the search changes what a calibration finds.
const FORMAT: u32 = 1;

/// A calibration, with what it was made from.
#[derive(Debug, Serialize, Deserialize)]
struct Cached {
    key: u64,
    calibration: Option<Calibration>,
}

/// [`calibrate`], kept at `cache` (under the repository, [`CACHE`]; `None`: not kept) until the
/// history, the domain agents or Nova's version change: the first change request after a commit
/// pays for it (up to a second on a large repository, BENCHMARKS.md), the next ones read it. A
/// cache that cannot be written is only slower.
pub fn cached(
    cache: Option<&std::path::Path>,
    index: &Index,
    owners: &Owners<'_>,
    changes: &[PastChange],
) -> Option<Calibration> {
    let key = key(owners, changes);
    if let Some(kept) = cache.and_then(|path| crate::cachefile::read::<Cached>(path, MAGIC, FORMAT))
        && kept.key == key
    {
        return kept.calibration;
    }
    let calibration = calibrate(index, owners, changes);
    if let Some(path) = cache {
        // nova:allow(ignored-result): without its cache the next route only calibrates again
        let _ = crate::cachefile::write(path, MAGIC, FORMAT, &Cached { key, calibration });
    }
    calibration
}

/// What a calibration depends on: Nova's version, each domain agent's name and write scope, and
/// each change's subject and files.
fn key(owners: &Owners<'_>, changes: &[PastChange]) -> u64 {
    let mut parts: Vec<&[u8]> = vec![env!("CARGO_PKG_VERSION").as_bytes()];
    for agent in owners.agents() {
        parts.push(agent.name.as_bytes());
        parts.extend(agent.scope.write.iter().map(|glob| glob.as_bytes()));
    }
    for change in changes {
        parts.push(change.subject.as_bytes());
        parts.extend(change.files.iter().map(|f| f.as_bytes()));
    }
    crate::hash::fnv1a_parts(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` commits each to part 0, which the task names by a file (half a naming) while part 1's
    /// files match its words best.
    fn named_by_a_file(n: usize) -> Vec<Case> {
        let named = Evidence {
            files: 0.3,
            named: 0.5,
            ..Evidence::default()
        };
        let wordy = Evidence {
            files: 1.0,
            ..Evidence::default()
        };
        (0..n)
            .map(|_| Case {
                evidence: vec![named, wordy],
                right: 0,
            })
            .collect()
    }

    #[test]
    fn a_history_the_shipped_weights_misroute_moves_them() {
        let cases = named_by_a_file(25);
        let learned = learn(&cases);
        assert_eq!(
            (learned.shipped, learned.right, learned.commits),
            (0, 25, 25)
        );
        assert!(learned.moved());
        assert!(learned.weights.named >= 1.5, "{:?}", learned.weights);
        // Only the weight that mattered moved.
        let untouched = Weights {
            named: route::WEIGHTS.named,
            ..learned.weights
        };
        assert_eq!(untouched, route::WEIGHTS);
        assert!(
            learned
                .describe()
                .contains("route 25 of them right (1.00), the shipped weights 0")
        );
    }

    #[test]
    fn a_gain_under_the_margin_leaves_the_shipped_weights() {
        // Part 1 is right where its files match best: the shipped weights get those.
        let mut cases: Vec<Case> = (0..20)
            .map(|_| Case {
                evidence: vec![
                    Evidence::default(),
                    Evidence {
                        files: 1.0,
                        ..Evidence::default()
                    },
                ],
                right: 1,
            })
            .collect();
        cases.extend(named_by_a_file(MARGIN - 1));
        let learned = learn(&cases);
        assert!(!learned.moved(), "{:?}", learned.weights);
        assert_eq!((learned.shipped, learned.right), (20, 20));
        assert!(
            learned
                .describe()
                .starts_with("the shipped weights route 20 of the last")
        );
    }

    #[test]
    fn a_subject_that_says_only_its_area_or_a_chore_teaches_nothing() {
        assert!(says_enough("sync: make the semaphore fair to waiters"));
        assert!(says_enough("Keep the user's checkout untouched"));
        assert!(!says_enough("doc: fix typo"));
        assert!(!says_enough("chore(deps): update the lock file now"));
        assert!(!says_enough("Release 1.2.0 of every crate here"));
    }

    #[test]
    fn a_tie_is_no_route() {
        let tie = Evidence {
            files: 1.0,
            ..Evidence::default()
        };
        let cases = [Case {
            evidence: vec![tie, tie],
            right: 0,
        }];
        assert_eq!(routed_right(&cases, &route::WEIGHTS), 0);
        let nothing = [Case {
            evidence: vec![Evidence::default(), Evidence::default()],
            right: 0,
        }];
        assert_eq!(routed_right(&nothing, &route::WEIGHTS), 0);
    }
}
