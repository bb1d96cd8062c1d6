import numpy as np
import pytest
from scipy import signal

from course.diagnose import convolution_mistake, correlation_mistake

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


def test_unknown_mistakes_and_non_arrays_give_none():
    assert correlation_mistake(right(IMAGE, KERNEL) + 1, IMAGE, KERNEL) is None
    assert correlation_mistake([1, 2], IMAGE, KERNEL) is None
