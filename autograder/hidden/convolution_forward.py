"""Hidden tests of 02-convolution-forward, judged outside the kernel (autograder.hidden.spec):
every function against torch over a grid of strides 1-3, pads 0-2, square and rectangular
kernels, 1-3 channels, filters and images, non-square inputs (autograder/cases/
convolution_forward.py lists the cases). The forward passes' records also hold the answers on
nearby cases, so that the judge can say which property a bug depends on when no known mistake
fits (autograder.hidden.probing)."""
import numpy as np

from course.checks import check_array, check_equal
from course.probe import WHERE, nearby_conv_cases

from autograder.hidden.probing import (conv_forward_reference, first_of, mistake_or_where,
                                       probed_check)
from autograder.hidden.spec import Check, first_of_pair, lazy, runner, unpack_pair

ASSIGNMENT = "02-convolution-forward"
conv_forward_mistake = lazy("course.diagnose_layers", "conv_forward_mistake")
layout_mistake = lazy("course.diagnose_layers", "layout_mistake")
bgr_to_rgb_mistake = lazy("course.diagnose_layers", "bgr_to_rgb_mistake")
im2col_mistake = lazy("course.diagnose_layers", "im2col_mistake")


def _channels_last(x):
    return np.ascontiguousarray(x.transpose(0, 2, 3, 1))


def _stride_pad(case):
    stride, pad = (int(v) for v in case["stride_pad"])
    return {"stride": stride, "pad": pad}


def _judge_conv_forward(got, case, ref, what, located=lambda: None):
    check_array(unpack_pair(got, what), ref["out"], what, reveal=False,
                diagnose=lambda out: mistake_or_where(
                    lambda: conv_forward_mistake(out, case["x"], case["w"], case["b"],
                                                 _stride_pad(case)), located),
                hint="Compare your output with F.conv2d on this shape, stride and padding.")


def _im2col_args(case):
    return tuple(int(v) for v in case["args"])


def _judge_im2col(got, case, ref, what):
    check_equal(getattr(got, "shape", None), ref["cols"].shape, f"{what}.shape",
                hint="(N * H_out * W_out, C * HH * WW)")
    check_array(got, ref["cols"], what, reveal=False,
                diagnose=lambda cols: im2col_mistake(cols, case["x"], *_im2col_args(case)),
                hint="Rows in (n, i, j) order; each row in the (c, k, l) order of w[f].ravel().")


def _nearby(case):
    return nearby_conv_cases(case["x"], case["w"], case["b"], _stride_pad(case))


CONV_FORWARD = probed_check(
    exercise="conv_forward", prefix="conv", forbid_library=True,
    call=lambda fn, c: first_of_pair(fn(c["x"].copy(), c["w"].copy(), c["b"].copy(),
                                        _stride_pad(c))),
    what=lambda c: "(x {}, w {}, stride {}, pad {})".format(
        c["x"].shape, c["w"].shape, *(int(v) for v in c["stride_pad"])),
    judge=_judge_conv_forward,
    nearby=_nearby,
    answer_on=lambda fn, args: first_of(fn(args[0].copy(), args[1].copy(), args[2].copy(),
                                           dict(args[3]))),
    reference=conv_forward_reference, where=WHERE)

CHECKS = {
    "check_layout": (
        Check(exercise="to_channels_last", prefix="layout",
              call=lambda fn, c: fn(c["nchw"].copy()),
              what=lambda c: f"(x of shape {c['nchw'].shape})",
              judge=lambda got, c, ref, what: check_array(
                  got, ref["nhwc"], what, reveal=False,
                  diagnose=lambda out: layout_mistake(out, c["nchw"], "last"),
                  hint="The channel axis goes last; the other axes keep their order.")),
        Check(exercise="to_channels_first", prefix="layout",
              call=lambda fn, c: fn(_channels_last(c["nchw"])),
              what=lambda c: f"(x of shape {_channels_last(c['nchw']).shape})",
              judge=lambda got, c, ref, what: check_array(
                  got, c["nchw"], what, reveal=False,
                  diagnose=lambda out: layout_mistake(out, _channels_last(c["nchw"]), "first"),
                  hint="The inverse of to_channels_last: the last axis becomes axis 1.")),
        Check(exercise="bgr_to_rgb", prefix="bgr",
              call=lambda fn, c: fn(c["bgr"].copy()),
              what=lambda c: f"(image of shape {c['bgr'].shape})",
              judge=lambda got, c, ref, what: check_array(
                  got, ref["rgb"], what, reveal=False,
                  diagnose=lambda out: bgr_to_rgb_mistake(out, c["bgr"]),
                  hint="Reverse the order of the channels (the last axis) only.")),
    ),
    "check_conv_forward": CONV_FORWARD,
    "check_im2col": Check(
        exercise="im2col", prefix="im2col", forbid_library=True,
        call=lambda fn, c: fn(c["x"].copy(), *_im2col_args(c)),
        what=lambda c: "(x {}, {}, {}, stride={}, pad={})".format(c["x"].shape, *_im2col_args(c)),
        judge=_judge_im2col),
}

check_layout = runner(ASSIGNMENT, CHECKS, "check_layout")
check_conv_forward = runner(ASSIGNMENT, CHECKS, "check_conv_forward")
check_im2col = runner(ASSIGNMENT, CHECKS, "check_im2col")
