//! The loop guard: it watches an agent's calls and their results for three patterns (one call
//! repeated with the same arguments, the same failure coming back, turns that bring nothing new)
//! and says, for each, first a nudge that names the pattern, then a stop.

use std::collections::{HashMap, HashSet};

use crate::llm::ToolCall;
use crate::tools::CallResult;

/// How many identical calls in a row (same tool, same arguments) the guard lets pass; the next
/// is answered with a nudge, and one more stops the agent.
pub const REPEATS: usize = 3;

/// How many times one failing output may come back: the last of them carries a nudge, and one
/// more stops the agent.
pub const FAILURES: usize = 3;

/// How many turns in a row may bring nothing new (no result not seen before, so no change to the
/// candidate either): then a nudge, and after as many again without progress, a stop.
pub const IDLE_TURNS: usize = 4;

/// What the guard says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// Go on, and tell the model this.
    Nudge(String),
    /// Stop the agent: why.
    Stop(String),
}

/// What the guard has seen of one agent's run.
#[derive(Debug, Default)]
pub struct LoopGuard {
    last: Option<(String, String)>,
    repeats: usize,
    nudged: bool,
    /// Digests of every successful result so far.
    seen: HashSet<u64>,
    /// How often each failing output came back.
    failures: HashMap<u64, usize>,
    idle: usize,
}

impl LoopGuard {
    /// Before a call runs: is it the same call again?
    pub fn check(&mut self, call: &ToolCall) -> Verdict {
        let key = (call.name.clone(), call.arguments.to_string());
        if self.last.as_ref() == Some(&key) {
            self.repeats += 1;
        } else {
            self.last = Some(key);
            self.repeats = 1;
            self.nudged = false;
        }
        if self.repeats <= REPEATS {
            return Verdict::Pass;
        }
        let why = format!(
            "`{}` was called {} times in a row with the same arguments",
            call.name, self.repeats
        );
        if self.nudged {
            Verdict::Stop(format!("stopped by the loop guard: {why}"))
        } else {
            self.nudged = true;
            Verdict::Nudge(why)
        }
    }

    /// Whether a result is something the agent has not had before.
    pub fn is_new(&mut self, result: &CallResult) -> bool {
        !result.is_error && self.seen.insert(digest(&result.content))
    }

    /// After a call ran: is its failure one the agent keeps getting?
    pub fn outcome(&mut self, result: &CallResult) -> Verdict {
        if !result.is_error {
            return Verdict::Pass;
        }
        let count = self.failures.entry(digest(&result.content)).or_default();
        *count += 1;
        let why = format!("the same failure came back {count} times");
        match (*count).cmp(&FAILURES) {
            std::cmp::Ordering::Less => Verdict::Pass,
            std::cmp::Ordering::Equal => Verdict::Nudge(why),
            std::cmp::Ordering::Greater => {
                Verdict::Stop(format!("stopped by the loop guard: {why}"))
            }
        }
    }

    /// After a turn: did it bring anything new?
    pub fn turn(&mut self, progressed: bool) -> Verdict {
        if progressed {
            self.idle = 0;
            return Verdict::Pass;
        }
        self.idle += 1;
        let why = format!("{} turns in a row brought nothing new", self.idle);
        if self.idle == IDLE_TURNS {
            Verdict::Nudge(why)
        } else if self.idle >= IDLE_TURNS * 2 {
            Verdict::Stop(format!("stopped by the loop guard: {why}"))
        } else {
            Verdict::Pass
        }
    }
}

fn digest(text: &str) -> u64 {
    crate::hash::fnv1a_parts([text.as_bytes()])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, args: serde_json::Value) -> ToolCall {
        ToolCall {
            id: String::from("c"),
            name: name.to_owned(),
            arguments: args,
        }
    }

    fn result(content: &str, is_error: bool) -> CallResult {
        CallResult {
            content: content.to_owned(),
            is_error,
            refused: false,
        }
    }

    #[test]
    fn a_repeated_call_is_nudged_then_stopped() {
        let mut guard = LoopGuard::default();
        let same = call("read_file", serde_json::json!({"path": "src/lib.rs"}));
        for _ in 0..REPEATS {
            assert_eq!(guard.check(&same), Verdict::Pass);
        }
        assert!(matches!(guard.check(&same), Verdict::Nudge(why) if why.contains("4 times")));
        assert!(matches!(guard.check(&same), Verdict::Stop(why) if why.contains("loop guard")));
        // Another call resets it.
        let other = call("read_file", serde_json::json!({"path": "src/main.rs"}));
        assert_eq!(guard.check(&other), Verdict::Pass);
        assert_eq!(guard.check(&same), Verdict::Pass);
    }

    #[test]
    fn the_same_failure_is_nudged_then_stopped() {
        let mut guard = LoopGuard::default();
        let failed = result("nothing was changed: no match for `fn a`", true);
        for _ in 1..FAILURES {
            assert_eq!(guard.outcome(&failed), Verdict::Pass);
        }
        assert!(matches!(guard.outcome(&failed), Verdict::Nudge(why) if why.contains("3 times")));
        assert_eq!(
            guard.outcome(&result("another failure", true)),
            Verdict::Pass
        );
        assert_eq!(guard.outcome(&result("fine", false)), Verdict::Pass);
        assert!(matches!(guard.outcome(&failed), Verdict::Stop(_)));
    }

    #[test]
    fn turns_without_anything_new_are_nudged_then_stopped() {
        let mut guard = LoopGuard::default();
        assert!(guard.is_new(&result("a", false)));
        assert!(!guard.is_new(&result("a", false)), "seen before");
        assert!(
            !guard.is_new(&result("b", true)),
            "a failure is not progress"
        );
        for _ in 1..IDLE_TURNS {
            assert_eq!(guard.turn(false), Verdict::Pass);
        }
        assert!(matches!(guard.turn(false), Verdict::Nudge(_)));
        assert_eq!(guard.turn(true), Verdict::Pass, "progress resets it");
        for _ in 1..IDLE_TURNS * 2 {
            guard.turn(false);
        }
        assert!(matches!(guard.turn(false), Verdict::Stop(why) if why.contains("8 turns")));
    }
}
