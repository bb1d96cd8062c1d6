import numpy as np
import pytest
from scipy import signal

from course.diagnose import (conv_params_mistake, convolution_mistake, correlation_mistake,
                             match_template_mistake, pad_image_mistake)

rng = np.random.default_rng(0)
IMAGE = rng.integers(-4, 5, (5, 7)).astype(float)
SQUARE = rng.integers(-4, 5, (6, 6)).astype(float)
KERNEL = np.array([[1.0, 2, 0], [0, -1, 3]])          # 2x3, no symmetry
KERNEL_SQ = np.array([[1.0, 2], [0, -3]])


def right(image, kernel):
    return signal.correlate2d(image, kernel, mode="valid")


def test_right_answer_has_no_mistake():
    assert correlation_mistake(right(IMAGE, KERNEL), IMAGE, KERNEL) is None
    assert convolution_mistake(signal.convolve2d(IMAGE, KERNEL, mode="valid"), IMAGE, KERNEL) is None


@pytest.mark.parametrize("image, kernel", [(IMAGE, KERNEL), (SQUARE, KERNEL_SQ)])
def test_transposed_output_is_height_width_swap(image, kernel):
    assert "Height and width are swapped" in correlation_mistake(right(image, kernel).T, image, kernel)


def test_reading_image_col_row_is_height_width_swap():
    got = signal.correlate2d(SQUARE.T, KERNEL_SQ, mode="valid")
    assert "Height and width are swapped" in correlation_mistake(got, SQUARE, KERNEL_SQ)


def test_flipped_kernel_is_named():
    got = signal.convolve2d(IMAGE, KERNEL, mode="valid")
    assert "kernel is flipped" in correlation_mistake(got, IMAGE, KERNEL)


def test_unflipped_kernel_in_convolution_is_named():
    assert "was not flipped" in convolution_mistake(right(IMAGE, KERNEL), IMAGE, KERNEL)
    half = signal.correlate2d(IMAGE, KERNEL[::-1, :], mode="valid")
    assert "one axis only" in convolution_mistake(half, IMAGE, KERNEL)


def test_off_by_one_and_same_size_are_named():
    assert "off by one" in correlation_mistake(np.zeros((3, 4)), IMAGE, KERNEL)
    assert "'same' correlation" in correlation_mistake(np.zeros(IMAGE.shape), IMAGE, KERNEL)


def test_transposed_kernel_is_named():
    got = right(SQUARE, KERNEL_SQ.T)
    assert "kernel is transposed" in correlation_mistake(got, SQUARE, KERNEL_SQ)


def test_correlation_near_misses_are_not_claimed():
    # the kernel flipped along one axis only, the image read upside down, the output shifted
    for got in (right(IMAGE, KERNEL[::-1, :]), right(IMAGE, KERNEL[:, ::-1]),
                right(IMAGE[::-1], KERNEL), np.roll(right(IMAGE, KERNEL), 1, axis=1)):
        assert correlation_mistake(got, IMAGE, KERNEL) is None
    # on a square image: the kernel transposed is not the image transposed
    assert "kernel is transposed" not in (correlation_mistake(
        signal.correlate2d(SQUARE.T, KERNEL_SQ, mode="valid"), SQUARE, KERNEL_SQ) or "")
    # a true convolution with the kernel transposed is neither flip
    assert convolution_mistake(right(SQUARE, KERNEL_SQ.T), SQUARE, KERNEL_SQ) is None


def test_two_correlation_mistakes_with_the_same_answer_are_both_named():
    kernel = np.array([[1.0, 2], [3, 1]])    # turned round 180 degrees it is its transpose
    assert np.array_equal(kernel[::-1, ::-1], kernel.T)
    sentence = correlation_mistake(right(SQUARE, kernel.T), SQUARE, kernel)
    assert sentence.startswith("Two known mistakes give exactly this answer here. Either:")
    assert "kernel is flipped" in sentence and "kernel is transposed" in sentence


def test_a_flip_that_changes_nothing_is_not_named():
    kernel = np.array([[1.0, 2], [2, 1]])    # unchanged by a 180-degree turn
    got = right(SQUARE, kernel) + 1          # wrong, and so is nothing the flip would give
    assert correlation_mistake(got, SQUARE, kernel) is None
    assert convolution_mistake(got, SQUARE, kernel) is None


def test_unknown_mistakes_and_non_arrays_give_none():
    assert correlation_mistake(right(IMAGE, KERNEL) + 1, IMAGE, KERNEL) is None
    assert correlation_mistake([1, 2], IMAGE, KERNEL) is None


# ----------------------------------------------------------------------- conv_params

