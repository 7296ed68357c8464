"""dualpipe_eplb.rebalance_experts: the reference's outputs exactly, the balanced policy, re-planning
and bad input refused with eplb-plan's messages."""
import os
import tempfile
import unittest

import numpy as np

import dualpipe_eplb
from eplb_test_support import (README_PHY2LOG, README_WEIGHT, needs_eplb_plan, reference_cases,
                               run_eplb_plan)


def as_numpy(value):
    return np.asarray(value)


def gpu_loads(phy2log, weight, gpus):
    """Each GPU's load per layer, every expert's load split evenly over its copies."""
    phy2log, weight = as_numpy(phy2log), np.asarray(weight, dtype=np.float64)
    loads = []
    for row, w in zip(phy2log, weight):
        counts = np.bincount(row, minlength=len(w))
        loads.append((w / counts)[row].reshape(gpus, -1).sum(axis=1))
    return np.array(loads)


class RebalanceExperts(unittest.TestCase):
    def test_gives_exactly_the_reference_outputs_of_every_recorded_case(self):
        for case in reference_cases():
            with self.subTest(case["name"]):
                phy2log, log2phy, logcnt = dualpipe_eplb.rebalance_experts(
                    case["loads"], case["replicas"], case["groups"], case["nodes"], case["gpus"])
                self.assertEqual(as_numpy(phy2log).tolist(), case["phy2log"])
                self.assertEqual(as_numpy(log2phy).tolist(), case["log2phy"])
                self.assertEqual(as_numpy(logcnt).tolist(), case["logcnt"])

    def test_balanced_never_puts_two_copies_on_a_gpu_and_is_never_worse_than_a_duplicate_free_deepseek(self):
        rng = np.random.default_rng(5)
        weight = rng.lognormal(0, 1.5, (6, 64)).astype(np.float32)
        deepseek = as_numpy(dualpipe_eplb.rebalance_experts(weight, 96, 8, 2, 16)[0])
        balanced = as_numpy(dualpipe_eplb.rebalance_experts(weight, 96, 8, 2, 16, policy="balanced")[0])
        for layer in range(6):
            gpus = balanced[layer].reshape(16, -1)
            self.assertTrue(all(len(set(g)) == len(g) for g in gpus))
            self.assertEqual(set(balanced[layer]), set(range(64)))
            if all(len(set(g)) == len(g) for g in deepseek[layer].reshape(16, -1)):
                self.assertLessEqual(gpu_loads(balanced, weight, 16)[layer].max(),
                                     gpu_loads(deepseek, weight, 16)[layer].max())

    @needs_eplb_plan
    def test_balanced_gives_the_plan_eplb_plan_gives(self):
        weight = np.random.default_rng(6).lognormal(0, 1, (4, 32)).astype(np.float32)
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "loads.npy")
            np.save(path, weight)
            code, out, err = run_eplb_plan(path, "--replicas", "48", "--groups", "4", "--nodes", "2",
                                           "--gpus", "8", "--format", "csv")
        self.assertEqual(code, 0, err)
        expected = [[int(x) for x in line.split(",")] for line in out.split()]
        phy2log = dualpipe_eplb.rebalance_experts(weight, 48, 4, 2, 8, policy="balanced")[0]
        self.assertEqual(as_numpy(phy2log).tolist(), expected)

    def test_replans_from_a_previous_plan_moving_no_more_replicas_than_allowed(self):
        rng = np.random.default_rng(7)
        old, new = rng.lognormal(0, 1, (2, 4, 64)).astype(np.float32)
        previous = as_numpy(dualpipe_eplb.rebalance_experts(old, 96, 8, 2, 16, policy="balanced")[0])
        for cap in (0, 5, 20):
            phy2log = as_numpy(dualpipe_eplb.rebalance_experts(
                new, 96, 8, 2, 16, policy="balanced", previous=previous, max_moves=cap)[0])
            self.assertLessEqual(int((phy2log != previous).sum()), cap)
        unchanged = dualpipe_eplb.rebalance_experts(new, 96, 8, 2, 16, policy="balanced",
                                                    previous=previous, min_gain=0.99)[0]
        self.assertEqual(as_numpy(unchanged).tolist(), previous.tolist())

    def test_plans_the_readme_example_as_the_reference_readme_shows(self):
        self.assertEqual(as_numpy(dualpipe_eplb.rebalance_experts(README_WEIGHT, 16, 4, 2, 8)[0]).tolist(),
                         README_PHY2LOG)


