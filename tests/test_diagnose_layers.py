import math

import numpy as np
import pytest
import torch
import torch.nn.functional as tnf

from course.checks import CheckFailed, check_array
from course.diagnose_layers import (avg_pool_backward_mistake, bgr_to_rgb_mistake,
                                    conv_backward_mistake, conv_forward_mistake,
                                    failing_case_problem, im2col_mistake, layout_mistake,
                                    max_pool_backward_mistake, pool_forward_mistake)
from course.diagnose_layers import (batchnorm_backward_mistake, batchnorm_forward_mistake,
                                    batchnorm_running_mistake, he_init_mistake, torch_use)
from torch.nn.functional import batch_norm as _bn_function

rng = np.random.default_rng(0)
X = rng.standard_normal((2, 3, 7, 5))
W_RECT = rng.standard_normal((4, 3, 3, 2))      # stride 1 only: W + 2p - 2 is odd
W_SQ = rng.standard_normal((4, 3, 3, 3))        # strides 1 and 2
B = rng.standard_normal(4)

# (w, stride, pad): every output size below is a whole number
CONFIGS = [(W_RECT, 1, 0), (W_RECT, 1, 1), (W_RECT, 1, 2),
           (W_SQ, 1, 1), (W_SQ, 2, 0), (W_SQ, 2, 1), (W_SQ, 2, 2)]
IDS = [f"{w.shape[2]}x{w.shape[3]}-s{s}-p{p}" for w, s, p in CONFIGS]
PADDED = [config for config in CONFIGS if config[2]]
PADDED_IDS = [name for name, config in zip(IDS, CONFIGS) if config[2]]


# ------------------------------------------------------- a student's convolution code

def student_conv(x, w, b, s, p, *, pads=None, flip=False, bias="right", read="rows",
                 plus_one=True, steps=None):
    """A naive loop forward pass with switches for the classic mistakes.

    pads: (top, bottom, left, right) zeros, default (p, p, p, p)
    bias: "right", "none", "per_channel", "image" (b[n]) or "broadcast" (out += b at the end)
    read: "rows" (right) or "cols" (x read as x[n, c, col, row])
    steps: (row_step, col_step): window (i, j) starts at row i*row_step, column j*col_step
    """
    rs, cs = steps if steps is not None else (s, s)
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    top, bottom, left, right = pads if pads is not None else (p, p, p, p)
    x_pad = np.pad(x, ((0, 0), (0, 0), (top, bottom), (left, right)))
    H_out = (x_pad.shape[2] - HH) // s + int(plus_one)
    W_out = (x_pad.shape[3] - WW) // s + int(plus_one)
    kernel = w[:, :, ::-1, ::-1] if flip else w
    out = np.zeros((N, F, H_out, W_out))
    for n, f, i, j in np.ndindex(N, F, H_out, W_out):
        total = 0.0
        for c in range(C):
            for a, bb in np.ndindex(HH, WW):
                if read == "rows":
                    total += x_pad[n, c, i * rs + a, j * cs + bb] * kernel[f, c, a, bb]
                else:
                    total += x_pad[n, c, i * rs + bb, j * cs + a] * kernel[f, c, a, bb]
            if bias == "per_channel":
                total += b[f]
        total += {"right": b[f], "image": b[n]}.get(bias, 0.0)
        out[n, f, i, j] = total
    if bias == "broadcast":
        out += b
    return out


def student_conv_backward(x, w, s, p, dout, flip=False):
    """Naive backward; returns dx_pad (N, C, H+2p, W+2p) and dw per image (N, F, C, HH, WW)."""
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    kernel = w[:, :, ::-1, ::-1] if flip else w
    dx_pad = np.zeros_like(x_pad)
    dw_each = np.zeros((N, *w.shape))
    for n, f, i, j in np.ndindex(*dout.shape):
        rows, cols = slice(i * s, i * s + HH), slice(j * s, j * s + WW)
        dx_pad[n, :, rows, cols] += kernel[f] * dout[n, f, i, j]
        dw_each[n, f] += x_pad[n, :, rows, cols] * dout[n, f, i, j]
    return dx_pad, dw_each


def torch_conv(x, w, b, s, p):
    return tnf.conv2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), stride=s,
                      padding=p).numpy()


def forward(out, w, s, p, x=X, b=B):
    return conv_forward_mistake(out, x, w, b, {"stride": s, "pad": p})


# ------------------------------------------------------------------ convolution, forward

@pytest.mark.parametrize("w, s, p", CONFIGS, ids=IDS)
def test_right_forward_and_garbage_give_none(w, s, p):
    right = student_conv(X, w, B, s, p)
    np.testing.assert_allclose(right, torch_conv(X, w, B, s, p), atol=1e-12)
    assert forward(right, w, s, p) is None
    assert forward(np.random.default_rng(1).standard_normal(right.shape), w, s, p) is None
    assert forward(right + 0.5, w, s, p) is None


@pytest.mark.parametrize("bad", [None, [1.0, 2.0], (np.zeros((2, 4, 5, 4)),), 3.0,
                                 np.zeros((2, 4, 5, 4), dtype=bool), np.zeros((5, 4))])
def test_non_arrays_and_other_ranks_give_none(bad):
    assert forward(bad, W_RECT, 1, 0) is None


@pytest.mark.parametrize("w, s, p", CONFIGS, ids=IDS)
def test_flipped_kernel(w, s, p):
    assert "flipped" in forward(student_conv(X, w, B, s, p, flip=True), w, s, p)


@pytest.mark.parametrize("w, s, p", CONFIGS, ids=IDS)
def test_bias_missing_or_added_per_channel(w, s, p):
    assert "bias is missing" in forward(student_conv(X, w, B, s, p, bias="none"), w, s, p)
    sentence = forward(student_conv(X, w, B, s, p, bias="per_channel"), w, s, p)
    assert "bias" in sentence and "once per input channel" in sentence


def test_missing_bias_is_not_named_when_b_is_zero():
    zero = np.zeros(4)
    assert forward(student_conv(X, W_RECT, zero, 1, 0, bias="none"), W_RECT, 1, 0, b=zero) is None


@pytest.mark.parametrize("bias", ["image", "broadcast"])
def test_bias_on_the_wrong_axis(bias):
    # with W_RECT, stride 1, pad 0 the output is (2, 4, 5, 4): W_out == F, so out += b runs
    got = student_conv(X, W_RECT, B, 1, 0, bias=bias)
    assert "bias is added along the wrong axis" in forward(got, W_RECT, 1, 0)


@pytest.mark.parametrize("w, s, p", CONFIGS, ids=IDS)
def test_transposed_output_shape(w, s, p):
    got = student_conv(X, w, B, s, p).transpose(0, 1, 3, 2)
    assert forward(got, w, s, p).startswith("Height and width are swapped")


def test_transposed_output_with_square_output():
    w = rng.standard_normal((4, 3, 3, 1))            # x (7, 5) -> out (5, 5)
    got = student_conv(X, w, B, 1, 0).transpose(0, 1, 3, 2)
    assert "Height and width are swapped" in forward(got, w, 1, 0)


@pytest.mark.parametrize("s, p", [(1, 0), (1, 1), (2, 0), (2, 2)])
def test_input_read_with_rows_and_columns_swapped(s, p):
    got = student_conv(X, W_SQ, B, s, p, read="cols")
    assert "Height and width are swapped" in forward(got, W_SQ, s, p)


@pytest.mark.parametrize("w, s, p", PADDED, ids=PADDED_IDS)
def test_padding_on_one_side(w, s, p):
    right = student_conv(X, w, B, s, p)
    no_pad = student_conv(X, w, B, s, p, pads=(0, 0, 0, 0))
    short = right[:, :, :-1, :-1]
    for pads in [(p, 0, p, 0), (0, p, 0, p), (2 * p, 0, 2 * p, 0), (0, 2 * p, 0, 2 * p)]:
        got = student_conv(X, w, B, s, p, pads=pads)
        if got.shape == no_pad.shape and np.allclose(got, no_pad):
            expected = "padding is missing"     # the zeros at the bottom and right are never read
        elif got.shape == short.shape and np.allclose(got, short):
            expected = "off by one"             # the same array as the + 1 forgotten
        else:
            expected = "one side"
        assert expected in forward(got, w, s, p), pads


def test_padding_on_one_side_is_named_for_every_tested_pad():
    for w, s, p in CONFIGS:
        one_sided = [(p, 0, p, 0), (0, p, 0, p), (2 * p, 0, 2 * p, 0), (0, 2 * p, 0, 2 * p)]
        named = [forward(student_conv(X, w, B, s, p, pads=pads), w, s, p) for pads in one_sided]
        assert not p or any("one side" in sentence for sentence in named), (s, p)


def test_padding_on_one_side_from_the_shape_alone():
    # (7 + 2 - 3) + 1 = 7 rows instead of (7 + 4 - 3) + 1 = 9: values unknown, shape says it
    got = np.random.default_rng(2).standard_normal((2, 4, 7, 6))
    assert "one side" in forward(got, W_RECT, 1, 2)


@pytest.mark.parametrize("w, s, p", PADDED, ids=PADDED_IDS)
def test_padding_missing(w, s, p):
    got = student_conv(X, w, B, s, p, pads=(0, 0, 0, 0))
    assert "padding is missing" in forward(got, w, s, p)


@pytest.mark.parametrize("p", [0, 1, 2])
def test_stride_ignored(p):
    got = student_conv(X, W_SQ, B, 1, p)
    assert "stride is ignored" in forward(got, W_SQ, 2, p)


@pytest.mark.parametrize("w, s, p", CONFIGS, ids=IDS)
def test_output_size_off_by_one(w, s, p):
    got = student_conv(X, w, B, s, p, plus_one=False)     # forgot the + 1
    assert "off by one" in forward(got, w, s, p)
    assert "(H + 2*pad - HH) // stride + 1" in forward(got, w, s, p)


def test_output_size_rounded_up_is_off_by_one():
    # stride 2 over W + 2p - WW = 3 columns: 3 // 2 + 1 = 2 windows, rounding up gives 3
    H_out, W_out = (7 - 3) // 2 + 1, math.ceil((5 - 2) / 2) + 1
    got = np.zeros((2, 4, H_out, W_out))
    assert "off by one" in forward(got, W_RECT, 2, 0)


def test_one_output_channel_per_input_channel_or_axes_swapped():
    assert "per input channel (C)" in forward(np.zeros((2, 3, 5, 4)), W_RECT, 1, 0)
    assert "first two axes are swapped" in forward(np.zeros((4, 2, 5, 4)), W_RECT, 1, 0)


def test_hint_reaches_the_failure_message():
    cp = {"stride": 2, "pad": 1}
    got = student_conv(X, W_SQ, B, 2, 1, flip=True)
    with pytest.raises(CheckFailed, match="Hint: The kernel is flipped"):
        check_array(got, torch_conv(X, W_SQ, B, 2, 1), "conv_forward_naive",
                    diagnose=lambda actual: conv_forward_mistake(actual, X, W_SQ, B, cp))


# ----------------------------------------------------------------- convolution, backward

def backward_case(w, s, p):
    H_out, W_out = (7 + 2 * p - w.shape[2]) // s + 1, (5 + 2 * p - w.shape[3]) // s + 1
    dout = np.random.default_rng(3).standard_normal((2, 4, H_out, W_out))
    dx_pad, dw_each = student_conv_backward(X, w, s, p, dout)
    dx = dx_pad[:, :, p:p + 7, p:p + 5]
    return dout, dx_pad, dx, dw_each, dout.sum(axis=(0, 2, 3))


