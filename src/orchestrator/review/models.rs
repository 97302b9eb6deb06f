//! The review's model reviewers: each enabled reviewer of the `review` pipeline that can report
//! findings runs as an agent, through the one agent runtime `nova ask` uses (its agent named, no
//! one to hand work to, nothing to prove), over the repository or over what changed since the
//! base. What it reports, in what the review looks at, joins the rules' findings. Model reviewers
//! read the committed tree (`HEAD`), as every agent's tools do.

use std::fmt::Write as _;

use super::{Review, touches};
use crate::agents::AgentSet;
use crate::findings::Finding;
use crate::git::ChangedLines;
use crate::llm::{Provider, Usage};
use crate::orchestrator::ask::{AskError, AskRequest, ask};
use crate::orchestrator::events::Event;

/// One model reviewer's run.
#[derive(Debug, Clone)]
pub struct ModelReview {
    pub agent: String,
    /// Its run in the archive (`nova runs show`).
    pub run: Option<String>,
    /// How many findings it reported in what the review looks at.
    pub findings: usize,
    pub usage: Usage,
    pub cost_usd: Option<f64>,
    /// Why it stopped before finishing (a budget, the loop guard), if it did; what it reported
    /// before stopping is not kept.
    pub stopped: Option<String>,
}

impl Review {
    /// Runs every reviewer that has `report_finding` with the model `template` names, one after
    /// another, and adds what they report. A reviewer stopped by a budget or the loop guard is
    /// recorded and the others still run; a provider's error ends the review.
    pub async fn models(
        &mut self,
        set: &AgentSet,
        template: &AskRequest,
        provider: &dyn Provider,
        sink: &mut (dyn FnMut(&Event) + Send),
    ) -> Result<(), AskError> {
        let task = task(self.base.as_deref(), self.changed.as_ref());
        let reviewers: Vec<String> = self
            .reviewers
            .iter()
            .filter(|name| {
                set.agent(name)
                    .is_some_and(|agent| agent.tools.iter().any(|t| t == "report_finding"))
            })
            .cloned()
            .collect();
        for name in reviewers {
            let request = AskRequest {
                question: task.clone(),
                agent: Some(name.clone()),
                // Findings only: every other agent is out of reach, so there is no one to hand
                // the work to, and no change can be made.
                disabled: set
                    .agents()
                    .filter(|agent| agent.name != name)
                    .map(|agent| agent.name.clone())
                    .collect(),
                validation: None,
                resume: None,
                explain_route: false,
                ..template.clone()
            };
            let run = match ask(&request, set, provider, sink).await {
                Ok(outcome) => {
                    let found: Vec<Finding> = outcome
                        .findings
                        .into_iter()
                        .filter(|f| {
                            touches(
                                self.changed.as_ref(),
                                f.path.as_str(),
                                f.span.line_start,
                                f.span.line_end,
                            )
                        })
                        .collect();
                    let run = ModelReview {
                        agent: name,
                        run: outcome.run,
                        findings: found.len(),
                        usage: outcome.usage,
                        cost_usd: outcome.cost_usd,
                        stopped: None,
                    };
                    self.findings.extend(found);
                    run
                }
                Err(AskError::Stopped { why, run, .. }) => ModelReview {
                    agent: name,
                    run,
                    findings: 0,
                    usage: Usage::default(),
                    cost_usd: None,
                    stopped: Some(why),
                },
                Err(error) => return Err(error),
            };
            self.models.push(run);
        }
        Ok(())
    }
}

/// What a model reviewer is asked: the repository, or the lines changed since the base.
pub(crate) fn task(base: Option<&str>, changed: Option<&ChangedLines>) -> String {
    let mut task = match (base, changed) {
        (Some(rev), Some(changed)) => {
            let mut scope = format!(
                "Review the changes since `{rev}`: only these lines are under review, though you \
                 may read anything around them.\n"
            );
            for (path, ranges) in changed.iter().filter(|(path, _)| path.ends_with(".rs")) {
                let ranges: Vec<String> = ranges
                    .iter()
                    .map(|(from, to)| {
                        if from == to {
                            from.to_string()
                        } else {
                            format!("{from}-{to}")
                        }
                    })
                    .collect();
                let _ = writeln!(scope, "- `{path}`: lines {}", ranges.join(", "));
            }
            scope
        }
        _ => String::from(
            "Review this repository: start from the code that matters most (the map shows it), \
             and read what you report on.\n",
        ),
    };
    task.push_str(
        "Report each problem your instructions name once, with `report_finding` (path, line, \
         severity, message, and a short kebab-case `rule`), then call `finish` with one line \
         summing up your review. Findings only: change nothing and hand nothing on.",
    );
    task
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diff_review_names_the_changed_lines_of_rust_files() {
        let mut changed = ChangedLines::new();
        changed.insert(String::from("src/lib.rs"), vec![(3, 3), (10, 14)]);
        changed.insert(String::from("README.md"), vec![(1, 2)]);
        let said = task(Some("main"), Some(&changed));
        assert!(
            said.starts_with("Review the changes since `main`"),
            "{said}"
        );
        assert!(said.contains("- `src/lib.rs`: lines 3, 10-14\n"), "{said}");
        assert!(!said.contains("README"), "{said}");
        assert!(task(None, None).starts_with("Review this repository"));
    }
}
