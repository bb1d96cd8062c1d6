"""Hidden test of 08-playground: the predicted output shape of one convolution, checked against
the shape torch's conv2d really gives for that layer (computed here; no reference file).
Known mistakes (dilation ignored, rounding up, padding on one side only, no + 1, height and
width swapped) are named without revealing the answer."""
import numbers

import torch
import torch.nn.functional as tnf

from course.checks import CheckFailed, check_equal

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


def check_predicted_output_shape(predicted_output_shape):
    """The pair (H_out, W_out) for the layer in QUESTION."""
    q = QUESTION
    what = (f"hidden test: predicted_output_shape for an input of height {q['height']} and width "
            f"{q['width']}, a {q['kernel']}x{q['kernel']} kernel, stride {q['stride']}, padding "
            f"{q['pad']}, dilation {q['dilation']}")
    values = tuple(predicted_output_shape) if isinstance(predicted_output_shape, (tuple, list)) else ()
    if len(values) != 2 or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool)
                                   for v in values):
        raise CheckFailed(f"{what}: expected a pair of two ints (height, width), got "
                          f"{predicted_output_shape!r}.")
    guess = tuple(int(v) for v in values)
    check_equal(guess, conv_shape(**q), what, reveal=False,
                hint=_named_mistake(guess, q) or
                "Work each axis on its own: F_eff = D·(F - 1) + 1, then (size - F_eff + 2P)/S + 1, "
                "rounded down.")
