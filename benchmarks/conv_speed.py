"""Speed of the course's convolution layers (the reference solutions) against PyTorch.

    .venv/bin/python benchmarks/conv_speed.py

Every implementation runs on the same inputs in one process, one after another, so the
ratios compare like with like: x (50, 3, 32, 32), w (32, 3, 3, 3), stride 1, pad 1, float64.
The loops are timed once on the full batch (they take seconds). Targets for the forward pass:
the vectorised versions at most 3x slower than torch.nn.functional.conv2d, and at least 300x
faster than the loops.
"""
import sys

import numpy as np
import torch
import torch.nn.functional as F

from autograder.solutions import load_solutions
from course.timing import best_time, format_seconds


def torch_backward(x_t, w_t, b_t, dout_t):
    x_t.grad = w_t.grad = b_t.grad = None
    F.conv2d(x_t, w_t, b_t, padding=1).backward(dout_t)


def main():
    forward = load_solutions("02-convolution-forward")
    backward = load_solutions("03-convolution-backward")
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=(50, 3, 32, 32)), rng.normal(size=(32, 3, 3, 3)), rng.normal(size=32)
    conv_param = {"stride": 1, "pad": 1}
    x_t, w_t, b_t = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    dout = rng.normal(size=(50, 32, 32, 32))
    dout_t = torch.from_numpy(dout)
    cache = (x, w, b, conv_param)
    expected = F.conv2d(x_t, w_t, b_t, padding=1).detach().numpy()
    for name in ("conv_forward_naive", "conv_forward_strided", "conv_forward_im2col"):
        assert np.allclose(forward[name](x, w, b, conv_param)[0], expected), name

    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; numpy {np.__version__}")
    print("x (50, 3, 32, 32), w (32, 3, 3, 3), stride 1, pad 1, float64\n")
    rows = {
        "forward": {
            "naive loops": best_time(forward["conv_forward_naive"], x, w, b, conv_param, repeat=1),
            "sliding_window_view": best_time(forward["conv_forward_strided"], x, w, b, conv_param, repeat=7),
            "im2col": best_time(forward["conv_forward_im2col"], x, w, b, conv_param, repeat=7),
            "torch conv2d": best_time(lambda: F.conv2d(x_t, w_t, b_t, padding=1), repeat=7),
        },
        "backward": {
            "naive loops": best_time(backward["conv_backward_naive"], dout, cache, repeat=1),
            "vectorised": best_time(backward["conv_backward_fast"], dout, cache, repeat=7),
            "torch autograd": best_time(torch_backward, x_t, w_t, b_t, dout_t, repeat=7),
        },
    }
    for direction, times in rows.items():
        reference = times["torch conv2d" if direction == "forward" else "torch autograd"]
        print(f"{direction:<10}{'time':>10}{'x torch':>10}{'x faster than loops':>22}")
        for name, seconds in times.items():
            print(f"  {name:<22}{format_seconds(seconds):>10}{seconds / reference:>8.2f}x"
                  f"{times['naive loops'] / seconds:>18.0f}x")
        print()

    fwd = rows["forward"]
    best_vectorised = min(fwd["sliding_window_view"], fwd["im2col"])
    targets = [
        ("vectorised forward at most 3x slower than torch", best_vectorised / fwd["torch conv2d"] <= 3),
        ("vectorised forward at least 300x faster than the loops", fwd["naive loops"] / best_vectorised >= 300),
    ]
    for label, met in targets:
        print(f"{'met ' if met else 'MISSED'}  {label}")
    return 0 if all(met for _, met in targets) else 1


if __name__ == "__main__":
    sys.exit(main())
