#!/usr/bin/env bash
# Is adscreen's peak memory flat in input size? Streams PARTS files of new ad text (benches/markov_ads.py,
# ADS_PER_PART ads each, seeds 788, 789, ...: about 1 GB each by default) one after another through standard
# input into `adscreen scan - --threads THREADS`, and every SAMPLE_S seconds prints the input bytes the
# process has read (/proc/PID/io rchar) and its resident memory now and at peak (/proc/PID/status VmRSS,
# VmHWM). Ends with /usr/bin/time's peak RSS and the summary line. Linux only.
#
# Run from anywhere: benches/memory_flat.sh   (build first: cargo build --profile dist)
# Environment: ADSCREEN (default target/dist/adscreen), DATASETS, WORK, PARTS (3), ADS_PER_PART (420000),
# THREADS (2), SAMPLE_S (10). The generated files are kept in $WORK and reused.
set -euo pipefail
shopt -s inherit_errexit
export LC_ALL=C
cd "$(dirname "$0")/.."

ADSCREEN=${ADSCREEN:-target/dist/adscreen}
DATASETS=${DATASETS:-../shared/datasets}
WORK=${WORK:-${TMPDIR:-/tmp}/adscreen-compare}/memory
PARTS=${PARTS:-3}
ADS_PER_PART=${ADS_PER_PART:-420000}
THREADS=${THREADS:-2}
SAMPLE_S=${SAMPLE_S:-10}
for v in PARTS ADS_PER_PART THREADS SAMPLE_S; do
  [[ ${!v} =~ ^[1-9][0-9]*$ ]] || { echo "$v must be a positive whole number, not '${!v}'" >&2; exit 2; }
done
mkdir -p "$WORK"

python3 benches/split.py "$DATASETS/emscad-subset/dev.jsonl" "$WORK/holdout" --holdout 0.3 --seed 788 >&2
parts=()
for k in $(seq 0 $((PARTS - 1))); do
  f=$WORK/new-$((788 + k))-$ADS_PER_PART.jsonl
  if [[ ! -s $f ]]; then
    echo "== generating $f" >&2
    python3 benches/markov_ads.py "$WORK/holdout/train.jsonl" "$f.part" "$ADS_PER_PART" --seed $((788 + k)) >&2
    mv "$f.part" "$f"
  fi
  parts+=("$f")
done
echo "== input: ${parts[*]} ($(stat -c %s "${parts[@]}" | awk '{s += $1} END {printf "%.0f", s}') bytes)" >&2

cat "${parts[@]}" | /usr/bin/time -f "peak RSS (time): %M KB, %e s" \
  "$ADSCREEN" scan - --threads "$THREADS" --out /dev/null &
# $! is /usr/bin/time; adscreen is its only child (found by parent, not by name: ADSCREEN may be
# a binary of another name).
timer=$!
pid=
while [[ -z $pid ]] && kill -0 "$timer" 2>/dev/null; do
  sleep 0.1
  pid=$(pgrep -P "$timer" | head -n 1 || true)
done
[[ -n $pid ]] || { wait "$timer"; echo "(finished before the first sample)" >&2; exit 0; }
echo "seconds	input_MB	rss_MB	peak_rss_MB"
start=$SECONDS
while kill -0 "$pid" 2>/dev/null; do
  read_b=$(awk '/^rchar/ {print $2}' "/proc/$pid/io" 2>/dev/null || true)
  rss=$(awk '/^VmRSS/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
  hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
  [[ -n $read_b && -n $rss && -n $hwm ]] &&
    printf '%d\t%.0f\t%.1f\t%.1f\n' $((SECONDS - start)) "$(echo "$read_b / 1000000" | bc -l)" \
      "$(echo "$rss / 1024" | bc -l)" "$(echo "$hwm / 1024" | bc -l)"
  sleep "$SAMPLE_S"
done
wait
