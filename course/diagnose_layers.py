"""Name the classic mistakes in convolution and pooling layers from a wrong answer.

The layers work on batches, as in CS231n:
- x is (N, C, H, W), w is (F, C, HH, WW), b is (F,), conv_param = {"stride": s, "pad": p};
  the convolution's out is (N, F, H_out, W_out) with H_out = (H + 2*p - HH) // s + 1.
- pool_param = {"pool_height", "pool_width", "stride"}; pooling's out is (N, C, H_out, W_out)
  with H_out = (H - pool_height) // stride + 1.

Each `..._mistake` function takes what the student returned and the inputs it was given, and
returns one sentence naming the mistake (or None when no known mistake fits), for the `diagnose`
argument of `course.checks.check_array`. The right answer and each wrong answer are computed
with PyTorch in float64 or by hand; a wrong answer is named only when the student's array equals
it (or, for a few wrong sizes, when the shape alone tells the story). When two mistakes give the
same array on the inputs of a test, both are named.

Also here: the layouts of notebook 02 (`layout_mistake`, `bgr_to_rgb_mistake`, `im2col_mistake`)
and `failing_case_problem`, which judges the test cases of 03's "spot the bugs".
Notebook 05's spatial batch normalisation (`batchnorm_forward_mistake`,
`batchnorm_running_mistake`, `batchnorm_backward_mistake`) and He initialisation
(`he_init_mistake`) have theirs at the end, with `torch_use`, which says when an exercise to be
written with NumPy alone reaches torch.
"""
import itertools
import types

import numpy as np
import torch
import torch.nn.functional as tnf

from course.checks import name_mistakes as _named

__all__ = [
    "conv_forward_mistake", "conv_backward_mistake", "max_pool_backward_mistake",
    "pool_forward_mistake", "avg_pool_backward_mistake", "layout_mistake", "bgr_to_rgb_mistake",
    "im2col_mistake", "failing_case_problem",
    "batchnorm_forward_mistake", "batchnorm_running_mistake", "batchnorm_backward_mistake",
    "he_init_mistake", "torch_use",
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
    """A float64 tensor of a copy of `array` (a fresh C-order copy: torch refuses the negative
    strides a flipped view can keep even when NumPy calls it contiguous, as for 1x1 kernels)."""
    return torch.tensor(np.array(array, dtype=np.float64, order="C", copy=True), requires_grad=grad)


def _swap_hw(array):
    """The last two axes exchanged (None stays None)."""
    return None if array is None else np.ascontiguousarray(array.swapaxes(-1, -2))


def _first_match(actual, right, wrong_answers, *inputs):
    """Name the mistakes whose wrong answer equals `actual`.

    wrong_answers: list of (function(*inputs) -> array or None, sentence). A wrong answer that
    equals the right one for these inputs (say, a missing bias when b is 0) is skipped. When
    the wrong answers of two different mistakes are the same array, both are named: the
    student's answer alone cannot tell them apart.
    """
    found = []
    for make, sentence in wrong_answers:
        candidate = make(*inputs)
        if candidate is not None and not _matches(right, candidate) and _matches(actual, candidate):
            found.append(sentence)
    return _named(found)


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
_NO_BIAS = ("The bias is missing: every value of output channel f gets b[f] added once, "
            "after the sum over its window.")
_BIAS_PER_CHANNEL = ("The bias is added once per input channel, C times: b[f] goes in once per "
                     "output value. Add it after the sum over channels, outside the channel loop.")
_BIAS_AXIS = ("The bias is added along the wrong axis: b[f] belongs to filter f, so it goes to "
              "every pixel of output channel f, not by image, row or column. A plain out += b "
              "lines b up with the last axis (the width); give b a shape that broadcasts along "
              "axis 1, the channels, instead.")
_READ_SWAPPED = ("Height and width are swapped: your output is what you get when the input is "
                 "read as x[n, c, col, row] (or the kernel as w[f, c, col, row]). Axis 2 is the "
                 "height and axis 3 the width, for x and w alike; kernel rows go with image rows.")
_OUT_TRANSPOSED = ("Height and width are swapped: your output is the right answer with rows and "
                   "columns exchanged. out[n, f, i, j] comes from the window that starts at row "
                   "i*stride and column j*stride.")
_ONE_SIDE = ("Padding is applied on one side only: the zeros go on all four sides, pad rows above "
             "and below and pad columns left and right. np.pad takes one (before, after) pair per "
             "axis: look at the pairs you gave for the height and the width.")
_PAD_HALF = ("Your output is as large as for an input with pad zeros added per axis in all, "
             "not 2*pad: pad rows go above and pad rows below, pad columns left and pad columns "
             "right (the size alone cannot tell whether yours are all on one side or too few "
             "on each).")
_NO_PAD = ("The padding is missing: your output is what you get with pad = 0. Pad x with pad "
           "zeros on every side of the height and width (not the batch or channel axes) first, "
           "and slide the filters over the padded array.")
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


_STRIDE_ROWS = ("The stride is missing from the row index of the window: your output has the "
                "right size, but the window of out[n, f, i, j] starts at row i instead of row "
                "i*stride. The columns are right.")
_STRIDE_COLS = ("The stride is missing from the column index of the window: your output has the "
                "right size, but the window of out[n, f, i, j] starts at column j instead of "
                "column j*stride. The rows are right.")
_STRIDE_BOTH = ("The stride is missing from the window index: your output has the right size, "
                "but the window of out[n, f, i, j] starts at row i and column j, as with stride "
                "1. With stride S it starts at row i*S and column j*S.")
_RESHAPED_OUT = ("The output was reshaped where it needed a transpose: the values are right but "
                 "sit in the wrong places. reshape keeps the order of the values in memory and "
                 "only cuts it up anew; to bring the filter axis to position 1, move the axes "
                 "with transpose first.")


def _strided_rows_cols(full, size, s, rows, cols):
    """Positions (i*rs, j*cs) of a stride-1 result `full`, rs = 1 when `rows` lacks the stride."""
    if full is None or s == 1:
        return None
    rs, cs = (1 if rows else s), (1 if cols else s)
    part = full[:, :, ::rs, ::cs][:, :, :size[0], :size[1]]
    return part if part.shape[2:] == tuple(size) else None


def _stride_left_out(rows, cols):
    """Wrong answer: the stride left out of the row and/or column index, right output size."""
    def make(x, w, b, s, p):
        return _strided_rows_cols(_conv(x, w, b, 1, p), _conv_size(x, w, s, 2 * p), s, rows, cols)
    return make


def _reshaped_from(order):
    """Wrong answer: the right values laid out in `order` in memory, then reshaped to NCHW."""
    def make(x, w, b, s, p):
        right = _conv(x, w, b, s, p)
        return np.ascontiguousarray(right.transpose(order)).reshape(right.shape)
    return make


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
    (_stride_left_out(True, True), _STRIDE_BOTH),
    (_stride_left_out(True, False), _STRIDE_ROWS),
    (_stride_left_out(False, True), _STRIDE_COLS),
    (_reshaped_from((0, 2, 3, 1)), _RESHAPED_OUT),    # (N, H_out, W_out, F) reshaped
    (_reshaped_from((1, 0, 2, 3)), _RESHAPED_OUT),    # (F, N, H_out, W_out) reshaped
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
        return _PAD_HALF
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
    forgotten, padding missing or on one side, stride ignored or left out of the row or column
    index of the window, the output reshaped where it needed a transpose); then the shape alone
    (C channels, image and filter axes swapped, off by one, one-sided or missing padding, stride
    ignored). Two wrong answers can be the same array, and then both are named: padding on the
    top and left only, when it makes the output one row and column short, equals the output
    without its last row and column ("off by one"); zeros on the bottom and right that no
    window reads leave the output of pad = 0 ("padding is missing").
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
            "row i and column j: every axis but the filter axis, which leaves shape (F,).")
_DB_MEAN = ("db is a mean instead of a sum: every output value adds b[f] once, so db[f] "
            "adds up dout over the images, rows and columns, without dividing.")
_DB_ONE_IMAGE = ("db is not summed over the batch: yours holds one image's part only. "
                 "Every image, row and column adds to db[f].")
_DX_PADDED = ("dx still has the padding: the gradient of the padded input has pad rows and "
              "columns of zeros' gradients on each side; cut them away so that dx has the shape "
              "of x.")
_DX_EMPTY = ("dx is empty: the slice that removes the padding keeps nothing when pad = 0. "
             "Work out where your slice ends for pad = 0, and end it where x's rows and "
             "columns end, whatever pad is.")
_DX_FLIPPED = ("dx was computed with the kernel flipped: each output value sends "
               "dout[n, f, i, j] * w[f] back to the window it read, with w[f] the same way "
               "round as in the forward pass.")


_BACK_STRIDE_ROWS = ("The stride is missing from the row index of the window in the backward "
                     "pass: the window of output (i, j) starts at row i*stride of x_pad, as in "
                     "the forward pass, not at row i. The columns are right.")
_BACK_STRIDE_COLS = ("The stride is missing from the column index of the window in the backward "
                     "pass: the window of output (i, j) starts at column j*stride of x_pad, as in "
                     "the forward pass, not at column j. The rows are right.")
_BACK_STRIDE_BOTH = ("The stride is missing from the window index in the backward pass: the "
                     "window of output (i, j) starts at row i*stride and column j*stride of "
                     "x_pad, as in the forward pass, not at row i and column j.")
_DX_OVERWRITE = ("dx is assigned with = where it must be added up: an input value is read by "
                 "several windows (and by every filter), and each of them sends it a share of "
                 "the gradient. With = only the last share is kept; add with += instead.")
_DX_FROM_X = ("dx was built from the input windows: each window gets dout[n, f, i, j] times the "
              "weights it was multiplied by in the forward pass, w[f]. The input windows of x_pad "
              "belong in dw.")
_DX_CUT_ONE_SIDE = ("dx is cut out of dx_pad on one side: the padding was added on all four "
                    "sides, so dx is the middle of dx_pad, pad rows and columns in from every "
                    "edge.")
_DX_CUT_SIZE = ("dx is pad rows and columns off the shape of x: dx_pad has pad extra rows and "
                "columns on every side, so cut pad off the top and the bottom, the left and the "
                "right, and dx has the shape of x, (N, C, H, W).")
_DOUT_RESHAPED = ("dout was reshaped where it needed a transpose: reshape keeps dout's memory "
                  "order (n, f, i, j) and only cuts it up anew, so values of different images "
                  "and filters get mixed. Move the filter axis with transpose first, then reshape.")


