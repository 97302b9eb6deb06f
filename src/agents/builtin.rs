//! The built-in agent set, embedded in the binary from `agents/` at the root of Nova's source.
//! A test checks that this list and the directory agree.

/// `(path in Nova's source, contents)` for every built-in agent file.
pub(super) const AGENTS: &[(&str, &str)] = &[
    embed!("router.md"),
    embed!("planner.md"),
    embed!("correctness-reviewer.md"),
    embed!("error-handling-reviewer.md"),
    embed!("performance-reviewer.md"),
    embed!("test-reviewer.md"),
    embed!("docs-reviewer.md"),
    embed!("security-reviewer.md"),
    embed!("refactorer.md"),
    embed!("fixer.md"),
    embed!("test-writer.md"),
    embed!("doc-writer.md"),
    embed!("committer.md"),
    embed!("chat.md"),
    embed!("evolver.md"),
];

/// `(path in Nova's source, contents)` for every built-in pipeline.
pub(super) const PIPELINES: &[(&str, &str)] = &[
    embed!("pipelines/improve.toml"),
    embed!("pipelines/review.toml"),
    embed!("pipelines/ask.toml"),
];

/// The pipelines Nova's own commands run; every agent set must have them.
pub const REQUIRED_PIPELINES: &[&str] = &["improve", "review", "ask"];

macro_rules! embed {
    ($file:literal) => {
        (
            concat!("agents/", $file),
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/agents/", $file)),
        )
    };
}
use embed;

/// The text of the built-in agent file `file` (`refactorer.md`).
pub fn agent(file: &str) -> Option<&'static str> {
    AGENTS
        .iter()
        .find(|(path, _)| path.rsplit('/').next() == Some(file))
        .map(|(_, text)| *text)
}