class RebalanceExpertsErrors(unittest.TestCase):
    @needs_eplb_plan
    def test_bad_parameters_raise_value_error_with_the_message_of_eplb_plan(self):
        bad = [(15, 4, 2, 8), (16, 5, 1, 8), (16, 4, 3, 8), (8, 4, 2, 8), (0, 4, 2, 8), (16, 0, 2, 8),
               (16, 4, -2, 8), (16, 4, 2, 0)]
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "loads.csv")
            with open(path, "w") as file:
                file.write("\n".join(",".join(str(x) for x in row) for row in README_WEIGHT) + "\n")
            for replicas, groups, nodes, gpus in bad:
                with self.subTest(replicas=replicas, groups=groups, nodes=nodes, gpus=gpus):
                    code, _, err = run_eplb_plan(path, "--replicas", str(replicas), "--groups",
                                                 str(groups), "--nodes", str(nodes), "--gpus", str(gpus))
                    self.assertEqual(code, 2)
                    with self.assertRaises(ValueError) as raised:
                        dualpipe_eplb.rebalance_experts(README_WEIGHT, replicas, groups, nodes, gpus)
                    self.assertEqual("eplb-plan: " + str(raised.exception) + "\n", err)

    def test_bad_weights_raise_value_error_with_one_line(self):
        cases = {
            "weight is not a rectangular array of numbers": [[1, 2], [3]],
            "weight has shape (3,); expected [layers, experts]": [1, 2, 3],
            "load of layer 0, expert 1 is -2.000000; expected a finite, non-negative number": [[1, -2]],
            "load of layer 0, expert 0 is nan; expected a finite, non-negative number": [[float("nan"), 1]],
            "loads must have at least one layer and one expert": np.zeros((0, 4)),
        }
        for message, weight in cases.items():
            with self.subTest(message):
                with self.assertRaises(ValueError) as raised:
                    dualpipe_eplb.rebalance_experts(weight, 4, 1, 1, 2)
                self.assertEqual(str(raised.exception), message)

    def test_bad_policy_previous_plan_and_limits_raise_value_error(self):
        cases = [
            ("--policy 'greedy': expected balanced or deepseek", dict(policy="greedy")),
            ("--max-moves and --min-gain need --previous PLAN", dict(max_moves=3)),
            ("--min-gain must be in [0, 1) (got nan)", dict(previous=README_PHY2LOG, min_gain=float("nan"))),
            ("--max-moves must be at least 0 (got -1)", dict(previous=README_PHY2LOG, max_moves=-1)),
            ("layer 0, slot 0 holds expert 12; expected 0..11", dict(previous=[[12] * 16, [0] * 16])),
            ("previous holds float64 values; expected integer expert ids", dict(previous=[[0.5] * 16] * 2)),
            ("the previous plan has 1 layers, 16 replicas and 12 experts; expected 2, 16 and 12",
             dict(previous=[list(range(12)) + [0, 1, 2, 3]])),
        ]
        for message, keywords in cases:
            with self.subTest(message):
                with self.assertRaises(ValueError) as raised:
                    dualpipe_eplb.rebalance_experts(README_WEIGHT, 16, 4, 2, 8, **keywords)
                self.assertEqual(str(raised.exception), message)


if __name__ == "__main__":
    unittest.main()
