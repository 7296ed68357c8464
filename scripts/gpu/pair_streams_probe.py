"""Probe, on one GPU, of how far the pipeline-bench model's matrix products can go.

One stage of two blocks (Linear H->4H, GELU, Linear 4H->H, no bias) at bench_pipeline.sh's three sizes, as
CUDA graphs (so no host work is measured): a forward (F), a forward+backward (FB), F then FB in
turn on one stream, and F beside FB on two streams (what StageStreams gives an FB pair). Float32
runs without TF32, as in the reference. Run it with PYTORCH_TUNABLEOP_ENABLED=1 and
PYTORCH_TUNABLEOP_FILENAME=OUT.csv to have PyTorch time the cuBLASLt algorithms offered for each
matrix product shape against cuBLAS's own and write the fastest to OUT.csv ("Default" = what cuBLAS picks anyway).
Usage: python3 scripts/gpu/pair_streams_probe.py
"""
import torch
torch.backends.cuda.matmul.allow_tf32 = False
def stage(h, dtype, blocks=2):
    layers = []
    for _ in range(blocks):
        layers += [torch.nn.Linear(h, 4*h, bias=False), torch.nn.GELU(), torch.nn.Linear(4*h, h, bias=False)]
    return torch.nn.Sequential(*layers).cuda().to(dtype)
def graphed(m, x, g, fwd_only):
    s = torch.cuda.Stream(); s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(2):
            y = m(x)
            if not fwd_only: y.backward(g)
    torch.cuda.current_stream().wait_stream(s)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        y = m(x)
        if not fwd_only: y.backward(g)
    return graph
def run(h, tokens, dtype, n=20, reps=20):
    m1 = stage(h, dtype); m2 = stage(h, dtype)
    x1 = torch.randn(tokens, h, device='cuda', dtype=dtype, requires_grad=True); x2 = x1.detach().clone().requires_grad_()
    g = torch.randn(tokens, h, device='cuda', dtype=dtype)
    gf = graphed(m1, x1, g, True); gfb = graphed(m2, x2, g, False)
    s1 = torch.cuda.Stream(); s2 = torch.cuda.Stream()
    def timed(body):
        torch.cuda.synchronize(); a = torch.cuda.Event(enable_timing=True); b = torch.cuda.Event(enable_timing=True)
        a.record(); body(); b.record(); torch.cuda.synchronize(); return a.elapsed_time(b)
    def only(gr):
        def body():
            for _ in range(n): gr.replay()
        return body
    def serial():
        for _ in range(n): gf.replay(); gfb.replay()
    def two_streams():
        cur = torch.cuda.current_stream(); s1.wait_stream(cur); s2.wait_stream(cur)
        for _ in range(n):
            with torch.cuda.stream(s1): gf.replay()
            with torch.cuda.stream(s2): gfb.replay()
            # a pair ends when both halves end (the pipeline's next action needs both)
            s1.wait_stream(s2); s2.wait_stream(s1)
        cur.wait_stream(s1); cur.wait_stream(s2)
    res = {}
    for name, body in (("F", only(gf)), ("FB", only(gfb)), ("serial", serial), ("two_streams", two_streams)):
        body(); ts = sorted(timed(body) for _ in range(reps)); res[name] = ts[len(ts)//2]
    print(f"h={h} tokens={tokens} {dtype}: per {n}: F {res['F']:.2f} FB {res['FB']:.2f} F;FB {res['serial']:.2f} F||FB {res['two_streams']:.2f} ms ratio {res['two_streams']/res['serial']:.3f}", flush=True)
run(512, 768, torch.float32)
run(1024, 1024, torch.bfloat16)
run(4096, 2048, torch.bfloat16, n=5, reps=5)
