"""Name the classic mistakes in convolution and pooling layers from a wrong answer.

The layers work on batches, as in CS231n:
- x is (N, C, H, W), w is (F, C, HH, WW), b is (F,), conv_param = {"stride": s, "pad": p};
  the convolution's out is (N, F, H_out, W_out) with H_out = (H + 2*p - HH) // s + 1.
- pool_param = {"pool_height", "pool_width", "stride"}; pooling's out is (N, C, H_out, W_out)
  with H_out = (H - pool_height) // stride + 1.

Each public function takes what the student returned and the inputs it was given, and returns
one sentence naming the mistake (or None when no known mistake fits), for the `diagnose`
argument of `course.checks.check_array`. The right answer and each wrong answer are computed
with PyTorch in float64; a wrong answer is named only when the student's array equals it (or,
for a few wrong sizes, when the shape alone tells the story).
"""
import itertools

import numpy as np
import torch
import torch.nn.functional as tnf

__all__ = [
    "conv_forward_mistake", "conv_backward_mistake", "max_pool_backward_mistake",
    "pool_forward_mistake",
]


# ----------------------------------------------------------------------------- helpers

def _numbers(value):
    """`value` as an array of real numbers (a NumPy scalar becomes a 0-d array), else None."""
    if isinstance(value, np.generic):
        value = np.asarray(value)
    if (isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.number)
            and not np.issubdtype(value.dtype, np.complexfloating)):
        return value
    return None


def _matches(actual, candidate):
    return (candidate is not None and actual.shape == candidate.shape
            and np.allclose(actual, candidate, rtol=1e-6, atol=1e-8))


def _floats(*arrays):
    return [np.ascontiguousarray(a, dtype=np.float64) for a in arrays]


def _tensor(array, grad=False):
    return torch.tensor(np.ascontiguousarray(array, dtype=np.float64), requires_grad=grad)


def _swap_hw(array):
    """The last two axes exchanged (None stays None)."""
    return None if array is None else np.ascontiguousarray(array.swapaxes(-1, -2))


def _first_match(actual, right, wrong_answers, *inputs):
    """Name the first mistake whose wrong answer equals `actual`.

    wrong_answers: list of (function(*inputs) -> array or None, sentence). A wrong answer that
    equals the right one for these inputs (say, a missing bias when b is 0) is skipped.
    """
    for make, sentence in wrong_answers:
        candidate = make(*inputs)
        if candidate is not None and not _matches(right, candidate) and _matches(actual, candidate):
            return sentence
    return None


def _swapped(name, of, shape):
    return (f"Height and width are swapped in {name}: its rows and columns are exchanged. "
            f"{name} has the shape of {of}, {shape}, with the height on axis 2 and the width "
            "on axis 3.")


# ------------------------------------------------------------------ convolution oracle

def _conv(x, w, b, stride, pad):
    """Cross-correlation of x (N, C, H, W) with w (F, C, HH, WW), plus b (F,) or None.

    Returns out (N, F, H_out, W_out), or None when the kernel does not fit.
    """
    (H, W), (HH, WW) = x.shape[2:], w.shape[2:]
    if H + 2 * pad < HH or W + 2 * pad < WW:
        return None
    bias = None if b is None else _tensor(b)
    return tnf.conv2d(_tensor(x), _tensor(w), bias, stride=stride, padding=pad).numpy()


def _conv_grads(x, w, b, stride, pad, dout):
    """Gradients of sum(out * dout) for out = _conv(x, w, b, stride, pad).

    Returns dx (N, C, H, W), dw (F, C, HH, WW), db (F,).
    """
    tx, tw, tb = _tensor(x, True), _tensor(w, True), _tensor(b, True)
    out = tnf.conv2d(tx, tw, tb, stride=stride, padding=pad)
    (out * _tensor(dout)).sum().backward()
    return tx.grad.numpy(), tw.grad.numpy(), tb.grad.numpy()


def _padded(x, top, bottom, left, right):
    return np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))


def _bias_along(x, w, b, s, p, axis):
    """The output without bias, plus b[k] added at index k of `axis` (0 image, 2 row, 3 column).

    Returns None when that axis is longer than b (the student's code would fail).
    """
    out = _conv(x, w, None, s, p)
    size = out.shape[axis]
    if size > b.shape[0]:
        return None
    shape = [1, 1, 1, 1]
    shape[axis] = size
    return out + b[:size].reshape(shape)


