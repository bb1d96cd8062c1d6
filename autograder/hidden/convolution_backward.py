"""Hidden tests of 03-convolution-backward, judged outside the kernel (autograder.hidden.spec):
conv_backward against torch's autograd over the forward pass's grid of cases, and the two
cases of exercise 4.1 run outside against the notebook's buggy backward pass."""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from course.checks import CheckFailed, check_array

from autograder.hidden.spec import Check, lazy, runner, unpack

ASSIGNMENT = "03-convolution-backward"
conv_backward_mistake = lazy("course.diagnose_layers", "conv_backward_mistake")


def _conv_param(case):
    stride, pad = (int(v) for v in case["stride_pad"])
    return {"stride": stride, "pad": pad}


def _judge_conv_backward(got, case, ref, what):
    dx, dw, db = unpack(got, 3, "dx, dw, db", what)
    x, w, b, dout = case["x"], case["w"], case["b"], case["dout"]

    def mistake(_):
        return conv_backward_mistake(dx, dw, db, x, w, b, _conv_param(case), dout)

    for answer, label in ((db, "db"), (dw, "dw"), (dx, "dx")):
        check_array(answer, ref[label], f"{label} from {what}", reveal=False, diagnose=mistake,
                    hint="Check this shape, stride and padding against the three formulas.")


def _im2col_backward(dout, cache, pad_slice_bug, swap_bug):
    """The notebook's buggy backward pass with either bug switched on or off."""
    x, w, b, conv_param = cache
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    stride, pad = conv_param["stride"], conv_param["pad"]
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = sliding_window_view(x_pad, (HH, WW), axis=(2, 3))[:, :, ::stride, ::stride]
    cols = windows[:, :, :H_out, :W_out].transpose(0, 2, 3, 1, 4, 5).reshape(N * H_out * W_out, -1)
    dout_rows = dout.transpose(0, 2, 3, 1).reshape(N * H_out * W_out, F)
    db = dout_rows.sum(axis=0)
    dw = (dout_rows.T @ cols).reshape(w.shape)
    order = (N, W_out, H_out) if swap_bug else (N, H_out, W_out)
    dcols = (dout_rows @ w.reshape(F, -1)).reshape(*order, C, HH, WW)
    dx_pad = np.zeros_like(x_pad, dtype=float)
    for i in range(H_out):
        for j in range(W_out):
            dx_pad[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW] += dcols[:, i, j]
    dx = dx_pad[:, :, pad:-pad, pad:-pad] if pad_slice_bug else dx_pad[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, db


def _exposes(backward, x_shape, w_shape, stride, pad):
    """True when `backward` crashes or disagrees with torch on this case."""
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=x_shape), rng.normal(size=w_shape), rng.normal(size=w_shape[0])
    H_out = (x_shape[2] + 2 * pad - w_shape[2]) // stride + 1
    W_out = (x_shape[3] + 2 * pad - w_shape[3]) // stride + 1
    dout = rng.normal(size=(x_shape[0], w_shape[0], H_out, W_out))
    try:
        got = backward(dout, (x, w, b, {"stride": stride, "pad": pad}))
    except Exception:
        return True
    right = lazy("autograder.cases.convolution_backward", "torch_gradients")(
        x, w, b, stride, pad, dout)
    return any(g.shape != r.shape or not np.allclose(g, r) for g, r in zip(got, right))


def _valid_case(case, what):
    try:
        x_shape, w_shape, stride, pad = case
        x_shape, w_shape = tuple(int(v) for v in x_shape), tuple(int(v) for v in w_shape)
        stride, pad = int(stride), int(pad)
    except (TypeError, ValueError):
        raise CheckFailed(f"{what}: returned {case!r}; it should return (x_shape, w_shape, stride, pad), "
                          "e.g. ((1, 1, 4, 4), (1, 1, 3, 3), 1, 0).") from None
    if len(x_shape) != 4 or len(w_shape) != 4 or x_shape[1] != w_shape[1]:
        raise CheckFailed(f"{what}: x_shape {x_shape} and w_shape {w_shape} must be (N, C, H, W) "
                          "and (F, C, HH, WW) with the same C.")
    if max(x_shape + w_shape) > 12 or min(x_shape + w_shape) < 1 or stride < 1 or pad < 0:
        raise CheckFailed(f"{what}: keep every size between 1 and 12, stride >= 1 and pad >= 0.")
    for size, kernel in ((x_shape[2], w_shape[2]), (x_shape[3], w_shape[3])):
        if size + 2 * pad < kernel or (size + 2 * pad - kernel) % stride:
            raise CheckFailed(f"{what}: {case} is not a valid convolution (the output size is not a "
                              "whole number), so it does not test the backward pass.")
    return x_shape, w_shape, stride, pad


def _only_bug(pad_slice_bug, swap_bug):
    return lambda dout, cache: _im2col_backward(dout, cache, pad_slice_bug, swap_bug)


def _exposes_judge(backward, bug):
    def judge(got, case, ref, what):
        found = _valid_case(got, what)
        if not _exposes(backward, *found):
            raise CheckFailed(f"{what} returned {found}, which does not expose {bug}: with only "
                              "that bug left in the code, the gradients come out right on it.")
    return judge


CHECKS = {
    "check_conv_backward": Check(
        exercise="conv_backward", prefix="conv", forbid_library=True,
        call=lambda fn, c: fn(c["dout"].copy(),
                              (c["x"].copy(), c["w"].copy(), c["b"].copy(), _conv_param(c))),
        what=lambda c: " with x {}, w {}, stride {}, pad {}".format(
            c["x"].shape, c["w"].shape, *(int(v) for v in c["stride_pad"])),
        judge=_judge_conv_backward),
    "check_failing_cases": (
        Check(exercise="case_for_bug_a", prefix=None, call=lambda fn, c: fn(),
              what=lambda c: "()",
              judge=_exposes_judge(_only_bug(pad_slice_bug=True, swap_bug=False),
                                   "the padding bug")),
        Check(exercise="case_for_bug_b", prefix=None, call=lambda fn, c: fn(),
              what=lambda c: "()",
              judge=_exposes_judge(_only_bug(pad_slice_bug=False, swap_bug=True),
                                   "the other bug (not the padding one)")),
    ),
}

check_conv_backward = runner(ASSIGNMENT, CHECKS, "check_conv_backward")
check_failing_cases = runner(ASSIGNMENT, CHECKS, "check_failing_cases")
