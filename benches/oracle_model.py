#!/usr/bin/env python3
"""An OpenAI-compatible chat endpoint on 127.0.0.1 that answers instantly as an oracle for a task
set made by `nova bench make`: asked about a seeded defect, it proposes the edit that takes the
defect back out (it reads the set's file, which the agents never see); asked for a commit
message, it gives one; otherwise it finishes. Nova's own time per task is then all that is
measured (`benches/bench_run.sh`).

usage: oracle_model.py SET PORT_FILE
"""

import json
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SET = json.load(open(sys.argv[1]))
REPO = SET["repository"]


def seeded_and_original(task):
    source = task["source"]
    original = subprocess.run(
        ["git", "-C", REPO, "show", f"{task['commit']}:{source['path']}"],
        capture_output=True, check=True,
    ).stdout
    start, end = source["start"], source["end"]
    seeded = original[:start] + source["replacement"].encode() + original[end:]
    return source["path"], seeded.decode(), original.decode(), start, len(source["replacement"])


def revert(task):
    path, seeded, original, start, length = seeded_and_original(task)
    before = seeded[:start]
    line_start = before.rstrip("\n").rfind("\n", 0, before.rfind("\n") if "\n" in before else 0)
    line_start = 0 if line_start < 0 else line_start + 1
    to = start + length
    for _ in range(2):
        nl = seeded.find("\n", to)
        to = len(seeded) if nl < 0 else nl + 1
    suffix = len(seeded) - to
    search = seeded[line_start:to]
    replace = original[line_start:len(original) - suffix]
    return f"{path}\n```\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n```\n"


FIXES = [(t["statement"].strip(), revert(t)) for t in SET["tasks"] if t["source"]["kind"] == "mutant"]


def call(name, arguments):
    chunks = [
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "c", "type": "function",
                                                              "function": {"name": name, "arguments": json.dumps(arguments)}}]}}]},
        {"choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]},
        {"choices": [], "usage": {"prompt_tokens": 0, "completion_tokens": 0}},
    ]
    return "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        messages = body.get("messages", [])
        system = str(messages[0].get("content", "")) if messages else ""
        text = json.dumps(body)
        tools = [m for m in messages if m.get("role") == "tool"]
        refused = sum(1 for m in tools if str(m.get("content", "")).startswith("error"))
        if "You write the commit message" in system:
            reply = call("finish", {"text": "Take the defect out"})
        elif tools and refused == 0:
            reply = call("finish", {"text": "Fixed"})
        else:
            candidates = [edit for statement, edit in FIXES if json.dumps(statement)[1:-1] in text]
            if refused < len(candidates):
                reply = call("propose_edit", {"edits": candidates[refused]})
            else:
                reply = call("finish", {"text": "Not found"})
        data = reply.encode()
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
open(sys.argv[2], "w").write(str(server.server_address[1]))
server.serve_forever()