def _conv_size(x, w, s, padding):
    """(H_out, W_out) when `padding` zero rows (and columns) are added in all, s the stride."""
    (H, W), (HH, WW) = x.shape[2:], w.shape[2:]
    return (H + padding - HH) // s + 1, (W + padding - WW) // s + 1


# ------------------------------------------------------------- convolution, forward

_FLIPPED = ("The kernel is flipped: this is true convolution. A convolutional layer computes "
            "cross-correlation: multiply each window by w[f] as it is, without turning it round "
            "(no w[f, :, ::-1, ::-1]).")
_NO_BIAS = ("The bias is missing: add b[f] once to every value of output channel f, "
            "out[n, f, i, j] = np.sum(window * w[f]) + b[f].")
_BIAS_PER_CHANNEL = ("The bias is added once per input channel, C times: b[f] goes in once per "
                     "output value. Add it after the sum over channels, outside the channel loop.")
_BIAS_AXIS = ("The bias is added along the wrong axis: b[f] belongs to filter f, so it goes to "
              "every pixel of output channel f, not by image, row or column. Use "
              "out += b.reshape(1, -1, 1, 1); a plain out += b lines b up with the last axis.")
_READ_SWAPPED = ("Height and width are swapped: your output is what you get when the input is "
                 "read as x[n, c, col, row] (or the kernel as w[f, c, col, row]). Axis 2 is the "
                 "height and axis 3 the width, for x and w alike; kernel rows go with image rows.")
_OUT_TRANSPOSED = ("Height and width are swapped: your output is the right answer with rows and "
                   "columns exchanged. out[n, f, i, j] comes from the window that starts at row "
                   "i*stride and column j*stride.")
_ONE_SIDE = ("Padding is applied on one side only: the zeros go on all four sides, pad rows above "
             "and below and pad columns left and right. Use np.pad(x, ((0, 0), (0, 0), (pad, pad), "
             "(pad, pad))), which puts x at x_pad[:, :, pad:pad + H, pad:pad + W].")
_NO_PAD = ("The padding is missing: your output is what you get with pad = 0. Pad x with pad "
           "zeros on every side first, np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad))), and "
           "slide the filters over the padded array.")
_NO_STRIDE = ("The stride is ignored: your output has every window position, as with stride 1. "
              "The window of out[n, f, i, j] starts at row i*stride and column j*stride.")
_OFF_BY_ONE = ("The output size is off by one. Use H_out = (H + 2*pad - HH) // stride + 1, and "
               "the same for W_out with W and WW: the padding counts on both sides, // rounds "
               "down, and the + 1 counts the first window position.")
_CHANNELS = ("The output has one channel per input channel (C) instead of one per filter (F): "
             "out is (N, F, H_out, W_out). Each filter w[f] covers all C input channels; sum "
             "the products over channels, rows and columns to get one number.")
_BATCH_FILTER = ("The first two axes are swapped: out is (N, F, H_out, W_out), the image first, "
                 "then one channel per filter.")
_SWAPPED_SIZE = ("Height and width are swapped: out should have H_out = (H + 2*pad - HH) // "
                 "stride + 1 rows and W_out = (W + 2*pad - WW) // stride + 1 columns, but yours "
                 "has them the other way round. Axis 2 is the height and axis 3 the width.")


def _one_side(top, bottom, left, right):
    """Wrong answer: x padded unevenly by (top, bottom, left, right) times pad, then pad 0."""
    def make(x, w, b, s, p):
        if not p:
            return None
        return _conv(_padded(x, top * p, bottom * p, left * p, right * p), w, b, s, 0)
    return make


