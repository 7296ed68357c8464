#!/usr/bin/env python3
"""Whole-process speed of `eplb-plan` against the reference `rebalance_experts` call
(docs/performance.md).

Writes 58 x 256 lognormal loads (sigma 1, numpy seed 1) as CSV, runs `eplb-plan` RUNS times per case
(DeepSeek-V3 shape: 288 replicas, 8 groups; 4 nodes x 32 GPUs and 144 GPUs global) and reports the
median wall time and the median CPU time (user + sys of the child, from wait4), and the same for
/bin/true, the cost of starting any process here. With an EPLB checkout
(a directory holding deepseek-ai/EPLB's eplb.py, importable with torch) it also times the reference
call in this process and prints the ratios reference call / whole eplb-plan process.

    python3 benchmarks/eplb_process_bench.py build/release/apps/eplb-plan/eplb-plan [--eplb DIR] [--runs N]
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

import numpy as np

CASES = [("hierarchical", 4, 32), ("global", 3, 144)]
REPLICAS, GROUPS = 288, 8


def run_process(argv):
    """(wall seconds, user + sys seconds) of one run of argv, output discarded."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    actions = [(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)]
    start = time.perf_counter()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    os.close(devnull)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(argv)} failed with status {status}")
    return wall, usage.ru_utime + usage.ru_stime


def median_pair(samples):
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def time_reference(eplb_dir, loads_path, nodes, gpus, runs):
    sys.path.insert(0, eplb_dir)
    import torch  # noqa: F401  (imported before timing)
    import eplb
    weight = torch.from_numpy(np.loadtxt(loads_path, delimiter=",", dtype=np.float32))
    samples = []
    for _ in range(runs + 1):
        wall, cpu = time.perf_counter(), time.process_time()
        eplb.rebalance_experts(weight, REPLICAS, GROUPS, nodes, gpus)
        samples.append((time.perf_counter() - wall, time.process_time() - cpu))
    return median_pair(samples[1:])  # the first call warms up


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("eplb_plan")
    parser.add_argument("--eplb", help="directory with the reference eplb.py")
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="eplb_process_bench_")
    loads = os.path.join(workdir, "dsv3.csv")
    np.savetxt(loads, np.random.default_rng(1).lognormal(0, 1, (58, 256)).astype(np.float32), delimiter=",",
               fmt="%.9g")
    print(f"load average {os.getloadavg()[0]:.1f}; {args.runs} runs per case; medians")
    print("case          policy    process wall  process cpu  reference wall  reference cpu  ratio wall  ratio cpu")
    for name, nodes, gpus in CASES:
        reference = time_reference(args.eplb, loads, nodes, gpus, max(3, args.runs // 4)) if args.eplb else None
        for policy in ("deepseek", "balanced"):
            argv = [os.path.abspath(args.eplb_plan), loads, "--replicas", str(REPLICAS), "--groups", str(GROUPS),
                    "--nodes", str(nodes), "--gpus", str(gpus), "--policy", policy,
                    "-o", os.path.join(workdir, "plan.json")]
            run_process(argv)  # warm-up
            wall, cpu = median_pair([run_process(argv) for _ in range(args.runs)])
            line = f"{name:13s} {policy:9s} {wall * 1e3:9.1f} ms {cpu * 1e3:9.1f} ms"
            if reference and policy == "deepseek":
                line += (f"  {reference[0] * 1e3:10.1f} ms  {reference[1] * 1e3:10.1f} ms"
                         f"  {reference[0] / wall:9.0f}x  {reference[1] / cpu:8.0f}x")
            print(line)
    floor = median_pair([run_process(["/bin/true"]) for _ in range(args.runs)])
    print(f"{'/bin/true':23s} {floor[0] * 1e3:9.1f} ms {floor[1] * 1e3:9.1f} ms")


if __name__ == "__main__":
    main()
