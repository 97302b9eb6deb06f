"""Times Aider's repo map on the index benchmark's corpus, for BENCHMARKS.md.

    cargo bench --bench index            # makes target/bench-corpus
    python3 -m venv /tmp/aider-venv && /tmp/aider-venv/bin/pip install aider-chat
    taskset -c 0 /tmp/aider-venv/bin/python benches/aider_repomap.py target/bench-corpus

Cold is the first map with Aider's tag cache removed; warm is a second map from the cache.
"""
import os, sys, time, shutil
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
corpus = sys.argv[1]
t0 = time.time()
from aider.repomap import RepoMap
from aider.io import InputOutput
import_time = time.time() - t0

class Model:
    # Aider's own estimate for long texts samples lines; a plain length estimate is used here so
    # that no tokenizer has to be downloaded.
    def token_count(self, text):
        return len(text) // 4

files = []
for d, _, names in os.walk(corpus):
    if "/.nova" in d or "/.git" in d:
        continue
    for n in names:
        if n.endswith(".rs"):
            files.append(os.path.join(d, n))
cache = os.path.join(corpus, ".aider.tags.cache.v4")
shutil.rmtree(cache, ignore_errors=True)
io = InputOutput(pretty=False, yes=True)
def run():
    rm = RepoMap(map_tokens=4096, root=corpus, main_model=Model(), io=io, refresh="always")
    t = time.time()
    m = rm.get_repo_map([], files)
    return time.time() - t, len(m or "")
cold, n = run()
warm, n2 = run()
print(f"aider import {import_time:.2f}s files {len(files)} cold {cold:.2f}s (map {n} chars) warm {warm:.2f}s")