_CONV_FORWARD_MISTAKES = [
    (lambda x, w, b, s, p: _conv(x, w[:, :, ::-1, ::-1], b, s, p), _FLIPPED),
    (lambda x, w, b, s, p: _conv(x, w, None, s, p), _NO_BIAS),
    (lambda x, w, b, s, p: _conv(x, w, b * x.shape[1], s, p), _BIAS_PER_CHANNEL),
    (lambda x, w, b, s, p: _bias_along(x, w, b, s, p, 0), _BIAS_AXIS),
    (lambda x, w, b, s, p: _bias_along(x, w, b, s, p, 2), _BIAS_AXIS),
    (lambda x, w, b, s, p: _bias_along(x, w, b, s, p, 3), _BIAS_AXIS),
    (lambda x, w, b, s, p: _swap_hw(_conv(_swap_hw(x), w, b, s, p)), _READ_SWAPPED),
    (lambda x, w, b, s, p: _swap_hw(_conv(x, w, b, s, p)), _OUT_TRANSPOSED),
    # The + 1 forgotten: the right answer short of its last row or column. When the shape is
    # off by one, padding on the top and left only gives the same array; this comes first.
    (lambda x, w, b, s, p: _conv(x, w, b, s, p)[:, :, :-1, :-1], _OFF_BY_ONE),
    (lambda x, w, b, s, p: _conv(x, w, b, s, p)[:, :, :-1, :], _OFF_BY_ONE),
    (lambda x, w, b, s, p: _conv(x, w, b, s, p)[:, :, :, :-1], _OFF_BY_ONE),
    # Before one-sided padding: zeros added at the bottom and right may never be read.
    (lambda x, w, b, s, p: _conv(x, w, b, s, 0) if p else None, _NO_PAD),
    (_one_side(1, 0, 1, 0), _ONE_SIDE),     # np.pad(x, (..., (p, 0), (p, 0)))
    (_one_side(0, 1, 0, 1), _ONE_SIDE),
    (_one_side(2, 0, 2, 0), _ONE_SIDE),     # x_pad[:, :, 2*p:, 2*p:] = x
    (_one_side(0, 2, 0, 2), _ONE_SIDE),     # x_pad[:, :, :H, :W] = x
    (lambda x, w, b, s, p: _conv(x, w, b, 1, p) if s > 1 else None, _NO_STRIDE),
]


def _conv_size_mistake(actual, x, w, s, p):
    """Name a wrong output size from the shape alone (after the values told nothing)."""
    (N, C), F, right = x.shape[:2], w.shape[0], _conv_size(x, w, s, 2 * p)
    if actual.ndim != 4:
        return None
    lead, got = actual.shape[:2], actual.shape[2:]
    if lead == (N, C) and C != F and got == right:
        return _CHANNELS
    if lead == (F, N) and F != N and got == right:
        return _BATCH_FILTER
    if lead != (N, F) or got == right:
        return None
    if all(abs(g - r) <= 1 for g, r in zip(got, right)):
        return _OFF_BY_ONE
    if p and got == _conv_size(x, w, s, p):
        return _ONE_SIDE
    if p and got == _conv_size(x, w, s, 0):
        return _NO_PAD
    if s > 1 and got == _conv_size(x, w, 1, 2 * p):
        return _NO_STRIDE
    return None


def conv_forward_mistake(out, x, w, b, conv_param):
    """Name the mistake in a wrong convolution forward pass.

    Inputs:
    - out: what the student returned, meant to be (N, F, H_out, W_out)
    - x: (N, C, H, W); w: (F, C, HH, WW); b: (F,)
    - conv_param: {"stride": s, "pad": p}
    Returns a sentence, or None when out is right, is not an array of numbers, or fits no
    known mistake.

    Order: height and width swapped in the shape; then wrong answers recognised by their values,
    whatever their shape (flipped kernel, bias mistakes, swapped rows and columns, the + 1
    forgotten, padding missing or on one side, stride ignored); then the shape alone (C
    channels, image and filter axes swapped, off by one, one-sided or missing padding, stride
    ignored). Two wrong answers can be the same array: padding on the top and left only, when
    it makes the output one row and column short, equals the output without its last row and
    column, and is named "off by one"; zeros on the bottom and right that no window reads
    leave the output of pad = 0, named "padding is missing".
    """
    out = _numbers(out)
    if out is None:
        return None
    x, w, b = _floats(x, w, b)
    s, p = int(conv_param["stride"]), int(conv_param["pad"])
    right = _conv(x, w, b, s, p)
    if _matches(out, right):
        return None
    H_out, W_out = right.shape[2:]
    if out.shape == (*right.shape[:2], W_out, H_out) and H_out != W_out:
        return _SWAPPED_SIZE
    return (_first_match(out, right, _CONV_FORWARD_MISTAKES, x, w, b, s, p)
            or _conv_size_mistake(out, x, w, s, p))


# ------------------------------------------------------------ convolution, backward

_DW_PER_IMAGE = ("dw is not summed over the batch: yours keeps one gradient per image, shape "
                 "(N, F, C, HH, WW). The filters are shared by all images, so add the images' "
                 "gradients up: dw has the shape of w, (F, C, HH, WW).")
