//! A finding that needs more than one change: the planner's steps, each proposed by the
//! refactorer on the tip the step before it left, proved and committed on its own. A step that
//! cannot be made or is refused (after its repairs) ends the plan: the steps after it build on
//! it.

use super::group::{repaired, stop, what};
use super::{Refusal, Run, Tried, skip, try_one};
use crate::findings::Finding;
use crate::index::Index;
use crate::orchestrator::brain::{Proposal, Refactorer, TipView};
use crate::orchestrator::change::ChangePath;
use crate::orchestrator::improve::ImproveError;

/// The plan the planner made for one finding.
pub(super) struct Plan {
    pub finding: Finding,
    /// The finding's number in the run.
    pub number: usize,
    pub goal: String,
    pub steps: Vec<String>,
}

/// Proposes, proves and commits the plan's steps in order, until one fails.
pub(super) fn carry_out(
    run: &mut Run<'_>,
    path: &mut ChangePath,
    refactorer: &mut dyn Refactorer,
    index: &Index,
    plan: &Plan,
) -> Result<(), ImproveError> {
    let total = plan.steps.len();
    for n in 1..=total {
        let left = |run: &mut Run<'_>, why: String| {
            let what = format!(
                "{} (step {n} of {total}: {})",
                what(&plan.finding),
                plan.goal
            );
            run.outcome.left.push((what, why));
        };
        if let Some(reason) = stop(run, refactorer) {
            left(run, reason);
            break;
        }
        let mut view = TipView::of(path, index);
        let proposal = refactorer.propose_step(&plan.finding, &plan.steps, n, &mut view);
        run.relay(refactorer)?;
        let place = run.next_place(plan.number, 1);
        let mut candidate = match proposal? {
            Proposal::Candidate(candidate) => *candidate,
            Proposal::Nothing { reason, .. } => {
                skip(run, place, &plan.finding, reason)?;
                break;
            }
            Proposal::Plan { .. } => {
                let reason = format!("step {n} of its plan asked for a plan of its own");
                skip(run, place, &plan.finding, reason)?;
                break;
            }
        };
        candidate.patch.summary = format!("Step {n} of {total}: {}", candidate.patch.summary);
        if let Some(rejection) = path.guard(&candidate).into_iter().next() {
            skip(run, place, &plan.finding, rejection.message)?;
            break;
        }
        if let Tried::Refused(Refusal { reasons, .. }) =
            try_one(run, path, refactorer, &candidate, place, 1)?
        {
            let tried = (&candidate, plan.number);
            if !repaired(run, path, refactorer, index, tried, reasons)? {
                if n < total {
                    let what = format!(
                        "{} (the rest of its plan: {})",
                        what(&plan.finding),
                        plan.goal
                    );
                    let why = format!("step {n} of {total} was refused");
                    run.outcome.left.push((what, why));
                }
                break;
            }
        }
    }
    Ok(())
}
