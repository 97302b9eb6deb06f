//! Routing a one-off request to the agent that acts on it: the one named with `--agent`, or the
//! offline classifier's choice among the agents of the `ask` pipeline's routed stage. A request
//! that asks for a change (it opens with an imperative such as `add`, `fix` or `rename`, or states
//! what the code should do: "the parser must not panic on empty input") goes to
//! an agent that returns a patch (the refactorer, unless another's description shares more of
//! the request's words: "add a doc comment" goes to the doc writer); anything else to one that
//! answers, reviews or plans (chat, unless a reviewer's or the planner's description fits
//! better). Every choice says why. The model-driven router is an agent like the others
//! (`orchestrator::ask` runs it); this classifier is its offline fallback.

use crate::agents::{AgentDef, AgentSet, Flow, Mode, Output, Pipeline, Role};

/// Verbs a change request opens with. `show`, `print` and `list` ask for an answer as often
/// ("show me where the discount is applied"): they are [`COMMIT_VERBS`].
const CHANGE_VERBS: &[&str] = &[
    "accept",
    "add",
    "allow",
    "avoid",
    "change",
    "clean",
    "convert",
    "correct",
    "delete",
    "deprecate",
    "disable",
    "document",
    "drop",
    "emit",
    "enable",
    "ensure",
    "expose",
    "extract",
    "fix",
    "handle",
    "implement",
    "improve",
    "inline",
    "introduce",
    "keep",
    "let",
    "limit",
    "make",
    "move",
    "optimize",
    "prefer",
    "reduce",
    "refactor",
    "refuse",
    "reject",
    "remove",
    "rename",
    "replace",
    "restore",
    "return",
    "reuse",
    "revert",
    "rework",
    "rewrite",
    "simplify",
    "skip",
    "sort",
    "split",
    "stop",
    "support",
    "treat",
    "update",
    "use",
    "warn",
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

/// What the offline router reads of the repository: its index, and where it is (for its recent
/// history, read only when the set has domain agents).
#[derive(Debug, Clone, Copy)]
pub struct Repo<'a> {
    pub index: &'a crate::index::Index,
    pub root: &'a std::path::Path,
}

/// The agent that acts on `request` and why; `named` is `--agent NAME`. `can_change` says whether
/// a change could land (a repository is there): without one, a change request is answered.
/// With the repository, a change request the refactorer would take goes instead to the domain
/// agent whose part it is about ([`crate::domains::route`]), when the set has one: routing by
/// part runs only then.
pub fn choose<'s>(
    pipeline: &Pipeline,
    set: &'s AgentSet,
    disabled: &[String],
    named: Option<&str>,
    request: &str,
    can_change: bool,
    repo: Option<Repo<'_>>,
) -> Result<(&'s AgentDef, String), RouteError> {
    let mut routed: Vec<&AgentDef> = pipeline
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
    // Domain agents take change requests about their parts, whatever the pipeline lists.
    for agent in set.agents() {
        if agent.part.is_some()
            && !disabled.contains(&agent.name)
            && !routed.iter().any(|a| a.name == agent.name)
        {
            routed.push(agent);
        }
    }
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
    let cue = change_cue(request);
    let change = cue.as_ref().filter(|_| can_change);
    // A change request goes to an agent that returns a patch; anything else to one that answers,
    // reviews or plans. The default of each kind wins unless another's description shares more
    // of the request's words.
    let pool: Vec<&AgentDef> = routed
        .iter()
        .copied()
        .filter(|agent| match change {
            Some(_) => agent.role.output() == Output::Patch && agent.part.is_none(),
            None => agent.role.output() != Output::Patch,
        })
        .collect();
    let default = pool.iter().copied().find(|agent| match change {
        Some(_) => agent.role == Role::Refactorer,
        None => agent.role == Role::Chat,
    });
    let words = stems(request);
    let best = pool
        .iter()
        .map(|agent| (agent, shared(&words, agent)))
        .filter(|(_, shared)| !shared.is_empty())
        .max_by_key(|(agent, shared)| {
            (shared.len(), default.is_some_and(|d| d.name == agent.name))
        });
    let why = match (change, &cue) {
        (Some(cue), _) => format!("the request asks for a change ({cue})"),
        (None, Some(cue)) => format!(
            "the request asks for a change ({cue}), but outside a repository no change can land"
        ),
        (None, None) => String::from("the request is a question"),
    };
    let default_shares = default.map_or(0, |d| shared(&words, d).len());
    if let Some((agent, shared)) = best
        && default.is_none_or(|d| d.name != agent.name)
        && shared.len() > default_shares
    {
        return Ok((
            agent,
            format!(
                "{why}, and `{}`'s description shares its words ({})",
                agent.name,
                shared.join(", ")
            ),
        ));
    }
    if change.is_some()
        && let Some((agent, about)) = domain_of(set, disabled, repo, request)
    {
        return Ok((agent, format!("{why}, and {about}")));
    }
    if let Some(agent) = default {
        return Ok((agent, why));
    }
    let chat = routed.iter().find(|agent| agent.role == Role::Chat);
    let why = match change {
        Some(_) => String::from("no enabled refactorer takes change requests"),
        None => why,
    };
    chat.map(|agent| (*agent, why))
        .ok_or_else(|| RouteError::NoChat {
            pipeline: pipeline.name.clone(),
        })
}