def params(got, kernel_size=(3, 5), filters=16, channels=2):
    return conv_params_mistake(got, filters, kernel_size, channels)


def test_conv_params_right_answer_and_non_numbers_give_none():
    assert params(16 * (3 * 5 * 2 + 1)) is None
    assert params(np.int64(496)) is None
    assert params("496") is None and params(None) is None and params(True) is None


@pytest.mark.parametrize("got", [16 * (3 * 3 * 2 + 1), 16 * (5 * 5 * 2 + 1)], ids=["KH**2", "KW**2"])
def test_one_side_of_a_pair_squared(got):
    assert "taken as square" in params(got)


def test_other_counting_mistakes_of_conv_params():
    assert "area was squared" in params(16 * (15 ** 2 * 2 + 1))
    assert "biases are missing" in params(16 * 15 * 2)
    assert "channels are missing" in params(16 * (15 + 1))
    assert "once per input channel" in params(16 * 2 * (15 + 1))


@pytest.mark.parametrize("got", [495, 497, 480 + 2, 16 * (3 * 5 * 3 + 1), 15 * (3 * 5 * 2 + 1)])
def test_conv_params_near_misses_are_not_claimed(got):
    assert params(got) is None


def test_a_square_kernel_cannot_be_taken_as_square():
    # F x F: KH ** 2 is right, so the only wrong answers are the others
    assert params(64 * 3 * 3 * 3, kernel_size=3, filters=64, channels=3).startswith("The biases")
    assert params(64 * (9 * 3 + 1) + 1, kernel_size=3, filters=64, channels=3) is None


def test_two_mistakes_with_the_same_answer_are_both_named():
    # a (2, 1) kernel, K = 1, C = 1: right 3; KH ** 2 and (KH * KW) ** 2 both give 5
    sentence = conv_params_mistake(5, 1, (2, 1), 1)
    assert sentence.startswith("Two known mistakes give exactly this answer here. Either:")
    assert "taken as square" in sentence and "area was squared" in sentence
    # a 1 x 1 kernel, K = 2, C = 2: right 6; no bias and no channels both give 4
    sentence = conv_params_mistake(4, 2, (1, 1), 2)
    assert "biases are missing" in sentence and "channels are missing" in sentence


# -------------------------------------------------------------------- match_template

IMG = np.array([[1., 0, 2, 1, 0], [0, 3, 1, 0, 2], [2, 1, 0, 1, 1]])
TPL = np.array([[1., 0, 2], [0, 3, 1]])


def windows(image, template):
    KH, KW = template.shape
    return np.array([[image[i:i + KH, j:j + KW] for j in range(image.shape[1] - KW + 1)]
                     for i in range(image.shape[0] - KH + 1)])


def match(image, template, divide="both"):
    win = windows(image, template)
    dots = (win * template).sum(axis=(2, 3))
    w_norm, t_norm = np.sqrt((win ** 2).sum(axis=(2, 3))), np.linalg.norm(template)
    below = {"both": w_norm * t_norm, "template": t_norm, "window": w_norm, "none": 1.0}[divide]
    return np.where(below == 0, 0.0, dots / np.where(below == 0, 1, below))


def test_match_template_right_and_garbage():
    assert match_template_mistake(match(IMG, TPL), IMG, TPL) is None
    assert match_template_mistake(match(IMG, TPL) * 0.5, IMG, TPL) is None
    assert match_template_mistake([[1.0]], IMG, TPL) is None


def test_divided_by_the_template_norm_only():
    sentence = match_template_mistake(match(IMG, TPL, "template"), IMG, TPL)
    assert sentence.startswith("Each value is divided by the template's norm only")


def test_divided_by_the_window_norm_only_or_not_at_all():
    assert "window's norm only" in match_template_mistake(match(IMG, TPL, "window"), IMG, TPL)
    assert "plain dot products" in match_template_mistake(match(IMG, TPL, "none"), IMG, TPL)


def test_match_template_near_misses_are_not_claimed():
    # the template's norm, but of another template; the transposed answer of a square case
    assert match_template_mistake(match(IMG, TPL, "template") * 1.01, IMG, TPL) is None
    other = match(IMG, TPL[::-1])          # flipped up-down only: not a known mistake
    assert match_template_mistake(other, IMG, TPL) is None


def test_match_template_with_a_zero_window_and_a_unit_template():
    image = np.zeros((3, 4)); image[0, 0] = 2.0
    template = np.array([[1.0, 0.0]])      # |template| = 1: dividing by it changes nothing
    named = match_template_mistake(match(image, template, "template"), image, template)
    assert named is not None and "plain dot products" in named   # same array: both, or this one
    assert "template's norm only" in named


