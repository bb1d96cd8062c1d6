"""Name the classic convolution mistakes from a wrong answer.

Each function takes what the student returned and the inputs it was given, and returns a
sentence naming the mistake (or None when no known mistake fits). The checks in
`course.checks` put that sentence in the failure message.
"""
import numpy as np
from scipy import signal

__all__ = ["correlation_mistake", "convolution_mistake"]


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


def _first_mistake(actual, image, kernel, wrong_answers):
    """Name the first mistake whose wrong answer equals `actual`.

    wrong_answers: list of (function(image, kernel) -> array or None, sentence)
    """
    if not isinstance(actual, np.ndarray):
        return None
    image, kernel = np.asarray(image, float), np.asarray(kernel, float)
    named = _size_mistake(actual, image, kernel)
    if named:
        return named
    for make, sentence in wrong_answers:
        candidate = make(image, kernel)
        if candidate is not None and _matches(actual, candidate):
            return sentence
    return None


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

_ONE_AXIS = ("The kernel was flipped along one axis only. True convolution flips both: up-down "
             "and left-right, kernel[::-1, ::-1].")

_CONVOLUTION_MISTAKES = [
    (_valid,
     "The kernel was not flipped: this is cross-correlation. True convolution turns the kernel "
     "round in both directions, kernel[::-1, ::-1], before sliding it."),
    (lambda im, k: _valid(im, k[::-1, :]), _ONE_AXIS),
    (lambda im, k: _valid(im, k[:, ::-1]), _ONE_AXIS),
]


def correlation_mistake(actual, image, kernel):
    """Name the mistake in a wrong cross-correlation ('valid' mode, no padding).

    Inputs:
    - actual: the array the student returned
    - image: (H, W) input; kernel: (KH, KW)
    Returns a sentence, or None when no known mistake fits.
    """
    return _first_mistake(actual, image, kernel, _CORRELATION_MISTAKES)


def convolution_mistake(actual, image, kernel):
    """Name the mistake in a wrong true convolution ('valid' mode, no padding).

    Same inputs as `correlation_mistake`.
    """
    return _first_mistake(actual, image, kernel, _CONVOLUTION_MISTAKES)
