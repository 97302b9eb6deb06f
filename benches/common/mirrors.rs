//! The repositories the routing and map benchmarks take commits from: Nova itself, or a mirror
//! the search tool's `fetch` brought (`<mirrors>/<owner+name>/repo`), and the held-out quarter of
//! their commits.

use std::path::{Path, PathBuf};

/// A repository's name, and its mirror's directory name (`None`: Nova's own repository).
pub type Repo = (&'static str, Option<&'static str>);

/// Where the git directory of the repository `name` of `repos` is, when it is there.
pub fn repo_dir(root: &Path, mirrors: &Path, repos: &[Repo], name: &str) -> Option<PathBuf> {
    let (_, mirror) = repos.iter().find(|(n, _)| *n == name)?;
    let dir = match mirror {
        None => root.to_owned(),
        Some(mirror) => mirrors.join(mirror).join("repo"),
    };
    dir.exists().then_some(dir)
}

/// Whether `commit` is held out: a quarter of the commits, by the commit's hash.
pub fn held_out(commit: &str) -> bool {
    nova::hash::fnv1a(commit.as_bytes()).is_multiple_of(4)
}
