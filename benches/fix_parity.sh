#!/usr/bin/env bash
# Nova's builtin brain against `cargo clippy --fix`, on crates from the local registry cache.
#
#   cargo build --release && bash benches/fix_parity.sh [NOVA_BINARY] [CRATE-VERSION ...]
#
# For each crate, two fresh git repositories are made from its registry source:
# - one gets `cargo clippy --fix --all-targets`, then `cargo test` says whether the result passes;
# - the other gets `nova improve --branch nova/parity`, then the branch is checked out.
# Warnings are counted on each result outside test code, the code Nova protects: clippy over the
# library, binaries and examples, not in test mode (so `#[cfg(test)]` items, `#[test]` functions,
# `tests/` and `benches/` are not compiled). Also counted: Nova's commits, its rejections, and those
# rejected because a doctest disappeared. Results go in BENCHMARKS.md.
set -uo pipefail

nova="${1:-target/release/nova}"
shift || true
nova="$(realpath "$nova")"
crates=("$@")
if [ ${#crates[@]} -eq 0 ]; then
    crates=(bitflags-1.3.2 strsim-0.10.0 event-listener-2.5.3 async-channel-1.9.0
            getrandom-0.2.17 base64-0.22.1 bit-vec-0.8.0 semver-1.0.28 httparse-1.10.1
            slab-0.4.12)
fi
source "$(dirname "$0")/common/registry.sh"
work="${TMPDIR:-/tmp}/nova-fix-parity"
mkdir -p "$work"

# Warnings of default clippy outside test code, in the current directory.
count() {
    clippy_warnings --lib --bins --examples
}

printf '| crate | base | clippy --fix: tests | clippy --fix: left | nova: commits | nova: rejected (doctest gone) | nova: left |\n'
printf '| --- | --- | --- | --- | --- | --- | --- |\n'
for crate in "${crates[@]}"; do
    [ -d "$registry/$crate" ] || { echo "| $crate | not in the registry cache | | | | | |"; continue; }
    fix="$work/$crate-fix"
    mine="$work/$crate-nova"
    fresh "$crate" "$fix"
    base=$(cd "$fix" && count)
    (cd "$fix" && cargo clippy --offline --fix --allow-dirty --all-targets >/dev/null 2>&1)
    if (cd "$fix" && cargo test --offline -q >/dev/null 2>&1); then passes=pass; else passes=FAIL; fi
    fixed=$(cd "$fix" && count)

    fresh "$crate" "$mine"
    (cd "$mine" && "$nova" improve --branch nova/parity >"$work/$crate.out" 2>"$work/$crate.err")
    commits=$(cd "$mine" && git rev-list --count main..nova/parity 2>/dev/null || echo 0)
    rejected=$(awk '/^Rejected:/{r=1;next} /^[A-Z][a-z]+( [a-z]+)*:/{r=0} r&&/^  /{n++} END{print n+0}' "$work/$crate.out")
    doctests=$(awk '/^Rejected:/{r=1;next} /^[A-Z][a-z]+( [a-z]+)*:/{r=0} r&&/\(doc\)|Doc-tests|doc [a-z_]+::/ && /disappeared/{n++} END{print n+0}' "$work/$crate.out")
    if [ "$commits" -gt 0 ]; then (cd "$mine" && git checkout -q nova/parity); fi
    left=$(cd "$mine" && count)
    if grep -q "does not build or pass its tests" "$work/$crate.out"; then left="base refused"; fi
    printf '| `%s` | %s | %s | %s | %s | %s (%s) | %s |\n' \
        "$crate" "$base" "$passes" "$fixed" "$commits" "$rejected" "$doctests" "$left"
done
