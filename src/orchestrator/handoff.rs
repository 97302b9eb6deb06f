//! Handoffs between agents: who may receive work in a pipeline (with what each role accepts),
//! how long a chain may grow, and the task a receiver is given, built from the typed message
//! (the sender's findings, its candidate, its plan, or the task) and the original request.

use super::events::Event;
use crate::agents::{AgentSet, Flow, Pipeline};
use crate::findings::Finding;
use crate::tools::{Handoff, Handoffs};

/// The most agents one request passes through by handoffs (the router's choice included); a
/// pipeline's repair steps are bounded by their own `attempts`.
pub const MAX_HOPS: usize = 4;

/// Every enabled agent of `pipeline`'s agent stages, and every enabled domain agent, with its
/// role: who may be handed work.
pub fn receivers(
    pipeline: &Pipeline,
    set: &AgentSet,
    disabled: &[String],
) -> Vec<(String, crate::agents::Role)> {
    let mut receivers: Vec<(String, crate::agents::Role)> = Vec::new();
    for stage in &pipeline.stages {
        for name in &stage.agents {
            if disabled.contains(name) || receivers.iter().any(|(n, _)| n == name) {
                continue;
            }
            if let Some(agent) = set.agent(name) {
                receivers.push((name.clone(), agent.role));
            }
        }
    }
    // Domain agents take work about their parts, whichever pipeline runs.
    for agent in set.agents() {
        if agent.part.is_some()
            && !disabled.contains(&agent.name)
            && !receivers.iter().any(|(n, _)| *n == agent.name)
        {
            receivers.push((agent.name.clone(), agent.role));
        }
    }
    receivers
}

/// The enabled domain agents, by name: a router may hand a request to any of them.
pub fn domains(set: &AgentSet, disabled: &[String]) -> Vec<String> {
    set.agents()
        .filter(|a| a.part.is_some() && !disabled.contains(&a.name))
        .map(|a| a.name.clone())
        .collect()
}

/// Where a request's work has been: the chain of agents, for the next toolbox's rules.
#[derive(Debug, Clone)]
pub struct Chain {
    pub receivers: Vec<(String, crate::agents::Role)>,
    /// The domain agents among the receivers: a router may hand a request to them.
    pub open: Vec<String>,
    pub agents: Vec<String>,
}

impl Chain {
    pub fn new(receivers: Vec<(String, crate::agents::Role)>, first: &str) -> Self {
        Chain {
            receivers,
            open: Vec::new(),
            agents: vec![first.to_owned()],
        }
    }

    /// A router holding the work may also hand it to `domains`.
    #[must_use]
    pub fn with_domains(mut self, domains: Vec<String>) -> Self {
        self.open = domains;
        self
    }

    /// The handoff rules for the agent now holding the work.
    pub fn rules(&self) -> Handoffs {
        Handoffs {
            receivers: self.receivers.clone(),
            open: self.open.clone(),
            chain: self.agents.clone(),
            hops_left: MAX_HOPS.saturating_sub(self.agents.len()),
        }
    }

    /// Records the hop and says so.
    pub fn hop(&mut self, from: &str, handoff: &Handoff) -> Event {
        self.agents.push(handoff.to.clone());
        Event::Handoff {
            from: from.to_owned(),
            to: handoff.to.clone(),
            message: handoff.flow.as_str().to_owned(),
            attempt: 0,
            why: handoff.message.clone(),
        }
    }
}

/// The receiver's task: what the sender asked of it, what the handoff carries, and the request
/// it all started from.
pub fn task(from: &str, handoff: &Handoff, findings: &[Finding], request: &str) -> String {
    let mut task = format!("`{from}` handed you this work: {}\n", handoff.message);
    match handoff.flow {
        Flow::Findings => {
            task.push_str("\nThe findings it reported:\n");
            for finding in findings {
                task.push_str(&format!(
                    "- {} [{}] {}{}: {}\n",
                    finding.location(),
                    finding.severity.as_str(),
                    finding.rule,
                    finding
                        .symbol
                        .as_deref()
                        .map(|s| format!(" in `{s}`"))
                        .unwrap_or_default(),
                    finding.message
                ));
            }
        }
        Flow::Patches => task.push_str(
            "\nIts change is already in your candidate: `git_diff` shows it, and your reads see \
             it.\n",
        ),
        _ => {}
    }
    task.push_str(&format!("\nThe request it started from: {request}\n"));
    task
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ask_pipeline_names_its_receivers_and_chains_are_bounded() {
        let set = AgentSet::builtin();
        let pipeline = set.pipeline("ask").expect("built in");
        let all = receivers(pipeline, &set, &[]);
        assert!(all.iter().any(|(n, _)| n == "refactorer"));
        assert!(all.iter().any(|(n, _)| n == "committer"));
        let without = receivers(pipeline, &set, &["refactorer".to_owned()]);
        assert!(!without.iter().any(|(n, _)| n == "refactorer"));
        let mut chain = Chain::new(all, "router");
        assert_eq!(chain.rules().hops_left, MAX_HOPS - 1);
        for to in ["chat", "planner", "refactorer"] {
            let handoff = Handoff {
                to: to.to_owned(),
                flow: Flow::Task,
                message: String::from("go"),
            };
            chain.hop("x", &handoff);
        }
        assert_eq!(chain.rules().hops_left, 0);
    }
}