def backward(dx, dw, db, w, s, p, dout):
    return conv_backward_mistake(dx, dw, db, X, w, B, {"stride": s, "pad": p}, dout)


@pytest.mark.parametrize("w, s, p", CONFIGS, ids=IDS)
def test_right_backward_gives_none(w, s, p):
    dout, _, dx, dw_each, db = backward_case(w, s, p)
    assert backward(dx, dw_each.sum(axis=0), db, w, s, p, dout) is None


@pytest.mark.parametrize("w, s, p", CONFIGS, ids=IDS)
def test_backward_garbage_and_non_arrays_give_none(w, s, p):
    dout, _, dx, dw_each, db = backward_case(w, s, p)
    noise = np.random.default_rng(4)
    dw = dw_each.sum(axis=0)
    assert backward(noise.standard_normal(dx.shape), noise.standard_normal(dw.shape),
                    noise.standard_normal(db.shape), w, s, p, dout) is None
    assert backward(None, [1.0], "db", w, s, p, dout) is None
    assert backward(dx, dw, db * 2 + 1, w, s, p, dout) is None


@pytest.mark.parametrize("w, s, p", CONFIGS, ids=IDS)
def test_dw_not_summed_over_the_batch(w, s, p):
    dout, _, dx, dw_each, db = backward_case(w, s, p)
    for dw in (dw_each, dw_each[0], dw_each[-1], dw_each.mean(axis=0)):
        assert "summed over the batch" in backward(dx, dw, db, w, s, p, dout)


@pytest.mark.parametrize("w, s, p", CONFIGS, ids=IDS)
def test_dw_flipped_or_transposed(w, s, p):
    dout, _, dx, dw_each, db = backward_case(w, s, p)
    dw = dw_each.sum(axis=0)
    assert "dw is flipped" in backward(dx, dw[:, :, ::-1, ::-1], db, w, s, p, dout)
    assert "Height and width are swapped in dw" in backward(dx, dw.transpose(0, 1, 3, 2), db,
                                                            w, s, p, dout)


@pytest.mark.parametrize("w, s, p", CONFIGS, ids=IDS)
def test_db_summed_wrong(w, s, p):
    dout, _, dx, dw_each, _ = backward_case(w, s, p)
    dw = dw_each.sum(axis=0)
    for db in (dout.sum(axis=(2, 3)), dout.sum(axis=0), dout.sum(), dout.sum(axis=(1, 2, 3))):
        assert "db is summed over the wrong axes" in backward(dx, dw, db, w, s, p, dout)
    assert "db is a mean" in backward(dx, dw, dout.mean(axis=(0, 2, 3)), w, s, p, dout)
    assert "db" in backward(dx, dw, dout[-1].sum(axis=(1, 2)), w, s, p, dout)


@pytest.mark.parametrize("w, s, p", PADDED, ids=PADDED_IDS)
def test_dx_still_padded(w, s, p):
    dout, dx_pad, _, dw_each, db = backward_case(w, s, p)
    sentence = backward(dx_pad, dw_each.sum(axis=0), db, w, s, p, dout)
    assert sentence.startswith("dx still has the padding")


@pytest.mark.parametrize("w, s", [(W_RECT, 1), (W_SQ, 2)])
def test_dx_empty_when_pad_is_zero(w, s):
    dout, dx_pad, _, dw_each, db = backward_case(w, s, 0)
    p = 0
    dx = dx_pad[:, :, p:-p, p:-p]                 # the slicing bug
    assert dx.shape == (2, 3, 0, 0)
    assert "empty" in backward(dx, dw_each.sum(axis=0), db, w, s, p, dout)


@pytest.mark.parametrize("w, s, p", CONFIGS, ids=IDS)
def test_dx_transposed_or_flipped(w, s, p):
    dout, _, dx, dw_each, db = backward_case(w, s, p)
    dw = dw_each.sum(axis=0)
    assert "Height and width are swapped in dx" in backward(dx.transpose(0, 1, 3, 2), dw, db,
                                                            w, s, p, dout)
    dx_pad_flipped, _ = student_conv_backward(X, w, s, p, dout, flip=True)
    dx_flipped = dx_pad_flipped[:, :, p:p + 7, p:p + 5]
    assert "flipped" in backward(dx_flipped, dw, db, w, s, p, dout)


def test_backward_order_is_dw_then_db_then_dx():
    dout, dx_pad, dx, dw_each, db = backward_case(W_SQ, 2, 1)
    sentence = backward(dx_pad, dw_each[-1], dout.sum(axis=0), W_SQ, 2, 1, dout)
    assert sentence.startswith("dw")
    assert backward(dx_pad, dw_each.sum(axis=0), dout.sum(axis=0), W_SQ, 2, 1,
                    dout).startswith("db")


# ----------------------------------------------------------------------------- pooling

POOLS = [(2, 2, 2), (3, 2, 2), (2, 3, 1), (3, 3, 2)]     # (pool_height, pool_width, stride)
POOL_IDS = [f"{ph}x{pw}-s{s}" for ph, pw, s in POOLS]
XP = rng.standard_normal((2, 3, 7, 5))
XP_TIES = rng.integers(0, 3, (2, 3, 7, 5)).astype(float)    # many ties in every window


def pool_param(ph, pw, s):
    return {"pool_height": ph, "pool_width": pw, "stride": s}


def pool_size(x, ph, pw, s):
    return (x.shape[2] - ph) // s + 1, (x.shape[3] - pw) // s + 1


def student_pool(x, ph, pw, s, how="max", plus_one=True):
    H_out, W_out = pool_size(x, ph, pw, s)
    if not plus_one:
        H_out, W_out = H_out - 1, W_out - 1
    out = np.zeros((*x.shape[:2], H_out, W_out))
    for n, c, i, j in np.ndindex(*out.shape):
        window = x[n, c, i * s:i * s + ph, j * s:j * s + pw]
        out[n, c, i, j] = {"max": window.max, "avg": window.mean, "sum": window.sum}[how]()
    return out


def student_max_pool_backward(x, ph, pw, s, dout, route="argmax", write="add"):
    """Naive max-pooling backward with switches for the classic mistakes."""
    dx = np.zeros_like(x)
    for n, c, i, j in np.ndindex(*dout.shape):
        r0, c0 = i * s, j * s
        window = x[n, c, r0:r0 + ph, c0:c0 + pw]
        d = dout[n, c, i, j]
        g = np.zeros_like(window)
        if route == "argmax":
            r, k = np.unravel_index(np.argmax(window), window.shape)
            g[r, k] = d
        elif route == "every":
            g[:] = d
        elif route == "average":
            g[:] = d / window.size
        elif route == "mask":
            g = (window == window.max()) * d
        elif route == "first_cell":
            g[0, 0] = d
        elif route == "transposed":
            r, k = np.unravel_index(np.argmax(window), window.shape)
            g[k, r] = d
        elif route == "last":
            best = (0, 0)
            for a, bb in np.ndindex(*window.shape):
                if window[a, bb] >= window[best]:
                    best = (a, bb)
            g[best] = d
        if write == "add":
            dx[n, c, r0:r0 + ph, c0:c0 + pw] += g
        elif write == "window":
            dx[n, c, r0:r0 + ph, c0:c0 + pw] = g
        else:                                     # write only the arg-max cell, with =
            r, k = np.unravel_index(np.argmax(window), window.shape)
            dx[n, c, r0 + r, c0 + k] = d
    return dx


def pool_backward(dx, x, ph, pw, s, dout):
    return max_pool_backward_mistake(dx, x, pool_param(ph, pw, s), dout)


def pool_dout(x, ph, pw, s):
    return np.random.default_rng(5).standard_normal((*x.shape[:2], *pool_size(x, ph, pw, s)))


@pytest.mark.parametrize("ph, pw, s", POOLS, ids=POOL_IDS)
def test_right_max_pool_backward_and_garbage_give_none(ph, pw, s):
    dout = pool_dout(XP, ph, pw, s)
    right = student_max_pool_backward(XP, ph, pw, s, dout)
    tx = torch.tensor(XP, requires_grad=True)
    (tnf.max_pool2d(tx, (ph, pw), stride=s) * torch.tensor(dout)).sum().backward()
    np.testing.assert_allclose(right, tx.grad.numpy(), atol=1e-12)   # no ties in XP
    assert pool_backward(right, XP, ph, pw, s, dout) is None
    assert pool_backward(tx.grad.numpy(), XP, ph, pw, s, dout) is None
    assert pool_backward(np.random.default_rng(6).standard_normal(XP.shape), XP, ph, pw, s,
                         dout) is None
    assert pool_backward(right.tolist(), XP, ph, pw, s, dout) is None
    assert pool_backward(None, XP, ph, pw, s, dout) is None


@pytest.mark.parametrize("ph, pw, s", POOLS, ids=POOL_IDS)
def test_right_max_pool_backward_with_ties_gives_none(ph, pw, s):
    dout = pool_dout(XP_TIES, ph, pw, s)
    right = student_max_pool_backward(XP_TIES, ph, pw, s, dout)
    assert pool_backward(right, XP_TIES, ph, pw, s, dout) is None


@pytest.mark.parametrize("ph, pw, s", POOLS, ids=POOL_IDS)
def test_gradient_to_every_cell_or_averaged(ph, pw, s):
    dout = pool_dout(XP, ph, pw, s)
    every = student_max_pool_backward(XP, ph, pw, s, dout, route="every")
    assert "every cell" in pool_backward(every, XP, ph, pw, s, dout)
    average = student_max_pool_backward(XP, ph, pw, s, dout, route="average")
    assert "averaged" in pool_backward(average, XP, ph, pw, s, dout)


@pytest.mark.parametrize("ph, pw, s", POOLS, ids=POOL_IDS)
def test_gradient_to_the_wrong_cell(ph, pw, s):
    dout = pool_dout(XP, ph, pw, s)
    corner = student_max_pool_backward(XP, ph, pw, s, dout, route="first_cell")
    assert "wrong cell" in pool_backward(corner, XP, ph, pw, s, dout)


@pytest.mark.parametrize("ph, s", [(2, 2), (3, 2), (2, 1)])
def test_arg_max_with_row_and_column_exchanged(ph, s):
    dout = pool_dout(XP, ph, ph, s)
    got = student_max_pool_backward(XP, ph, ph, s, dout, route="transposed")
    assert "row and column of the arg-max are exchanged" in pool_backward(got, XP, ph, ph, s, dout)


@pytest.mark.parametrize("ph, pw, s", POOLS, ids=POOL_IDS)
def test_ties_sent_to_all_maxima_or_the_last(ph, pw, s):
    dout = pool_dout(XP_TIES, ph, pw, s)
    mask = student_max_pool_backward(XP_TIES, ph, pw, s, dout, route="mask")
    assert "every cell that ties" in pool_backward(mask, XP_TIES, ph, pw, s, dout)
    last = student_max_pool_backward(XP_TIES, ph, pw, s, dout, route="last")
    assert "last maximum" in pool_backward(last, XP_TIES, ph, pw, s, dout)