/// The domain agent whose part `question` is about, and why, when the set has domain agents and
/// the repository is indexed ([`domain_scores`]).
fn domain_of<'s>(
    set: &'s AgentSet,
    disabled: &[String],
    repo: Option<Repo<'_>>,
    question: &str,
) -> Option<(&'s AgentDef, String)> {
    let (scores, calibration) = domain_scores(set, disabled, repo?, question)?;
    let best = scores.first().filter(|s| s.score > 0.0)?;
    let agent = set.agent(&best.agent)?;
    let why = crate::domains::route::explain(best, scores.get(1));
    let why = match calibration {
        Some(c) => format!("{why} ({})", c.describe()),
        None => why,
    };
    Some((agent, why))
}

/// Every enabled domain agent's score for `question`, best first, with the calibration its
/// weights came from: the repository's recent history is read, and the router's weights
/// calibrated on it (kept under `.nova/` until the history changes); a history that cannot be
/// read leaves the route to the code's words and the shipped weights. `None` when the set has no
/// domain agents.
pub fn domain_scores(
    set: &AgentSet,
    disabled: &[String],
    repo: Repo<'_>,
    question: &str,
) -> Option<(
    Vec<crate::domains::route::Score>,
    Option<crate::domains::calibrate::Calibration>,
)> {
    use crate::domains::{calibrate, route};
    let owners = crate::domains::Owners::domains(set, disabled);
    if owners.is_empty() {
        return None;
    }
    let changes = crate::git::recent_changes(repo.root, route::HISTORY).ok();
    let past = changes.as_deref().map(|c| route::Past::new(&owners, c));
    // Kept under `.nova/`, whose `.gitignore` keeps it out of `git status`; where `.nova/` cannot
    // be made, calibrated again each time.
    let cache = crate::state::prepare(repo.root)
        .ok()
        .map(|_| repo.root.join(calibrate::CACHE));
    let calibration = changes
        .as_deref()
        .and_then(|c| calibrate::cached(cache.as_deref(), repo.index, &owners, c));
    let weights = calibration.map_or(route::WEIGHTS, |c| c.weights);
    let scores = route::scores_with(repo.index, &owners, (question, past.as_ref()), &weights);
    Some((scores, calibration))
}

/// Words too common to say which agent a request is for.
const COMMON: &[&str] = &[
    "a", "all", "an", "and", "any", "are", "as", "at", "be", "by", "can", "code", "do", "does",
    "each", "file", "for", "from", "function", "how", "i", "in", "into", "is", "it", "its", "me",
    "my", "of", "on", "one", "or", "our", "please", "so", "that", "the", "their", "them", "then",
    "there", "this", "to", "us", "we", "what", "when", "where", "which", "who", "why", "with",
    "you", "your",
];

/// A request's or description's words, lowercased and cut to a rough stem, common ones left out.
pub fn stems(text: &str) -> Vec<String> {
    let mut stems: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|word| word.len() > 1 && !COMMON.contains(&word.as_str()))
        .map(|word| stem(&word))
        .collect();
    stems.sort();
    stems.dedup();
    stems
}

fn stem(word: &str) -> String {
    for suffix in ["ing", "ies", "es", "ed", "s"] {
        if let Some(root) = word.strip_suffix(suffix)
            && root.len() >= 3
        {
            return root.to_owned();
        }
    }
    word.to_owned()
}

/// The request's words that `agent`'s name and description share.
fn shared(words: &[String], agent: &AgentDef) -> Vec<String> {
    let own = stems(&format!("{} {}", agent.name, agent.description));
    words.iter().filter(|w| own.contains(w)).cloned().collect()
}

/// What makes `request` a change request, for its explanation: the imperative it opens with, or
/// the `should` of a statement of what the code should do ("The sandbox should refuse to start
/// when Landlock is missing": how bug reports are written), which a question is not (it ends
/// with `?` or opens with a question word).
fn change_cue(request: &str) -> Option<String> {
    if let Some(verb) = change_verb(request) {
        return Some(format!("it opens with `{verb}`"));
    }
    let text = request.trim();
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let question = text.ends_with('?')
        || words
            .first()
            .is_some_and(|first| QUESTION_WORDS.contains(&first.as_str()));
    let modal = words
        .iter()
        .skip(1)
        .find(|w| MODALS.contains(&w.as_str()))?;
    (!question).then(|| format!("it says what the code `{modal}` do"))
}

/// Words a question opens with.
const QUESTION_WORDS: &[&str] = &[
    "what", "why", "how", "where", "when", "which", "who", "whose", "is", "are", "does", "do",
    "did", "can", "could", "should", "would", "will", "explain", "describe", "show", "list",
];

