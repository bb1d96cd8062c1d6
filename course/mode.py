"""Small-data mode: notebooks run fast while nbgrader grades or validates them.

nbgrader sets NBGRADER_EXECUTION ("autograde" or "validate") while it executes a notebook.
Slow cells ask `small(full, quick)` for their size, so grading never meets the cell timeout.
"""
import os


def is_grading():
    """True while nbgrader executes the notebook (autograde or validate)."""
    return bool(os.environ.get("NBGRADER_EXECUTION"))


def small(full, quick):
    """Return `quick` while grading, `full` otherwise (a size, a count of epochs, ...)."""
    return quick if is_grading() else full