@pytest.mark.parametrize("ph, pw, s", [(2, 3, 1), (3, 3, 2)], ids=["2x3-s1", "3x3-s2"])
def test_overlapping_windows_assigned_instead_of_added(ph, pw, s):
    x = XP.copy()
    x[:, :, 2, 2] = 10.0                  # the maximum of four overlapping windows
    dout = pool_dout(x, ph, pw, s)
    for write in ("window", "cell"):
        got = student_max_pool_backward(x, ph, pw, s, dout, write=write)
        assert "+=" in pool_backward(got, x, ph, pw, s, dout), write


@pytest.mark.parametrize("ph, pw, s", POOLS, ids=POOL_IDS)
def test_max_pool_backward_height_width_swapped(ph, pw, s):
    dout = pool_dout(XP, ph, pw, s)
    right = student_max_pool_backward(XP, ph, pw, s, dout)
    assert "Height and width are swapped" in pool_backward(right.transpose(0, 1, 3, 2), XP,
                                                           ph, pw, s, dout)


def test_max_pool_backward_height_width_swapped_on_a_square_input():
    x = XP[:, :, :5, :5]
    dout = pool_dout(x, 2, 2, 1)
    right = student_max_pool_backward(x, 2, 2, 1, dout)
    assert "Height and width are swapped" in pool_backward(right.transpose(0, 1, 3, 2), x,
                                                           2, 2, 1, dout)


def pool_forward(out, ph, pw, s, mode="max", x=XP):
    return pool_forward_mistake(out, x, pool_param(ph, pw, s), mode=mode)


@pytest.mark.parametrize("ph, pw, s", POOLS, ids=POOL_IDS)
def test_right_pool_forward_and_garbage_give_none(ph, pw, s):
    for mode in ("max", "avg"):
        right = student_pool(XP, ph, pw, s, mode)
        assert pool_forward(right, ph, pw, s, mode) is None
        assert pool_forward(right + 1, ph, pw, s, mode) is None
        assert pool_forward(list(right), ph, pw, s, mode) is None
        assert pool_forward(np.zeros((2, 3)), ph, pw, s, mode) is None


@pytest.mark.parametrize("ph, pw, s", POOLS, ids=POOL_IDS)
def test_average_instead_of_max_and_back(ph, pw, s):
    assert "average pooling" in pool_forward(student_pool(XP, ph, pw, s, "avg"), ph, pw, s, "max")
    assert "max pooling" in pool_forward(student_pool(XP, ph, pw, s, "max"), ph, pw, s, "avg")
    assert "divided" in pool_forward(student_pool(XP, ph, pw, s, "sum"), ph, pw, s, "avg")


@pytest.mark.parametrize("ph, pw, s", POOLS, ids=POOL_IDS)
def test_pool_size_off_by_one(ph, pw, s):
    for mode in ("max", "avg"):
        got = student_pool(XP, ph, pw, s, mode, plus_one=False)
        assert "off by one" in pool_forward(got, ph, pw, s, mode)


@pytest.mark.parametrize("ph, pw, s", POOLS, ids=POOL_IDS)
def test_pool_height_width_swapped(ph, pw, s):
    right = student_pool(XP, ph, pw, s)
    assert "Height and width are swapped" in pool_forward(right.transpose(0, 1, 3, 2), ph, pw, s)
    if ph != pw:
        window_swapped = student_pool(XP, pw, ph, s)
        assert "Height and width are swapped" in pool_forward(window_swapped, ph, pw, s)


def test_pool_transposed_square_output_and_stride_ignored():
    x = XP[:, :, :, :4]                                  # (7, 4) with 4x1 windows -> (4, 4)
    right = student_pool(x, 4, 1, 1)
    assert "Height and width are swapped" in pool_forward(right.transpose(0, 1, 3, 2), 4, 1, 1,
                                                          x=x)
    assert "stride is ignored" in pool_forward(student_pool(XP, 3, 3, 1), 3, 3, 2)


def test_pool_forward_rejects_an_unknown_mode():
    with pytest.raises(ValueError, match="mode"):
        pool_forward(np.zeros((2, 3, 3, 2)), 2, 2, 2, mode="mean")


# ------------------------------------------- stride left out of the window index (forward)

STRIDED = [(W_SQ, 2, 0), (W_SQ, 2, 1), (W_SQ, 2, 2)]
STRIDED_IDS = [f"s{s}-p{p}" for _, s, p in STRIDED]
X_TALL = rng.standard_normal((2, 3, 9, 6))
W_TALL = rng.standard_normal((4, 3, 3, 2))        # stride 2: (9 + 2p - 3) and (6 + 2p - 2) even


@pytest.mark.parametrize("w, s, p", STRIDED, ids=STRIDED_IDS)
def test_stride_left_out_of_the_window_index(w, s, p):
    both = student_conv(X, w, B, s, p, steps=(1, 1))
    rows = student_conv(X, w, B, s, p, steps=(1, s))
    cols = student_conv(X, w, B, s, p, steps=(s, 1))
    assert forward(both, w, s, p).startswith("The stride is missing from the window index")
    assert forward(rows, w, s, p).startswith("The stride is missing from the row index")
    assert forward(cols, w, s, p).startswith("The stride is missing from the column index")


def test_stride_left_out_on_a_tall_input_and_kernel():
    for steps, start in [((1, 1), "window index"), ((1, 2), "row index"), ((2, 1), "column index")]:
        got = student_conv(X_TALL, W_TALL, B, 2, 1, steps=steps)
        sentence = conv_forward_mistake(got, X_TALL, W_TALL, B, {"stride": 2, "pad": 1})
        assert sentence.startswith(f"The stride is missing from the {start}")


@pytest.mark.parametrize("w, s, p", STRIDED, ids=STRIDED_IDS)
def test_stride_left_out_is_not_claimed_for_near_misses(w, s, p):
    right = student_conv(X, w, B, s, p)
    near = [right + 1e-3, right.transpose(0, 1, 3, 2) if right.shape[2] == right.shape[3] else None,
            student_conv(X, w, B, s, p, steps=(1, 1))[::-1]]      # images in the other order
    for got in near:
        if got is not None:
            assert "stride" not in (forward(got, w, s, p) or "")
    # the stride-1 answer with other padding has another size: never "missing from the index"
    other_pad = student_conv(X, w, B, 1, p + 1)
    assert "missing from the" not in (forward(other_pad, w, s, p) or "")


def test_stride_left_out_cannot_be_seen_with_stride_1():
    right = student_conv(X, W_RECT, B, 1, 1)
    assert forward(right, W_RECT, 1, 1) is None


@pytest.mark.parametrize("w, s, p", CONFIGS, ids=IDS)
def test_output_reshaped_instead_of_transposed(w, s, p):
    right = student_conv(X, w, B, s, p)
    N, F, H_out, W_out = right.shape
    from_nhwc = np.ascontiguousarray(right.transpose(0, 2, 3, 1)).reshape(N, F, H_out, W_out)
    from_fn = np.ascontiguousarray(right.transpose(1, 0, 2, 3)).reshape(N, F, H_out, W_out)
    for got in (from_nhwc, from_fn):
        assert forward(got, w, s, p).startswith("The output was reshaped where it needed a transpose")
    # near misses: transposed properly but to the wrong layout, or shuffled at random
    shuffled = np.random.default_rng(7).permutation(right.ravel()).reshape(right.shape)
    assert forward(shuffled, w, s, p) is None
    cut_anew = right.transpose(0, 1, 3, 2).copy().reshape(right.shape)   # H, W cut the other way
    assert "reshaped" not in (forward(cut_anew, w, s, p) or "")


# ------------------------------------------------------- backward: strides and scatters

def student_backward(x, w, s, p, dout, steps=None, write="add", use="w", cut=None):
    """Loop backward pass with switches; returns dx, dw.

    steps: (row_step, col_step) of the window origins; write: "add", "assign" (dx[...] = in
    loops n, f, i, j) or "offsets" (the vectorised loop over (k, l) with =); use: "w" or "x";
    cut: (top, left) where dx is cut out of dx_pad, default (p, p)
    """
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    rs, cs = steps if steps is not None else (s, s)
    x_pad = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    dx_pad, dw = np.zeros_like(x_pad), np.zeros_like(w)
    for n, f, i, j in np.ndindex(*dout.shape):
        rows, cols = slice(i * rs, i * rs + HH), slice(j * cs, j * cs + WW)
        dw[f] += dout[n, f, i, j] * x_pad[n, :, rows, cols]
        sent = dout[n, f, i, j] * (w[f] if use == "w" else x_pad[n, :, rows, cols])
        if write == "assign":
            dx_pad[n, :, rows, cols] = sent
        elif write == "add":
            dx_pad[n, :, rows, cols] += sent
    if write == "offsets":
        H_out, W_out = dout.shape[2:]
        for k, l in np.ndindex(HH, WW):
            for n, c in np.ndindex(N, C):
                dx_pad[n, c, k:k + s * H_out:s, l:l + s * W_out:s] = np.einsum(
                    "f,fij->ij", w[:, c, k, l], dout[n])
    top, left = cut if cut is not None else (p, p)
    return dx_pad[:, :, top:top + H, left:left + W], dw


@pytest.mark.parametrize("w, s, p", STRIDED, ids=STRIDED_IDS)
def test_backward_stride_left_out_of_the_window_index(w, s, p):
    dout, _, dx, dw_each, db = backward_case(w, s, p)
    dw = dw_each.sum(axis=0)
    for steps, where in [((1, 1), "window index"), ((1, s), "row index"), ((s, 1), "column index")]:
        wrong_dx, wrong_dw = student_backward(X, w, s, p, dout, steps=steps)
        assert backward(dx, wrong_dw, db, w, s, p, dout).startswith(
            f"The stride is missing from the {where} of the window in the backward pass"
            if where != "window index" else "The stride is missing from the window index")
        assert "stride is missing" in backward(wrong_dx, dw, db, w, s, p, dout)


@pytest.mark.parametrize("w, s, p", CONFIGS, ids=IDS)
def test_dx_assigned_instead_of_added(w, s, p):
    dout, _, dx, dw_each, db = backward_case(w, s, p)
    dw = dw_each.sum(axis=0)
    for write in ("assign", "offsets"):
        wrong_dx, _ = student_backward(X, w, s, p, dout, write=write)
        if np.allclose(wrong_dx, dx):
            continue                 # no overlap: = and += agree
        assert "dx is assigned with = where it must be added up" in backward(wrong_dx, dw, db, w, s, p, dout)


@pytest.mark.parametrize("w, s, p", CONFIGS, ids=IDS)
def test_dx_from_the_input_windows(w, s, p):
    dout, _, dx, dw_each, db = backward_case(w, s, p)
    wrong_dx, _ = student_backward(X, w, s, p, dout, use="x")
    assert backward(wrong_dx, dw_each.sum(axis=0), db, w, s, p, dout).startswith(
        "dx was built from the input windows")


@pytest.mark.parametrize("w, s, p", PADDED, ids=PADDED_IDS)
def test_dx_cut_out_on_one_side(w, s, p):
    dout, _, dx, dw_each, db = backward_case(w, s, p)
    dw = dw_each.sum(axis=0)
    for cut in [(0, 0), (2 * p, 2 * p)]:
        wrong_dx, _ = student_backward(X, w, s, p, dout, cut=cut)
        assert backward(wrong_dx, dw, db, w, s, p, dout).startswith("dx is cut out of dx_pad on one side")
    dout, dx_pad, *_ = backward_case(w, s, p)
    assert "pad rows and columns off the shape of x" in backward(dx_pad[:, :, p:7, p:5], dw, db,
                                                                 w, s, p, dout)


