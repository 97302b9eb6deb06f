//! Self-improvement: task sets with hidden checks (`nova bench`), and, on top of them, the frozen
//! evaluator, variants of an agent set and the archive of their lineage (`nova evolve`).
//!
//! Owns: what a task is and how a set of them is made, kept and split.
//! Never: lets the agents being judged reach what judges them (a task's checks stay here and in
//! the set's file, never in the tree an agent works on).

pub mod accept;
pub mod check;
pub mod code;
pub mod frozen;
pub mod generation;
pub mod history;
pub mod lineage;
pub mod make;
pub mod propose;
pub mod report;
pub mod run;
pub mod tasks;
pub mod variant;
pub mod worker;

pub use check::{CheckError, Checker, Score};
pub use frozen::Evaluator;
pub use make::{Made, MakeError, MakeRequest, Progress, Tried, make};
pub use run::{RunError, RunProgress, RunRequest, TaskRun, run};
pub use tasks::{FORMAT, Source, Split, Task, TaskSet, TaskSetError};
pub use worker::{Worked, Worker};

use std::path::Path;

use crate::edit::Patch;
use crate::git::Oid;
use crate::orchestrator::{Author, Candidate, ChangePath, Origin, Target};
use crate::validate::{Options, ValidateError, ValidationReport};

/// The change path at `commit`, for trees that are proved and never committed (a defect, a
/// fix's tests, the agents' tree under the checks), with the commit's own proof.
fn prover(
    root: &Path,
    commit: Oid,
    options: Options,
) -> Result<(ChangePath, ValidationReport), ValidateError> {
    let target = Target {
        branch: String::from("nova/bench"),
        dry_run: true,
        run: String::from("bench"),
        time: 0,
    };
    let (path, base) = ChangePath::open(root, commit, options, target)?;
    Ok((path, base.report))
}

/// `patch` as a candidate to prove, never to commit: its origin only names it.
fn to_prove(patch: Patch) -> Candidate {
    Candidate {
        patch,
        author: Author::Person { rewrite: false },
        origin: Origin::Reply,
        message: None,
    }
}

/// Proves `candidate` on `path`'s tip and leaves the worktree at the tip whatever the verdict.
fn prove_only(
    path: &mut ChangePath,
    candidate: &Candidate,
) -> Result<crate::orchestrator::Proof, ValidateError> {
    let proof = path.prove(candidate)?;
    if proof.verdict.accepted {
        path.put_back(candidate)?;
    }
    Ok(proof)
}
