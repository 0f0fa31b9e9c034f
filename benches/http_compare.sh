#!/usr/bin/env bash
# Side-by-side loopback load test: the original's FastAPI auth hot path against ours, both
# answering an authenticated GET /api/notebooks with three notebooks, in one run.
# Needs: wrk (apt), fastapi + uvicorn (pip), a release build (cargo build --release).
# Usage: benches/http_compare.sh [RUNS]   (traffic stays on 127.0.0.1)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
anchors=../shared/bench-anchors
password=correct-horse-battery-st
data=$(mktemp -d)
port=$((20000 + RANDOM % 20000))

# Seed three notebooks through the API, then stop that server.
OPEN_NOTEBOOK_PASSWORD=$password ./target/release/open-notebook serve --data-dir "$data" \
  --api-port "$port" --ui-port 0 >/dev/null 2>&1 &
seed=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
for name in Research "Reading list" "Podcast ideas"; do
  curl -sf -X POST -H "Authorization: Bearer $password" -H 'Content-Type: application/json' \
    -d "{\"name\": \"$name\", \"description\": \"A small notebook used for the loopback benchmark\"}" \
    "http://127.0.0.1:$port/api/notebooks" >/dev/null
done
kill "$seed"; wait "$seed" || true

bash "$anchors/http_bench.sh" "FastAPI (original's middleware)" 8080 "$runs" -- \
  env PYTHONPATH="$anchors" python3 -m uvicorn py_fastapi_app:app --host 127.0.0.1 --port 8080 \
  --no-access-log
bash "$anchors/http_bench.sh" "open-notebook (release)" "$port" "$runs" -- \
  env RUST_LOG=warn ./target/release/open-notebook serve --data-dir "$data" \
  --api-port "$port" --ui-port 0
rm -rf "$data"
