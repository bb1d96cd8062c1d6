"""Cases for 04-pooling. Oracles: torch (max_pool2d, avg_pool2d and their autograd gradients,
conv1d, conv3d).

Max-pooling ties: PyTorch's CPU max pooling sends the gradient of a window to the first
maximum in row-major order, the rule the course asks for (np.argmax's choice). Half of the
backward cases hold small integers, so many windows tie, overlapping ones included.
"""
import itertools

import numpy as np
import torch
import torch.nn.functional as tnf

SEED = 2026 + 4
JUDGED_OUTSIDE = True  # inputs/<assignment>.npz holds every field but the OUTPUT_FIELDS
OUTPUT_FIELDS = {"out", "dx"}

POOLS = [(1, 1), (2, 2), (2, 3), (3, 2), (3, 3)]
STRIDES = [1, 2, 3]


def pool_cases():
    """(N, C, H, W, pool_height, pool_width, stride): every pool size of POOLS with every
    stride of STRIDES (overlapping windows when stride < pool size, gaps when stride > pool
    size), 1-3 images and channels, H != W, and (H - pool_height) % stride == 0 (same for W)."""
    cases = []
    for k, ((ph, pw), stride) in enumerate(itertools.product(POOLS, STRIDES)):
        H = ph + stride * (1 + k % 3)
        W = pw + stride * (2 + (k + 1) % 3)
        if H == W:
            W += stride
        cases.append((1 + k % 3, 1 + (k + 1) % 3, H, W, ph, pw, stride))
    return cases


def conv1d_cases():
    """(N, C, L, F, K, stride, pad): strides 1-3 with pads 0-2, kernels of 1 to 5 taps,
    and (L + 2*pad - K) % stride == 0."""
    kernels = [1, 3, 2, 5, 4]
    cases = []
    for k, (stride, pad) in enumerate(itertools.product([1, 2, 3], [0, 1, 2])):
        K = kernels[k % len(kernels)]
        L = max(K - 2 * pad, 1) + stride * (2 + k % 3)
        L += (K - 2 * pad - L) % stride
        cases.append((1 + k % 3, 1 + (k + 1) % 3, L, 1 + (k + 2) % 3, K, stride, pad))
    return cases


def conv3d_cases():
    """(N, C, D, H, W, F, KD, KH, KW, stride, pad): cubic and non-cubic kernels, strides 1-3,
    pads 0-2, D, H and W all different, every axis tiled exactly."""
    settings = [((1, 1, 1), 1, 0), ((3, 3, 3), 1, 1), ((2, 3, 1), 2, 0),
                ((3, 2, 2), 2, 1), ((2, 2, 2), 3, 1), ((1, 3, 3), 1, 2)]
    cases = []
    for k, (kernel, stride, pad) in enumerate(settings):
        sizes = []
        for axis, K in enumerate(kernel):
            size = max(K - 2 * pad, 1) + stride * (1 + (k + axis) % 3)
            size += (K - 2 * pad - size) % stride
            while size in sizes:
                size += stride
            sizes.append(size)
        cases.append((1 + k % 2, 1 + (k + 1) % 3, *sizes, 1 + k % 3, *kernel, stride, pad))
    return cases


def _max_pool(x, ph, pw, stride, dout):
    t = torch.tensor(x, requires_grad=True)
    out = tnf.max_pool2d(t, (ph, pw), stride=stride)
    (out * torch.from_numpy(dout)).sum().backward()
    return out.detach().numpy(), t.grad.numpy()


def _avg_pool(x, ph, pw, stride, dout):
    t = torch.tensor(x, requires_grad=True)
    out = tnf.avg_pool2d(t, (ph, pw), stride=stride)
    (out * torch.from_numpy(dout)).sum().backward()
    return out.detach().numpy(), t.grad.numpy()


def build():
    """Cases for 04-pooling: {key: array}."""
    rng = np.random.default_rng(SEED)
    refs = {}
    for i, (N, C, H, W, ph, pw, stride) in enumerate(pool_cases()):
        H_out, W_out = (H - ph) // stride + 1, (W - pw) // stride + 1
        pool = np.array([ph, pw, stride])

        x = rng.normal(size=(N, C, H, W))
        refs[f"maxpool/{i}/x"], refs[f"maxpool/{i}/pool"] = x, pool
        refs[f"maxpool/{i}/out"] = _max_pool(x, ph, pw, stride, np.zeros((N, C, H_out, W_out)))[0]

        # even cases: small integers, so that windows tie (overlapping ones too)
        if i % 2 == 0:
            x = rng.integers(0, 3, size=(N, C, H, W)).astype(np.float64)
        else:
            x = rng.normal(size=(N, C, H, W))
        dout = rng.normal(size=(N, C, H_out, W_out))
        refs[f"maxpool_back/{i}/x"], refs[f"maxpool_back/{i}/pool"] = x, pool
        refs[f"maxpool_back/{i}/dout"] = dout
        refs[f"maxpool_back/{i}/dx"] = _max_pool(x, ph, pw, stride, dout)[1]

        x = rng.normal(size=(N, C, H, W))
        dout = rng.normal(size=(N, C, H_out, W_out))
        out, dx = _avg_pool(x, ph, pw, stride, dout)
        refs[f"avgpool/{i}/x"], refs[f"avgpool/{i}/pool"] = x, pool
        refs[f"avgpool/{i}/out"], refs[f"avgpool/{i}/dout"], refs[f"avgpool/{i}/dx"] = out, dout, dx

    for i, (N, C, L, F, K, stride, pad) in enumerate(conv1d_cases()):
        x, w, b = rng.normal(size=(N, C, L)), rng.normal(size=(F, C, K)), rng.normal(size=F)
        refs[f"conv1d/{i}/x"], refs[f"conv1d/{i}/w"], refs[f"conv1d/{i}/b"] = x, w, b
        refs[f"conv1d/{i}/stride_pad"] = np.array([stride, pad])
        refs[f"conv1d/{i}/out"] = tnf.conv1d(torch.from_numpy(x), torch.from_numpy(w),
                                             torch.from_numpy(b), stride=stride, padding=pad).numpy()

    for i, (N, C, D, H, W, F, KD, KH, KW, stride, pad) in enumerate(conv3d_cases()):
        x = rng.normal(size=(N, C, D, H, W))
        w, b = rng.normal(size=(F, C, KD, KH, KW)), rng.normal(size=F)
        refs[f"conv3d/{i}/x"], refs[f"conv3d/{i}/w"], refs[f"conv3d/{i}/b"] = x, w, b
        refs[f"conv3d/{i}/stride_pad"] = np.array([stride, pad])
        refs[f"conv3d/{i}/out"] = tnf.conv3d(torch.from_numpy(x), torch.from_numpy(w),
                                             torch.from_numpy(b), stride=stride, padding=pad).numpy()
    return refs