_DW_ONE_IMAGE = ("dw is not summed over the batch: yours is the gradient of one image only. The "
                 "filters are shared by all images, so every image adds to it: dw += ..., "
                 "not dw = ..., inside the batch loop.")
_DW_MEAN = ("dw is not summed over the batch: yours is the mean over the images. Add the "
            "images' gradients without dividing by N; any 1/N is already in dout.")
_DW_FLIPPED = ("dw is flipped: yours is the right answer turned round, dw[:, :, ::-1, ::-1]. "
               "dw[f, c, u, v] adds x_pad[n, c, i*stride + u, j*stride + v] * dout[n, f, i, j]: "
               "the window as it is, not turned round.")
_DB_AXES = ("db is summed over the wrong axes: db[f] adds dout[n, f, i, j] over every image n, "
            "row i and column j, so db = dout.sum(axis=(0, 2, 3)), with shape (F,).")
_DB_MEAN = ("db is a mean instead of a sum: every output value adds b[f] once, so "
            "db = dout.sum(axis=(0, 2, 3)), without dividing.")
_DB_ONE_IMAGE = ("db is not summed over the batch: yours holds one image's part only. "
                 "db = dout.sum(axis=(0, 2, 3)) adds every image, row and column.")
_DX_PADDED = ("dx still has the padding: cut the pad rows and columns away, "
              "dx = dx_pad[:, :, pad:pad + H, pad:pad + W], so that dx has the shape of x.")
_DX_EMPTY = ("dx is empty: with pad = 0 the slice dx_pad[:, :, pad:-pad, pad:-pad] is "
             "dx_pad[:, :, 0:0, 0:0], which holds nothing. Slice with pad:pad + H and "
             "pad:pad + W instead; that works for every pad, 0 included.")
_DX_FLIPPED = ("dx was computed with the kernel flipped: each output value sends "
               "dout[n, f, i, j] * w[f] back to the window it read, with w[f] the same way "
               "round as in the forward pass.")


def _per_image_dw(x, w, b, s, p, dout):
    """dw of each image alone: (N, F, C, HH, WW)."""
    return np.stack([_conv_grads(x[n:n + 1], w, b, s, p, dout[n:n + 1])[1]
                     for n in range(x.shape[0])])


def _dw_mistake(dw, right, x, w, b, s, p, dout):
    N = x.shape[0]
    if dw.shape == (N, *right.shape):
        return _DW_PER_IMAGE
    F, C, HH, WW = right.shape
    if dw.shape == (F, C, WW, HH) and HH != WW:
        return _swapped("dw", "w", "(F, C, HH, WW)")
    per_image = _per_image_dw(x, w, b, s, p, dout)
    return _first_match(dw, right, [
        (lambda: per_image[0], _DW_ONE_IMAGE),
        (lambda: per_image[-1], _DW_ONE_IMAGE),
        (lambda: right / N, _DW_MEAN),
        (lambda: _swap_hw(right), _swapped("dw", "w", "(F, C, HH, WW)")),
        (lambda: right[:, :, ::-1, ::-1], _DW_FLIPPED),
    ])


def _db_mistake(db, right, x, w, b, s, p, dout):
    wrong_axes = [axes for r in range(5) for axes in itertools.combinations(range(4), r)
                  if axes != (0, 2, 3)]
    return _first_match(db, right, [
        *[(lambda axes=axes: dout.sum(axis=axes), _DB_AXES) for axes in wrong_axes],
        (lambda: dout.mean(axis=(0, 2, 3)), _DB_MEAN),
        (lambda: right / dout.shape[0], _DB_MEAN),
        (lambda: dout[0].sum(axis=(1, 2)), _DB_ONE_IMAGE),
        (lambda: dout[-1].sum(axis=(1, 2)), _DB_ONE_IMAGE),
    ])


def _dx_mistake(dx, right, x, w, b, s, p, dout):
    N, C, H, W = x.shape
    if p and dx.shape == (N, C, H + 2 * p, W + 2 * p):
        return _DX_PADDED
    if p == 0 and dx.size == 0:
        return _DX_EMPTY
    if dx.shape == (N, C, W, H) and H != W:
        return _swapped("dx", "x", "(N, C, H, W)")
    return _first_match(dx, right, [
        (lambda: _swap_hw(right), _swapped("dx", "x", "(N, C, H, W)")),
        (lambda: _conv_grads(x, w[:, :, ::-1, ::-1], b, s, p, dout)[0], _DX_FLIPPED),
    ])


