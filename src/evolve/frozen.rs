//! The frozen evaluator: what judges agent sets, pinned by content hash when a run starts and
//! read from a copy under `.nova/bench/frozen/` that the agents cannot reach (their tools read
//! the scratch repository, their commands run in the sandbox, which reads neither). It is the
//! task set (its statements, references and checks) and the build of Nova that proves trees
//! (the acceptance rule is its code); the tests the checks run are in the reference commits,
//! pinned by their ids. The hash goes into every result.

use std::path::{Path, PathBuf};

use super::tasks::{TaskSet, TaskSetError};

/// The pinned evaluator of one run.
#[derive(Debug, Clone)]
pub struct Evaluator {
    /// `fnv1a` of the task set's bytes and of the running executable's, in hex.
    pub hash: String,
    /// The task set's own hash, in hex: results are compared only on the same set.
    pub set_hash: String,
    /// The set, as read from the frozen copy.
    pub set: TaskSet,
    /// The frozen copy.
    pub path: PathBuf,
}

impl Evaluator {
    /// Pins the task set at `set_path` (and this build of Nova): copies it, read-only, to
    /// `state/bench/frozen/<hash>.json` and reads it from there.
    pub fn pin(set_path: &Path, state: &Path) -> Result<Evaluator, TaskSetError> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|error| TaskSetError::Read {
                path: path.to_owned(),
                error,
            })
        };
        let bytes = read(set_path)?;
        let set_hash = format!("{:016x}", crate::hash::fnv1a(&bytes));
        // The build that proves trees is part of what judges: another build, another evaluator.
        let exe = std::env::current_exe()
            .ok()
            .and_then(|exe| std::fs::read(exe).ok())
            .unwrap_or_default();
        let hash = format!("{:016x}", crate::hash::fnv1a_parts([&bytes[..], &exe[..]]));
        let dir = state.join("bench").join("frozen");
        let path = dir.join(format!("{hash}.json"));
        let failed = |error| TaskSetError::Write {
            path: path.clone(),
            error,
        };
        if read(&path).ok().as_deref() != Some(&bytes[..]) {
            std::fs::create_dir_all(&dir).map_err(failed)?;
            if path.exists() {
                let mut writable = std::fs::metadata(&path).map_err(failed)?.permissions();
                #[expect(
                    clippy::permissions_set_readonly_false,
                    reason = "a damaged frozen copy is replaced by the pinned bytes"
                )]
                writable.set_readonly(false);
                std::fs::set_permissions(&path, writable).map_err(failed)?;
            }
            std::fs::write(&path, &bytes).map_err(failed)?;
        }
        let mut readonly = std::fs::metadata(&path).map_err(failed)?.permissions();
        readonly.set_readonly(true);
        std::fs::set_permissions(&path, readonly).map_err(failed)?;
        let set = TaskSet::load(&path)?;
        Ok(Evaluator {
            hash,
            set_hash,
            set,
            path,
        })
    }
}
