#!/usr/bin/env bash
# How long the server's syncs take under load: Parley on a fresh SQLite file,
# `parley-bench` chat at RATE msg/s with 4,000 clients (8 s after a 2 s
# warm-up), and 4 s of `perf trace -e fsync,fdatasync` on the server that
# start 4 s into the chat. Prints the chat's latency figures and the syncs'
# count, median, p90, max and total time.
#
#   bench/profile/sync_probe.sh PARLEY_BINARY [RATE]
#
# Needs `perf` (apt-get install linux-perf) and a release `parley-bench`.
set -euo pipefail
BIN=${1:?usage: sync_probe.sh PARLEY_BINARY [RATE]}
RATE=${2:-250}
BENCH=$(dirname "$0")/../../target/release/parley-bench
command -v perf >/dev/null || { echo "sync_probe.sh: perf is missing (apt-get install linux-perf)" >&2; exit 1; }
SECRET=probe-$RANDOM$RANDOM
DIR=$(mktemp -d /tmp/parley-sync.XXXXXX)
URL="sqlite://$DIR/parley.db?mode=rwc"
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
ulimit -n "$(ulimit -Hn)"
PORT=$PORT HOST=127.0.0.1 DATABASE_URL="$URL" JWT_SECRET=$SECRET RATE_LIMIT_ENABLED=false LOG_FORMAT=json \
  RUST_LOG=warn "$BIN" serve >"$DIR/server.log" 2>&1 &
PID=$!
trap 'kill "$PID" 2>/dev/null || true; rm -rf "$DIR"' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
"$BENCH" --url "http://127.0.0.1:$PORT" --label sync$RANDOM --secret "$SECRET" --server-pid "$PID" \
  --database-url "$URL" suite --clients 4000 --skip idle,capacity --rate "$RATE" --duration 8 --warmup 2 \
  --ack-timeout 5 >"$DIR/bench.log" 2>&1 &
LOAD=$!
until grep -q "msg/s for" "$DIR/bench.log" 2>/dev/null; do sleep 0.2; done
sleep 4
timeout -s INT 4 perf trace -e fsync,fdatasync -p "$PID" -o "$DIR/trace.txt" 2>"$DIR/trace.err" || true
wait "$LOAD" || true
grep -E '^result' "$DIR/bench.log" | tr ' ' '\n' | grep -E '^(p50_ms|p99_ms|server_us_per_msg|lossless)=' || true
python3 - "$DIR/trace.txt" <<'PY'
import re, sys
ms = sorted(float(m.group(1)) for line in open(sys.argv[1])
            for m in [re.search(r'\( *([0-9.]+) ms\): .*sync\(', line)] if m)
if not ms:
    sys.exit("no sync traced (is perf trace allowed here?)")
n = len(ms)
print(f"syncs {n} in 4 s: median {ms[n // 2]:.2f} ms, p90 {ms[int(n * 0.9)]:.2f} ms, "
      f"max {ms[-1]:.2f} ms, total {sum(ms):.0f} ms")
PY