@pytest.mark.parametrize("w, s, p", CONFIGS, ids=IDS)
def test_backward_near_misses_are_not_claimed(w, s, p):
    dout, _, dx, dw_each, db = backward_case(w, s, p)
    dw = dw_each.sum(axis=0)
    # the right gradients of another padding or stride (same shapes where possible)
    if p:
        other, _ = student_backward(X, w, s, p, dout, cut=(p - 1, p))     # off by one row only
        sentence = backward(other, dw, db, w, s, p, dout) or ""
        assert "one side" not in sentence and "stride" not in sentence
    noisy = dx + 1e-3
    assert backward(noisy, dw, db, w, s, p, dout) is None
    assert backward(dx, dw * 1.001, db, w, s, p, dout) is None


def scrambled(dout, how):
    N, F, H_out, W_out = dout.shape
    if how == "filters first":     # dout.reshape(F, -1) where dout.transpose(1, 0, 2, 3) belongs
        return dout.reshape(F, N, H_out, W_out).transpose(1, 0, 2, 3)
    return dout.reshape(N, H_out, W_out, F).transpose(0, 3, 1, 2)   # dout.reshape(-1, F)


@pytest.mark.parametrize("how", ["filters first", "one row per position"])
@pytest.mark.parametrize("w, s, p", CONFIGS, ids=IDS)
def test_dout_reshaped_instead_of_transposed(w, s, p, how):
    dout, _, dx, dw_each, db = backward_case(w, s, p)
    wrong_dout = scrambled(dout, how)
    wrong_dx, wrong_dw = student_backward(X, w, s, p, wrong_dout)
    dw = dw_each.sum(axis=0)
    start = "dout was reshaped where it needed a transpose"
    assert backward(dx, wrong_dw, db, w, s, p, dout).startswith(start)
    assert backward(wrong_dx, dw, db, w, s, p, dout).startswith(start)
    # when W_out == F this db equals dout.sum(axis=(0, 1, 2)), a sum over the wrong axes: both
    assert start in backward(dx, dw, wrong_dout.sum(axis=(0, 2, 3)), w, s, p, dout)


def test_dout_reshape_makes_no_difference_for_one_image():
    dout = np.random.default_rng(8).standard_normal((1, 4, 5, 4))
    x = X[:1]
    _, right_dw = student_backward(x, W_RECT, 1, 0, dout)
    _, wrong_dw = student_backward(x, W_RECT, 1, 0, scrambled(dout, "filters first"))
    np.testing.assert_allclose(wrong_dw, right_dw)       # N = 1: dout.reshape(F, -1) is right
    right_dx, _ = student_backward(x, W_RECT, 1, 0, dout)
    assert conv_backward_mistake(right_dx, right_dw, dout.sum(axis=(0, 2, 3)), x, W_RECT, B,
                                 {"stride": 1, "pad": 0}, dout) is None


# ------------------------------------------------------------------ pooling: strides

def student_pool_steps(x, ph, pw, s, steps, how="max", window=None):
    """Pooling with the right output size, window (i, j) at (i*rs, j*cs), window rows x cols."""
    rs, cs = steps
    wr, wc = window if window is not None else (ph, pw)
    H_out, W_out = pool_size(x, ph, pw, s)
    out = np.zeros((*x.shape[:2], H_out, W_out))
    for n, c, i, j in np.ndindex(*out.shape):
        cells = x[n, c, i * rs:i * rs + wr, j * cs:j * cs + wc]
        out[n, c, i, j] = cells.max() if how == "max" else cells.mean()
    return out


@pytest.mark.parametrize("ph, pw, s", [(2, 2, 2), (3, 2, 2), (3, 3, 2)], ids=["2x2-s2", "3x2-s2", "3x3-s2"])
def test_pool_stride_left_out_of_the_window_index(ph, pw, s):
    for mode in ("max", "avg"):
        for steps, where in [((1, 1), "window index"), ((1, s), "row index"), ((s, 1), "column index")]:
            got = student_pool_steps(XP, ph, pw, s, steps, mode)
            assert pool_forward(got, ph, pw, s, mode).startswith(
                f"The stride is missing from the {where}"), (mode, steps)


def test_pool_windows_swapped_with_the_right_output_size():
    x = rng.standard_normal((2, 1, 4, 7))
    for mode in ("max", "avg"):
        got = student_pool_steps(x, 2, 3, 1, (1, 1), mode, window=(3, 2))
        assert "your windows are pool_width rows by pool_height columns" in pool_forward(
            got, 2, 3, 1, mode, x=x)


def test_pool_stride_near_misses_are_not_claimed():
    right = student_pool(XP, 3, 3, 2)
    assert pool_forward(right[::-1], 3, 3, 2) is None                  # images swapped
    other = student_pool_steps(XP, 3, 3, 2, (2, 2), "max", window=(2, 2))   # 2x2 windows
    assert "stride" not in (pool_forward(other, 3, 3, 2) or "")


@pytest.mark.parametrize("ph, pw, s", [(2, 2, 2), (3, 2, 2), (3, 3, 2)], ids=["2x2-s2", "3x2-s2", "3x3-s2"])
def test_max_pool_backward_stride_left_out(ph, pw, s):
    dout = pool_dout(XP, ph, pw, s)
    for steps, where in [((1, 1), "window index"), ((1, s), "row index"), ((s, 1), "column index")]:
        got = np.zeros_like(XP)
        rs, cs = steps
        for n, c, i, j in np.ndindex(*dout.shape):
            window = XP[n, c, i * rs:i * rs + ph, j * cs:j * cs + pw]
            r, k = np.unravel_index(np.argmax(window), window.shape)
            got[n, c, i * rs + r, j * cs + k] += dout[n, c, i, j]
        assert pool_backward(got, XP, ph, pw, s, dout).startswith(f"The stride is missing from the {where}")


def student_avg_backward(x, ph, pw, s, dout, divide=True, write="add", steps=None):
    rs, cs = steps if steps is not None else (s, s)
    dx = np.zeros_like(x)
    for i, j in np.ndindex(*dout.shape[2:]):
        share = dout[:, :, i:i + 1, j:j + 1] / (ph * pw if divide else 1)
        rows, cols = slice(i * rs, i * rs + ph), slice(j * cs, j * cs + pw)
        if write == "add":
            dx[:, :, rows, cols] += share
        else:
            dx[:, :, rows, cols] = share
    return dx


@pytest.mark.parametrize("ph, pw, s", POOLS, ids=POOL_IDS)
def test_avg_pool_backward_mistakes(ph, pw, s):
    dout = pool_dout(XP, ph, pw, s)
    pp = pool_param(ph, pw, s)
    right = student_avg_backward(XP, ph, pw, s, dout)
    tx = torch.tensor(XP, requires_grad=True)
    (tnf.avg_pool2d(tx, (ph, pw), stride=s) * torch.tensor(dout)).sum().backward()
    np.testing.assert_allclose(right, tx.grad.numpy(), atol=1e-12)
    assert avg_pool_backward_mistake(right, XP, pp, dout) is None
    assert avg_pool_backward_mistake(right + 1e-3, XP, pp, dout) is None
    assert "not divided" in avg_pool_backward_mistake(
        student_avg_backward(XP, ph, pw, s, dout, divide=False), XP, pp, dout)
    maxed = student_max_pool_backward(XP, ph, pw, s, dout)
    assert "max pooling's backward pass" in avg_pool_backward_mistake(maxed, XP, pp, dout)
    assigned = student_avg_backward(XP, ph, pw, s, dout, write="assign")
    if not np.allclose(assigned, right):
        assert "+=" in avg_pool_backward_mistake(assigned, XP, pp, dout)
    if s > 1:
        left_out = student_avg_backward(XP, ph, pw, s, dout, steps=(1, 1))
        assert "stride is missing" in avg_pool_backward_mistake(left_out, XP, pp, dout)
    assert "Height and width are swapped" in avg_pool_backward_mistake(right.transpose(0, 1, 3, 2),
                                                                       XP, pp, dout)


# ---------------------------------------------------------------- layouts and colours

