"""Times deepseek-ai/DualPipe's step on pipeline-bench's model, measured the way pipeline-bench measures.

    torchrun --nproc-per-node 2 scripts/gpu/reference_dualpipe_bench.py --hidden 512 --seq 256 \
        --microbatch-size 3 --microbatches 20 --dtype float32 --steps 20 --warmup 5

Needs the reference's `dualpipe` package on PYTHONPATH (bench_pipeline.sh passes .ref). The model is
the one pipeline-bench builds: `--blocks` blocks of Linear(H -> 4H), GELU, Linear(4H -> H) without
biases, split evenly over the P stages; MSE loss. Linears defer their weight gradients through the
reference's WeightGradStore, so its zero-bubble steps work as designed. Each timed step starts after
a barrier and a device synchronisation; its time is the slowest rank's. Rank 0 prints one JSON line
{"schedule", "ranks", "step_ms_median", "step_ms_min"}.
"""
import argparse
import json
import os
import statistics
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from dualpipe import DualPipe, set_p2p_tensor_dtype, set_p2p_tensor_shapes
from dualpipe.utils import WeightGradStore

DTYPES = {"float32": torch.float32, "float64": torch.float64, "bfloat16": torch.bfloat16}


class _LinearNoBias(torch.autograd.Function):
    """x @ w.T whose weight gradient goes through WeightGradStore (deferred while it is enabled)."""

    @staticmethod
    def forward(ctx, x, weight):
        ctx.save_for_backward(x, weight)
        return x @ weight.t()

    @staticmethod
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors

        def accumulate_weight_grad():
            update = grad_out.reshape(-1, grad_out.shape[-1]).t() @ x.reshape(-1, x.shape[-1])
            if weight.grad is None:
                weight.grad = update
            else:
                weight.grad += update

        if WeightGradStore.enabled:
            WeightGradStore.put(accumulate_weight_grad)
        else:
            accumulate_weight_grad()
        return grad_out @ weight, None


class Linear(nn.Module):
    def __init__(self, fan_in, fan_out, generator):
        super().__init__()
        bound = fan_in ** -0.5
        self.weight = nn.Parameter(torch.empty(fan_out, fan_in, dtype=torch.float64).uniform_(-bound, bound, generator=generator))

    def forward(self, x):
        return _LinearNoBias.apply(x, self.weight)


class MlpStage(nn.Module):
    """`blocks` blocks of Linear(H -> 4H), GELU, Linear(4H -> H)."""

    def __init__(self, hidden, blocks, seed):
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        self.layers = nn.ModuleList()
        for _ in range(blocks):
            self.layers.append(Linear(hidden, 4 * hidden, generator))
            self.layers.append(Linear(4 * hidden, hidden, generator))

    def forward(self, x):
        for up, down in zip(self.layers[0::2], self.layers[1::2]):
            x = down(F.gelu(up(x)))
        return x


def mse(output, target):
    return F.mse_loss(output, target)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--seq", type=int, default=256)
    parser.add_argument("--microbatch-size", type=int, default=3)
    parser.add_argument("--microbatches", type=int, default=20)
    parser.add_argument("--dtype", choices=sorted(DTYPES), default="float32")
    parser.add_argument("--blocks", type=int, default=4)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--seed", type=int, default=233)
    args = parser.parse_args()

    dist.init_process_group(backend="nccl")
    rank, ranks = dist.get_rank(), dist.get_world_size()
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    torch.cuda.set_device(local_rank)
    device = torch.device("cuda", local_rank)
    dtype = DTYPES[args.dtype]
    if args.blocks % ranks:
        raise SystemExit(f"{args.blocks} blocks do not split over {ranks} stages")

    # DualPipe: rank r runs stage r of the forward direction and stage P-1-r of the reverse one.
    per_stage = args.blocks // ranks
    stages = [MlpStage(args.hidden, per_stage, args.seed + s) for s in (rank, ranks - 1 - rank)]
    model = DualPipe(nn.Sequential(*stages).to(device=device, dtype=dtype))
    set_p2p_tensor_shapes([(args.microbatch_size, args.seq, args.hidden)])
    set_p2p_tensor_dtype(dtype)

    generator = torch.Generator().manual_seed(args.seed)
    shape = (args.microbatches * args.microbatch_size, args.seq, args.hidden)
    x = torch.randn(shape, generator=generator).to(device, dtype)
    y = torch.randn(shape, generator=generator).to(device, dtype)
    half = args.microbatches * args.microbatch_size // 2
    inputs, labels = None, None
    if rank == 0:  # direction 0 enters here with the first half; direction 1's loss ends here
        inputs, labels = x[:half], y[half:]
    elif rank == ranks - 1:
        inputs, labels = x[half:], y[:half]

    def timed_step():
        model.zero_grad(set_to_none=True)
        torch.cuda.synchronize()
        dist.barrier()
        start = time.perf_counter()
        model.step(inputs, num_chunks=args.microbatches, criterion=mse, labels=(labels,))
        torch.cuda.synchronize()
        elapsed = torch.tensor([(time.perf_counter() - start) * 1e3], device=device)
        dist.all_reduce(elapsed, op=dist.ReduceOp.MAX)
        return elapsed.item()

    for _ in range(args.warmup):
        timed_step()
    times = [timed_step() for _ in range(args.steps)]
    if rank == 0:
        print(json.dumps({"schedule": "reference-dualpipe", "ranks": ranks,
                          "step_ms_median": statistics.median(times), "step_ms_min": min(times)}), flush=True)
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
