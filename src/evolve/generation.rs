//! `nova evolve`: generations of agent-set variants, judged by the frozen evaluator. A
//! generation picks a parent from the archive (its training score, and how few children it has
//! had: DGM's exploration), has the proposer change it, refuses a change that touches what judges
//! it, runs the variant on a few training tasks and, when it is not worse there, on the rest, and
//! accepts it into the archive only when the paired comparison with its parent on the same tasks
//! has a lower confidence bound of the gain above zero (`accept`). The held-out tasks are never
//! run here. Every task's result is kept as it comes, so a run killed at any point goes on from
//! there: a variant left `evaluating` is finished first, and no task is run twice.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::accept::{self, Decision, Paired};
use super::frozen::Evaluator;
use super::lineage::{Archive, Kind};
use super::propose::{self, Failure};
use super::run::{self, RunError, RunProgress, RunRequest};
use super::tasks::{Split, Task};
use crate::llm::Provider;
use crate::orchestrator::AskRequest;
use crate::store::{Store, StoreError, VariantRow};
use crate::validate::Options;

/// What to evolve, and how.
#[derive(Debug)]
pub struct EvolveRequest<'a> {
    pub evaluator: &'a Evaluator,
    /// Generations to add in this run (an unfinished one counts as the first).
    pub generations: usize,
    pub seed: u64,
    /// Training tasks in the first stage.
    pub stage: usize,
    /// Runs at most of a task where the variant and its parent differ (1: no repeat).
    pub repeats: u32,
    /// The model and budgets proposers and this build's agents start from.
    pub template: AskRequest,
    pub validation: Options,
    pub scratch: PathBuf,
    /// Where the variants' material is kept: `.nova/evolve/<lineage>/`.
    pub archive: PathBuf,
    /// What the variants and their results are kept under: [`Kind::lineage`] of the evaluator.
    pub lineage: String,
    /// The repository whose private references (`refs/nova/evolve/...`) keep each decided
    /// variant as a commit on its parent's.
    pub repo_root: PathBuf,
    /// The run (its id, and its sequence number in the archive) the results belong to.
    pub run: (String, i64),
    pub time: i64,
}

/// What `evolve` tells as it goes.
#[derive(Debug)]
pub enum EvolveProgress<'a> {
    /// `variant` is run on `tasks` tasks, `done` of which it already ran.
    Evaluating {
        variant: &'a str,
        /// 0 for its first run of them, then 1, 2, ... for the runs again.
        repeat: u32,
        tasks: usize,
        done: usize,
    },
    Task(RunProgress<'a>),
    Proposed {
        variant: &'a str,
        parent: &'a str,
        change: &'a str,
    },
    Refused {
        variant: &'a str,
        reasons: &'a [String],
    },
    /// Worse than its parent on the first tasks: the rest were not run.
    Stopped {
        variant: &'a str,
    },
    Decided {
        variant: &'a str,
        decision: &'a Decision,
    },
    /// The proposer had nothing left to change.
    Exhausted,
    /// The evolver proposed nothing new: the builtin proposer makes this generation's change.
    Fallback,
}

/// Who proposes variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proposer {
    /// The `evolver` agent, with the model.
    Model,
    /// Small changes chosen by the seed (`variant::propose`).
    Builtin,
}