def _backward_by_hand(x, w, s, p, dout, steps=None, write="add", use="w"):
    """dx and dw of sum(out * dout), computed window by window, with switches for mistakes.

    Inputs:
    - steps: (row_step, col_step): window (i, j) starts at row i*row_step and column
      j*col_step of x_pad (default: the stride, which is right)
    - write: "add" (right); "filter" (dx_pad[n, :, window] = dout[n, f, i, j] * w[f], loops
      over n, f, i, j); "window" (dx_pad[:, :, window] = the sum over filters, loops over i, j);
      "offset" (the vectorised pass's loop over kernel offsets (k, l), with =)
    - use: "w" (right) or "x" (dx built from the windows of x_pad)
    Returns dx (N, C, H, W), dw (F, C, HH, WW); None when a window leaves x_pad.
    """
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out, W_out = dout.shape[2:]
    rs, cs = steps if steps is not None else (s, s)
    x_pad = _padded(x, p, p, p, p)
    if rs * (H_out - 1) + HH > x_pad.shape[2] or cs * (W_out - 1) + WW > x_pad.shape[3]:
        return None
    dx_pad, dw = np.zeros_like(x_pad), np.zeros_like(w)
    if write == "offset":
        dcols = np.einsum("fckl,nfij->ncklij", w, dout)
        for k, l in np.ndindex(HH, WW):
            dx_pad[:, :, k:k + rs * H_out:rs, l:l + cs * W_out:cs] = dcols[:, :, k, l]
    for i, j in np.ndindex(H_out, W_out):
        rows, cols = slice(i * rs, i * rs + HH), slice(j * cs, j * cs + WW)
        window, d = x_pad[:, :, rows, cols], dout[:, :, i, j]
        dw += np.einsum("nf,nckl->fckl", d, window)
        if write == "offset":
            continue
        if write == "filter":
            for f in range(F):
                dx_pad[:, :, rows, cols] = d[:, f, None, None, None] * w[f]
            continue
        sent = (np.einsum("nf,fckl->nckl", d, w) if use == "w"
                else d.sum(axis=1)[:, None, None, None] * window)
        if write == "window":
            dx_pad[:, :, rows, cols] = sent
        else:
            dx_pad[:, :, rows, cols] += sent
    return dx_pad[:, :, p:p + H, p:p + W], dw


def _scrambled_douts(dout):
    """dout as a backward pass sees it when a reshape stands where a transpose belongs.

    (dout.reshape(F, -1) for the filter-first matrix, dout.reshape(-1, F) for the one row per
    position matrix), each put back in (N, F, H_out, W_out) order.
    """
    N, F, H_out, W_out = dout.shape
    return [np.ascontiguousarray(dout.reshape(F, N, H_out, W_out).transpose(1, 0, 2, 3)),
            np.ascontiguousarray(dout.reshape(N, H_out, W_out, F).transpose(0, 3, 1, 2))]


_STEPS = [((1, 1), _BACK_STRIDE_BOTH), ((1, None), _BACK_STRIDE_ROWS),
          ((None, 1), _BACK_STRIDE_COLS)]


def _steps(s, rows_cols):
    return tuple(s if step is None else step for step in rows_cols)


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
        *[(lambda steps=steps: _second(_backward_by_hand(x, w, s, p, dout, _steps(s, steps))),
           sentence) for steps, sentence in (_STEPS if s > 1 else [])],
        *[(lambda d=d: _conv_grads(x, w, b, s, p, d)[1], _DOUT_RESHAPED)
          for d in _scrambled_douts(dout)],
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
        *[(lambda d=d: d.sum(axis=(0, 2, 3)), _DOUT_RESHAPED) for d in _scrambled_douts(dout)],
    ])


def _dx_mistake(dx, right, x, w, b, s, p, dout):
    N, C, H, W = x.shape
    if p and dx.shape == (N, C, H + 2 * p, W + 2 * p):
        return _DX_PADDED
    if p == 0 and dx.size == 0:
        return _DX_EMPTY
    if dx.shape == (N, C, W, H) and H != W:
        return _swapped("dx", "x", "(N, C, H, W)")
    if p and dx.shape in ((N, C, H - p, W - p), (N, C, H + p, W + p)):
        return _DX_CUT_SIZE
    # the gradient with respect to the padded input, zeros included
    dx_pad = _conv_grads(_padded(x, p, p, p, p), w, b, s, 0, dout)[0] if p else None
    by_hand = lambda **switches: _first(_backward_by_hand(x, w, s, p, dout, **switches))
    return _first_match(dx, right, [
        (lambda: _swap_hw(right), _swapped("dx", "x", "(N, C, H, W)")),
        (lambda: _conv_grads(x, w[:, :, ::-1, ::-1], b, s, p, dout)[0], _DX_FLIPPED),
        *[(lambda steps=steps: by_hand(steps=_steps(s, steps)), sentence)
          for steps, sentence in (_STEPS if s > 1 else [])],
        (lambda: by_hand(write="filter"), _DX_OVERWRITE),
        (lambda: by_hand(write="window"), _DX_OVERWRITE),
        (lambda: by_hand(write="offset"), _DX_OVERWRITE),
        (lambda: by_hand(use="x"), _DX_FROM_X),
        (lambda: _dx_cut(dx_pad, x, 0, 0), _DX_CUT_ONE_SIDE),
        (lambda: _dx_cut(dx_pad, x, 2 * p, 2 * p), _DX_CUT_ONE_SIDE),
        *[(lambda d=d: _conv_grads(x, w, b, s, p, d)[0], _DOUT_RESHAPED)
          for d in _scrambled_douts(dout)],
    ])


def _first(pair):
    return None if pair is None else pair[0]


def _second(pair):
    return None if pair is None else pair[1]


def _dx_cut(dx_pad, x, top, left):
    """dx_pad (None when pad is 0) cut at rows top:top + H and columns left:left + W."""
    if dx_pad is None:
        return None
    H, W = x.shape[2:]
    return dx_pad[:, :, top:top + H, left:left + W]


