"""The forms dualpipe_eplb takes and gives: tensors, arrays and nested lists in; int64 torch tensors
out when torch can be imported, NumPy arrays otherwise."""
import os
import subprocess
import sys
import unittest

import numpy as np

import dualpipe_eplb
from eplb_test_support import README_PHY2LOG, README_WEIGHT

try:
    import torch
except ImportError:
    torch = None


class Inputs(unittest.TestCase):
    def test_takes_nested_lists_numpy_arrays_of_any_number_type_and_tensors_alike(self):
        forms = [README_WEIGHT, np.array(README_WEIGHT, dtype=np.int64),
                 np.array(README_WEIGHT, dtype=np.float64), np.asfortranarray(np.array(README_WEIGHT, np.float32))]
        if torch is not None:
            forms += [torch.tensor(README_WEIGHT), torch.tensor(README_WEIGHT, dtype=torch.float16),
                      torch.tensor(README_WEIGHT, dtype=torch.float32).t().contiguous().t(),
                      torch.tensor(README_WEIGHT, dtype=torch.float64, requires_grad=True)]
        for weight in forms:
            with self.subTest(type(weight).__name__):
                phy2log = dualpipe_eplb.rebalance_experts(weight, 16, 4, 2, 8)[0]
                self.assertEqual(np.asarray(phy2log).tolist(), README_PHY2LOG)


@unittest.skipIf(torch is None, "torch is not importable here")
class OutputsWithTorch(unittest.TestCase):
    def test_are_int64_cpu_tensors_shaped_as_the_reference_returns_them(self):
        phy2log, log2phy, logcnt = dualpipe_eplb.rebalance_experts(torch.tensor(README_WEIGHT), 16, 4, 2, 8)
        for tensor, shape in ((phy2log, (2, 16)), (log2phy, (2, 12, 2)), (logcnt, (2, 12))):
            self.assertIsInstance(tensor, torch.Tensor)
            self.assertEqual(tensor.dtype, torch.int64)
            self.assertEqual(tensor.device.type, "cpu")
            self.assertEqual(tuple(tensor.shape), shape)


class OutputsWithoutTorch(unittest.TestCase):
    def test_are_int64_numpy_arrays_when_torch_cannot_be_imported(self):
        script = ("import sys; sys.modules['torch'] = None\n"
                  "import dualpipe_eplb\n"
                  f"out = dualpipe_eplb.rebalance_experts({README_WEIGHT!r}, 16, 4, 2, 8)\n"
                  "print([type(x).__name__ + ' ' + str(x.dtype) for x in out], out[0].tolist())")
        result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                env=dict(os.environ))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.strip(),
                         f"{['ndarray int64'] * 3} {README_PHY2LOG}")


if __name__ == "__main__":
    unittest.main()
