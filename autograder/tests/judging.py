"""Shared by the judge's tests: answers that lie about equality, and a hidden check run as the
grading kernel runs it (COURSE_JUDGE=outside: recording only), then judged outside."""
import importlib
import os

import numpy as np

from autograder import judge
from autograder.hidden import record


class LyingArray(np.ndarray):
    """An array that says it equals anything."""
    def __eq__(self, other):
        return np.ones(np.shape(other), bool)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return True

    def __array_function__(self, func, types, args, kwargs):
        return True


class LyingTuple(tuple):
    def __eq__(self, other):
        return True


def graded_outside(tmp_path, monkeypatch, module, check, names, fns):
    """The judge's message for hidden check `check` of autograder.hidden.`module`, called
    with `fns` (named `names` in the test cell) as the grading kernel calls it; None when
    every case passes. Every record is taken by the judge."""
    monkeypatch.setenv("COURSE_JUDGE", "outside")
    monkeypatch.chdir(tmp_path)
    getattr(importlib.import_module(f"autograder.hidden.{module}"), check)(*fns)
    source = (f"### BEGIN HIDDEN TESTS\nfrom autograder.hidden.{module} import {check}\n"
              f"{check}({', '.join(names)})\n### END HIDDEN TESTS")
    message = judge.judge_cell(source, judge.take_records(tmp_path))
    folder = tmp_path / record.RECORDS_FOLDER
    assert not folder.exists() or not os.listdir(folder)
    return message