/// Words that say what the code is to do, in a statement.
const MODALS: &[&str] = &["should", "shouldn't", "must", "mustn't"];

/// The imperative a change request opens with, if it opens with one (`Please`, and a commit's
/// `area:` prefix, aside); a conventional commit's change type (`feat(cli): ...`) is one too.
fn change_verb(request: &str) -> Option<&'static str> {
    let opening = |text: &str, words: &[&'static str]| {
        let mut opening = text
            .split(|c: char| !c.is_alphanumeric() && c != '\'')
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase);
        let mut first = opening.next()?;
        if first == "please" {
            first = opening.next()?;
        }
        words.iter().copied().find(|verb| *verb == first)
    };
    match request.split_once(": ") {
        Some((_, rest)) if !crate::index::terms::prefix_scopes(request).is_empty() => {
            opening(rest, CHANGE_VERBS)
                .or_else(|| opening(rest, COMMIT_VERBS))
                .or_else(|| opening(request, CHANGE_TYPES))
        }
        _ => opening(request, CHANGE_VERBS),
    }
}

/// Verbs that ask for a change only in a commit's words, after its `area:` prefix (`cli: show the
/// total`); opening a request, they ask to be shown something.
const COMMIT_VERBS: &[&str] = &["list", "print", "show"];

/// The conventional commit types that change code (`feat(cli): ...`, `fix: ...`).
const CHANGE_TYPES: &[&str] = &["feat", "fix", "perf", "refactor"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn questions_go_to_chat_and_changes_to_the_refactorer() {
        let set = AgentSet::builtin();
        let pipeline = set.pipeline("ask").expect("built in");
        let pick = |request: &str, can_change| {
            choose(pipeline, &set, &[], None, request, can_change, None)
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
        // A statement of what the code should do is a change; a question about it is not.
        for change in [
            "greet should return an empty string for an empty name",
            "The parser must not panic on empty input.",
        ] {
            assert_eq!(pick(change, true).as_deref(), Ok("refactorer"), "{change}");
        }
        for question in [
            "Should greet return an empty string?",
            "Why should greet trim its input",
            "greet should trim its input, right?",
            // Asking to be shown is a question; `show` asks for a change only after an area.
            "Show me where greet trims its input",
            "Print the callers of greet",
        ] {
            assert_eq!(pick(question, true).as_deref(), Ok("chat"), "{question}");
        }
        // A commit-style prefix is not the request's first word.
        for change in [
            "sync: make the semaphore fair",
            "feat(cli): print the total",
            "fix(mangen): Hide hidden positionals",
            "refactor: Move shell detection to Shells",
            "cli: show the discount beside the total",
            "Keep the user's checkout untouched on a crash",
        ] {
            assert_eq!(pick(change, true).as_deref(), Ok("refactorer"), "{change}");
        }
        assert_eq!(pick("sync: why is it unfair?", true).as_deref(), Ok("chat"));
        let named = choose(pipeline, &set, &[], Some("refactorer"), "Why?", true, None);
        assert_eq!(
            named.map(|(a, why)| (a.name.clone(), why)).ok(),
            Some(("refactorer".into(), "named with `--agent`".into()))
        );
        let unknown = choose(pipeline, &set, &[], Some("nobody"), "Why?", true, None);
        assert!(matches!(unknown, Err(RouteError::Unknown { .. })));
        let disabled = choose(
            pipeline,
            &set,
            &["chat".to_owned()],
            None,
            "Why?",
            true,
            None,
        );
        assert!(matches!(disabled, Err(RouteError::NoChat { .. })));
    }

    #[test]
    fn an_agent_whose_description_shares_more_words_takes_the_request() {
        let set = AgentSet::builtin();
        let pipeline = set.pipeline("ask").expect("built in");
        let pick = |request: &str| {
            choose(pipeline, &set, &[], None, request, true, None).expect("an agent")
        };
        let (agent, why) = pick("Add a doc comment to greet");
        assert_eq!(agent.name, "doc-writer");
        assert_eq!(
            why,
            "the request asks for a change (it opens with `add`), and `doc-writer`'s description \
             shares its words (comment, doc)"
        );
        assert_eq!(pick("Write tests for shout").0.name, "test-writer");
        assert_eq!(
            pick("Review shout for panics").0.name,
            "error-handling-reviewer"
        );
        assert_eq!(pick("Rename greet to hello").0.name, "refactorer");
        assert_eq!(pick("What does greet return?").0.name, "chat");
        // A failing test is a bug to fix, not a test to write (`nova bench` found this).
        assert_eq!(
            pick("Fix the bug that makes `cargo test` fail: tests::sums fails")
                .0
                .name,
            "refactorer"
        );
        // A disabled agent is not in the pool: its kind's default takes it.
        let without = choose(
            pipeline,
            &set,
            &["doc-writer".to_owned()],
            None,
            "Add a doc comment to greet",
            true,
            None,
        );
        assert_eq!(
            without.map(|(a, _)| a.name.clone()).ok().as_deref(),
            Some("refactorer")
        );
    }
}