def conv_backward_mistake(dx, dw, db, x, w, b, conv_param, dout):
    """Name the mistake in a wrong convolution backward pass.

    Inputs:
    - dx, dw, db: what the student returned, meant to be (N, C, H, W), (F, C, HH, WW), (F,)
    - x: (N, C, H, W); w: (F, C, HH, WW); b: (F,); conv_param: {"stride": s, "pad": p}
    - dout: (N, F, H_out, W_out), the upstream gradient
    Returns a sentence, or None when all three are right or no known mistake fits.

    dw is examined first, then db, then dx; the first known mistake found is named. An array
    that is not an array of numbers is passed over.
    """
    x, w, b, dout = _floats(x, w, b, dout)
    s, p = int(conv_param["stride"]), int(conv_param["pad"])
    right = dict(zip(("dx", "dw", "db"), _conv_grads(x, w, b, s, p, dout)))
    for name, got, mistake in (("dw", dw, _dw_mistake), ("db", db, _db_mistake),
                               ("dx", dx, _dx_mistake)):
        got = _numbers(got)
        if got is not None and not _matches(got, right[name]):
            named = mistake(got, right[name], x, w, b, s, p, dout)
            if named:
                return named
    return None


# ----------------------------------------------------------------------------- pooling

def _pool_args(pool_param):
    return (int(pool_param["pool_height"]), int(pool_param["pool_width"]),
            int(pool_param["stride"]))


def _pool(x, ph, pw, stride, mode):
    """Max or average pooling ("max", "avg", or "sum" for the undivided window sum).

    Returns (N, C, H_out, W_out), or None when the window does not fit.
    """
    if x.shape[2] < ph or x.shape[3] < pw:
        return None
    t = _tensor(x)
    if mode == "max":
        return tnf.max_pool2d(t, (ph, pw), stride=stride).numpy()
    out = tnf.avg_pool2d(t, (ph, pw), stride=stride).numpy()
    return out * (ph * pw) if mode == "sum" else out


def _window_picks(windows, rule):
    """Weights (N, C, ph, pw) telling how much of dout each cell of each window gets.

    rule: "first" (the course: first maximum in row-major order), "last" (last maximum),
    "ties" (every cell equal to the maximum), "every" (all cells), "mean" (1 / window size),
    "corner" (the top-left cell), "transposed" (the first maximum's row and column exchanged).
    """
    N, C, ph, pw = windows.shape
    flat = windows.reshape(N, C, ph * pw)
    if rule in ("every", "mean"):
        return np.full(windows.shape, 1.0 if rule == "every" else 1.0 / (ph * pw))
    if rule == "ties":
        return (flat == flat.max(axis=-1, keepdims=True)).astype(float).reshape(windows.shape)
    k = flat.argmax(axis=-1)
    if rule == "last":
        k = ph * pw - 1 - flat[..., ::-1].argmax(axis=-1)
    elif rule == "corner":
        k = np.zeros_like(k)
    elif rule == "transposed":
        k = (k % pw) * pw + k // pw     # only called for square windows
    return np.eye(ph * pw)[k].reshape(windows.shape)


def _max_pool_route(x, ph, pw, stride, dout, rule="first", write="add"):
    """Send dout back through max pooling by hand.

    Inputs:
    - x: (N, C, H, W); dout: (N, C, H_out, W_out)
    - rule: which cells of a window get dout (see _window_picks)
    - write: "add" (dx += ..., right), "cell" (dx[cell] = ..., overwrites where windows
      overlap) or "window" (dx[window] = mask * dout, which also writes the zeros)
    Returns dx (N, C, H, W).
    """
    dx = np.zeros_like(x)
    for i, j in np.ndindex(*dout.shape[2:]):
        rows, cols = slice(i * stride, i * stride + ph), slice(j * stride, j * stride + pw)
        picks = _window_picks(x[:, :, rows, cols], rule)
        sent = picks * dout[:, :, i:i + 1, j:j + 1]
        if write == "add":
            dx[:, :, rows, cols] += sent
        elif write == "cell":
            dx[:, :, rows, cols] = np.where(picks != 0, sent, dx[:, :, rows, cols])
        else:
            dx[:, :, rows, cols] = sent
    return dx


