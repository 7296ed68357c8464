"""What the Python tests share: the recorded reference plans and running this build's eplb-plan."""
import json
import os
import subprocess
import unittest

SOURCE_DIR = os.environ.get("DUALPIPE_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
TEST_DATA = os.path.join(SOURCE_DIR, "tests", "data", "eplb")
EPLB_PLAN = os.environ.get("EPLB_PLAN")

# The reference README's example: 2 layers x 12 experts, 16 replicas, 4 groups, 2 nodes, 8 GPUs.
README_WEIGHT = [[90, 132, 40, 61, 104, 165, 39, 4, 73, 56, 183, 86],
                 [20, 107, 104, 64, 19, 197, 187, 157, 172, 86, 16, 27]]
README_PHY2LOG = [[5, 6, 5, 7, 8, 4, 3, 4, 10, 9, 10, 2, 0, 1, 11, 1],
                  [7, 10, 6, 8, 6, 11, 8, 9, 2, 4, 5, 1, 5, 0, 3, 1]]


def reference_cases():
    """The recorded inputs and outputs of deepseek-ai/EPLB's rebalance_experts."""
    with open(os.path.join(TEST_DATA, "reference_plans.json")) as file:
        return json.load(file)["cases"]


def run_eplb_plan(*arguments):
    """(exit code, stdout, stderr) of this build's eplb-plan."""
    result = subprocess.run([EPLB_PLAN, *arguments], capture_output=True, text=True)
    return result.returncode, result.stdout, result.stderr


needs_eplb_plan = unittest.skipUnless(EPLB_PLAN, "eplb-plan is not built")
