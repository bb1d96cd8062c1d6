"""Hidden test of 08-playground, judged outside the kernel: the predicted output shape of one
convolution (recorded as plain data), checked against the shape torch's conv2d really gives for
that layer (computed by the judge; no reference file).
Known mistakes (dilation ignored, rounding up, padding on one side only, no + 1, height and
width swapped) are named without revealing the answer."""
import torch
import torch.nn.functional as tnf

from course.checks import CheckFailed, check_equal

from autograder.hidden.spec import Check, runner

ASSIGNMENT = "08-playground"

# the layer the notebook's question states (keep the two in step)
QUESTION = {"height": 12, "width": 9, "kernel": 3, "stride": 2, "pad": 1, "dilation": 2}


def conv_shape(height, width, kernel, stride, pad, dilation):
    """(H_out, W_out) of torch's conv2d for one input of height x width."""
    x = torch.zeros(1, 1, height, width)
    w = torch.zeros(1, 1, kernel, kernel)
    out = tnf.conv2d(x, w, stride=stride, padding=pad, dilation=dilation)
    return tuple(int(v) for v in out.shape[-2:])


def _named_mistake(guess, q):
    truth = conv_shape(**q)
    s = q["stride"]
    variants = [
        (conv_shape(**{**q, "dilation": 1}),
         "This is the size without dilation: with dilation D a kernel of F taps spans "
         "D·(F - 1) + 1 cells."),
        (conv_shape(**{**q, "height": q["height"] + s - 1, "width": q["width"] + s - 1}),
         "This is the size rounded up: when (size - F_eff + 2P)/S is not whole, a window that "
         "would hang past the edge is not computed, so round down."),
        (conv_shape(**{**q, "height": q["height"] - q["pad"], "width": q["width"] - q["pad"]}),
         "Padding adds P zeros on both sides: the formula has 2P."),
        (conv_shape(**{**q, "pad": 0}), "This is the size without padding."),
        (tuple(v - 1 for v in truth), "Count the first window position too: the formula ends in + 1."),
        (truth[::-1], "Height comes first, then width."),
    ]
    for answer, hint in variants:
        if answer == guess and answer != truth:
            return hint
    return None


def _question_what(case=None):
    q = QUESTION
    return (f" for an input of height {q['height']} and width {q['width']}, a "
            f"{q['kernel']}x{q['kernel']} kernel, stride {q['stride']}, padding {q['pad']}, "
            f"dilation {q['dilation']}")


def _judge_shape(got, case, ref, what):
    """The recorded answer must be a pair of two ints (height, width), the shape torch gives."""
    values = tuple(got) if type(got) in (tuple, list) else ()
    if len(values) != 2 or not all(type(v) is int for v in values):
        raise CheckFailed(f"{what}: expected a pair of two ints (height, width), got "
                          f"{got!r}.")
    check_equal(values, conv_shape(**QUESTION), what, reveal=False,
                hint=_named_mistake(values, QUESTION) or
                "Work each axis on its own: F_eff = D·(F - 1) + 1, then (size - F_eff + 2P)/S + 1, "
                "rounded down.")


CHECKS = {
    # the test is called with the student's answer itself (a pair), not with a function
    "check_predicted_output_shape": Check(
        exercise="predicted_output_shape", prefix=None, call=lambda answer, case: answer,
        what=_question_what, judge=_judge_shape),
}

check_predicted_output_shape = runner(ASSIGNMENT, CHECKS, "check_predicted_output_shape")