_POOL_EVERY = ("The gradient went to every cell of each window; max pooling routes it only to "
               "the cell that held the maximum (the arg-max). Find it with np.argmax(window) "
               "and add dout[n, c, i, j] to that cell alone.")
_POOL_MEAN = ("The gradient was averaged over the window: that is the backward pass of average "
              "pooling. Max pooling sends all of dout[n, c, i, j] to the cell that held the "
              "maximum, and nothing to the others.")
_POOL_TIES = ("The gradient went to every cell that ties for the maximum; it goes to one cell "
              "only. The course sends it to the first maximum in row-major order, where "
              "np.argmax(window) points.")
_POOL_LAST = ("With ties, the gradient went to the last maximum of the window; the course sends "
              "it to the first one in row-major order, where np.argmax(window) points (search "
              "with > rather than >=).")
_POOL_CORNER = ("The gradient went to the wrong cell: the top-left cell of each window instead "
                "of the one that held the maximum. Find that cell with "
                "np.unravel_index(np.argmax(window), window.shape).")
_POOL_TRANSPOSED = ("The gradient went to the wrong cell: the row and column of the arg-max are "
                    "exchanged within the window. For the flat index k = np.argmax(window), the "
                    "row is k // pool_width and the column k % pool_width.")
_POOL_OVERWRITE = ("Where windows overlap, a cell can get gradient from several windows, and "
                   "assigning with = keeps only the last. Add with dx[...] += ... instead.")

_MAX_POOL_BACKWARD_MISTAKES = [
    (lambda x, ph, pw, s, d: _max_pool_route(x, ph, pw, s, d, "every"), _POOL_EVERY),
    (lambda x, ph, pw, s, d: _max_pool_route(x, ph, pw, s, d, "mean"), _POOL_MEAN),
    (lambda x, ph, pw, s, d: _max_pool_route(x, ph, pw, s, d, "ties"), _POOL_TIES),
    (lambda x, ph, pw, s, d: _max_pool_route(x, ph, pw, s, d, "last"), _POOL_LAST),
    (lambda x, ph, pw, s, d: _max_pool_route(x, ph, pw, s, d, "corner"), _POOL_CORNER),
    (lambda x, ph, pw, s, d: (_max_pool_route(x, ph, pw, s, d, "transposed") if ph == pw
                              else None), _POOL_TRANSPOSED),
    (lambda x, ph, pw, s, d: _max_pool_route(x, ph, pw, s, d, write="cell"), _POOL_OVERWRITE),
    (lambda x, ph, pw, s, d: _max_pool_route(x, ph, pw, s, d, write="window"), _POOL_OVERWRITE),
    (lambda x, ph, pw, s, d: _swap_hw(_max_pool_route(x, ph, pw, s, d)),
     _swapped("dx", "x", "(N, C, H, W)")),
]


def max_pool_backward_mistake(dx, x, pool_param, dout):
    """Name the mistake in a wrong max-pooling backward pass.

    Inputs:
    - dx: what the student returned, meant to be (N, C, H, W)
    - x: (N, C, H, W), the input of the forward pass
    - pool_param: {"pool_height", "pool_width", "stride"}
    - dout: (N, C, H_out, W_out), the upstream gradient
    Returns a sentence, or None when dx is right, is not an array of numbers, or fits no
    known mistake.

    Ties: the right answer sends each dout[n, c, i, j] to the first maximum of its window in
    row-major order (where np.argmax points), and adds up where windows overlap. PyTorch may
    pick another of the tied cells, so the right answer is computed here by hand, not by
    PyTorch.
    """
    dx = _numbers(dx)
    if dx is None:
        return None
    x, dout = _floats(x, dout)
    ph, pw, s = _pool_args(pool_param)
    right = _max_pool_route(x, ph, pw, s, dout)
    if _matches(dx, right):
        return None
    N, C, H, W = x.shape
    if dx.shape == (N, C, W, H) and H != W:
        return _swapped("dx", "x", "(N, C, H, W)")
    return _first_match(dx, right, _MAX_POOL_BACKWARD_MISTAKES, x, ph, pw, s, dout)


_POOL_AVG_NOT_MAX = ("This is average pooling: max pooling keeps the largest value of each "
                     "window, window.max(), not its mean.")
