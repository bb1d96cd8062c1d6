"""Hidden tests of 01-convolution-basics, judged outside the kernel (autograder.hidden.spec).

Each check calls the student's function on the inputs of its cases; the verdict compares
with reference outputs from independent oracles (autograder/cases/convolution_basics.py).
"""
from course.checks import CheckFailed, check_array, check_close, check_equal

from autograder.hidden.spec import Check, expect_raised, lazy, runner

ASSIGNMENT = "01-convolution-basics"
SLIDING_HINT = ("Test your function on a non-square image with a non-square kernel, and "
                "compare with a result you work out by hand.")


def _ints(values):
    return tuple(int(v) for v in values)


def _conv_params_args(case):
    filters, kh, kw, channels = _ints(case["args"])
    return filters, ((kh, kw) if bool(case["kernel_is_tuple"]) else kh), channels


def _mistake(name):
    """course.diagnose's `name`, imported only when it is needed (it loads scipy.signal)."""
    return lazy("course.diagnose", name)


def _sliding(name, prefix, mistake):
    return Check(
        exercise=name, prefix=prefix, forbid_library=True,
        call=lambda fn, c: fn(c["image"].copy(), c["kernel"].copy()),
        what=lambda c: f"(image of shape {c['image'].shape}, kernel of shape {c['kernel'].shape})",
        judge=lambda got, c, ref, what: check_array(
            got, ref["expected"], what, reveal=False, hint=SLIDING_HINT,
            diagnose=lambda actual: mistake(actual, c["image"], c["kernel"])))


def _int_or_value_error(error_hint, value_hint):
    """Judge an int answer; a reference of -1 means the function must raise ValueError."""
    def judge(got, case, ref, what):
        expected = int(ref["expected"])
        if expected < 0:
            expect_raised(got, "ValueError", what, hint=error_hint)
        else:
            check_equal(got, expected, what, reveal=False, hint=value_hint)
    return judge


def _judge_same_pair(got, case, ref, what):
    f, dilation = _ints(case["args"])
    expected = _ints(ref["expected"])
    if type(got) is not tuple or len(got) != 2:
        raise CheckFailed(f"{what}: returned {got!r}; it should return a tuple "
                          "(pad_before, pad_after) of two ints.")
    hint = "Together the two sides hold F_eff - 1 zeros, F_eff = dilation * (f - 1) + 1."
    if type(got[0]) is int and type(got[1]) is int:
        if sum(got) == sum(expected) and got[::-1] == expected:
            hint = "When the zeros cannot be split evenly, PyTorch puts the extra one after."
        elif sum(got) == f - 1 and dilation > 1:
            hint = "The dilated kernel spans F_eff = dilation * (f - 1) + 1 pixels, not f."
    check_equal(got, expected, what, reveal=False, hint=hint)


def _must_raise(case, ref):
    return int(ref["expected"]) < 0


