"""Hidden tests of 04-pooling: max and average pooling (forward and backward) and the 1-D and
3-D convolutions, against torch, over a grid of pool sizes 1x1 to 3x3 (square and
rectangular), strides 1-3 (overlapping windows, and gaps between windows), 1-3 channels and
images, non-square inputs; max-pooling backward cases with tied maxima
(autograder/cases/pooling.py lists the cases)."""
import numpy as np
import torch
import torch.nn.functional as tnf

from course.checks import CheckFailed, call_student, check_array
from course.diagnose_layers import max_pool_backward_mistake, pool_forward_mistake

from autograder.hidden import cases, load_references
from autograder.hidden.tripwire import library_convolutions_forbidden

ASSIGNMENT = "04-pooling"


def _unpack(result, what):
    if not isinstance(result, tuple) or len(result) != 2:
        raise CheckFailed(f"{what}: returned {type(result).__name__}; it should return a pair "
                          "(out, cache).")
    return result[0]


def _pool_param(case):
    ph, pw, stride = (int(v) for v in case["pool"])
    return {"pool_height": ph, "pool_width": pw, "stride": stride}


def _pool_name(x, pool_param):
    p = pool_param
    return (f"x {x.shape}, {p['pool_height']}x{p['pool_width']} windows, "
            f"stride {p['stride']}")


def check_max_pool_forward(max_pool_forward):
    """max_pool_forward(x, pool_param) -> (out, cache), on every reference case."""
    name = getattr(max_pool_forward, "__name__", "max_pool_forward")
    for case in cases(load_references(ASSIGNMENT), "maxpool"):
        x, pool_param = case["x"], _pool_param(case)
        what = f"hidden test: {name}({_pool_name(x, pool_param)})"
        with library_convolutions_forbidden(name, max_pool_forward):
            result = call_student(max_pool_forward, x.copy(), dict(pool_param), what=what)
        check_array(_unpack(result, what), case["out"], what, reveal=False,
                    diagnose=lambda got: pool_forward_mistake(got, x, pool_param, "max"),
                    hint="Compare your output with F.max_pool2d on this shape, window and stride.")


def check_max_pool_backward(max_pool_backward):
    """max_pool_backward(dout, cache) -> dx, with cache = (x, pool_param) built here."""
    name = getattr(max_pool_backward, "__name__", "max_pool_backward")
    for case in cases(load_references(ASSIGNMENT), "maxpool_back"):
        x, dout, pool_param = case["x"], case["dout"], _pool_param(case)
        ties = _has_ties(x, pool_param)
        what = (f"hidden test: {name}(dout {dout.shape}, cache for {_pool_name(x, pool_param)}"
                f"{', some windows with tied maxima' if ties else ''})")
        with library_convolutions_forbidden(name, max_pool_backward):
            dx = call_student(max_pool_backward, dout.copy(), (x.copy(), dict(pool_param)), what=what)
        check_array(dx, case["dx"], what, reveal=False,
                    diagnose=lambda got: max_pool_backward_mistake(got, x, pool_param, dout),
                    hint="Each dout[n, c, i, j] goes to the first maximum of its window "
                         "(np.argmax's choice); add where windows overlap.")


