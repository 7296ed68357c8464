#!/usr/bin/env python3
"""Writes a large Chrome trace for the trace-view benchmark: the events of one real trace repeated
with shifted timestamps and renumbered correlation ids until the output reaches a target size.

    python3 benchmarks/trace_make_large.py ../shared/data/profile-data/train.json /tmp/large.json --mb 100
"""
import argparse
import json
import os


def shifted_copy(event, time_shift_us, id_shift):
    """One event moved `time_shift_us` later, with correlation/flow ids moved by `id_shift`."""
    copy = dict(event)
    if "ts" in copy and isinstance(copy["ts"], (int, float)):
        copy["ts"] = copy["ts"] + time_shift_us
    if "id" in copy and isinstance(copy["id"], int):
        copy["id"] = copy["id"] + id_shift
    args = copy.get("args")
    if isinstance(args, dict):
        args = dict(args)
        for key in ("correlation", "External id"):
            if isinstance(args.get(key), int):
                args[key] = args[key] + id_shift
        copy["args"] = args
    return copy


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source")
    parser.add_argument("output")
    parser.add_argument("--mb", type=float, default=100.0, help="target size in MB (10^6 bytes)")
    options = parser.parse_args()

    with open(options.source) as f:
        trace = json.load(f)
    events = trace["traceEvents"]
    timed = [e for e in events if isinstance(e.get("ts"), (int, float))]
    start = min(e["ts"] for e in timed)
    end = max(e["ts"] + e.get("dur", 0) for e in timed)
    period_us = (end - start) + 1000  # one copy after the other, 1 ms apart
    metadata = [e for e in events if e.get("ph") == "M"]
    body = [e for e in events if e.get("ph") != "M"]

    target = int(options.mb * 1e6)
    header = {k: v for k, v in trace.items() if k != "traceEvents"}
    temporary = options.output + ".tmp"
    with open(temporary, "w") as out:
        out.write(json.dumps(header)[:-1] + ', "traceEvents": [\n')
        out.write(",\n".join(json.dumps(e) for e in metadata))
        written = out.tell()
        copy = 0
        while written < target:
            chunk = ",\n".join(json.dumps(shifted_copy(e, copy * period_us, copy * 10_000_000))
                               for e in body)
            out.write(",\n" + chunk)
            written += len(chunk) + 2
            copy += 1
        out.write("\n]}\n")
    os.replace(temporary, options.output)
    print(f"{options.output}: {os.path.getsize(options.output) / 1e6:.1f} MB, {copy} copies")


if __name__ == "__main__":
    main()