NCHW = np.arange(2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
NHWC = np.ascontiguousarray(NCHW.transpose(0, 2, 3, 1))


def test_layout_right_answers_and_garbage_give_none():
    assert layout_mistake(NCHW.transpose(0, 2, 3, 1), NCHW, "last") is None
    assert layout_mistake(NHWC.transpose(0, 3, 1, 2), NHWC, "first") is None
    assert layout_mistake(NCHW.transpose(0, 2, 3, 1) + 1, NCHW, "last") is None
    assert layout_mistake([1, 2], NCHW, "last") is None
    with pytest.raises(ValueError, match="to must be"):
        layout_mistake(NCHW, NCHW, "middle")


def test_layout_reshaped_instead_of_transposed():
    assert layout_mistake(NCHW.reshape(2, 4, 5, 3), NCHW, "last").startswith("You reshaped")
    assert layout_mistake(NHWC.reshape(2, 3, 4, 5), NHWC, "first").startswith("You reshaped")


def test_layout_height_and_width_swapped_or_the_other_order():
    assert layout_mistake(NCHW.transpose(0, 3, 2, 1), NCHW, "last").startswith("Height and width")
    assert layout_mistake(NHWC.transpose(0, 3, 2, 1), NHWC, "first").startswith("Height and width")
    assert "other function's order" in layout_mistake(NCHW.transpose(0, 3, 1, 2), NCHW, "last")
    assert "other function's order" in layout_mistake(NHWC.transpose(0, 2, 3, 1), NHWC, "first")


def test_layout_near_misses_are_not_claimed():
    # a transpose that is neither the right one nor a known mistake, and a square image
    assert layout_mistake(NCHW.transpose(0, 2, 1, 3).reshape(2, 4, 5, 3), NCHW, "last") is None
    square = np.arange(2 * 3 * 4 * 4).reshape(2, 3, 4, 4)
    got = square.transpose(0, 3, 2, 1)      # H and W swapped: same shape, other values
    assert layout_mistake(got, square, "last").startswith("Height and width")


BGR = np.arange(2 * 3 * 3).reshape(2, 3, 3)


def test_bgr_to_rgb_mistakes():
    assert bgr_to_rgb_mistake(BGR[:, :, ::-1], BGR) is None
    assert bgr_to_rgb_mistake(BGR, BGR).startswith("The image came back unchanged")
    assert "rows (axis 0)" in bgr_to_rgb_mistake(BGR[::-1], BGR)
    assert "columns (axis 1)" in bgr_to_rgb_mistake(BGR[:, ::-1], BGR)
    assert "every axis" in bgr_to_rgb_mistake(BGR[::-1, ::-1, ::-1], BGR)
    assert bgr_to_rgb_mistake(BGR[:, :, [1, 0, 2]], BGR) is None       # another order: unknown


def test_bgr_flips_that_look_alike_are_both_named():
    pixel = np.array([[[10, 20, 30]]])            # one pixel: flipping rows changes nothing
    sentence = bgr_to_rgb_mistake(pixel, pixel)
    assert sentence.startswith("Several known mistakes") or sentence.startswith("Two known")
    assert "unchanged" in sentence and "rows (axis 0)" in sentence


# ------------------------------------------------------------------------------ im2col

def student_im2col(x, HH, WW, s, p, rows="nij", columns="ckl", steps=None, pad=None):
    """im2col by loops, with the rows and columns in any order and the window origins moved."""
    pad = p if pad is None else pad
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    N, C = x.shape[:2]
    H_out = (x_pad.shape[2] - HH) // s + 1
    W_out = (x_pad.shape[3] - WW) // s + 1
    rs, cs = steps if steps is not None else (s, s)
    windows = np.zeros((N, C, H_out, W_out, HH, WW))
    for n, c, i, j in np.ndindex(N, C, H_out, W_out):
        windows[n, c, i, j] = x_pad[n, c, i * rs:i * rs + HH, j * cs:j * cs + WW]
    order = ["ncijkl".index(a) for a in rows + columns]
    stacked = windows.transpose(order)
    return stacked.reshape(int(np.prod(stacked.shape[:3])), -1)


IM2COL = [(3, 2, 2, 1), (2, 3, 1, 1), (3, 3, 2, 0)]          # (HH, WW, stride, pad)
IM2COL_IDS = [f"{a}x{b}-s{s}-p{p}" for a, b, s, p in IM2COL]
XI = rng.standard_normal((2, 3, 7, 6))


def unfold(x, HH, WW, s, p):
    cols = tnf.unfold(torch.tensor(x), (HH, WW), stride=s, padding=p)
    return cols.transpose(1, 2).reshape(-1, x.shape[1] * HH * WW).numpy()


@pytest.mark.parametrize("HH, WW, s, p", IM2COL, ids=IM2COL_IDS)
def test_im2col_right_and_garbage(HH, WW, s, p):
    right = student_im2col(XI, HH, WW, s, p)
    np.testing.assert_allclose(right, unfold(XI, HH, WW, s, p))
    assert im2col_mistake(right, XI, HH, WW, s, p) is None
    assert im2col_mistake(right + 1e-3, XI, HH, WW, s, p) is None
    assert im2col_mistake(right.tolist(), XI, HH, WW, s, p) is None


@pytest.mark.parametrize("HH, WW, s, p", IM2COL, ids=IM2COL_IDS)
def test_im2col_columns_or_rows_in_another_order(HH, WW, s, p):
    for columns in ("klc", "clk", "kcl"):
        got = student_im2col(XI, HH, WW, s, p, columns=columns)
        order = "(" + ", ".join(columns) + ")"
        assert im2col_mistake(got, XI, HH, WW, s, p).startswith(
            f"The columns are in the wrong order: each row of yours holds its window's values in {order}")
    for rows in ("nji", "ijn"):
        got = student_im2col(XI, HH, WW, s, p, rows=rows)
        assert im2col_mistake(got, XI, HH, WW, s, p).startswith("The rows are in the wrong order")


@pytest.mark.parametrize("HH, WW, s, p", IM2COL, ids=IM2COL_IDS)
def test_im2col_reshaped_instead_of_transposed(HH, WW, s, p):
    right = student_im2col(XI, HH, WW, s, p)
    caffe = student_im2col(XI, HH, WW, s, p, rows="ckl", columns="nij")    # (C*HH*WW, N*H_out*W_out)
    assert im2col_mistake(caffe.reshape(right.shape), XI, HH, WW, s, p).startswith("You reshaped")
    assert im2col_mistake(caffe, XI, HH, WW, s, p).startswith("Rows and columns are exchanged")
    view_order = student_im2col(XI, HH, WW, s, p, rows="nci", columns="jkl")   # sliding_window_view's
    assert im2col_mistake(view_order.reshape(right.shape), XI, HH, WW, s, p).startswith("You reshaped")


@pytest.mark.parametrize("HH, WW, s, p", IM2COL, ids=IM2COL_IDS)
def test_im2col_padding_and_stride_mistakes(HH, WW, s, p):
    if p:
        no_pad = student_im2col(XI, HH, WW, s, p, pad=0)
        assert im2col_mistake(no_pad, XI, HH, WW, s, p).startswith("The padding is missing")
        assert "as many rows as there are windows without padding" in im2col_mistake(
            np.zeros_like(no_pad), XI, HH, WW, s, p)
    if s > 1:
        every = student_im2col(XI, HH, WW, 1, p)
        assert im2col_mistake(every, XI, HH, WW, s, p).startswith("The stride is ignored")
        assert "windows with stride 1" in im2col_mistake(np.zeros_like(every), XI, HH, WW, s, p)
        for steps, where in [((1, 1), "window index"), ((1, s), "row index"), ((s, 1), "column index")]:
            got = student_im2col(XI, HH, WW, s, p, steps=steps)
            assert im2col_mistake(got, XI, HH, WW, s, p).startswith(f"The stride is missing from the {where}")


def test_im2col_kernel_height_and_width_swapped():
    # on a square 6x6 input a 3x2 and a 2x3 kernel have 4 * 5 = 5 * 4 windows
    x = rng.standard_normal((1, 2, 6, 6))
    got = student_im2col(x, 2, 3, 1, 0)
    assert im2col_mistake(got, x, 3, 2, 1, 0).startswith("Height and width of the kernel are swapped")
    # with other counts the shape differs too, and the whole array still says it
    got = student_im2col(XI, 2, 3, 1, 1)
    assert im2col_mistake(got, XI, 3, 2, 1, 1).startswith("Height and width of the kernel")
    assert im2col_mistake(got[:-1], XI, 3, 2, 1, 1) is None          # a near miss: one row short


@pytest.mark.parametrize("HH, WW, s, p", IM2COL, ids=IM2COL_IDS)
def test_im2col_near_misses_are_not_claimed(HH, WW, s, p):
    other_pad = student_im2col(XI, HH, WW, s, p, pad=p + 1)
    assert im2col_mistake(other_pad, XI, HH, WW, s, p) is None
    if s > 1:
        other_stride = student_im2col(XI, HH, WW, s + 1, p)
        sentence = im2col_mistake(other_stride, XI, HH, WW, s, p) or ""
        assert not sentence.startswith("The stride")     # at most a fact about the row count


# -------------------------------------------------------- 03's spot-the-bugs cases (4.1)

def test_failing_cases_that_expose_each_bug_pass():
    assert failing_case_problem(((1, 1, 4, 4), (1, 1, 3, 3), 1, 0), "A") is None
    assert failing_case_problem(((1, 1, 4, 6), (1, 1, 3, 3), 1, 1), "B") is None
    assert failing_case_problem(((2, 2, 5, 7), (3, 2, 2, 3), 1, 0), "A") is None


def test_a_case_for_the_other_bug_says_so_without_naming_the_bugs():
    sentence = failing_case_problem(((1, 1, 4, 6), (1, 1, 3, 3), 1, 1), "A")
    assert sentence.startswith("it exposes bug B, not bug A")
    sentence = failing_case_problem(((1, 1, 4, 4), (1, 1, 3, 3), 1, 0), "B")
    assert sentence.startswith("it exposes bug A, not bug B")
    for text in (sentence, failing_case_problem(((2, 3, 6, 6), (4, 3, 3, 3), 1, 1), "A")):
        assert "pad" not in text and "swap" not in text and "H_out" not in text


def test_a_case_that_exposes_nothing():
    sentence = failing_case_problem(((2, 3, 6, 6), (4, 3, 3, 3), 1, 1), "A")
    assert sentence.endswith("so it does not expose bug A.")
    # a non-square input with a square output exposes neither
    assert "does not expose bug B" in failing_case_problem(((1, 1, 4, 6), (1, 1, 2, 4), 1, 1), "B")


@pytest.mark.parametrize("case, words", [
    (((1, 2, 4, 4), (1, 3, 3, 3), 1, 0), "same number of channels"),
    (((1, 1, 2, 2), (1, 1, 3, 3), 1, 0), "larger than the padded input"),
    (((1, 1, 4, 6), (1, 1, 3, 3), 2, 1), "not a whole number"),
    (((1, 1, 4, 13), (1, 1, 3, 3), 1, 0), "between 1 and 12"),
    (((1, 1, 4, 4), (1, 1, 3, 3), 0, 0), "stride 1 or more"),
    (((1, 1, 4), (1, 1, 3, 3), 1, 0), "four sizes each"),
    (((1, 1, 4, 4), (1, 1, 3, 3), 1), "four things"),
    ("a case", "four things"),
])
def test_invalid_cases_are_refused_with_a_reason(case, words):
    assert words in failing_case_problem(case, "A")


def test_failing_case_problem_rejects_an_unknown_bug():
    with pytest.raises(ValueError, match="bug must be"):
        failing_case_problem(((1, 1, 4, 4), (1, 1, 3, 3), 1, 0), "C")


# ------------------------------------------- 03: dx as a full convolution (exercise 5.1)

from course.diagnose_layers import conv_backward_dx_full_mistake, conv_transpose_mistake  # noqa: E402


def student_dx_full(x, w, s, p, dout, turn="both", extra=0, step=None, crop="size",
                    swap_w=False):
    """dx the full-convolution way, with switches for the classic mistakes.

    turn: "both" (right), "none", "rows", "cols"; extra: padding of dout beyond HH - 1;
    step: spacing of dout's values after spreading (default s); crop: "size" ([p:p + H]),
    "ends" ([p:-p] of whatever is there), "none", "top_left" ([0:H]), "far" ([2p:2p + H])
    """
    step = s if step is None else step
    H, W = x.shape[2:]
    kernel = w.swapaxes(0, 1) if swap_w else w
    HH, WW = kernel.shape[2:]
    N, F, H_out, W_out = dout.shape
    spread = np.zeros((N, F, (H_out - 1) * step + 1, (W_out - 1) * step + 1))
    spread[:, :, ::step, ::step] = dout
    ph, pw = HH - 1 + extra, WW - 1 + extra
    padded = np.pad(spread, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    rows = slice(None, None, -1) if turn in ("both", "rows") else slice(None)
    cols = slice(None, None, -1) if turn in ("both", "cols") else slice(None)
    turned = kernel[:, :, rows, cols]
    full = np.zeros((N, kernel.shape[1], padded.shape[2] - HH + 1, padded.shape[3] - WW + 1))
    for a, bb in np.ndindex(*full.shape[2:]):
        full[:, :, a, bb] = np.einsum("nfkl,fckl->nc", padded[:, :, a:a + HH, bb:bb + WW], turned)
    if crop == "size":
        return full[:, :, p:p + H, p:p + W]
    if crop == "ends":
        return full[:, :, p:full.shape[2] - p, p:full.shape[3] - p]
    if crop == "top_left":
        return full[:, :, :H, :W]
    if crop == "far":
        return full[:, :, 2 * p:2 * p + H, 2 * p:2 * p + W]
    return full


def dx_full(dx, w, s, p, dout, x=X):
    return conv_backward_dx_full_mistake(dx, x, w, {"stride": s, "pad": p}, dout)


@pytest.mark.parametrize("w, s, p", CONFIGS, ids=IDS)
def test_dx_full_right_answers_and_near_misses_give_none(w, s, p):
    dout, _, dx, _, _ = backward_case(w, s, p)
    assert np.allclose(student_dx_full(X, w, s, p, dout), dx)
    assert dx_full(student_dx_full(X, w, s, p, dout), w, s, p, dout) is None
    assert dx_full(dx, w, s, p, dout) is None
    near = dx.copy()
    near[0, 0, 0, 0] += 1.0                                   # one value wrong
    assert dx_full(near, w, s, p, dout) is None
    assert dx_full(2 * dx, w, s, p, dout) is None
    assert dx_full(np.random.default_rng(7).standard_normal(dx.shape), w, s, p, dout) is None
    assert dx_full(np.zeros((2, 3, 8, 6)), w, s, p, dout) is None   # one row, one column more
    assert dx_full(dx.tolist(), w, s, p, dout) is None
    assert dx_full(None, w, s, p, dout) is None


@pytest.mark.parametrize("w, s, p", CONFIGS, ids=IDS)
def test_dx_full_kernel_not_turned_round(w, s, p):
    dout = backward_case(w, s, p)[0]
    assert "not turned round" in dx_full(student_dx_full(X, w, s, p, dout, turn="none"),
                                         w, s, p, dout)
    for turn in ("rows", "cols"):
        got = student_dx_full(X, w, s, p, dout, turn=turn)
        assert "along one axis only" in dx_full(got, w, s, p, dout), turn


def test_dx_full_a_symmetric_kernel_needs_no_turn():
    # a kernel equal to itself turned round: not turning it is right, and nothing is claimed
    w = W_SQ + W_SQ[:, :, ::-1, ::-1]
    dout = backward_case(w, 1, 1)[0]
    assert dx_full(student_dx_full(X, w, 1, 1, dout, turn="none"), w, 1, 1, dout) is None


@pytest.mark.parametrize("w, s, p", CONFIGS, ids=IDS)
def test_dx_full_dout_padded_by_the_kernel_size(w, s, p):
    dout = backward_case(w, s, p)[0]
    for crop in ("size", "ends"):
        sentence = dx_full(student_dx_full(X, w, s, p, dout, extra=1, crop=crop), w, s, p, dout)
        assert "one row and column too many" in sentence, crop
        if crop == "ends" and p == 1:   # then it is x_pad's shape and values: both are named
            assert sentence.startswith("Two known mistakes") and "still has the padding" in sentence


@pytest.mark.parametrize("p", [0, 1, 2])
def test_dx_full_stride_ignored_or_too_many_zeros(p):
    dout = backward_case(W_SQ, 2, p)[0]
    for crop in ("size", "ends"):
        got = student_dx_full(X, W_SQ, 2, p, dout, step=1, crop=crop)
        assert "The stride is ignored" in dx_full(got, W_SQ, 2, p, dout), crop
        got = student_dx_full(X, W_SQ, 2, p, dout, step=3, crop=crop)
        assert "one zero too many" in dx_full(got, W_SQ, 2, p, dout), crop
    # from the shape alone: (H_out + HH - 1 - 2p) rows
    got = student_dx_full(X, W_SQ, 2, p, dout, step=1, crop="ends")
    noise = np.random.default_rng(8).standard_normal(got.shape)
    assert "The stride is ignored" in dx_full(noise, W_SQ, 2, p, dout)


@pytest.mark.parametrize("w, s, p", PADDED, ids=PADDED_IDS)
def test_dx_full_crop_missing_or_on_one_side(w, s, p):
    dout = backward_case(w, s, p)[0]
    assert "still has the padding" in dx_full(student_dx_full(X, w, s, p, dout, crop="none"),
                                              w, s, p, dout)
    noise = np.random.default_rng(9).standard_normal((2, 3, 7 + 2 * p, 5 + 2 * p))
    assert "still has the padding" in dx_full(noise, w, s, p, dout)
    for crop in ("top_left", "far"):
        got = student_dx_full(X, w, s, p, dout, crop=crop)
        assert "cropped on one side" in dx_full(got, w, s, p, dout), crop


def test_dx_full_channels_and_swapped_axes():
    w = rng.standard_normal((3, 3, 2, 3))          # F = C: w[c, f] runs without an error
    dout = np.random.default_rng(12).standard_normal((2, 3, 8, 5))
    got = student_dx_full(X, w, 1, 1, dout, swap_w=True)
    assert "filter and channel axes of w are mixed up" in dx_full(got, w, 1, 1, dout)
    symmetric = w + w.swapaxes(0, 1)               # then w[c, f] = w[f, c]: nothing to claim
    got = student_dx_full(X, symmetric, 1, 1, dout, swap_w=True)
    assert dx_full(got, symmetric, 1, 1, dout) is None
    dout = backward_case(W_RECT, 1, 1)[0]          # F = 4, C = 3
    assert "one channel per filter" in dx_full(np.zeros((2, 4, 7, 5)), W_RECT, 1, 1, dout)
    right = student_dx_full(X, W_RECT, 1, 1, dout)
    assert "Height and width are swapped in dx" in dx_full(right.transpose(0, 1, 3, 2),
                                                           W_RECT, 1, 1, dout)


# ------------------------------------------------ 03: transposed convolution (exercise 6.1)

XT = rng.standard_normal((2, 3, 4, 5))
WT = rng.standard_normal((3, 2, 3, 2))             # (C_in, F, HH, WW): 3 input channels, 2 out
BT = rng.standard_normal(2)
T_CONFIGS = [(s, p) for s in (1, 2, 3) for p in (0, 1, 2)]
T_IDS = [f"s{s}-p{p}" for s, p in T_CONFIGS]


def student_transpose(x, w, b, s, p, write="add", flip=False, bias="right", crop="both",
                      steps=None, swap_w=False):
    """A loop scatter with switches for the classic mistakes.

    write: "add" (right) or "assign" (=); crop: "both" (right), "none", "top" ([p:], once),
    "bottom" ([:-p], once), "top_left" (right size from row 0), "far" (from row 2p), "pad"
    (zeros added instead); steps: (row_step, col_step) of the windows (default s, s)
    """
    rs, cs = steps if steps is not None else (s, s)
    kernel = w.swapaxes(0, 1) if swap_w else w
    N, C_in, H, W = x.shape
    F, HH, WW = kernel.shape[1:]
    full = np.zeros((N, F, (H - 1) * s + HH, (W - 1) * s + WW))
    for n, c, i, j in np.ndindex(N, C_in, H, W):
        paint = x[n, c, i, j] * (kernel[c, :, ::-1, ::-1] if flip else kernel[c])
        window = (n, slice(None), slice(i * rs, i * rs + HH), slice(j * cs, j * cs + WW))
        if write == "add":
            full[window] += paint
        else:
            full[window] = paint
    H_out, W_out = full.shape[2] - 2 * p, full.shape[3] - 2 * p
    out = {"both": lambda: full[:, :, p:p + H_out, p:p + W_out],
           "none": lambda: full,
           "top": lambda: full[:, :, p:, p:],
           "bottom": lambda: full[:, :, :full.shape[2] - p, :full.shape[3] - p],
           "top_left": lambda: full[:, :, :H_out, :W_out],
           "far": lambda: full[:, :, 2 * p:2 * p + H_out, 2 * p:2 * p + W_out],
           "pad": lambda: np.pad(full, ((0, 0), (0, 0), (p, p), (p, p)))}[crop]().copy()
    if bias == "right":
        out += b.reshape(1, -1, 1, 1)
    elif bias == "per_channel":
        out += C_in * b.reshape(1, -1, 1, 1)
    return out


def torch_transpose(x, w, b, s, p):
    return tnf.conv_transpose2d(torch.tensor(x), torch.tensor(w), torch.tensor(b), stride=s,
                                padding=p).numpy()


def transpose(out, s, p, x=XT, w=WT, b=BT):
    return conv_transpose_mistake(out, x, w, b, {"stride": s, "pad": p})


@pytest.mark.parametrize("s, p", T_CONFIGS, ids=T_IDS)
def test_transpose_right_answers_and_near_misses_give_none(s, p):
    right = student_transpose(XT, WT, BT, s, p)
    np.testing.assert_allclose(right, torch_transpose(XT, WT, BT, s, p), atol=1e-12)
    assert transpose(right, s, p) is None
    near = right.copy()
    near[-1, -1, -1, -1] -= 1.0
    assert transpose(near, s, p) is None
    assert transpose(right + 0.5, s, p) is None
    assert transpose(np.random.default_rng(10).standard_normal(right.shape), s, p) is None
    assert transpose(right.tolist(), s, p) is None
    assert transpose((right, None), s, p) is None


@pytest.mark.parametrize("s, p", T_CONFIGS, ids=T_IDS)
def test_transpose_assigned_instead_of_added(s, p):
    got = student_transpose(XT, WT, BT, s, p, write="assign")
    assert "assigned with =" in transpose(got, s, p)


def test_transpose_assignment_that_is_right_is_not_claimed():
    # one input channel and a stride as large as the kernel: no window overlaps, = is +=
    x, w = XT[:, :1], WT[:1, :, :2, :2]
    got = student_transpose(x, w, BT, 2, 0, write="assign")
    assert transpose(got, 2, 0, x=x, w=w) is None


@pytest.mark.parametrize("s, p", T_CONFIGS, ids=T_IDS)
def test_transpose_flip_bias_and_stride(s, p):
    assert "turned round" in transpose(student_transpose(XT, WT, BT, s, p, flip=True), s, p)
    assert "bias is missing" in transpose(student_transpose(XT, WT, BT, s, p, bias="none"), s, p)
    assert "once per input channel" in transpose(
        student_transpose(XT, WT, BT, s, p, bias="per_channel"), s, p)
    if s > 1:
        got = student_transpose(XT, WT, BT, s, p, steps=(1, 1))
        assert "stride is ignored" in transpose(got, s, p)


def test_transpose_missing_bias_is_not_claimed_when_b_is_zero():
    zero = np.zeros(2)
    got = student_transpose(XT, WT, zero, 2, 1, bias="none")
    assert transpose(got, 2, 1, b=zero) is None


T_PADDED = [(s, p) for s, p in T_CONFIGS if p]


@pytest.mark.parametrize("s, p", T_PADDED, ids=[f"s{s}-p{p}" for s, p in T_PADDED])
def test_transpose_padding_mistakes(s, p):
    for crop, says in [("none", "not taken off"), ("top", "taken off once"),
                       ("bottom", "taken off once"), ("top_left", "cut from the wrong place"),
                       ("far", "cut from the wrong place"), ("pad", "added instead of taken off")]:
        got = student_transpose(XT, WT, BT, s, p, crop=crop)
        assert says in transpose(got, s, p), crop
        noise = np.random.default_rng(11).standard_normal(got.shape)
        if crop in ("none", "top", "pad"):            # the shape alone tells
            assert says in transpose(noise, s, p), crop


def test_transpose_weight_axes():
    w = rng.standard_normal((3, 3, 2, 3))          # C_in = F: w[f, c] runs without an error
    b = rng.standard_normal(3)
    got = student_transpose(XT, w, b, 2, 1, swap_w=True)
    assert "two channel axes of w are mixed up" in transpose(got, 2, 1, w=w, b=b)
    # C_in = 3, F = 2: an output with C_in channels and the right size, from its shape
    right = student_transpose(XT, WT, BT, 2, 1)
    assert "two channel axes of w" in transpose(np.zeros((2, 3, *right.shape[2:])), 2, 1)


def test_transpose_sizes_from_the_shape_alone():
    right = student_transpose(XT, WT, BT, 2, 0)             # (2, 2, 9, 10)
    H_out, W_out = right.shape[2:]
    assert "one stride too large" in transpose(np.zeros((2, 2, H_out + 2, W_out + 2)), 2, 0)
    assert "size of a convolution's output" in transpose(np.zeros((2, 2, 1, 2)), 2, 0)
    assert "Height and width are swapped in out" in transpose(right.transpose(0, 1, 3, 2), 2, 0)
    assert transpose(np.zeros((2, 2, H_out + 3, W_out + 3)), 2, 0) is None   # a near miss
    assert transpose(np.zeros((2, 2, H_out - 3, W_out)), 2, 0) is None


# ------------------------------------------- near misses of the classic mistakes (issue 14)

@pytest.mark.parametrize("w, s, p", CONFIGS, ids=IDS)
def test_forward_near_misses_of_the_classic_mistakes_are_not_claimed(w, s, p):
    """Answers that look like a known mistake without being it: a kernel flipped along one axis
    (not "flipped"), twice the bias (not "once per input channel": C = 3), the biases in
    another order, the right answer of one more zero of padding at stride 1, the output
    upside down, the images in another order."""
    right = student_conv(X, w, B, s, p)
    near = [torch_conv(X, w[:, :, ::-1].copy(), B, s, p), torch_conv(X, w[:, :, :, ::-1].copy(), B, s, p),
            torch_conv(X, w, 2 * B, s, p), torch_conv(X, w, B[::-1].copy(), s, p),
            right[:, :, ::-1].copy(), right[::-1].copy()]
    if s == 1:
        near.append(torch_conv(X, w, B, s, p + 1))
    for got in near:
        assert forward(got, w, s, p) is None


def test_one_zero_of_padding_too_few_is_not_called_one_sided():
    """pad 1 on every side where pad 2 was asked has the size of pad 2 on one side: the size
    alone names neither."""
    got = torch_conv(X, W_RECT, B, 1, 1)                  # pad 1 everywhere; pad 2 was asked
    sentence = forward(got, W_RECT, 1, 2) or ""
    assert "one side only" not in sentence and "2*pad" in sentence


@pytest.mark.parametrize("w, s, p", CONFIGS, ids=IDS)
def test_backward_near_misses_of_the_scatter_are_not_claimed(w, s, p):
    """Wrong gradients that no known mistake gives: twice dx, the images or channels of dx in
    another order, db in another order, dw flipped along one axis."""
    dout, _, dx, dw_each, db = backward_case(w, s, p)
    dw = dw_each.sum(axis=0)
    for got in [(2 * dx, dw, db), (dx[::-1].copy(), dw, db), (dx[:, ::-1].copy(), dw, db),
                (dx, dw, db[::-1].copy()), (dx, dw[:, :, ::-1].copy(), db)]:
        assert backward(*got, w, s, p, dout) is None


def test_bgr_near_misses_are_not_claimed():
    image = np.random.default_rng(9).integers(0, 256, (4, 5, 3))
    for got in (image[:, :, [0, 2, 1]], image[:, :, [1, 2, 0]], image[::-1, :, ::-1],
                image.transpose(1, 0, 2)[:, :, ::-1]):
        assert bgr_to_rgb_mistake(got, image) is None


@pytest.mark.parametrize("HH, WW, s, p", [(3, 2, 1, 2), (3, 3, 2, 2)], ids=["3x2-s1-p2", "3x3-s2-p2"])
def test_im2col_one_zero_of_padding_too_few_is_not_called_missing(HH, WW, s, p):
    got = student_im2col(XI, HH, WW, s, p, pad=p - 1)
    assert "padding is missing" not in (im2col_mistake(got, XI, HH, WW, s, p) or "")


@pytest.mark.parametrize("ph, pw, s, mode", [(3, 3, 2, "max"), (3, 1, 2, "max"), (1, 3, 1, "avg"),
                                             (3, 3, 2, "avg")])
def test_pool_forward_near_misses_are_not_claimed(ph, pw, s, mode):
    x = np.random.default_rng(10).standard_normal((2, 3, 7, 9))
    pool = tnf.max_pool2d if mode == "max" else tnf.avg_pool2d
    right = pool(torch.tensor(x), (ph, pw), stride=s).numpy()
    smallest = -tnf.max_pool2d(torch.tensor(-x), (ph, pw), stride=s).numpy()
    for got in (2 * right, right[:, :, ::-1].copy(), right[::-1].copy(), np.sort(right, axis=3),
                smallest):
        assert pool_forward_mistake(got, x, {"pool_height": ph, "pool_width": pw, "stride": s},
                                    mode) is None


# ------------------------------------------------------- spatial batch normalisation (05)

def bn_x(seed, shape=(2, 3, 4, 5)):
    """x whose channels differ in mean and spread, channel 0 with a small spread (eps matters)."""
    r = np.random.default_rng(seed)
    C = shape[1]
    spread, shift = r.uniform(0.5, 3.0, size=C), r.normal(scale=3.0, size=C)
    spread[0] = 0.02
    return r.standard_normal(shape) * spread.reshape(1, C, 1, 1) + shift.reshape(1, C, 1, 1)


BN_X = bn_x(0)
BN_GAMMA, BN_BETA = np.array([1.5, 0.7, 1.2]), np.array([0.3, -1.0, 0.5])
BN_START = {"running_mean": np.array([0.5, -0.2, 1.0]), "running_var": np.array([1.5, 0.8, 2.0])}


def student_bn(x, gamma, beta, bn_param, axes=(0, 2, 3), ddof=0, root="inside", affine="right",
               stats="own"):
    """A student's forward pass, with switches for the classic mistakes.

    stats: "own" (the batch's in train mode, the running ones in test mode), "batch", "running"
    or "updated" (the running statistics updated with this batch first)."""
    eps, momentum = bn_param.get("eps", 1e-5), bn_param.get("momentum", 0.9)
    C = x.shape[1]
    rm = bn_param.get("running_mean", np.zeros(C)).reshape(1, C, 1, 1)
    rv = bn_param.get("running_var", np.ones(C)).reshape(1, C, 1, 1)
    if stats == "own":
        stats = "batch" if bn_param["mode"] == "train" else "running"
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, ddof=ddof, keepdims=True)
    if stats == "running":
        mean, var = rm, rv
    elif stats == "updated":
        M = x.shape[0] * x.shape[2] * x.shape[3]
        mean = momentum * rm + (1 - momentum) * x.mean(axis=(0, 2, 3), keepdims=True)
        var = momentum * rv + (1 - momentum) * x.var(axis=(0, 2, 3), keepdims=True) * M / (M - 1)
    scale = {"inside": np.sqrt(var + eps), "outside": np.sqrt(var) + eps, "none": np.sqrt(var),
             "variance": var + eps}[root]
    x_hat = (x - mean) / scale
    g, b = gamma.reshape(1, C, 1, 1), beta.reshape(1, C, 1, 1)
    return {"right": g * x_hat + b, "swapped": b * x_hat + g, "no_beta": g * x_hat,
            "no_gamma": x_hat + b}[affine]


def bn_forward(out, mode="train", x=BN_X, **settings):
    return batchnorm_forward_mistake(out, x, BN_GAMMA, BN_BETA, {"mode": mode, **BN_START, **settings})


@pytest.mark.parametrize("mode", ["train", "test"])
def test_bn_forward_right_answers_and_near_misses_give_none(mode):
    param = {"mode": mode, **BN_START}
    right = student_bn(BN_X, BN_GAMMA, BN_BETA, param)
    assert bn_forward(right, mode) is None
    assert bn_forward(right + 1e-12, mode) is None
    assert bn_forward(right + 0.5, mode) is None                  # wrong, but no known mistake
    assert bn_forward(right[:, :2], mode) is None                 # a wrong shape alone
    assert bn_forward(np.zeros((2, 3, 4, 5), dtype=bool), mode) is None
    assert bn_forward("not an array", mode) is None


@pytest.mark.parametrize("axes, says", [((0,), "per pixel"), ((0, 1, 2, 3), "whole batch"),
                                        ((2, 3), "instance normalisation"),
                                        ((1, 2, 3), "layer normalisation"),
                                        ((0, 2), "leave out the width"),
                                        ((0, 3), "leave out the height")])
def test_bn_forward_wrong_axes(axes, says):
    out = student_bn(BN_X, BN_GAMMA, BN_BETA, {"mode": "train"}, axes=axes)
    assert says in bn_forward(out)


def test_bn_forward_per_pixel_is_right_when_each_image_is_one_pixel():
    """H = W = 1: statistics per pixel are the statistics per channel, so nothing is claimed."""
    x = bn_x(1, (6, 3, 1, 1))
    out = student_bn(x, BN_GAMMA, BN_BETA, {"mode": "train"}, axes=(0,))
    assert bn_forward(out, x=x) is None


@pytest.mark.parametrize("switch, says", [
    (dict(ddof=1), "unbiased variance"), (dict(root="outside"), "outside the square root"),
    (dict(root="none"), "eps is missing"), (dict(root="variance"), "divided by the variance"),
    (dict(affine="swapped"), "gamma and beta are swapped"), (dict(affine="no_beta"), "beta is missing"),
    (dict(affine="no_gamma"), "gamma is missing"), (dict(stats="running"), "In train mode"),
])
def test_bn_forward_train_mode_mistakes(switch, says):
    out = student_bn(BN_X, BN_GAMMA, BN_BETA, {"mode": "train", **BN_START}, **switch)
    assert says in bn_forward(out)


@pytest.mark.parametrize("switch, says", [
    (dict(stats="batch"), "the batch's own statistics"), (dict(stats="updated"), "updated with this batch"),
    (dict(root="outside"), "outside the square root"), (dict(affine="swapped"), "gamma and beta are swapped"),
])
def test_bn_forward_test_mode_mistakes(switch, says):
    out = student_bn(BN_X, BN_GAMMA, BN_BETA, {"mode": "test", **BN_START}, **switch)
    assert says in bn_forward(out, "test")


def test_bn_forward_eps_is_not_claimed_where_it_cannot_be_seen():
    """eps = 1e-12: outside the root or missing, it changes nothing visible."""
    for root in ("outside", "none"):
        out = student_bn(BN_X, BN_GAMMA, BN_BETA, {"mode": "train", "eps": 1e-12}, root=root)
        assert bn_forward(out, eps=1e-12) is None


def test_bn_forward_test_mode_batch_statistics_not_claimed_when_they_are_the_running_ones():
    running = {"running_mean": BN_X.mean(axis=(0, 2, 3)), "running_var": BN_X.var(axis=(0, 2, 3))}
    out = student_bn(BN_X, BN_GAMMA, BN_BETA, {"mode": "test", **running}, stats="batch")
    assert batchnorm_forward_mistake(out, BN_X, BN_GAMMA, BN_BETA, {"mode": "test", **running}) is None


def test_bn_forward_swapped_gamma_beta_not_claimed_when_they_are_equal():
    gamma = beta = np.array([1.0, 2.0, 0.5])
    out = student_bn(BN_X, gamma, beta, {"mode": "train"}, affine="swapped")
    assert batchnorm_forward_mistake(out, BN_X, gamma, beta, {"mode": "train"}) is None


def student_running(batches, bn_param, rule="right", kind="unbiased", start_var=None):
    C = batches[0].shape[1]
    momentum = bn_param.get("momentum", 0.9)
    mean = np.array(bn_param.get("running_mean", np.zeros(C)), dtype=float)
    var = np.array(bn_param.get("running_var", np.ones(C) if start_var is None else start_var), dtype=float)
    for x in batches:
        M = x.shape[0] * x.shape[2] * x.shape[3]
        m, v = x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))
        v = v * M / (M - 1) if kind == "unbiased" else v
        if rule == "right":
            mean, var = momentum * mean + (1 - momentum) * m, momentum * var + (1 - momentum) * v
        elif rule == "reversed":
            mean, var = (1 - momentum) * mean + momentum * m, (1 - momentum) * var + momentum * v
        elif rule == "last":
            mean, var = m, v
    return mean, var


