//! Checks across a whole agent set: handoff targets and cycles, pipeline stages naming agents
//! that exist and return what the stage promises, and the pipelines Nova's commands need.

use std::collections::BTreeSet;

use super::builtin::REQUIRED_PIPELINES;
use super::definition::{AgentDef, Role};
use super::pipeline::{Flow, Mode, Pipeline};
use super::registry::AgentSet;
use crate::diag::{self, Problem};

/// Every problem of the set: those met while reading its files, then those across files, in a
/// stable order (by file, then line).
pub fn check(set: &AgentSet) -> Vec<Problem> {
    let mut problems = set.read_problems().to_vec();
    let names: Vec<&str> = set.agents().map(|agent| agent.name.as_str()).collect();

    for agent in set.agents() {
        check_handoffs(agent, &names, &mut problems);
    }
    check_cycles(set, &mut problems);
    for pipeline in set.pipelines() {
        check_pipeline(set, pipeline, &names, &mut problems);
    }
    for required in REQUIRED_PIPELINES {
        if set.pipeline(required).is_none() {
            let message = format!("the `{required}` pipeline is missing; Nova's commands need it");
            problems.push(Problem::new("agents/pipelines", None, message));
        }
    }

    problems.sort_by(|a, b| (&a.path, a.line).cmp(&(&b.path, b.line)));
    problems.dedup();
    problems
}

fn unknown_agent(name: &str, names: &[&str]) -> String {
    match diag::closest(name, names.iter().copied()) {
        Some(best) => format!("unknown agent `{name}`; did you mean `{best}`?"),
        None => format!("unknown agent `{name}`; `nova agents list` shows the agents there are"),
    }
}

fn check_handoffs(agent: &AgentDef, names: &[&str], problems: &mut Vec<Problem>) {
    let path = agent.origin.path();
    for (index, target) in agent.handoff.iter().enumerate() {
        let line = agent.lines.handoff.get(index).copied();
        if target == &agent.name {
            let message = format!("agent `{target}` hands off to itself");
            problems.push(Problem::new(path, line, message));
        } else if !names.contains(&target.as_str()) {
            problems.push(Problem::new(path, line, unknown_agent(target, names)));
        }
    }
}

/// Finds each cycle in the handoff graph once, reported at the alphabetically first agent on it.
fn check_cycles(set: &AgentSet, problems: &mut Vec<Problem>) {
    let mut reported: BTreeSet<Vec<String>> = BTreeSet::new();
    for start in set.agents() {
        let mut path = vec![start.name.clone()];
        walk(set, start, &mut path, &mut reported, problems);
    }
}

fn walk(
    set: &AgentSet,
    agent: &AgentDef,
    path: &mut Vec<String>,
    reported: &mut BTreeSet<Vec<String>>,
    problems: &mut Vec<Problem>,
) {
    for target in &agent.handoff {
        if target == &agent.name {
            continue; // reported as a handoff to itself
        }
        if let Some(position) = path.iter().position(|name| name == target) {
            let cycle = &path[position..];
            let mut key = cycle.to_vec();
            key.sort();
            if reported.insert(key) {
                let first = cycle.iter().min().expect("a cycle has at least one agent");
                let at = cycle
                    .iter()
                    .position(|n| n == first)
                    .expect("first is on the cycle");
                let mut names: Vec<&str> = cycle[at..]
                    .iter()
                    .chain(&cycle[..at])
                    .map(String::as_str)
                    .collect();
                names.push(first);
                let owner = set.agent(first).expect("agents on a path exist");
                let message = format!("handoff cycle: {}", names.join(" -> "));
                problems.push(Problem::new(
                    owner.origin.path(),
                    Some(owner.lines.name),
                    message,
                ));
            }
            continue;
        }
        if let Some(next) = set.agent(target) {
            path.push(target.clone());
            walk(set, next, path, reported, problems);
            path.pop();
        }
    }
}

fn check_pipeline(
    set: &AgentSet,
    pipeline: &Pipeline,
    names: &[&str],
    problems: &mut Vec<Problem>,
) {
    let path = pipeline.origin.path();
    for stage in &pipeline.stages {
        for (index, name) in stage.agents.iter().enumerate() {
            let line = stage.lines.agents.get(index).copied();
            let Some(agent) = set.agent(name) else {
                let message = format!("stage `{}`: {}", stage.name, unknown_agent(name, names));
                problems.push(Problem::new(path, line, message));
                continue;
            };
            let flow = Flow::of(agent.output);
            if !stage.output.contains(&flow) {
                let message = format!(
                    "stage `{}`: agent `{name}` returns `{}`, which is not among the stage's outputs",
                    stage.name,
                    agent.output.as_str()
                );
                problems.push(Problem::new(path, line, message));
            }
            if stage.mode == Mode::Route && stage.input != Flow::Plan {
                let message = format!("stage `{}` routes, so it must read a `plan`", stage.name);
                problems.push(Problem::new(path, line, message));
            }
        }
        if let Some(repair) = &stage.repair {
            let line = stage.lines.repair;
            match set.agent(repair) {
                None => {
                    let message = format!(
                        "stage `{}`: repair {}",
                        stage.name,
                        unknown_agent(repair, names)
                    );
                    problems.push(Problem::new(path, line, message));
                }
                Some(agent) if agent.role != Role::Fixer => {
                    let message = format!(
                        "stage `{}`: repair agent `{repair}` is a {}, not a fixer",
                        stage.name, agent.role
                    );
                    problems.push(Problem::new(path, line, message));
                }
                Some(_) => {}
            }
        }
    }
}