CHECKS = {
    "check_dense_params": Check(
        exercise="dense_params", prefix="dense_params",
        call=lambda fn, c: fn(_ints(c["input_shape"]), int(c["units"])),
        what=lambda c: f"({_ints(c['input_shape'])}, {int(c['units'])})",
        judge=lambda got, c, ref, what: check_equal(
            got, int(ref["expected"]), what, reveal=False,
            hint="Every input value connects to every unit, and each unit has one bias.")),
    "check_conv_params": Check(
        exercise="conv_params", prefix="conv_params",
        call=lambda fn, c: fn(*_conv_params_args(c)),
        what=lambda c: "({}, {}, {})".format(*_conv_params_args(c)),
        judge=lambda got, c, ref, what: check_equal(
            got, int(ref["expected"]), what, reveal=False,
            hint=_mistake("conv_params_mistake")(got, *_conv_params_args(c)) or
            "Each filter has KH x KW x C weights and one bias; a kernel size given as a "
            "(height, width) pair is not square.")),
    "check_correlate2d_valid": _sliding("correlate2d_valid", "correlate",
                                        _mistake("correlation_mistake")),
    "check_convolve2d_valid": _sliding("convolve2d_valid", "convolve",
                                       _mistake("convolution_mistake")),
    "check_cosine_similarity": Check(
        exercise="cosine_similarity", prefix="cosine",
        call=lambda fn, c: fn(c["a"].copy(), c["b"].copy()),
        what=lambda c: f" of two arrays of shape {c['a'].shape}",
        judge=lambda got, c, ref, what: check_close(
            got, float(ref["expected"]), what, reveal=False,
            hint="Flatten both arrays, then a·b / (|a| |b|).")),
    "check_match_template": Check(
        exercise="match_template", prefix="match", forbid_library=True,
        call=lambda fn, c: fn(c["image"].copy(), c["template"].copy()),
        what=lambda c: (f"(image of shape {c['image'].shape}, "
                        f"template of shape {c['template'].shape})"),
        judge=lambda got, c, ref, what: check_array(
            got, ref["expected"], what, reveal=False,
            diagnose=lambda actual: _mistake("match_template_mistake")(actual, c["image"],
                                                                      c["template"]),
            hint="One cosine similarity per window position, in the layout of a 'valid' "
                 "correlation; the values lie between -1 and 1.")),
    "check_pad_image": Check(
        exercise="pad_image", prefix="pad", forbid_library=True,
        call=lambda fn, c: fn(c["image"].copy(), int(c["pad"])),
        what=lambda c: f"(image of shape {c['image'].shape}, {int(c['pad'])})",
        judge=lambda got, c, ref, what: check_array(
            got, ref["expected"], what, reveal=False,
            diagnose=lambda actual: _mistake("pad_image_mistake")(actual, c["image"],
                                                                 int(c["pad"])),
            hint="pad zeros go on every side: top, bottom, left and right.")),
    "check_conv_output_size": Check(
        exercise="conv_output_size", prefix="output_size",
        call=lambda fn, c: fn(*_ints(c["args"])),
        what=lambda c: "({}, {}, {}, {})".format(*_ints(c["args"])),
        judge=_int_or_value_error(
            "When (n - f + 2*pad) is negative or not a multiple of stride, the windows do not "
            "tile the input: raise ValueError and say why.",
            "(n - f + 2*pad) // stride + 1, once you know the division is exact."),
        expects_error=_must_raise),
    "check_same_padding": Check(
        exercise="same_padding", prefix="same_padding",
        call=lambda fn, c: fn(int(c["f"])),
        what=lambda c: f"({int(c['f'])})",
        judge=_int_or_value_error(
            "An even kernel has no centre: 'same' output would need more padding on one side "
            "than the other.", "(f - 1) // 2 for odd f."),
        expects_error=_must_raise),
    "check_same_padding_pair": Check(
        exercise="same_padding_pair", prefix="same_pair",
        call=lambda fn, c: fn(*_ints(c["args"])),
        what=lambda c: "({}, dilation={})".format(*_ints(c["args"])),
        judge=_judge_same_pair),
}


check_dense_params = runner(ASSIGNMENT, CHECKS, "check_dense_params")
check_conv_params = runner(ASSIGNMENT, CHECKS, "check_conv_params")
check_correlate2d_valid = runner(ASSIGNMENT, CHECKS, "check_correlate2d_valid")
check_convolve2d_valid = runner(ASSIGNMENT, CHECKS, "check_convolve2d_valid")
check_cosine_similarity = runner(ASSIGNMENT, CHECKS, "check_cosine_similarity")
check_match_template = runner(ASSIGNMENT, CHECKS, "check_match_template")
check_pad_image = runner(ASSIGNMENT, CHECKS, "check_pad_image")
check_conv_output_size = runner(ASSIGNMENT, CHECKS, "check_conv_output_size")
check_same_padding = runner(ASSIGNMENT, CHECKS, "check_same_padding")
check_same_padding_pair = runner(ASSIGNMENT, CHECKS, "check_same_padding_pair")
