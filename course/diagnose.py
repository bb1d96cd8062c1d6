"""Name the classic convolution mistakes from a wrong answer.

Each function takes what the student returned and the inputs it was given, and returns a
sentence naming the mistake (or None when no known mistake fits). The checks in
`course.checks` put that sentence in the failure message.
"""
import numpy as np
from scipy import signal

from course.checks import name_mistakes as _named

__all__ = ["correlation_mistake", "convolution_mistake", "conv_params_mistake",
           "match_template_mistake", "pad_image_mistake"]


def _matches(actual, candidate):
    return actual.shape == candidate.shape and np.allclose(actual, candidate, rtol=1e-6, atol=1e-8)


def _size_mistake(actual, image, kernel):
    (H, W), (KH, KW) = image.shape, kernel.shape
    right = (H - KH + 1, W - KW + 1)
    if actual.ndim != 2 or actual.shape == right:
        return None
    if actual.shape == right[::-1] and right[0] != right[1]:
        return ("Height and width are swapped: the output should have H - KH + 1 rows and "
                "W - KW + 1 columns, but yours has them the other way round. Check which loop "
                "runs over rows (axis 0) and which over columns (axis 1).")
    off = (actual.shape[0] - right[0], actual.shape[1] - right[1])
    if all(abs(d) <= 1 for d in off):
        return (f"The output size is off by one: {actual.shape} instead of {right}. "
                "A 'valid' correlation has H - KH + 1 rows: the kernel fits in H - KH + 1 "
                "positions, counting the first one.")
    if actual.shape == image.shape:
        return ("The output has the size of the input: that is a 'same' correlation, which "
                "needs padding. A 'valid' correlation only uses positions where the whole "
                "kernel fits inside the image.")
    return None


def _first_mistake(actual, image, kernel, wrong_answers, right):
    """Name the mistakes whose wrong answer equals `actual` (every one that does, as
    course.checks.name_mistakes says them: one, or all of them when several fit).

    wrong_answers: list of (function(image, kernel) -> array or None, sentence)
    right: function(image, kernel) -> the right answer; a wrong answer that equals it on these
    inputs (a flip of a kernel that a flip leaves unchanged) is no mistake here
    """
    if not isinstance(actual, np.ndarray) or not np.issubdtype(actual.dtype, np.number):
        return None
    image, kernel = np.asarray(image, float), np.asarray(kernel, float)
    named = _size_mistake(actual, image, kernel)
    if named:
        return named
    correct = right(image, kernel)
    found = []
    for make, sentence in wrong_answers:
        candidate = make(image, kernel)
        if (candidate is not None and not _matches(correct, candidate)
                and _matches(actual, candidate)):
            found.append(sentence)
    return _named(found)


def _valid(image, kernel):
    return signal.correlate2d(image, kernel, mode="valid")


_CORRELATION_MISTAKES = [
    (lambda im, k: _valid(im, k).T if _valid(im, k).shape != im.shape else None,
     "Height and width are swapped: your output is the right answer transposed, with rows "
     "where columns belong. out[i, j] must come from the window whose top-left corner is "
     "image[i, j], with i counting rows (axis 0)."),
    (lambda im, k: _valid(im, k[::-1, ::-1]),
     "Your kernel is flipped: this is true convolution. Deep learning's 'convolution' is "
     "cross-correlation: multiply each window by the kernel as it is, without turning it round."),
    (lambda im, k: _valid(im.T, k) if im.shape[0] == im.shape[1] else None,
     "Height and width are swapped: you read image[col, row] instead of image[row, col]. "
     "Axis 0 of an array is the row (height), axis 1 the column."),
    (lambda im, k: _valid(im, k.T) if k.shape[0] == k.shape[1] else None,
     "The kernel is transposed: you used kernel[j, i] where kernel[i, j] belongs. Row offsets "
     "go with the kernel's rows."),
]

_ONE_AXIS = ("The kernel was flipped along one axis only. True convolution flips it both "
             "up-down and left-right (its rows and its columns reversed).")

_CALLS_CORRELATE = (" If convolve2d_valid calls your correlate2d_valid, the mistake is there: "
                    "fix correlate2d_valid first.")

_CONVOLUTION_SWAPPED = ("Height and width are swapped: your output has rows where columns "
                        "belong (the right answer transposed, or the image read as "
                        "image[col, row])." + _CALLS_CORRELATE)

