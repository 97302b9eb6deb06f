//! Work across a boundary: a domain agent whose change needs files another domain agent owns asks
//! that owner (`request_change`: what, why, the interface both rely on) and waits. The owner works
//! on the asker's candidate, within its own write scope; when it is done its change is in the
//! candidate, the asker goes on from where it stopped, told what the owner did, and the change
//! lands as one candidate whose commit names every agent that wrote it.

use super::{Holder, Scene};
use crate::agents::{AgentDef, AgentSet};
use crate::edit::Patch;
use crate::edit::guard::Scope;
use crate::llm::Message;
use crate::orchestrator::agent::Conversation;
use crate::orchestrator::events::Event;
use crate::orchestrator::handoff::MAX_HOPS;
use crate::orchestrator::memory::TaskMemory;
use crate::orchestrator::recorder::Recorder;
use crate::orchestrator::resume::Waited;
use crate::tools::{ChangeRequest, Requests, Toolbox};

/// An agent waiting for the part it asked of another owner: where it stopped.
pub(super) struct Waiting<'a> {
    agent: &'a AgentDef,
    task: String,
    why: Option<String>,
    conversation: Conversation,
    memory: TaskMemory,
    /// Its candidate when it asked.
    candidate: Option<Patch>,
}

/// The enabled domain agents with their write scopes: who may be asked for a change.
fn owners(set: &AgentSet, disabled: &[String]) -> Vec<(String, Scope)> {
    set.agents()
        .filter(|a| a.part.is_some() && !disabled.contains(&a.name))
        .map(|a| (a.name.clone(), Scope::new(&a.scope.write)))
        .collect()
}

/// The parts of the repository and their owners, for the prompt of an agent that may ask them
/// for changes.
pub(super) fn owners_prompt(scene: &Scene<'_>, agent: &AgentDef) -> String {
    let mut text = String::from(
        "\n## The owners of the repository's parts\n\nA file outside your write scope is its \
         owner's: ask for a change there with `request_change`.\n\n",
    );
    for other in scene.set.agents() {
        let Some(part) = &other.part else { continue };
        if other.name == agent.name || scene.request.disabled.contains(&other.name) {
            continue;
        }
        text.push_str(&format!(
            "- `{}` owns `{part}` ({})\n",
            other.name,
            other.scope.write.join(", ")
        ));
    }
    text
}

/// The owner's task: what it was asked, by whom and why, the interface, and the request it all
/// started from.
fn task(from: &str, asked: &ChangeRequest, request: &str) -> String {
    let mut task = format!(
        "`{from}` needs a change in your part for its own, and asks you to make it.\n\n\
         Change: {}\nWhy: {}\nFiles: {}\n",
        asked.change,
        asked.why,
        asked.paths.join(", ")
    );
    if !asked.interface.is_empty() {
        task.push_str(&format!(
            "The interface both of you rely on: {}\n",
            asked.interface
        ));
    }
    task.push_str(
        "\nIts change so far is in your candidate (`git_diff` shows it). Change only your own \
         files, keep to the interface, and `finish` saying what you changed.\n",
    );
    task.push_str(&format!("\nThe request it started from: {request}\n"));
    task
}

/// The files whose text differs between two candidates.
fn changed_between(before: Option<&Patch>, after: Option<&Patch>) -> Vec<String> {
    let text = |patch: Option<&Patch>, path: &str| {
        patch.and_then(|p| {
            p.changes
                .iter()
                .find(|c| c.path.as_str() == path)
                .map(|c| c.after.clone())
        })
    };
    let mut paths: Vec<String> = before
        .into_iter()
        .chain(after)
        .flat_map(|p| p.changes.iter().map(|c| c.path.to_string()))
        .collect();
    paths.sort();
    paths.dedup();
    paths
        .into_iter()
        .filter(|path| text(before, path) != text(after, path))
        .collect()
}

/// The waiting agents of a checkpoint, as the run goes on with them (one whose file is gone is
/// left out: the owner's part then ends the run).
pub(super) fn rewait(set: &AgentSet, waited: Vec<Waited>) -> Vec<Waiting<'_>> {
    waited
        .into_iter()
        .filter_map(|w| {
            let agent = set.agent(&w.agent)?;
            Some(Waiting {
                agent,
                task: w.task,
                why: None,
                conversation: w.conversation,
                memory: w.memory,
                candidate: (!w.candidate.is_empty()).then(|| Patch {
                    summary: String::new(),
                    changes: w.candidate,
                }),
            })
        })
        .collect()
}

