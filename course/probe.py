"""Locate a bug by probing: when a case fails and no known mistake fits, run the student's
function again on nearby cases and say which property of the case the bug depends on.

Each nearby case changes one thing: the kernel (or pooling window) made square, the input made
square, no padding, stride 1, one channel, one image, one filter. A function that is right on
"the kernel made square" and wrong on the case itself has a bug that depends on the kernel not
being square: the message says so and where to look. Sizes are chosen so that every nearby
case is still valid (whole output sizes).

Three steps, kept apart so that the answers can be recorded in one place and judged in
another (the hidden tests record them in the grading kernel and judge them outside it, where
the references are):

1. `nearby_conv_cases`, `nearby_conv_backward_cases`, `nearby_pool_cases`: the nearby cases
   of a case, {label: arguments}, the same arrays wherever they are built;
2. `answers_on`: the student's answers on them, {label: answer, or None where it raised};
3. `locate`: from those answers and the right ones, the sentence (or None).

`probe_conv_forward`, `probe_conv_backward` and `probe_pool_forward` do all three at once,
for the public tests.
"""
import numpy as np

__all__ = ["probe_conv_forward", "probe_conv_backward", "probe_pool_forward",
           "nearby_conv_cases", "nearby_conv_backward_cases", "nearby_pool_cases",
           "answers_on", "right_on", "locate", "where_the_bug_is",
           "WHERE", "WHERE_BACKWARD", "WHERE_POOL"]

_HW = "look at where you use H and W: their order in shapes, loop ranges and slices."
_STRIDE = "look at where the stride enters: the output size and where each window starts."

# label: (when the function is right, where to look)
WHERE = {
    "square kernel": ("the kernel is square", "look at where you use HH and WW: their order "
                      "in shapes, loop ranges and slices."),
    "square input": ("the input is square", _HW),
    "no padding": ("there is no padding", "look at how you pad x, and whether you index the "
                   "padded input (not x) everywhere after."),
    "stride 1": ("the stride is 1", _STRIDE),
    "one channel": ("there is one channel", "look at the sum over the input channels."),
    "one image": ("there is one image", "look at the batch axis: every image gets its own "
                  "output."),
    "one filter": ("there is one filter", "look at the loop over filters and the bias b[f]."),
}

WHERE_BACKWARD = {
    "square kernel": WHERE["square kernel"],
    "square input": ("the input is square", "look at where you use H and W, and H_out and "
                     "W_out: their order in shapes, loop ranges, slices and reshapes."),
    "no padding": ("there is no padding", "look at how you pad x, and how you cut dx out of "
                   "the padded gradient: pad rows and columns off every side."),
    "stride 1": ("the stride is 1", "look at where the stride enters: where each window "
                 "starts, in the slices of x_pad and of dx_pad alike."),
    "one channel": ("there is one channel", "look at the channel axis: dw has one slice per "
                    "input channel, and dx one channel per input channel."),
    "one image": ("there is one image", "look at the batch axis: dw and db add up every "
                  "image's share, and each image gets its own dx."),
    "one filter": ("there is one filter", "look at the sums over the filters: db and dw have "
                   "one entry per filter, and dx adds every filter's share."),
}

WHERE_POOL = {
    "square window": ("the window is square", "look at where you use pool_height and "
                      "pool_width: their order in shapes, loop ranges and slices."),
    "square input": ("the input is square", _HW),
    "stride 1": ("the stride is 1", _STRIDE),
    "one channel": ("there is one channel", "look at the channel axis: each channel is pooled "
                    "on its own, into its own output channel."),
    "one image": ("there is one image", "look at the batch axis: every image gets its own "
                  "output."),
}


# ------------------------------------------------------------------------ nearby cases

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
    s, p = int(conv_param["stride"]), int(conv_param["pad"])
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


