"""Hidden tests of 01-convolution-basics."""
from course.checks import call_student, check_array, check_close, check_equal, check_raises
from course.diagnose import convolution_mistake, correlation_mistake

from autograder.hidden import cases, load_references
from autograder.hidden.tripwire import library_convolutions_forbidden

ASSIGNMENT = "01-convolution-basics"


def _refs():
    return load_references(ASSIGNMENT)


def check_dense_params(dense_params):
    for case in cases(_refs(), "dense_params"):
        shape, units = tuple(int(v) for v in case["input_shape"]), int(case["units"])
        what = f"hidden test: dense_params({shape}, {units})"
        check_equal(call_student(dense_params, shape, units, what=what), int(case["expected"]), what, reveal=False,
                    hint="Every input value connects to every unit, and each unit has one bias.")


def check_conv_params(conv_params):
    for case in cases(_refs(), "conv_params"):
        filters, kh, kw, channels = (int(v) for v in case["args"])
        kernel = (kh, kw) if bool(case["kernel_is_tuple"]) else kh
        what = f"hidden test: conv_params({filters}, {kernel}, {channels})"
        check_equal(call_student(conv_params, filters, kernel, channels, what=what), int(case["expected"]),
                    what, reveal=False,
                    hint="Each filter has KH x KW x C weights and one bias; a kernel size given as "
                         "a (height, width) pair is not square.")


def _check_sliding(fn, prefix, name, mistake):
    for case in cases(_refs(), prefix):
        image, kernel = case["image"], case["kernel"]
        what = f"hidden test: {name}(image of shape {image.shape}, kernel of shape {kernel.shape})"
        with library_convolutions_forbidden(name):
            got = call_student(fn, image.copy(), kernel.copy(), what=what)
        check_array(got, case["expected"], what, reveal=False,
                    diagnose=lambda actual: mistake(actual, image, kernel),
                    hint="Test your function on a non-square image with a non-square kernel, "
                         "and compare with a result you work out by hand.")


def check_correlate2d_valid(correlate2d_valid):
    _check_sliding(correlate2d_valid, "correlate", "correlate2d_valid", correlation_mistake)


def check_convolve2d_valid(convolve2d_valid):
    _check_sliding(convolve2d_valid, "convolve", "convolve2d_valid", convolution_mistake)


def check_cosine_similarity(cosine_similarity):
    for case in cases(_refs(), "cosine"):
        what = f"hidden test: cosine_similarity of two arrays of shape {case['a'].shape}"
        got = call_student(cosine_similarity, case["a"].copy(), case["b"].copy(), what=what)
        check_close(got, float(case["expected"]), what, reveal=False,
                    hint="Flatten both arrays, then a·b / (|a| |b|).")


def check_match_template(match_template):
    for case in cases(_refs(), "match"):
        image, template = case["image"], case["template"]
        what = (f"hidden test: match_template(image of shape {image.shape}, "
                f"template of shape {template.shape})")
        with library_convolutions_forbidden("match_template"):
            got = call_student(match_template, image.copy(), template.copy(), what=what)
        check_array(got, case["expected"], what, reveal=False,
                    hint="One cosine similarity per window position, in the layout of a 'valid' "
                         "correlation; the values lie between -1 and 1.")


def check_pad_image(pad_image):
    for case in cases(_refs(), "pad"):
        image, pad = case["image"], int(case["pad"])
        what = f"hidden test: pad_image(image of shape {image.shape}, {pad})"
        with library_convolutions_forbidden("pad_image"):
            padded = call_student(pad_image, image.copy(), pad, what=what)
        check_array(padded, case["expected"], what, reveal=False,
                    hint="pad zeros go on every side: top, bottom, left and right.")


def check_conv_output_size(conv_output_size):
    for n, f, pad, stride, expected in (tuple(int(v) for v in row) for row in _refs()["output_size/cases"]):
        what = f"hidden test: conv_output_size({n}, {f}, {pad}, {stride})"
        if expected < 0:
            check_raises(lambda: conv_output_size(n, f, pad, stride), ValueError, what,
                         hint="When (n - f + 2*pad) is negative or not a multiple of stride, the "
                              "windows do not tile the input: raise ValueError and say why.")
        else:
            check_equal(call_student(conv_output_size, n, f, pad, stride, what=what), expected, what, reveal=False,
                        hint="(n - f + 2*pad) // stride + 1, once you know the division is exact.")


def check_same_padding(same_padding):
    for f, expected in (tuple(int(v) for v in row) for row in _refs()["same_padding/cases"]):
        what = f"hidden test: same_padding({f})"
        if expected < 0:
            check_raises(lambda: same_padding(f), ValueError, what,
                         hint="An even kernel has no centre: 'same' output would need more "
                              "padding on one side than the other.")
        else:
            check_equal(call_student(same_padding, f, what=what), expected, what, reveal=False,
                        hint="(f - 1) // 2 for odd f.")
