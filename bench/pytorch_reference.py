#!/usr/bin/env python3
"""The bench's Transformer workloads in PyTorch on CPU, beside bench/engine.ts, in one run.

    /usr/bin/python3 bench/pytorch_reference.py [--threads N] [--steps 6] [--skip-bench]

(/usr/bin/python3: the system Python that Debian's python3-torch installs into.)

A dev-only reference, not a dependency of the course: it needs PyTorch (Debian's python3-torch:
`apt-get install python3-torch libopenblas0`; without OpenBLAS, Debian's torch calls the reference
BLAS, which runs its products ~30× slower; the script prints the 512×512 rate it sees). It times one
training step of each Transformer workload of bench/engine.ts with the same shapes, optimiser and
FLOP count (2 warm-up steps, then the median of `--steps`), with torch.set_num_threads(N) (default:
the cores available), then runs `npx tsx bench/engine.ts --json --threads N` and prints, per
workload, both ms/step and their ratio
(recsys-ts ÷ PyTorch: below 1.0, recsys-ts is faster). Both run on the same machine within minutes of
each other; on a shared machine, run it twice and compare the ratios, which drift less than the times.

The models are PyTorch's stock layers in the bench's shapes: token and learned position embeddings,
nn.TransformerEncoderLayer (post-LN, GELU, feed-forward 4·D, dropout 0.1), the output projection tied
to the item embeddings plus a bias, softmax cross-entropy over the whole catalogue on the scored rows.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:  # a clear message rather than a traceback: PyTorch is optional here
    sys.exit("bench/pytorch_reference.py needs PyTorch on CPU: apt-get install python3-torch (Debian) or pip install torch")


class Encoder(nn.Module):
    """Embeddings (tied output), learned positions, L post-LN encoder layers: the bench's Transformer."""

    def __init__(self, items, width, heads, layers, length, causal=False, token_types=False):
        super().__init__()
        self.embeddings = nn.Embedding(items, width)
        nn.init.normal_(self.embeddings.weight, std=0.02)
        self.output_bias = nn.Parameter(torch.zeros(items))
        self.positions = nn.Parameter(torch.randn(length, width) * 0.02)
        self.token_types = nn.Embedding(2, width) if token_types else None
        self.norm = nn.LayerNorm(width)
        layer = nn.TransformerEncoderLayer(
            width, heads, dim_feedforward=4 * width, dropout=0.1, activation="gelu", batch_first=True
        )
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.mask = nn.Transformer.generate_square_subsequent_mask(length) if causal else None

    def forward(self, ids, types=None):
        x = self.embeddings(ids) + self.positions
        if self.token_types is not None:
            x = x + self.token_types(types)
        return self.encoder(F.dropout(self.norm(x), 0.1, self.training), mask=self.mask)

    def logits(self, rows):
        return rows @ self.embeddings.weight.T + self.output_bias


def forward_flops(batch, length, width, layers, items, scored):
    """bench/engine.ts's transformerForwardFlops: dense maps 2·P·n, attention 4·B·T²·D, the projection."""
    tokens = batch * length
    per_layer = 2 * (4 * width * width + 2 * width * 4 * width) * tokens + 4 * batch * length**2 * width
    return layers * per_layer + 2 * width * items * scored


def time_step(step, steps):
    step()
    step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def transformer_workload(name, batch, length, width, heads, layers, items, mask_probability, steps, causal=False,
                         adamw=False, seed=7):
    """One training step as bench/engine.ts's transformerStep (Adam) or its bert4rec/sasrec-train (AdamW)."""
    torch.manual_seed(seed)
    model = Encoder(items, width, heads, layers, length, causal=causal)
    model.train()
    ids = torch.randint(1, items, (batch, length))
    targets = torch.randint(0, items, (batch * length,))
    if mask_probability >= 1:
        scored = torch.arange(batch * length)
    else:
        scored = torch.nonzero(torch.rand(batch * length) < mask_probability).squeeze(1)
    labels = targets[scored]
    optimiser = (torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0) if adamw
                 else torch.optim.Adam(model.parameters(), lr=1e-3))

    def step():
        optimiser.zero_grad(set_to_none=True)
        hidden = model(ids).reshape(batch * length, width)
        loss = F.cross_entropy(model.logits(hidden[scored]), labels)
        loss.backward()
        optimiser.step()

    ms = time_step(step, steps)
    return name, ms, 3 * forward_flops(batch, length, width, layers, items, len(scored))


