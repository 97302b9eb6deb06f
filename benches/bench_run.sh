#!/usr/bin/env bash
# Nova's own time per task in `nova bench run`, with an oracle model that answers at once
# (`oracle_model.py`): the task's tree put in the scratch repository, routing, the landing of the
# change (the task's base and the change proved in the sandbox, the commit), and the hidden checks.
# What a real model adds is its own time and tokens. The last round runs the same build as
# another build of Nova (`--nova`): each task is then a separate `nova ask` in the sandbox.
#
# usage: bash benches/bench_run.sh NOVA CRATE-VERSION [COUNT]
#   e.g. bash benches/bench_run.sh target/release/nova strsim-0.11.1 8
set -euo pipefail
nova="$(realpath "$1")"
crate="$2"
count="${3:-8}"
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/common/registry.sh"

work="$(mktemp -d)"
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
fresh "$crate" "$work/repo"
cd "$work/repo"
start=$(now)
"$nova" bench make --count "$count" --seed 1 --out tasks.json -q
echo "bench make: $(since "$start") s for $count tasks"
python3 "$here/oracle_model.py" tasks.json "$work/port" &
server=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
export ORACLE_KEY=unused
flags=(--provider openai --base-url "http://127.0.0.1:$(cat "$work/port")/v1" --api-key-env ORACLE_KEY --model oracle)
for round in cold warm build; do
    extra=()
    [ "$round" = build ] && extra=(--nova "$nova")
    start=$(now)
    "$nova" bench run tasks.json "${flags[@]}" "${extra[@]}" --name "$round" -q > "$work/$round.txt"
    echo "bench run ($round): $(since "$start") s; $(tail -1 "$work/$round.txt")"
done
