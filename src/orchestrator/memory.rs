//! Task memory: the state of one request's work as structured data (its goal, a plan with each
//! step's status, the files read and touched, decisions, failing checks, open questions). It is
//! kept in the run archive after every turn, rebuilt into every prompt, and what a conversation
//! is compacted against when it nears the model's window, so a long task never loses its goal
//! or plan.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::llm::ToolSpec;

/// The most entries each list keeps (the oldest go first), so the memory stays small.
const MOST: usize = 20;

/// Where a plan's step is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Pending,
    InProgress,
    Done,
}

/// One step of the plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanStep {
    pub step: String,
    pub status: StepStatus,
}

/// What the work on one request has established so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskMemory {
    pub goal: String,
    pub plan: Vec<PlanStep>,
    pub files_read: BTreeSet<String>,
    pub files_touched: BTreeSet<String>,
    pub decisions: Vec<String>,
    /// The failing checks of the candidate's last `run_checks`; empty when they passed.
    pub failing_checks: Vec<String>,
    pub open_questions: Vec<String>,
}

/// The `update_plan` tool: how an agent keeps its plan, decisions and questions in the memory.
pub fn update_plan_spec() -> ToolSpec {
    ToolSpec {
        name: String::from("update_plan"),
        description: String::from(
            "Keep your task memory: the plan (every step, with its status), a decision you made \
             and why, or a question you cannot answer from the code. The memory is shown to you \
             every turn and survives when older turns are compacted.",
        ),
        parameters: json!({"type": "object", "properties": {
            "plan": {"type": "array", "items": {"type": "object", "properties": {
                "step": {"type": "string"},
                "status": {"type": "string", "enum": ["pending", "in_progress", "done"]}
            }, "required": ["step", "status"]}},
            "decision": {"type": "string"},
            "question": {"type": "string"}
        }}),
    }
}

impl TaskMemory {
    pub fn new(goal: &str) -> Self {
        TaskMemory {
            goal: goal.trim().to_owned(),
            ..TaskMemory::default()
        }
    }

    /// Takes an `update_plan` call; what to tell the model.
    pub fn update_plan(&mut self, args: &Value) -> Result<String, String> {
        let plan = match args.get("plan") {
            None | Some(Value::Null) => None,
            Some(plan) => Some(
                serde_json::from_value::<Vec<PlanStep>>(plan.clone()).map_err(|error| {
                    format!(
                        "`plan` is a list of {{\"step\", \"status\"}} with status `pending`, \
                         `in_progress` or `done`: {error}"
                    )
                })?,
            ),
        };
        let text = |key: &str| {
            args.get(key)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_owned)
        };
        let (decision, question) = (text("decision"), text("question"));
        if plan.is_none() && decision.is_none() && question.is_none() {
            return Err(String::from(
                "give `plan`, `decision` or `question`: there is nothing to keep",
            ));
        }
        if let Some(plan) = plan {
            self.plan = plan;
        }
        push(&mut self.decisions, decision);
        push(&mut self.open_questions, question);
        let done = self
            .plan
            .iter()
            .filter(|s| s.status == StepStatus::Done)
            .count();
        Ok(format!(
            "kept: {done} of {} steps done, {} decisions, {} open questions",
            self.plan.len(),
            self.decisions.len(),
            self.open_questions.len()
        ))
    }

    /// A file the agent read.
    pub fn read(&mut self, path: &str) {
        if self.files_read.len() < MOST * 5 {
            self.files_read.insert(path.to_owned());
        }
    }

    /// The memory for the prompt; `None` while it holds nothing beyond the goal (which the task
    /// already says).
    pub fn render(&self) -> Option<String> {
        let empty = self.plan.is_empty()
            && self.files_touched.is_empty()
            && self.decisions.is_empty()
            && self.failing_checks.is_empty()
            && self.open_questions.is_empty();
        if empty {
            return None;
        }
        let mut out = format!("## Task memory\n\nGoal: {}\n", self.goal);
        if !self.plan.is_empty() {
            out.push_str("\nPlan:\n");
            for step in &self.plan {
                let mark = match step.status {
                    StepStatus::Pending => "[ ]",
                    StepStatus::InProgress => "[~]",
                    StepStatus::Done => "[x]",
                };
                out.push_str(&format!("- {mark} {}\n", step.step));
            }
        }
        let list = |out: &mut String, title: &str, items: &mut dyn Iterator<Item = &String>| {
            let items: Vec<&String> = items.collect();
            if !items.is_empty() {
                out.push_str(&format!("\n{title}:\n"));
                for item in items {
                    out.push_str(&format!("- {item}\n"));
                }
            }
        };
        list(&mut out, "Files changed", &mut self.files_touched.iter());
        list(&mut out, "Files read", &mut self.files_read.iter());
        list(&mut out, "Decisions", &mut self.decisions.iter());
        list(&mut out, "Failing checks", &mut self.failing_checks.iter());
        list(&mut out, "Open questions", &mut self.open_questions.iter());
        Some(out)
    }
}

fn push(list: &mut Vec<String>, item: Option<String>) {
    if let Some(item) = item
        && !list.contains(&item)
    {
        list.push(item);
        if list.len() > MOST {
            list.remove(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plan_decisions_and_questions_are_kept_and_rendered() {
        let mut memory = TaskMemory::new("Make shout quieter");
        assert_eq!(memory.render(), None, "nothing beyond the goal");
        let kept = memory.update_plan(&json!({
            "plan": [{"step": "Read shout", "status": "done"},
                     {"step": "Lower its case", "status": "in_progress"}],
            "decision": "keep the signature"
        }));
        assert_eq!(
            kept.as_deref(),
            Ok("kept: 1 of 2 steps done, 1 decisions, 0 open questions")
        );
        memory.files_touched.insert(String::from("src/lib.rs"));
        let text = memory.render().expect("something to show");
        assert!(
            text.contains(
                "Goal: Make shout quieter\n\nPlan:\n- [x] Read shout\n- [~] Lower its case\n"
            ),
            "{text}"
        );
        assert!(text.contains("Files changed:\n- src/lib.rs\n"), "{text}");
        assert!(
            text.contains("Decisions:\n- keep the signature\n"),
            "{text}"
        );
        assert!(memory.update_plan(&json!({})).is_err());
        let bad = memory.update_plan(&json!({"plan": [{"step": "x", "status": "later"}]}));
        assert!(bad.is_err_and(|e| e.contains("`in_progress`")));
        assert_eq!(memory.plan.len(), 2, "a bad plan changes nothing");
    }
}
