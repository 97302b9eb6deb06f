#!/usr/bin/env bash
# A whole `nova improve` against what a person runs by hand on the same crate: `cargo clippy --fix`
# followed by one `cargo test`, side by side, both from a cold target directory.
#
#   cargo build --release && bash benches/improve_speed.sh [NOVA_BINARY] [CRATE-VERSION ...]
#
# Environment: MODES, the `--group` modes Nova runs in (default "rule"; "rule single" also times
# one commit per fix); VERIFY=1 checks out every commit of each Nova branch and runs its tests
# there, so "no failing commit" is measured, not assumed. Crates come from the local registry cache
# (fetch one with a throwaway project's `cargo fetch`). Results go in BENCHMARKS.md.
set -uo pipefail

nova="${1:-target/release/nova}"
shift || true
nova="$(realpath "$nova")"
crates=("$@")
if [ ${#crates[@]} -eq 0 ]; then
    crates=(bstr-0.2.17)
fi
modes=(${MODES:-rule})
source "$(dirname "$0")/common/registry.sh"
work="${TMPDIR:-/tmp}/nova-improve-speed"
mkdir -p "$work"

# Clippy's warnings over every target, counted once per code and place.
warnings() {
    clippy_warnings --all-targets
}

# Counts of a run's events: validations, splits, rejected, accepted.
tally() {
    python3 -c '
import json, sys
n = {"candidate_started": 0, "candidate_split": 0, "candidate_rejected": 0, "candidate_accepted": 0}
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)["event"]
    except (ValueError, KeyError):
        continue
    if e in n:
        n[e] += 1
print(n["candidate_started"], n["candidate_split"], n["candidate_rejected"], n["candidate_accepted"])' "$1"
}

printf '| crate | warnings | clippy --fix + cargo test | its tests | nova --group | nova | ratio | commits | validations (split) | rejected | every commit passes |\n'
printf '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n'
for crate in "${crates[@]}"; do
    [ -d "$registry/$crate" ] || { echo "| $crate | not in the registry cache |"; continue; }
    fix="$work/$crate-fix"
    fresh "$crate" "$fix"
    start=$(now)
    (cd "$fix" && cargo clippy --offline --fix --allow-dirty --all-targets >/dev/null 2>&1)
    if (cd "$fix" && cargo test --offline -q >/dev/null 2>&1); then passes=pass; else passes=FAIL; fi
    by_hand=$(since "$start")
    base=$(cd "$fix" && git checkout -q . && warnings)
    for mode in "${modes[@]}"; do
        mine="$work/$crate-nova-$mode"
        fresh "$crate" "$mine"
        start=$(now)
        (cd "$mine" && "$nova" improve --branch nova/speed --group "$mode" --json \
            >"$work/$crate-$mode.jsonl" 2>"$work/$crate-$mode.err")
        seconds=$(since "$start")
        read -r validations splits rejected _ <<<"$(tally "$work/$crate-$mode.jsonl")"
        commits=$(cd "$mine" && git rev-list --count main..nova/speed 2>/dev/null || echo 0)
        ratio=$(python3 -c "print(f'{$seconds / max($by_hand, 1):.2f}x')")
        verified="not checked"
        if [ "${VERIFY:-0}" = 1 ] && [ "$commits" -gt 0 ]; then
            verified=$(every_commit_passes "$mine" nova/speed)
        fi
        printf '| `%s` | %s | %s s | %s | %s | %s s | %s | %s | %s (%s) | %s | %s |\n' \
            "$crate" "$base" "$by_hand" "$passes" "$mode" "$seconds" "$ratio" "$commits" \
            "$validations" "$splits" "$rejected" "$verified"
    done
done
