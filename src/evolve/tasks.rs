//! Task sets: what `nova bench` runs agents on. A task is a repository at a commit, a defect put
//! into it (or, from history, the tree before a fix), a statement a user would write, and the
//! hidden checks that say whether it was solved. The agents see the repository and the statement,
//! never the checks.
//!
//! A set is one JSON file, made by `nova bench make` from a seed and the same for the same
//! repository, commit, seed and machine: nothing in it says when or where it was made.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::rules::mutate::Mutant;

/// The format of the file; a set of another format is refused with what to do.
pub const FORMAT: u32 = 1;

/// A set of tasks made from one repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TaskSet {
    pub format: u32,
    /// The seed that chose the tasks and their split.
    pub seed: u64,
    /// The share of tasks kept out of training (`nova evolve` never selects on them), in percent.
    pub held_out_percent: u8,
    /// The repository the tasks' commits are in.
    pub repository: PathBuf,
    /// The tests (`package (target) name`) that pass on each reference tree, by commit: a task is
    /// solved when every test that passes on its reference passes on the agents' tree.
    pub passing: BTreeMap<String, Vec<String>>,
    pub tasks: Vec<Task>,
}

/// One task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Task {
    /// `mutant-<hash>` or `history-<commit>`: stable for the same task.
    pub id: String,
    pub split: Split,
    /// The commit the task's tree is made from.
    pub commit: String,
    /// How the task's tree differs from `commit`'s, and where its checks come from.
    pub source: Source,
    /// What a user would write to ask for the fix.
    pub statement: String,
    /// The tree whose passing tests are the checks (`TaskSet::passing`): the commit before the
    /// defect, or the commit that fixed the failing test.
    pub reference: String,
    /// The tests that fail on the task's tree and pass on the reference: what the fix must mend.
    pub fail_to_pass: Vec<String>,
    /// Tests that pass on the reference but are not checked: a fix from history that added a
    /// test inside the code it changed (the agents cannot be asked to write that very test).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unchecked: Vec<String>,
}

/// Where a task comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Source {
    /// A defect seeded into `path` (`rules::mutate`): bytes `start..end` replaced.
    Mutant {
        path: String,
        operator: String,
        line: usize,
        start: usize,
        end: usize,
        replacement: String,
    },
    /// A commit that made a failing test pass: the task's tree is its parent's, and the checks
    /// run with `test_files` as the fix left them.
    History {
        fix: String,
        test_files: Vec<String>,
    },
}

/// Which side of the split a task is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// Tasks a variant may be selected on.
    Train,
    /// Tasks only reports look at.
    HeldOut,
}

impl Split {
    pub fn name(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::HeldOut => "held-out",
        }
    }
}

impl Source {
    /// The source of a seeded defect in `path`.
    pub fn mutant(path: &str, mutant: &Mutant) -> Source {
        Source::Mutant {
            path: path.to_owned(),
            operator: mutant.operator.name().to_owned(),
            line: mutant.line,
            start: mutant.bytes.start,
            end: mutant.bytes.end,
            replacement: mutant.replacement.clone(),
        }
    }

    /// `mutant`, `history`.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Mutant { .. } => "mutant",
            Source::History { .. } => "history",
        }
    }
}

impl Task {
    /// The id of a task from `source` on `commit`: the same task, the same id.
    pub fn id_of(commit: &str, source: &Source) -> String {
        match source {
            Source::Mutant {
                path,
                start,
                end,
                replacement,
                ..
            } => {
                let hash = crate::hash::fnv1a_parts([
                    commit.as_bytes(),
                    path.as_bytes(),
                    &start.to_le_bytes(),
                    &end.to_le_bytes(),
                    replacement.as_bytes(),
                ]);
                format!("mutant-{:08x}", hash & 0xffff_ffff)
            }
            Source::History { fix, .. } => format!("history-{}", &fix[..fix.len().min(12)]),
        }
    }

    /// The tests that must pass on the agents' tree: every one that passes on the reference, but
    /// those `unchecked`.
    pub fn checks<'a>(&self, set: &'a TaskSet) -> Vec<&'a str> {
        set.passing
            .get(&self.reference)
            .into_iter()
            .flatten()
            .filter(|key| !self.unchecked.contains(key))
            .map(String::as_str)
            .collect()
    }
}

/// Puts `percent` of `tasks` (rounded, at least one when there are two or more and `percent` is
/// not zero) on the held-out side, chosen by `seed` and each task's id alone: adding a task does
/// not move the others much, and the same inputs give the same split.
pub fn assign_splits(tasks: &mut [Task], seed: u64, percent: u8) {
    let n = tasks.len();
    let mut held = (n * usize::from(percent) + 50) / 100;
    if percent > 0 && n >= 2 {
        held = held.max(1);
    }
    held = held.min(n.saturating_sub(usize::from(percent < 100)));
    let mut order: Vec<(u64, usize)> = tasks
        .iter()
        .enumerate()
        .map(|(at, task)| {
            let key = crate::hash::fnv1a_parts([&seed.to_le_bytes()[..], task.id.as_bytes()]);
            (key, at)
        })
        .collect();
    order.sort_unstable();
    for (rank, (_, at)) in order.into_iter().enumerate() {
        tasks[at].split = if rank < held {
            Split::HeldOut
        } else {
            Split::Train
        };
    }
}