BATCHES = [bn_x(10 + k) + k for k in range(3)]


@pytest.mark.parametrize("start", [True, False])
def test_bn_running_right_answers_give_none(start):
    param = {"momentum": 0.8, **(BN_START if start else {})}
    mean, var = student_running(BATCHES, param)
    assert batchnorm_running_mistake(mean, "mean", BATCHES, param) is None
    assert batchnorm_running_mistake(var, "var", BATCHES, param) is None
    assert batchnorm_running_mistake(var + 0.3, "var", BATCHES, param) is None     # no known mistake
    assert batchnorm_running_mistake(None, "var", BATCHES, param) is None
    assert batchnorm_running_mistake(var, "std", BATCHES, param) is None


@pytest.mark.parametrize("rule, kind, which, says", [
    ("none", "unbiased", "mean", "did not change in train mode"),
    ("reversed", "unbiased", "mean", "the other way round"),
    ("last", "unbiased", "mean", "the last batch's mean only"),
    ("right", "biased", "var", "biased batch variance"),
    ("reversed", "unbiased", "var", "the other way round"),
])
def test_bn_running_mistakes(rule, kind, which, says):
    param = dict(BN_START)
    mean, var = student_running(BATCHES, param, rule, kind)
    assert says in batchnorm_running_mistake(mean if which == "mean" else var, which, BATCHES, param)


