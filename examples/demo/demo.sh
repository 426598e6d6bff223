#!/usr/bin/env bash
# make demo: the main job end to end on the embedded default (a local
# directory store). Generates SPHEREx-like raws and darks, uploads them to a
# local directory "bucket" whose S3 event notifications serve-events ingests
# (the upload-event path), certifies the darks, plans and runs the example
# pipeline with 2 workers, merges, and shows what came out. The repository
# is left at demo/repo for exploring with the CLI. Re-running starts afresh.
#
# S3=1: the same against a versitygw S3 server started here (bin/versitygw,
# posix backend under demo/s3, on 127.0.0.1): the repository is
# s3://demo/repo, the raws are PUT to s3://demo/uploads/ and versitygw posts
# its event notifications to serve-events (--event-webhook-url).
set -euo pipefail
cd "$(dirname "$0")/../.."
SKY=${SKYBUTLER:-bin/skybutler}
SYNTH=${SYNTH:-bin/synth}
DEMO=${DEMO:-demo}
REPO=$DEMO/repo
EXPOSURES=${EXPOSURES:-8}
S3=${S3:-}
free_port() { echo $(( 20000 + RANDOM % 20000 )); }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { for a in "$@"; do if [[ $a =~ ^[A-Za-z0-9_./:=,*@+-]+$ ]]; then printf ' %s' "$a"; else printf " '%s'" "${a//\'/\'\\\'\'}"; fi; done; }
run() { printf '$ skybutler'; show "$@"; printf '\n'; "$SKY" "$@"; }

rm -rf "$DEMO"
mkdir -p "$DEMO"
start=$(date +%s)
port=$(free_port)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
if [ -n "$S3" ]; then
  # serve-events listens first: versitygw checks its webhook when it starts.
  s3port=$(free_port)
  export AWS_ENDPOINT_URL=http://127.0.0.1:$s3port AWS_ACCESS_KEY_ID=skybutler-demo AWS_SECRET_ACCESS_KEY=skybutler-demo-secret
  export AWS_REGION=us-east-1 SKYBUTLER_S3_PATH_STYLE=1 SKYBUTLER_CACHE_DIR=$DEMO/cache
  REPO=s3://demo/repo
  "$SKY" serve-events "$REPO" --listen "127.0.0.1:$port" --batch-window 500ms >"$DEMO/serve-events.log" 2>&1 &
  pids+=($!)
  mkdir -p "$DEMO/s3/demo"
  ${VERSITYGW:-bin/versitygw} --access "$AWS_ACCESS_KEY_ID" --secret "$AWS_SECRET_ACCESS_KEY" --port "127.0.0.1:$s3port" \
    --event-webhook-url "http://127.0.0.1:$port/" posix "$DEMO/s3" >"$DEMO/versitygw.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 150); do (echo >"/dev/tcp/127.0.0.1/$s3port") 2>/dev/null && break; sleep 0.1; done
fi

step "Create a repository and register the SPHEREx-like instrument"
run create "$REPO"
run register-instrument "$REPO" spherex

step "Generate $EXPOSURES exposures x 6 detectors of raws and 6 master darks (FITS)"
"$SYNTH" -out "$DEMO/data" -exposures "$EXPOSURES" -darks 1

step "Upload them; serve-events ingests each S3 event notification (one commit per batch)"
if [ -n "$S3" ]; then
  run upload s3://demo "$DEMO"/data/*.fits
  n=$(ls "$DEMO"/data/*.fits | wc -l)
  for _ in $(seq 1 300); do  # versitygw posts the events asynchronously
    got=$("$SKY" query-datasets "$REPO" --format json 2>/dev/null | grep -c '"id"' || true)
    [ "$got" -ge "$n" ] && break
    sleep 0.1
  done
else
  "$SKY" serve-events "$REPO" --listen "127.0.0.1:$port" --local-bucket "uploads=$DEMO/bucket" >"$DEMO/serve-events.log" 2>&1 &
  serve=$!
  for _ in $(seq 1 100); do
    if "$SKY" upload "$DEMO/bucket" --notify "http://127.0.0.1:$port/" --bucket uploads "$DEMO"/data/*.fits 2>/dev/null; then break; fi
    sleep 0.1
  done
  kill $serve; wait $serve 2>/dev/null || true
fi
run query-collections "$REPO"

step "Certify the darks and define the default input chain"
run certify-calibrations "$REPO" SPHEREx/calib/ingest SPHEREx/calib dark --begin-date 2026-01-01 --end-date 2027-01-01
run collection-chain "$REPO" SPHEREx/defaults SPHEREx/raw/all SPHEREx/calib

step "Plan and run the pipeline (isr -> measure -> summarize) with 2 workers, then merge"
run run "$REPO" -p examples/pipelines/spherex.yaml -i SPHEREx/defaults -o u/demo/spherex -j 2

step "What came out"
run query-collections "$REPO" --chains tree 'u/demo/*'
run query-datasets "$REPO" exposureSummary --collections u/demo/spherex --show-uri
run query-datasets "$REPO" sourceTable --collections u/demo/spherex --where "detector = 3 AND exposure.seq_num <= 2"
run verify "$REPO" --collections u/demo/spherex
run sql "$REPO" "SELECT dataset_type, run, count(*) AS datasets FROM datasets GROUP BY ALL ORDER BY ALL"
run sql "$REPO" "SELECT task_label, status, count(*) AS quanta, round(avg(epoch(\"end\" - start)), 4) AS seconds FROM quanta GROUP BY ALL ORDER BY ALL"

step "Done in $(( $(date +%s) - start ))s"
if [ -n "$S3" ]; then
  echo "The repository was s3://demo/repo on a versitygw (stopped now; its files are under $DEMO/s3/demo/repo)."
else
  echo "The repository is at $REPO: files under $REPO/datastore/, the registry (Parquet + commit log) under $REPO/registry/,"
  echo "provenance under $REPO/provenance/. Try:"
  echo "  $SKY query-datasets $REPO --collections u/demo/spherex --find-first"
  echo "  $SKY report $REPO \$(ls $REPO/qgraphs) --html report.html"
fi
