//! The orchestrator: runs pipelines. It walks the stages a pipeline file declares, hands each
//! agent its work, passes typed results between stages, and decides what is accepted.
//!
//! Owns: the improve run (review, refactor, validate, describe, commit), its events, budgets and
//! acceptance.
//! Never: talks HTTP or spawns processes itself: `validate` runs cargo, `git` writes commits,
//! `store` keeps the record.

mod agent;
mod agents_md;
mod apply;
mod ask;
mod brain;
mod change;
mod clock;
mod events;
mod handoff;
mod improve;
mod landing;
mod memory;
mod message;
mod prover;
mod recorder;
mod resume;
mod review;
mod route;

pub use agent::RunLimits;
pub use agents_md::AgentsMd;
pub use apply::{ApplyError, ApplyOutcome, ApplyRequest, Prepared, apply, prepare};
pub use ask::{
    ASK_PIPELINE, AskError, AskOutcome, AskRequest, ChangeOutcome, OnTip, ask, explain_offline,
};
pub use brain::ModelBrain;
pub use change::{Author, Base, Candidate, ChangePath, Origin, Proof, Target};
pub use clock::{now, stamp};
pub use events::Event;
pub use improve::{
    CommitInfo, Grouping, ImproveError, ImproveOutcome, ImproveRequest, MAX_PASSES, improve,
};
pub use resume::ResumeError;
pub use review::{
    BASELINE_FILE, ModelReview, REVIEW_PIPELINE, Review, ReviewError, ReviewOutcome, ReviewRequest,
    review, scan_tree, write_baseline,
};
pub use route::stems as route_stems;

/// Runs `work` off the async threads (git2, tree-sitter, builds); a panic there goes on here.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
    match tokio::task::spawn_blocking(work).await {
        Ok(done) => done,
        Err(panic) => std::panic::resume_unwind(panic.into_panic()),
    }
}
