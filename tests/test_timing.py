import time

import pytest

from course.timing import best_time, format_seconds


def test_best_time_measures_one_call():
    seconds = best_time(time.sleep, 0.01, repeat=2, min_seconds=0.02)
    assert 0.009 < seconds < 0.05


def test_best_time_rejects_zero_rounds():
    with pytest.raises(ValueError, match="at least 1"):
        best_time(print, repeat=0)


def test_format_seconds():
    assert [format_seconds(s) for s in (2.314, 0.0142, 8.7e-5)] == ["2.31 s", "14.2 ms", "87 µs"]
