//! What every agent of a request shares about its repository: the index and the question's
//! focus (maps of any size are drawn from them), and the rule packs the `review` tool runs.

use std::path::Path;

use super::AskRequest;
use crate::agents::AgentSet;
use crate::index::{Focus, Index};
use crate::rules::RuleSet;

/// The repository's index and the question's focus, kept to draw maps of any size.
pub(in crate::orchestrator) struct RepoContext {
    pub(in crate::orchestrator) index: Index,
    pub(super) focus: Focus,
    pub(super) name: String,
}

impl RepoContext {
    /// The request's repository's context, when it has a repository and wants a map.
    pub(super) async fn of(request: &AskRequest) -> Option<RepoContext> {
        match (&request.repo_root, request.map_tokens) {
            (Some(root), budget) if budget > 0 => {
                let files = request.on_tip.as_ref().map(|on| on.files.as_path());
                Some(RepoContext::build(root, files, &request.question).await)
            }
            _ => None,
        }
    }

    /// Builds (or loads from its cache) the index of the repository at `root`, or of its commit
    /// checked out at `files` (with the worktree's cache), off the async threads.
    async fn build(root: &Path, files: Option<&Path>, question: &str) -> RepoContext {
        let name = root
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let focus = Focus::from_task(question);
        let cache = root.join(crate::index::WORKTREE_CACHE);
        let (root, files) = (root.to_owned(), files.map(Path::to_owned));
        let index = crate::orchestrator::blocking(move || match files {
            Some(files) => Index::build_with_cache(&files, Some(&cache)),
            None => Index::build(&root),
        })
        .await;
        RepoContext { index, focus, name }
    }
}

/// The rule packs of the request's repository (its `.nova/rules/` over the built-in pack, the
/// request's `rule_dir` over those), owned by the set's enabled agents, when any agent of the set
/// has the `review` tool; the first problem loading them instead, for `review` to tell.
pub(super) fn rule_packs(request: &AskRequest, set: &AgentSet) -> Option<Result<RuleSet, String>> {
    let enabled: Vec<String> = set
        .agents()
        .filter(|agent| !request.disabled.contains(&agent.name))
        .map(|agent| agent.name.clone())
        .collect();
    let wanted = set
        .agents()
        .any(|agent| enabled.contains(&agent.name) && agent.tools.iter().any(|t| t == "review"));
    if !wanted {
        return None;
    }
    let (mut rules, mut problems) = RuleSet::for_repo(request.repo_root.as_deref());
    if let Some(dir) = &request.rule_dir {
        let (more, trouble) = crate::rules::load_dir(dir);
        rules.extend(more);
        problems.extend(trouble);
    }
    Some(match problems.first() {
        Some(problem) => Err(problem.to_string()),
        None => Ok(rules.owned_by(&enabled)),
    })
}
