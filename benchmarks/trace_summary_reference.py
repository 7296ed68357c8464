#!/usr/bin/env python3
"""Baseline for the trace-view benchmark: the same per-rank statistics as `trace-view --summary
json`, computed in plain Python after json.load. Prints the figures as JSON.

    python3 benchmarks/trace_summary_reference.py TRACE.json [MORE ...]
"""
import bisect
import gzip
import json
import re
import sys

COMMUNICATION = re.compile(
    r"nccl|deep_?ep::|dpsk::ep::|all_?to_?all|AllGather|ReduceScatter|AllReduce|SendRecv", re.I)
GPU_CATEGORIES = {"kernel": "kernel", "Kernel": "kernel", "gpu_memcpy": "memcpy",
                  "Memcpy": "memcpy", "gpu_memset": "memset", "Memset": "memset"}
LAUNCH_CATEGORIES = {"cuda_runtime", "cuda_driver", "Runtime"}


def load(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    trace = json.loads(data)
    return trace if isinstance(trace, dict) else {"traceEvents": trace}


def union(intervals):
    merged = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


def length(intervals):
    return sum(end - start for start, end in intervals)


def intersection(a, b):
    result, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if start < end:
            result.append([start, end])
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return result


def kind_of(event, category):
    if category != "kernel" or event["name"].startswith(("Memcpy", "Memset")):
        return "memory"
    return "comm" if COMMUNICATION.search(event["name"]) else "compute"


def summarise(path, position):
    trace = load(path)
    events = trace["traceEvents"]
    activities, launches, annotations = [], {}, []
    for e in events:
        if e.get("ph") != "X":
            continue
        category = e.get("cat")
        args = e.get("args") or {}
        if category in GPU_CATEGORIES:
            start = e["ts"]
            activities.append((start, start + e.get("dur", 0), e.get("pid", 0), e.get("tid", 0),
                               kind_of(e, GPU_CATEGORIES[category]), args.get("correlation", -1)))
        elif category in LAUNCH_CATEGORIES and "correlation" in args:
            launches.setdefault(e.get("pid", 0), []).append((e["ts"], args["correlation"]))
        elif category == "user_annotation":
            annotations.append((e["ts"], e["ts"] + e.get("dur", 0), e.get("pid", 0), e["name"]))
    if not activities:
        raise SystemExit(f"{path}: no GPU kernels")

    compute = union([a[:2] for a in activities if a[4] == "compute"])
    comm = union([a[:2] for a in activities if a[4] == "comm"])
    busy = union([a[:2] for a in activities])
    span = max(a[1] for a in activities) - min(a[0] for a in activities)
    hidden = length(intersection(comm, compute))
    streams = {}
    for a in activities:
        streams.setdefault((a[2], a[3]), []).append(a)

    by_correlation = {}
    for a in activities:
        by_correlation.setdefault(a[5], []).append(a)
    for process in launches.values():
        process.sort()
    annotation_windows = []
    for start, end, pid, name in sorted(annotations):
        process = launches.get(pid, [])
        first = bisect.bisect_left(process, (start, float("-inf")))
        kernels = []
        for launch_ts, correlation in process[first:]:
            if launch_ts > end:
                break
            kernels.extend(by_correlation.get(correlation, []))
        window = {"name": name, "kernels": len(kernels)}
        if kernels:
            window["gpu_start_us"] = min(k[0] for k in kernels)
            window["gpu_end_us"] = max(k[1] for k in kernels)
            window["gpu_busy_ms"] = length(union([k[:2] for k in kernels])) / 1e3
            launched_comm = union([k[:2] for k in kernels if k[4] == "comm"])
            window["comm_ms"] = length(launched_comm) / 1e3
            window["exposed_comm_ms"] = (length(launched_comm)
                                         - length(intersection(launched_comm, compute))) / 1e3
        annotation_windows.append(window)

    comm_ms = length(comm) / 1e3
    return {
        "file": path,
        "rank": trace.get("distributedInfo", {}).get("rank", position),
        "gpu_span_ms": span / 1e3,
        "gpu_busy_ms": length(busy) / 1e3,
        "compute_ms": length(compute) / 1e3,
        "comm_ms": comm_ms,
        "overlap_pct": 100.0 * hidden / length(comm) if comm else 0.0,
        "exposed_comm_ms": comm_ms - hidden / 1e3,
        "streams": [{"name": f"stream {tid}", "kernels": len(items),
                     "busy_ms": length(union([k[:2] for k in items])) / 1e3}
                    for (pid, tid), items in sorted(streams.items(), key=str)],
        "annotations": annotation_windows,
    }


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    report = {"traces": [summarise(path, i) for i, path in enumerate(sys.argv[1:])]}
    json.dump(report, sys.stdout)
    print()


if __name__ == "__main__":
    main()
