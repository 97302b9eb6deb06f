//! An agent's prompt for a request: its own, what this session gives it (its tools, or none), the
//! nearest `AGENTS.md`, and a map ranked around the question (a domain agent's: its part in depth,
//! its neighbours by their public items), shrunk once if the whole is over the model's window.

use super::{AskError, AskRequest, RepoContext, Role, Scene, handoff};
use crate::agents::AgentDef;
use crate::llm::{self, ChatRequest, Message};

/// Below this many tokens a repository map says too little to be worth its place in the prompt.
const SMALLEST_MAP: usize = 256;

/// The agents `agent` may hand work to in this session, with what each does, for its prompt: a
/// router's also name the domain agents, each with the part it owns, and the offline router's
/// reading of `task` among them.
pub(super) fn receivers(scene: &Scene<'_>, agent: &AgentDef, task: &str) -> String {
    let mut text = String::from("\n## Agents you may hand work to\n\n");
    let domains = match agent.role {
        Role::Router => handoff::domains(scene.set, &scene.request.disabled),
        _ => Vec::new(),
    };
    if !domains.is_empty() {
        text.push_str(
            "A change to one part of the repository goes to the agent that owns the part (its \
             files are the ones it may write); a question, a review or work across many parts \
             to the agents after them.\n\n",
        );
        text.push_str(&offline_reading(scene, task));
    }
    for name in domains.iter().chain(&agent.handoff) {
        if scene.request.disabled.contains(name) {
            continue;
        }
        if let Some(other) = scene.set.agent(name) {
            text.push_str(&format!(
                "- `{name}` ({}): {}\n",
                other.role, other.description
            ));
        }
    }
    text
}

/// The parts the offline router finds `task` most about, best first, for a router's prompt: what
/// the request's words match in each part's code and history, to weigh against what it means.
fn offline_reading(scene: &Scene<'_>, task: &str) -> String {
    const SHOWN: usize = 3;
    let Some(repo) = super::repo_of(scene.request, scene.context) else {
        return String::new();
    };
    let Some((scores, _)) =
        super::route::domain_scores(scene.set, &scene.request.disabled, repo, task)
    else {
        return String::new();
    };
    let best: Vec<String> = scores
        .iter()
        .filter(|s| s.score > 0.0)
        .take(SHOWN)
        .map(|s| {
            let files: Vec<&str> = s.files.iter().map(|(path, _)| path.as_str()).collect();
            format!("`{}` ({:.2}; {})", s.agent, s.score, files.join(", "))
        })
        .collect();
    if best.is_empty() {
        return String::new();
    }
    format!(
        "Matching the request's words against each part's code and recent commits, the offline \
         router ranks first: {}. Words can mislead it: choose by what the request means.\n\n",
        best.join(", ")
    )
}

/// The request to send: the agent's prompt, what this session gives it (its tools, or none), the
/// repository's `AGENTS.md`, and a map ranked around the question, shrunk once if the whole is
/// over the model's window.
pub(in crate::orchestrator) fn prompt(
    request: &AskRequest,
    agent: &AgentDef,
    context: Option<&RepoContext>,
    tools: &[String],
    agents_md: Option<(&str, &str)>,
) -> Result<ChatRequest, AskError> {
    let system = |budget: usize| system_prompt(agent, context, budget, tools, agents_md);
    let mut chat = ChatRequest::new(
        &request.model,
        system(request.map_tokens),
        vec![Message::user(&request.question)],
    );
    chat.max_tokens = request.max_tokens;
    chat.reasoning = request.reasoning;
    // The caller's rule when the prompt is too large: a smaller map, once; no map below the
    // smallest useful one.
    let chat = llm::fit(chat, request.context_window, |mut chat, over| {
        context?;
        let budget = request
            .map_tokens
            .saturating_sub(usize::try_from(over).unwrap_or(usize::MAX) + 64);
        let budget = if budget < SMALLEST_MAP { 0 } else { budget };
        chat.system = system(budget);
        Some(chat)
    })?;
    Ok(chat)
}

/// The agent's system prompt with a map of at most `budget` tokens.
fn system_prompt(
    agent: &AgentDef,
    map: Option<&RepoContext>,
    budget: usize,
    tools: &[String],
    agents_md: Option<(&str, &str)>,
) -> String {
    let mut prompt = agent.prompt.trim_end().to_owned();
    prompt.push_str("\n\n## This session\n\n");
    if tools.is_empty() {
        prompt.push_str("No tools are available in this session: answer from what is below, and say what you could not see.\n");
    } else {
        prompt.push_str(&format!(
            "Your tools: {}. They read the repository as its last commit has it; your edits go to \
             a candidate of your own, never the user's files. Read before you claim, and cite \
             `path:line`. When you are done, call `finish` with your answer, or with one line \
             saying what your change does.\n",
            tools.join(", ")
        ));
    }
    match agents_md {
        Some(("", text)) => {
            prompt.push_str(&format!(
                "\n## The repository's AGENTS.md\n\n{}\n",
                text.trim_end()
            ));
        }
        Some((dir, text)) => {
            prompt.push_str(&format!(
                "\n## `{dir}/AGENTS.md` (the nearest to the file you work on)\n\n{}\n",
                text.trim_end()
            ));
        }
        None => {}
    }
    if let Some(context) = map
        && budget > 0
    {
        if let Some(part) = &agent.part {
            // A domain agent sees its part in depth, its neighbours by their public API.
            let map = crate::domains::map_for(&context.index, agent, &context.focus, budget);
            if !map.text.is_empty() {
                prompt.push_str(&format!(
                    "\n## Map of your part `{part}` of `{}`\n\nYour part's definitions in depth, and the public items of the files it uses or that use it, by file (signatures; bodies elided):\n\n{}",
                    context.name, map.text
                ));
            }
        } else {
            let map = context.index.map(&context.focus, budget);
            if !map.text.is_empty() {
                prompt.push_str(&format!(
                    "\n## Repository map of `{}`\n\nThe definitions that matter most to the question, by file (signatures; bodies elided):\n\n{}",
                    context.name, map.text
                ));
            }
        }
    }
    prompt
}