def conv_backward_mistake(dx, dw, db, x, w, b, conv_param, dout):
    """Name the mistake in a wrong convolution backward pass.

    Inputs:
    - dx, dw, db: what the student returned, meant to be (N, C, H, W), (F, C, HH, WW), (F,)
    - x: (N, C, H, W); w: (F, C, HH, WW); b: (F,); conv_param: {"stride": s, "pad": p}
    - dout: (N, F, H_out, W_out), the upstream gradient
    Returns a sentence, or None when all three are right or no known mistake fits.

    dw is examined first, then db, then dx; the first of the three with a known mistake is
    named. Known mistakes: dw per image, of one image or a mean, flipped, swapped, the stride left
    out of the window index, dout reshaped where a transpose belongs; db over the wrong axes, a
    mean or one image, from a reshaped dout; dx still padded, empty (pad:-pad with pad 0), cut on
    one side, swapped, flipped, the stride left out, assigned with = where windows overlap,
    built from x instead of w, from a reshaped dout. An array that is not an array of numbers
    is passed over.
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


def _max_pool_route(x, ph, pw, stride, dout, rule="first", write="add", steps=None):
    """Send dout back through max pooling by hand.

    Inputs:
    - x: (N, C, H, W); dout: (N, C, H_out, W_out)
    - rule: which cells of a window get dout (see _window_picks)
    - write: "add" (dx += ..., right), "cell" (dx[cell] = ..., overwrites where windows
      overlap) or "window" (dx[window] = mask * dout, which also writes the zeros)
    - steps: (row_step, col_step): window (i, j) starts at row i*row_step and column
      j*col_step (default: the stride, which is right)
    Returns dx (N, C, H, W).
    """
    rs, cs = steps if steps is not None else (stride, stride)
    dx = np.zeros_like(x)
    for i, j in np.ndindex(*dout.shape[2:]):
        rows, cols = slice(i * rs, i * rs + ph), slice(j * cs, j * cs + pw)
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

_POOL_BACK_STRIDE_ROWS = ("The stride is missing from the row index of the window: window (i, j) "
                          "starts at row i*stride of x, as in the forward pass, not at row i. "
                          "The columns are right.")
_POOL_BACK_STRIDE_COLS = ("The stride is missing from the column index of the window: window "
                          "(i, j) starts at column j*stride of x, as in the forward pass, not at "
                          "column j. The rows are right.")
_POOL_BACK_STRIDE_BOTH = ("The stride is missing from the window index: window (i, j) starts at "
                          "row i*stride and column j*stride of x, as in the forward pass, not at "
                          "row i and column j.")
_POOL_BACK_STEPS = [((1, 1), _POOL_BACK_STRIDE_BOTH), ((1, None), _POOL_BACK_STRIDE_ROWS),
                    ((None, 1), _POOL_BACK_STRIDE_COLS)]

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
    *[(lambda x, ph, pw, s, d, steps=steps: (
        _max_pool_route(x, ph, pw, s, d, steps=_steps(s, steps)) if s > 1 else None), sentence)
      for steps, sentence in _POOL_BACK_STEPS],
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

_POOL_STRIDE_ROWS = ("The stride is missing from the row index of the window: your output has "
                     "the right size, but the window of out[n, c, i, j] starts at row i instead "
                     "of row i*stride. The columns are right.")
_POOL_STRIDE_COLS = ("The stride is missing from the column index of the window: your output has "
                     "the right size, but the window of out[n, c, i, j] starts at column j "
                     "instead of column j*stride. The rows are right.")
_POOL_STRIDE_BOTH = ("The stride is missing from the window index: your output has the right "
                     "size, but the window of out[n, c, i, j] starts at row i and column j, as "
                     "with stride 1. With stride S it starts at row i*S and column j*S.")
_POOL_STRIDE_LEFT_OUT = [(True, True, _POOL_STRIDE_BOTH), (True, False, _POOL_STRIDE_ROWS),
                         (False, True, _POOL_STRIDE_COLS)]


def _pool_size(x, ph, pw, s):
    return (x.shape[2] - ph) // s + 1, (x.shape[3] - pw) // s + 1


_POOL_FORWARD_MISTAKES = {
    "max": [(lambda x, ph, pw, s: _pool(x, ph, pw, s, "avg"), _POOL_AVG_NOT_MAX)],
    "avg": [(lambda x, ph, pw, s: _pool(x, ph, pw, s, "max"), _POOL_MAX_NOT_AVG),
            (lambda x, ph, pw, s: _pool(x, ph, pw, s, "sum"), _POOL_SUM)],
}


def _pool_windows_swapped(x, ph, pw, s, mode):
    """Wrong answer: the right number of windows, each pw rows by ph columns (cut short by
    NumPy's slicing where it leaves x), as from x[:, :, i*s:i*s + pw, j*s:j*s + ph]."""
    if ph == pw:
        return None
    H_out, W_out = _pool_size(x, ph, pw, s)
    out = np.zeros((*x.shape[:2], H_out, W_out))
    for i, j in np.ndindex(H_out, W_out):
        window = x[:, :, i * s:i * s + pw, j * s:j * s + ph]
        if window.size == 0:
            return None
        out[:, :, i, j] = window.max(axis=(2, 3)) if mode == "max" else window.mean(axis=(2, 3))
    return out


def _pool_shape_mistakes(mode):
    """Wrong answers shared by both modes: swapped windows, transposed output, no stride."""
    return [
        (lambda x, ph, pw, s: _pool(x, pw, ph, s, mode) if ph != pw else None,
         _POOL_WINDOW_SWAPPED),
        (lambda x, ph, pw, s: _pool_windows_swapped(x, ph, pw, s, mode), _POOL_WINDOW_SWAPPED),
        (lambda x, ph, pw, s: _swap_hw(_pool(x, ph, pw, s, mode)), _POOL_TRANSPOSED_OUT),
        (lambda x, ph, pw, s: _pool(x, ph, pw, 1, mode) if s > 1 else None, _POOL_NO_STRIDE),
        *[(lambda x, ph, pw, s, rows=rows, cols=cols: _strided_rows_cols(
            _pool(x, ph, pw, 1, mode), _pool_size(x, ph, pw, s), s, rows, cols), sentence)
          for rows, cols, sentence in _POOL_STRIDE_LEFT_OUT],
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
    transposed, stride ignored or left out of the row or column index of the window); then the
    shape alone (off by one, stride ignored).
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


_AVG_NOT_DIVIDED = ("The gradient was not divided by the window size: each of the pool_height * "
                    "pool_width cells of a window gets dout[n, c, i, j] / (pool_height * "
                    "pool_width).")
_AVG_MAX_ROUTE = ("The gradient went to the maximum of each window only: that is max pooling's "
                  "backward pass. Average pooling shares dout[n, c, i, j] equally among all "
                  "cells of the window.")
_AVG_OVERWRITE = ("Where windows overlap, a cell gets gradient from several windows, and "
                  "assigning with = keeps only the last. Add with dx[...] += ... instead.")


def avg_pool_backward_mistake(dx, x, pool_param, dout):
    """Name the mistake in a wrong average-pooling backward pass.

    Inputs:
    - dx: what the student returned, meant to be (N, C, H, W)
    - x: (N, C, H, W), the input of the forward pass
    - pool_param: {"pool_height", "pool_width", "stride"}
    - dout: (N, C, H_out, W_out), the upstream gradient
    Returns a sentence, or None when dx is right, is not an array of numbers, or fits no
    known mistake (not divided, sent to the maximum only, = instead of +=, stride left out of
    the window index, height and width swapped).
    """
    dx = _numbers(dx)
    if dx is None:
        return None
    x, dout = _floats(x, dout)
    ph, pw, s = _pool_args(pool_param)
    right = _max_pool_route(x, ph, pw, s, dout, "mean")
    if _matches(dx, right):
        return None
    N, C, H, W = x.shape
    if dx.shape == (N, C, W, H) and H != W:
        return _swapped("dx", "x", "(N, C, H, W)")
    return _first_match(dx, right, [
        (lambda: _max_pool_route(x, ph, pw, s, dout, "every"), _AVG_NOT_DIVIDED),
        (lambda: _max_pool_route(x, ph, pw, s, dout, "first"), _AVG_MAX_ROUTE),
        (lambda: _max_pool_route(x, ph, pw, s, dout, "mean", write="window"), _AVG_OVERWRITE),
        (lambda: _swap_hw(right), _swapped("dx", "x", "(N, C, H, W)")),
        *[(lambda steps=steps: (_max_pool_route(x, ph, pw, s, dout, "mean", steps=_steps(s, steps))
                                if s > 1 else None), sentence)
          for steps, sentence in _POOL_BACK_STEPS],
    ])


# ------------------------------------------------------------------- layouts and colours

_LAYOUT_RESHAPED = ("You reshaped where a transpose is needed: the shape is right but the values "
                    "are scrambled. reshape keeps the order of the values in memory and only "
                    "cuts it up anew; moving the channel axis needs transpose, which says where "
                    "each axis goes.")
_LAYOUT_HW = ("Height and width are swapped: the channel axis moved, but H and W came out in the "
              "wrong order. List the new order of all four axes, by their positions in x, "
              "and keep height before width.")
_LAYOUT_INVERSE = ("You used the other function's order of axes: transpose(order) puts axis "
                   "order[k] of x at position k, so the order that undoes a permutation is not "
                   "the same permutation. Write down where N, C, H and W end up.")


def layout_mistake(got, x, to):
    """Name the mistake in a wrong change of layout.

    Inputs:
    - got: what the student returned
    - x: the input, (N, C, H, W) when to == "last", (N, H, W, C) when to == "first"
    - to: "last" (to_channels_last) or "first" (to_channels_first)
    Returns a sentence, or None when got is right, is not an array of numbers, or fits no
    known mistake (reshape instead of transpose, H and W swapped, the other function's order).
    Raises ValueError for another `to`.
    """
    orders = {"last": ((0, 2, 3, 1), (0, 3, 1, 2)), "first": ((0, 3, 1, 2), (0, 2, 3, 1))}
    if to not in orders:
        raise ValueError(f"to must be 'last' or 'first', not {to!r}.")
    got = _numbers(got)
    if got is None or np.ndim(x) != 4:
        return None
    x = np.asarray(x)
    order, inverse = orders[to]
    right = x.transpose(order)
    if _matches(got, right):
        return None
    hw_swapped = (0, 3, 2, 1)       # (N, W, H, C) from NCHW, (N, C, W, H) from NHWC
    if got.shape == x.transpose(hw_swapped).shape and got.shape != right.shape:
        return _LAYOUT_HW
    return _first_match(got, right, [
        (lambda: x.reshape(right.shape), _LAYOUT_RESHAPED),
        (lambda: x.transpose(hw_swapped), _LAYOUT_HW),
        (lambda: x.transpose(inverse), _LAYOUT_INVERSE),
    ])


_BGR_SAME = ("The image came back unchanged: B and R must trade places, on the colour axis "
             "(the last one).")
_BGR_ROWS = ("You flipped the wrong axis: the rows (axis 0), which turns the picture upside "
             "down. The colours are on the last axis, axis 2; reverse that one only.")
_BGR_COLS = ("You flipped the wrong axis: the columns (axis 1), which mirrors the picture left "
             "to right. The colours are on the last axis, axis 2; reverse that one only.")
_BGR_ALL = ("You flipped every axis: the picture is turned round as well as recoloured. "
            "Reverse the colour axis (the last one) only.")


def bgr_to_rgb_mistake(got, image):
    """Name the mistake in a wrong bgr_to_rgb(image), image (H, W, 3).

    Returns a sentence, or None when got is right, is not an array of numbers, or fits no known
    mistake (unchanged, rows or columns flipped instead of the colours, every axis flipped).
    """
    got = _numbers(got)
    image = np.asarray(image)
    if got is None or image.ndim != 3:
        return None
    right = image[:, :, ::-1]
    if _matches(got, right):
        return None
    return _first_match(got, right, [
        (lambda: image, _BGR_SAME),
        (lambda: image[::-1], _BGR_ROWS),
        (lambda: image[:, ::-1], _BGR_COLS),
        (lambda: image[::-1, ::-1, ::-1], _BGR_ALL),
    ])


# --------------------------------------------------------------------------------- im2col

_AXES = {"n": "image n", "i": "output row i", "j": "output column j",
         "c": "channel c", "k": "kernel row k", "l": "kernel column l"}


def _im2col_windows(x, HH, WW, s, p, steps=None):
    """Windows (N, C, H_out, W_out, HH, WW) of x padded by p; window (i, j) starts at row
    i*row_step and column j*col_step (default: the stride). None when they do not fit."""
    x_pad = _padded(x, p, p, p, p)
    (H_out, W_out) = ((x_pad.shape[2] - HH) // s + 1, (x_pad.shape[3] - WW) // s + 1)
    if H_out < 1 or W_out < 1:
        return None
    rs, cs = steps if steps is not None else (s, s)
    if rs * (H_out - 1) + HH > x_pad.shape[2] or cs * (W_out - 1) + WW > x_pad.shape[3]:
        return None
    out = np.empty((*x.shape[:2], H_out, W_out, HH, WW))
    for i, j in np.ndindex(H_out, W_out):
        out[:, :, i, j] = x_pad[:, :, i * rs:i * rs + HH, j * cs:j * cs + WW]
    return out


def _as_cols(windows, rows="nij", columns="ckl"):
    """The windows as an im2col matrix, rows in `rows` order and columns in `columns` order."""
    if windows is None:
        return None
    axes = dict(zip("ncijkl", range(6)))
    order = [axes[a] for a in rows + columns]
    stacked = windows.transpose(order)
    size = int(np.prod(stacked.shape[:3]))
    return stacked.reshape(size, -1)


def _order(letters):
    return "(" + ", ".join(letters) + ")"


def _im2col_order_mistakes():
    """(rows, columns, sentence) for every other order of the rows or of the columns."""
    import itertools
    found = []
    for columns in ("".join(p) for p in itertools.permutations("ckl")):
        if columns != "ckl":
            found.append(("nij", columns,
                          f"The columns are in the wrong order: each row of yours holds its "
                          f"window's values in {_order(columns)} order, but the columns must "
                          "follow (c, k, l), the order of w[f].ravel(), so that one matrix "
                          "product multiplies each value by its weight."))
    for rows in ("".join(p) for p in itertools.permutations("nij")):
        if rows != "nij":
            found.append((rows, "ckl",
                          f"The rows are in the wrong order: yours go through the windows in "
                          f"{_order(rows)} order, but row (n*H_out + i)*W_out + j must hold the "
                          "window of image n at output position (i, j), that is (n, i, j) "
                          "order."))
    return found


_IM2COL_RESHAPED = ("You reshaped where a transpose is needed: your matrix holds the right "
                    "numbers, but not one window per row. reshape keeps the order of the values "
                    "in memory and only cuts it into rows anew. Bring the axes into the order "
                    "(n, i, j, c, k, l) with transpose first, then reshape.")
_IM2COL_TRANSPOSED = ("Rows and columns are exchanged: yours has one column per window. im2col "
                      "returns one row per window, (N*H_out*W_out, C*HH*WW).")
_IM2COL_NO_PAD = ("The padding is missing: your windows are those of x without its border of "
                  "zeros. Pad x with pad zeros on every side of the two spatial axes first.")
_IM2COL_NO_STRIDE = ("The stride is ignored: you have a row for every window position, as with "
                     "stride 1. The window of output position (i, j) starts at row i*stride and "
                     "column j*stride.")
_IM2COL_ROWS_NO_PAD = ("You have as many rows as there are windows without padding: count the "
                       "window positions of the padded input, H_out = (H + 2*pad - HH) // stride "
                       "+ 1 (and the same for W_out), and cut the windows out of the padded x.")
_IM2COL_ROWS_NO_STRIDE = ("You have as many rows as there are windows with stride 1: with stride S "
                          "only every S-th window position counts, H_out = (H + 2*pad - HH) // "
                          "stride + 1 (and the same for W_out).")
_IM2COL_STRIDE_ROWS = ("The stride is missing from the row index of the window: the window of "
                       "output position (i, j) starts at row i*stride, not at row i.")
_IM2COL_STRIDE_COLS = ("The stride is missing from the column index of the window: the window of "
                       "output position (i, j) starts at column j*stride, not at column j.")
_IM2COL_STRIDE_BOTH = ("The stride is missing from the window index: you have the right number "
                       "of rows, but the window of output position (i, j) starts at row i and "
                       "column j instead of row i*stride and column j*stride.")
_IM2COL_KERNEL_SWAPPED = ("Height and width of the kernel are swapped: your windows are WW rows "
                          "by HH columns. A window is HH rows (kernel height) by WW columns.")


def im2col_mistake(cols, x, HH, WW, stride, pad):
    """Name the mistake in a wrong im2col(x, HH, WW, stride, pad).

    Inputs:
    - cols: what the student returned, meant to be (N*H_out*W_out, C*HH*WW), row
      (n*H_out + i)*W_out + j holding window (i, j) of image n in (c, k, l) order
    - x: (N, C, H, W); HH, WW: kernel size; stride, pad: ints
    Returns a sentence, or None when cols is right, is not an array of numbers, or fits no
    known mistake: rows or columns in another order, a reshape where a transpose belongs, the
    matrix transposed, padding missing, stride ignored or left out of the window index, kernel
    height and width swapped.
    """
    cols = _numbers(cols)
    if cols is None:
        return None
    (x,) = _floats(x)
    s, p = int(stride), int(pad)
    windows = _im2col_windows(x, HH, WW, s, p)
    if windows is None:
        return None
    right = _as_cols(windows)
    if _matches(cols, right):
        return None
    if cols.shape == right.shape[::-1] and right.shape[0] != right.shape[1]:
        return _IM2COL_TRANSPOSED
    N = x.shape[0]
    flat = lambda array: np.ascontiguousarray(array).reshape(right.shape)
    wrong = [(lambda r=r, c=c: _as_cols(windows, r, c), sentence)
             for r, c, sentence in _im2col_order_mistakes()]
    wrong += [
        # the windows kept in sliding_window_view's order, or with the kernel offsets first
        (lambda: flat(windows), _IM2COL_RESHAPED),
        (lambda: flat(windows.transpose(0, 1, 4, 5, 2, 3)), _IM2COL_RESHAPED),
        (lambda: flat(windows.transpose(0, 4, 5, 1, 2, 3)), _IM2COL_RESHAPED),
        (lambda: flat(windows.transpose(1, 4, 5, 0, 2, 3)), _IM2COL_RESHAPED),
        (lambda: flat(right.T), _IM2COL_RESHAPED),      # Caffe's (C*HH*WW, N*H_out*W_out)
        (lambda: right.T, _IM2COL_TRANSPOSED),
        (lambda: _as_cols(_im2col_windows(x, HH, WW, s, 0)) if p else None, _IM2COL_NO_PAD),
        (lambda: _as_cols(_im2col_windows(x, HH, WW, 1, p)) if s > 1 else None,
         _IM2COL_NO_STRIDE),
        (lambda: _as_cols(_im2col_windows(x, HH, WW, s, p, (1, 1))) if s > 1 else None,
         _IM2COL_STRIDE_BOTH),
        (lambda: _as_cols(_im2col_windows(x, HH, WW, s, p, (1, s))) if s > 1 else None,
         _IM2COL_STRIDE_ROWS),
        (lambda: _as_cols(_im2col_windows(x, HH, WW, s, p, (s, 1))) if s > 1 else None,
         _IM2COL_STRIDE_COLS),
        (lambda: _as_cols(_im2col_windows(x, WW, HH, s, p)) if HH != WW else None,
         _IM2COL_KERNEL_SWAPPED),
    ]
    named = _first_match(cols, right, wrong)
    if named or cols.ndim != 2:
        return named
    def rows(step, padding):
        H, W = x.shape[2:]
        return N * ((H + 2 * padding - HH) // step + 1) * ((W + 2 * padding - WW) // step + 1)

    if cols.shape[1] == right.shape[1]:
        if p and cols.shape[0] == rows(s, 0):
            return _IM2COL_ROWS_NO_PAD
        if s > 1 and cols.shape[0] == rows(1, p):
            return _IM2COL_ROWS_NO_STRIDE
    return None


# ------------------------------------------------------- 03's "spot the bugs" (exercise 4.1)

def _im2col_backward(dout, cache, bug_a, bug_b):
    """03's buggy_conv_backward with either of its two bugs switched on or off."""
    x, w, b, conv_param = cache
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    stride, pad = conv_param["stride"], conv_param["pad"]
    _, _, H_out, W_out = dout.shape
    x_pad = _padded(x, pad, pad, pad, pad)
    windows = np.lib.stride_tricks.sliding_window_view(x_pad, (HH, WW), axis=(2, 3))
    windows = windows[:, :, ::stride, ::stride][:, :, :H_out, :W_out]
    cols = windows.transpose(0, 2, 3, 1, 4, 5).reshape(N * H_out * W_out, -1)
    dout_rows = dout.transpose(0, 2, 3, 1).reshape(N * H_out * W_out, F)
    db = dout_rows.sum(axis=0)
    dw = (dout_rows.T @ cols).reshape(w.shape)
    positions = (N, W_out, H_out) if bug_b else (N, H_out, W_out)
    dcols = (dout_rows @ w.reshape(F, -1)).reshape(*positions, C, HH, WW)
    dx_pad = np.zeros_like(x_pad, dtype=float)
    for i in range(H_out):
        for j in range(W_out):
            dx_pad[:, :, i * stride:i * stride + HH, j * stride:j * stride + WW] += dcols[:, i, j]
    dx = dx_pad[:, :, pad:-pad, pad:-pad] if bug_a else dx_pad[:, :, pad:pad + H, pad:pad + W]
    return dx, dw, db


def _exposes(bug_a, bug_b, x_shape, w_shape, stride, pad):
    """True when the backward pass with these bugs crashes or is wrong on this case."""
    rng = np.random.default_rng(0)
    x, w, b = rng.normal(size=x_shape), rng.normal(size=w_shape), rng.normal(size=w_shape[0])
    H_out = (x_shape[2] + 2 * pad - w_shape[2]) // stride + 1
    W_out = (x_shape[3] + 2 * pad - w_shape[3]) // stride + 1
    dout = rng.normal(size=(x_shape[0], w_shape[0], H_out, W_out))
    try:
        got = _im2col_backward(dout, (x, w, b, {"stride": stride, "pad": pad}), bug_a, bug_b)
    except Exception:
        return True
    right = _conv_grads(x, w, b, stride, pad, dout)
    return any(_numbers(g) is None or not _matches(g, r) for g, r in zip(got, right))


def _case_problem(case):
    """(None, the case as ints) when `case` is a valid convolution; else (sentence, None)."""
    try:
        x_shape, w_shape, stride, pad = case
        x_shape, w_shape = tuple(int(v) for v in x_shape), tuple(int(v) for v in w_shape)
        stride, pad = int(stride), int(pad)
    except (TypeError, ValueError):
        return ("it should return four things, (x_shape, w_shape, stride, pad), e.g. "
                "((1, 1, 5, 5), (1, 1, 3, 3), 1, 1)."), None
    if len(x_shape) != 4 or len(w_shape) != 4:
        return (f"x_shape {x_shape} and w_shape {w_shape} must have four sizes each: "
                "(N, C, H, W) and (F, C, HH, WW)."), None
    if min(x_shape + w_shape) < 1 or max(x_shape + w_shape) > 12 or stride < 1 or pad < 0:
        return "keep every size between 1 and 12, stride 1 or more and pad 0 or more.", None
    if x_shape[1] != w_shape[1]:
        return (f"x has C = {x_shape[1]} channels but w has C = {w_shape[1]}: that is not a valid "
                "convolution (the forward pass refuses it), so it tests no backward pass. Give "
                "x and w the same number of channels."), None
    for axis, size, kernel in (("height", x_shape[2], w_shape[2]),
                               ("width", x_shape[3], w_shape[3])):
        if size + 2 * pad < kernel:
            return (f"the kernel {axis} {kernel} is larger than the padded input {axis} "
                    f"{size + 2 * pad}: no window fits, so this is not a valid convolution."), None
        if (size + 2 * pad - kernel) % stride:
            return (f"along the {axis}, ({size} + 2*{pad} - {kernel}) / {stride} + 1 is not a "
                    "whole number: the forward pass refuses these sizes, so they test no "
                    "backward pass. Change a size, the stride or the padding."), None
    return None, (x_shape, w_shape, stride, pad)


def failing_case_problem(case, bug):
    """Why `case` does not do its job in 03's exercise 4.1 ("spot the bugs"), or None.

    Inputs:
    - case: what case_for_bug_a() or case_for_bug_b() returned, meant to be
      (x_shape, w_shape, stride, pad)
    - bug: "A" or "B"; bug A is the wrong line further down buggy_conv_backward, bug B the
      wrong line above it
    Returns None when the case is a valid convolution (same channels, every size between 1 and
    12, a kernel that fits, a whole output size) and the backward pass with only that bug left
    in it (the other one fixed) crashes or gives wrong gradients on it; else a sentence saying
    what is wrong with the case. The sentence never says what either bug is. Raises ValueError
    for another `bug`.
    """
    if bug not in ("A", "B"):
        raise ValueError(f"bug must be 'A' or 'B', not {bug!r}.")
    problem, case = _case_problem(case)
    if problem:
        return problem
    other = "B" if bug == "A" else "A"
    if _exposes(bug == "A", bug == "B", *case):
        return None
    if _exposes(bug == "B", bug == "A", *case):
        return (f"it exposes bug {other}, not bug {bug}: with only bug {bug} left in the code "
                f"(bug {other} fixed), the gradients come out right on it.")
    return (f"with only bug {bug} left in the code (bug {other} fixed), the gradients come out "
            f"right on it, so it does not expose bug {bug}.")


# ------------------------------------ 03: dx as a full convolution, transposed convolution

__all__ += ["conv_backward_dx_full_mistake", "conv_transpose_mistake"]

_FULL_NOT_FLIPPED = ("The kernel is not turned round: correlating the padded dout with w as it "
                     "is gives the gradient of a layer whose kernel was the other way round. "
                     "Turn every w[f, c] by 180 degrees (reverse its rows and its columns) "
                     "before the correlation.")
_FULL_HALF_FLIPPED = ("The kernel is turned round along one axis only: a 180-degree turn "
                      "reverses both the rows and the columns of each w[f, c].")
_FULL_PAD_HH = ("dout is padded with one row and column too many: a full correlation pads "
                "HH - 1 rows and WW - 1 columns on each side, so that the kernel's last row "
                "still overlaps dout's first row. With HH and WW, everything moves by one (and "
                "the result is two rows and columns too large).")
_FULL_NO_DILATION = ("The stride is ignored: with stride S, dout[n, f, i, j] belongs to the "
                     "window at row i*S and column j*S of x_pad, so spread dout out first, with "
                     "S - 1 zero rows between its rows and S - 1 zero columns between its "
                     "columns, then pad and correlate.")
_FULL_DILATION_S = ("dout is spread out with one zero too many between its rows and columns: "
                    "dout[n, f, i, j] goes to row i*S and column j*S, so S - 1 zeros go between "
                    "neighbours and the spread-out dout has (H_out - 1)*S + 1 rows.")
_FULL_NO_CROP = ("dx still has the padding: the full correlation gives the gradient of the "
                 "padded input x_pad, (H + 2*pad) by (W + 2*pad). Crop pad rows and columns from "
                 "each side, so that dx has the shape of x.")
_FULL_CROP_ONE_SIDE = ("dx is cropped on one side: the padding sits on all four sides of x_pad, "
                       "so take pad rows off the top and pad off the bottom, pad columns off "
                       "the left and pad off the right.")
_FULL_CHANNELS = ("dx has one channel per filter (F) instead of one per input channel (C): "
                  "dx[n, c] adds, over every filter f, the full correlation of dout[n, f] with "
                  "w[f, c] turned round. Sum over the filter axis and keep the channel axis.")
_FULL_W_AXES = ("The filter and channel axes of w are mixed up: dout[n, f] goes with w[f, c], "
                "the f-th filter's slice for input channel c, and the sum runs over f. Yours "
                "pairs dout[n, f] with w[c, f].")


def _spread(dout, step):
    """dout with step - 1 zero rows (and columns) between its rows (and columns)."""
    N, F, H_out, W_out = dout.shape
    spread = np.zeros((N, F, (H_out - 1) * step + 1, (W_out - 1) * step + 1))
    spread[:, :, ::step, ::step] = dout
    return spread


def _turned(w, how):
    """w turned round: "both" (180 degrees), "none", "rows" or "cols" only."""
    rows = slice(None, None, -1) if how in ("both", "rows") else slice(None)
    cols = slice(None, None, -1) if how in ("both", "cols") else slice(None)
    return w[:, :, rows, cols]


def _full_correlation(dout, w, step, extra, turn="both"):
    """dout spread by `step`, padded by HH - 1 + extra (WW - 1 + extra) on each side,
    correlated with w turned `turn` and summed over the filters: (N, C, ., .)."""
    F, C, HH, WW = w.shape
    padded = _padded(_spread(dout, step), HH - 1 + extra, HH - 1 + extra,
                     WW - 1 + extra, WW - 1 + extra)
    kernel = np.ascontiguousarray(_turned(w, turn).transpose(1, 0, 2, 3))   # (C, F, HH, WW)
    return tnf.conv2d(_tensor(padded), _tensor(kernel)).numpy()


def _crops(full, x_shape, p):
    """The ways a student cuts dx out of `full`: [p:p + H] (x's size) and [p:end - p]."""
    H, W = x_shape[2:]
    by_size = full[:, :, p:p + H, p:p + W]
    by_ends = full[:, :, p:full.shape[2] - p, p:full.shape[3] - p]
    return [by_size] if by_ends.shape == by_size.shape else [by_size, by_ends]


def _full_mistakes(x_shape, w, s, p, dout):
    """(wrong dx, sentence) of the full-convolution recipe with one step done wrong."""
    H, W = x_shape[2:]
    wrong = [(_crops(_full_correlation(dout, w, s, 0, "none"), x_shape, p)[0], _FULL_NOT_FLIPPED),
             (_crops(_full_correlation(dout, w, s, 0, "rows"), x_shape, p)[0], _FULL_HALF_FLIPPED),
             (_crops(_full_correlation(dout, w, s, 0, "cols"), x_shape, p)[0], _FULL_HALF_FLIPPED)]
    full = _full_correlation(dout, w, s, 0)
    if p:
        wrong += [(full, _FULL_NO_CROP),
                  (full[:, :, :H, :W], _FULL_CROP_ONE_SIDE),
                  (full[:, :, 2 * p:2 * p + H, 2 * p:2 * p + W], _FULL_CROP_ONE_SIDE)]
    wrong += [(dx, _FULL_PAD_HH) for dx in _crops(_full_correlation(dout, w, s, 1), x_shape, p)]
    if s > 1:
        wrong += [(dx, _FULL_NO_DILATION)
                  for dx in _crops(_full_correlation(dout, w, 1, 0), x_shape, p)]
        wrong += [(dx, _FULL_DILATION_S)
                  for dx in _crops(_full_correlation(dout, w, s + 1, 0), x_shape, p)]
    if w.shape[0] == w.shape[1]:
        wrong.append((_crops(_full_correlation(dout, w.swapaxes(0, 1), s, 0), x_shape, p)[0],
                      _FULL_W_AXES))
    return wrong


def _full_shape_mistake(dx, x_shape, w, s, p, dout):
    """Name a wrong dx from its shape alone (after its values told nothing)."""
    N, C, H, W = x_shape
    F, _, HH, WW = w.shape
    H_out, W_out = dout.shape[2:]
    if dx.ndim != 4 or dx.shape[0] != N:
        return None
    if dx.shape[1] == F != C and dx.shape[2:] == (H, W):
        return _FULL_CHANNELS
    if dx.shape[1] != C:
        return None
    got = dx.shape[2:]
    if got == (W, H) and H != W:
        return _swapped("dx", "x", "(N, C, H, W)")
    found = []
    if p and got == (H + 2 * p, W + 2 * p):
        found.append(_FULL_NO_CROP)
    if got == (H + 2, W + 2):
        found.append(_FULL_PAD_HH)
    if s > 1 and got == (H_out + HH - 1 - 2 * p, W_out + WW - 1 - 2 * p):
        found.append(_FULL_NO_DILATION)
    return _named(found)


def conv_backward_dx_full_mistake(dx, x, w, conv_param, dout):
    """Name the mistake in dx written as a full convolution (03, exercise 5.1).

    Inputs:
    - dx: what the student returned, meant to be (N, C, H, W)
    - x: (N, C, H, W); w: (F, C, HH, WW); conv_param: {"stride": s, "pad": p}
    - dout: (N, F, H_out, W_out), the upstream gradient (the sizes tile)
    Returns a sentence, or None when dx is right, is not an array of numbers, or fits no known
    mistake.

    The recipe: spread dout out with s - 1 zeros between its rows and columns, pad it with
    HH - 1 rows and WW - 1 columns on each side, correlate with w turned 180 degrees, summed
    over the filters, and crop p from each side. Known mistakes, recognised by their values: the
    kernel not turned round, or turned along one axis only; dout padded by HH and WW; the
    stride ignored (dout not spread out) or s zeros between its rows; the crop missing or on one
    side; w's filter and channel axes exchanged (when F = C). Then, by the shape alone: one
    channel per filter, height and width swapped, the crop missing, dout padded by HH, the
    stride ignored. When two mistakes give the same array (or the same shape), both are named.
    """
    dx = _numbers(dx)
    if dx is None:
        return None
    x, w, dout = _floats(x, w, dout)
    s, p = int(conv_param["stride"]), int(conv_param["pad"])
    right = _conv_grads(x, w, np.zeros(w.shape[0]), s, p, dout)[0]
    if _matches(dx, right):
        return None
    H, W = x.shape[2:]
    if dx.shape == (*right.shape[:2], W, H) and H != W:
        return _swapped("dx", "x", "(N, C, H, W)")
    wrong = [(lambda dx=candidate: dx, sentence)
             for candidate, sentence in _full_mistakes(x.shape, w, s, p, dout)]
    wrong.append((lambda: _swap_hw(right), _swapped("dx", "x", "(N, C, H, W)")))
    return (_first_match(dx, right, wrong)
            or _full_shape_mistake(dx, x.shape, w, s, p, dout))


_T_W_AXES = ("The two channel axes of w are mixed up: a transposed convolution's w is "
             "(C_in, F, HH, WW), input channel first, as torch's conv_transpose2d stores it "
             "(a convolution's (F, C, HH, WW) read the other way round). x[n, c, i, j] paints "
             "w[c, f] onto output channel f, and the output has F = w.shape[1] channels.")
_T_NO_CROP = ("The padding is not taken off: yours is the whole scatter, (H - 1)*stride + HH by "
              "(W - 1)*stride + WW. In a transposed convolution pad removes rows and columns: "
              "crop pad from each side, H_out = (H - 1)*stride - 2*pad + HH.")
_T_CROP_ONCE = ("pad is taken off once instead of twice: H_out = (H - 1)*stride - 2*pad + HH, "
                "with pad rows off the top and pad off the bottom (and pad columns off each "
                "side).")
_T_CROP_ONE_SIDE = ("The size is right but the output is cut from the wrong place: take pad rows "
                    "off the top and pad off the bottom of the full scatter (pad columns off "
                    "the left and the right), and keep the middle.")
_T_PADDED = ("The padding is added instead of taken off: a convolution's pad adds zeros around "
             "its input, and the transposed convolution goes the other way, so its output is "
             "2*pad rows and columns smaller than the full scatter: "
             "H_out = (H - 1)*stride - 2*pad + HH.")
_T_ASSIGN = ("The output is assigned with = where it must be added up: windows overlap when "
             "the kernel is larger than the stride, and every input channel paints onto the "
             "same place, so each value must add its share (+=).")
_T_NO_BIAS = "The bias is missing: add b[f] once to every value of output channel f."
_T_BIAS_PER_CHANNEL = ("The bias is added once per input channel, C_in times: b[f] goes in once "
                       "per output value. Add it after the scatter, outside the loops.")
_T_FLIPPED = ("The kernel is turned round: x[n, c, i, j] paints w[c, f] onto its window as it "
              "is (no ::-1).")
_T_NO_STRIDE = ("The stride is ignored: x[n, c, i, j] paints its window starting at row "
                "i*stride and column j*stride of the full output, so neighbouring inputs land "
                "stride rows (columns) apart.")
_T_OFF_BY_STRIDE = ("The output size is one stride too large: H inputs are H - 1 steps of "
                    "stride apart, so the full scatter has (H - 1)*stride + HH rows, before "
                    "2*pad come off.")
_T_SWAPPED = ("Height and width are swapped in out: its rows and columns are exchanged. out is "
              "(N, F, H_out, W_out), with H_out = (H - 1)*stride - 2*pad + HH rows on axis 2 "
              "and W_out = (W - 1)*stride - 2*pad + WW columns on axis 3.")
_T_CONV_SIZE = ("This is the size of a convolution's output, (H + 2*pad - HH) // stride + 1: a "
                "transposed convolution goes the other way, H_out = (H - 1)*stride - 2*pad + HH.")


def _scatter(x, w, s):
    """The full scatter, no padding and no bias: (N, F, (H - 1)*s + HH, (W - 1)*s + WW)."""
    return tnf.conv_transpose2d(_tensor(x), _tensor(w), stride=s).numpy()


def _scatter_assigned(x, w, s, per_channel):
    """The full scatter written with = : each (n, c, i, j) paints its window (per_channel), or
    each (n, i, j) paints the sum over c of its channels."""
    N, C, H, W = x.shape
    HH, WW = w.shape[2:]
    full = np.zeros((N, w.shape[1], (H - 1) * s + HH, (W - 1) * s + WW))
    for i, j in np.ndindex(H, W):
        rows, cols = slice(i * s, i * s + HH), slice(j * s, j * s + WW)
        if per_channel:
            full[:, :, rows, cols] = x[:, -1, i, j, None, None, None] * w[-1]
        else:
            full[:, :, rows, cols] = np.einsum("nc,cfkl->nfkl", x[:, :, i, j], w)
    return full


def _cropped(full, p, top=None, left=None):
    """full with p rows and columns off each side (or cut from row top, column left)."""
    H_out, W_out = full.shape[2] - 2 * p, full.shape[3] - 2 * p
    top, left = (p if top is None else top), (p if left is None else left)
    return full[:, :, top:top + H_out, left:left + W_out]


def _transpose_mistakes(x, w, b, s, p):
    """(function() -> wrong out, sentence) of a transposed convolution with one step wrong."""
    bias = b.reshape(1, -1, 1, 1)
    full = _scatter(x, w, s)
    C_in, F = w.shape[:2]
    wrong = [
        (lambda: _cropped(_scatter(x, w[:, :, ::-1, ::-1], s), p) + bias, _T_FLIPPED),
        (lambda: _cropped(full, p), _T_NO_BIAS),
        (lambda: _cropped(full, p) + C_in * bias, _T_BIAS_PER_CHANNEL),
        (lambda: _cropped(_scatter_assigned(x, w, s, True), p) + bias, _T_ASSIGN),
        (lambda: _cropped(_scatter_assigned(x, w, s, False), p) + bias, _T_ASSIGN),
    ]
    if C_in == F:
        wrong.append((lambda: _cropped(_scatter(x, w.swapaxes(0, 1), s), p) + bias, _T_W_AXES))
    if p:
        wrong += [
            (lambda: full + bias, _T_NO_CROP),
            (lambda: full[:, :, p:, p:] + bias, _T_CROP_ONCE),
            (lambda: full[:, :, :-p, :-p] + bias, _T_CROP_ONCE),
            (lambda: _cropped(full, p, 0, 0) + bias, _T_CROP_ONE_SIDE),
            (lambda: _cropped(full, p, 2 * p, 2 * p) + bias, _T_CROP_ONE_SIDE),
            (lambda: _padded(full, p, p, p, p) + bias, _T_PADDED),
            (lambda: _padded(full + bias, p, p, p, p), _T_PADDED),
        ]
    if s > 1:
        def strideless_in_place():
            placed = np.zeros_like(full)
            small = _scatter(x, w, 1)
            placed[:, :, :small.shape[2], :small.shape[3]] = small
            return _cropped(placed, p) + bias
        wrong += [(strideless_in_place, _T_NO_STRIDE),
                  (lambda: _cropped(_scatter(x, w, 1), p) + bias, _T_NO_STRIDE)]
    return wrong


def _transpose_shape_mistake(out, x, w, s, p):
    """Name a wrong transposed-convolution output from its shape alone."""
    N, C_in, H, W = x.shape
    F, HH, WW = w.shape[1:]
    size = lambda h, k: (h - 1) * s - 2 * p + k            # noqa: E731
    right = (size(H, HH), size(W, WW))
    if out.ndim != 4 or out.shape[0] != N:
        return None
    if out.shape[1] == C_in != F and out.shape[2:] == right:
        return _T_W_AXES
    if out.shape[1] != F:
        return None
    got = out.shape[2:]
    if got == right[::-1] and right[0] != right[1]:
        return _T_SWAPPED
    found = []
    if p and got == (size(H, HH) + 2 * p, size(W, WW) + 2 * p):
        found.append(_T_NO_CROP)
    if p and got == (size(H, HH) + p, size(W, WW) + p):
        found.append(_T_CROP_ONCE)
    if p and got == (size(H, HH) + 4 * p, size(W, WW) + 4 * p):
        found.append(_T_PADDED)
    if got == (size(H, HH) + s, size(W, WW) + s):
        found.append(_T_OFF_BY_STRIDE)
    if s > 1 and got == ((H - 1) - 2 * p + HH, (W - 1) - 2 * p + WW):
        found.append(_T_NO_STRIDE)
    if got == ((H + 2 * p - HH) // s + 1, (W + 2 * p - WW) // s + 1):
        found.append(_T_CONV_SIZE)
    return _named(found)


def conv_transpose_mistake(out, x, w, b, conv_param):
    """Name the mistake in a wrong transposed convolution (03, exercise 6.1).

    Inputs:
    - out: what the student returned, meant to be (N, F, H_out, W_out) with
      H_out = (H - 1)*stride - 2*pad + HH
    - x: (N, C_in, H, W); w: (C_in, F, HH, WW), torch's conv_transpose2d layout; b: (F,)
    - conv_param: {"stride": s, "pad": p}
    Returns a sentence, or None when out is right, is not an array of numbers, or fits no known
    mistake.

    Known mistakes, recognised by their values: the kernel turned round; the bias missing or
    added once per input channel; = instead of += (each channel and window overwriting the
    last, or each window overwriting its neighbours); w's two channel axes exchanged (when
    C_in = F); the crop missing, taken once, on one side, or zeros padded instead; the stride
    ignored. Then, by the shape alone: C_in channels, height and width swapped, the size
    without the crop, with pad off once, padded instead of cropped, one stride too large, the
    stride ignored, a convolution's size. When two mistakes give the same array (or the same
    shape), both are named.
    """
    out = _numbers(out)
    if out is None:
        return None
    x, w, b = _floats(x, w, b)
    s, p = int(conv_param["stride"]), int(conv_param["pad"])
    right = _cropped(_scatter(x, w, s), p) + b.reshape(1, -1, 1, 1)
    if _matches(out, right):
        return None
    H_out, W_out = right.shape[2:]
    if out.shape == (*right.shape[:2], W_out, H_out) and H_out != W_out:
        return _T_SWAPPED
    wrong = _transpose_mistakes(x, w, b, s, p)
    wrong.append((lambda: _swap_hw(right), _T_SWAPPED))
    return _first_match(out, right, wrong) or _transpose_shape_mistake(out, x, w, s, p)


# ----------------------------------------------------------------------------- batch normalisation
# Spatial batch normalisation (05, exercises 1.5 and 1.6), with the conventions of that exercise:
# statistics per channel over (N, H, W); the forward pass normalises with the biased variance;
# running = momentum * running + (1 - momentum) * batch statistic, the running variance fed with
# the unbiased batch variance; missing running statistics start at zeros and ones. That is
# nn.BatchNorm2d(C, eps=eps, momentum=1 - momentum) exactly, which gives the right answers here.

_BN_AXES = (0, 2, 3)
_BN_WRONG_AXES = [
    ((0,), "The statistics are taken per pixel, over the batch axis only: every (c, i, j) got a "
           "mean and a variance of its own. Spatial batch normalisation gives each channel one "
           "mean and one variance, over the images and both spatial axes, (0, 2, 3)."),
    ((0, 1, 2, 3), "The statistics are taken over the whole batch at once, every channel "
                   "together. Each channel gets its own mean and variance, over the axes "
                   "(0, 2, 3): only the channel axis stays."),
    ((2, 3), "The statistics are taken over each image's channel alone, axes (2, 3) (that is "
             "instance normalisation). Batch normalisation also runs over the images of the "
             "batch: axes (0, 2, 3)."),
    ((1, 2, 3), "The statistics are taken over each image, all its channels together, axes "
                "(1, 2, 3) (that is layer normalisation). Batch normalisation runs over the "
                "images, per channel: axes (0, 2, 3)."),
    ((0, 2), "The statistics leave out the width: they run over the images and the rows only. "
             "Use both spatial axes, (0, 2, 3)."),
    ((0, 3), "The statistics leave out the height: they run over the images and the columns "
             "only. Use both spatial axes, (0, 2, 3)."),
]
_BN_UNBIASED = ("The output is normalised with the unbiased variance (divided by N·H·W - 1). "
                "The forward pass uses the batch's own variance, the mean of the squared "
                "deviations (divided by N·H·W, np.var's default); only the running variance "
                "keeps the unbiased one.")
_BN_EPS_OUTSIDE = ("eps is added to the standard deviation, outside the square root. It belongs "
                   "under the root, added to the variance: sqrt(var + eps).")
_BN_NO_EPS = "eps is missing: add it to the variance, under the square root."
_BN_NOT_ROOTED = ("x - mean is divided by the variance (plus eps), not by its square root: "
                  "normalise by the standard deviation sqrt(var + eps).")
_BN_GAMMA_BETA = "gamma and beta are swapped: gamma scales the normalised values, beta shifts them."
_BN_NO_BETA = "beta is missing: add beta[c] to every value of channel c after scaling by gamma."
_BN_NO_GAMMA = "gamma is missing: multiply the normalised values of channel c by gamma[c]."
_BN_TRAIN_RUNNING = ("In train mode the output is normalised with bn_param's running statistics. "
                     "Train mode normalises with the batch's own mean and variance (and updates "
                     "the running ones); only test mode reads them.")
_BN_TEST_BATCH = ("In test mode the output is normalised with the batch's own statistics. Test "
                  "mode uses bn_param['running_mean'] and bn_param['running_var'], so that an "
                  "image's output does not depend on the other images of its batch.")
_BN_TEST_UPDATED = ("In test mode the running statistics were updated with this batch before "
                    "they were used. Test mode reads them as they are and changes nothing.")
_BN_TEST_DEFAULTS = ("In test mode the output ignores the running statistics in bn_param: it is "
                     "normalised as if the running mean were 0 and the running variance 1.")


def _bn_settings(bn_param):
    """(eps, momentum) of a bn_param dict, with the defaults 1e-5 and 0.9."""
    return float(bn_param.get("eps", 1e-5)), float(bn_param.get("momentum", 0.9))


def _bn_start(bn_param, C):
    """The running mean and variance bn_param starts with (zeros and ones when it has none)."""
    mean, var = bn_param.get("running_mean"), bn_param.get("running_var")
    return (np.zeros(C) if mean is None else np.array(mean, dtype=np.float64),
            np.ones(C) if var is None else np.array(var, dtype=np.float64))


def _channel(v):
    return np.asarray(v, dtype=np.float64).reshape(1, -1, 1, 1)


def _bn_normalise(x, gamma, beta, mean, var, eps, root="inside", affine="right"):
    """gamma * (x - mean) / sqrt(var + eps) + beta, or one of its classic variants.

    mean, var: broadcastable to x. root: "inside" (right), "outside" (sqrt(var) + eps), "none"
    (no eps) or "variance" (divided by var + eps). affine: "right", "swapped", "no_beta",
    "no_gamma". Returns None where the variant is not finite."""
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = {"inside": np.sqrt(var + eps), "outside": np.sqrt(var) + eps,
                 "none": np.sqrt(var), "variance": var + eps}[root]
        x_hat = (x - mean) / scale
    g, b = _channel(gamma), _channel(beta)
    out = {"right": g * x_hat + b, "swapped": b * x_hat + g, "no_beta": g * x_hat,
           "no_gamma": x_hat + b}[affine]
    return out if np.all(np.isfinite(out)) else None


def _bn_stats(x, axes=_BN_AXES, ddof=0):
    """The mean and variance of x over `axes`, kept broadcastable (None when ddof leaves no value)."""
    count = int(np.prod([x.shape[a] for a in axes]))
    if count - ddof <= 0:
        return None, None
    return x.mean(axis=axes, keepdims=True), x.var(axis=axes, ddof=ddof, keepdims=True)


def _bn_batch_stats(x):
    """The batch mean, its biased and its unbiased variance per channel, (C,) each."""
    M = x.shape[0] * x.shape[2] * x.shape[3]
    mean, var = x.mean(axis=_BN_AXES), x.var(axis=_BN_AXES)
    return mean, var, var * M / (M - 1) if M > 1 else None


def _bn_torch_module(C, eps, momentum, start):
    layer = torch.nn.BatchNorm2d(C, eps=eps, momentum=1 - momentum).double()
    with torch.no_grad():
        layer.running_mean.copy_(torch.from_numpy(start[0]))
        layer.running_var.copy_(torch.from_numpy(start[1]))
    return layer


def _bn_torch_forward(x, gamma, beta, bn_param):
    """nn.BatchNorm2d's output for one call of spatial_batchnorm_forward, and its running
    mean and variance afterwards."""
    x, gamma, beta = _floats(x, gamma, beta)
    eps, momentum = _bn_settings(bn_param)
    layer = _bn_torch_module(x.shape[1], eps, momentum, _bn_start(bn_param, x.shape[1]))
    with torch.no_grad():
        layer.weight.copy_(torch.from_numpy(gamma))
        layer.bias.copy_(torch.from_numpy(beta))
        layer.train(bn_param.get("mode") == "train")
        out = layer(torch.from_numpy(x)).numpy()
    return out, layer.running_mean.numpy().copy(), layer.running_var.numpy().copy()


def _bn_forward_mistakes(x, gamma, beta, bn_param):
    """[(make, sentence)] of the classic wrong outputs of one forward call."""
    eps, momentum = _bn_settings(bn_param)
    start_mean, start_var = (_channel(v) for v in _bn_start(bn_param, x.shape[1]))
    batch_mean, batch_var = _bn_stats(x)
    norm = lambda mean, var, **how: _bn_normalise(x, gamma, beta, mean, var, eps, **how)  # noqa: E731
    variants = [(dict(root="outside"), _BN_EPS_OUTSIDE), (dict(root="none"), _BN_NO_EPS),
                (dict(root="variance"), _BN_NOT_ROOTED), (dict(affine="swapped"), _BN_GAMMA_BETA),
                (dict(affine="no_beta"), _BN_NO_BETA), (dict(affine="no_gamma"), _BN_NO_GAMMA)]
    if bn_param.get("mode") == "train":
        wrong = [(lambda how=how: norm(batch_mean, batch_var, **how), sentence)
                 for how, sentence in variants]
        for axes, sentence in _BN_WRONG_AXES:
            mean, var = _bn_stats(x, axes)
            wrong.append((lambda mean=mean, var=var: norm(mean, var), sentence))
        mean, var = _bn_stats(x, ddof=1)
        wrong.append((lambda: None if mean is None else norm(mean, var), _BN_UNBIASED))
        wrong.append((lambda: norm(start_mean, start_var), _BN_TRAIN_RUNNING))
        return wrong
    wrong = [(lambda how=how: norm(start_mean, start_var, **how), sentence) for how, sentence in variants]
    wrong.append((lambda: norm(batch_mean, batch_var), _BN_TEST_BATCH))
    for axes, _ in _BN_WRONG_AXES:
        mean, var = _bn_stats(x, axes)
        wrong.append((lambda mean=mean, var=var: norm(mean, var), _BN_TEST_BATCH))
    mean, unbiased = _bn_batch_stats(x)[0], _bn_batch_stats(x)[2]
    if unbiased is not None:
        updated = (momentum * start_mean + (1 - momentum) * _channel(mean),
                   momentum * start_var + (1 - momentum) * _channel(unbiased))
        wrong.append((lambda: norm(*updated), _BN_TEST_UPDATED))
    wrong.append((lambda: norm(np.zeros_like(start_mean), np.ones_like(start_var)), _BN_TEST_DEFAULTS))
    return wrong


def batchnorm_forward_mistake(out, x, gamma, beta, bn_param):
    """Name the mistake in a wrong spatial batch normalisation forward pass (05, exercise 1.5).

    Inputs:
    - out: what the student returned, meant to be (N, C, H, W)
    - x: (N, C, H, W); gamma, beta: (C,)
    - bn_param: the dict as it was before the call: "mode" ("train" or "test"), and "eps",
      "momentum", "running_mean", "running_var" when given
    Returns a sentence, or None when out is right, is not an array of numbers, or fits no
    known mistake.

    Known mistakes, recognised by their values. In train mode: statistics over the wrong
    axes (per pixel, the whole batch, per image and channel, per image, one spatial axis
    left out), the unbiased variance, the running statistics used; in both modes: eps
    outside the square root or missing, divided by the variance, gamma and beta swapped or
    one of them missing; in test mode: the batch's own statistics used, the running
    statistics updated before they were used, or ignored. When two mistakes give the same
    array, both are named.
    """
    out = _numbers(out)
    if out is None:
        return None
    x, gamma, beta = _floats(x, gamma, beta)
    right = _bn_torch_forward(x, gamma, beta, bn_param)[0]
    if _matches(out, right):
        return None
    return _first_match(out, right, _bn_forward_mistakes(x, gamma, beta, bn_param))


_BN_RUN_PARTS = {
    "none": ("bn_param['running_{which}'] did not change in train mode. Each train step blends "
             "the batch's {statistic} into it: running = momentum * running + (1 - momentum) * "
             "the batch's value."),
    "reversed": ("The momentum is used the other way round: the batch's {statistic} got the "
                 "weight momentum and the old running value 1 - momentum. That is PyTorch's "
                 "convention (its momentum=0.1 means our 0.9); here the old running value keeps "
                 "the weight momentum."),
    "last": ("bn_param['running_{which}'] holds the last batch's {statistic} only: blend it "
             "into the old running value with the momentum instead of replacing it."),
    "biased": ("The running variance is fed the biased batch variance (divided by M = N·H·W), "
               "as CS231n does. This exercise keeps the unbiased one, as nn.BatchNorm2d does: "
               "the batch variance times M / (M - 1)."),
    "std": ("The running variance is fed the batch's standard deviation; it takes the "
            "(unbiased) variance."),
    "zero": ("bn_param had no running_var, and yours started from zeros. Start it at ones (C,), "
             "as nn.BatchNorm2d does (running_mean starts at zeros)."),
}


def _bn_running_candidates(batches, bn_param, which):
    """{(update rule, variance kind, start): running statistic after the batches}."""
    eps, momentum = _bn_settings(bn_param)
    C = batches[0].shape[1]
    given = bn_param.get(f"running_{which}") is not None
    starts = {"given": _bn_start(bn_param, C)[0 if which == "mean" else 1]}
    if which == "var" and not given:
        starts["zero"] = np.zeros(C)
    kinds = ["mean"] if which == "mean" else ["unbiased", "biased", "std"]
    found = {}
    for rule in ("right", "none", "reversed", "last"):
        for kind in kinds:
            for start_name, start in starts.items():
                running = start.copy()
                for x in batches:
                    mean, biased, unbiased = _bn_batch_stats(x)
                    value = {"mean": mean, "unbiased": unbiased, "biased": biased,
                             "std": None if unbiased is None else np.sqrt(unbiased)}[kind]
                    if value is None:
                        running = None
                        break
                    if rule == "right":
                        running = momentum * running + (1 - momentum) * value
                    elif rule == "reversed":
                        running = (1 - momentum) * running + momentum * value
                    elif rule == "last":
                        running = value.copy()
                if running is not None:
                    found[(rule, kind, start_name)] = running
    return found


def batchnorm_running_mistake(running, which, batches, bn_param):
    """Name the mistake in a wrong running mean or variance after train steps (05, 1.5).

    Inputs:
    - running: what bn_param["running_mean"] (which="mean") or bn_param["running_var"]
      (which="var") holds after the student's forward passes, meant to be (C,)
    - batches: the inputs x (N, C, H, W) of the train-mode calls so far, in order
    - bn_param: the dict as it was before the first call ("eps", "momentum", "running_mean",
      "running_var" when given)
    Returns a sentence, or None when running is right, is not an array of numbers, or fits
    no known mistake.

    Known mistakes: not updated, the momentum the other way round (PyTorch's convention), the
    last batch's statistic kept alone, the biased variance (CS231n's convention) or the
    standard deviation fed to the running variance, a missing running variance started at 0;
    and any two of them together.
    """
    running = _numbers(running)
    if running is None or which not in ("mean", "var"):
        return None
    batches = [_floats(x)[0] for x in batches]
    found = _bn_running_candidates(batches, bn_param, which)
    right = found.get(("right", "mean" if which == "mean" else "unbiased", "given"))
    if right is None or _matches(running, right):
        return None
    statistic = "mean" if which == "mean" else "variance"
    wrong = []
    for (rule, kind, start), candidate in found.items():
        parts = [part for part, wrong_part in ((rule, rule != "right"),
                                               (kind, kind in ("biased", "std")),
                                               (start, start == "zero")) if wrong_part]
        if not parts:
            continue
        sentences = [_BN_RUN_PARTS[part].format(which=which, statistic=statistic) for part in parts]
        count = {1: "", 2: "Two mistakes at once. ", 3: "Three mistakes at once. "}[len(sentences)]
        sentence = count + " And: ".join(sentences)
        wrong.append((lambda candidate=candidate: candidate, sentence))
    return _first_match(running, right, wrong)


_BN_DX_CONSTANTS = ("dx treats the batch mean and variance as constants: it is dout * gamma / "
                    "sqrt(var + eps) alone. Both are computed from every x of the channel, so "
                    "each x also moves the mean and the variance, and through them every output "
                    "of its channel: dx needs the two terms that come through them.")
_BN_DX_NO_MEAN = ("dx misses the term that comes through the batch mean: every x of a channel "
                  "moves its mean, which shifts all its outputs. That term subtracts the mean "
                  "over (N, H, W) of dout * gamma.")
_BN_DX_NO_VAR = ("dx misses the term that comes through the batch variance: every x of a channel "
                 "moves its variance, which rescales all its outputs. That term subtracts x_hat "
                 "times the mean over (N, H, W) of dout * gamma * x_hat.")
_BN_DX_NO_GAMMA = "dx forgets gamma: the gradient reaches x_hat as dout * gamma, not as dout."
_BN_DX_AXES = ("The means in dx run over the wrong axes: the mean and variance of a channel are "
               "taken over (N, H, W), so the terms through them average over axes (0, 2, 3).")
_BN_DX_COUNT = ("dx divides by N where it should divide by M = N·H·W, the number of values each "
                "channel's mean and variance are taken over.")
_BN_DX_SIGN = "The two terms through the mean and the variance are added; they are subtracted."
_BN_DGAMMA_DOUT = ("dgamma is the sum of dout: gamma multiplies x_hat, so dgamma sums dout * x_hat "
                   "over (N, H, W).")
_BN_DGAMMA_X = ("dgamma sums dout * x: gamma multiplies the normalised x_hat, so dgamma sums "
                "dout * x_hat.")
_BN_DGRADS_SWAPPED = "dgamma and dbeta are swapped: dbeta sums dout, dgamma sums dout * x_hat."
_BN_DSUM_AXES = ("{name} is summed over the wrong axes: gamma[c] and beta[c] act on every value of "
                 "channel c, in every image and at every position, so {name} sums over (0, 2, 3).")
_BN_DSUM_MEAN = ("{name} is a mean instead of a sum: every value of channel c adds its part, so "
                 "sum over (0, 2, 3).")


def _bn_torch_grads(x, gamma, beta, dout, eps):
    """out, dx, dgamma, dbeta of batch normalisation in train mode (torch autograd)."""
    tx, tg, tb = _tensor(x, True), _tensor(gamma, True), _tensor(beta, True)
    out = tnf.batch_norm(tx, None, None, tg, tb, training=True, eps=eps)
    (out * _tensor(dout)).sum().backward()
    return out.detach().numpy(), tx.grad.numpy(), tg.grad.numpy(), tb.grad.numpy()


def _bn_dx_by_hand(x, gamma, dout, eps, axes=_BN_AXES, count=None, terms=("mean", "var"),
                   use_gamma=True, sign=-1.0):
    """dx of batch normalisation by hand, with the sums over `axes` divided by `count`."""
    mean, var = _bn_stats(x)
    x_hat = (x - mean) / np.sqrt(var + eps)
    dx_hat = dout * _channel(gamma) if use_gamma else dout
    count = count or int(np.prod([x.shape[a] for a in axes]))
    mean_of = lambda v: v.sum(axis=axes, keepdims=True) / count  # noqa: E731
    dx = dx_hat.copy()
    if "mean" in terms:
        dx = dx + sign * mean_of(dx_hat)
    if "var" in terms:
        dx = dx + sign * x_hat * mean_of(dx_hat * x_hat)
    return dx / np.sqrt(var + eps)


def _bn_dsum_mistake(got, right, name, dout, weights):
    """The classic mistakes of dgamma (weights: x_hat) or dbeta (weights: 1)."""
    wrong_axes = [axes for r in range(5) for axes in itertools.combinations(range(4), r)
                  if axes != _BN_AXES]
    M = dout.shape[0] * dout.shape[2] * dout.shape[3]
    return _first_match(got, right, [
        *[(lambda axes=axes: (dout * weights).sum(axis=axes), _BN_DSUM_AXES.format(name=name))
          for axes in wrong_axes],
        (lambda: right / M, _BN_DSUM_MEAN.format(name=name)),
    ])


def batchnorm_backward_mistake(dx, dgamma, dbeta, x, gamma, beta, dout, eps=1e-5):
    """Name the mistake in a wrong spatial batch normalisation backward pass (05, 1.6).

    Inputs:
    - dx, dgamma, dbeta: what the student returned, meant to be (N, C, H, W), (C,), (C,)
    - x: (N, C, H, W) the train-mode input of the forward pass; gamma, beta: (C,)
    - dout: (N, C, H, W), the upstream gradient; eps: the forward pass's eps
    Returns a sentence, or None when all three are right or no known mistake fits.

    dbeta is examined first, then dgamma, then dx; the first with a known mistake is named.
    Known mistakes: dgamma and dbeta swapped; either summed over the wrong axes or a mean;
    dgamma as the sum of dout or of dout * x; dx with the batch mean and variance treated as
    constants, or one of the two terms through them missing, gamma left out, the terms
    added instead of subtracted, the means over the wrong axes or divided by N. An answer
    that is not an array of numbers is passed over.
    """
    x, gamma, beta, dout = _floats(x, gamma, beta, dout)
    _, right_dx, right_dgamma, right_dbeta = _bn_torch_grads(x, gamma, beta, dout, eps)
    mean, var = _bn_stats(x)
    x_hat = (x - mean) / np.sqrt(var + eps)
    dbeta, dgamma, dx = _numbers(dbeta), _numbers(dgamma), _numbers(dx)
    if (dbeta is not None and dgamma is not None and _matches(dbeta, right_dgamma)
            and _matches(dgamma, right_dbeta) and not _matches(dbeta, right_dbeta)):
        return _BN_DGRADS_SWAPPED
    if dbeta is not None and not _matches(dbeta, right_dbeta):
        named = _bn_dsum_mistake(dbeta, right_dbeta, "dbeta", dout, 1.0)
        if named:
            return named
    if dgamma is not None and not _matches(dgamma, right_dgamma):
        named = (_bn_dsum_mistake(dgamma, right_dgamma, "dgamma", dout, x_hat)
                 or _first_match(dgamma, right_dgamma, [
                     (lambda: dout.sum(axis=_BN_AXES), _BN_DGAMMA_DOUT),
                     (lambda: (dout * x).sum(axis=_BN_AXES), _BN_DGAMMA_X)]))
        if named:
            return named
    if dx is not None and not _matches(dx, right_dx):
        N = x.shape[0]
        by_hand = lambda **how: _bn_dx_by_hand(x, gamma, dout, eps, **how)  # noqa: E731
        return _first_match(dx, right_dx, [
            (lambda: by_hand(terms=()), _BN_DX_CONSTANTS),
            (lambda: by_hand(terms=("var",)), _BN_DX_NO_MEAN),
            (lambda: by_hand(terms=("mean",)), _BN_DX_NO_VAR),
            (lambda: by_hand(use_gamma=False), _BN_DX_NO_GAMMA),
            (lambda: by_hand(sign=1.0), _BN_DX_SIGN),
            (lambda: by_hand(count=N), _BN_DX_COUNT),
            (lambda: by_hand(axes=(0,)), _BN_DX_AXES),
            (lambda: by_hand(axes=(0, 1, 2, 3)), _BN_DX_AXES),
            (lambda: by_hand(axes=(2, 3)), _BN_DX_AXES),
        ])
    return None


# ----------------------------------------------------------------------------- initialisation

_HE_FAN_OUT = ("The spread uses fan_out = F * HH * WW ({fan_out}), the number of outputs an "
               "input feeds, instead of fan_in = C * HH * WW ({fan_in}), the number of inputs "
               "each output sums.")
_HE_AFFINE_FAN_OUT = ("The spread uses M = {fan_out}, the number of outputs, instead of fan_in = "
                      "D = {fan_in}. Here an affine layer computes x @ W with W of shape (D, M): "
                      "each output sums the D inputs of a row of x (PyTorch's nn.Linear stores "
                      "the transpose, (M, D)).")
_HE_NO_KERNEL = ("fan_in leaves out the kernel: each output of a convolution sums C * HH * WW "
                 "inputs ({fan_in}), not only the C = {C} channels.")
_HE_NO_CHANNELS = ("fan_in leaves out the channels: each output of a convolution sums C * HH * "
                   "WW inputs ({fan_in}), not only the HH * WW = {kernel} cells of one channel.")
_HE_ALL = ("fan_in is the number of all the weights ({size}); it is the number of inputs each "
           "output sums ({fan_in}).")
_HE_FILTERS = ("fan_in is F, the number of filters ({F}): each output sums C * HH * WW inputs "
               "({fan_in}).")
_HE_NO_TWO = ("The spread is sqrt(1 / fan_in), without the 2: that is LeCun's and, for "
              "fan_in = fan_out, Glorot's (Xavier) initialisation. After a ReLU, which zeroes "
              "half of its inputs, He's sqrt(2 / fan_in) keeps the scale.")
_HE_GLOROT = ("The spread is Glorot's (Xavier) sqrt(2 / (fan_in + fan_out)); He's is "
              "sqrt(2 / fan_in), made for ReLU layers.")
_HE_VARIANCE = ("2 / fan_in is the variance; the standard deviation is its square root.")
_HE_FIXED = "The spread is the fixed 0.01 of SimpleConvNet; He's depends on fan_in: sqrt(2 / fan_in)."
_HE_UNIFORM = ("The values are uniform, all within sqrt(3) standard deviations of 0: he_init "
               "draws from a normal distribution.")
_HE_TRANSPOSED = "The shape is transposed: return an array of exactly the shape given."


def _he_fans(shape):
    """{name: number} of the counts a spread might be taken from, for a conv or affine shape."""
    if len(shape) == 4:
        F, C, HH, WW = shape
        return {"fan_in": C * HH * WW, "fan_out": F * HH * WW, "C": C, "kernel": HH * WW,
                "size": F * C * HH * WW, "F": F}
    if len(shape) == 2:
        D, M = shape
        return {"fan_in": D, "fan_out": M, "size": D * M}
    return None


def he_init_mistake(w, shape, seed=None):
    """Name the mistake in a wrong He initialisation (05, exercise 2.2).

    Inputs:
    - w: what he_init(shape, rng) returned
    - shape: (F, C, HH, WW) of a convolution's weights or (D, M) of an affine layer's
    - seed: when rng was np.random.default_rng(seed), w is compared with exactly those draws;
      otherwise by the spread of its values (for large arrays)
    Returns a sentence, or None when w is right, is not an array of numbers, or fits no known
    mistake.

    Known mistakes: the spread from fan_out, from the channels or the kernel alone, from the
    number of weights, from F; sqrt(1 / fan_in) (the 2 missing), Glorot's spread, the variance
    used as the standard deviation, a fixed 0.01; uniform values; a transposed shape.
    """
    w = _numbers(w)
    shape = tuple(int(s) for s in shape)
    fans = _he_fans(shape)
    if w is None or fans is None:
        return None
    if w.shape != shape:
        return _HE_TRANSPOSED if w.shape == shape[::-1] else None
    fan_in, fan_out = fans["fan_in"], fans["fan_out"]
    right = np.sqrt(2 / fan_in)
    spreads = [(np.sqrt(2 / fan_out), _HE_FAN_OUT if len(shape) == 4 else _HE_AFFINE_FAN_OUT),
               (np.sqrt(2 / fans["size"]), _HE_ALL),
               (np.sqrt(1 / fan_in), _HE_NO_TWO),
               (np.sqrt(2 / (fan_in + fan_out)), _HE_GLOROT),
               (2 / fan_in, _HE_VARIANCE),
               (0.01, _HE_FIXED)]
    if len(shape) == 4:
        spreads += [(np.sqrt(2 / fans["C"]), _HE_NO_KERNEL), (np.sqrt(2 / fans["kernel"]), _HE_NO_CHANNELS),
                    (np.sqrt(2 / fans["F"]), _HE_FILTERS)]
    spreads = [(s, text.format(**fans)) for s, text in spreads if not np.isclose(s, right, rtol=1e-9)]
    if seed is not None:
        z = np.random.default_rng(seed).standard_normal(shape)
        if _matches(w, z * right):
            return None
        return _first_match(w, z * right, [(lambda s=s: z * s, text) for s, text in spreads])
    if w.size < 1000:
        return None
    measured = float(w.std())
    if np.isclose(measured, right, rtol=0.05):
        if np.mean(np.abs(w) > 2 * measured) < 0.01:      # normal draws: 4.6% beyond 2 std
            return _HE_UNIFORM
        return None
    return _named([text for s, text in spreads if np.isclose(measured, s, rtol=0.05)])


def torch_use(fn):
    """A sentence when `fn` (a student's function) can reach torch under any name (the module,
    a submodule, or a function or class of one), else None: for exercises to be written with
    NumPy alone. Reads what fn reaches as course.shortcuts.reachable sees it."""
    from course.shortcuts import reachable

    for where, value in reachable(fn):
        try:
            if isinstance(value, types.ModuleType):
                name = value.__name__
            elif callable(value):
                name = getattr(value, "__module__", None)
            else:
                continue
        except Exception:  # an object that will not say where it is from
            continue
        if isinstance(name, str) and (name == "torch" or name.startswith("torch.")):
            thing = (f"the module {name}" if isinstance(value, types.ModuleType)
                     else f"{name}.{getattr(value, '__name__', type(value).__name__)}")
            return (f"it can reach {thing} (as {where}): this exercise is to be written with "
                    "NumPy alone. PyTorch is only the tests' reference here, not a way to the "
                    "answer: take it out of your function.")
    return None
