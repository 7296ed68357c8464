#!/usr/bin/env python3
"""Independent check of plans with two slots per GPU: does moving one replica from one expert to
another, then pairing the largest copy with the smallest, lower a layer's largest GPU load?
(docs/performance.md, "EPLB planner").

For every layer of PLAN (any eplb-plan JSON plan of LOADS) it runs a steepest-descent search over
all single-replica moves, each scored by the largest-with-smallest pairing, once from the plan's
copy counts and once from the greedy counts (each extra copy to the largest load per copy), and
counts the layers where either search ends below the plan's largest GPU load.

    python3 benchmarks/eplb_two_slot_search.py LOADS.csv PLAN.json --gpus 144
"""
import argparse
import json

import numpy as np


def paired_max(loads, copies, gpus):
    items = np.sort(np.repeat(loads / copies, copies))
    return (items[:gpus] + items[::-1][:gpus]).max()


def descend(loads, copies, gpus):
    """Takes the best single-replica move while it lowers paired_max; returns the value reached."""
    current = paired_max(loads, copies, gpus)
    while True:
        best, move = current, None
        for donor in np.nonzero(copies >= 2)[0]:
            for receiver in range(len(loads)):
                if receiver == donor or copies[receiver] >= gpus:
                    continue
                copies[donor] -= 1
                copies[receiver] += 1
                value = paired_max(loads, copies, gpus)
                copies[donor] += 1
                copies[receiver] -= 1
                if value < best - 1e-12:
                    best, move = value, (donor, receiver)
        if move is None:
            return current
        copies[move[0]] -= 1
        copies[move[1]] += 1
        current = best


def greedy_copies(loads, slots, gpus):
    copies = np.ones(len(loads), dtype=int)
    for _ in range(slots - len(loads)):
        per_copy = np.where(copies < gpus, loads / copies, -1.0)
        copies[np.argmax(per_copy)] += 1
    return copies


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("loads")
    parser.add_argument("plan")
    parser.add_argument("--gpus", type=int, required=True)
    args = parser.parse_args()
    all_loads = np.loadtxt(args.loads, delimiter=",", dtype=np.float32).astype(np.float64)
    with open(args.plan) as file:
        plan = json.load(file)["phy2log"]
    beaten = 0
    for layer, row in enumerate(plan):
        loads, row = all_loads[layer], np.array(row)
        copies = np.bincount(row, minlength=len(loads))
        ours = (loads / copies)[row].reshape(args.gpus, -1).sum(axis=1).max()
        found = min(descend(loads, copies.copy(), args.gpus),
                    descend(loads, greedy_copies(loads, len(row), args.gpus), args.gpus))
        if found < ours - 1e-9:
            beaten += 1
            print(f"layer {layer}: plan {ours:.6f}, search {found:.6f}")
    print(f"{len(plan)} layers; the search beats the plan on {beaten}")


if __name__ == "__main__":
    main()
