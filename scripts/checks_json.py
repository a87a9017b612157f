"""Writes recorded benchmark checks for the demo report (docs/benchmarks/*-checks.json): {setup, command, checks: [{title,
header, rows, finding}]}. merge() replaces the checks of the same titles and keeps the others, so several summarising
scripts can fill one file."""
import json
import os


def merge(path, setup, command, checks):
    root = {"setup": setup, "command": command, "checks": []}
    if os.path.exists(path):
        with open(path) as f:
            root = json.load(f)
        root["setup"], root["command"] = setup, command
    titles = {c["title"] for c in checks}
    root["checks"] = [c for c in root["checks"] if c["title"] not in titles] + checks
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(root, f, indent=1, ensure_ascii=False)
        f.write("\n")
    os.replace(tmp, path)
