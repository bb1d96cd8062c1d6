import numpy as np
import pytest

from course.data import PHOTOS, load_digits, load_photo
from course.mode import is_grading, is_quick, small


def test_digits_are_nchw_in_unit_range():
    x, y = load_digits()
    assert x.shape == (1797, 1, 8, 8) and x.dtype == np.float32 and y.shape == (1797,)
    assert 0.0 <= x.min() and x.max() <= 1.0 and set(y.tolist()) == set(range(10))
    assert load_digits(limit=5)[0].shape == (5, 1, 8, 8)
    with pytest.raises(ValueError, match="at least 1"):
        load_digits(limit=0)


def test_digits_are_scikit_learns_read_without_importing_it(monkeypatch):
    from sklearn.datasets import load_digits as sklearn_digits
    digits = sklearn_digits()
    x, y = load_digits()
    assert np.array_equal(x[:, 0] * 16, digits.images) and np.array_equal(y, digits.target)
    # where the file is not found, scikit-learn's loader reads it
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    x_again, y_again = load_digits()
    assert np.array_equal(x_again, x) and np.array_equal(y_again, y)


@pytest.mark.parametrize("name", PHOTOS)
def test_every_listed_photo_loads_offline(name):
    grey = load_photo(name, size=32)
    colour = load_photo(name, gray=False, size=(16, 24))
    assert grey.shape == (32, 32) and colour.shape == (16, 24, 3)
    assert 0.0 <= grey.min() and grey.max() <= 1.0


def test_unknown_photo_lists_the_choices():
    with pytest.raises(ValueError, match="choose one of: camera"):
        load_photo("cat")


def test_small_mode_follows_nbgrader(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("COURSE_QUICK", raising=False)
    assert not is_grading() and small(100, 5) == 100
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    assert is_grading() and small(100, 5) == 5


def test_quick_mode_for_the_notebook_tests_is_not_grading(monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.setenv("COURSE_QUICK", "1")
    assert is_quick() and not is_grading() and small(100, 5) == 5
    monkeypatch.setenv("COURSE_QUICK", "0")
    assert not is_quick()
