"""Hidden checks in two halves: a call recorded in the kernel, a verdict reached outside.

A `Check` says, for each case of an assignment's inputs (autograder/inputs/<assignment>.npz):
how to call the student's function (`call`), how to name the case for the student (`what`),
and how to judge what came back against the reference outputs (`judge`, with the checks of
course.checks and reveal=False).

- In a graded notebook (the kernel's COURSE_JUDGE is "outside", set by the grading sandbox),
  `run` only calls and records (autograder.hidden.record); `autograder.judge` reaches the
  verdict after the notebook has run, in the grading process, where the reference outputs
  are. The kernel cannot read them.
- Anywhere else (an instructor running a source notebook) `run` judges each record at once.

Before each call, `course.shortcuts.refuse_shortcuts` looks at what the student's function can
reach, and (for checks with `forbid_library`) library convolutions raise while it runs.
"""
import os
import pathlib
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from course.checks import CheckFailed, _describe
from course.shortcuts import refuse_shortcuts

from autograder.hidden import cases, load_references
from autograder.hidden.record import (Raised, Unsupported, from_plain, record_call,
                                      RECORDS_FOLDER)
from autograder.hidden.tripwire import library_convolutions_forbidden

INPUTS = pathlib.Path(__file__).resolve().parent.parent / "inputs"


@dataclass(frozen=True)
class Check:
    """One hidden check (see the module docstring)."""
    exercise: str                                  # the student's function, for messages
    prefix: str                                    # cases are '<prefix>/<n>/<field>'
    call: Callable                                 # (fn, case) -> what fn returned
    what: Callable                                 # case -> "hidden test: f(...)"
    judge: Callable                                # (got, case, ref, what) -> None or raises
    forbid_library: bool = False
    expects_error: Optional[Callable] = None       # (case, ref) -> True when fn must raise


def load_inputs(assignment):
    """The inputs of the hidden cases (no expected outputs), as {key: array}."""
    with np.load(INPUTS / f"{assignment}.npz", allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def judged_outside():
    return os.environ.get("COURSE_JUDGE") == "outside"


def run(assignment, name, check, fn):
    """Call `fn` on every case of `check`, record each answer, and judge it unless the
    verdict is reached outside the kernel."""
    if check.forbid_library:
        refuse_shortcuts(fn, check.exercise)
    inputs = cases(load_inputs(assignment), check.prefix)
    outside = judged_outside()
    refs = None if outside else cases(load_references(assignment), check.prefix)
    folder = RECORDS_FOLDER if outside else None
    for number, case in enumerate(inputs):
        call = lambda: check.call(fn, case)  # noqa: E731
        if check.forbid_library:
            with library_convolutions_forbidden(check.exercise):
                data, arrays = record_call(name, number, call, (), folder=folder)
        else:
            data, arrays = record_call(name, number, call, (), folder=folder)
        if refs is not None:
            verdict(check, case, refs[number], from_plain(data, arrays))


def verdict(check, case, ref, got):
    """Judge one recorded answer; raises CheckFailed with the student's message."""
    what = check.what(case)
    must_raise = check.expects_error is not None and check.expects_error(case, ref)
    if isinstance(got, Raised) and not must_raise:
        if got.type == "NotImplementedError":
            raise CheckFailed(f"{what}: not answered yet: {check.exercise}() still raises "
                              "NotImplementedError.")
        if got.type == "CheckFailed":
            raise CheckFailed(got.message)
        raise CheckFailed(f"{what}: your function raised {got.type}: {got.message}")
    if isinstance(got, Unsupported) and not must_raise:
        raise CheckFailed(f"{what}: returned {got!r}. Return a plain int, float, tuple or "
                          "NumPy array (np.ndarray itself, not a subclass of it).")
    check.judge(got, case, ref, what)


def expect_raised(got, error_name, what, hint=None):
    """Judge half of check_raises: `got` must be a Raised of `error_name` with a message."""
    if not isinstance(got, Raised):
        text = repr(got) if isinstance(got, Unsupported) else _describe(got)
        raise CheckFailed(f"{what}: returned {text} instead of raising {error_name}."
                          + (f"\n  Hint: {hint}" if hint else ""))
    if not got.is_a(error_name):
        raise CheckFailed(f"{what}: raised {got.type}: {got.message}\n  expected: {error_name} "
                          "with a message that explains the problem"
                          + (f"\n  Hint: {hint}" if hint else ""))
    if not got.message.strip():
        raise CheckFailed(f"{what}: raised {error_name} without a message.\n  Hint: Say what "
                          "was wrong and how to fix it: raise ValueError('...').")