def _conv_out_shape(x, w, conv_param):
    s, p = int(conv_param["stride"]), int(conv_param["pad"])
    return (x.shape[0], w.shape[0], (x.shape[2] + 2 * p - w.shape[2]) // s + 1,
            (x.shape[3] + 2 * p - w.shape[3]) // s + 1)


def nearby_conv_backward_cases(x, w, b, conv_param, dout):
    """{label: (x, w, b, conv_param, dout)}: the nearby cases of nearby_conv_cases, each with
    an upstream gradient of its own output's shape (dout itself, or a part of it, where the
    shape allows; otherwise drawn with a fixed seed, the same wherever it is drawn)."""
    found = {}
    for label, (x2, w2, b2, param) in nearby_conv_cases(x, w, b, conv_param).items():
        shape = _conv_out_shape(x2, w2, param)
        if label == "one image":
            d = dout[:1].copy()
        elif label == "one filter":
            d = dout[:, :1].copy()
        elif shape == dout.shape:
            d = dout
        else:
            d = np.random.default_rng(0).normal(size=shape)
        found[label] = (x2, w2, b2, param, d)
    return found


def nearby_pool_cases(x, pool_param):
    """{label: (x, pool_param)}: the case with one property changed (module doc)."""
    N, C, H, W = x.shape
    ph, pw, s = (int(pool_param[k]) for k in ("pool_height", "pool_width", "stride"))
    fits = lambda size, k: _tiles(size, k, s, 0)  # noqa: E731
    param = lambda ph, pw, s: {"pool_height": ph, "pool_width": pw, "stride": s}  # noqa: E731
    found = {}
    if ph != pw:
        k = _fit(min(ph, pw), lambda k: fits(H, k) and fits(W, k))
        if k:
            found["square window"] = (x, param(k, k, s))
    if H != W:
        m = _fit(min(H, W), lambda m: fits(m, ph) and fits(m, pw))
        if m:
            found["square input"] = (x[:, :, :m, :m].copy(), param(ph, pw, s))
    if s > 1:
        found["stride 1"] = (x, param(ph, pw, 1))
    if C > 1:
        found["one channel"] = (x[:, :1].copy(), param(ph, pw, s))
    if N > 1:
        found["one image"] = (x[:1].copy(), param(ph, pw, s))
    return found


# ------------------------------------------------------------ answers, and where they are right

def answers_on(call, cases):
    """{label: call(*arguments)} over `cases` ({label: arguments}); None where call raised
    (a crash on a nearby case only means "not right there")."""
    answers = {}
    for label, args in cases.items():
        try:
            answers[label] = call(*args)
        except Exception:
            answers[label] = None
    return answers


def _same(got, expected):
    """got equals expected: one array, or a tuple of arrays item by item."""
    if isinstance(expected, tuple):
        return (isinstance(got, (tuple, list)) and len(got) == len(expected)
                and all(_same(g, e) for g, e in zip(got, expected)))
    return (isinstance(got, np.ndarray) and np.issubdtype(got.dtype, np.number)
            and got.shape == np.shape(expected) and bool(np.allclose(got, expected)))


def right_on(answers, cases, reference):
    """The labels of `cases` whose answer in `answers` ({label: answer}) equals
    reference(*arguments), the right answer there."""
    return [label for label, args in cases.items()
            if label in answers and _same(answers[label], reference(*args))]


def where_the_bug_is(labels, where=WHERE):
    """The sentence for a function that is right on the nearby cases `labels` (and wrong on
    the case itself), or None when there are none. `where`: WHERE, WHERE_BACKWARD or
    WHERE_POOL."""
    labels = [label for label in labels if label in where]
    if not labels:
        return None
    if len(labels) == 1:
        when, look = where[labels[0]]
        return f"Your function is right when {when}, and wrong on this case: {look}"
    whens = [where[label][0] for label in labels]
    return ("Your function is right on simpler cases of this one: when "
            + ", or when ".join(whens) + ". Change one thing at a time from such a case "
            "to this one, and find the line that breaks: " + where[labels[0]][1])


def locate(answers, cases, reference, where=WHERE):
    """The sentence for recorded `answers` on the nearby `cases`, judged against
    `reference`, or None (module doc, step 3)."""
    return where_the_bug_is(right_on(answers, cases, reference), where)


# ------------------------------------------------------------------ all at once, for public tests

def _out(result):
    """out of a layer's (out, cache), or the result itself when it is not a pair."""
    return result[0] if isinstance(result, tuple) and len(result) == 2 else result


def _forward_call(forward):
    return lambda x, w, b, conv_param: _out(forward(x.copy(), w.copy(), b.copy(),
                                                    dict(conv_param)))


def _backward_call(backward):
    def call(x, w, b, conv_param, dout):
        result = backward(dout.copy(), (x.copy(), w.copy(), b.copy(), dict(conv_param)))
        return tuple(result) if isinstance(result, (tuple, list)) else result
    return call


def _pool_call(forward):
    return lambda x, pool_param: _out(forward(x.copy(), dict(pool_param)))


def _probe(call, reference, case, cases, where):
    try:
        if _same(call(*case), reference(*case)):
            return None
    except Exception:  # wrong on the case itself: look further
        pass
    return locate(answers_on(call, cases), cases, reference, where)


def probe_conv_forward(forward, reference, x, w, b, conv_param):
    """Which property of a failing case a convolution forward pass's bug depends on.

    Inputs:
    - forward: the student's forward(x, w, b, conv_param) -> (out, cache) or out
    - reference: reference(x, w, b, conv_param) -> the right out
    - x (N, C, H, W), w (F, C, HH, WW), b (F,), conv_param: the case it failed on
    Returns a sentence, or None when it is wrong on every nearby case too (or right on the
    case itself).
    """
    return _probe(_forward_call(forward), reference, (x, w, b, conv_param),
                  nearby_conv_cases(x, w, b, conv_param), WHERE)


def probe_conv_backward(backward, reference, x, w, b, conv_param, dout):
    """Which property of a failing case a convolution backward pass's bug depends on.

    Inputs:
    - backward: the student's backward(dout, cache) -> (dx, dw, db)
    - reference: reference(x, w, b, conv_param, dout) -> the right (dx, dw, db)
    - x, w, b, conv_param, dout: the case it failed on
    Returns a sentence or None, as probe_conv_forward.
    """
    return _probe(_backward_call(backward), reference, (x, w, b, conv_param, dout),
                  nearby_conv_backward_cases(x, w, b, conv_param, dout), WHERE_BACKWARD)


def probe_pool_forward(forward, reference, x, pool_param):
    """Which property of a failing case a pooling forward pass's bug depends on.

    Inputs:
    - forward: the student's forward(x, pool_param) -> (out, cache) or out
    - reference: reference(x, pool_param) -> the right out
    - x (N, C, H, W), pool_param: the case it failed on
    Returns a sentence or None, as probe_conv_forward.
    """
    return _probe(_pool_call(forward), reference, (x, pool_param),
                  nearby_pool_cases(x, pool_param), WHERE_POOL)