_CONVOLUTION_MISTAKES = [
    (_valid,
     "The kernel was not flipped: this is cross-correlation. True convolution turns the kernel "
     "round by 180 degrees (its rows and its columns reversed) before sliding it."),
    (lambda im, k: _valid(im, k[::-1, :]), _ONE_AXIS),
    (lambda im, k: _valid(im, k[:, ::-1]), _ONE_AXIS),
    # a correlation with height and width swapped, of the turned kernel
    (lambda im, k: _valid(im, k[::-1, ::-1]).T, _CONVOLUTION_SWAPPED),
    (lambda im, k: _valid(im.T, k[::-1, ::-1]) if im.shape[0] == im.shape[1] else None,
     _CONVOLUTION_SWAPPED),
]


def correlation_mistake(actual, image, kernel):
    """Name the mistake in a wrong cross-correlation ('valid' mode, no padding).

    Inputs:
    - actual: the array the student returned
    - image: (H, W) input; kernel: (KH, KW)
    Returns a sentence, or None when no known mistake fits. When two known mistakes give the
    same array here, both are named.
    """
    return _first_mistake(actual, image, kernel, _CORRELATION_MISTAKES, _valid)


_CORRELATE_FIRST = ("Your convolve2d_valid returns exactly what your correlate2d_valid gives "
                    "for the kernel turned round, and that is wrong here: the mistake is in "
                    "correlate2d_valid (its own test above says what). Fix it, and this test "
                    "passes too.")


def convolution_mistake(actual, image, kernel, correlate=None):
    """Name the mistake in a wrong true convolution ('valid' mode, no padding).

    Same inputs as `correlation_mistake`; correlate: the learner's own correlate2d_valid,
    which their convolution is meant to call. An answer that is exactly what it gives for
    the turned kernel, while that is wrong, is put down to it, before any other mistake.
    """
    if correlate is not None and isinstance(actual, np.ndarray):
        im, turned = np.asarray(image, float), np.asarray(kernel, float)[::-1, ::-1]
        try:
            theirs = np.asarray(correlate(im.copy(), turned.copy()), dtype=float)
            blamed = (_matches(np.asarray(actual, dtype=float), theirs)
                      and not _matches(theirs, _valid(im, turned)))
        except Exception:    # their correlation fails on its own: its test says how
            blamed = False
        if blamed:
            return _CORRELATE_FIRST
    return _first_mistake(actual, image, kernel, _CONVOLUTION_MISTAKES,
                          lambda im, k: _valid(im, k[::-1, ::-1]))


def _all_mistakes(actual, right, wrong_answers):
    """Every sentence whose wrong answer (a number or an array) equals `actual`, not `right`."""
    found = []
    for candidate, sentence in wrong_answers:
        if candidate is None:
            continue
        candidate = np.asarray(candidate, dtype=float)
        if candidate.shape == np.shape(right) and np.allclose(candidate, right):
            continue            # this mistake makes no difference on these inputs
        if _matches(np.asarray(actual, dtype=float), candidate):
            found.append(sentence)
    return _named(found)


_ONE_SIDE_SQUARED = ("The kernel was taken as square: a kernel_size given as a pair (KH, KW) has "
                     "KH rows and KW columns, and the two can differ. Count KH x KW weights per "
                     "channel, not one side squared.")


def conv_params_mistake(actual, num_filters, kernel_size, in_channels):
    """Name the mistake in a wrong conv_params(num_filters, kernel_size, in_channels).

    Inputs:
    - actual: what the student returned
    - num_filters: K; kernel_size: F or a pair (KH, KW); in_channels: C
    Returns a sentence, or None when actual is right, is not a number, or fits no known
    mistake (one side of a (KH, KW) pair squared, the kernel area squared, the bias or the
    channels left out, the bias counted once per channel).
    """
    if isinstance(actual, bool) or not isinstance(actual, (int, float, np.integer, np.floating)):
        return None
    K, C = int(num_filters), int(in_channels)
    KH, KW = (kernel_size, kernel_size) if np.ndim(kernel_size) == 0 else kernel_size
    KH, KW = int(KH), int(KW)
    right = K * (KH * KW * C + 1)
    if actual == right:
        return None
    return _all_mistakes(actual, right, [
        (K * (KH * KH * C + 1), _ONE_SIDE_SQUARED),
        (K * (KW * KW * C + 1), _ONE_SIDE_SQUARED),
        (K * ((KH * KW) ** 2 * C + 1), "The kernel area was squared: a KH x KW kernel has "
                                       "KH * KW weights per channel."),
        (K * KH * KW * C, "The biases are missing: each filter has one bias, added once."),
        (K * (KH * KW + 1), "The input channels are missing: each filter has one KH x KW slice "
                            "of weights per input channel."),
        (K * C * (KH * KW + 1), "The bias was counted once per input channel: each filter has "
                                "one bias, whatever the number of channels."),
    ])


