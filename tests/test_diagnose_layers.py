import math

import numpy as np
import pytest
import torch
import torch.nn.functional as tnf

from course.checks import CheckFailed, check_array
from course.diagnose_layers import (conv_backward_mistake, conv_forward_mistake,
                                    max_pool_backward_mistake, pool_forward_mistake)

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
                 plus_one=True):
    """A naive loop forward pass with switches for the classic mistakes.

    pads: (top, bottom, left, right) zeros, default (p, p, p, p)
    bias: "right", "none", "per_channel", "image" (b[n]) or "broadcast" (out += b at the end)
    read: "rows" (right) or "cols" (x read as x[n, c, col, row])
    """
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
                    total += x_pad[n, c, i * s + a, j * s + bb] * kernel[f, c, a, bb]
                else:
                    total += x_pad[n, c, i * s + bb, j * s + a] * kernel[f, c, a, bb]
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
