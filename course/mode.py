"""Quick mode: notebooks run fast while nbgrader grades them, and in the test suite.

nbgrader sets NBGRADER_EXECUTION ("autograde" or "validate") while it executes a notebook;
the course's tests set COURSE_QUICK=1 when they run every notebook top to bottom. Slow cells
ask `small(full, quick)` for their size, so neither grading nor testing meets a time limit
on a busy machine; the full sizes are measured in benchmarks/.
"""
import os


def is_grading():
    """True while nbgrader executes the notebook (autograde or validate)."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def is_quick():
    """True while grading, and when COURSE_QUICK is set (the notebook tests)."""
    return is_grading() or os.environ.get("COURSE_QUICK", "") not in ("", "0")


def small(full, quick):
    """Return `quick` in quick mode, `full` otherwise (a size, a count of epochs, ...)."""
    return quick if is_quick() else full