#[derive(Debug, thiserror::Error)]
pub enum EvolveError {
    #[error(transparent)]
    Run(#[from] RunError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot keep variant files in `{}`: {error}", path.display())]
    Files {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("variant `{id}` cannot be loaded: {error}")]
    Load {
        id: String,
        error: crate::agents::LoadError,
    },
    #[error("the task set has no training task: make it with `--held-out` below 100")]
    NoTraining,
    #[error("the evolver could not propose: {0}")]
    Propose(#[from] propose::ProposeError),
    #[error("variant `{id}` has settings that do not apply: {why}")]
    Settings { id: String, why: String },
    #[error("cannot keep the variant's commit: {0}")]
    Commit(#[from] crate::git::BranchError),
    #[error("`nova` does not build at variant `{id}`: {why}")]
    Build { id: String, why: String },
    #[error(transparent)]
    Validate(#[from] crate::validate::ValidateError),
    #[error("cannot commit the variant's code: {0}")]
    CommitCode(#[from] crate::git::Error),
}

/// The root variant's id.
pub const ROOT: &str = "g0";

/// Runs `request.generations` generations; returns the archive afterwards.
pub fn evolve(
    request: &EvolveRequest<'_>,
    kind: &dyn Kind,
    provider: &dyn Provider,
    store: &Store,
    progress: &mut dyn FnMut(EvolveProgress<'_>),
) -> Result<Vec<VariantRow>, EvolveError> {
    let set = &request.evaluator.set;
    let mut train: Vec<&Task> = set.split(Split::Train).collect();
    if train.is_empty() {
        return Err(EvolveError::NoTraining);
    }
    // The same order for every variant: the first stage is the same tasks for all of them.
    let order = crate::rules::mutate::shuffled(train.len(), set.seed);
    train = order.into_iter().map(|at| train[at]).collect();
    let mut cx = Context {
        request,
        kind,
        provider,
        store,
        train,
        progress,
    };
    cx.root()?;
    let mut left = request.generations;
    while left > 0 {
        let archive = store.variants(&request.lineage)?;
        let next = match archive.iter().find(|row| row.status == "evaluating") {
            Some(unfinished) => unfinished.clone(),
            None => match cx.propose(&archive)? {
                Some(row) => row,
                None => {
                    (cx.progress)(EvolveProgress::Exhausted);
                    break;
                }
            },
        };
        left -= 1;
        if next.status == "evaluating" {
            cx.judge(next)?;
        }
    }
    Ok(store.variants(&request.lineage)?)
}

/// The best variant of the archive by training score (the root on a tie), and the root: each run
/// on the held-out tasks, which nothing before this has run. Returns (variant, solved, tasks).
pub fn held_out(
    request: &EvolveRequest<'_>,
    kind: &dyn Kind,
    provider: &dyn Provider,
    store: &Store,
    progress: &mut dyn FnMut(EvolveProgress<'_>),
) -> Result<Vec<(String, usize, usize)>, EvolveError> {
    let archive = store.variants(&request.lineage)?;
    let mut best = ROOT;
    let mut best_score = f64::NEG_INFINITY;
    for row in archive
        .iter()
        .filter(|row| matches!(row.status.as_str(), "root" | "accepted"))
    {
        let score = row.score.unwrap_or(0.0);
        if score > best_score {
            best = &row.id;
            best_score = score;
        }
    }
    let tasks: Vec<&Task> = request.evaluator.set.split(Split::HeldOut).collect();
    let mut cx = Context {
        request,
        kind,
        provider,
        store,
        train: Vec::new(),
        progress,
    };
    let mut scores = Vec::new();
    let ids = if best == ROOT {
        vec![ROOT]
    } else {
        vec![ROOT, best]
    };
    for id in ids {
        let solved = cx.evaluate(id, &tasks)?;
        scores.push((
            id.to_owned(),
            solved.values().filter(|&&s| s).count(),
            tasks.len(),
        ));
    }
    Ok(scores)
}

struct Context<'a, 'p> {
    request: &'a EvolveRequest<'a>,
    kind: &'a dyn Kind,
    provider: &'a dyn Provider,
    store: &'a Store,
    train: Vec<&'a Task>,
    progress: &'p mut dyn FnMut(EvolveProgress<'_>),
}

impl<'a> Context<'a, '_> {
    fn archive(&self) -> Archive<'a> {
        Archive {
            request: self.request,
            provider: self.provider,
        }
    }

    /// The root variant, in the archive and run on every training task.
    fn root(&mut self) -> Result<(), EvolveError> {
        let evaluator = &self.request.lineage;
        let archive = self.store.variants(evaluator)?;
        if !archive.iter().any(|row| row.id == ROOT) {
            self.kind.plant_root(self.archive())?;
        }
        let tasks = self.train.clone();
        let solved = self.evaluate(ROOT, &tasks)?;
        let score = share(&solved);
        self.store.put_variant(&VariantRow {
            evaluator: evaluator.clone(),
            id: String::from(ROOT),
            parent: None,
            generation: 0,
            change: self.kind.root_change(),
            status: String::from("root"),
            score: Some(score),
            tasks: u32::try_from(solved.len()).unwrap_or(u32::MAX),
            decision: None,
            created: self.request.time,
        })?;
        let archive = self.store.variants(evaluator)?;
        let kept = crate::git::ref_target(&self.request.repo_root, &self.reference(ROOT))?;
        if let (None, Some(root)) = (kept, archive.iter().find(|row| row.id == ROOT)) {
            self.keep(root)?;
        }
        Ok(())
    }

    /// Keeps `row`'s variant as a commit on its parent's under
    /// `refs/nova/evolve/<evaluator>/<id>`, its message carrying the evaluator's hash, the
    /// status, the score and the decision: the lineage, in git.
    fn keep(&self, row: &VariantRow) -> Result<(), EvolveError> {
        let root = &self.request.repo_root;
        let parent = match &row.parent {
            Some(parent) => crate::git::ref_target(root, &self.reference(parent))?,
            None => None,
        };
        let mut message = format!("{}: {}\n\n", row.id, row.change);
        if let Some(decision) = &row.decision {
            message.push_str(&format!("{decision}\n\n"));
        }
        message.push_str(&format!(
            "Nova-Evaluator: {}\nNova-Variant: {}\nNova-Parent: {}\nNova-Status: {}\n",
            self.request.evaluator.hash,
            row.id,
            row.parent.as_deref().unwrap_or("none"),
            row.status
        ));
        if let Some(score) = row.score {
            message.push_str(&format!("Nova-Score: {score:.3} on {} tasks\n", row.tasks));
        }
        self.kind.keep(
            self.archive(),
            &row.id,
            parent,
            (&message, row.created),
            &self.reference(&row.id),
        )
    }

    /// The private reference that keeps variant `id`.
    fn reference(&self, id: &str) -> String {
        format!("refs/nova/evolve/{}/{id}", self.request.lineage)
    }

    /// A new variant of a parent chosen from `archive`, kept `evaluating` (or `refused`); `None`
    /// when the proposer has nothing left.
    fn propose(&mut self, archive: &[VariantRow]) -> Result<Option<VariantRow>, EvolveError> {
        let generation = archive.iter().map(|row| row.generation).max().unwrap_or(0) + 1;
        let seed = proposal_seed(self.request.seed, generation);
        let parent = choose_parent(archive, seed);
        self.evaluate(&parent.id, &self.train.clone())?;
        let failures = self.failures_of(&parent.id)?;
        let id = format!("g{generation}");
        let child = self.kind.propose(
            self.archive(),
            (&parent.id, &id),
            &failures,
            (seed, archive),
            &mut *self.progress,
        )?;
        let Some(child) = child else {
            return Ok(None);
        };
        (self.progress)(EvolveProgress::Proposed {
            variant: &id,
            parent: &parent.id,
            change: &child.change,
        });
        let reasons = child.refused;
        let mut row = VariantRow {
            evaluator: self.request.lineage.clone(),
            id: id.clone(),
            parent: Some(parent.id.clone()),
            generation,
            change: child.change,
            status: String::from("evaluating"),
            score: None,
            tasks: 0,
            decision: None,
            created: self.request.time,
        };
        if !reasons.is_empty() {
            (self.progress)(EvolveProgress::Refused {
                variant: &id,
                reasons: &reasons,
            });
            row.status = String::from("refused");
            row.decision = Some(reasons.join("; "));
        }
        self.store.put_variant(&row)?;
        if row.status == "refused" {
            self.keep(&row)?;
        }
        Ok(Some(row))
    }

    /// Runs `row`'s variant in stages and decides on it against its parent: the first tasks,
    /// the rest when it is not worse on them, then again the tasks where the two differ, up to
    /// `repeats` runs in all, so that a difference the model's noise made is seen as such.
    fn judge(&mut self, mut row: VariantRow) -> Result<(), EvolveError> {
        let parent = row.parent.clone().unwrap_or_else(|| String::from(ROOT));
        let first: Vec<&Task> = self
            .train
            .iter()
            .take(self.request.stage.max(1))
            .copied()
            .collect();
        let mut ours = self.evaluate(&row.id, &first)?;
        let mut theirs = self.evaluate(&parent, &first)?;
        let mut tasks = first.clone();
        if !accept::worth_going_on(&paired(&first, &theirs, &ours)) {
            (self.progress)(EvolveProgress::Stopped { variant: &row.id });
        } else if first.len() < self.train.len() {
            tasks = self.train.clone();
            ours = self.evaluate(&row.id, &tasks)?;
            theirs = self.evaluate(&parent, &tasks)?;
        }
        row.score = Some(share(&ours));
        row.tasks = u32::try_from(ours.len()).unwrap_or(u32::MAX);
        let mut ours: Runs = ours.into_iter().map(|(t, s)| (t, vec![s])).collect();
        let mut theirs: Runs = theirs.into_iter().map(|(t, s)| (t, vec![s])).collect();
        for repeat in 1..self.request.repeats.max(1) {
            let differing: Vec<&Task> = tasks
                .iter()
                .filter(|task| rate(ours.get(&task.id)) != rate(theirs.get(&task.id)))
                .copied()
                .collect();
            if differing.is_empty() {
                break;
            }
            for (id, runs) in [(&row.id, &mut ours), (&parent, &mut theirs)] {
                for (task, solved) in self.evaluate_run(id, &differing, repeat)? {
                    runs.entry(task).or_default().push(solved);
                }
            }
        }
        let pairs: Vec<Paired> = tasks
            .iter()
            .filter_map(|task| {
                Some(Paired {
                    task: task.id.clone(),
                    parent: theirs.get(&task.id)?.clone(),
                    variant: ours.get(&task.id)?.clone(),
                })
            })
            .collect();
        let decision = accept::decide(&pairs);
        (self.progress)(EvolveProgress::Decided {
            variant: &row.id,
            decision: &decision,
        });
        row.status = String::from(if decision.accepted {
            "accepted"
        } else {
            "rejected"
        });
        row.decision = serde_json::to_string(&decision).ok();
        self.store.put_variant(&row)?;
        self.keep(&row)?;
        Ok(())
    }

    /// The training tasks variant `id` did not solve, with what its results in the archive say
    /// of each: the agent that ended the run, what stopped it, the checks still failing.
    fn failures_of(&self, id: &str) -> Result<Vec<Failure>, EvolveError> {
        let label = self.kind.label(id);
        let rows = self.store.bench_results()?;
        Ok(self
            .train
            .iter()
            .filter_map(|task| {
                let row = rows.iter().rev().find(|row| {
                    row.agents == label
                        && row.evaluator == self.request.evaluator.hash
                        && row.task == task.id
                })?;
                if row.solved {
                    return None;
                }
                let detail: serde_json::Value =
                    serde_json::from_str(&row.detail).unwrap_or_default();
                let text = |value: &serde_json::Value| {
                    value.as_str().filter(|a| !a.is_empty()).map(str::to_owned)
                };
                Some(Failure {
                    task: task.id.clone(),
                    statement: task.statement.clone(),
                    agent: text(&detail["agent"]),
                    note: text(&detail["note"]),
                    broken: detail["score"]["broken"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|b| b.as_str().map(str::to_owned))
                        .collect(),
                })
            })
            .collect())
    }

    /// Whether variant `id` solved each of `tasks` on its first run.
    fn evaluate(
        &mut self,
        id: &str,
        tasks: &[&Task],
    ) -> Result<BTreeMap<String, bool>, EvolveError> {
        self.evaluate_run(id, tasks, 0)
    }

    /// Whether variant `id` solved each of `tasks` on run `repeat` (from 0): from the archive
    /// where it ran them so under this evaluator, else run now (each result kept as it comes).
    fn evaluate_run(
        &mut self,
        id: &str,
        tasks: &[&Task],
        repeat: u32,
    ) -> Result<BTreeMap<String, bool>, EvolveError> {
        let label = match repeat {
            0 => self.kind.label(id),
            n => format!("{}~{n}", self.kind.label(id)),
        };
        let evaluator = self.request.evaluator;
        let mut solved: BTreeMap<String, bool> = self
            .store
            .bench_results()?
            .into_iter()
            .filter(|row| row.agents == label && row.evaluator == evaluator.hash)
            .map(|row| (row.task, row.solved))
            .collect();
        solved.retain(|task, _| tasks.iter().any(|t| &t.id == task));
        let missing: Vec<&Task> = tasks
            .iter()
            .filter(|task| !solved.contains_key(&task.id))
            .copied()
            .collect();
        (self.progress)(EvolveProgress::Evaluating {
            variant: id,
            repeat,
            tasks: tasks.len(),
            done: tasks.len() - missing.len(),
        });
        if missing.is_empty() {
            return Ok(solved);
        }
        let (worker, fingerprint) = self.kind.worker(self.archive(), id)?;
        let request = RunRequest {
            evaluator,
            tasks: missing,
            label: label.clone(),
            validation: self.request.validation.clone(),
            scratch: self.request.scratch.clone(),
        };
        let store = self.store;
        let (run_id, run_seq) = (&self.request.run.0, self.request.run.1);
        let mut failed = None;
        let progress = &mut *self.progress;
        let results = run::run(&request, worker.as_ref(), &mut |step| {
            if let RunProgress::Finished { result, .. } = &step {
                let row = run::bench_row(run_id, &label, &fingerprint, evaluator, result);
                if let Err(error) = store.bench_result(run_seq, &row) {
                    failed.get_or_insert(error);
                }
            }
            progress(EvolveProgress::Task(step));
        })?;
        if let Some(error) = failed {
            return Err(error.into());
        }
        for result in results {
            solved.insert(result.task, result.score.solved);
        }
        Ok(solved)
    }
}

/// Each task's outcomes, one per run.
type Runs = BTreeMap<String, Vec<bool>>;

/// How many of `runs` solved the task, and of how many: a variant and its parent always have
/// run a task as often as each other, so equal pairs are equal rates.
fn rate(runs: Option<&Vec<bool>>) -> Option<(usize, usize)> {
    let runs = runs?;
    Some((runs.iter().filter(|&&s| s).count(), runs.len()))
}

/// The paired outcomes of `tasks` for the parent (`theirs`) and the variant (`ours`).
fn paired(
    tasks: &[&Task],
    theirs: &BTreeMap<String, bool>,
    ours: &BTreeMap<String, bool>,
) -> Vec<Paired> {
    tasks
        .iter()
        .filter_map(|task| {
            Some(Paired {
                task: task.id.clone(),
                parent: vec![*theirs.get(&task.id)?],
                variant: vec![*ours.get(&task.id)?],
            })
        })
        .collect()
}

fn share(solved: &BTreeMap<String, bool>) -> f64 {
    if solved.is_empty() {
        return 0.0;
    }
    solved.values().filter(|&&s| s).count() as f64 / solved.len() as f64
}

/// The seed generation `generation` of a run seeded `seed` draws its parent and its builtin
/// proposal with.
pub fn proposal_seed(seed: u64, generation: u32) -> u64 {
    seed ^ u64::from(generation).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// A parent from the root and the accepted variants, drawn by `seed` with DGM's weights: a
/// sigmoid of its training score (steepness 10, centred on one half) over one more than the
/// number of children it already has, so that strong variants are explored and none is drawn
/// over and over.
pub fn choose_parent(archive: &[VariantRow], seed: u64) -> &VariantRow {
    let eligible: Vec<&VariantRow> = archive
        .iter()
        .filter(|row| row.status == "root" || row.status == "accepted")
        .collect();
    let weight = |row: &VariantRow| {
        let children = archive
            .iter()
            .filter(|child| child.parent.as_deref() == Some(row.id.as_str()))
            .count();
        let score = row.score.unwrap_or(0.0);
        let sigmoid = 1.0 / (1.0 + (-10.0 * (score - 0.5)).exp());
        sigmoid / (1.0 + children as f64)
    };
    let total: f64 = eligible.iter().map(|row| weight(row)).sum();
    let draw = unit(seed) * total;
    let mut seen = 0.0;
    for row in &eligible {
        seen += weight(row);
        if draw < seen {
            return row;
        }
    }
    eligible.last().copied().unwrap_or(&archive[0])
}

/// A number in [0, 1) from `seed` (splitmix64).
fn unit(seed: u64) -> f64 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, parent: Option<&str>, status: &str, score: f64) -> VariantRow {
        VariantRow {
            evaluator: String::from("e"),
            id: id.to_owned(),
            parent: parent.map(str::to_owned),
            generation: 0,
            change: String::new(),
            status: status.to_owned(),
            score: Some(score),
            tasks: 10,
            decision: None,
            created: 0,
        }
    }

    #[test]
    fn parents_are_drawn_by_score_and_few_children_and_never_a_rejected_one() {
        let archive = vec![
            row("g0", None, "root", 0.2),
            row("g1", Some("g0"), "accepted", 0.8),
            row("g2", Some("g1"), "rejected", 1.0),
            row("g3", Some("g0"), "refused", 1.0),
        ];
        let mut drawn: BTreeMap<String, usize> = BTreeMap::new();
        for seed in 0..1000 {
            *drawn
                .entry(choose_parent(&archive, seed).id.clone())
                .or_default() += 1;
        }
        assert_eq!(drawn.keys().cloned().collect::<Vec<_>>(), ["g0", "g1"]);
        // g1: sigmoid(3)/2 = 0.476; g0: sigmoid(-3)/3 = 0.016.
        assert!(drawn["g1"] > 900, "{drawn:?}");
        assert_eq!(choose_parent(&archive, 7).id, choose_parent(&archive, 7).id);
    }
}