def _window_norms(image, kernel):
    """The length of every 'valid' window: (H - KH + 1, W - KW + 1)."""
    return np.sqrt(_valid(image ** 2, np.ones(kernel.shape)))


def _divide(top, bottom):
    return np.divide(top, bottom, out=np.zeros_like(top), where=bottom != 0)


def match_template_mistake(actual, image, template):
    """Name the mistake in a wrong match_template(image, template).

    Inputs:
    - actual: the array the student returned
    - image: (H, W); template: (KH, KW), no larger than the image
    Returns a sentence, or None when no known mistake fits: the size wrong (height and width
    swapped, off by one, 'same' size), divided by the template's norm only or by the window's
    only, not divided at all, the template flipped.
    """
    if not isinstance(actual, np.ndarray) or not np.issubdtype(actual.dtype, np.number):
        return None
    image, template = np.asarray(image, float), np.asarray(template, float)
    if template.shape[0] > image.shape[0] or template.shape[1] > image.shape[1]:
        return None
    named = _size_mistake(actual, image, template)
    if named:
        return named
    dots = _valid(image, template)
    t_norm, w_norms = np.linalg.norm(template), _window_norms(image, template)
    right = _divide(dots, w_norms * t_norm)
    flipped = _divide(_valid(image, template[::-1, ::-1]), w_norms * t_norm)
    return _all_mistakes(actual, right, [
        (dots / t_norm if t_norm else None,
         "Each value is divided by the template's norm only: the cosine similarity divides by "
         "both lengths, the window's and the template's, so that a window with strong "
         "contrast does not score higher than a faint one of the same pattern."),
        (_divide(dots, w_norms),
         "Each value is divided by the window's norm only: the cosine similarity divides by "
         "both lengths, the window's and the template's."),
        (dots,
         "Your values are plain dot products, as in correlate2d_valid: divide each one by the "
         "lengths of the window and of the template (the cosine similarity), so that the "
         "values lie between -1 and 1."),
        (_divide(dots, w_norms ** 2 * t_norm ** 2),
         "Each value is divided by the squared lengths: the cosine similarity divides by the "
         "lengths themselves, |a| |b|, the square roots of the sums of squares."),
        (flipped,
         "The template is flipped: compare each window with the template as it is, without "
         "turning it round."),
    ])


def pad_image_mistake(actual, image, pad):
    """Name the mistake in a wrong pad_image(image, pad).

    Inputs:
    - actual: the array the student returned
    - image: (H, W); pad: an int, 0 or more
    Returns a sentence, or None when no known mistake fits: height and width swapped, the size
    grown by pad instead of 2*pad (padding on one side, or pad split between the sides), the
    image in a corner instead of the middle.
    """
    if not isinstance(actual, np.ndarray) or not np.issubdtype(actual.dtype, np.number):
        return None
    image = np.asarray(image, float)
    (H, W), p = image.shape, int(pad)
    right = np.zeros((H + 2 * p, W + 2 * p))
    right[p:p + H, p:p + W] = image
    if actual.ndim != 2 or _matches(actual, right):
        return None
    if actual.shape == (W + 2 * p, H + 2 * p) and H != W:
        return ("Height and width are swapped: the padded image has H + 2*pad rows and "
                "W + 2*pad columns. Axis 0 is the height, axis 1 the width.")
    if p and actual.shape == (H + p, W + p):
        return ("The size grew by pad instead of 2*pad in each direction: pad is the number of "
                "zeros on each side, above and below, left and right.")
    corners = []
    for top, left in ((0, 0), (2 * p, 2 * p)):
        corner = np.zeros_like(right)
        corner[top:top + H, left:left + W] = image
        corners.append((corner if p else None,
                        "The image is not in the middle: it sits in a corner of the padded "
                        "array. Leave pad rows of zeros above it and pad columns to its left."))
    return _all_mistakes(actual, right, corners)
