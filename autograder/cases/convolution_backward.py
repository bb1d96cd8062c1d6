"""Cases for 03-convolution-backward. Oracle: torch autograd through F.conv2d."""
import numpy as np
import torch

from autograder.cases.convolution_forward import conv_cases

SEED = 2026 + 3
JUDGED_OUTSIDE = True  # inputs/<assignment>.npz holds every field but the OUTPUT_FIELDS
OUTPUT_FIELDS = {"dx", "dw", "db"}


def torch_gradients(x, w, b, stride, pad, dout):
    """dx, dw, db of sum(conv2d(x, w, b) * dout), from torch autograd (float64)."""
    x_t, w_t, b_t = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    out = torch.nn.functional.conv2d(x_t, w_t, b_t, stride=stride, padding=pad)
    out.backward(torch.from_numpy(dout))
    return x_t.grad.numpy(), w_t.grad.numpy(), b_t.grad.numpy()


def build():
    rng = np.random.default_rng(SEED)
    refs = {}
    for i, (N, C, H, W, F, HH, WW, stride, pad) in enumerate(conv_cases()):
        x, w, b = rng.normal(size=(N, C, H, W)), rng.normal(size=(F, C, HH, WW)), rng.normal(size=F)
        H_out, W_out = (H + 2 * pad - HH) // stride + 1, (W + 2 * pad - WW) // stride + 1
        dout = rng.normal(size=(N, F, H_out, W_out))
        dx, dw, db = torch_gradients(x, w, b, stride, pad, dout)
        refs.update({f"conv/{i}/x": x, f"conv/{i}/w": w, f"conv/{i}/b": b, f"conv/{i}/dout": dout,
                     f"conv/{i}/stride_pad": np.array([stride, pad]),
                     f"conv/{i}/dx": dx, f"conv/{i}/dw": dw, f"conv/{i}/db": db})
    return refs