def test_bn_running_two_mistakes_at_once_and_a_variance_started_at_zero():
    mean, var = student_running(BATCHES, {}, "reversed", "biased")
    named = batchnorm_running_mistake(var, "var", BATCHES, {})
    assert named.startswith("Two mistakes at once.") and "other way round" in named and "biased" in named
    _, var = student_running(BATCHES, {}, start_var=np.zeros(3))
    assert "started from zeros" in batchnorm_running_mistake(var, "var", BATCHES, {})


def test_bn_running_reversed_momentum_not_claimed_at_one_half():
    """momentum 0.5 weighs old and new alike: the two conventions agree, nothing to name."""
    param = {"momentum": 0.5, **BN_START}
    mean, _ = student_running(BATCHES, param, "reversed")
    assert batchnorm_running_mistake(mean, "mean", BATCHES, param) is None


def student_bn_backward(x, gamma, dout, eps=1e-5, terms=("mean", "var"), use_gamma=True, axes=(0, 2, 3)):
    C = x.shape[1]
    mean, var = x.mean(axis=(0, 2, 3), keepdims=True), x.var(axis=(0, 2, 3), keepdims=True)
    x_hat = (x - mean) / np.sqrt(var + eps)
    dx_hat = dout * gamma.reshape(1, C, 1, 1) if use_gamma else dout
    dx = dx_hat.copy()
    if "mean" in terms:
        dx -= dx_hat.mean(axis=axes, keepdims=True)
    if "var" in terms:
        dx -= x_hat * (dx_hat * x_hat).mean(axis=axes, keepdims=True)
    return dx / np.sqrt(var + eps), (dout * x_hat).sum(axis=(0, 2, 3)), dout.sum(axis=(0, 2, 3))


