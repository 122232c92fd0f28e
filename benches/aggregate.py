#!/usr/bin/env python3
"""Collects per-fold accuracy results and prints mean ± std per dataset and tool as a Markdown table.

Usage:
  aggregate.py tag KEY=VALUE... < tool-output  -> the JSON objects read (one per line, or pretty-printed),
                                                 with the given keys added, as compact JSON lines
  aggregate.py table [FILE...]                 -> reads tagged JSON lines (stdin if no FILE), prints the table

A record counts if it has `roc_auc`; others (e.g. peers.py's header line) are skipped. The tool's name is
`tool`, else peers.py's `peer`. F1 is `best_f1` (peers: best over all thresholds of the test set itself,
an optimistic oracle) or `f1` (adscreen: at the threshold it chose when training). Standard library only.
"""
import json
import statistics
import sys


def read_objects(text):
    """Every JSON object in text, whether one per line or pretty-printed across lines."""
    dec, i, out = json.JSONDecoder(), 0, []
    while True:
        while i < len(text) and text[i].isspace():
            i += 1
        if i == len(text):
            return out
        obj, i = dec.raw_decode(text, i)
        out.append(obj)


def tag(pairs):
    extra = dict(p.split("=", 1) for p in pairs)
    objs = read_objects(sys.stdin.read())
    if not objs:
        sys.exit("aggregate.py tag: no JSON object on stdin")
    for obj in objs:
        print(json.dumps({**extra, **obj}))


def fmt(values):
    if not values:
        return "–"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.4f} ± {sd:.4f}"


def table(paths):
    groups = {}  # (dataset, tool) -> list of records, in first-seen order
    for path in paths or ["-"]:
        text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
        for r in read_objects(text):
            if "roc_auc" in r:
                groups.setdefault((r.get("dataset", "?"), r.get("tool") or r.get("peer", "?")), []).append(r)
    if not groups:
        sys.exit("aggregate.py table: no result records")
    print("| dataset | tool | folds | ROC-AUC | PR-AUC | F1 |")
    print("| --- | --- | --: | --- | --- | --- |")
    for (ds, tool), rs in groups.items():
        f1_key = "f1" if "f1" in rs[0] else "best_f1"
        col = lambda k: [float(r[k]) for r in rs if r.get(k) is not None]
        label = tool + (" (F1 at own threshold)" if f1_key == "f1" else " (best F1, oracle)")
        print(f"| {ds} | {label} | {len(rs)} | {fmt(col('roc_auc'))} | {fmt(col('pr_auc'))} | {fmt(col(f1_key))} |")


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "tag":
        tag(sys.argv[2:])
    elif len(sys.argv) >= 2 and sys.argv[1] == "table":
        table(sys.argv[2:])
    else:
        sys.exit(__doc__)
