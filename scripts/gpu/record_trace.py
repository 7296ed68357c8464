#!/usr/bin/env python3
"""Records a small PyTorch-profiler trace on two GPUs for trace-view's tests and docs.

Each rank runs a tiny two-stage pipeline annotated the way the toolkit's runtime annotates its
actions ("dualpipe:F s0 m0 d0", "dualpipe:SEND_F s0 m0 d0 p1", ...), plus a DeepSeek-style
overlapped pair: an all-to-all on a communication stream ("dispatch(F)") while a matmul runs on
the compute stream ("attn(B)"). The traces are written with export_chrome_trace and gzipped:

    torchrun --nproc-per-node 2 scripts/gpu/record_trace.py --out profiles
    # -> profiles/nccl_overlap_trace_rank0.json.gz, profiles/nccl_overlap_trace_rank1.json.gz
    build/gpu/apps/trace-view/trace-view profiles/nccl_overlap_trace_rank*.json.gz

Needs PyTorch with CUDA and NCCL (NCCL_NVLS_ENABLE=0 is set here).
"""
import argparse
import gzip
import os
import shutil

os.environ.setdefault("NCCL_NVLS_ENABLE", "0")

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
from torch.profiler import ProfilerActivity, profile, record_function  # noqa: E402


def label(op, stage, microbatch, peer=None):
    """The toolkit's annotation label (schedule/annotation.h): 'dualpipe:F s0 m1 d0 [pN]'."""
    text = f"dualpipe:{op} s{stage} m{microbatch} d0"
    return text if peer is None else f"{text} p{peer}"


def pipeline_step(rank, weights, activations, microbatches, comm_stream):
    """Forward of every micro-batch through stage 0 (rank 0) then stage 1 (rank 1), then the
    backwards in reverse, with the activations and gradients sent point to point."""
    peer = 1 - rank
    outputs = []
    for m in range(microbatches):
        if rank == 1:
            with record_function(label("RECV_F", 1, m, peer)):
                dist.recv(activations[m], src=0)
        with record_function(label("F", rank, m)):
            outputs.append(torch.tanh(activations[m] @ weights))
        if rank == 0:
            with record_function(label("SEND_F", 0, m, peer)):
                dist.send(outputs[m], dst=1)
    for m in range(microbatches):
        gradient = torch.ones_like(outputs[m])
        if rank == 0:
            with record_function(label("RECV_B", 0, m, peer)):
                dist.recv(gradient, src=1)
        with record_function(label("B", rank, m)):
            gradient = (gradient * (1 - outputs[m] ** 2)) @ weights.t()
        if rank == 1:
            with record_function(label("SEND_B", 1, m, peer)):
                dist.send(gradient, dst=0)
    torch.cuda.synchronize()


def overlapped_pair(weights, tokens, comm_stream):
    """An all-to-all on the communication stream under a matmul on the compute stream."""
    received = torch.empty_like(tokens)
    comm_stream.wait_stream(torch.cuda.current_stream())
    with record_function("dispatch(F)"):
        with torch.cuda.stream(comm_stream):
            dist.all_to_all_single(received, tokens)
    with record_function("attn(B)"):
        for _ in range(8):
            tokens = torch.relu(tokens @ weights)
    torch.cuda.current_stream().wait_stream(comm_stream)
    with record_function("combine(F)"):
        with torch.cuda.stream(comm_stream):
            dist.all_to_all_single(tokens, received)
    torch.cuda.synchronize()


def main():
    parser = argparse.ArgumentParser(description="record a 2-GPU NCCL trace for trace-view")
    parser.add_argument("--out", default="profiles")
    parser.add_argument("--size", type=int, default=4096, help="matrix side")
    parser.add_argument("--microbatches", type=int, default=4)
    options = parser.parse_args()

    dist.init_process_group("nccl")
    rank = dist.get_rank()
    torch.cuda.set_device(rank)
    torch.manual_seed(rank)
    weights = torch.randn(options.size, options.size, device="cuda") / options.size ** 0.5
    activations = [torch.randn(1024, options.size, device="cuda") for _ in range(options.microbatches)]
    tokens = torch.randn(8192, options.size, device="cuda")
    comm_stream = torch.cuda.Stream()

    for _ in range(2):  # warm-up: NCCL communicators, cuBLAS handles
        pipeline_step(rank, weights, activations, options.microbatches, comm_stream)
        overlapped_pair(weights, tokens, comm_stream)
    with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
        # Both profilers are running before either rank starts (starting one takes ~0.5 s).
        dist.barrier()
        torch.cuda.synchronize()
        with record_function("ProfilerStep#1"):
            pipeline_step(rank, weights, activations, options.microbatches, comm_stream)
            overlapped_pair(weights, tokens, comm_stream)
    os.makedirs(options.out, exist_ok=True)
    plain = os.path.join(options.out, f"nccl_overlap_trace_rank{rank}.json")
    prof.export_chrome_trace(plain)
    with open(plain, "rb") as source, gzip.open(plain + ".gz", "wb") as target:
        shutil.copyfileobj(source, target)
    os.remove(plain)
    print(f"rank {rank}: wrote {plain}.gz ({os.path.getsize(plain + '.gz')} bytes)")
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
