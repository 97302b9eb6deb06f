//! The built-in rule pack, embedded in the binary from `rules/` at the root of Nova's source.
//! A test checks that this list and the directory agree.

/// `(path in Nova's source, contents)` for every built-in rule file.
pub(super) const RULES: &[(&str, &str)] = &[
    embed!("rust/allow-without-reason.toml"),
    embed!("rust/blocking-in-async.toml"),
    embed!("rust/clone-in-loop.toml"),
    embed!("rust/dbg-macro.toml"),
    embed!("rust/deep-nesting.toml"),
    embed!("rust/empty-expect-message.toml"),
    embed!("rust/env-var-in-lib.toml"),
    embed!("rust/eprint-in-lib.toml"),
    embed!("rust/expect-in-lib.toml"),
    embed!("rust/hardcoded-secret.toml"),
    embed!("rust/ignored-result.toml"),
    embed!("rust/ignored-test-without-reason.toml"),
    embed!("rust/indexing-in-lib.toml"),
    embed!("rust/lock-across-await.toml"),
    embed!("rust/lock-unwrap.toml"),
    embed!("rust/long-function.toml"),
    embed!("rust/map-unwrap-or.toml"),
    embed!("rust/mem-forget.toml"),
    embed!("rust/panic-in-lib.toml"),
    embed!("rust/print-in-lib.toml"),
    embed!("rust/process-exit-in-lib.toml"),
    embed!("rust/pub-fn-without-docs.toml"),
    embed!("rust/pub-type-without-docs.toml"),
    embed!("rust/shell-command.toml"),
    embed!("rust/sleep-in-test.toml"),
    embed!("rust/test-without-assertion.toml"),
    embed!("rust/todo-comment.toml"),
    embed!("rust/todo-macro.toml"),
    embed!("rust/transmute.toml"),
    embed!("rust/truncating-cast.toml"),
    embed!("rust/unimplemented-macro.toml"),
    embed!("rust/unreachable-in-lib.toml"),
    embed!("rust/unsafe-impl-send-sync.toml"),
    embed!("rust/unsafe-without-safety.toml"),
    embed!("rust/unwrap-in-lib.toml"),
    embed!("rust/unwrap-or-call.toml"),
];

macro_rules! embed {
    ($file:literal) => {
        (
            concat!("rules/", $file),
            include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/rules/", $file)),
        )
    };
}
use embed;
