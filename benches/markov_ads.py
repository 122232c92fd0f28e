#!/usr/bin/env python3
"""New ad text for the speed and memory benchmarks: each ad made by a word Markov chain (two words of
context) trained on the training ads, as long as a randomly chosen training ad (its "donor", whose label
it carries; only the speed read from these ads means anything).

Usage: markov_ads.py TRAIN.jsonl OUT.jsonl N_ADS [--seed S]   (OUT "-" = standard output)
Prints {"new_ads": N, "new_text_mb": MB} on standard output (on standard error when OUT is "-").
"""
import argparse, collections, json, random, re, sys

FIELDS = ("title", "company_profile", "description", "requirements", "benefits")

ap = argparse.ArgumentParser()
ap.add_argument("train"); ap.add_argument("out"); ap.add_argument("n_ads", type=int)
ap.add_argument("--seed", type=int, default=788)
args = ap.parse_args()

recs = [json.loads(l) for l in open(args.train, encoding="utf-8")]
texts = [(r.get("text") or "\n".join(r[k] for k in FIELDS if r.get(k)), int(r["label"])) for r in recs]
words = lambda t: re.findall(r"\S+|\n", t)
follow = collections.defaultdict(list)
for t, _ in texts:
    w = ["<s>", "<s>"] + words(t) + ["</s>"]
    for a, b, c in zip(w, w[1:], w[2:]):
        follow[(a, b)].append(c)
rng = random.Random(args.seed)
text_bytes = 0
f = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")
for i in range(args.n_ads):
    donor, label = rng.choice(texts)
    want, out, ctx = len(words(donor)), [], ("<s>", "<s>")
    while len(out) < want:
        c = rng.choice(follow[ctx])
        if c == "</s>":
            out.append("\n"); ctx = ("<s>", "<s>"); continue
        out.append(c); ctx = (ctx[1], c)
    text = re.sub(r" ?\n ?", "\n", " ".join(out)).strip()
    text_bytes += len(text.encode())
    f.write(json.dumps({"id": f"new-{i}", "label": label, "text": text}, ensure_ascii=False) + "\n")
f.flush()
stats = json.dumps({"new_ads": args.n_ads, "new_text_mb": round(text_bytes / 1e6, 2)})
print(stats, file=sys.stderr if args.out == "-" else sys.stdout)
