#!/usr/bin/env python3
"""Splits a CPU profile of the server (`perf script -F comm,tid,ip,sym
--no-inline` of `perf record -e cpu-clock --call-graph dwarf`) into the parts
of the work: each sample goes to the first rule, checked from the innermost
frame outwards, that one of its frames matches; a second table counts every
sample under each Parley function (inclusive).

usage: cpu_by_part.py PERF_SCRIPT_OUTPUT"""
import sys
from collections import Counter

# (part, substrings of a frame), innermost matching frame wins.
PARTS = [
    ("database client: sqlx + sea-orm (incl. its socket I/O)", ("sqlx_", "sea_orm::", "sea_query")),
    ("JSON (serde_json)", ("serde_json::",)),
    ("tracing spans", ("tracing::", "tracing_core::", "tracing_subscriber::")),
    ("socket.io emit/ack (socketioxide)", ("socketioxide::",)),
    ("engine.io + websocket I/O (engineioxide, tungstenite)", ("engineioxide::", "tungstenite::")),
    ("HTTP (hyper, axum, tower)", ("hyper::", "axum::", "tower", "hyper_util::")),
    ("Parley's own code", ("parley::",)),
]
# tokio frames stand between everything and the kernel: a sample counts as
# tokio's only when no other part is on its (unwound) stack.
FALLBACK = ("tokio runtime: scheduler, timers, task wake-ups, I/O driver", ("tokio::", "mio::"))
INCLUSIVE = [
    "parley::realtime::chat::send_message",
    "parley::domain::messages::send",
    "parley::domain::messages::writer::write_batch",
    "parley::domain::messages::writer::pg::write",
    "parley::domain::messages::writer::write_in_transaction",
    "parley::state::Emitter::publish",
    "parley::realtime::reply::",
    "parley::domain::events::",
    "parley::realtime::connect::",
    "sqlx_core::pool::Pool<DB>::acquire",
    "return_to_pool",
    "sqlite3_exec",
    "sqlite3_step",
    "sqlite3_prepare",
    "socketioxide::operators::BroadcastOperators",
    "socketioxide_parser_common::value::ser::into_str",
    "engineioxide::transport::ws::forward_to_socket",
    "engineioxide::transport::ws::forward_to_handler",
    "serde_json::",
]


def samples(path):
    """Yields (thread name, frames innermost first) per sample."""
    frames, thread = [], "?"
    for line in open(path, encoding="utf-8", errors="replace"):
        if not line.strip():
            if frames:
                yield thread, frames
            frames = []
        elif line.startswith("\t") or line.startswith(" "):
            parts = line.strip().split(" ", 1)
            frames.append(parts[1] if len(parts) > 1 else "")
        else:
            thread = line.split()[0]
    if frames:
        yield thread, frames


def main():
    parts = Counter()
    leaf = Counter()
    inclusive = Counter()
    threads = Counter()
    n = 0
    for thread, frames in samples(sys.argv[1]):
        n += 1
        threads[thread] += 1
        kernel = frames[0].startswith(("_", "entry_")) or "[kernel" in frames[0]
        top = frames[0]
        if any(k in top for k in ("malloc", "free", "memmove", "memcpy", "unlink_chunk", "realloc")):
            leaf["allocator / memcpy (libc)"] += 1
        elif all(not f.startswith(("tokio", "parley", "sqlx", "sea", "serde", "socketio", "engineio", "hyper", "<"))
                 for f in frames[:1]) and any(f.startswith(("do_syscall", "entry_SYSCALL")) for f in frames):
            leaf["kernel (system calls: TCP, futex, epoll)"] += 1
        else:
            leaf["user space, other"] += 1
        part = "other (std, libc, runtime start-up)"
        for f in frames:
            hit = next((name for name, keys in PARTS if any(k in f for k in keys)), None)
            if hit:
                part = hit
                break
        else:
            if any(k in f for f in frames for k in FALLBACK[1]):
                part = FALLBACK[0]
        parts[part] += 1
        seen = set()
        for f in frames:
            for key in INCLUSIVE:
                if key in f and key not in seen:
                    seen.add(key)
                    inclusive[key] += 1
        _ = kernel
    print(f"{n} samples")
    print("\nby thread (tokio-rt-worker: sockets and handlers; parley-writer: the message writer;")
    print("sqlx-sqlite-wor: SQLite itself, statements and commits):")
    for name, c in threads.most_common():
        print(f"  {c / n * 100:5.1f}%  {name}")
    print("\nwhere the CPU time is spent (innermost known frame):")
    for name, c in parts.most_common():
        print(f"  {c / n * 100:5.1f}%  {name}")
    print("\nwhat the innermost frame is:")
    for name, c in leaf.most_common():
        print(f"  {c / n * 100:5.1f}%  {name}")
    print("\ninclusive (samples with the function anywhere on the stack):")
    for key in INCLUSIVE:
        print(f"  {inclusive[key] / n * 100:5.1f}%  {key}")


main()
