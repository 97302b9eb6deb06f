//! Routing a one-off request to the agent that acts on it: the one named with `--agent`, or the
//! offline classifier's choice among the agents of the `ask` pipeline's routed stage. A request
//! that asks for a change (it opens with an imperative such as `add`, `fix` or `rename`) goes to
//! the refactorer; anything else, a question, to the chat agent. Every choice says why.

use crate::agents::{AgentDef, AgentSet, Flow, Mode, Pipeline, Role};

/// Verbs a change request opens with.
const CHANGE_VERBS: &[&str] = &[
    "add",
    "change",
    "convert",
    "delete",
    "document",
    "extract",
    "fix",
    "implement",
    "inline",
    "introduce",
    "make",
    "move",
    "refactor",
    "remove",
    "rename",
    "replace",
    "rewrite",
    "simplify",
    "split",
    "update",
    "use",
    "write",
];

/// Why no agent can take the request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error(
        "the `{pipeline}` pipeline has no enabled agent with role `chat` in a `route` stage that \
         outputs `answer`: check `[agents] disabled` in your config and `nova agents check`"
    )]
    NoChat { pipeline: String },
    #[error(
        "`{name}` is not an enabled agent of the `{pipeline}` pipeline's routed stage; it has: {known}"
    )]
    Unknown {
        name: String,
        pipeline: String,
        known: String,
    },
}

/// The agent that acts on `request` and why; `named` is `--agent NAME`. `can_change` says whether
/// a change could land (a repository is there): without one, a change request is answered.
pub fn choose<'s>(
    pipeline: &Pipeline,
    set: &'s AgentSet,
    disabled: &[String],
    named: Option<&str>,
    request: &str,
    can_change: bool,
) -> Result<(&'s AgentDef, String), RouteError> {
    let routed: Vec<&AgentDef> = pipeline
        .stages
        .iter()
        .filter(|stage| stage.mode == Mode::Route)
        .filter(|stage| {
            stage.output.contains(&Flow::Answer) || stage.output.contains(&Flow::Patches)
        })
        .flat_map(|stage| &stage.agents)
        .filter(|name| !disabled.contains(name))
        .filter_map(|name| set.agent(name))
        .collect();
    if let Some(name) = named {
        return match routed.iter().find(|agent| agent.name == name) {
            Some(agent) => Ok((agent, String::from("named with `--agent`"))),
            None => Err(RouteError::Unknown {
                name: name.to_owned(),
                pipeline: pipeline.name.clone(),
                known: routed
                    .iter()
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        };
    }
    let chat = routed.iter().find(|agent| agent.role == Role::Chat);
    let refactorer = routed.iter().find(|agent| agent.role == Role::Refactorer);
    if let (Some(verb), Some(agent), true) = (change_verb(request), refactorer, can_change) {
        return Ok((
            agent,
            format!("the request asks for a change (it opens with `{verb}`)"),
        ));
    }
    let why = match change_verb(request) {
        Some(verb) if !can_change => {
            format!("the request opens with `{verb}`, but outside a repository no change can land")
        }
        Some(_) => String::from("no enabled refactorer takes change requests"),
        None => String::from("the request is a question"),
    };
    chat.map(|agent| (*agent, why))
        .ok_or_else(|| RouteError::NoChat {
            pipeline: pipeline.name.clone(),
        })
}

/// The imperative a change request opens with, if it opens with one (`Please` aside).
fn change_verb(request: &str) -> Option<&'static str> {
    let mut words = request
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase);
    let mut first = words.next()?;
    if first == "please" {
        first = words.next()?;
    }
    CHANGE_VERBS.iter().copied().find(|verb| *verb == first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_go_to_chat_and_changes_to_the_refactorer() {
        let set = AgentSet::builtin();
        let pipeline = set.pipeline("ask").expect("built in");
        let pick = |request: &str, can_change| {
            choose(pipeline, &set, &[], None, request, can_change)
                .map(|(agent, _)| agent.name.clone())
        };
        assert_eq!(pick("What does `greet` do?", true).as_deref(), Ok("chat"));
        assert_eq!(
            pick("Rename greet to hello", true).as_deref(),
            Ok("refactorer")
        );
        assert_eq!(
            pick("Please fix the typo in lib.rs", true).as_deref(),
            Ok("refactorer")
        );
        assert_eq!(pick("Rename greet to hello", false).as_deref(), Ok("chat"));
        let named = choose(pipeline, &set, &[], Some("refactorer"), "Why?", true);
        assert_eq!(
            named.map(|(a, why)| (a.name.clone(), why)).ok(),
            Some(("refactorer".into(), "named with `--agent`".into()))
        );
        let unknown = choose(pipeline, &set, &[], Some("nobody"), "Why?", true);
        assert!(matches!(unknown, Err(RouteError::Unknown { .. })));
        let disabled = choose(pipeline, &set, &["chat".to_owned()], None, "Why?", true);
        assert!(matches!(disabled, Err(RouteError::NoChat { .. })));
    }
}
