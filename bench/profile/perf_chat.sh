#!/usr/bin/env bash
# Where the server's CPU goes in the middle of a chat: Parley on DATABASE_URL,
# `parley-bench chat` at RATE msg/s with 4,000 clients for 20 s, and 5 s of
# `perf record` (cpu-clock, DWARF call graphs) that start once the chat has
# run for 6 s, so neither the set-up nor the connects are in the profile.
# The samples are then split by cpu_by_part.py.
#
#   bench/profile/perf_chat.sh PARLEY_BINARY DATABASE_URL [RATE] [BENCH_BINARY]
#
# Build the server with line tables first:
#   CARGO_PROFILE_RELEASE_DEBUG=line-tables-only cargo build --release -p parley
# A postgres:// DATABASE_URL must point at a migrated, reachable database (its
# `messages` table is emptied first); a sqlite:// file is created. Needs `perf`.
# Leaves perf.data and perf.script in the current directory.
set -euo pipefail
BIN=${1:?usage: perf_chat.sh PARLEY_BINARY DATABASE_URL [RATE] [BENCH_BINARY]}
DB=${2:?usage: perf_chat.sh PARLEY_BINARY DATABASE_URL [RATE] [BENCH_BINARY]}
RATE=${3:-2000}
BENCH=${4:-$(dirname "$0")/../../target/release/parley-bench}
command -v perf >/dev/null || { echo "perf_chat.sh: perf is missing (apt-get install linux-perf)" >&2; exit 1; }
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
PORT=$(free_port)
OUT=$(mktemp -d /tmp/parley-perf.XXXXXX)
ulimit -n "$(ulimit -Hn)"
case "$DB" in postgres*) "$BENCH" --database-url "$DB" clear-messages >/dev/null ;; esac
PORT=$PORT HOST=127.0.0.1 DATABASE_URL=$DB JWT_SECRET=bench-secret RATE_LIMIT_ENABLED=false LOG_FORMAT=json \
  RUST_LOG=warn "$BIN" serve >"$OUT/server.log" 2>&1 &
SPID=$!
trap 'kill "$SPID" 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf "127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
"$BENCH" --url "http://127.0.0.1:$PORT" --server-pid "$SPID" --database-url "${DB%%\?*}" \
  chat --clients 4000 --rate "$RATE" --duration 20 --warmup 2 >"$OUT/chat.out" 2>&1 &
BPID=$!
until grep -q '^chat ' "$OUT/chat.out"; do
  kill -0 "$BPID" 2>/dev/null || { cat "$OUT/chat.out" >&2; exit 1; }
  sleep 0.2
done
sleep 6
perf record -e cpu-clock -F 499 --call-graph dwarf,16384 -p "$SPID" -o perf.data -- sleep 5 2>"$OUT/perf.log"
wait "$BPID"
grep -E 'rate |delivery|cpu over' "$OUT/chat.out"
perf script -i perf.data -F comm,tid,ip,sym --no-inline 2>/dev/null >perf.script
python3 "$(dirname "$0")/cpu_by_part.py" perf.script
