#!/usr/bin/env python3
"""Summarises pipeline-bench --host-timeline files (one step, host side only): per rank and host
thread, the step's span, how long the thread was inside any scope, and per kind of pipeline
action (dualpipe:F, FB, SEND_F, ...) its count, total and median duration; the c10d calls
(nccl:*) likewise.

    python3 scripts/gpu/host_timeline_summary.py out/pipeline-bench/host-medium.json [...rank1.json]
"""
import collections
import json
import statistics
import sys


def top_level(spans):
    """Spans not inside another span of the same thread (sorted by start)."""
    result, end = [], -1.0
    for s in sorted(spans, key=lambda s: (s["ts"], -s["dur"])):
        if s["ts"] >= end:
            result.append(s)
            end = s["ts"] + s["dur"]
    return result


def summarise(path):
    events = json.load(open(path))["traceEvents"]
    rank = events[0]["pid"] if events else "?"
    threads = collections.defaultdict(list)
    for e in events:
        threads[e["tid"]].append(e)
    start = min(e["ts"] for e in events)
    end = max(e["ts"] + e["dur"] for e in events)
    print(f"{path}: rank {rank}, {len(events)} scopes over {(end - start) / 1e3:.2f} ms")
    for tid, spans in sorted(threads.items()):
        busy = sum(s["dur"] for s in top_level(spans))
        print(f"  thread {tid}: {len(spans)} scopes, inside scopes {busy / 1e3:.2f} ms")
        kinds = collections.defaultdict(list)
        for s in spans:
            name = s["name"]
            if name.startswith("dualpipe:") or name.startswith("nccl:"):
                kinds[name.split(" ")[0]].append(s["dur"])
        for kind, durations in sorted(kinds.items(), key=lambda kv: -sum(kv[1])):
            print(f"    {kind:18s} n {len(durations):3d}  total {sum(durations) / 1e3:7.2f} ms"
                  f"  median {statistics.median(durations):7.1f} us  max {max(durations):7.1f} us")


for path in sys.argv[1:]:
    summarise(path)