_POOL_MAX_NOT_AVG = ("This is max pooling: average pooling keeps the mean of each window, "
                     "window.mean(), not its largest value.")
_POOL_SUM = ("The windows are summed but not divided: average pooling is the window's sum "
             "divided by pool_height * pool_width, window.mean().")
_POOL_OFF_BY_ONE = ("The output size is off by one. Use H_out = (H - pool_height) // stride + 1 "
                    "and W_out = (W - pool_width) // stride + 1: // rounds down, and the + 1 "
                    "counts the first window position.")
_POOL_SWAPPED = ("Height and width are swapped: out should have (H - pool_height) // stride + 1 "
                 "rows and (W - pool_width) // stride + 1 columns, but yours has them the other "
                 "way round. Axis 2 is the height and axis 3 the width.")
_POOL_WINDOW_SWAPPED = ("Height and width are swapped: your windows are pool_width rows by "
                        "pool_height columns. A window is pool_height rows (axis 2) by "
                        "pool_width columns (axis 3).")
_POOL_TRANSPOSED_OUT = ("Height and width are swapped: your output is the right answer with rows "
                        "and columns exchanged. out[n, c, i, j] comes from the window that starts "
                        "at row i*stride and column j*stride.")
_POOL_NO_STRIDE = ("The stride is ignored: your output has every window position, as with "
                   "stride 1. The window of out[n, c, i, j] starts at row i*stride and column "
                   "j*stride.")

_POOL_FORWARD_MISTAKES = {
    "max": [(lambda x, ph, pw, s: _pool(x, ph, pw, s, "avg"), _POOL_AVG_NOT_MAX)],
    "avg": [(lambda x, ph, pw, s: _pool(x, ph, pw, s, "max"), _POOL_MAX_NOT_AVG),
            (lambda x, ph, pw, s: _pool(x, ph, pw, s, "sum"), _POOL_SUM)],
}


def _pool_shape_mistakes(mode):
    """Wrong answers shared by both modes: swapped windows, transposed output, no stride."""
    return [
        (lambda x, ph, pw, s: _pool(x, pw, ph, s, mode) if ph != pw else None,
         _POOL_WINDOW_SWAPPED),
        (lambda x, ph, pw, s: _swap_hw(_pool(x, ph, pw, s, mode)), _POOL_TRANSPOSED_OUT),
        (lambda x, ph, pw, s: _pool(x, ph, pw, 1, mode) if s > 1 else None, _POOL_NO_STRIDE),
    ]


def pool_forward_mistake(out, x, pool_param, mode="max"):
    """Name the mistake in a wrong max- or average-pooling forward pass.

    Inputs:
    - out: what the student returned, meant to be (N, C, H_out, W_out)
    - x: (N, C, H, W); pool_param: {"pool_height", "pool_width", "stride"}
    - mode: "max" or "avg", the pooling the student was asked for
    Returns a sentence, or None when out is right, is not an array of numbers, or fits no
    known mistake. Raises ValueError for another mode.

    Order: height and width swapped in the shape; then wrong answers recognised by their values
    (the other pooling, a sum not divided, windows pool_width by pool_height, the output
    transposed, stride ignored); then the shape alone (off by one, stride ignored).
    """
    if mode not in _POOL_FORWARD_MISTAKES:
        raise ValueError(f"mode must be 'max' or 'avg', not {mode!r}.")
    out = _numbers(out)
    if out is None:
        return None
    (x,) = _floats(x)
    ph, pw, s = _pool_args(pool_param)
    right = _pool(x, ph, pw, s, mode)
    if _matches(out, right):
        return None
    H_out, W_out = right.shape[2:]
    if out.shape == (*right.shape[:2], W_out, H_out) and H_out != W_out:
        return _POOL_SWAPPED
    wrong_answers = _POOL_FORWARD_MISTAKES[mode] + _pool_shape_mistakes(mode)
    named = _first_match(out, right, wrong_answers, x, ph, pw, s)
    if named:
        return named
    if out.ndim != 4 or out.shape[:2] != right.shape[:2]:
        return None
    got = out.shape[2:]
    if got != (H_out, W_out) and all(abs(g - r) <= 1 for g, r in zip(got, (H_out, W_out))):
        return _POOL_OFF_BY_ONE
    if s > 1 and got == ((x.shape[2] - ph) + 1, (x.shape[3] - pw) + 1):
        return _POOL_NO_STRIDE
    return None