/// Why a task set could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum TaskSetError {
    #[error("cannot read the task set `{path}`: {error}")]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("`{path}` is not a task set: {error} (make one with `nova bench make`)")]
    Parse {
        path: PathBuf,
        error: serde_json::Error,
    },
    #[error(
        "`{path}` is a task set of format {found}; this Nova reads format {FORMAT}: make it again \
         with `nova bench make`"
    )]
    Format { path: PathBuf, found: u32 },
    #[error("cannot write the task set `{path}`: {error}")]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
}

impl TaskSet {
    pub fn load(path: &Path) -> Result<TaskSet, TaskSetError> {
        let text = std::fs::read_to_string(path).map_err(|error| TaskSetError::Read {
            path: path.to_owned(),
            error,
        })?;
        // The format first, so that a set from another Nova says so instead of a field error.
        let format = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|value| value.get("format")?.as_u64());
        if let Some(found) = format
            && found != u64::from(FORMAT)
        {
            return Err(TaskSetError::Format {
                path: path.to_owned(),
                found: u32::try_from(found).unwrap_or(u32::MAX),
            });
        }
        serde_json::from_str(&text).map_err(|error| TaskSetError::Parse {
            path: path.to_owned(),
            error,
        })
    }

    /// Writes the set as pretty JSON, atomically: a crash leaves the old file or the new one.
    pub fn save(&self, path: &Path) -> Result<(), TaskSetError> {
        let failed = |error| TaskSetError::Write {
            path: path.to_owned(),
            error,
        };
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(failed)?;
        }
        let mut text = serde_json::to_string_pretty(self)
            .map_err(std::io::Error::other)
            .map_err(failed)?;
        text.push('\n');
        let partial = path.with_extension("json.partial");
        std::fs::write(&partial, text).map_err(failed)?;
        std::fs::rename(&partial, path).map_err(failed)
    }

    /// The tasks on one side of the split.
    pub fn split(&self, split: Split) -> impl Iterator<Item = &Task> {
        self.tasks.iter().filter(move |task| task.split == split)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(id: &str) -> Task {
        Task {
            id: id.to_owned(),
            split: Split::Train,
            commit: String::from("c"),
            source: Source::History {
                fix: String::from("f"),
                test_files: Vec::new(),
            },
            statement: String::new(),
            reference: String::from("f"),
            fail_to_pass: Vec::new(),
            unchecked: Vec::new(),
        }
    }

    #[test]
    fn the_split_is_the_share_asked_and_depends_on_seed_and_ids_only() {
        let mut tasks: Vec<Task> = (0..20).map(|i| task(&format!("t{i}"))).collect();
        assign_splits(&mut tasks, 7, 25);
        let held: Vec<&str> = tasks
            .iter()
            .filter(|t| t.split == Split::HeldOut)
            .map(|t| t.id.as_str())
            .collect();
        assert_eq!(held.len(), 5);
        let mut reversed: Vec<Task> = tasks.iter().rev().cloned().collect();
        assign_splits(&mut reversed, 7, 25);
        let mut again: Vec<&str> = reversed
            .iter()
            .filter(|t| t.split == Split::HeldOut)
            .map(|t| t.id.as_str())
            .collect();
        again.reverse();
        assert_eq!(held, again, "the order of the tasks does not choose");
        let mut other = tasks.clone();
        assign_splits(&mut other, 8, 25);
        assert_ne!(
            held,
            other
                .iter()
                .filter(|t| t.split == Split::HeldOut)
                .map(|t| t.id.as_str())
                .collect::<Vec<_>>(),
            "another seed, another split"
        );
    }

    #[test]
    fn small_sets_keep_both_sides() {
        let mut two = vec![task("a"), task("b")];
        assign_splits(&mut two, 1, 10);
        assert_eq!(two.iter().filter(|t| t.split == Split::HeldOut).count(), 1);
        let mut one = vec![task("a")];
        assign_splits(&mut one, 1, 50);
        assert_eq!(one[0].split, Split::Train, "one task is trained on");
        let mut none = vec![task("a"), task("b")];
        assign_splits(&mut none, 1, 0);
        assert!(none.iter().all(|t| t.split == Split::Train));
    }

    #[test]
    fn a_set_round_trips_and_another_format_says_what_to_do() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sets/tasks.json");
        let set = TaskSet {
            format: FORMAT,
            seed: 3,
            held_out_percent: 20,
            repository: PathBuf::from("/r"),
            passing: BTreeMap::from([(String::from("f"), vec![String::from("p (lib) t")])]),
            tasks: vec![task("a")],
        };
        set.save(&path).expect("saved");
        assert_eq!(TaskSet::load(&path).expect("loaded"), set);
        assert_eq!(set.tasks[0].checks(&set), ["p (lib) t"]);
        std::fs::write(&path, r#"{"format": 9, "tasks": []}"#).expect("write");
        let error = TaskSet::load(&path).expect_err("refused").to_string();
        assert!(
            error.contains("format 9") && error.contains("nova bench make"),
            "{error}"
        );
        std::fs::write(&path, "{").expect("write");
        let error = TaskSet::load(&path).expect_err("refused").to_string();
        assert!(error.contains("is not a task set"), "{error}");
    }
}
