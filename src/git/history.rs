//! The repository's recent history as the offline router reads it: what each commit said, and
//! which files it changed.

use std::path::Path;

use git2::Repository;

use super::WorktreeError;

/// One commit of the history: its subject and the paths it changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastChange {
    /// The message's first line.
    pub subject: String,
    /// Every path it added, changed or deleted (a rename's both names), sorted.
    pub files: Vec<String>,
}

/// The last `depth` commits before and at `HEAD` along first parents, newest first. A pull
/// request's merge is its title and everything it merged; other merges are left out (their files
/// are their branch's commits'). A repository with no commits has no history; a shallow clone's
/// ends where its objects do.
pub fn recent_changes(root: &Path, depth: usize) -> Result<Vec<PastChange>, WorktreeError> {
    let repo = Repository::open(root)?;
    let head = match repo.head() {
        Ok(head) => head.peel_to_commit()?,
        Err(e) if e.code() == git2::ErrorCode::UnbornBranch => return Ok(Vec::new()),
        Err(e) => return Err(e.into()),
    };
    walk(&repo, head, depth)
}

/// As [`recent_changes`], from commit `from` (a task's parent, for a benchmark of the router).
pub fn recent_changes_from(
    root: &Path,
    from: super::Oid,
    depth: usize,
) -> Result<Vec<PastChange>, WorktreeError> {
    let repo = Repository::open(root)?;
    let from = repo.find_commit(from)?;
    walk(&repo, from, depth)
}

fn walk(
    repo: &Repository,
    from: git2::Commit<'_>,
    depth: usize,
) -> Result<Vec<PastChange>, WorktreeError> {
    let mut changes = Vec::new();
    let mut next = Some(from);
    while let Some(commit) = next.take()
        && changes.len() < depth
    {
        let parent = match commit.parent(0) {
            Ok(parent) => Some(parent),
            // A shallow clone's boundary: its parent is not here, nor what it changed.
            Err(_) if commit.parent_count() > 0 => break,
            Err(_) => None,
        };
        let message = String::from_utf8_lossy(commit.message_bytes());
        let subject = match commit.parent_count() {
            0 | 1 => message.lines().next().map(str::trim),
            _ => merged_title(&message),
        };
        if let Some(subject) = subject {
            let old = parent.as_ref().map(git2::Commit::tree).transpose()?;
            let diff = repo.diff_tree_to_tree(old.as_ref(), Some(&commit.tree()?), None)?;
            let files = super::worktree::paths_of(&diff);
            changes.push(PastChange {
                subject: subject.to_owned(),
                files,
            });
        }
        next = parent;
    }
    Ok(changes)
}

/// What a merge of a pull request merged, in its author's words: the title GitHub writes under
/// `Merge pull request #N from ...`. A repository that merges each pull request (clap) has only
/// merges on its first-parent line; any other merge says nothing of its own.
fn merged_title(message: &str) -> Option<&str> {
    let mut lines = message.lines().map(str::trim);
    lines
        .next()?
        .starts_with("Merge pull request #")
        .then_some(())?;
    lines.find(|line| !line.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Commits `files` on `parents` (none: a root commit) with `message`, moving `HEAD` when it
    /// is the first parent (or there is none).
    fn commit(
        repo: &Repository,
        files: &[(&str, &str)],
        message: &str,
        parents: &[git2::Oid],
    ) -> git2::Oid {
        let mut builder = repo.treebuilder(None).expect("builder");
        for (path, text) in files {
            let blob = repo.blob(text.as_bytes()).expect("blob");
            builder.insert(path, blob, 0o100_644).expect("insert");
        }
        let tree = repo
            .find_tree(builder.write().expect("tree"))
            .expect("tree");
        let parents: Vec<git2::Commit<'_>> = parents
            .iter()
            .map(|p| repo.find_commit(*p).expect("parent"))
            .collect();
        let parents: Vec<&git2::Commit<'_>> = parents.iter().collect();
        let sig = git2::Signature::new("T", "t@example.com", &git2::Time::new(0, 0)).expect("sig");
        let head = repo.head().ok().and_then(|h| h.target());
        let update = (head == parents.first().map(|p| p.id())).then_some("HEAD");
        repo.commit(update, &sig, &sig, message, &tree, &parents)
            .expect("commit")
    }

    #[test]
    fn the_history_is_each_commits_subject_and_files_newest_first_a_pull_requests_merge_its_title()
    {
        let dir = tempfile::tempdir().expect("tempdir");
        let repo = Repository::init(dir.path()).expect("init");
        assert_eq!(recent_changes(dir.path(), 10).expect("unborn"), []);
        let first = commit(&repo, &[("a.rs", "a")], "Add a\n\nThe body.", &[]);
        let second = commit(
            &repo,
            &[("a.rs", "a"), ("b.rs", "b")],
            "ledger: add b",
            &[first],
        );
        let side = commit(&repo, &[("c.rs", "c")], "on a branch", &[first]);
        let merged = commit(
            &repo,
            &[("a.rs", "a"), ("b.rs", "b"), ("c.rs", "c")],
            "Merge the branch",
            &[second, side],
        );
        let pull = commit(&repo, &[("d.rs", "d")], "on another branch", &[second]);
        commit(
            &repo,
            &[("a.rs", "a"), ("b.rs", "b"), ("c.rs", "c"), ("d.rs", "d")],
            "Merge pull request #7 from someone/branch\n\nledger: add d\n\nThe body.",
            &[merged, pull],
        );
        let changes = recent_changes(dir.path(), 10).expect("history");
        let seen: Vec<(&str, Vec<&str>)> = changes
            .iter()
            .map(|c| {
                (
                    c.subject.as_str(),
                    c.files.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        // A pull request's merge is its title and all it changed; another merge is left out.
        assert_eq!(
            seen,
            [
                ("ledger: add d", vec!["d.rs"]),
                ("ledger: add b", vec!["b.rs"]),
                ("Add a", vec!["a.rs"])
            ]
        );
        assert_eq!(recent_changes(dir.path(), 1).expect("history").len(), 1);
        let from = recent_changes_from(dir.path(), side, 10).expect("history");
        assert_eq!(from[0].subject, "on a branch");
    }
}