def _has_ties(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    H_out, W_out = (x.shape[2] - ph) // s + 1, (x.shape[3] - pw) // s + 1
    for i in range(H_out):
        for j in range(W_out):
            flat = x[:, :, i * s:i * s + ph, j * s:j * s + pw].reshape(*x.shape[:2], -1)
            if ((flat == flat.max(axis=-1, keepdims=True)).sum(axis=-1) > 1).any():
                return True
    return False


def _avg_backward_mistake(dx, x, pool_param, dout):
    """Name a mistake in an average-pooling backward pass, or None."""
    if not isinstance(dx, np.ndarray) or dx.shape != x.shape:
        return None
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    area = ph * pw
    t = torch.tensor(x, requires_grad=True)
    (tnf.avg_pool2d(t, (ph, pw), stride=s) * torch.from_numpy(dout)).sum().backward()
    right = t.grad.numpy()
    every, overwrite, max_route = (np.zeros_like(x) for _ in range(3))
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            rows, cols = slice(i * s, i * s + ph), slice(j * s, j * s + pw)
            every[:, :, rows, cols] += dout[:, :, i:i + 1, j:j + 1]
            overwrite[:, :, rows, cols] = dout[:, :, i:i + 1, j:j + 1] / area
            window = x[:, :, rows, cols].reshape(*x.shape[:2], -1)
            picks = np.eye(area)[window.argmax(axis=-1)].reshape(*x.shape[:2], ph, pw)
            max_route[:, :, rows, cols] += picks * dout[:, :, i:i + 1, j:j + 1]
    wrong = [
        (every, "The gradient was not divided by the window size: each of the "
                "pool_height * pool_width cells of a window gets dout[n, c, i, j] / "
                "(pool_height * pool_width)."),
        (max_route, "The gradient went to the maximum of each window only: that is max "
                    "pooling's backward pass. Average pooling shares dout[n, c, i, j] equally "
                    "among all cells of the window."),
        (overwrite, "Where windows overlap, a cell gets gradient from several windows, and "
                    "assigning with = keeps only the last. Add with dx[...] += ... instead."),
    ]
    for candidate, sentence in wrong:
        if (not np.allclose(candidate, right)) and np.allclose(dx, candidate):
            return sentence
    return None


def check_avg_pool(avg_pool_forward, avg_pool_backward):
    """avg_pool_forward(x, pool_param) -> (out, cache) and avg_pool_backward(dout, cache) -> dx,
    the backward with cache = (x, pool_param) built here."""
    forward_name = getattr(avg_pool_forward, "__name__", "avg_pool_forward")
    backward_name = getattr(avg_pool_backward, "__name__", "avg_pool_backward")
    for case in cases(load_references(ASSIGNMENT), "avgpool"):
        x, dout, pool_param = case["x"], case["dout"], _pool_param(case)
        what = f"hidden test: {forward_name}({_pool_name(x, pool_param)})"
        with library_convolutions_forbidden(forward_name, avg_pool_forward):
            result = call_student(avg_pool_forward, x.copy(), dict(pool_param), what=what)
        check_array(_unpack(result, what), case["out"], what, reveal=False,
                    diagnose=lambda got: pool_forward_mistake(got, x, pool_param, "avg"),
                    hint="Compare your output with F.avg_pool2d on this shape, window and stride.")

        what = f"hidden test: {backward_name}(dout {dout.shape}, cache for {_pool_name(x, pool_param)})"
        with library_convolutions_forbidden(backward_name, avg_pool_backward):
            dx = call_student(avg_pool_backward, dout.copy(), (x.copy(), dict(pool_param)), what=what)
        check_array(dx, case["dx"], what, reveal=False,
                    diagnose=lambda got: _avg_backward_mistake(got, x, pool_param, dout),
                    hint="Each cell of a window gets dout[n, c, i, j] / (pool_height * "
                         "pool_width); add where windows overlap.")


def _torch_conv(x, w, b, stride, pad):
    conv = tnf.conv1d if x.ndim == 3 else tnf.conv3d
    bias = None if b is None else torch.from_numpy(b)
    return conv(torch.from_numpy(x), torch.from_numpy(w), bias, stride=stride, padding=pad).numpy()


def _conv_nd_mistake(out, x, w, b, stride, pad):
    """Name a classic mistake of a 1-D or 3-D convolution forward pass, or None."""
    if not isinstance(out, np.ndarray) or not np.issubdtype(out.dtype, np.number):
        return None
    spatial = tuple(range(2, x.ndim))
    right = _torch_conv(x, w, b, stride, pad)
    wrong = [
        (lambda: _torch_conv(x, np.flip(w, axis=spatial).copy(), b, stride, pad),
         "The kernel is flipped: a convolutional layer computes cross-correlation, so multiply "
         "each window by w[f] as it is, without reversing its axes."),
        (lambda: _torch_conv(x, w, None, stride, pad),
         "The bias is missing: add b[f] once to every value of output channel f."),
        (lambda: _torch_conv(x, w, None, stride, pad) + x.shape[1] * b.reshape(1, -1, *[1] * len(spatial)),
         "The bias is added once per input channel, C times: add b[f] once per output value, "
         "after the sum over channels."),
        (lambda: _torch_conv(x, w, b, 1, pad) if stride > 1 else None,
         "The stride is ignored: your output has every window position, as with stride 1."),
        (lambda: _torch_conv(x, w, b, stride, 0) if pad > 0 and all(
            x.shape[a] >= w.shape[a] for a in spatial) else None,
         "The padding is missing: your output is what you get with pad = 0. Add pad zeros at "
         "both ends of every spatial axis first."),
    ]
    for make, sentence in wrong:
        candidate = make()
        if (candidate is not None and candidate.shape == out.shape
                and not (candidate.shape == right.shape and np.allclose(candidate, right))
                and np.allclose(out, candidate)):
            return sentence
    return None


def _check_conv_nd(conv_forward, prefix, default_name):
    name = getattr(conv_forward, "__name__", default_name)
    for case in cases(load_references(ASSIGNMENT), prefix):
        x, w, b = case["x"], case["w"], case["b"]
        stride, pad = (int(v) for v in case["stride_pad"])
        what = f"hidden test: {name}(x {x.shape}, w {w.shape}, stride {stride}, pad {pad})"
        with library_convolutions_forbidden(name, conv_forward):
            out = call_student(conv_forward, x.copy(), w.copy(), b.copy(), stride, pad, what=what)
        check_array(out, case["out"], what, reveal=False,
                    diagnose=lambda got: _conv_nd_mistake(got, x, w, b, stride, pad),
                    hint=f"Compare your output with F.{prefix} on this shape, stride and padding.")


def check_conv1d(conv1d_forward):
    """conv1d_forward(x, w, b, stride, pad) -> out, on every reference case."""
    _check_conv_nd(conv1d_forward, "conv1d", "conv1d_forward")


def check_conv3d(conv3d_forward):
    """conv3d_forward(x, w, b, stride, pad) -> out, on every reference case."""
    _check_conv_nd(conv3d_forward, "conv3d", "conv3d_forward")
