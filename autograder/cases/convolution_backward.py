"""Cases for 03-convolution-backward. Oracles: torch autograd through F.conv2d, and
F.conv_transpose2d; for learning a kernel, the kernel that made the targets (F.conv2d)."""
import itertools

import numpy as np
import torch

from autograder.cases.convolution_forward import conv_cases

SEED = 2026 + 3
JUDGED_OUTSIDE = True  # inputs/<assignment>.npz holds every field but the OUTPUT_FIELDS
OUTPUT_FIELDS = {"dx", "dw", "db", "out", "true_w"}


def torch_gradients(x, w, b, stride, pad, dout):
    """dx, dw, db of sum(conv2d(x, w, b) * dout), from torch autograd (float64)."""
    x_t, w_t, b_t = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out = torch.nn.functional.conv2d(x_t, w_t, b_t, stride=stride, padding=pad)
    out.backward(torch.from_numpy(dout))
    return x_t.grad.numpy(), w_t.grad.numpy(), b_t.grad.numpy()


def _conv_inputs(rng, N, C, H, W, F, HH, WW, stride, pad):
    x, w, b = rng.normal(size=(N, C, H, W)), rng.normal(size=(F, C, HH, WW)), rng.normal(size=F)
    H_out, W_out = (H + 2 * pad - HH) // stride + 1, (W + 2 * pad - WW) // stride + 1
    return x, w, b, rng.normal(size=(N, F, H_out, W_out))


def transpose_cases():
    """(N, C_in, H, W, F, HH, WW, stride, pad) of transposed convolutions: strides 1-3, pads
    0-2, kernels from 1x2 to 4x2 (most of them not square), 1-3 channels in and out, H != W,
    every output at least one row and column."""
    kernels = [(3, 2), (2, 3), (1, 2), (3, 3), (4, 2), (2, 1)]
    cases = []
    for round_ in range(2):
        for idx, (stride, pad) in enumerate(itertools.product([1, 2, 3], [0, 1, 2])):
            k = idx + 9 * round_
            HH, WW = kernels[k % len(kernels)]
            H, W = 2 + k % 3, 3 + (k + 1) % 3
            while (H - 1) * stride - 2 * pad + HH < 1:
                H += 1
            while (W - 1) * stride - 2 * pad + WW < 1 or W == H:
                W += 1
            cases.append((1 + k % 3, 1 + (k + 1) % 3, H, W, 1 + (k + 2) % 3, HH, WW, stride, pad))
    return cases


# Convolutions (N, C, H, W, F, HH, WW, stride, pad) whose backward pass the transposed
# convolution computes: its output must have the shape of their input x.
BACKWARD_OF = [(2, 3, 7, 6, 4, 3, 2, 2, 1), (1, 2, 5, 8, 3, 2, 3, 1, 0),
               (2, 1, 8, 5, 2, 3, 3, 3, 2)]


# Learning a kernel (exercise 7.1): (images shape, kernel shape, lr, num_steps, seed, pixels).
# Each lr is below 2 / (largest eigenvalue of the loss's Hessian) for its images, and
# num_steps brings the solution within 1e-5 of the true kernel.
LEARN = [((4, 1, 7, 9), (1, 2), 0.2, 40, 0, "normal"),
         ((3, 1, 9, 6), (2, 3), 0.6, 150, 1, "uniform"),
         ((2, 1, 5, 8), (3, 2), 0.2, 60, 2, "normal")]


def build():
    rng = np.random.default_rng(SEED)
    refs = {}
    for i, (N, C, H, W, F, HH, WW, stride, pad) in enumerate(conv_cases()):
        x, w, b, dout = _conv_inputs(rng, N, C, H, W, F, HH, WW, stride, pad)
        dx, dw, db = torch_gradients(x, w, b, stride, pad, dout)
        refs.update({f"conv/{i}/x": x, f"conv/{i}/w": w, f"conv/{i}/b": b, f"conv/{i}/dout": dout,
                     f"conv/{i}/stride_pad": np.array([stride, pad]),
                     f"conv/{i}/dx": dx, f"conv/{i}/dw": dw, f"conv/{i}/db": db})

    # dx as a full convolution (exercise 5.1): the same grid, new arrays
    rng = np.random.default_rng(SEED + 100)
    for i, (N, C, H, W, F, HH, WW, stride, pad) in enumerate(conv_cases()):
        x, w, b, dout = _conv_inputs(rng, N, C, H, W, F, HH, WW, stride, pad)
        refs.update({f"full/{i}/x": x, f"full/{i}/w": w, f"full/{i}/b": b,
                     f"full/{i}/dout": dout, f"full/{i}/stride_pad": np.array([stride, pad]),
                     f"full/{i}/dx": torch_gradients(x, w, b, stride, pad, dout)[0]})

    # the transposed convolution (exercise 6.1): w is (C_in, F, HH, WW), as in torch
    rng = np.random.default_rng(SEED + 200)
    i = 0
    for i, (N, C_in, H, W, F, HH, WW, stride, pad) in enumerate(transpose_cases()):
        x, w, b = (rng.normal(size=(N, C_in, H, W)), rng.normal(size=(C_in, F, HH, WW)),
                   rng.normal(size=F))
        out = torch.nn.functional.conv_transpose2d(torch.from_numpy(x), torch.from_numpy(w),
                                                   torch.from_numpy(b), stride=stride,
                                                   padding=pad).numpy()
        refs.update({f"tconv/{i}/x": x, f"tconv/{i}/w": w, f"tconv/{i}/b": b,
                     f"tconv/{i}/stride_pad": np.array([stride, pad]), f"tconv/{i}/out": out})
    # ... and as the backward pass of a convolution: its input is that convolution's dout,
    # its weights the convolution's, no bias; the expected output is torch autograd's dx
    for k, (N, C, H, W, F, HH, WW, stride, pad) in enumerate(BACKWARD_OF, start=i + 1):
        x, w, b, dout = _conv_inputs(rng, N, C, H, W, F, HH, WW, stride, pad)
        refs.update({f"tconv/{k}/x": dout, f"tconv/{k}/w": w, f"tconv/{k}/b": np.zeros(C),
                     f"tconv/{k}/stride_pad": np.array([stride, pad]),
                     f"tconv/{k}/backward_of": np.array(x.shape),
                     f"tconv/{k}/out": torch_gradients(x, w, b, stride, pad, dout)[0]})

    # learning a kernel: the targets are the images filtered by true_w (no bias), which only
    # the judge sees
    rng = np.random.default_rng(SEED + 300)
    for i, (shape, (HH, WW), lr, num_steps, seed, pixels) in enumerate(LEARN):
        images = rng.normal(size=shape) if pixels == "normal" else rng.uniform(size=shape)
        true_w = rng.integers(-2, 3, size=(1, 1, HH, WW)).astype(float)
        targets = torch.nn.functional.conv2d(torch.from_numpy(images),
                                             torch.from_numpy(true_w)).numpy()
        refs.update({f"learn/{i}/images": images, f"learn/{i}/targets": targets,
                     f"learn/{i}/kernel_shape": np.array([HH, WW]), f"learn/{i}/lr": np.array(lr),
                     f"learn/{i}/num_steps": np.array(num_steps), f"learn/{i}/seed": np.array(seed),
                     f"learn/{i}/true_w": true_w})
    return refs
