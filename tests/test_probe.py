"""Locating a bug by probing nearby cases (course.probe), on seed 002's published forward
pass and on bugs that depend on one property of the case; the nearby answers judged as data
(as the hidden tests' judge does), the backward pass and pooling."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from autograder.tests.seeds import seed_002_forward
from course.probe import (WHERE_BACKWARD, WHERE_POOL, answers_on, locate, nearby_conv_backward_cases,
                          nearby_conv_cases, nearby_pool_cases, probe_conv_backward,
                          probe_conv_forward, probe_pool_forward, where_the_bug_is)


def reference(x, w, b, conv_param):
    return F.conv2d(torch.from_numpy(x), torch.from_numpy(w), torch.from_numpy(b),
                    stride=conv_param["stride"], padding=conv_param["pad"]).numpy()


def right(x, w, b, conv_param):
    return reference(x, w, b, conv_param), (x, w, b, conv_param)


def case(N=2, C=3, H=5, W=7, F_=2, HH=2, WW=3, stride=1, pad=1, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(N, C, H, W)), rng.normal(size=(F_, C, HH, WW)), rng.normal(size=F_),
            {"stride": stride, "pad": pad})


def test_seed_002_is_located_at_the_kernels_height_and_width():
    message = probe_conv_forward(seed_002_forward(), reference, *case())
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


def test_recorded_answers_are_judged_as_data_elsewhere():
    """The answers on the nearby cases are plain data: recorded in one place (the grading
    kernel), judged in another against references computed there."""
    x, w, b, conv_param = case()
    cases = nearby_conv_cases(x, w, b, conv_param)
    forward = seed_002_forward()
    answers = answers_on(lambda *args: forward(*[a.copy() if hasattr(a, "copy") else a
                                                 for a in args])[0], cases)
    assert answers["square kernel"] is not None and answers["one image"] is None  # it raised
    rebuilt = nearby_conv_cases(x.copy(), w.copy(), b.copy(), dict(conv_param))
    assert all(np.array_equal(a, b_) for label in cases for a, b_ in
               zip(cases[label][:3], rebuilt[label][:3]))
    assert locate(answers, rebuilt, reference) == probe_conv_forward(forward, reference, *case())
    assert locate({}, rebuilt, reference) is None


def test_several_simpler_cases_are_named_together_and_unknown_labels_ignored():
    sentence = where_the_bug_is(["one image", "one filter", "not a label"])
    assert sentence.startswith("Your function is right on simpler cases of this one: when "
                               "there is one image, or when there is one filter.")
    assert where_the_bug_is([]) is None and where_the_bug_is(["square window"]) is None


def backward_reference(x, w, b, conv_param, dout):
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    F.conv2d(tx, tw, tb, stride=conv_param["stride"], padding=conv_param["pad"]).backward(
        torch.from_numpy(dout))
    return tx.grad.numpy(), tw.grad.numpy(), tb.grad.numpy()


def backward_case(**args):
    x, w, b, conv_param = case(**args)
    dout = np.random.default_rng(1).normal(size=reference(x, w, b, conv_param).shape)
    return x, w, b, conv_param, dout


def test_a_backward_pass_wrong_for_several_filters_is_located():
    def first_filter_only(dout, cache):
        x, w, b, conv_param = cache
        dx, dw, db = backward_reference(x, w, b, conv_param, dout)
        dx1 = backward_reference(x, w[:1].repeat(w.shape[0], axis=0), b, conv_param, dout)[0]
        return dx1, dw, db
    message = probe_conv_backward(first_filter_only, backward_reference, *backward_case())
    assert message == ("Your function is right when there is one filter, and wrong on this "
                       "case: " + WHERE_BACKWARD["one filter"][1])


def test_nearby_backward_cases_have_a_dout_of_their_output_shape():
    x, w, b, conv_param, dout = backward_case(stride=2, H=7, W=9, HH=3, WW=1, pad=1)
    for label, (x2, w2, b2, param, d) in nearby_conv_backward_cases(x, w, b, conv_param,
                                                                   dout).items():
        assert d.shape == reference(x2, w2, b2, param).shape, label
    again = nearby_conv_backward_cases(x, w, b, conv_param, dout)
    assert np.array_equal(again["square kernel"][4], nearby_conv_backward_cases(
        x, w, b, conv_param, dout)["square kernel"][4])


def pool_reference(x, pool_param):
    return F.max_pool2d(torch.from_numpy(x), (pool_param["pool_height"], pool_param["pool_width"]),
                        stride=pool_param["stride"]).numpy()


def test_a_pooling_bug_with_non_square_windows_only_is_located():
    def height_twice(x, pool_param):
        square = dict(pool_param, pool_width=pool_param["pool_height"])
        out = pool_reference(x, square)
        H_out = (x.shape[2] - pool_param["pool_height"]) // pool_param["stride"] + 1
        W_out = (x.shape[3] - pool_param["pool_width"]) // pool_param["stride"] + 1
        return out[:, :, :H_out, :W_out], None
    x = np.random.default_rng(2).normal(size=(2, 3, 6, 9))
    pool_param = {"pool_height": 2, "pool_width": 3, "stride": 1}
    message = probe_pool_forward(height_twice, pool_reference, x, pool_param)
    assert message == ("Your function is right when the window is square, and wrong on this "
                       "case: " + WHERE_POOL["square window"][1])
    assert probe_pool_forward(lambda x, p: (pool_reference(x, p), None), pool_reference, x,
                              pool_param) is None


@pytest.mark.parametrize("shape, ph, pw, s", [((2, 3, 6, 9), 2, 3, 1), ((1, 2, 7, 5), 3, 1, 2),
                                              ((3, 1, 5, 5), 2, 2, 3)])
def test_every_nearby_pooling_case_tiles(shape, ph, pw, s):
    x = np.zeros(shape)
    for label, (x2, p) in nearby_pool_cases(x, {"pool_height": ph, "pool_width": pw,
                                                "stride": s}).items():
        for size, k in ((x2.shape[2], p["pool_height"]), (x2.shape[3], p["pool_width"])):
            assert size >= k and (size - k) % p["stride"] == 0, label