DOUT_BN = np.random.default_rng(20).standard_normal(BN_X.shape)


def bn_backward(dx, dgamma, dbeta, dout=DOUT_BN):
    return batchnorm_backward_mistake(dx, dgamma, dbeta, BN_X, BN_GAMMA, BN_BETA, dout)


def test_bn_backward_right_answers_and_near_misses_give_none():
    dx, dgamma, dbeta = student_bn_backward(BN_X, BN_GAMMA, DOUT_BN)
    assert bn_backward(dx, dgamma, dbeta) is None
    assert bn_backward(dx + 1e-13, dgamma, dbeta) is None
    assert bn_backward(dx + 0.1, dgamma, dbeta) is None            # wrong, but no known mistake
    assert bn_backward(dx, dgamma, "dbeta") is None


@pytest.mark.parametrize("switch, says", [
    (dict(terms=()), "as constants"), (dict(terms=("var",)), "through the batch mean"),
    (dict(terms=("mean",)), "through the batch variance"), (dict(use_gamma=False), "forgets gamma"),
    (dict(axes=(0,)), "wrong axes"),
])
def test_bn_backward_dx_mistakes(switch, says):
    dx, dgamma, dbeta = student_bn_backward(BN_X, BN_GAMMA, DOUT_BN, **switch)
    assert says in bn_backward(dx, dgamma, dbeta)


def test_bn_backward_dgamma_and_dbeta_mistakes():
    dx, dgamma, dbeta = student_bn_backward(BN_X, BN_GAMMA, DOUT_BN)
    assert "swapped" in bn_backward(dx, dbeta, dgamma)
    assert "sum of dout" in bn_backward(dx, dbeta.copy(), dbeta)
    assert "dout * x:" in bn_backward(dx, (DOUT_BN * BN_X).sum(axis=(0, 2, 3)), dbeta)
    assert "dbeta is summed over the wrong axes" in bn_backward(dx, dgamma, DOUT_BN.sum(axis=0))
    assert "dgamma is a mean" in bn_backward(dx, dgamma / 40, dbeta)


def test_bn_backward_a_missing_variance_term_is_not_claimed_when_it_is_zero():
    """dout orthogonal to x_hat in every channel: the term through the variance is 0, so the
    answer without it is right."""
    mean, var = BN_X.mean(axis=(0, 2, 3), keepdims=True), BN_X.var(axis=(0, 2, 3), keepdims=True)
    x_hat = (BN_X - mean) / np.sqrt(var + 1e-5)
    dout = DOUT_BN - x_hat * (DOUT_BN * x_hat).sum(axis=(0, 2, 3), keepdims=True) / (x_hat ** 2).sum(
        axis=(0, 2, 3), keepdims=True)
    dx, dgamma, dbeta = student_bn_backward(BN_X, BN_GAMMA, dout, terms=("mean",))
    assert batchnorm_backward_mistake(dx, dgamma, dbeta, BN_X, BN_GAMMA, BN_BETA, dout) is None


# ------------------------------------------------------- He initialisation (05)

def student_he(shape, seed, fan=None, std=None, uniform=False):
    rng_ = np.random.default_rng(seed)
    fan = fan or (int(np.prod(shape[1:])) if len(shape) == 4 else shape[0])
    std = std if std is not None else np.sqrt(2 / fan)
    if uniform:
        bound = np.sqrt(3) * std
        return rng_.uniform(-bound, bound, size=shape)
    return std * rng_.standard_normal(shape)


@pytest.mark.parametrize("shape", [(16, 8, 3, 3), (32, 3, 5, 3), (400, 150)])
def test_he_right_answers_and_near_misses_give_none(shape):
    w = student_he(shape, 1)
    assert he_init_mistake(w, shape, 1) is None
    assert he_init_mistake(w, shape) is None
    other = np.random.default_rng(99).standard_normal(shape) * w.std()    # right spread, other draws
    assert he_init_mistake(other, shape, 1) is None and he_init_mistake(other, shape) is None
    assert he_init_mistake(w[:2], shape, 1) is None                        # a wrong shape alone
    assert he_init_mistake(w.astype(bool), shape, 1) is None


@pytest.mark.parametrize("shape, fan, says", [
    ((16, 8, 3, 3), 16 * 9, "fan_out = F * HH * WW (144)"),
    ((16, 8, 3, 3), 8, "leaves out the kernel"),
    ((16, 8, 3, 3), 9, "leaves out the channels"),
    ((16, 8, 3, 3), 16 * 8 * 9, "number of all the weights"),
    ((400, 150), 150, "instead of fan_in = D = 400"),
])
def test_he_wrong_fans(shape, fan, says):
    assert says in he_init_mistake(student_he(shape, 2, fan=fan), shape, 2)
    assert says in he_init_mistake(student_he(shape, 2, fan=fan), shape)


def test_he_wrong_spreads_and_uniform_draws():
    shape = (32, 3, 5, 3)
    fan_in, fan_out = 45, 32 * 15
    assert "without the 2" in he_init_mistake(student_he(shape, 3, std=np.sqrt(1 / fan_in)), shape, 3)
    assert "Glorot" in he_init_mistake(student_he(shape, 3, std=np.sqrt(2 / (fan_in + fan_out))), shape, 3)
    assert "variance" in he_init_mistake(student_he(shape, 3, std=2 / fan_in), shape, 3)
    assert "0.01" in he_init_mistake(student_he(shape, 3, std=0.01), shape, 3)
    assert "uniform" in he_init_mistake(student_he(shape, 3, uniform=True), shape)
    assert "transposed" in he_init_mistake(student_he((150, 400), 3, fan=400), (400, 150), 3)


def test_he_fan_out_is_not_claimed_when_it_equals_fan_in():
    """F = C: fan_out = fan_in, so the spread from fan_out is right."""
    shape = (16, 16, 3, 3)
    w = student_he(shape, 4, fan=16 * 9)
    assert he_init_mistake(w, shape, 4) is None


def test_he_small_arrays_are_not_judged_by_their_spread():
    assert he_init_mistake(student_he((4, 10), 5, fan=10), (4, 10)) is None
    assert "fan_in = D = 4" in he_init_mistake(student_he((4, 10), 5, fan=10), (4, 10), 5)


# ------------------------------------------------------- torch_use

_A_TENSOR = torch.zeros(3)


def _numpy_only(x):
    return np.mean(x, axis=(0, 2, 3))


def _through_torch(x):
    return torch.from_numpy(x).mean().item()


def _through_a_name(x):
    return _bn_function(x, None, None)      # from torch.nn.functional import batch_norm as ...


def _through_a_helper(x):
    return _through_torch(x)


def _with_an_attribute_named_like_a_tensor(x):
    return x._A_TENSOR if hasattr(x, "_A_TENSOR") else x


def test_torch_use():
    assert torch_use(_numpy_only) is None
    assert torch_use(_with_an_attribute_named_like_a_tensor) is None   # a tensor is not a way out
    assert "the module torch (as torch (used by _through_torch))" in torch_use(_through_torch)
    assert "torch.nn.functional.batch_norm (as _bn_function" in torch_use(_through_a_name)
    assert "the module torch" in torch_use(_through_a_helper)


def test_a_wrong_dx_with_a_one_by_one_kernel_can_be_diagnosed():
    """w[:, :, ::-1, ::-1] of a 1x1 kernel keeps negative strides NumPy calls contiguous;
    the diagnosis copies it for torch."""
    x, w, b = X[:1, :2, :3, :5], rng.standard_normal((3, 2, 1, 1)), B[:3]
    dout = np.random.default_rng(11).standard_normal((1, 3, 3, 5))
    _, dw = student_backward(x, w, 1, 0, dout)            # dw right, dx all zeros: unknown
    assert conv_backward_mistake(np.zeros((1, 2, 3, 5)), dw, dout.sum(axis=(0, 2, 3)), x, w, b,
                                 {"stride": 1, "pad": 0}, dout) is None