impl<'a> Holder<'a> {
    /// The waiting agents, as a checkpoint keeps them.
    pub(super) fn waited(&self) -> Vec<Waited> {
        self.waiting
            .iter()
            .map(|w| Waited {
                agent: w.agent.name.clone(),
                task: w.task.clone(),
                conversation: w.conversation.clone(),
                memory: w.memory.clone(),
                candidate: w
                    .candidate
                    .as_ref()
                    .map(|p| p.changes.clone())
                    .unwrap_or_default(),
            })
            .collect()
    }

    /// Who the holding agent may ask for a change, when its tools let it.
    pub(super) fn requests(&self, scene: &Scene<'a>) -> Requests {
        if !self.agent.tools.iter().any(|t| t == "request_change") {
            return Requests::default();
        }
        Requests {
            owners: owners(scene.set, &scene.request.disabled),
            waiting: self.waiting.iter().map(|w| w.agent.name.clone()).collect(),
            depth_left: MAX_HOPS.saturating_sub(self.waiting.len() + 1),
        }
    }

    /// The holding agent asked `asked.to` for a change: it waits, and the owner takes the work
    /// with its candidate.
    pub(super) fn ask_owner(
        &mut self,
        scene: &Scene<'a>,
        asked: &ChangeRequest,
        toolbox: Option<&Toolbox<'_>>,
        conversation: Conversation,
        rec: &mut Recorder<'_>,
    ) -> Result<(), String> {
        let owner = scene
            .set
            .agent(&asked.to)
            .ok_or_else(|| format!("it asked `{}`, which is not an agent", asked.to))?;
        let candidate = toolbox.and_then(|t| t.patch(""));
        rec.emit(Event::Handoff {
            from: self.agent.name.clone(),
            to: owner.name.clone(),
            message: String::from("request for a change"),
            attempt: 0,
            why: format!("{} ({})", asked.change, asked.paths.join(", ")),
        });
        let task = task(&self.agent.name, asked, &scene.request.question);
        self.waiting.push(Waiting {
            agent: self.agent,
            task: std::mem::replace(&mut self.task, task.clone()),
            why: self.why.take(),
            conversation,
            memory: std::mem::replace(&mut self.memory, TaskMemory::new(&task)),
            candidate: candidate.clone(),
        });
        self.carried = candidate;
        self.agent = owner;
        self.conversation = None;
        Ok(())
    }

    /// Whether an agent is waiting for the holder's part.
    pub(super) fn is_asked(&self) -> bool {
        !self.waiting.is_empty()
    }

    /// The owner is done (`Ok` with what it said, or `Err` with why it stopped): the agent that
    /// asked goes on from where it stopped, with the owner's change in its candidate when there is
    /// one, told what became of its request.
    pub(super) fn give_back(
        &mut self,
        done: Result<String, String>,
        toolbox: Option<&Toolbox<'_>>,
        rec: &mut Recorder<'_>,
    ) {
        let Some(mut waiting) = self.waiting.pop() else {
            return;
        };
        let owner = self.agent;
        let after = toolbox.and_then(|t| t.patch(""));
        let changed = changed_between(waiting.candidate.as_ref(), after.as_ref());
        let note = match &done {
            Ok(said) if !changed.is_empty() => format!(
                "[`{}` made the change you asked for, in {}: {said}. It is in your candidate: \
                 read those files before you rely on them, then go on with your part.]",
                owner.name,
                changed.join(", ")
            ),
            Ok(said) => format!("[`{}` changed nothing: {said}]", owner.name),
            Err(why) => format!(
                "[`{}` could not make the change: {why}. Your candidate is as you left it.]",
                owner.name
            ),
        };
        let kept = done.is_ok() && !changed.is_empty();
        if kept && !self.helpers.iter().any(|h| h.name == owner.name) {
            self.helpers.push(owner);
        }
        rec.emit(Event::Handoff {
            from: owner.name.clone(),
            to: waiting.agent.name.clone(),
            message: String::from("part of the change"),
            attempt: 0,
            why: if kept {
                changed.join(", ")
            } else {
                String::from("nothing changed")
            },
        });
        waiting.conversation.messages.push(Message::user(note));
        self.carried = if kept { after } else { waiting.candidate };
        self.agent = waiting.agent;
        self.task = waiting.task;
        self.why = waiting.why;
        self.memory = waiting.memory;
        self.conversation = Some(waiting.conversation);
    }
}
