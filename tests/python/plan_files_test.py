"""dualpipe_eplb's load readers and plan writers: the files eplb-plan reads and writes, the same
way, with the same messages."""
import json
import os
import tempfile
import unittest

import numpy as np

import dualpipe_eplb
from eplb_test_support import README_WEIGHT, TEST_DATA, needs_eplb_plan, run_eplb_plan

try:
    import torch
except ImportError:
    torch = None

# The two steps that tests/data/eplb/sglang_dump.pt holds as logical_count (int32 [2, 2, 4]).
DUMP_STEPS = [[[5, 0, 3, 9], [1, 1, 7, 2]], [[4, 2, 2, 8], [0, 3, 6, 1]]]


class Files(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.TemporaryDirectory()
        self.addCleanup(self.folder.cleanup)

    def path(self, name, text=None):
        path = os.path.join(self.folder.name, name)
        if text is not None:
            with open(path, "w") as file:
                file.write(text)
        return path


class ReadLoads(Files):
    def test_reads_every_format_of_eplb_plan_to_the_same_loads(self):
        steps = np.array(DUMP_STEPS, dtype=np.float32)
        np.save(self.path("loads.npy"), steps)
        files = [
            self.path("loads.csv", "5,0,3,9\n1,1,7,2\n\n4,2,2,8\n0,3,6,1\n"),
            self.path("loads.json", json.dumps({"loads": DUMP_STEPS})),
            self.path("loads.yaml", "loads:\n" + "".join(
                f"  - [{', '.join(str(row) for row in step)}]\n" for step in DUMP_STEPS)),
            self.path("loads.npy"),
        ]
        for path in files:
            with self.subTest(os.path.basename(path)):
                self.assertEqual(np.asarray(dualpipe_eplb.read_load_series(path)).tolist(), steps.tolist())
                self.assertEqual(np.asarray(dualpipe_eplb.read_loads(path)).tolist(), steps.sum(0).tolist())
                self.assertEqual(np.asarray(dualpipe_eplb.read_loads(path, "window:1")).tolist(),
                                 steps[1].tolist())

    @unittest.skipIf(torch is None, "torch is not importable here")
    def test_reads_the_logical_count_of_sglang_expert_distribution_dumps(self):
        series = dualpipe_eplb.read_load_series(os.path.join(TEST_DATA, "sglang_dump.pt"))
        self.assertEqual(np.asarray(series).tolist(), DUMP_STEPS)

    @unittest.skipIf(torch is None, "torch is not importable here")
    def test_refuses_torch_files_that_are_not_expert_distribution_dumps(self):
        cases = {
            self.path("garbage.pt", "not a zip archive"): "garbage.pt: not a readable torch.save file: ",
            os.path.join(TEST_DATA, "sglang_dump_without_logical_count.pt"):
                'sglang_dump_without_logical_count.pt: expected a dict with a "logical_count" tensor',
            os.path.join(TEST_DATA, "sglang_dump_negative.pt"):
                "sglang_dump_negative.pt: logical_count[0][1][2]: negative load",
        }
        for path, message in cases.items():
            with self.subTest(os.path.basename(path)):
                with self.assertRaises(ValueError) as raised:
                    dualpipe_eplb.read_loads(path)
                self.assertIn(message, str(raised.exception))
                self.assertNotIn("\n", str(raised.exception))

    @needs_eplb_plan
    def test_refuses_bad_load_files_with_the_message_of_eplb_plan(self):
        files = [self.path("ragged.csv", "1,2\n3\n"), self.path("text.csv", "1,x\n"),
                 self.path("negative.json", "[[1, -2]]"), self.path("truncated.json", "[[1, 2"),
                 self.path("empty.csv", "")]
        for path in files:
            with self.subTest(os.path.basename(path)):
                code, _, err = run_eplb_plan(path, "--replicas", "2", "--groups", "1", "--nodes", "1",
                                             "--gpus", "1")
                self.assertEqual(code, 2)
                with self.assertRaises(ValueError) as raised:
                    dualpipe_eplb.read_loads(path)
                self.assertEqual("eplb-plan: " + str(raised.exception) + "\n", err)

    def test_raises_the_os_error_of_a_missing_file(self):
        with self.assertRaises(FileNotFoundError):
            dualpipe_eplb.read_loads(self.path("missing.csv"))

    def test_refuses_an_unknown_aggregation(self):
        with self.assertRaises(ValueError):
            dualpipe_eplb.read_loads(self.path("loads.csv", "1,2\n"), "median")


class WritePlan(Files):
    @needs_eplb_plan
    def test_writes_every_format_as_eplb_plan_writes_it_and_reads_it_back(self):
        loads = self.path("loads.csv", "\n".join(",".join(map(str, row)) for row in README_WEIGHT) + "\n")
        weight = dualpipe_eplb.read_loads(loads)
        phy2log, log2phy, _ = dualpipe_eplb.rebalance_experts(weight, 16, 4, 2, 8)
        for format in ("json", "yaml", "csv", "sglang", "trtllm"):
            with self.subTest(format):
                expected = self.path("cli." + format)
                code, _, err = run_eplb_plan(loads, "--replicas", "16", "--groups", "4", "--nodes", "2",
                                             "--gpus", "8", "--policy", "deepseek", "--format", format,
                                             "--first-layer", "3", "-o", expected)
                self.assertEqual(code, 0, err)
                written = self.path("python." + format)
                dualpipe_eplb.write_plan(written, phy2log, format, log2phy=log2phy, first_layer=3,
                                         weight=weight, num_groups=4, num_nodes=2, num_gpus=8,
                                         policy="deepseek")
                with open(expected) as a, open(written) as b:
                    self.assertEqual(b.read(), a.read())
                self.assertEqual(np.asarray(dualpipe_eplb.read_plan(written)).tolist(),
                                 np.asarray(phy2log).tolist())

    def test_refuses_layer_numbers_that_do_not_fit_and_json_without_its_parameters(self):
        phy2log = [[0, 1], [1, 0]]
        cases = [
            ("--first-layer must be between 0 and 2147483646 for 2 layers (got -1)",
             dict(format="trtllm", first_layer=-1)),
            ("--first-layer must be between 0 and 2147483646 for 2 layers (got 2147483647)",
             dict(format="trtllm", first_layer=2147483647)),
            ("the json and yaml formats need policy, num_groups, num_nodes and num_gpus", dict(format="json")),
            ("--format 'xml': expected json, yaml, csv, sglang or trtllm", dict(format="xml")),
            ("log2phy of layer 0, expert 0 lists slot 1, which phy2log does not give it",
             dict(format="json", log2phy=[[[1], [0]], [[0], [1]]], policy="deepseek", num_groups=1,
                  num_nodes=1, num_gpus=1)),
        ]
        for message, keywords in cases:
            with self.subTest(message):
                path = self.path("plan.out")
                with self.assertRaises(ValueError) as raised:
                    dualpipe_eplb.write_plan(path, phy2log, **keywords)
                self.assertEqual(str(raised.exception), message)
                self.assertFalse(os.path.exists(path))

    def test_refuses_a_plan_file_that_is_not_one(self):
        with self.assertRaises(ValueError) as raised:
            dualpipe_eplb.read_plan(self.path("plan.csv", "0,1\nx\n"))
        self.assertIn("plan.csv: line 2", str(raised.exception))


if __name__ == "__main__":
    unittest.main()
