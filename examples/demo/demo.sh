#!/usr/bin/env bash
# make demo: build a repository at demo/repo on the embedded default (a local
# directory) and show what the CLI does with it. Safe to re-run: it starts
# from an empty repository each time.
set -euo pipefail
cd "$(dirname "$0")/../.."
SKY=${SKYBUTLER:-bin/skybutler}
REPO=${REPO:-demo/repo}
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ skybutler'; printf ' %q' "$@"; printf '\n'; "$SKY" "$@"; }

rm -rf "$REPO"
mkdir -p "$(dirname "$REPO")"
start=$(date +%s)

step "Create a repository (registry = Parquet tables + a commit log)"
run create "$REPO"
run register-instrument "$REPO" spherex
run register-instrument "$REPO" democam

step "Dataset types and collections"
run register-dataset-type "$REPO" raw ImageF exposure detector
run register-dataset-type "$REPO" dark ImageF detector --is-calibration
run register-dataset-type "$REPO" source_table ArrowTable exposure detector
run register-collection "$REPO" SPHEREx/raw/all --type RUN --doc "raw SPHEREx-like exposures"
run register-collection "$REPO" SPHEREx/calib --type CALIBRATION
run collection-chain "$REPO" SPHEREx/defaults SPHEREx/raw/all SPHEREx/calib

step "Concurrent writers: 8 processes register 5 collections each"
for p in $(seq 1 8); do
  ( for i in $(seq 1 5); do "$SKY" register-collection "$REPO" "u/demo/p$p/run$i" --type RUN; done ) &
done
wait
run query-collections "$REPO" 'u/*' --chains no-children --format json | grep -c '"Name"' | sed 's/^/collections under u\/: /'

step "Queries"
run query-collections "$REPO" --chains tree 'SPHEREx/*'
run query-dataset-types "$REPO"
run query-dimension-records "$REPO" detector --where "instrument = 'SPHEREx' AND detector IN (1..3)"
run query-dimension-records "$REPO" physical_filter --where "band = 'spx4'"

step "Compaction (rewrites small files, no data change)"
run compact "$REPO" --checkpoint

step "Done in $(( $(date +%s) - start ))s"
echo "The repository is at $REPO; the registry commit log is $REPO/registry/_log/."
echo "Try: $SKY query-collections $REPO --chains tree"
