"""Hidden tests of 04-pooling, judged outside the kernel (autograder.hidden.spec): max and
average pooling (forward and backward) and the 1-D and 3-D convolutions, against torch, over a
grid of pool sizes 1x1 to 3x3 (square and rectangular), strides 1-3 (overlapping windows, and
gaps between windows), 1-3 channels and images, non-square inputs; max-pooling backward cases
with tied maxima (autograder/cases/pooling.py lists the cases). torch is imported only by the
judge, when a case fails. The forward passes' records also hold the answers on nearby cases, so
that the judge can say which property a bug depends on when no known mistake fits
(autograder.hidden.probing)."""
import numpy as np

from course.checks import check_array
from course.probe import WHERE_POOL, nearby_pool_cases

from autograder.hidden.probing import (first_of, mistake_or_where, pool_forward_reference,
                                       probed_check)
from autograder.hidden.spec import Check, first_of_pair, lazy, runner, unpack_pair

ASSIGNMENT = "04-pooling"
pool_forward_mistake = lazy("course.diagnose_layers", "pool_forward_mistake")
max_pool_backward_mistake = lazy("course.diagnose_layers", "max_pool_backward_mistake")
avg_pool_backward_mistake = lazy("course.diagnose_layers", "avg_pool_backward_mistake")


def _pool_param(case):
    ph, pw, stride = (int(v) for v in case["pool"])
    return {"pool_height": ph, "pool_width": pw, "stride": stride}


def _pool_name(case):
    p = _pool_param(case)
    return f"x {case['x'].shape}, {p['pool_height']}x{p['pool_width']} windows, stride {p['stride']}"


def _forward(mode, hint):
    def judge(got, case, ref, what, located):
        check_array(unpack_pair(got, what), ref["out"], what, reveal=False,
                    diagnose=lambda out: mistake_or_where(
                        lambda: pool_forward_mistake(out, case["x"], _pool_param(case), mode),
                        located),
                    hint=hint)
    return probed_check(
        exercise=f"{mode}_pool_forward", prefix=f"{mode}pool", forbid_library=True,
        call=lambda fn, c: first_of_pair(fn(c["x"].copy(), _pool_param(c))),
        what=lambda c: f"({_pool_name(c)})", judge=judge,
        nearby=lambda c: nearby_pool_cases(c["x"], _pool_param(c)),
        answer_on=lambda fn, args: first_of(fn(args[0].copy(), dict(args[1]))),
        reference=pool_forward_reference(mode), where=WHERE_POOL)


def _backward(mode, prefix, what, diagnose, hint):
    def judge(got, case, ref, text):
        check_array(got, ref["dx"], text, reveal=False, hint=hint,
                    diagnose=lambda dx: diagnose(dx, case["x"], _pool_param(case), case["dout"]))
    return Check(exercise=f"{mode}_pool_backward", prefix=prefix, forbid_library=True,
                 call=lambda fn, c: fn(c["dout"].copy(), (c["x"].copy(), _pool_param(c))),
                 what=what, judge=judge)


def _max_backward_what(case):
    ties = ", some windows with tied maxima" if _has_ties(case["x"], _pool_param(case)) else ""
    return f"(dout {case['dout'].shape}, cache for {_pool_name(case)}{ties})"


def _has_ties(x, pool_param):
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    H_out, W_out = (x.shape[2] - ph) // s + 1, (x.shape[3] - pw) // s + 1
    for i in range(H_out):
        for j in range(W_out):
            flat = x[:, :, i * s:i * s + ph, j * s:j * s + pw].reshape(*x.shape[:2], -1)
            if ((flat == flat.max(axis=-1, keepdims=True)).sum(axis=-1) > 1).any():
                return True
    return False


def _torch_conv(x, w, b, stride, pad):
    import torch
    import torch.nn.functional as tnf

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


def _conv_nd(prefix):
    def args(case):
        stride, pad = (int(v) for v in case["stride_pad"])
        return stride, pad

    def judge(got, case, ref, what):
        x, w, b = case["x"], case["w"], case["b"]
        check_array(got, ref["out"], what, reveal=False,
                    diagnose=lambda out: _conv_nd_mistake(out, x, w, b, *args(case)),
                    hint=f"Compare your output with F.{prefix} on this shape, stride and padding.")
    return Check(exercise=f"{prefix}_forward", prefix=prefix, forbid_library=True,
                 call=lambda fn, c: fn(c["x"].copy(), c["w"].copy(), c["b"].copy(), *args(c)),
                 what=lambda c: "(x {}, w {}, stride {}, pad {})".format(
                     c["x"].shape, c["w"].shape, *args(c)),
                 judge=judge)


CHECKS = {
    "check_max_pool_forward": _forward(
        "max", "Compare your output with F.max_pool2d on this shape, window and stride."),
    "check_max_pool_backward": _backward(
        "max", "maxpool_back", _max_backward_what, max_pool_backward_mistake,
        "Each dout[n, c, i, j] goes to the first maximum of its window (np.argmax's choice); "
        "add where windows overlap."),
    "check_avg_pool": (
        _forward("avg", "Compare your output with F.avg_pool2d on this shape, window and stride."),
        _backward("avg", "avgpool", lambda c: f"(dout {c['dout'].shape}, cache for {_pool_name(c)})",
                  avg_pool_backward_mistake,
                  "Each cell of a window gets dout[n, c, i, j] / (pool_height * pool_width); add "
                  "where windows overlap."),
    ),
    "check_conv1d": _conv_nd("conv1d"),
    "check_conv3d": _conv_nd("conv3d"),
}

check_max_pool_forward = runner(ASSIGNMENT, CHECKS, "check_max_pool_forward")
check_max_pool_backward = runner(ASSIGNMENT, CHECKS, "check_max_pool_backward")
check_avg_pool = runner(ASSIGNMENT, CHECKS, "check_avg_pool")
check_conv1d = runner(ASSIGNMENT, CHECKS, "check_conv1d")
check_conv3d = runner(ASSIGNMENT, CHECKS, "check_conv3d")
