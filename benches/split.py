#!/usr/bin/env python3
"""Stratified, seeded splits of a labelled JSON Lines file, so every tool is scored on the same folds.

Usage:
  split.py INPUT.jsonl OUTDIR --folds K --seed S      -> OUTDIR/fold{i}/{train,test}.jsonl, i = 0..K-1
  split.py INPUT.jsonl OUTDIR --holdout F --seed S    -> OUTDIR/{train,test}.jsonl, test fraction F

Each record's original line is copied verbatim (only `label` is parsed), in input order.
Standard library only, so it runs without the peers' venv.
"""
import argparse
import json
import os
import random


def write(path, lines, idx):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        for i in sorted(idx):  # input order: the split never depends on how a file is read back
            f.write(lines[i])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("input")
    ap.add_argument("outdir")
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--folds", type=int, help="K for stratified K-fold (K >= 2)")
    mode.add_argument("--holdout", type=float, help="test fraction F for one stratified train/test split")
    ap.add_argument("--seed", type=int, default=788)
    a = ap.parse_args()
    if a.folds is not None and a.folds < 2:
        ap.error("--folds must be at least 2")
    if a.holdout is not None and not 0.0 < a.holdout < 1.0:
        ap.error("--holdout must be in (0, 1)")

    with open(a.input, encoding="utf-8", newline="") as f:
        lines = [l if l.endswith("\n") else l + "\n" for l in f if l.strip()]
    by_label = {}
    for i, line in enumerate(lines):
        by_label.setdefault(int(json.loads(line)["label"]), []).append(i)

    # One generator, classes in sorted order: same seed + same file -> same split, on any machine.
    rng = random.Random(a.seed)
    for label in sorted(by_label):
        rng.shuffle(by_label[label])

    if a.folds is not None:
        folds = [[] for _ in range(a.folds)]
        # Deal round-robin; the counter carries over between classes so fold sizes differ by <= 1.
        k = 0
        for label in sorted(by_label):
            for i in by_label[label]:
                folds[k % a.folds].append(i)
                k += 1
        for f, test in enumerate(folds):
            test_set = set(test)
            train = [i for i in range(len(lines)) if i not in test_set]
            write(os.path.join(a.outdir, f"fold{f}", "train.jsonl"), lines, train)
            write(os.path.join(a.outdir, f"fold{f}", "test.jsonl"), lines, test)
    else:
        test = []
        for label in sorted(by_label):
            idx = by_label[label]
            test += idx[: round(len(idx) * a.holdout)]  # per class, so the test set keeps the class mix
        test_set = set(test)
        write(os.path.join(a.outdir, "train.jsonl"), lines, [i for i in range(len(lines)) if i not in test_set])
        write(os.path.join(a.outdir, "test.jsonl"), lines, test)


if __name__ == "__main__":
    main()
