#!/usr/bin/env python3
"""dualpipe_eplb.rebalance_experts against deepseek-ai/EPLB's eplb.rebalance_experts, in one Python
process (docs/performance.md, "EPLB planner").

58 x 256 lognormal loads (sigma 1, numpy seed 1) as a float32 torch tensor, 288 replicas, 8 groups:
"hierarchical" on 4 nodes x 32 GPUs, "global" on 144 GPUs of 3 nodes (3 does not divide the groups).
Checks that both give the same phy2log, log2phy and logcnt, then times RUNS calls of each after one
warm-up call and prints the medians (wall and CPU time of the calls) and their ratio. The balanced
policy is timed too.

    PYTHONPATH=build/release/python python3 benchmarks/eplb_python_bench.py --eplb /tmp/eplb-ref [--runs N]
"""
import argparse
import statistics
import sys
import time

import numpy as np
import torch

CASES = [("hierarchical", 288, 8, 4, 32), ("global", 288, 8, 3, 144)]


def median_times(call, runs):
    """(median wall seconds, median CPU seconds) of `runs` calls after one warm-up call."""
    call()
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        call()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eplb", required=True, help="directory with the reference eplb.py")
    parser.add_argument("--runs", type=int, default=10, help="timed calls of the reference (ours: 20x)")
    args = parser.parse_args()
    sys.path.insert(0, args.eplb)
    import eplb
    import dualpipe_eplb

    weight = torch.from_numpy(np.random.default_rng(1).lognormal(0, 1, (58, 256)).astype(np.float32))
    print(f"torch {torch.__version__}, {args.runs} reference calls and {20 * args.runs} of ours per case")
    for name, replicas, groups, nodes, gpus in CASES:
        theirs = eplb.rebalance_experts(weight, replicas, groups, nodes, gpus)
        ours = dualpipe_eplb.rebalance_experts(weight, replicas, groups, nodes, gpus)
        same = all(torch.equal(a, b) for a, b in zip(theirs, ours))
        reference = median_times(lambda: eplb.rebalance_experts(weight, replicas, groups, nodes, gpus),
                                 args.runs)
        deepseek = median_times(
            lambda: dualpipe_eplb.rebalance_experts(weight, replicas, groups, nodes, gpus), 20 * args.runs)
        balanced = median_times(lambda: dualpipe_eplb.rebalance_experts(
            weight, replicas, groups, nodes, gpus, policy="balanced"), args.runs)
        print(f"{name}: identical outputs {same}; reference {reference[0] * 1e3:.1f} ms wall "
              f"{reference[1] * 1e3:.1f} ms CPU; dualpipe_eplb {deepseek[0] * 1e3:.3f} ms wall "
              f"{deepseek[1] * 1e3:.3f} ms CPU; ratio {reference[0] / deepseek[0]:.0f}x wall "
              f"{reference[1] / deepseek[1]:.0f}x CPU; balanced {balanced[0] * 1e3:.1f} ms wall")
        if not same:
            sys.exit("outputs differ")


if __name__ == "__main__":
    main()
