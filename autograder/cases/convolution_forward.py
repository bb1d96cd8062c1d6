"""Cases for 02-convolution-forward. Oracles: torch (permute, conv2d, unfold)."""
import itertools

import numpy as np
import torch

SEED = 2026 + 2
JUDGED_OUTSIDE = True  # inputs/<assignment>.npz holds every field but the OUTPUT_FIELDS
OUTPUT_FIELDS = {"nhwc", "rgb", "out", "cols"}


def conv_cases():
    """(N, C, H, W, F, HH, WW, stride, pad) covering strides 1-3, pads 0-2, square and
    rectangular kernels from 1x1 to 5x3, 1-3 channels, filters and images, H != W."""
    kernels = [(1, 1), (2, 3), (3, 3), (3, 1), (4, 2), (5, 3)]
    cases = []
    for round_ in range(2):
        for idx, (stride, pad) in enumerate(itertools.product([1, 2, 3], [0, 1, 2])):
            k = idx + 9 * round_
            HH, WW = kernels[k % len(kernels)]
            H = max(HH - 2 * pad, 0) + stride * (2 + k % 3)
            W = max(WW - 2 * pad, 0) + stride * (3 + (k + 1) % 3)
            H += (HH - 2 * pad - H) % stride  # make (H + 2*pad - HH) a multiple of stride
            W += (WW - 2 * pad - W) % stride
            if H == W:
                W += stride
            cases.append((1 + k % 3, 1 + (k + 1) % 3, H, W, 1 + (k + 2) % 3, HH, WW, stride, pad))
    return cases


def _conv2d(x, w, b, stride, pad):
    return torch.nn.functional.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b),
                                      stride=stride, padding=pad).numpy()


def build():
    """Cases for 02-convolution-forward: {key: array}."""
    rng = np.random.default_rng(SEED)
    refs = {}
    for i, shape in enumerate([(2, 3, 4, 5), (1, 1, 2, 7), (3, 4, 1, 2)]):
        x = rng.normal(size=shape)
        refs[f"layout/{i}/nchw"] = x
        refs[f"layout/{i}/nhwc"] = torch.from_numpy(x).permute(0, 2, 3, 1).contiguous().numpy()
    for i, shape in enumerate([(2, 5, 3), (4, 1, 3)]):
        bgr = rng.integers(0, 256, shape)
        refs[f"bgr/{i}/bgr"] = bgr
        refs[f"bgr/{i}/rgb"] = np.stack([bgr[:, :, 2], bgr[:, :, 1], bgr[:, :, 0]], axis=-1)

    for i, (N, C, H, W, F, HH, WW, stride, pad) in enumerate(conv_cases()):
        x = rng.normal(size=(N, C, H, W))
        w = rng.normal(size=(F, C, HH, WW))
        b = rng.normal(size=F)
        refs[f"conv/{i}/x"], refs[f"conv/{i}/w"], refs[f"conv/{i}/b"] = x, w, b
        refs[f"conv/{i}/stride_pad"] = np.array([stride, pad])
        refs[f"conv/{i}/out"] = _conv2d(x, w, b, stride, pad)

    for i, (N, C, H, W, HH, WW, stride, pad) in enumerate(
            [(2, 3, 5, 6, 3, 3, 1, 1), (1, 2, 7, 4, 2, 3, 1, 0), (3, 1, 6, 8, 2, 2, 2, 0),
             (1, 2, 5, 7, 3, 1, 2, 2), (2, 1, 4, 4, 4, 4, 1, 0)]):
        x = rng.normal(size=(N, C, H, W))
        unfolded = torch.nn.functional.unfold(torch.from_numpy(x), (HH, WW), stride=stride, padding=pad)
        refs[f"im2col/{i}/x"] = x
        refs[f"im2col/{i}/args"] = np.array([HH, WW, stride, pad])
        refs[f"im2col/{i}/cols"] = unfolded.transpose(1, 2).reshape(-1, C * HH * WW).numpy()
    return refs
