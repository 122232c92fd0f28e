#!/usr/bin/env bash
# Scoring speed of `adscreen scan` against the peer tools, on EMSCAD job ads; prints a Markdown table.
# Builds nothing: build first (cargo build --profile dist) or point ADSCREEN at a binary.
#
# Run from anywhere (paths below are relative to the repo root):  benches/compare_speed.sh
# Uses ../shared/datasets/emscad-subset/dev.jsonl and ../shared/bench/peers.py (outside the repo);
# everything generated goes to $WORK.
#
# Steps: a stratified holdout (test 0.3, seed 788); peers.py trains on it and times scoring of the test
# ads in-process (one thread, text in -> probability out); BIG.jsonl repeats the test ads' texts up to
# ~BIG_MB MB ({"id","text"}, text = the EMSCAD fields joined by newlines, as peers.py joins them);
# `adscreen scan` reads it with 1 and 2 threads under /usr/bin/time -v (wall, peak RSS); start-up is the
# best of 5 single-ad scans from stdin.
#
# BIG.jsonl holds only ~221 distinct texts, and adscreen's regex automata (lazy DFAs) build their states
# on the text they first see, so BIG shows adscreen on text it has seen before. NEW.jsonl is the other
# case: NEW_ADS ads of new text, each one made by a word Markov chain (benches/markov_ads.py: two words of
# context, seed 788) trained on the training ads, as long as a training ad. peers.py scores NEW too (its
# labels are the length donors', so only its speed means anything), and `adscreen scan` reads it with 1
# and 2 threads.
#
# Environment: ADSCREEN (default target/dist/adscreen), PEERS_PY, PEERS, DATASETS, WORK, BIG_MB (50),
# NEW_ADS (20000: about as much text as BIG), ROUNDS (3).
#
# adscreen's rows are the best of ROUNDS runs (peers.py reports its peers' best of 3), one and two threads
# alternating (1-2, then 2-1, ...); their peak RSS is the largest of the runs; the two-thread ratio is
# printed from the best and from the mean wall times.
set -euo pipefail
shopt -s inherit_errexit   # a failing command inside $(...) must stop the script too
export LC_ALL=C            # '.' as decimal separator for EPOCHREALTIME and awk
cd "$(dirname "$0")/.."

ADSCREEN=${ADSCREEN:-target/dist/adscreen}
PEERS_PY=${PEERS_PY:-/tmp/peers/bin/python}
PEERS=${PEERS:-../shared/bench/peers.py}
DATASETS=${DATASETS:-../shared/datasets}
WORK=${WORK:-${TMPDIR:-/tmp}/adscreen-compare}/speed
BIG_MB=${BIG_MB:-50}
NEW_ADS=${NEW_ADS:-20000}
ROUNDS=${ROUNDS:-3}
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "ROUNDS must be a positive whole number, not '$ROUNDS'" >&2; exit 2; }
mkdir -p "$WORK"
ROWS=$WORK/rows.jsonl

python3 benches/split.py "$DATASETS/emscad-subset/dev.jsonl" "$WORK/holdout" --holdout 0.3 --seed 788

# BIG.jsonl: repeat the test texts until the file is about BIG_MB MB; its stats are the first row.
python3 - "$WORK/holdout/test.jsonl" "$WORK/BIG.jsonl" "$BIG_MB" >"$ROWS" <<'EOF'
import json, math, sys
FIELDS = ("title", "company_profile", "description", "requirements", "benefits")  # as in peers.py
src, dst, mb = sys.argv[1], sys.argv[2], float(sys.argv[3])
recs = [json.loads(l) for l in open(src, encoding="utf-8")]
texts = [(r["id"], r.get("text") or "\n".join(r[k] for k in FIELDS if r.get(k))) for r in recs]
one_pass = sum(len(json.dumps({"id": i, "text": t}, ensure_ascii=False).encode()) + 1 for i, t in texts)
repeat = max(1, math.ceil(mb * 1e6 / one_pass))
with open(dst, "w", encoding="utf-8") as f:
    for k in range(repeat):
        for i, t in texts:
            f.write(json.dumps({"id": f"{i}#{k}", "text": t}, ensure_ascii=False) + "\n")
print(json.dumps({"big_ads": repeat * len(texts), "repeat": repeat, "big_file_mb": round(repeat * one_pass / 1e6, 2),
                  "big_text_mb": round(repeat * sum(len(t.encode()) for _, t in texts) / 1e6, 2)}))
EOF

# NEW.jsonl: new text, generated from the training ads (see the header); its stats are the next row.
python3 benches/markov_ads.py "$WORK/holdout/train.jsonl" "$WORK/NEW.jsonl" "$NEW_ADS" >>"$ROWS"

echo "== peers on the holdout" >&2
"$PEERS_PY" "$PEERS" "$WORK/holdout/train.jsonl" "$WORK/holdout/test.jsonl" | tee "$WORK/peers.jsonl" >&2
cat "$WORK/peers.jsonl" >>"$ROWS"
echo "== peers scoring NEW (speed only)" >&2
"$PEERS_PY" "$PEERS" "$WORK/holdout/train.jsonl" "$WORK/NEW.jsonl" | tee "$WORK/peers-new.jsonl" >&2
python3 -c 'import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l); r["on"] = "new"; print(json.dumps(r))' "$WORK/peers-new.jsonl" >>"$ROWS"

