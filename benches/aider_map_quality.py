"""Aider's repo map on the map-quality benchmark's cases, for BENCHMARKS.md.

    python3 -m venv /tmp/aider-venv && /tmp/aider-venv/bin/pip install aider-chat==0.86.2
    cargo bench --bench map_quality -- --split test --cases target/map-quality/cases.json
    /tmp/aider-venv/bin/python benches/aider_map_quality.py target/map-quality/cases.json \
        target/map-quality/aider
    cargo bench --bench map_quality -- --split test --aider target/map-quality/aider

Each case's tree is the commit's parent; Aider gets every `.rs` file as an "other" file and the
case's focus names (the message's words that name a definition) as mentioned identifiers, the
same names the grep baseline gets. Tokens are counted with `o200k_base`, read from the copy the
tiktoken-rs crate ships (nothing is downloaded), as Nova counts them.
"""
import glob, json, os, sys

os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
import tiktoken
from tiktoken.load import load_tiktoken_bpe
from aider.io import InputOutput
from aider.repomap import RepoMap

cases_path, out_dir = sys.argv[1], sys.argv[2]
os.makedirs(out_dir, exist_ok=True)
assets = glob.glob(
    os.path.expanduser("~/.cargo/registry/src/*/tiktoken-rs-*/assets/o200k_base.tiktoken")
)
encoding = tiktoken.Encoding(
    name="o200k_base",
    pat_str="|".join(
        [
            r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
            r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
            r"""\p{N}{1,3}""",
            r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
            r"""\s*[\r\n]+""",
            r"""\s+(?!\S)""",
            r"""\s+""",
        ]
    ),
    mergeable_ranks=load_tiktoken_bpe(sorted(assets)[-1]),
    special_tokens={},
)


class Model:
    def token_count(self, text):
        return len(encoding.encode_ordinary(text))


io = InputOutput(pretty=False, yes=True)
cases = json.load(open(cases_path))
for case in cases:
    tree = case["tree"]
    files = []
    for d, _, names in os.walk(tree):
        files.extend(os.path.join(d, n) for n in names if n.endswith(".rs"))
    for budget in (1024, 4096):
        rm = RepoMap(map_tokens=budget, root=tree, main_model=Model(), io=io, refresh="always")
        text = rm.get_repo_map([], sorted(files), mentioned_idents=set(case["names"])) or ""
        with open(os.path.join(out_dir, f"{case['id']}-{budget}.txt"), "w") as out:
            out.write(text)
    print(case["id"], flush=True)
