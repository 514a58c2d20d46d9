#!/usr/bin/env bash
# Where PostgreSQL's time goes while Parley carries chat load: a throw-away
# cluster with pg_stat_statements, Parley on it, a warm-up (set-up and
# connects), the statistics reset, then `chat` at RATE msg/s for 15 s, and
# the statements grouped by kind.
#
#   bench/profile/pg_statements.sh PARLEY_BINARY [RATE] [BENCH_BINARY]
#
# Run as root (PostgreSQL runs as the postgres user). Leaves nothing running.
set -euo pipefail
BIN=${1:?usage: pg_statements.sh PARLEY_BINARY [RATE] [BENCH_BINARY]}
RATE=${2:-2000}
BENCH=${3:-$(dirname "$0")/../../target/release/parley-bench}
PGBIN=$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | tail -1)")
D=$(mktemp -d /tmp/parley-pgstat.XXXXXX); chown postgres "$D"
free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
PP=$(free_port); SP=$(free_port)
cd /tmp
runuser -u postgres -- "$PGBIN/initdb" -D "$D/data" -U postgres --auth=trust -E UTF8 >/dev/null
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$D/data" -l "$D/server.log" -w -o "-p $PP -k $D -c listen_addresses=127.0.0.1 \
  -c max_connections=200 -c shared_preload_libraries=pg_stat_statements -c pg_stat_statements.track=all" start >/dev/null
SPID=""
trap '[ -n "$SPID" ] && kill "$SPID" 2>/dev/null; runuser -u postgres -- "$PGBIN/pg_ctl" -D "$D/data" -m fast stop >/dev/null 2>&1; rm -rf "$D"' EXIT
U="postgres://postgres@127.0.0.1:$PP"
psql "$U/postgres" -qc "create database b"
psql "$U/b" -qc "create extension pg_stat_statements"
ulimit -n "$(ulimit -Hn)"
PORT=$SP DATABASE_URL=$U/b JWT_SECRET=bench-secret RATE_LIMIT_ENABLED=false LOG_FORMAT=json RUST_LOG=warn \
  "$BIN" serve >"$D/parley.log" 2>&1 &
SPID=$!
for _ in $(seq 1 50); do curl -sf "127.0.0.1:$SP/healthz" >/dev/null && break; sleep 0.2; done
ARGS=(--url "http://127.0.0.1:$SP" --server-pid "$SPID" --database-url "$U/b" --db-pid "$(head -1 "$D/data/postmaster.pid")")
"$BENCH" "${ARGS[@]}" chat --clients 4000 --rate 100 --duration 2 --warmup 0 >"$D/warm.out" 2>&1
psql "$U/b" -qc "select pg_stat_statements_reset()" >/dev/null
"$BENCH" "${ARGS[@]}" chat --clients 4000 --rate "$RATE" --duration 15 --warmup 0 | grep -E "rate |delivery|cpu over"
psql "$U/b" -c "
  select kind, sum(calls) as calls, count(*) as texts, round(sum(total_exec_time)::numeric, 0) as total_ms,
         round((100 * sum(total_exec_time) / (select sum(total_exec_time) from pg_stat_statements))::numeric, 1) as pct
  from (select calls, total_exec_time, case
          when query ilike '%json_populate_recordset%' then 'message batch (one statement)'
          when query ilike 'insert into \"messages\"%' then 'insert messages'
          when query ilike 'update \"conversations\" set \"last_message_at\"%' then 'update conversations (batch)'
          when query ilike 'update \"messages\" set \"emit_pending\"%' then 'update messages emit_pending'
          when query ilike '%count(\"messages\".\"id\")%' then 'unread count group by'
          when query ilike '%for key share%' then 'foreign key check'
          when query ilike 'update \"users\"%' then 'update users last_seen'
          when query ilike 'select \"conversations\".\"user1_id\", \"conversations\".\"user2_id\"%' then 'contacts'
          else left(regexp_replace(query, '\s+', ' ', 'g'), 60) end as kind
        from pg_stat_statements) q
  group by kind order by sum(total_exec_time) desc limit 14"
