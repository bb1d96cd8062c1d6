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
import importlib
import os
import pathlib
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from course.checks import CheckFailed, _describe, clip, explain_error
from course.shortcuts import refuse_shortcuts

from autograder.hidden import cases, load_references
from autograder.hidden.record import (Raised, Unsupported, from_plain, record_call,
                                      RECORDS_FOLDER)
from autograder.hidden.tripwire import library_convolutions_forbidden

INPUTS = pathlib.Path(__file__).resolve().parent.parent / "inputs"


@dataclass(frozen=True)
class Check:
    """One hidden check of one student function (see the module docstring)."""
    exercise: str                                  # the function's name in the task
    prefix: Optional[str]                          # cases '<prefix>/<n>/<field>'; None: one
    call: Callable                                 # (fn, case) -> what fn returned
    what: Callable                                 # case -> the call, after the function name
    judge: Callable                                # (got, case, ref, what) -> None or raises
    forbid_library: bool = False
    expects_error: Optional[Callable] = None       # (case, ref) -> True when fn must raise
    argument: Optional[int] = None                 # the hidden test's argument it calls
                                                   # (None: the one at its place in the entry)
    also: tuple = ()                               # more of the test's arguments, passed to
                                                   # call after the case (a class to look for)


def parts(name, entry):
    """[(record name, Check)] of a CHECKS entry: one Check, or a tuple of Checks that test
    the functions the hidden test is called with, in order (a Check with `argument` tests
    that argument instead, so that several Checks can test one function)."""
    if isinstance(entry, Check):
        return [(name, entry)]
    return [(f"{name}_{k}", check) for k, check in enumerate(entry)]


def argument_index(k, check):
    """Which of the hidden test's arguments the k-th Check of its entry calls."""
    return k if check.argument is None else check.argument


def case_list(values, prefix):
    """The cases of `prefix` in {key: array} (one empty case when prefix is None)."""
    return [{}] if prefix is None else cases(values, prefix)


def load_inputs(assignment):
    """The inputs of the hidden cases (no expected outputs), as {key: array}."""
    with np.load(INPUTS / f"{assignment}.npz", allow_pickle=False) as data:
        return {key: data[key] for key in data.files}


def judged_outside():
    return os.environ.get("COURSE_JUDGE") == "outside"


def function_name(fn, default):
    name = getattr(fn, "__name__", None)
    return name if type(name) is str and name.isidentifier() else default


def run(assignment, name, entry, *fns):
    """Call each function on every case of its check, record each answer, and judge it
    unless the verdict is reached outside the kernel."""
    outside = judged_outside()
    folder = RECORDS_FOLDER if outside else None
    no_cases = all(c.prefix is None for _, c in parts(name, entry))   # no file to read
    inputs = None if no_cases else load_inputs(assignment)
    refs = None if outside or no_cases else load_references(assignment)
    for k, (record_name, check) in enumerate(parts(name, entry)):
        if argument_index(k, check) >= len(fns):
            continue  # not called with that function: the judge finds no record
        fn = fns[argument_index(k, check)]
        more = [fns[i] for i in check.also if i < len(fns)]
        if check.forbid_library:
            refuse_shortcuts(fn, check.exercise)
        fn_name = function_name(fn, check.exercise)
        ref_cases = None if outside else case_list(refs, check.prefix)
        for number, case in enumerate(case_list(inputs, check.prefix)):
            call = lambda: check.call(fn, case, *more)  # noqa: E731
            if check.forbid_library:
                with library_convolutions_forbidden(fn_name):
                    data, arrays = record_call(record_name, number, call, (), folder=folder)
            else:
                data, arrays = record_call(record_name, number, call, (), folder=folder)
            if ref_cases is not None:
                verdict(check, case, ref_cases[number], from_plain(data, arrays), fn_name)


def describe(check, case, fn_name=None):
    """'hidden test: f(...)' for messages."""
    return f"hidden test: {fn_name or check.exercise}{check.what(case)}"


def verdict(check, case, ref, got, fn_name=None):
    """Judge one recorded answer; raises CheckFailed with the student's message."""
    what = describe(check, case, fn_name)
    must_raise = check.expects_error is not None and check.expects_error(case, ref)
    if isinstance(got, Raised) and not must_raise:
        if got.type == "NotImplementedError":
            raise CheckFailed(f"{what}: not answered yet: {fn_name or check.exercise}() still "
                              "raises NotImplementedError.")
        if got.type == "CheckFailed":
            raise CheckFailed(got.message)
        explained = explain_error(got.type, got.message)
        raise CheckFailed(clip(f"{what}: your function raised {got.type}: "
                               f"{clip(got.message, 6, 600)}"
                               + (f"\n  What it usually means: {explained}" if explained else "")))
    unsupported = _unsupported(got)
    if unsupported and not must_raise:
        raise CheckFailed(f"{what}: returned {unsupported}. Return a plain int, float, tuple "
                          "or NumPy array (np.ndarray itself, not a subclass of it).")
    check.judge(got, case, ref, what)


def _unsupported(got):
    """How `got` (or an item of a returned tuple) is not plain data, or ''."""
    if isinstance(got, Unsupported):
        return repr(got)
    if type(got) in (tuple, list):
        for k, item in enumerate(got):
            if isinstance(item, Unsupported):
                return f"a {type(got).__name__} whose item {k} is {item!r}"
    return ""


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


def first_of_pair(result):
    """What to record of a layer's (out, cache): out alone (the cache is the student's own
    business), or the result itself when it is not a pair, so the judge can say so."""
    if type(result) is tuple and tuple.__len__(result) == 2:
        return (tuple.__getitem__(result, 0), None)
    return result


def unpack_pair(got, what):
    """out of a recorded first_of_pair, or CheckFailed when the function returned no pair."""
    if type(got) is not tuple or len(got) != 2:
        raise CheckFailed(f"{what}: returned {_kind(got)}; it should return a pair "
                          "(out, cache).")
    return got[0]


def unpack(got, count, names, what):
    """The `count` items of a recorded tuple, or CheckFailed naming what to return."""
    if type(got) is not tuple or len(got) != count:
        raise CheckFailed(f"{what}: returned {_kind(got)}; it should return {names}.")
    return got


def _kind(got):
    if isinstance(got, Unsupported):
        return repr(got)
    if type(got) is tuple:
        return f"a tuple of {len(got)} items"
    return type(got).__name__


def runner(assignment, checks, name):
    """The hidden test function `name` of a module's CHECKS table, as notebooks call it."""
    def check(*fns):
        run(assignment, name, checks[name], *fns)
    check.__name__ = name
    exercises = ", ".join(c.exercise for _, c in parts(name, checks[name]))
    check.__doc__ = f"Hidden test: {exercises} on every reference case."
    return check


def lazy(module, name):
    """module.name, imported on the first call (a diagnosis is needed only when a case
    fails, and its module may load torch or scipy)."""
    def call(*args, **kwargs):
        return getattr(importlib.import_module(module), name)(*args, **kwargs)
    call.__name__ = name
    return call
