"""Hidden tests of 02-convolution-forward: every function against torch over a grid of
strides 1-3, pads 0-2, square and rectangular kernels, 1-3 channels, filters and images,
non-square inputs (autograder/make_references.py lists the cases)."""
from course.checks import CheckFailed, call_student, check_array, check_equal
from course.diagnose_layers import conv_forward_mistake

from autograder.hidden import cases, load_references
from autograder.hidden.tripwire import library_convolutions_forbidden

ASSIGNMENT = "02-convolution-forward"


def check_layout(to_channels_last, to_channels_first, bgr_to_rgb):
    refs = load_references(ASSIGNMENT)
    for case in cases(refs, "layout"):
        nchw, nhwc = case["nchw"], case["nhwc"]
        what = f"hidden test: to_channels_last(x of shape {nchw.shape})"
        check_array(call_student(to_channels_last, nchw.copy(), what=what), nhwc, what, reveal=False,
                    hint="x.transpose(0, 2, 3, 1): the channel axis goes last, the others keep their order.")
        what = f"hidden test: to_channels_first(x of shape {nhwc.shape})"
        check_array(call_student(to_channels_first, nhwc.copy(), what=what), nchw, what, reveal=False,
                    hint="x.transpose(0, 3, 1, 2)")
    for case in cases(refs, "bgr"):
        what = f"hidden test: bgr_to_rgb(image of shape {case['bgr'].shape})"
        check_array(call_student(bgr_to_rgb, case["bgr"].copy(), what=what), case["rgb"], what,
                    reveal=False, hint="Reverse the last axis only: image[:, :, ::-1].")


def _unpack(result, what):
    if not isinstance(result, tuple) or len(result) != 2:
        raise CheckFailed(f"{what}: returned {type(result).__name__}; it should return a pair "
                          "(out, cache).")
    return result[0]


def check_conv_forward(conv_forward):
    """conv_forward(x, w, b, conv_param) -> (out, cache), on every reference case."""
    name = getattr(conv_forward, "__name__", "conv_forward")
    for case in cases(load_references(ASSIGNMENT), "conv"):
        x, w, b = case["x"], case["w"], case["b"]
        stride, pad = (int(v) for v in case["stride_pad"])
        conv_param = {"stride": stride, "pad": pad}
        what = (f"hidden test: {name}(x {x.shape}, w {w.shape}, stride {stride}, pad {pad})")
        with library_convolutions_forbidden(name, conv_forward):
            result = call_student(conv_forward, x.copy(), w.copy(), b.copy(), dict(conv_param), what=what)
        check_array(_unpack(result, what), case["out"], what, reveal=False,
                    diagnose=lambda got: conv_forward_mistake(got, x, w, b, conv_param),
                    hint="Compare your output with F.conv2d on this shape, stride and padding.")


def check_im2col(im2col):
    for case in cases(load_references(ASSIGNMENT), "im2col"):
        x = case["x"]
        HH, WW, stride, pad = (int(v) for v in case["args"])
        what = f"hidden test: im2col(x {x.shape}, {HH}, {WW}, stride={stride}, pad={pad})"
        with library_convolutions_forbidden("im2col", im2col):
            cols = call_student(im2col, x.copy(), HH, WW, stride, pad, what=what)
        check_equal(getattr(cols, "shape", None), case["cols"].shape, f"{what}.shape",
                    hint="(N * H_out * W_out, C * HH * WW)")
        check_array(cols, case["cols"], what, reveal=False,
                    hint="Rows in (n, i, j) order; each row in the (c, k, l) order of w[f].ravel().")