def bert_pretraining_workload(name, steps):
    """bench/engine.ts's bertPretrainingStep: B64 T48 D64 H2 L2, vocabulary 3,000, MLM on 15% + NSP, AdamW, clip 1."""
    batch, length, vocab, width, layers = 64, 48, 3000, 64, 2
    torch.manual_seed(11)
    model = Encoder(vocab, width, 2, layers, length, token_types=True)
    transform = nn.Sequential(nn.Linear(width, width), nn.GELU(), nn.LayerNorm(width))
    pooler = nn.Linear(width, width)
    nsp = nn.Linear(width, 2)
    parameters = [*model.parameters(), *transform.parameters(), *pooler.parameters(), *nsp.parameters()]
    ids = torch.randint(5, vocab, (batch, length))
    types = torch.zeros(batch, length, dtype=torch.long)
    types[:, length // 2 + 1:] = 1
    positions = torch.nonzero(torch.rand(batch * length) < 0.15).squeeze(1)
    labels = torch.randint(5, vocab, (len(positions),))
    is_next = torch.randint(0, 2, (batch,))
    optimiser = torch.optim.AdamW(parameters, lr=1e-3)

    def step():
        optimiser.zero_grad(set_to_none=True)
        hidden = model(ids, types)
        rows = transform(hidden.reshape(batch * length, width)[positions])
        mlm = F.cross_entropy(model.logits(rows), labels)
        next_sentence = F.cross_entropy(nsp(torch.tanh(pooler(hidden[:, 0]))), is_next)
        (mlm + next_sentence).backward()
        torch.nn.utils.clip_grad_norm_(parameters, 1.0)
        optimiser.step()

    ms = time_step(step, steps)
    flops = 3 * (forward_flops(batch, length, width, layers, vocab, len(positions)) + 2 * width * width * len(positions))
    return name, ms, flops


def bench_engine(threads, steps):
    """bench/engine.ts's JSON lines, run with the same threads, by workload name."""
    command = ["npx", "tsx", "bench/engine.ts", "--json", "--threads", str(threads), "--steps", str(steps)]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run(command, cwd=root, check=True, capture_output=True, text=True).stdout
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    return {row["workload"]: row for row in rows if "workload" in row}


def matmul_gflops(n=512, repeats=10):
    """Best-of-`repeats` rate of one n×n product: which BLAS PyTorch calls shows here."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--skip-bench", action="store_true", help="time PyTorch only")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    print(f"PyTorch {torch.__version__} on CPU, {torch.get_num_threads()} threads; load average {load}")
    rate = matmul_gflops()
    print(f"PyTorch's 512×512 matmul: {rate:.1f} GFLOP/s")
    if rate < 20:
        # Debian's python3-torch calls whichever libblas.so.3 the alternatives system points at: the
        # reference BLAS (libblas3) runs ~5 GFLOP/s, OpenBLAS (libopenblas0) tens to hundreds.
        print("  (a reference BLAS: apt-get install libopenblas0 for the speed PyTorch users see)")

    steps = args.steps
    results = [
        transformer_workload("toy transformer B64 T50 D64 H4 L2, 1700 items, full softmax",
                             64, 50, 64, 4, 2, 1700, 1, steps),
        transformer_workload("BERT4Rec ml-100k B64 T100 D64 H2 L2, 1684 items, p=0.2",
                             64, 100, 64, 2, 2, 1684, 0.2, steps),
        transformer_workload("BERT4Rec ml-100k B64 T200 D64 H2 L2, 1684 items, p=0.2",
                             64, 200, 64, 2, 2, 1684, 0.2, steps),
        bert_pretraining_workload("bert-pretrain B64 T48 D64 H2 L2, vocab 3000, MLM 15% + NSP, AdamW, clip 1", steps),
        transformer_workload("bert4rec-train B64 T100 D64 H2 L2, 1682 items, Cloze ρ=0.2, full softmax, AdamW",
                             64, 100, 64, 2, 2, 1682, 0.2, steps, adamw=True, seed=5),
        transformer_workload("sasrec-train B64 T100 D64 H1 L2, 1682 items, every next item, full softmax, AdamW",
                             64, 100, 64, 1, 2, 1682, 1, steps, causal=True, adamw=True, seed=5),
    ]
    ours = {} if args.skip_bench else bench_engine(args.threads, steps)
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    print(f"{'workload':<84} {'PyTorch ms':>10} {'recsys-ts ms':>12} {'ratio':>6}")
    for name, ms, flops in results:
        row = ours.get(name)
        theirs = f"{row['msPerStep']:>12.1f} {row['msPerStep'] / ms:>6.2f}" if row else f"{'-':>12} {'-':>6}"
        print(f"{name:<84} {ms:>10.1f} {theirs}   ({flops / ms / 1e6:.1f} GFLOP/s in PyTorch)")
    print(f"load average after: {load}")


if __name__ == "__main__":
    main()
