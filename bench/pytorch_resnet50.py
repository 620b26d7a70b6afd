"""The peer of dlc run for bench/run_resnet50.sh: ResNet-50 f32 inference in
Debian's PyTorch (python3-torch, python3-torchvision; run it with
/usr/bin/python3). Same batch, same threads, same protocol as dlc run: random
weights and inputs allocated once, warm-up iterations, then the median of the
timed ones. Prints one line: images/s and the median step.

    /usr/bin/python3 bench/pytorch_resnet50.py [--batch 16] [--threads 2] [--warmup 3] [--iters 10]
"""
import argparse
import statistics
import time

import torch
import torchvision


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--iters", type=int, default=10)
    ap.add_argument("--channels-last", action="store_true", help="NHWC tensors (PyTorch's faster CPU layout)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    model = torchvision.models.resnet50().eval()
    x = torch.randn(a.batch, 3, 224, 224)
    if a.channels_last:
        model = model.to(memory_format=torch.channels_last)
        x = x.to(memory_format=torch.channels_last)
    times = []
    with torch.inference_mode():
        for i in range(a.warmup + a.iters):
            t0 = time.perf_counter()
            model(x)
            dt = time.perf_counter() - t0
            if i >= a.warmup:
                times.append(dt)
    step = statistics.median(times)
    print(f"pytorch {torch.__version__} resnet50 f32 inference batch {a.batch} threads {a.threads}"
          f"{' channels_last' if a.channels_last else ''}: {a.batch / step:.1f} images/s (median step {step * 1e3:.1f} ms"
          f" over {a.iters})")


if __name__ == "__main__":
    main()
