#!/usr/bin/env python3
"""Groups heaptrack's collapsed stacks (heaptrack_print --print-flamegraph
FILE --flamegraph-cost-type leaked, demangled with c++filt) by the allocation
site that matters: the frame nearest the allocation that belongs to one of
the crates below, and prints bytes per connection for the biggest sites.

usage: heap_by_site.py STACKS CONNECTIONS [DEPTH]"""
import re
import sys
from collections import Counter

CRATES = ("parley", "socketioxide", "engineioxide", "hyper", "hyper_util", "tungstenite", "tokio_tungstenite",
          "axum", "tower", "tower_http", "sqlx", "sqlx_core", "sqlx_sqlite", "sqlx_postgres", "sea_orm", "dashmap",
          "matchit", "tracing", "serde_json")
HASH = re.compile(r"\[[0-9a-f]{16}\]")
SRC = re.compile(r" \([^()]*\.rs\)$")


def crate_of(frame):
    f = frame.lstrip("<&*").replace("dyn ", "").replace("mut ", "")
    return f.split("::", 1)[0]


def site(stack, depth):
    frames = [SRC.sub("", HASH.sub("", f)) for f in stack.split(";")]
    picked = []
    for f in reversed(frames):
        if crate_of(f) in CRATES:
            picked.append(f[:150])
            if len(picked) == depth:
                break
    return " <- ".join(picked) if picked else "(runtime/other) " + (frames[-1][:100] if frames else "")


def main():
    path, conns = sys.argv[1], int(sys.argv[2])
    depth = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    totals = Counter()
    for line in open(path, encoding="utf-8", errors="replace"):
        stack, _, cost = line.rstrip("\n").rpartition(" ")
        if cost.isdigit() and int(cost) > 0:
            totals[site(stack, depth)] += int(cost)
    grand = sum(totals.values())
    print(f"live heap {grand / 1024:.0f} KiB = {grand / 1024 / conns:.2f} KiB per connection ({conns} connections)")
    for where, cost in totals.most_common(25):
        print(f"{cost / 1024 / conns:8.2f} KiB/conn  {cost / grand * 100:5.1f}%  {where}")


main()
