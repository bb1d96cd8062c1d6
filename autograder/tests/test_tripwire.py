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


LAZY = r'''
import sys
import numpy as np
from autograder.hidden.tripwire import library_convolutions_forbidden
from course.checks import CheckFailed
from course.shortcuts import refuse_shortcuts

heavy = ["torch", "scipy.signal", "course.diagnose_layers"]
assert not any(name in sys.modules for name in heavy), [n for n in heavy if n in sys.modules]

def by_hand(x):
    return x * 2

refuse_shortcuts(by_hand, "by_hand")
with library_convolutions_forbidden("by_hand", by_hand):
    by_hand(np.ones(3))
print("imported for the checks:", [name for name in heavy if name in sys.modules])

def imports_in_the_call(x):
    import scipy.signal
    return scipy.signal.correlate2d(x, x)

try:
    with library_convolutions_forbidden("imports_in_the_call", imports_in_the_call):
        imports_in_the_call(np.ones((3, 3)))
except CheckFailed as err:
    print("refused:", err)
import scipy.signal
print("after:", scipy.signal.correlate2d(np.ones((3, 3)), np.ones((3, 3))).shape)

from scipy.signal import correlate2d as c
def renamed(x):
    return c(x, x)
try:
    refuse_shortcuts(renamed, "renamed")
except CheckFailed as err:
    print("renamed refused:", err)
'''


def test_modules_not_imported_are_not_imported_for_the_checks_and_are_tripped_if_imported():
    """torch and scipy.signal take seconds to import: the checks import neither, yet a call
    that imports one inside the block is still refused, and the names bound are still found."""
    import subprocess
    import sys
    done = subprocess.run([sys.executable, "-c", LAZY], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "imported for the checks: []"
    assert lines[1].startswith("refused: imports_in_the_call called scipy.signal.correlate2d")
    assert lines[2] == "after: (5, 5)"              # "full" mode: restored after the block
    assert lines[3].startswith("renamed refused: renamed can reach scipy.signal.correlate2d")
