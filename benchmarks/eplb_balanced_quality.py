#!/usr/bin/env python3
"""Largest GPU load over the lower bound, per layer, of the balanced and deepseek policies of
eplb-plan (docs/performance.md, "EPLB planner").

Draws LAYERS x EXPERTS lognormal loads (numpy default_rng(SEED), SIGMA), plans them with each given
eplb-plan (e.g. the build before and after a change) and prints, per layer, max GPU load / lower
bound of deepseek and of each balanced, then the means and the layers where balanced is worse
than deepseek.

    python3 benchmarks/eplb_balanced_quality.py BEFORE/eplb-plan AFTER/eplb-plan \\
        --replicas 320 --groups 8 --nodes 8 --gpus 64 --sigma 2 --seed 0
"""
import argparse
import json
import os
import subprocess
import tempfile

import numpy as np


def layer_statistics(eplb_plan, loads_path, policy, parameters):
    with tempfile.TemporaryDirectory() as folder:
        plan = os.path.join(folder, "plan.json")
        subprocess.run([eplb_plan, loads_path, "--policy", policy, "--report", "json", "-o", plan,
                        *parameters], check=True, capture_output=True)
        with open(plan) as file:
            return json.load(file)["layers"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("eplb_plan", nargs="+", help="eplb-plan binaries; deepseek runs on the first")
    for flag, default in (("replicas", 320), ("groups", 8), ("nodes", 8), ("gpus", 64),
                          ("layers", 58), ("experts", 256), ("seed", 0)):
        parser.add_argument("--" + flag, type=int, default=default)
    parser.add_argument("--sigma", type=float, default=2.0)
    args = parser.parse_args()
    parameters = ["--replicas", str(args.replicas), "--groups", str(args.groups), "--nodes",
                  str(args.nodes), "--gpus", str(args.gpus)]
    with tempfile.TemporaryDirectory() as folder:
        loads_path = os.path.join(folder, "loads.npy")
        rng = np.random.default_rng(args.seed)
        np.save(loads_path, rng.lognormal(0, args.sigma, (args.layers, args.experts)).astype(np.float32))
        deepseek = layer_statistics(args.eplb_plan[0], loads_path, "deepseek", parameters)
        balanced = [layer_statistics(b, loads_path, "balanced", parameters) for b in args.eplb_plan]
    # Every run has the same loads and parameters, so the same bound per layer.
    bound = [layer["lower_bound"] for layer in deepseek]
    columns = ["deepseek"] + [f"balanced[{i}]" for i in range(len(balanced))]
    print(f"{args.layers} x {args.experts} lognormal sigma {args.sigma} seed {args.seed}, "
          + " ".join(parameters) + "; max GPU load / lower bound")
    print("layer " + " ".join(f"{c:>12}" for c in columns))
    runs = [deepseek] + balanced
    for layer in range(args.layers):
        print(f"{layer:5d} " + " ".join(f"{run[layer]['max_gpu_load'] / bound[layer]:12.4f}" for run in runs))
    print(" mean " + " ".join(f"{np.mean([r['max_gpu_load'] / b for r, b in zip(run, bound)]):12.4f}"
                              for run in runs))
    for i, run in enumerate(balanced):
        worse = [run[l]["max_gpu_load"] / deepseek[l]["max_gpu_load"] for l in range(args.layers)
                 if run[l]["max_gpu_load"] > deepseek[l]["max_gpu_load"]]
        print(f"{columns[i + 1]} ({args.eplb_plan[i]}): worse than deepseek on {len(worse)} layers"
              + (f", by up to {100 * (max(worse) - 1):.1f}%" if worse else ""))


if __name__ == "__main__":
    main()
