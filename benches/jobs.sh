#!/usr/bin/env bash
# What `nova improve --jobs N` gains: the same bisection of a refused group, proved one half at a
# time and side by side. A test planted in the crate pins one line a machine fix changes, so the
# pass's group is refused and bisected down to that fix.
#
#   cargo build --release && bash benches/jobs.sh [NOVA_BINARY] [CRATE-VERSION FILE LINE-TEXT]
#
# Default: bstr 0.2.17, pinning `return at + first_non_ascii_byte_mask(maskb);` in src/ascii.rs
# (a `needless_return` among the 36 fixes of its first pass). Each run starts from a fresh copy
# with a cold target dir. Environment: JOBS, the `--jobs` values to time (default "1 2"). Every
# commit of each branch is then checked out and tested (`cargo test`). Results go in BENCHMARKS.md.
set -uo pipefail

nova="$(realpath "${1:-target/release/nova}")"
crate="${2:-bstr-0.2.17}"
file="${3:-src/ascii.rs}"
pinned="${4:-return at + first_non_ascii_byte_mask(maskb);}"
source "$(dirname "$0")/common/registry.sh"
work="${TMPDIR:-/tmp}/nova-jobs"
mkdir -p "$work"

# A test that fails once `pinned` is gone from `file`.
plant() {
    mkdir -p "$1/tests"
    python3 - "$1/tests/nova_pinned.rs" "$file" "$pinned" <<'EOF'
import json, sys
out, file, text = sys.argv[1:]
with open(out, "w") as f:
    f.write("#[test]\nfn the_pinned_line_stays() {\n")
    f.write(f"    let source = include_str!(concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/{file}\"));\n")
    f.write(f"    assert!(source.contains({json.dumps(text)}));\n}}\n")
EOF
    (cd "$1" && git add -A && git -c user.name=b -c user.email=b@b commit -qm "pin a line")
}

# Counts of a run's events: validations, and rounds (validations started together count once).
tally() {
    python3 -c '
import json, sys
validations = rounds = 0
last = None
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)["event"]
    except (ValueError, KeyError):
        continue
    if e == "candidate_started":
        validations += 1
        if last != "candidate_started":
            rounds += 1
    if e.startswith("candidate_"):
        last = e
print(validations, rounds)' "$1"
}

printf '| crate | --jobs | nova | validations | rounds | commits | the pinned line kept | every commit passes |\n'
printf '| --- | --- | --- | --- | --- | --- | --- | --- |\n'
for jobs in ${JOBS:-1 2}; do
    dir="$work/$crate-$jobs"
    fresh "$crate" "$dir"
    plant "$dir"
    start=$(now)
    (cd "$dir" && "$nova" improve --branch nova/jobs --group pass --jobs "$jobs" --json \
        >"$work/$crate-$jobs.jsonl" 2>"$work/$crate-$jobs.err")
    seconds=$(since "$start")
    read -r validations rounds <<<"$(tally "$work/$crate-$jobs.jsonl")"
    commits=$(cd "$dir" && git rev-list --count main..nova/jobs 2>/dev/null || echo 0)
    kept=no
    (cd "$dir" && git show "nova/jobs:$file" 2>/dev/null | grep -qF "$pinned") && kept=yes
    printf '| `%s` | %s | %s s | %s | %s | %s | %s | %s |\n' "$crate" "$jobs" "$seconds" \
        "$validations" "$rounds" "$commits" "$kept" "$(every_commit_passes "$dir" nova/jobs)"
done