def test_match_template_swapped_size():
    assert "Height and width are swapped" in match_template_mistake(match(IMG, TPL).T, IMG, TPL)


# ------------------------------------------------------------------------- pad_image

WIDE = np.array([[1., 2, 3], [4, 5, 6]])


def padded(image, top, bottom, left, right):
    return np.pad(image, ((top, bottom), (left, right)))


def test_pad_image_right_and_garbage():
    assert pad_image_mistake(padded(WIDE, 1, 1, 1, 1), WIDE, 1) is None
    assert pad_image_mistake(padded(WIDE, 1, 1, 1, 1) + 1, WIDE, 1) is None
    assert pad_image_mistake([1, 2], WIDE, 1) is None


def test_pad_image_height_and_width_swapped():
    assert "Height and width are swapped" in pad_image_mistake(np.zeros((5, 4)), WIDE, 1)


@pytest.mark.parametrize("pad", [1, 2])
def test_pad_image_grown_by_pad_only(pad):
    assert "grew by pad instead of 2*pad" in pad_image_mistake(padded(WIDE, pad, 0, pad, 0), WIDE, pad)


@pytest.mark.parametrize("pad", [1, 2])
def test_pad_image_in_a_corner(pad):
    for pads in [(0, 2 * pad, 0, 2 * pad), (2 * pad, 0, 2 * pad, 0)]:
        assert "not in the middle" in pad_image_mistake(padded(WIDE, *pads), WIDE, pad)


def test_pad_image_near_misses_are_not_claimed():
    assert pad_image_mistake(padded(WIDE, 2, 2, 2, 2), WIDE, 1) is None        # another pad
    assert pad_image_mistake(padded(WIDE, 2, 0, 0, 2), WIDE, 1) is None        # another corner
    assert pad_image_mistake(padded(WIDE, 1, 1, 1, 1), WIDE, 0) is None        # pad 1 for pad 0


def test_a_convolution_built_on_a_swapped_correlation_is_named_as_swapped():
    # convolve2d_valid calling a correlate2d_valid that swaps height and width
    got = signal.convolve2d(IMAGE, KERNEL, mode="valid").T
    sentence = convolution_mistake(got, IMAGE, KERNEL) or ""
    assert "Height and width are swapped" in sentence or sentence.startswith("Height and width")
    got = signal.convolve2d(SQUARE.T, KERNEL_SQ, mode="valid")
    sentence = convolution_mistake(got, SQUARE, KERNEL_SQ)
    assert sentence.startswith("Height and width are swapped") and "fix correlate2d_valid first" in sentence
    # near miss: the right convolution shifted by one column is not swapped
    assert convolution_mistake(np.roll(signal.convolve2d(SQUARE, KERNEL_SQ, mode="valid"), 1, axis=1),
                               SQUARE, KERNEL_SQ) is None


def test_a_convolution_that_only_repeats_a_wrong_correlation_blames_the_correlation():
    """convolve2d_valid calls the learner's correlate2d_valid: when that one is wrong, the
    convolution's message sends them there, not to a mistake of the convolution."""
    def zeros(image, kernel):                      # a correlate2d_valid not written yet
        return np.zeros((1, 1))

    def swapped(image, kernel):                    # height and width mixed up
        return right(image.T, kernel.T)

    for wrong in (zeros, swapped):
        actual = wrong(IMAGE, KERNEL[::-1, ::-1])
        assert "the mistake is in correlate2d_valid" in convolution_mistake(
            actual, IMAGE, KERNEL, correlate=wrong)


def test_a_right_correlation_is_never_blamed():
    # the convolution forgot the turn; the learner's correlation is right
    message = convolution_mistake(right(IMAGE, KERNEL), IMAGE, KERNEL, correlate=right)
    assert "was not flipped" in message and "correlate2d_valid" not in message
    # a right convolution: nothing to say
    assert convolution_mistake(signal.convolve2d(IMAGE, KERNEL, mode="valid"), IMAGE, KERNEL,
                               correlate=right) is None


def test_a_correlation_that_raises_or_returns_junk_is_not_blamed():
    def raises(image, kernel):
        raise IndexError("index 3 is out of bounds")

    assert convolution_mistake(right(IMAGE, KERNEL), IMAGE, KERNEL, correlate=raises) == \
        convolution_mistake(right(IMAGE, KERNEL), IMAGE, KERNEL)
    assert convolution_mistake(np.zeros((1, 1)), IMAGE, KERNEL,
                               correlate=lambda i, k: "not an array") is None