# measure CMD... -> "wall_s peak_rss_kb"; the command's stdout is discarded.
measure() {
  if [[ -x /usr/bin/time ]]; then
    local t0=$EPOCHREALTIME
    /usr/bin/time -v -o "$WORK/time.txt" "$@" >/dev/null
    local t1=$EPOCHREALTIME
    awk -F': ' -v t0="$t0" -v t1="$t1" '/Maximum resident set size/ {print t1 - t0, $2}' "$WORK/time.txt"
  else  # no GNU time: a Python parent reads the child's peak RSS from getrusage
    python3 -c 'import resource, subprocess, sys, time
t = time.perf_counter(); subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL); t = time.perf_counter() - t
print(t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"
  fi
}

have_adscreen() {  # a stub binary (empty main) counts as not built
  local help
  [[ -x $ADSCREEN ]] && help=$("$ADSCREEN" --help 2>&1 || true) && [[ $help == *scan* ]]
}
if have_adscreen; then
  for file in BIG NEW; do
    on=repeated; [[ $file == NEW ]] && on=new
    cat "$WORK/$file.jsonl" >/dev/null   # warm the page cache so the first run is not penalised
    # One and two threads alternate, ROUNDS times, so that drift in the machine's speed falls on
    # both alike.
    for round in $(seq "$ROUNDS"); do
      order="1 2"; (( round % 2 == 0 )) && order="2 1"
      for threads in $order; do
        echo "== adscreen scan $file.jsonl --threads $threads (round $round)" >&2
        measure "$ADSCREEN" scan "$WORK/$file.jsonl" --threads "$threads" --out /dev/null >"$WORK/measure.txt"
        read -r wall rss <"$WORK/measure.txt"
        echo "{\"tool\": \"adscreen scan\", \"on\": \"$on\", \"threads\": $threads, \"wall_s\": $wall, \"rss_kb\": $rss}" >>"$ROWS"
      done
    done
  done
  # Start-up: one tiny ad from stdin, best of 5, so the figure is process start + model load.
  python3 - "$ADSCREEN" >>"$ROWS" <<'EOF'
import json, subprocess, sys, time
def once():
    t = time.perf_counter()
    subprocess.run([sys.argv[1], "scan", "-"], input=b'{"id":"x","text":"hello"}\n', stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t
print(json.dumps({"startup_s": min(once() for _ in range(5))}))
EOF
else
  echo "adscreen: not built ($ADSCREEN has no scan); peers only" >&2
fi

# Tables, one per file. Peers' MB/s = ads/s × mean text size of the ads they scored (the test ads, which BIG
# repeats, or NEW's); adscreen's = the file's text MB / wall time (text only, so both count the same bytes;
# adscreen also parses JSON and writes output).
python3 - "$ROWS" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
big = next(r for r in rows if "big_ads" in r)
new = next(r for r in rows if "new_ads" in r)
files = [("repeated", f"BIG.jsonl: the test ads' texts, repeated ({big['big_ads']:,} ads, {big['big_file_mb']} MB JSONL)",
          big["big_ads"], big["big_text_mb"]),
         ("new", f"NEW.jsonl: {new['new_ads']:,} ads of new text ({new['new_text_mb']} MB of text)",
          new["new_ads"], new["new_text_mb"])]
for key, title, n_ads, text_mb in files:
    table, vw, runs = [], None, {}
    for r in rows:
        if r.get("on", "repeated") != key:
            continue
        if "peer" in r:
            ads = r["score_ads_per_s"]
            table.append([r["peer"] + " (in-process)", "1", ads, ads * text_mb / n_ads, None])
            if r["peer"].startswith("vowpal"):
                vw = ads
        elif r.get("tool") == "adscreen scan":
            runs.setdefault(r["threads"], []).append(r)
    for threads, rs in sorted(runs.items()):
        best = min(r["wall_s"] for r in rs)
        table.append([f"adscreen scan (best of {len(rs)})", str(threads), n_ads / best, text_mb / best,
                      max(r["rss_kb"] for r in rs) / 1024])
    print(f"\n{title}\n")
    print("| tool | threads | ads/s | MB/s (text) | peak RSS (MB) | ads/s ÷ VW |")
    print("| --- | --: | --: | --: | --: | --: |")
    for name, th, ads, mbs, rss in table:
        ratio = f"{ads / vw:.2f}" if vw else "–"
        print(f"| {name} | {th} | {ads:,.0f} | {mbs:.2f} | {'–' if rss is None else f'{rss:.1f}'} | {ratio} |")
    if 1 in runs and 2 in runs:
        walls = {t: [r["wall_s"] for r in runs[t]] for t in (1, 2)}
        best = min(walls[1]) / min(walls[2])
        mean = (sum(walls[1]) / len(walls[1])) / (sum(walls[2]) / len(walls[2]))
        print(f"\nadscreen two threads ÷ one thread: {best:.2f}× (best walls), {mean:.2f}× (mean walls); "
              f"wall seconds, one thread: {', '.join(f'{w:.3f}' for w in walls[1])}; "
              f"two: {', '.join(f'{w:.3f}' for w in walls[2])}")
for r in rows:
    if "startup_s" in r:
        print(f"\nadscreen start-up (scan of one ad from stdin, best of 5): {r['startup_s'] * 1000:.1f} ms")
EOF
