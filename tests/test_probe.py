"""Locating a bug by probing nearby cases (course.probe), on seed 002's published forward
pass and on bugs that depend on one property of the case."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course.probe import nearby_conv_cases, probe_conv_forward


def reference(x, w, b, conv_param):
    return F.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b),
                    stride=conv_param["stride"], padding=conv_param["pad"]).numpy()


def right(x, w, b, conv_param):
    return reference(x, w, b, conv_param), (x, w, b, conv_param)


def seed_002_forward(x, w, b, conv_param):
    """The blog's forward pass (it also forgets the bias): kernel height and width swapped."""
    N, C, H, W = x.shape
    F_, _, HH, WW = w.shape
    padding, stride = conv_param.get("pad", 0), conv_param.get("stride", 1)
    width_out, height_out = int((H + 2 * padding - HH) / stride + 1), int((W + 2 * padding - WW) / stride + 1)
    receptive_field = int(HH * WW)
    w_out = w.reshape(int(F_), int(C) * receptive_field)
    x_pad = np.pad(x, ((0,), (0,), (padding,), (padding,)), mode="constant", constant_values=0)
    train = np.zeros((N, receptive_field * C, width_out * height_out))
    for i in range(N):
        train[i] = np.lib.stride_tricks.sliding_window_view(x_pad[i], (C, WW, HH))[
            :, ::stride, ::stride].reshape(-1, receptive_field * C).T
    out = (w_out @ train).reshape(N, F_, width_out, height_out) + b.reshape(1, -1, 1, 1)
    return out, (x, w, b, conv_param)


def case(N=2, C=3, H=5, W=7, F_=2, HH=2, WW=3, stride=1, pad=1, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(N, C, H, W)), rng.normal(size=(F_, C, HH, WW)), rng.normal(size=F_),
            {"stride": stride, "pad": pad})


def test_seed_002_is_located_at_the_kernels_height_and_width():
    message = probe_conv_forward(seed_002_forward, reference, *case())
    assert "right when the kernel is square" in message and "HH and WW" in message


def test_a_bug_with_padding_only_is_located_at_the_padding():
    def pads_one_side(x, w, b, conv_param):
        p = conv_param["pad"]
        x_pad = np.pad(x, ((0, 0), (0, 0), (2 * p, 0), (2 * p, 0)))  # all the zeros on one side
        return reference(x_pad, w, b, {"stride": conv_param["stride"], "pad": 0}), None
    message = probe_conv_forward(pads_one_side, reference, *case(HH=3, WW=3, H=5, W=7))
    assert message is not None and "there is no padding" in message


def test_a_bug_with_the_stride_only_is_located_at_the_stride():
    def stride_in_output_size_only(x, w, b, conv_param):
        """Windows at every position (stride 1), cut to the output size of the stride."""
        s, p = conv_param["stride"], conv_param["pad"]
        out = reference(x, w, b, {"stride": 1, "pad": p})
        H_out = (x.shape[2] + 2 * p - w.shape[2]) // s + 1
        W_out = (x.shape[3] + 2 * p - w.shape[3]) // s + 1
        return out[:, :, :H_out, :W_out], None
    message = probe_conv_forward(stride_in_output_size_only, reference,
                                 *case(H=7, W=9, HH=3, WW=3, stride=2, pad=1))
    assert message is not None and "the stride is 1" in message


def test_a_right_function_and_garbage_give_no_probe_hint():
    assert probe_conv_forward(right, reference, *case()) is None
    assert probe_conv_forward(lambda *a: (np.zeros(3), None), reference, *case()) is None


@pytest.mark.parametrize("args", [dict(), dict(stride=2, H=7, W=9, HH=3, WW=1), dict(pad=2, HH=5, WW=2)])
def test_every_nearby_case_is_a_valid_convolution(args):
    for label, (x, w, b, conv_param) in nearby_conv_cases(*case(**args)).items():
        s, p = conv_param["stride"], conv_param["pad"]
        for size, k in ((x.shape[2], w.shape[2]), (x.shape[3], w.shape[3])):
            assert size + 2 * p >= k and (size + 2 * p - k) % s == 0, label
        assert reference(x, w, b, conv_param).size > 0
