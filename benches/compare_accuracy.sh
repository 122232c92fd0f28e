#!/usr/bin/env bash
# Accuracy of adscreen against peer tools (scikit-learn, fastText, Vowpal Wabbit) on the same
# stratified 5-fold splits (seed 788) of the shared datasets; prints mean ± std as a Markdown table.
#
# Run from anywhere (paths below are relative to the repo root):  benches/compare_accuracy.sh
# Uses ../shared/datasets/{sms-spam/train.jsonl,emscad-subset/dev.jsonl} and ../shared/bench/peers.py,
# which stay outside the repo; splits and models go to $WORK, never into the repo.
# Peers need a venv once:  python3 -m venv /tmp/peers && /tmp/peers/bin/pip install scikit-learn numpy fasttext-wheel vowpalwabbit
#
# Environment: ADSCREEN (default target/release/adscreen; skipped if not built), PEERS_PY (python of
# the peers' venv), RUN_PEERS=0 to score adscreen only, WORK (scratch dir), DATASETS, PEERS.
set -euo pipefail
cd "$(dirname "$0")/.."

ADSCREEN=${ADSCREEN:-target/release/adscreen}
PEERS_PY=${PEERS_PY:-/tmp/peers/bin/python}
PEERS=${PEERS:-../shared/bench/peers.py}
DATASETS=${DATASETS:-../shared/datasets}
WORK=${WORK:-${TMPDIR:-/tmp}/adscreen-compare}
RUN_PEERS=${RUN_PEERS:-1}
FOLDS=5 SEED=788

# A stub binary (e.g. an empty main while the CLI is written) is "not built" too: require the subcommands.
have_adscreen() {
  local help
  [[ -x $ADSCREEN ]] && help=$("$ADSCREEN" --help 2>&1 || true) && [[ $help == *train* && $help == *eval* ]]
}
if ! have_adscreen; then echo "adscreen: not built ($ADSCREEN has no train/eval); scoring peers only" >&2; fi
[[ $RUN_PEERS == 0 || -x $PEERS_PY ]] || { echo "no peers venv at $PEERS_PY (see header)" >&2; exit 1; }

mkdir -p "$WORK"
RESULTS=$WORK/results.jsonl
: >"$RESULTS"

# name | data file | adscreen text-field args (SMS has a single `text` field, adscreen's default)
for spec in "sms-spam|sms-spam/train.jsonl|" \
            "emscad|emscad-subset/dev.jsonl|--text-fields title,company_profile,description,requirements,benefits"; do
  IFS='|' read -r ds file fields <<<"$spec"
  read -ra TEXT_FIELDS_ARGS <<<"$fields"
  python3 benches/split.py "$DATASETS/$file" "$WORK/$ds" --folds $FOLDS --seed $SEED
  for ((i = 0; i < FOLDS; i++)); do
    fold=$WORK/$ds/fold$i
    echo "== $ds fold $i" >&2
    if [[ $RUN_PEERS != 0 ]]; then
      # Keep each raw output beside its fold, then tag it with dataset/fold for the aggregator.
      "$PEERS_PY" "$PEERS" "$fold/train.jsonl" "$fold/test.jsonl" | tee "$fold/peers.jsonl" >&2
      python3 benches/aggregate.py tag dataset=$ds fold=$i <"$fold/peers.jsonl" >>"$RESULTS"
    fi
    if have_adscreen; then
      # --folds/--seed here are adscreen's own internal CV (threshold choice) on the training part only.
      "$ADSCREEN" train --data "$fold/train.jsonl" --out "$fold/model" --folds $FOLDS --seed $SEED "${TEXT_FIELDS_ARGS[@]}" >&2
      "$ADSCREEN" eval --model "$fold/model" --data "$fold/test.jsonl" --json "${TEXT_FIELDS_ARGS[@]}" | tee "$fold/adscreen.json" >&2
      python3 benches/aggregate.py tag dataset=$ds fold=$i tool=adscreen <"$fold/adscreen.json" >>"$RESULTS"
    fi
  done
done

python3 benches/aggregate.py table "$RESULTS"
echo >&2 "raw results: $RESULTS"
