"""Locate a bug by probing: when a case fails and no known mistake fits, run the student's
function again on nearby cases and say which property of the case the bug depends on.

Each nearby case changes one thing: the kernel made square, the input made square, no
padding, stride 1, one channel, one image, one filter. A function that is right on "the
kernel made square" and wrong on the case itself has a bug that depends on the kernel not
being square: the message says so and where to look. Sizes are chosen so that every nearby
case is still a valid convolution (whole output sizes).
"""
import numpy as np

__all__ = ["probe_conv_forward"]

WHERE = {
    "square kernel": ("the kernel is square", "look at where you use HH and WW: their order "
                      "in shapes, loop ranges and slices."),
    "square input": ("the input is square", "look at where you use H and W: their order in "
                     "shapes, loop ranges and slices."),
    "no padding": ("there is no padding", "look at how you pad x, and whether you index the "
                   "padded input (not x) everywhere after."),
    "stride 1": ("the stride is 1", "look at where the stride enters: the output size and "
                 "where each window starts."),
    "one channel": ("there is one channel", "look at the sum over the input channels."),
    "one image": ("there is one image", "look at the batch axis: every image gets its own "
                  "output."),
    "one filter": ("there is one filter", "look at the loop over filters and the bias b[f]."),
}


def _tiles(size, kernel, stride, pad):
    return size + 2 * pad >= kernel and (size + 2 * pad - kernel) % stride == 0


def _fit(start, ok):
    """The largest n <= start with ok(n), or None."""
    for n in range(start, 0, -1):
        if ok(n):
            return n
    return None


def nearby_conv_cases(x, w, b, conv_param):
    """{label: (x, w, b, conv_param)}: the case with one property changed (module doc)."""
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    s, p = conv_param["stride"], conv_param["pad"]
    found = {}
    if HH != WW:
        k = _fit(min(HH, WW), lambda k: _tiles(H, k, s, p) and _tiles(W, k, s, p))
        if k:
            found["square kernel"] = (x, w[:, :, :k, :k].copy(), b, conv_param)
    if H != W:
        m = _fit(min(H, W), lambda m: _tiles(m, HH, s, p) and _tiles(m, WW, s, p))
        if m:
            found["square input"] = (x[:, :, :m, :m].copy(), w, b, conv_param)
    if p > 0 and _tiles(H, HH, s, 0) and _tiles(W, WW, s, 0):
        found["no padding"] = (x, w, b, {"stride": s, "pad": 0})
    if s > 1:
        found["stride 1"] = (x, w, b, {"stride": 1, "pad": p})
    if C > 1:
        found["one channel"] = (x[:, :1].copy(), w[:, :1].copy(), b, conv_param)
    if N > 1:
        found["one image"] = (x[:1].copy(), w, b, conv_param)
    if F > 1:
        found["one filter"] = (x, w[:1].copy(), b[:1].copy(), conv_param)
    return found


def _right(forward, reference, case):
    x, w, b, conv_param = case
    try:
        result = forward(x.copy(), w.copy(), b.copy(), dict(conv_param))
        out = result[0] if isinstance(result, tuple) else result
        expected = reference(x, w, b, conv_param)
        return (isinstance(out, np.ndarray) and out.shape == expected.shape
                and np.allclose(out, expected))
    except Exception:  # a crash on the nearby case is just "not right there"
        return False


def probe_conv_forward(forward, reference, x, w, b, conv_param):
    """Which property of a failing case a convolution forward pass's bug depends on.

    Inputs:
    - forward: the student's forward(x, w, b, conv_param) -> (out, cache) or out
    - reference: reference(x, w, b, conv_param) -> the right out
    - x (N, C, H, W), w (F, C, HH, WW), b (F,), conv_param: the case it failed on
    Returns a sentence, or None when it is wrong on every nearby case too (or right on the
    case itself).
    """
    if _right(forward, reference, (x, w, b, conv_param)):
        return None
    right_on = [label for label, case in nearby_conv_cases(x, w, b, conv_param).items()
                if _right(forward, reference, case)]
    if not right_on:
        return None
    if len(right_on) == 1:
        when, where = WHERE[right_on[0]]
        return f"Your function is right when {when}, and wrong on this case: {where}"
    whens = [WHERE[label][0] for label in right_on]
    return ("Your function is right on simpler cases of this one: when "
            + ", or when ".join(whens) + ". Change one thing at a time from such a case "
            "to this one, and find the line that breaks: " + WHERE[right_on[0]][1])
