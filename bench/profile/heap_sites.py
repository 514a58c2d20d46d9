#!/usr/bin/env python3
"""Reads `heaptrack_print --print-leaks 1 -n N -s M` output (memory still
allocated when the profiled server was stopped with N connections open) and
prints each allocation site as bytes per connection, named by its first
frames outside the standard library and the allocator.

usage: heap_sites.py LEAKS.txt CONNECTIONS [FRAMES]"""
import re
import sys

ENTRY = re.compile(r"^(\s*)([\d.]+)([KMG]?)B? leaked over (\d+) calls from(:?)$")
AT = re.compile(r"^\s*at (.*):(\d+)$")
UNITS = {"": 1, "K": 1024, "M": 1024 ** 2, "G": 1024 ** 3}
# Frames that say how memory is allocated, not who wants it: the standard
# library, collections, and tokio's task spawning (a spawned task's future
# is allocated inside tokio; the caller of `spawn` is the interesting frame).
BORING = ("/rustc/", "library/alloc", "library/core", "library/std", "hashbrown-", "/smallvec-", "/bytes-",
          "/src/runtime/task/", "/src/runtime/scheduler/", "/src/runtime/context/", "/src/task/spawn.rs",
          "/src/loom/", "src/runtime/task/", "src/runtime/scheduler/")


def short(path, line):
    m = re.search(r"/registry/src/[^/]+/([^/]+)/(.*)", path)
    where = f"{m.group(1)}/{m.group(2)}" if m else path
    return f"{where}:{line}"


def main():
    path, conns = sys.argv[1], int(sys.argv[2])
    want = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    sites = []  # (bytes, calls, [locations])
    current = None
    in_leaks = False
    for raw in open(path, encoding="utf-8", errors="replace"):
        line = raw.rstrip("\n")
        if line.startswith("MEMORY LEAKS"):
            in_leaks = True
            continue
        if in_leaks and line.startswith("total runtime"):
            break
        if not in_leaks:
            continue
        m = ENTRY.match(line)
        if m:
            size = float(m.group(2)) * UNITS[m.group(3)]
            if m.group(5) == ":":  # a sub-entry: one call path into the allocator
                current = [size, int(m.group(4)), []]
                sites.append(current)
            else:
                current = None
            continue
        a = AT.match(line)
        if a and current is not None and len(current[2]) < want and not any(b in a.group(1) for b in BORING):
            current[2].append(short(a.group(1), a.group(2)))
    total = sum(s[0] for s in sites)
    print(f"{total / 1024 / conns:.2f} KiB per connection in the sites listed ({conns} connections)")
    for size, calls, where in sorted(sites, key=lambda s: -s[0])[:40]:
        per_call = size / calls if calls else 0
        print(f"{size / 1024 / conns:7.2f} KiB/conn {calls:7d} allocs ({per_call:7.0f} B each)  " + " <- ".join(where))


main()
