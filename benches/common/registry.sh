# Shared by the shell benches that work on crates from the local registry cache
# (`fix_parity.sh`, `improve_speed.sh`, `jobs.sh`): source it.

registry="$(ls -d "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/ | head -1)"

# The clock, and whole seconds since a reading of it.
now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.0f}')" "$1" "$(now)"; }

# fresh CRATE-VERSION DIR: DIR made anew from the crate's registry source, as a git repository
# with one commit on `main`, its dependencies fetched (everything after this runs offline).
fresh() {
    rm -rf "$2"
    cp -r "$registry/$1" "$2"
    (cd "$2" && git init -q -b main && git add -A && git -c user.name=b -c user.email=b@b commit -qm base)
    (cd "$2" && cargo fetch -q >/dev/null 2>&1)
}

# clippy_warnings [CARGO CLIPPY FLAGS...]: clippy's warnings in the current directory, counted
# once per code and place.
clippy_warnings() {
    cargo clippy --offline "$@" --message-format=json 2>/dev/null |
        python3 -c '
import json, sys
seen = set()
for line in sys.stdin:
    try:
        m = json.loads(line)
    except ValueError:
        continue
    d = m.get("message") if m.get("reason") == "compiler-message" else None
    if not d or d["level"] != "warning" or not d.get("code") or not d["spans"]:
        continue
    s = next((s for s in d["spans"] if s["is_primary"]), d["spans"][0])
    seen.add((d["code"]["code"], s["file_name"], s["byte_start"]))
print(len(seen))'
}

# every_commit_passes DIR BRANCH: "yes" when every commit of BRANCH after main passes `cargo test`
# on its own tree, checked out in DIR (left on main).
every_commit_passes() {
    local dir=$1 branch=$2 failed=0
    for commit in $(cd "$dir" && git rev-list --reverse "main..$branch"); do
        (cd "$dir" && git checkout -q "$commit" && cargo test --offline -q >/dev/null 2>&1) || failed=$((failed + 1))
    done
    (cd "$dir" && git checkout -q main)
    if [ "$failed" -eq 0 ]; then echo yes; else echo "no ($failed failing)"; fi
}
