import numpy as np
import pytest
import scipy.signal
import torch
import torch.nn.functional as F

from autograder.hidden.tripwire import library_convolutions_forbidden
from course.checks import CheckFailed


def cheating_conv(x, w):
    return F.conv2d(torch.from_numpy(x), torch.from_numpy(w)).numpy()


def test_library_convolution_inside_the_block_fails_with_a_message():
    x, w = np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3))
    with pytest.raises(CheckFailed, match="conv_forward_naive called torch.nn.functional.conv2d"):
        with library_convolutions_forbidden("conv_forward_naive"):
            cheating_conv(x, w)
    with pytest.raises(CheckFailed, match="scipy.signal.correlate2d"):
        with library_convolutions_forbidden("correlate2d_valid"):
            scipy.signal.correlate2d(x[0, 0], w[0, 0])


def test_everything_is_restored_afterwards_even_after_an_error():
    original = F.conv2d
    with pytest.raises(ZeroDivisionError):
        with library_convolutions_forbidden("f"):
            1 / 0
    assert F.conv2d is original
    assert cheating_conv(np.ones((1, 1, 4, 4)), np.ones((1, 1, 3, 3))).shape == (1, 1, 2, 2)


def test_numpy_work_is_allowed():
    with library_convolutions_forbidden("f"):
        assert np.einsum("ij,ij->", np.ones((2, 2)), np.ones((2, 2))) == 4


def test_course_helpers_that_compute_answers_are_forbidden_too():
    from course.widgets import frames
    with pytest.raises(CheckFailed, match="pad_image called course.widgets.frames.pad_image"):
        with library_convolutions_forbidden("pad_image"):
            frames.pad_image(np.ones((2, 2)), 1)
    assert frames.pad_image(np.ones((2, 2)), 1).shape == (4, 4)
